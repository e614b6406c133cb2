"""Server messages as websocket frames, encoded once for every socket that gets them.

A server's frames are unmasked (RFC 6455, 5.1), so a text message's frame, header and all, is the
same bytes for every client: the node builds it once per publication and each socket's transport
takes the same ``bytes`` (``realtime.connection``). Sockets without such a transport (none in the
server; tests' stand-ins) get the message's text, decoded once too.
"""

from __future__ import annotations

import struct

_TEXT = 0x81  # FIN, opcode 1 (text); no extension bits: never compressed


def text_frame(payload: bytes) -> bytes:
    """One whole, unfragmented, unmasked text frame carrying ``payload`` (UTF-8)."""
    size = len(payload)
    if size < 126:
        return bytes((_TEXT, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", _TEXT, 126, size) + payload
    return struct.pack("!BBQ", _TEXT, 127, size) + payload


class Outgoing:
    """One server message for many sockets: its JSON, and the text and the frame made from it on
    first use (each at most once, however many sockets take it)."""

    __slots__ = ("_frame", "_text", "payload")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._text: str | None = None
        self._frame: bytes | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.payload.decode()
        return self._text

    @property
    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = text_frame(self.payload)
        return self._frame
