"""The frames the gateway encodes once for every socket are the frames websockets would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from realtime.frames import Outgoing, text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_a_text_frame_is_the_one_websockets_serializes(size: int) -> None:
    payload = ("é" * (size // 2) + "x" * (size % 2)).encode()
    assert text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])


def test_an_outgoing_message_encodes_its_text_and_frame_once() -> None:
    message = Outgoing(b'{"type":"publication"}')
    assert message.text == '{"type":"publication"}'
    assert message.frame is message.frame
    assert message.text is message.text
    assert message.frame == text_frame(message.payload)
