"""Record real `/ws` frame sequences for the web client's tests.

Starts `mydrtv dev` on its own data directory and ports, drives it with plain websockets and
REST calls the way any client would, and writes each conversation (frames sent and received, the
close code) to `web/src/realtime/__fixtures__/<scenario>.json`. Tokens and other secrets are
replaced by placeholders, so the fixtures hold nothing that would sign anyone in.

Run from the repository root: `.venv/bin/python web/scripts/record_realtime_frames.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "web" / "src" / "realtime" / "__fixtures__"
PASSWORD = "correct horse battery staple"
# The party client's clock runs this far behind the server's (same machine), for the clock test.
CLIENT_CLOCK_BEHIND_MS = 1234.5


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (held open together, so none is handed out twice)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


class Redactor:
    """Replaces each secret with a stable placeholder (`<token-1>`, ...)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def add(self, secret: str, kind: str) -> None:
        if secret not in self.names:
            count = sum(1 for name in self.names.values() if name.startswith(f"<{kind}-"))
            self.names[secret] = f"<{kind}-{count + 1}>"

    def apply(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.names.get(value, value)
        if isinstance(value, list):
            return [self.apply(item) for item in value]
        if isinstance(value, dict):
            return {key: self.apply(item) for key, item in value.items()}
        return value


REDACT = Redactor()


class Recording:
    """One conversation on one socket: every frame with its direction and time."""

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description
        self.frames: list[dict[str, Any]] = []
        self.start = time.monotonic()
        self.close: dict[str, Any] | None = None

    def note(self, direction: str, frame: Any) -> None:
        at = round((time.monotonic() - self.start) * 1000, 3)
        # The wall clock as the recorder's party client reads it (1234.5 ms behind), so a test can
        # redo the clock exchanges with t4 as it was: stamped once the answer had arrived.
        client_ms = round(time.time_ns() / 1e6 - CLIENT_CLOCK_BEHIND_MS, 3)
        self.frames.append({"dir": direction, "at_ms": at, "client_ms": client_ms, "frame": frame})

    def write(self) -> None:
        FIXTURES.mkdir(parents=True, exist_ok=True)
        body = {
            "scenario": self.name,
            "description": self.description,
            "recorded_from": "mydrtv dev (web/scripts/record_realtime_frames.py)",
            "frames": REDACT.apply(self.frames),
            "close": self.close,
        }
        path = FIXTURES / f"{self.name}.json"
        path.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {path.relative_to(ROOT)} ({len(self.frames)} frames)")


class Conn:
    """A raw websocket whose every frame goes into a recording."""

    def __init__(self, socket: ClientConnection, recording: Recording) -> None:
        self.socket = socket
        self.rec = recording
        self.received: list[dict[str, Any]] = []

    async def send(self, frame: dict[str, Any]) -> None:
        self.rec.note("send", frame)
        await self.socket.send(json.dumps(frame))

    async def recv(self, within: float = 10.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.socket.recv(), within)
        frame: dict[str, Any] = json.loads(raw)
        self.rec.note("recv", frame)
        self.received.append(frame)
        return frame

    async def until(self, predicate: Any, within: float = 10.0, since: int | None = None) -> dict[str, Any]:
        """Receive (and record) frames until one matches; with ``since``, frames already received
        from that index on count too (an event may come before the reply it follows)."""
        if since is not None:
            for frame in self.received[since:]:
                if predicate(frame):
                    return frame
        async with asyncio.timeout(within):
            while True:
                frame = await self.recv(within)
                if predicate(frame):
                    return frame

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        await self.send(frame)
        return await self.until(lambda f: f.get("id") == frame["id"])

    async def closed(self, within: float = 15.0) -> None:
        """Record every frame until the server closes, then the close code."""
        with contextlib.suppress(websockets.ConnectionClosed):
            async with asyncio.timeout(within):
                while True:
                    await self.recv(within)
        self.rec.close = {"code": self.socket.close_code, "reason": self.socket.close_reason}

    async def finish(self) -> None:
        await self.socket.close()
        self.rec.close = {"code": self.socket.close_code, "reason": self.socket.close_reason}


@contextlib.asynccontextmanager
async def conn(url: str, recording: Recording) -> AsyncIterator[Conn]:
    async with websockets.connect(url) as socket:
        yield Conn(socket, recording)


class Server:
    """`mydrtv dev` in a child process with its own data directory and ports."""

    def __init__(self, data_dir: Path) -> None:
        self.port, postgres_port, redis_port = free_ports(3)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MYDRTV_")}
        self.env.update(
            MYDRTV_PORT=str(self.port),
            MYDRTV_DATA_DIR=str(data_dir),
            MYDRTV_EMBEDDED_POSTGRES_PORT=str(postgres_port),
            MYDRTV_EMBEDDED_REDIS_PORT=str(redis_port),
            MYDRTV_JWT_SECRET=secrets.token_hex(32),
            MYDRTV_LOG_LEVEL="INFO",
        )
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "dev", env=self.env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
        )
        assert self.process.stderr is not None
        async with asyncio.timeout(180):
            async for raw in self.process.stderr:
                line = raw.decode(errors="replace")
                self.lines.append(line)
                if "Uvicorn running on" in line:
                    break
            else:
                raise RuntimeError("server exited:\n" + "".join(self.lines[-30:]))
        asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace"))

    def terminate(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)

    async def wait(self) -> None:
        assert self.process is not None
        await asyncio.wait_for(self.process.wait(), 60)


async def sign_up(http: httpx.AsyncClient, handle: str) -> dict[str, Any]:
    body = {"email": f"{handle}@example.org", "password": PASSWORD, "handle": handle}
    user = (await http.post("/accounts", json=body)).raise_for_status().json()
    tokens = (
        (
            await http.post(
                "/auth/token",
                data={"grant_type": "password", "username": body["email"], "password": PASSWORD},
            )
        )
        .raise_for_status()
        .json()
    )
    REDACT.add(tokens["access_token"], "token")
    REDACT.add(tokens["refresh_token"], "refresh")
    return {"user": user, **tokens}


async def refreshed(http: httpx.AsyncClient, account: dict[str, Any]) -> str:
    reply = await http.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": account["refresh_token"]}
    )
    tokens = reply.raise_for_status().json()
    REDACT.add(tokens["access_token"], "token")
    REDACT.add(tokens["refresh_token"], "refresh")
    account["refresh_token"] = tokens["refresh_token"]
    return str(tokens["access_token"])


def auth(account: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['access_token']}"}


async def comment(http: httpx.AsyncClient, account: dict[str, Any], video: str, body: str) -> dict[str, Any]:
    reply = await http.post(f"/videos/{video}/comments", json={"body": body}, headers=auth(account))
    return dict(reply.raise_for_status().json())


async def record_video_channel(
    server: Server, http: httpx.AsyncClient, ada: dict[str, Any], video: str
) -> None:
    rec = Recording(
        "video-channel",
        "anonymous connect, subscribe to a video, live comment/edit/rating/removal, presence, ping, errors",
    )
    channel = f"video:{video}"
    async with conn(server.ws, rec) as ws:
        await ws.request({"type": "connect", "id": 1, "token": None})
        await ws.request({"type": "subscribe", "id": 2, "channel": channel})
        created = await comment(http, ada, video, "what a goal")
        await ws.until(lambda f: f.get("type") == "publication")
        edit = await http.patch(
            f"/comments/{created['id']}", json={"body": "what a goal!"}, headers=auth(ada)
        )
        edit.raise_for_status()
        await ws.until(lambda f: f.get("type") == "publication")
        rate = await http.put(f"/videos/{video}/rating", json={"stars": 4}, headers=auth(ada))
        rate.raise_for_status()
        await ws.until(lambda f: f.get("type") == "publication" and f["data"].get("type") == "rating")
        (await http.delete(f"/comments/{created['id']}", headers=auth(ada))).raise_for_status()
        await ws.until(
            lambda f: f.get("type") == "publication" and f["data"].get("type") == "comment.removed"
        )
        await ws.request({"type": "presence", "id": 3, "channel": channel})
        await ws.request({"type": "ping", "id": 4})
        await ws.request({"type": "subscribe", "id": 5, "channel": "video:not a channel!"})
        await ws.request({"type": "subscribe", "id": 6, "channel": channel})
        await ws.request({"type": "subscribe", "id": 7, "channel": f"user:{ada['user']['id']}"})
        await ws.request({"type": "nonsense", "id": 8})
        await ws.request({"type": "unsubscribe", "id": 9, "channel": channel})
        await ws.finish()
    rec.write()


async def record_recovery(server: Server, http: httpx.AsyncClient, ada: dict[str, Any], video: str) -> None:
    channel = f"video:{video}"
    first = Recording(
        "recover-before", "signed-in subscribe with own join, one publication, then the socket drops"
    )
    async with conn(server.ws, first) as ws:
        await ws.request({"type": "connect", "id": 1, "token": ada["access_token"]})
        await ws.request({"type": "subscribe", "id": 2, "channel": channel})
        await ws.until(lambda f: f.get("type") == "join")
        await comment(http, ada, video, "first")
        last = await ws.until(lambda f: f.get("type") == "publication")
        await ws.finish()
    first.write()
    # Comments reach the channel through the outbox, a moment after they commit: an unrecorded
    # watcher sees both published before the recorded client comes back for them.
    async with conn(server.ws, Recording("watcher", "not written")) as watcher:
        await watcher.request({"type": "connect", "id": 1, "token": None})
        await watcher.request({"type": "subscribe", "id": 2, "channel": channel})
        await comment(http, ada, video, "missed one")
        await comment(http, ada, video, "missed two")
        await watcher.until(lambda f: f.get("type") == "publication" and f["offset"] == last["offset"] + 2)
    second = Recording(
        "recover-after", "reconnect and subscribe with recover: recovered true with the missed ones"
    )
    async with conn(server.ws, second) as ws:
        await ws.request({"type": "connect", "id": 1, "token": ada["access_token"]})
        recover = {"epoch": last["epoch"], "offset": last["offset"]}
        await ws.request({"type": "subscribe", "id": 2, "channel": channel, "recover": recover})
        await ws.until(lambda f: f.get("type") == "join")
        await ws.finish()
    second.write()
    third = Recording("recover-failed", "subscribe with recover from an epoch the server does not have")
    async with conn(server.ws, third) as ws:
        await ws.request({"type": "connect", "id": 1, "token": None})
        recover = {"epoch": "000000000000", "offset": 3}
        await ws.request({"type": "subscribe", "id": 2, "channel": channel, "recover": recover})
        await ws.finish()
    third.write()


async def record_user_channel(server: Server, http: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    rec = Recording(
        "user-channel", "signed-in connect, own user channel, token refresh, refresh by another user"
    )
    bob = await sign_up(http, "bob_rec")
    async with conn(server.ws, rec) as ws:
        await ws.request({"type": "connect", "id": 1, "token": ada["access_token"]})
        await ws.request({"type": "subscribe", "id": 2, "channel": f"user:{ada['user']['id']}"})
        await ws.until(lambda f: f.get("type") == "join")
        new_token = await refreshed(http, ada)
        ada["access_token"] = new_token
        await ws.request({"type": "refresh", "id": 3, "token": new_token})
        await ws.request({"type": "refresh", "id": 4, "token": bob["access_token"]})
        await ws.request({"type": "refresh", "id": 5, "token": "not-a-jwt"})
        await ws.finish()
    rec.write()


async def record_terminal(server: Server) -> None:
    bad = Recording("terminal-invalid-token", "connect with a token the server refuses: disconnect 4500")
    async with conn(server.ws, bad) as ws:
        await ws.send({"type": "connect", "id": 1, "token": "not-a-jwt"})
        await ws.closed()
    bad.write()
    first = Recording("terminal-bad-first-frame", "a first frame that is not connect: disconnect 4501")
    async with conn(server.ws, first) as ws:
        await ws.send({"type": "ping", "id": 1})
        await ws.closed()
    first.write()


async def record_party(
    server: Server, http: httpx.AsyncClient, ada: dict[str, Any], video: str
) -> dict[str, Any]:
    bob = await sign_up(http, "bob_party")
    created = await http.post(
        "/parties", json={"video_id": video, "visibility": "private", "control": "host"}, headers=auth(ada)
    )
    party: dict[str, Any] = created.raise_for_status().json()
    REDACT.add(party["invite"], "invite")
    joined = await http.post(
        f"/parties/{party['id']}/join", json={"invite": party["invite"]}, headers=auth(bob)
    )
    joined.raise_for_status()
    rec = Recording(
        "party",
        "host connects, subscribes to a party, clock exchanges, status, get, play/seek/rate/pause, stale "
        "version, chat, reaction, presence",
    )
    channel = party["channel"]
    pid = party["id"]
    async with conn(server.ws, rec) as ws:
        await ws.request({"type": "connect", "id": 1, "token": ada["access_token"]})
        await ws.request({"type": "subscribe", "id": 2, "channel": channel})
        await ws.until(lambda f: f.get("type") == "join")
        next_id = 3
        for _ in range(4):
            client_sent = time.time_ns() / 1e6 - CLIENT_CLOCK_BEHIND_MS
            await ws.request({"type": "time_sync", "id": next_id, "client_sent": round(client_sent, 3)})
            next_id += 1
        state = await ws.request(
            {"type": "party_status", "id": next_id, "party": pid, "buffering": False, "rtt_ms": 12.0}
        )
        next_id += 1
        state = await ws.request({"type": "party_get", "id": next_id, "party": pid})
        next_id += 1
        version = state["state"]["playback"]["version"]
        for command in (
            {"action": "play"},
            {"action": "seek", "position": 12.5},
            {"action": "rate", "rate": 1.5},
            {"action": "pause"},
        ):
            mark = len(ws.received)
            reply = await ws.request(
                {"type": "party_command", "id": next_id, "party": pid, "version": version, **command}
            )
            next_id += 1
            version = reply["state"]["playback"]["version"]
            revision = reply["state"]["revision"]
            await ws.until(
                lambda f, revision=revision: (
                    f.get("type") == "publication"
                    and f["data"].get("type") == "party.state"
                    and f["data"]["state"]["revision"] >= revision
                ),
                since=mark,
            )
        await ws.request(
            {"type": "party_command", "id": next_id, "party": pid, "version": version - 1, "action": "play"}
        )
        next_id += 1
        mark = len(ws.received)
        await ws.request({"type": "party_chat", "id": next_id, "party": pid, "text": "hello party"})
        next_id += 1
        await ws.until(
            lambda f: f.get("type") == "publication" and f["data"].get("type") == "party.chat", since=mark
        )
        mark = len(ws.received)
        await ws.request({"type": "party_react", "id": next_id, "party": pid, "emoji": "🎉", "position": 3.0})
        next_id += 1
        await ws.until(lambda f: f.get("type") == "party_reaction", since=mark)
        await ws.request({"type": "presence", "id": next_id, "channel": channel})
        await ws.finish()
    rec.write()
    return party


async def record_shutdown(server: Server, ada: dict[str, Any], video: str) -> None:
    rec = Recording("shutdown", "the server shuts down: disconnect 4001 with reconnect true, then the close")
    async with conn(server.ws, rec) as ws:
        await ws.request({"type": "connect", "id": 1, "token": ada["access_token"]})
        await ws.request({"type": "subscribe", "id": 2, "channel": f"video:{video}"})
        await ws.until(lambda f: f.get("type") == "join")
        server.terminate()
        await ws.closed()
    rec.write()


async def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="mydrtv-record-"))
    server = Server(data_dir)
    try:
        await server.start()
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
            ada = await sign_up(http, "ada_rec")
            video = (await http.post("/videos", json={"title": "The final"}, headers=auth(ada))).json()["id"]
            await record_video_channel(server, http, ada, video)
            await record_recovery(server, http, ada, video)
            await record_user_channel(server, http, ada)
            await record_terminal(server)
            await record_party(server, http, ada, video)
            await record_shutdown(server, ada, video)
        await server.wait()
    finally:
        if server.process is not None and server.process.returncode is None:
            server.terminate()
            await server.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    leaked = [p for p in FIXTURES.glob("*.json") if re.search(r"eyJ[A-Za-z0-9_-]{10,}", p.read_text())]
    if leaked:
        raise SystemExit(f"a token was left in {leaked}")
    format_fixtures()


def format_fixtures() -> None:
    """Leave the fixtures as `npm run lint` (prettier --check) wants them."""
    prettier = ROOT / "web" / "node_modules" / ".bin" / "prettier"
    if not prettier.exists():
        print("no web/node_modules/.bin/prettier: run `npm ci` in web/, then prettier --write the fixtures")
        return
    subprocess.run([str(prettier), "--write", str(FIXTURES)], cwd=ROOT / "web", check=True)


if __name__ == "__main__":
    asyncio.run(main())
