"""stop_task: a stopped helper task ends, and a stop aimed at its owner is never swallowed."""

from __future__ import annotations

import asyncio

import pytest

from app.tasks import stop_task


async def _slow_to_stop(started: asyncio.Event, release: asyncio.Event) -> None:
    """A task that, once cancelled, needs ``release`` before it ends (like a query being cancelled)."""
    started.set()
    try:
        await asyncio.Event().wait()
    finally:
        await release.wait()


async def test_a_cancel_aimed_at_the_owner_while_it_stops_a_task_is_kept() -> None:
    started, release, stopping = asyncio.Event(), asyncio.Event(), asyncio.Event()
    helper = asyncio.create_task(_slow_to_stop(started, release))
    await started.wait()

    async def owner() -> str:
        loop = asyncio.get_running_loop()
        loop.call_soon(stopping.set)
        await stop_task(helper)
        return "ran on after being told to stop"

    task = asyncio.create_task(owner())
    await stopping.wait()
    task.cancel()  # the owner is told to stop while it waits for the helper
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    await asyncio.gather(helper, return_exceptions=True)


async def test_the_stopped_task_s_own_cancellation_is_absorbed() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    release.set()
    helper = asyncio.create_task(_slow_to_stop(started, release))
    await started.wait()
    await stop_task(helper)
    assert helper.cancelled()


async def test_an_error_the_stopped_task_raises_reaches_the_owner() -> None:
    started = asyncio.Event()

    async def failing() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            raise RuntimeError("failed while stopping")

    helper = asyncio.create_task(failing())
    await started.wait()
    with pytest.raises(RuntimeError, match="failed while stopping"):
        await stop_task(helper)


async def test_a_task_that_swallows_its_cancellation_is_told_again() -> None:
    started, swallowed = asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        started.set()
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if swallowed.is_set():
                    raise
                swallowed.set()  # as a library that turned the cancel into an error it retries

    helper = asyncio.create_task(stubborn())
    await started.wait()
    await stop_task(helper, again_after=0.05)
    assert swallowed.is_set() and helper.cancelled()
