"""The registry of personal data parts: one per store or feature that holds data about a user.

Export, erasure and the audit never know the stores themselves: they walk the registry. A part

- ``export(user_id)``: the user's records, by kind (each kind becomes one JSON file of the
  archive), plus the stored objects the archive should carry (original uploads);
- ``erase(user_id)``: removes or anonymises what it holds; idempotent and safe to run again after
  a crash part-way (each part commits in steps that leave a state the next run continues from);
  returns how many things it erased, by kind, for the receipt (counts only, no personal data);
- ``residue(user_id)``: what it still holds that is tied to the user or carries their personal
  data, as findings a person can read (empty after an erasure).

Parts run in registration order, which for erasure matters: each part may rely on what the parts
before it left (the account row goes after everything that hangs off it). A feature added later
(profiles, notifications) registers its part at the composition root.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import msgspec

Record = dict[str, Any]


class StoredFile(msgspec.Struct, frozen=True):
    """An object of the user's in storage that the archive carries as is."""

    archive_name: str  # its path inside the archive, e.g. ``uploads/<video>/<source>``
    key: str  # its key in storage


class Exported(msgspec.Struct, frozen=True):
    records: dict[str, list[Record]]  # kind -> records; each kind is ``<kind>.json`` in the archive
    files: list[StoredFile] = []


class PersonalDataPart(Protocol):
    name: str  # unique: names the erasure step and the receipt's counts
    store: str  # where the data lives: identity, main, graph, storage, redis (the audit's grouping)

    async def export(self, user_id: uuid.UUID) -> Exported: ...

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]: ...

    async def residue(self, user_id: uuid.UUID) -> list[str]: ...


class Registry:
    def __init__(self, parts: Iterable[PersonalDataPart] = ()) -> None:
        self._parts: list[PersonalDataPart] = []
        for part in parts:
            self.register(part)

    def register(self, part: PersonalDataPart, *, before: str | None = None) -> None:
        """Add a part, last or just before the part named ``before`` (whose data may hang off it)."""
        if any(p.name == part.name for p in self._parts):
            raise ValueError(f"a personal data part named {part.name!r} is registered already")
        if before is None:
            self._parts.append(part)
            return
        index = next((i for i, p in enumerate(self._parts) if p.name == before), None)
        if index is None:
            raise ValueError(f"no personal data part named {before!r}")
        self._parts.insert(index, part)

    @property
    def parts(self) -> Sequence[PersonalDataPart]:
        return tuple(self._parts)

    @property
    def stores(self) -> list[str]:
        return list(dict.fromkeys(p.store for p in self._parts))

    async def residue(self, user_id: uuid.UUID) -> dict[str, list[str]]:
        """Findings per store, every store listed (an empty list: nothing found there)."""
        found: dict[str, list[str]] = {store: [] for store in self.stores}
        for part in self._parts:
            found[part.store] += [f"{part.name}: {finding}" for finding in await part.residue(user_id)]
        return found
