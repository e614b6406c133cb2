"""Stopping a background task from the task that owns it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("mydrtv")

# How long a cancelled task may take to wind down before it is told again: long enough for a
# query's cancellation or a connection's close, short enough that a stop never hangs.
CANCEL_AGAIN_SECONDS = 2.0


async def stop_task(task: asyncio.Task[Any], *, again_after: float = CANCEL_AGAIN_SECONDS) -> None:
    """Cancel ``task`` and wait for it to end, without losing a cancellation aimed at the caller.

    ``with suppress(CancelledError): await task`` cannot tell the task's own CancelledError from
    one aimed at the caller while it waits, so a worker told to stop (SIGTERM cancels its main
    task) while it waited for a helper task would swallow the stop and run on. And a task whose
    library turned the cancel into an error it handles runs on too: it is told again, with a
    warning, every ``again_after`` seconds. Errors the task raised other than its cancellation
    reach the caller.
    """
    task.cancel()
    while not task.done():
        await asyncio.wait({task}, timeout=again_after)  # the caller's own cancel propagates here
        if not task.done():
            log.warning(
                "a task ignored its cancellation; cancelling it again", extra={"task": task.get_name()}
            )
            task.cancel()
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error
