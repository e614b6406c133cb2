"""The one catalog of Cypher queries every graph backend runs.

Backends execute nothing but ``Query`` objects from this module, so what reaches a graph
database is reviewed here, once. The queries keep to the Cypher that FalkorDB and Neo4j share;
where the two differ, the difference lives here and nowhere else:

- schema: FalkorDB takes ``CREATE INDEX`` (and has no ``IF NOT EXISTS``, so existing indexes are
  listed first); Neo4j takes uniqueness constraints with ``IF NOT EXISTS``;
- ``Query.falkordb`` / ``Query.neo4j`` may override a query's text for one dialect: Neo4j gets
  ``CALL (me) {}`` subqueries where FalkorDB takes ``CALL { WITH me ... }`` (``_scoped``);
- FalkorDB's ``sum`` answers floats where Neo4j answers integers: callers convert with ``int``;
- FalkorDB (4.16) loses a list carried by ``WITH`` when a later ``WITH`` extends it
  (``WITH me, excluded + collect(x) AS excluded`` fails: "Unable to locate a value with alias"),
  so each collected list keeps a name of its own.

Patterns avoided on purpose: ``COUNT {}``/``EXISTS {}`` subqueries (FalkorDB lacks them) and
``exists(pattern)`` (Neo4j 5 removed it), and degree functions (FalkorDB's ``outdegree`` is
its own). FalkorDB answers a pattern predicate per row (``NOT (a)-[:X]->(b)``) with a matrix
operation that costs milliseconds; a short list (the videos a user watched) is collected first and
tested with ``IN``, which costs a scan of the list per row. Long ones (the people a user follows,
their followers) go into the aggregation instead: a ``CALL {}`` subquery whose ``UNION ALL``
branches return one row per path and one per excluded node, summed per candidate. The subqueries
are written with the importing ``WITH`` that FalkorDB parses; Neo4j (5.23 and later) logs that
form as deprecated on every run, so its text is rewritten to ``CALL (me) {}``.

The graph stores only ids (UUID strings), integers and fixed words (visibility), never text a
user typed: the rankings need none, and a second store of personal data would be one more to erase.

Timestamps are whole epoch seconds, which both databases compare the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


class Dialect(Enum):
    FALKORDB = "falkordb"
    NEO4J = "neo4j"


@dataclass(frozen=True)
class Query:
    name: str
    cypher: str
    write: bool = False
    falkordb: str | None = None  # this dialect's text, where it differs
    neo4j: str | None = None
    # Neo4j's text answers one record whose ``rows`` lists each row's values in this order
    # (``_packed``); the backend unpacks them into the rows the other dialect answers.
    neo4j_packed: tuple[str, ...] = ()

    def text(self, dialect: Dialect) -> str:
        override = self.falkordb if dialect is Dialect.FALKORDB else self.neo4j
        return override or self.cypher

    def packed(self, dialect: Dialect) -> tuple[str, ...]:
        """The columns of the packed rows this dialect's text answers; empty: plain rows."""
        return self.neo4j_packed if dialect is Dialect.NEO4J else ()


# Schema ------------------------------------------------------------------------------------------

INDEXED = (("User", "id"), ("Video", "id"))

FALKORDB_INDEXES = Query(
    "falkordb_indexes", "CALL db.indexes() YIELD label, properties RETURN label, properties"
)
FALKORDB_CREATE_INDEX = {
    ("User", "id"): Query("falkordb_index_user", "CREATE INDEX FOR (u:User) ON (u.id)", write=True),
    ("Video", "id"): Query("falkordb_index_video", "CREATE INDEX FOR (v:Video) ON (v.id)", write=True),
}
NEO4J_CONSTRAINTS = (
    Query(
        "neo4j_unique_user",
        "CREATE CONSTRAINT mydrtv_user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE",
        write=True,
    ),
    Query(
        "neo4j_unique_video",
        "CREATE CONSTRAINT mydrtv_video_id IF NOT EXISTS FOR (v:Video) REQUIRE v.id IS UNIQUE",
        write=True,
    ),
)

# Projection: one change, one statement ------------------------------------------------------------

SET_USER = Query("set_user", "MERGE (u:User {id: $id}) SET u.followers = $followers", write=True)
DELETE_USER = Query("delete_user", "MATCH (u:User {id: $id}) DETACH DELETE u", write=True)

# A user node made by an edge starts with no followers; follow changes keep the count right.
_SOURCE = "MERGE (a:User {id: $source}) ON CREATE SET a.followers = 0"
_TARGET = "MERGE (b:User {id: $target}) ON CREATE SET b.followers = 0"

SET_FOLLOW = Query(
    "set_follow",
    f"{_SOURCE} {_TARGET} MERGE (a)-[e:FOLLOWS]->(b) SET e.at = $at, b.followers = $followers",
    write=True,
)
DELETE_FOLLOW = Query(
    "delete_follow",
    "MATCH (b:User {id: $target}) SET b.followers = $followers"
    " WITH b MATCH (:User {id: $source})-[e:FOLLOWS]->(b) DELETE e",
    write=True,
)


def _user_edge(kind: str, label: str) -> tuple[Query, Query]:
    """Set and delete queries of an edge between two users that carries only its time."""
    set_edge = Query(
        f"set_{kind}",
        f"{_SOURCE} {_TARGET} MERGE (a)-[e:{label}]->(b) SET e.at = $at",
        write=True,
    )
    delete_edge = Query(
        f"delete_{kind}",
        f"MATCH (:User {{id: $source}})-[e:{label}]->(:User {{id: $target}}) DELETE e",
        write=True,
    )
    return set_edge, delete_edge


SET_BLOCK, DELETE_BLOCK = _user_edge("block", "BLOCKS")
SET_MUTE, DELETE_MUTE = _user_edge("mute", "MUTES")
SET_DISMISSAL, DELETE_DISMISSAL = _user_edge("dismissal", "DISMISSED")

# A video's node is written whole (visibility, owner, popularity) by every change that touches it.
_VIDEO = (
    "MERGE (v:Video {id: $video})"
    " SET v.visibility = $visibility, v.owner = $owner, v.popularity = $popularity"
)

_USER = "MERGE (u:User {id: $user}) ON CREATE SET u.followers = 0"

SET_VIDEO = Query("set_video", _VIDEO, write=True)
DELETE_VIDEO = Query("delete_video", "MATCH (v:Video {id: $video}) DETACH DELETE v", write=True)
SET_RATING = Query(
    "set_rating",
    _VIDEO + f" {_USER} MERGE (u)-[e:RATED]->(v) SET e.stars = $stars, e.at = $at",
    write=True,
)
DELETE_RATING = Query(
    "delete_rating", "MATCH (:User {id: $user})-[e:RATED]->(:Video {id: $video}) DELETE e", write=True
)
SET_WATCH = Query("set_watch", _VIDEO + f" {_USER} MERGE (u)-[e:WATCHED]->(v) SET e.at = $at", write=True)
DELETE_WATCH = Query(
    "delete_watch", "MATCH (:User {id: $user})-[e:WATCHED]->(:Video {id: $video}) DELETE e", write=True
)

# Rebuild: bulk loads, one batch of rows per statement ------------------------------------------
# Two MATCH clauses, not one with a comma: each is one index look-up either way, but Neo4j reports
# (and its driver logs) a comma between unconnected patterns as a "cartesian product" every batch.

CLEAR_SOME = Query(
    "clear_some", "MATCH (n) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS deleted", write=True
)
LOAD_USERS = Query(
    "load_users", "UNWIND $rows AS r MERGE (u:User {id: r[0]}) SET u.followers = r[1]", write=True
)
LOAD_VIDEOS = Query(
    "load_videos",
    "UNWIND $rows AS r MERGE (v:Video {id: r[0]})"
    " SET v.visibility = r[1], v.owner = r[2], v.popularity = r[3]",
    write=True,
)


def _load_user_edges(kind: str, label: str) -> Query:
    return Query(
        f"load_{kind}",
        f"UNWIND $rows AS r MATCH (a:User {{id: r[0]}}) MATCH (b:User {{id: r[1]}})"
        f" MERGE (a)-[e:{label}]->(b) SET e.at = r[2]",
        write=True,
    )


LOAD_FOLLOWS = _load_user_edges("follows", "FOLLOWS")
LOAD_BLOCKS = _load_user_edges("blocks", "BLOCKS")
LOAD_MUTES = _load_user_edges("mutes", "MUTES")
LOAD_DISMISSALS = _load_user_edges("dismissals", "DISMISSED")
LOAD_RATINGS = Query(
    "load_ratings",
    "UNWIND $rows AS r MATCH (u:User {id: r[0]}) MATCH (v:Video {id: r[1]})"
    " MERGE (u)-[e:RATED]->(v) SET e.stars = r[2], e.at = r[3]",
    write=True,
)
LOAD_WATCHES = Query(
    "load_watches",
    "UNWIND $rows AS r MATCH (u:User {id: r[0]}) MATCH (v:Video {id: r[1]})"
    " MERGE (u)-[e:WATCHED]->(v) SET e.at = r[2]",
    write=True,
)

# Reading the whole projection back, to compare it with PostgreSQL --------------------------------

DUMP_USERS = Query("dump_users", "MATCH (u:User) RETURN u.id AS id, u.followers AS followers")
DUMP_VIDEOS = Query(
    "dump_videos",
    "MATCH (v:Video)"
    " RETURN v.id AS id, v.visibility AS visibility, v.owner AS owner, v.popularity AS popularity",
)


def _dump_user_edges(kind: str, label: str) -> Query:
    return Query(f"dump_{kind}", f"MATCH (a:User)-[:{label}]->(b:User) RETURN a.id AS a, b.id AS b")


DUMP_FOLLOWS = _dump_user_edges("follows", "FOLLOWS")
DUMP_BLOCKS = _dump_user_edges("blocks", "BLOCKS")
DUMP_MUTES = _dump_user_edges("mutes", "MUTES")
DUMP_DISMISSALS = _dump_user_edges("dismissals", "DISMISSED")
DUMP_RATINGS = Query(
    "dump_ratings", "MATCH (u:User)-[e:RATED]->(v:Video) RETURN u.id AS a, v.id AS b, e.stars AS stars"
)
DUMP_WATCHES = Query("dump_watches", "MATCH (u:User)-[:WATCHED]->(v:Video) RETURN u.id AS a, v.id AS b")

# Reads ---------------------------------------------------------------------------------------------


def _scoped(cypher: str) -> str:
    """Neo4j's form of the catalog's ``CALL { WITH me ... }`` subqueries: ``CALL (me) { ... }``.

    Neo4j 5.23+ logs a deprecation warning for the importing ``WITH`` on every run; FalkorDB
    parses only that form, so it keeps the text as written.
    """
    scoped = cypher.replace("CALL {\n      WITH me\n", "CALL (me) {\n")
    scoped = scoped.replace("UNION ALL\n      WITH me\n", "UNION ALL\n")
    assert scoped != cypher and "WITH me\n      MATCH" not in scoped, "no importing WITH left to scope"
    return scoped


def _packed(cypher: str, columns: tuple[str, ...]) -> str:
    """Neo4j's form of a read that answers many rows: the same rows, in the same order, as one
    record holding a list of lists (``RETURN x AS a, ... ORDER BY ... LIMIT`` becomes ``WITH``
    the same, then ``RETURN collect([a, ...]) AS rows``).

    The Python driver spends about 50 µs per record it receives (measured: 60 rows of constants
    4.3 ms, the same 60 rows as one record 1.0 ms), more than the query itself for a light user;
    FalkorDB's client shows no such cost, so its text is left alone.
    """
    head, found, tail = cypher.rpartition("\n    RETURN ")
    assert found, "a packed read ends with its RETURN clause"
    return f"{head}\n    WITH {tail.rstrip()}\n    RETURN collect([{', '.join(columns)}]) AS rows\n"


def _for_neo4j(query: Query, columns: tuple[str, ...], *, scoped: bool = True) -> Query:
    """``query`` with its Neo4j text scoped (``_scoped``) and packed (``_packed``)."""
    text = _scoped(query.cypher) if scoped else query.cypher
    return replace(query, neo4j=_packed(text, columns), neo4j_packed=columns)


# Friends of friends, ranked by how many people ``$user`` follows follow them (mutual follows),
# then by fewer followers (someone with few followers is likelier a personal acquaintance).
# ``$withdrawn``: followees who withdrew personalization; their follows suggest no one.
#
# Bounded: at most ``$paths`` friend-of-friend paths are counted, those through the people the
# user followed most recently first. A user whose friends of friends fit in the budget (most
# users) gets the exact ranking; one who follows many well-connected people gets the ranking of
# their most recent follows' circles, in bounded time (docs/architecture.md, "People you may
# know"). Exclusions (the user, people they follow, blocked, muted or dismissed, people who blocked
# them) are counted in the same aggregation as the paths, one row each, instead of being tested
# per path against a list: a list test costs a scan of the list per path, which for someone
# following thousands was most of the query.
PEOPLE_YOU_MAY_KNOW = Query(
    "people_you_may_know",
    """
    MATCH (me:User {id: $user})
    CALL {
      WITH me
      MATCH (me)-[e:FOLLOWS]->(f:User)
      WHERE NOT f.id IN $withdrawn
      WITH f, e.at AS at ORDER BY at DESC, f.id ASC
      MATCH (f)-[:FOLLOWS]->(c:User)
      WITH c LIMIT $paths
      RETURN c, 1 AS via, 0 AS barred
      UNION ALL
      WITH me
      MATCH (me)-[:FOLLOWS|BLOCKS|MUTES|DISMISSED]->(c:User)
      RETURN c, 0 AS via, 1 AS barred
      UNION ALL
      WITH me
      MATCH (me)<-[:BLOCKS]-(c:User)
      RETURN c, 0 AS via, 1 AS barred
      UNION ALL
      WITH me
      RETURN me AS c, 0 AS via, 1 AS barred
    }
    WITH c, sum(via) AS mutual, sum(barred) AS barred
    WHERE mutual > 0 AND barred = 0
    RETURN c.id AS id, mutual, coalesce(c.followers, 0) AS followers
    ORDER BY mutual DESC, followers ASC, id ASC
    LIMIT $limit
    """,
)
PEOPLE_YOU_MAY_KNOW = _for_neo4j(PEOPLE_YOU_MAY_KNOW, ("id", "mutual", "followers"))

# Videos that people ``$user`` follows rated ``$stars``+ or watched, with the counts the
# explanation is made of; friends (mutual follows) weigh more, and so does recent activity.
# ``$withdrawn``: followees who withdrew personalization; what they rated or watched counts not.
# Bounded like people you may know: at most ``$paths`` (person, video) signals, friends' first.
# Who is a friend, and who is muted, is found by one aggregation over the user's follows, fans and
# mutes, not by testing each signal against the list of fans (thousands for a popular user).
SOCIAL_VIDEOS = Query(
    "social_videos",
    """
    MATCH (me:User {id: $user})
    OPTIONAL MATCH (me)-[:RATED|WATCHED]->(seen:Video)
    WITH me, collect(seen) AS seen
    CALL {
      WITH me
      MATCH (me)-[:FOLLOWS]->(f:User)
      RETURN f, 1 AS followed, 0 AS fan, 0 AS muted
      UNION ALL
      WITH me
      MATCH (me)<-[:FOLLOWS]-(f:User)
      RETURN f, 0 AS followed, 1 AS fan, 0 AS muted
      UNION ALL
      WITH me
      MATCH (me)-[:MUTES]->(f:User)
      RETURN f, 0 AS followed, 0 AS fan, 1 AS muted
    }
    WITH seen, f, sum(followed) AS followed, sum(fan) AS fan, sum(muted) AS muted
    WHERE followed > 0 AND muted = 0 AND NOT f.id IN $withdrawn
    WITH seen, f, fan > 0 AS friend
    ORDER BY friend DESC, f.id ASC
    MATCH (f)-[r:RATED|WATCHED]->(v:Video)
    WHERE NOT v IN seen AND v.owner <> $user
      AND v.visibility IN ['public', 'private']
      AND (type(r) = 'WATCHED' OR r.stars >= $stars)
    WITH v, f, friend, type(r) = 'RATED' AS rated, r.at >= $since AS recent
    LIMIT $paths
    WITH v,
         count(DISTINCT CASE WHEN rated AND friend THEN f END) AS rated_friends,
         count(DISTINCT CASE WHEN rated THEN f END) AS rated_following,
         count(DISTINCT CASE WHEN NOT rated AND friend THEN f END) AS watched_friends,
         count(DISTINCT CASE WHEN NOT rated THEN f END) AS watched_following,
         count(DISTINCT CASE WHEN recent AND friend THEN f END) AS recent_friends
    WITH v, rated_friends, rated_following, watched_friends, watched_following, recent_friends,
         3 * rated_friends + 2 * rated_following + 2 * watched_friends + watched_following
           + 3 * recent_friends AS score
    RETURN v.id AS id, rated_friends, rated_following, watched_friends, watched_following,
           recent_friends, score, coalesce(v.popularity, 0) AS popularity
    ORDER BY score DESC, popularity DESC, id ASC
    LIMIT $limit
    """,
)
SOCIAL_VIDEOS = _for_neo4j(
    SOCIAL_VIDEOS,
    (
        "id",
        "rated_friends",
        "rated_following",
        "watched_friends",
        "watched_following",
        "recent_friends",
        "score",
        "popularity",
    ),
)

# The fallback, the same for everyone (so it is cached): public videos most rated 4+ or watched.
POPULAR_VIDEOS = Query(
    "popular_videos",
    """
    MATCH (v:Video)
    WHERE v.visibility = 'public' AND v.popularity > 0
    RETURN v.id AS id, v.popularity AS popularity, v.owner AS owner
    ORDER BY popularity DESC, id ASC
    LIMIT $limit
    """,
)
POPULAR_VIDEOS = _for_neo4j(POPULAR_VIDEOS, ("id", "popularity", "owner"), scoped=False)

# Privacy (docs/privacy.md): a user's node and every edge touching it, for export and the audit.
USER_NODE = Query("user_node", "MATCH (u:User {id: $id}) RETURN u.id AS id, u.followers AS followers")
USER_EDGES = Query(
    "user_edges",
    """
    MATCH (u:User {id: $id})-[e]-(o)
    RETURN type(e) AS kind, startNode(e).id = $id AS outgoing, o.id AS other, e.stars AS stars
    ORDER BY kind, other
    """,
)
FOLLOWEES = Query("followees", "MATCH (:User {id: $id})-[:FOLLOWS]->(b:User) RETURN b.id AS id")
SET_FOLLOWERS = Query(
    "set_followers", "UNWIND $rows AS r MATCH (u:User {id: r[0]}) SET u.followers = r[1]", write=True
)


def _catalog() -> frozenset[Query]:
    found: set[Query] = set()
    for value in list(globals().values()):
        members = (
            value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else [value]
        )
        found.update(member for member in members if isinstance(member, Query))
    return frozenset(found)


CATALOG = _catalog()  # every query a backend will run
