"""What every graph backend does: run a catalog query, set its schema up, close.

A backend knows its driver and its dialect; it runs only ``Query`` objects of
``graph.queries.CATALOG``, so the Cypher a deployment sends is the same whichever backend it uses.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from graph import queries
from graph.queries import Dialect, Query

Row = dict[str, Any]
Observer = Callable[[str, float, bool], None]
"""Told of each query run: its catalog name, its seconds and whether it succeeded."""


class GraphUnavailable(Exception):
    """The graph database cannot be reached; what needs it answers 503 until it is back."""


class Graph(ABC):
    dialect: Dialect
    batch_size: int = 2000  # rows per statement when loading in bulk

    def __init__(self) -> None:
        self._schema_ready = False
        self._schema_lock = asyncio.Lock()
        self.observe: Observer | None = None  # the metrics' latency histogram, when enabled

    async def run(self, query: Query, **params: Any) -> list[Row]:
        if query not in queries.CATALOG:
            raise ValueError(f"{query.name!r} is not in graph.queries: backends run catalog queries only")
        observe = self.observe
        if observe is None:
            rows = await self._execute(query.text(self.dialect), params, write=query.write)
            return self._unpacked(query, rows)
        started = time.perf_counter()
        ok = False
        try:
            rows = await self._execute(query.text(self.dialect), params, write=query.write)
            ok = True
            return self._unpacked(query, rows)
        finally:
            observe(query.name, time.perf_counter() - started, ok)

    def _unpacked(self, query: Query, rows: list[Row]) -> list[Row]:
        """The rows of a query whose text in this dialect answers them packed into one record."""
        columns = query.packed(self.dialect)
        if not columns:
            return rows
        return [dict(zip(columns, values, strict=True)) for row in rows for values in row["rows"]]

    @abstractmethod
    async def _execute(self, cypher: str, params: Mapping[str, Any], *, write: bool) -> list[Row]:
        """Run one statement; rows as dicts; ``GraphUnavailable`` when the server is unreachable."""

    @abstractmethod
    async def close(self) -> None: ...

    async def setup(self) -> None:
        """Create the indexes/constraints of this dialect, once per process; safe to call often."""
        if self._schema_ready:
            return
        async with self._schema_lock:
            if self._schema_ready:
                return
            if self.dialect is Dialect.FALKORDB:
                rows = await self.run(queries.FALKORDB_INDEXES)
                existing = {(row["label"], prop) for row in rows for prop in row["properties"]}
                for key, create in queries.FALKORDB_CREATE_INDEX.items():
                    if key not in existing:
                        await self.run(create)
            else:
                for constraint in queries.NEO4J_CONSTRAINTS:
                    await self.run(constraint)
            self._schema_ready = True
