"""Leadership held on a PostgreSQL session that the server ends when its holder goes quiet.

A leader holds an advisory lock on a connection of its own. An advisory lock alone is not a
lease: the lock lasts as long as the session, and a frozen (SIGSTOP) process's kernel still
answers TCP keepalives, so the server would keep the session, and the lock, for ever. So the
session is opened with ``idle_session_timeout`` (and ``idle_in_transaction_session_timeout``)
set to ``seconds``: a holder that stops talking for that long, frozen or partitioned, is
disconnected by the server itself, which releases the lock to a standby already blocked on it.
The holder talks every ``heartbeat`` seconds, well within it. A killed holder's kernel closes the
connection at once, so the lock goes immediately.

The holder also keeps its own clock: it knows it leads only until ``seconds`` after it *sent*
its last answered heartbeat (the server's idle timer started later than that, when the query
finished), so it stops acting as leader no later than the server stops treating it as one, and
after a freeze it knows it lost the lead from the clock alone, before any I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Callable

import asyncpg

from app.tasks import stop_task


class LostLead(Exception):
    """This process no longer leads (its lease ran out or its session ended)."""


class Lease:
    """Leadership while ``hold()`` is entered; ``check()`` raises ``LostLead`` once it is gone."""

    def __init__(
        self,
        url: str,
        lock: int,
        *,
        seconds: float,
        heartbeat: float,
        listen: str | None = None,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._url = url
        self._lock = lock
        self._seconds = seconds
        self._heartbeat = heartbeat
        self._listen = listen
        self._on_change = on_change  # called on a notification and when the lead is lost
        self._valid_until = 0.0
        self._lost: str | None = "not leading"

    def check(self) -> None:
        if self._lost is not None:
            raise LostLead(self._lost)
        if time.monotonic() >= self._valid_until:
            self._lose("the lease ran out before a heartbeat was answered")
            raise LostLead(self._lost)

    @property
    def leading(self) -> bool:
        return self._lost is None and time.monotonic() < self._valid_until

    def _lose(self, why: str) -> None:
        if self._lost is None:
            self._lost = why
            self._on_change()

    @contextlib.asynccontextmanager
    async def hold(self, connected: Callable[[], None] = lambda: None) -> AsyncIterator[None]:
        """Wait to lead (blocks while another holder leads), then lead until the block exits.

        ``connected`` is called once the session is open, before waiting. Connection errors while
        waiting propagate; after the lead is taken, its loss is reported through ``check()`` (and
        ``on_change``), not raised here.
        """
        millis = str(int(self._seconds * 1000))
        connection = await asyncpg.connect(
            self._url,
            server_settings={
                "application_name": f"mydrtv-relay {socket.gethostname()}:{os.getpid()}",
                "idle_session_timeout": millis,
                "idle_in_transaction_session_timeout": millis,
            },
        )
        heartbeat: asyncio.Task[None] | None = None
        try:
            connected()
            # Waiting runs a query, so the session is not idle meanwhile and is not ended.
            await connection.execute("SELECT pg_advisory_lock($1)", self._lock)
            self._valid_until = time.monotonic() + self._seconds
            self._lost = None
            connection.add_termination_listener(lambda _: self._lose("the session ended"))
            if self._listen is not None:
                await connection.add_listener(self._listen, lambda *_: self._on_change())
            heartbeat = asyncio.create_task(self._beat(connection), name="relay-lease")
            yield
        finally:
            self._lose("stepped down")
            if heartbeat is not None:
                with contextlib.suppress(Exception):
                    await stop_task(heartbeat)
            with contextlib.suppress(Exception):
                # Closing ends the session, and the lock with it, whoever waits next.
                await asyncio.wait_for(connection.close(), self._heartbeat)
            if not connection.is_closed():
                connection.terminate()

    async def _beat(self, connection: asyncpg.Connection) -> None:
        while self._lost is None:
            await asyncio.sleep(self._heartbeat)
            sent = time.monotonic()
            try:
                async with asyncio.timeout(self._valid_until - sent):
                    await connection.execute("SELECT 1")
            except Exception as exc:  # any failure ends the lead; the relay reports it
                self._lose(f"heartbeat failed: {type(exc).__name__}: {exc}".rstrip(": "))
                return
            if sent >= self._valid_until:
                self._lose("the lease ran out before a heartbeat was answered")
                return
            self._valid_until = sent + self._seconds
