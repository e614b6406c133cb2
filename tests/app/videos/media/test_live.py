"""An uploader watching their own ``user:`` channel over the websocket (a real server process)
sees the transcode progress as ``event`` frames and each status as a recoverable publication."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import msgspec
import pytest

from clients.websocket import Client
from core.settings import Settings
from media.testclips import make_test_clip
from realtime import protocol
from tests.processes import ServerProcess
from tests.users import person


@pytest.fixture(scope="module")
async def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    await make_test_clip(path, seconds=6, width=640, height=360)
    return path.read_bytes()


async def test_the_uploader_sees_progress_and_status_live(
    settings: Settings, clip: bytes, tmp_path: Path
) -> None:
    server = ServerProcess(msgspec.structs.replace(settings, storage_url=tmp_path.as_uri()))
    await server.start()
    try:
        owner = await person(settings)
        client, _ = await Client.connect(server.ws_url, owner.token)
        await client.subscribe(f"user:{owner.id}")
        async with httpx.AsyncClient(base_url=server.http_url, headers=owner.headers) as http:
            video = (await http.post("/videos", json={"title": "live"})).json()["id"]
            assert (await http.put(f"/videos/{video}/media", content=clip)).status_code == 202
            statuses: list[str] = []
            progress: list[dict[str, object]] = []
            async with asyncio.timeout(60):
                while "ready" not in statuses and "failed" not in statuses:
                    message = await client.events.get()
                    if isinstance(message, protocol.Event):
                        assert message.channel == f"user:{owner.id}"
                        progress.append(msgspec.json.decode(message.data))
                    elif isinstance(message, protocol.Publication):
                        event = msgspec.json.decode(message.data)
                        if event["type"] == "media.status" and event["video_id"] == video:
                            statuses.append(event["status"])
            playable = (await http.get(f"/videos/{video}/playback")).status_code
        await client.close()
    finally:
        await server.stop()

    assert statuses == ["uploaded", "processing", "ready"]
    assert playable == 200
    assert progress and all(p["type"] == "media.progress" and p["video_id"] == video for p in progress)
    assert [p["fraction"] for p in progress if p["stage"] == "storing"][-1] == 1.0
