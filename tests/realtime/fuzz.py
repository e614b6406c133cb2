"""Generated websocket frames for the gateway fuzz test, each with the answer docs/protocol.md
promises for it: the reply's ``id``, and whether the server closes the connection instead.

The expectations are written down by the generator from the rules of the docs ("Frames"), not
by decoding the frame with the server's own decoder, so a server that reads ids wrongly fails.
"""

from __future__ import annotations

import asyncio
import json
import random
import string
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from realtime import protocol

# Values of the wrong type for each kind of field (``null`` is left out: optional fields take it).
WRONG = {
    "str": [5, 1.5, True, [], {}, ["a"], {"a": 1}],
    "int": ["7", 1.5, True, [], {}, "x"],
    "float": ["7", True, [], {}, "x"],
    "bool": ["yes", 1, 0, [], {}, "true"],
}


@dataclass(frozen=True)
class Frame:
    kind: str
    data: str | bytes
    expected_id: int | None  # the id of its reply (an error's is None when there is none to read)
    closes: bool = False  # the server must send disconnect and close with CLOSE_TOO_BIG
    malformed: bool = False  # the reply must be an error "malformed"
    connect: bool = False  # a valid connect: as the first frame, it is answered with connected


class Generator:
    """Frames of every kind the issue lists, drawn from a seeded ``random.Random``."""

    def __init__(
        self,
        rng: random.Random,
        *,
        party: str,
        channels: list[str],
        tokens: list[str],
        max_bytes: int,
    ) -> None:
        self.rng = rng
        self.party = party
        self.channels = channels
        self.tokens = tokens
        self.max_bytes = max_bytes
        self._kinds: list[tuple[Callable[[], Frame], int]] = [
            (self.garbage, 8),
            (self.truncated, 8),
            (self.deep, 6),
            (self.shallow, 6),
            (self.wrong_type, 12),
            (self.missing_field, 8),
            (self.unknown_type, 6),
            (self.unknown_action, 4),
            (self.odd_id, 6),
            (self.oversized, 1),
            (self.binary, 6),
            (self.nul, 8),
            (self.surrogate, 3),
            (self.valid, 18),
        ]

    def __call__(self) -> Frame:
        makers, weights = zip(*self._kinds, strict=True)
        return self.rng.choices(makers, weights)[0]()

    # Building blocks ----------------------------------------------------------------------------

    def request_id(self) -> int:
        return self.rng.choice([self.rng.randint(1, 10**6), self.rng.randint(1, 2**31), 0, -3])

    def text(self, low: int = 1, high: int = 20) -> str:
        alphabet = string.ascii_letters + string.digits + " ._-éü✓🔥"
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(low, high)))

    def channel(self) -> str:
        return self.rng.choice(
            [
                *self.channels,
                f"party:{self.party}",
                f"video:{uuid.uuid4().hex[:8]}",
                f"user:{uuid.uuid4()}",
                f"party:{uuid.uuid4()}",
                "lobby:1",
                "video:has space",
                "video:",
                "",
                "x" * self.rng.randint(60, 200),
            ]
        )

    def message(self) -> tuple[dict[str, Any], dict[str, str]]:
        """A valid client message (without ``id``) and the kinds of its required fields."""
        party = self.rng.choice([self.party, self.party, str(uuid.uuid4()), "nope"])
        position = self.rng.choice([None, 0.0, 12.5, -1.0, 1e9])
        choices: list[tuple[dict[str, Any], dict[str, str]]] = [
            ({"type": "ping"}, {}),
            ({"type": "subscribe", "channel": self.channel()}, {"channel": "str"}),
            ({"type": "unsubscribe", "channel": self.channel()}, {"channel": "str"}),
            ({"type": "presence", "channel": self.channel()}, {"channel": "str"}),
            ({"type": "refresh", "token": self.rng.choice([*self.tokens, "not-a-jwt"])}, {"token": "str"}),
            ({"type": "connect", "token": None}, {}),
            ({"type": "time_sync", "client_sent": self.rng.uniform(0, 2e12)}, {"client_sent": "float"}),
            ({"type": "party_get", "party": party}, {"party": "str"}),
            (
                {
                    "type": "party_command",
                    "party": party,
                    "action": self.rng.choice(["play", "pause", "seek", "rate", "video"]),
                    "version": self.rng.randint(0, 50),
                    "position": position,
                    "rate": self.rng.choice([None, 1.0, 0.1, 2.0]),
                    "video_id": self.rng.choice([None, str(uuid.uuid4()), "x"]),
                },
                {"party": "str", "action": "str", "version": "int"},
            ),
            (
                {
                    "type": "party_status",
                    "party": party,
                    "buffering": self.rng.random() < 0.2,
                    "rtt_ms": self.rng.choice([None, 40.0, -5.0, 1e6]),
                },
                {"party": "str"},
            ),
            ({"type": "party_chat", "party": party, "text": self.text()}, {"party": "str", "text": "str"}),
            ({"type": "party_react", "party": party, "emoji": "🔥"}, {"party": "str", "emoji": "str"}),
        ]
        body, required = self.rng.choice(choices)
        if position is not None and body["type"] in {"party_chat", "party_react"}:
            body["position"] = position
        return body, required

    def with_id(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        request_id = self.request_id()
        return {**body, "id": request_id}, request_id

    @staticmethod
    def encode(body: Any) -> str:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    # The kinds of frames ------------------------------------------------------------------------

    def garbage(self) -> Frame:
        alphabet = "abcxyz0123456789 :,\"'[]\\\n\t%$#@!?ü✓"  # no "{": never a JSON object
        data = "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(0, 80)))
        return Frame("garbage", data, None, malformed=True)

    def truncated(self) -> Frame:
        body, _ = self.message()
        whole = self.encode(self.with_id(body)[0])
        return Frame("truncated", whole[: self.rng.randint(0, len(whole) - 1)], None, malformed=True)

    def deep(self) -> Frame:
        depth = self.rng.randint(1500, 3500)
        nest = min(depth, (self.max_bytes - 64) // 6)  # an object level takes 6 bytes: stay in the limit
        shapes = [
            "[" * depth + "]" * depth,
            "[" * depth,
            '{"a":' * nest + "1" + "}" * nest,
            '{"type":"ping","id":7,"pad":' + "[" * depth + "]" * depth + "}",
            '{"type":"teleport","id":7,"pad":' + '{"a":' * nest + "1" + "}" * nest + "}",
        ]
        return Frame("deep", self.rng.choice(shapes), None, malformed=True)

    def shallow(self) -> Frame:
        body, _ = self.message()
        depth = self.rng.randint(1, 30)
        body, request_id = self.with_id({**body, "pad": json.loads("[" * depth + "1" + "]" * depth)})
        return Frame("shallow", self.encode(body), request_id, connect=body["type"] == "connect")

    def wrong_type(self) -> Frame:
        body, required = self.message()
        if not required:
            body, required = {"type": "time_sync", "client_sent": 1.0}, {"client_sent": "float"}
        name = self.rng.choice(sorted(required))
        body, request_id = self.with_id({**body, name: self.rng.choice(WRONG[required[name]])})
        return Frame("wrong_type", self.encode(body), request_id, malformed=True)

    def missing_field(self) -> Frame:
        body, required = self.message()
        if not required:
            body, required = {"type": "subscribe", "channel": "video:1"}, {"channel": "str"}
        name = self.rng.choice(sorted(required))
        body, request_id = self.with_id({k: v for k, v in body.items() if k != name})
        return Frame("missing_field", self.encode(body), request_id, malformed=True)

    def unknown_type(self) -> Frame:
        body, _ = self.message()
        kind = self.rng.choice(["teleport", "PING", "", "party_", "connected", "error", 5, None, []])
        if self.rng.random() < 0.2:
            body = {k: v for k, v in body.items() if k != "type"}  # no type at all
        else:
            body = {**body, "type": kind}
        body, request_id = self.with_id(body)
        return Frame("unknown_type", self.encode(body), request_id, malformed=True)

    def unknown_action(self) -> Frame:
        action = self.rng.choice(["dance", "PLAY", "", "stop", "rewind"])
        body, request_id = self.with_id(
            {"type": "party_command", "party": self.party, "action": action, "version": 1}
        )
        return Frame("unknown_action", self.encode(body), request_id, malformed=True)

    def odd_id(self) -> Frame:
        """Ids the server must echo (any integer) and ids it cannot read (anything else)."""
        body, _ = self.message()
        if self.rng.random() < 0.5:
            request_id = self.rng.choice([2**63, 2**70 + 5, -(2**40), 10**30])
            connect = body["type"] == "connect"
            return Frame("odd_id", self.encode({**body, "id": request_id}), request_id, connect=connect)
        odd = self.rng.choice(["7", 7.5, True, False, None, [], {}, "", 1e3])
        return Frame("odd_id", self.encode({**body, "id": odd}), None, malformed=True)

    def oversized(self) -> Frame:
        pad = "x" * self.rng.randint(self.max_bytes, self.max_bytes * 3)
        data = self.encode({"type": "ping", "id": self.request_id(), "pad": pad})
        return Frame("oversized", data.encode() if self.rng.random() < 0.3 else data, None, closes=True)

    def binary(self) -> Frame:
        if self.rng.random() < 0.5:
            body, _ = self.message()
            data = self.encode(self.with_id(body)[0]).encode()
        else:
            data = self.rng.randbytes(self.rng.randint(0, 200))
        return Frame("binary", data, None)

    def nul(self) -> Frame:
        """NUL in a string: escaped, it is valid JSON the server must answer; raw, it is not JSON."""
        body = self.message()[0]
        strings = [k for k, v in body.items() if isinstance(v, str) and k != "type"]
        if not strings:
            body, strings = {"type": "party_chat", "party": self.party, "text": "hi"}, ["text"]
        name = self.rng.choice(strings)
        value = body[name]
        cut = self.rng.randint(0, len(value))
        body, request_id = self.with_id({**body, name: value[:cut] + "\x00" + value[cut:]})
        escaped = json.dumps(body, separators=(",", ":"))  # ASCII: the NUL as \\u0000
        if self.rng.random() < 0.7:
            return Frame("nul", escaped, request_id)
        return Frame("nul", escaped.replace("\\u0000", "\x00"), None, malformed=True)

    def surrogate(self) -> Frame:
        """An unpaired surrogate escape is not valid Unicode: malformed, and the id unread."""
        body = self.with_id({"type": "party_chat", "party": self.party, "text": "@"})[0]
        return Frame("surrogate", self.encode(body).replace("@", "\\ud800"), None, malformed=True)

    def valid(self) -> Frame:
        body, request_id = self.with_id(self.message()[0])
        if self.rng.random() < 0.1:  # no id at all: the reply carries the default, 0
            del body["id"]
            request_id = 0
        return Frame("valid", self.encode(body), request_id, connect=body["type"] == "connect")


def reconnects(code: int) -> bool:
    """What ``disconnect.reconnect`` must say: the docs' reconnect ranges (Centrifugo's)."""
    return 3000 <= code < 3500 or 4000 <= code < 4500


# Server messages that are not replies: they may come between a frame and its answer.
EVENTS = (protocol.Publication, protocol.Event, protocol.Join, protocol.Leave, protocol.PartyReaction)


@dataclass
class Tally:
    """What the fuzz did and saw, to print (the lead quotes it) and to assert on."""

    frames: Counter[str] = field(default_factory=Counter)  # sent, by kind
    replies: Counter[str] = field(default_factory=Counter)  # answers, by type (errors by code)
    closes: Counter[int] = field(default_factory=Counter)  # by close code
    wrong: list[str] = field(default_factory=list)  # answers that break a promise of the docs
    chats: int = 0  # party_chat messages stored (each must reach the innocent client)

    def summary(self) -> dict[str, Any]:
        errors = {k: v for k, v in self.replies.items() if k.startswith("error:")}
        return {
            "frames_sent": sum(self.frames.values()),
            "frames_by_kind": dict(sorted(self.frames.items())),
            "errors_received": sum(errors.values()),
            "errors_by_code": dict(sorted(errors.items())),
            "other_replies": sum(self.replies.values()) - sum(errors.values()),
            "closes_by_code": dict(sorted(self.closes.items())),
            "broken_promises": len(self.wrong),
            "chats_stored": self.chats,
        }


class Fuzzer:
    """One signed-in connection sending frames one at a time and checking each answer."""

    def __init__(self, url: str, token: str, party: str, tally: Tally) -> None:
        self.url = url
        self.token = token
        self.party = party
        self.tally = tally
        self.socket: ClientConnection | None = None

    async def open(self) -> None:
        self.socket = await websockets.connect(self.url, max_size=None, ping_interval=None)
        for message in (
            protocol.Connect(id=1, token=self.token),
            protocol.Subscribe(id=2, channel=f"party:{self.party}"),
        ):
            await self.socket.send(protocol.encoder.encode(message).decode())
            reply = await self._answer()
            assert isinstance(reply, protocol.Connected | protocol.Subscribed), reply

    async def _answer(self) -> protocol.ServerMessage | int:
        """The next reply, skipping events; once the server closes, the close code."""
        assert self.socket is not None
        goodbye: protocol.Disconnect | None = None
        while True:
            try:
                raw = await asyncio.wait_for(self.socket.recv(), 30)
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
                if goodbye is None or (goodbye.code, goodbye.reconnect) != (code, reconnects(code)):
                    self.tally.wrong.append(f"close {code} after {goodbye}")
                return code
            message = protocol.server_decoder.decode(raw)
            if isinstance(message, protocol.Disconnect):
                goodbye = message
            elif not isinstance(message, EVENTS):
                return message

    async def send(self, frame: Frame) -> None:
        if self.socket is None:
            await self.open()
        assert self.socket is not None
        self.tally.frames[frame.kind] += 1
        await self.socket.send(frame.data)
        answer = await self._answer()
        if isinstance(answer, int):
            self.tally.closes[answer] += 1
            if not (frame.closes and answer == protocol.CLOSE_TOO_BIG):
                self.tally.wrong.append(f"{frame.kind} {frame.data[:200]!r}: closed with {answer}")
            self.socket = None  # the next frame goes over a new connection
            return
        name = f"error:{answer.code}" if isinstance(answer, protocol.Error) else answer.__struct_config__.tag
        self.tally.replies[str(name)] += 1
        if isinstance(answer, protocol.PartySent) and answer.message_id is not None:
            self.tally.chats += 1
        expected = (frame.expected_id, "malformed" if frame.malformed else None)
        got = (getattr(answer, "id", None), answer.code if isinstance(answer, protocol.Error) else None)
        if frame.closes or got[0] != expected[0] or (frame.malformed and got[1] != "malformed"):
            self.tally.wrong.append(f"{frame.kind} {frame.data[:200]!r}: {answer!r}")
        if frame.kind == "binary" and got != (None, "binary_frame"):
            self.tally.wrong.append(f"binary {frame.data[:50]!r}: {answer!r}")

    async def first(self, frame: Frame) -> None:
        """``frame`` as the first frame of a new connection: a valid connect is answered with
        connected; anything else gets disconnect and the close (4509 if oversized, else 4501)."""
        self.tally.frames[f"first:{frame.kind}"] += 1
        async with websockets.connect(self.url, max_size=None, ping_interval=None) as socket:
            await socket.send(frame.data)
            goodbye: protocol.Disconnect | None = None
            while True:
                try:
                    message = protocol.server_decoder.decode(await asyncio.wait_for(socket.recv(), 30))
                except websockets.ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd is not None else 1006
                    break
                if isinstance(message, protocol.Disconnect):
                    goodbye = message
                    continue
                self.tally.replies[f"first:{message.__struct_config__.tag}"] += 1
                if (
                    not (frame.connect and isinstance(message, protocol.Connected))
                    or message.id != frame.expected_id
                ):
                    self.tally.wrong.append(f"first {frame.kind} {frame.data[:200]!r}: {message!r}")
                return
        self.tally.closes[code] += 1
        expected = protocol.CLOSE_TOO_BIG if frame.closes else protocol.CLOSE_PROTOCOL_ERROR
        if frame.connect or code != expected or goodbye is None or goodbye.code != code or goodbye.reconnect:
            self.tally.wrong.append(f"first {frame.kind} {frame.data[:200]!r}: closed {code} after {goodbye}")

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
