"""Schema migrations for the two databases: ``main`` (public data) and ``identity`` (personal data).

Each database has its own folder of numbered modules (``m0001_<name>.py``), each holding a list of
SQL ``STATEMENTS``. ``runner.py`` applies the pending ones in order, in one transaction per
migration, and records them in ``schema_migrations``.
"""
