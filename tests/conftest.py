"""Fixtures that provision real PostgreSQL and Redis servers.

``MYDRTV_TEST_DATABASE_URL`` (a URL of a database on a server where we may create databases) and
``MYDRTV_TEST_REDIS_URL`` name servers to use; without them, embedded servers from the wheels are
started once per test session. Each test module gets databases of its own and a Redis namespace of
its own, so modules run in any order.

Graph tests run on FalkorDB (a server from the wheel) and on Neo4j: ``MYDRTV_TEST_NEO4J_URL``, or
one Neo4j server per session that we build with Maven and start (skipped without Java or Maven).
Neo4j Community has one database, so a module that uses it starts by emptying it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.identity.crypto import new_master_key
from core.db import Database
from core.settings import Settings
from server.factory import create_app
from tests.graph_servers import falkordb_server
from tests.services import DatabaseFactory, embedded_neo4j, embedded_postgres, embedded_redis

ROOT = Path(__file__).resolve().parents[1]
# Servers and CLIs that tests start as children (``python -m server.cli``) import this tree, not
# the checkout the virtualenv was installed from: a worktree tests its own code.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        # A directory of our own, not pytest's numbered ones: pytest prunes old numbered directories
        # at start-up, which would pull the data from under a test run started a moment earlier.
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mydrtv-test-servers-")))
        database = os.environ.get("MYDRTV_TEST_DATABASE_URL") or stack.enter_context(embedded_postgres(root))
        redis = os.environ.get("MYDRTV_TEST_REDIS_URL") or stack.enter_context(embedded_redis(root))
        yield {"database": database, "redis": redis}


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """A Redis Cluster for the session (3 primaries on loopback), started on first use; or the
    one ``MYDRTV_TEST_REDIS_CLUSTER_URL`` names (``redis+cluster://host:port,...``)."""
    if url := os.environ.get("MYDRTV_TEST_REDIS_CLUSTER_URL"):
        yield url
        return
    from support.redis_cluster import redis_cluster

    with redis_cluster() as cluster:
        yield cluster.url


@pytest.fixture(scope="session")
def falkordb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A FalkorDB server for the session (the test Redis may be one without the graph module)."""
    with falkordb_server(tmp_path_factory.mktemp("falkordb")) as server:
        yield server.url


@pytest.fixture(scope="session")
def neo4j_url() -> Iterator[str]:
    """A Neo4j server for the session, started on first use: ``MYDRTV_TEST_NEO4J_URL`` (its data is
    deleted) or our own, built by Maven if needed; skipped where Java or Maven is missing."""
    from server.embedded import neo4j

    if url := os.environ.get("MYDRTV_TEST_NEO4J_URL"):
        yield url
        return
    if reason := neo4j.unavailable():
        pytest.skip(f"no Neo4j here: {reason} (or set MYDRTV_TEST_NEO4J_URL=bolt://user:pass@host:7687)")
    with (
        tempfile.TemporaryDirectory(prefix="mydrtv-test-neo4j-") as root,
        embedded_neo4j(Path(root), quick_start=True) as url,
    ):
        yield url


@pytest.fixture(scope="session")
async def databases(servers: dict[str, str]) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(servers["database"])
    await factory.create_templates()
    yield factory
    await factory.drop_all()


@pytest.fixture(scope="module")
async def settings(databases: DatabaseFactory, servers: dict[str, str]) -> Settings:
    """Settings for one test module: its own databases and Redis namespace."""
    return Settings(
        database_url=await databases.create_migrated("main"),
        identity_database_url=await databases.create_migrated("identity"),
        redis_url=servers["redis"],
        redis_namespace=f"test-{uuid.uuid4().hex[:8]}",
        jwt_secret="test-secret-" + uuid.uuid4().hex,
        privacy_master_key=new_master_key(),
        login_limit_per_account="1000/minute",
        login_limit_per_address="1000/minute",
        register_limit_per_address="1000/minute",
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """The test module's main database, for tests that read or write it directly."""
    database = Database("main", settings.database_url)
    await database.start()
    yield database
    await database.stop()


@pytest.fixture(scope="module")
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(settings)
    app.state.database_url = settings.database_url  # for helpers that play a transcode
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def app_client(settings: Settings) -> Callable[..., AsyncTestClient[Any]]:
    """A client of an app built with some settings changed; use it as an async context manager."""

    def make(**changes: Any) -> AsyncTestClient[Any]:
        return AsyncTestClient(app=create_app(msgspec.structs.replace(settings, **changes)))

    return make
