"""What runs while the app serves: databases checked, the node and background tasks started, and
all of it stopped in reverse order when the app stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar

from core.db import Database
from graph.base import Graph
from migrations import runner
from realtime.node import Node

log = logging.getLogger("mydrtv")

Job = Callable[[], Coroutine[Any, Any, None]]
Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


async def _set_up_graph(graph: Graph) -> None:
    """Indexes and constraints now if the graph answers; otherwise the projector sets them up
    before its first change, and readiness reports the graph down meanwhile."""
    try:
        await graph.setup()
    except Exception:
        log.warning("graph schema setup failed; retried with the first graph change", exc_info=True)


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait for it to end, cancelling again if a library it was
    inside swallowed the cancellation (seen with the outbox relay: it then polled for ever)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())


def lifespan(
    databases: Sequence[Database],
    node: Node,
    graph: Graph | None,
    jobs: Sequence[tuple[str, Job]],
    closers: Sequence[Callable[[], Awaitable[None]]],
) -> Lifespan:
    """Start ``databases`` (refusing to serve an unmigrated one), ``node``, the graph's schema and
    ``jobs`` (name, coroutine function) in that order; on the way out stop the jobs, the node, then
    call ``closers`` in order and stop the databases that started."""

    @asynccontextmanager
    async def run(_: Litestar) -> AsyncIterator[None]:
        started: list[Database] = []
        started_tasks: list[asyncio.Task[None]] = []
        try:
            for db in databases:
                await db.start()
                started.append(db)
                await runner.check(db.engine, db.name, db.url)
            await node.start()
            if graph is not None:
                await _set_up_graph(graph)
            started_tasks += [asyncio.create_task(job(), name=name) for name, job in jobs]
            yield
        finally:
            for task in started_tasks:
                await _stop(task)
            await node.stop()
            for close in closers:
                await close()
            for db in started:
                await db.stop()

    return run
