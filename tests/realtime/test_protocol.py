"""Close codes: grouped so that a client tells retryable from terminal by the number alone, with
``disconnect.reconnect`` and the table in docs/protocol.md saying the same."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from realtime import protocol
from realtime.connection import Connection

DOCS = Path(__file__).parents[2] / "docs" / "protocol.md"
CLOSE_CODES = {name: code for name, code in vars(protocol).items() if name.startswith("CLOSE_")}


def in_reconnect_range(code: int) -> bool:
    """Centrifugo's rule, which docs/protocol.md adopts: 3000-3499 and 4000-4499 reconnect."""
    return 3000 <= code < 3500 or 4000 <= code < 4500


def test_every_close_code_is_an_application_code_and_distinct() -> None:
    assert CLOSE_CODES, "no close codes found"
    assert all(4000 <= code < 5000 for code in CLOSE_CODES.values()), CLOSE_CODES
    assert len(set(CLOSE_CODES.values())) == len(CLOSE_CODES)


@pytest.mark.parametrize(("name", "code"), sorted(CLOSE_CODES.items()))
async def test_the_disconnect_frame_says_reconnect_exactly_in_the_reconnect_ranges(
    name: str, code: int
) -> None:
    sent: list[str] = []
    closed: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()

    async def send(frame: str) -> None:
        sent.append(frame)

    async def close(code: int, reason: str) -> None:
        closed.set_result((code, reason))

    connection = Connection(send, close, None, queue_size=10)
    connection.close(code, "why")
    assert (await asyncio.wait_for(closed, 5))[0] == code
    if code != protocol.CLOSE_SLOW_CONSUMER:  # its goodbye is dropped with the backlog
        goodbye = protocol.server_decoder.decode(sent[-1])
        assert isinstance(goodbye, protocol.Disconnect)
        assert goodbye.reconnect is in_reconnect_range(code), name
    assert protocol.reconnects(code) is in_reconnect_range(code)


def close_code_table() -> dict[int, str]:
    """The close-code table of docs/protocol.md: code -> its "Reconnect" cell."""
    section = DOCS.read_text().split("## Close codes", 1)[1].split("\n## ", 1)[0]
    header = next(line for line in section.splitlines() if line.startswith("| Code"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    rows: dict[int, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(r"\d{4}", cells[0]):
            rows[int(cells[0])] = cells[columns.index("Reconnect")]
    return rows


def test_the_docs_table_lists_every_close_code_with_its_group() -> None:
    table = close_code_table()
    for name, code in CLOSE_CODES.items():
        assert code in table, f"{name} ({code}) is missing from the close-code table"
        assert table[code] == ("yes" if in_reconnect_range(code) else "no"), name
    # Transport codes the server can send, and the one a client sees when the network drops.
    for code in (1000, 1006, 1011, 1012):
        assert table.get(code) == "yes", code
    for code in (1002, 1007, 1009):
        assert table.get(code) == "no", code
