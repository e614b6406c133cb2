"""A TCP proxy on loopback in front of Redis that can black-hole connections: a partition.

A black-holed connection stays open at both ends (neither Redis nor the client sees a close or an
error), but nothing it carries arrives any more: bytes are read and dropped, in both directions.
That is what a half-open socket or a lossy partition looks like from either end, and what no
connection error reports. A connection counts as pub/sub once its client sends SUBSCRIBE.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Literal

from support.services import free_port

Which = Literal["pubsub", "all"]
_SUBSCRIBE = b"\r\nSUBSCRIBE\r\n"  # a RESP command array whose first word is SUBSCRIBE


@dataclass
class Flow:
    """One client connection through the proxy and its connection to Redis."""

    pubsub: bool = False
    black_holed: bool = False
    dropped: int = 0  # bytes read and thrown away while black-holed
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class Proxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.flows: list[Flow] = []
        self._cut_new: Which | None = None  # flows opened from now on are black-holed too
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for flow in self.flows:
            for task in flow.tasks:
                task.cancel()
        for flow in self.flows:
            await asyncio.gather(*flow.tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def black_hole(self, which: Which, *, new_flows: bool) -> int:
        """Black-hole the open connections (``pubsub`` ones, or ``all``); with ``new_flows``, also
        those opened (or, for ``pubsub``, subscribing) from now on. Returns how many it cut."""
        cut = [f for f in self.flows if not f.black_holed and (which == "all" or f.pubsub)]
        for flow in cut:
            flow.black_holed = True
        if new_flows:
            self._cut_new = which
        return len(cut)

    def heal(self) -> None:
        """Carry bytes again (what was dropped meanwhile stays lost), and cut no new connection."""
        self._cut_new = None
        for flow in self.flows:
            flow.black_holed = False

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.close()
            return
        flow = Flow(black_holed=self._cut_new == "all")
        self.flows = [f for f in self.flows if any(not t.done() for t in f.tasks)] + [flow]
        flow.tasks = [
            asyncio.create_task(self._pump(flow, client_reader, redis_writer, upstream=True)),
            asyncio.create_task(self._pump(flow, redis_reader, client_writer, upstream=False)),
        ]

    async def _pump(
        self, flow: Flow, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if upstream and not flow.pubsub and _SUBSCRIBE in chunk.upper():
                    flow.pubsub = True
                    if self._cut_new is not None:
                        flow.black_holed = True
                if flow.black_holed:
                    flow.dropped += len(chunk)
                    continue
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                writer.close()
