"""Redis faults under live traffic: killed and restarted empty, frozen, restarted from its AOF.

Each test runs the rig of ``tests.faults.harness`` once against a fresh Redis: two gateways, six
subscribers, a writer at 15 comments/s; it prints the per-subscriber table and fails on any
silent gap, duplicate or reorder, on an answer other than 201, and on forbidden log lines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.faults.harness import Report, Rig, freeze, kill_and_restart, postgres
from tests.services import DatabaseFactory


@pytest.fixture(scope="module")
def fault_postgres() -> Iterator[str]:
    with postgres() as url:
        yield url


@pytest.fixture(scope="module")
async def fault_databases(fault_postgres: str) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(fault_postgres)
    await factory.create_templates()
    yield factory
    await factory.drop_all()


def check(report: Report) -> None:
    print("\n" + report.table())
    assert not report.problems, report.table()


async def test_redis_killed_and_restarted_empty(fault_databases: DatabaseFactory) -> None:
    async with Rig.running(fault_databases) as rig:
        fault = "Redis kill -9, 2.5 s down, restarted without persistence"
        check(await rig.run(fault, kill_and_restart(2.5)))


async def test_redis_frozen(fault_databases: DatabaseFactory) -> None:
    async with Rig.running(fault_databases) as rig:
        check(await rig.run("Redis SIGSTOP for 3 s, then SIGCONT", freeze(3.0)))


async def test_redis_restarted_from_its_aof(fault_databases: DatabaseFactory) -> None:
    async with Rig.running(fault_databases, aof=True) as rig:
        check(await rig.run("Redis kill -9, 2.5 s down, restarted from its AOF", kill_and_restart(2.5)))
