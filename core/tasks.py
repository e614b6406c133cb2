"""Stopping a background task from the task that owns it."""

from __future__ import annotations

import asyncio
from typing import Any


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it to end, without losing a cancellation aimed at the caller.

    ``with suppress(CancelledError): await task`` cannot tell the task's own CancelledError from
    one aimed at the caller while it waits: a worker told to stop (SIGTERM cancels its main task)
    while it waited for a helper task to wind down would swallow the stop and run on. Errors the
    task raised other than its cancellation reach the caller.
    """
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        caller = asyncio.current_task()
        if caller is not None and caller.cancelling():
            raise
