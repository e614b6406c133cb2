-- Run by the postgres image once, when it initialises an empty data volume
-- (files in /docker-entrypoint-initdb.d/). It creates the two databases of MyDRTV:
-- main data, and personal data kept apart (docs/privacy.md). `mydrtv migrate` creates the tables.
CREATE DATABASE mydrtv;
CREATE DATABASE mydrtv_identity;
