"""HTTP byte ranges (RFC 9110 section 14) for segment serving.

Players ask for one range at a time; a request for several is answered with the whole object,
which the RFC allows.
"""

from __future__ import annotations


class RangeNotSatisfiable(Exception):
    """The range lies wholly outside the object: answer 416 with ``Content-Range: bytes */size``."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``[start, end)`` a ``Range`` header asks for, or None to send the whole object."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if not first:  # a suffix: the last N bytes
            length = int(last)
            if length <= 0:
                raise RangeNotSatisfiable
            return max(0, size - length), size
        start = int(first)
        end = int(last) + 1 if last else size
        if start >= size:
            raise RangeNotSatisfiable
    except ValueError:
        return None  # malformed: ignored, as the RFC asks
    if start < 0 or end <= start:
        return None
    return start, min(end, size)
