"""``privacy.export`` on ``user:{id}`` (docs/protocol.md): an export's progress and its end.

Sent with ``broadcast`` (no history), like ``media.progress``: a client that was away reads the
state with ``GET /me/export``.
"""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

from realtime import protocol
from realtime.bus.base import Bus
from realtime.channels import channel_name

ExportState = Literal["running", "ready", "failed"]


class ExportProgress(msgspec.Struct, tag="privacy.export", frozen=True):
    job_id: int
    state: ExportState
    fraction: float  # 0..1


async def send_export_progress(
    bus: Bus, user_id: uuid.UUID, job_id: int, state: ExportState, fraction: float
) -> None:
    channel = channel_name("user", user_id)
    event = ExportProgress(job_id=job_id, state=state, fraction=round(fraction, 4))
    frame = protocol.Event(channel=channel, data=msgspec.Raw(msgspec.json.encode(event)))
    await bus.broadcast(channel, protocol.encoder.encode(frame))
