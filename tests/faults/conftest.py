"""A PostgreSQL of the fault tests' own (a fault may crash it), and databases on it."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager

import pytest

from support.faults.rig import Rig
from support.faults.servers import Postgres, postgres
from support.services import DatabaseFactory


@pytest.fixture(scope="module")
def fault_postgres() -> Iterator[Postgres]:
    with postgres() as server:
        yield server


@pytest.fixture(scope="module")
async def fault_databases(fault_postgres: Postgres) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(fault_postgres.url())
    await factory.create_templates()
    yield factory
    await factory.drop_all()


StartRig = Callable[..., AbstractAsyncContextManager[Rig]]


@pytest.fixture
def start_rig(fault_postgres: Postgres, fault_databases: DatabaseFactory) -> StartRig:
    """``Rig.running`` on this module's PostgreSQL: ``async with start_rig(aof=True) as rig``."""
    return functools.partial(Rig.running, fault_postgres, fault_databases)
