"""Notifications live on ``user:{id}``, against real server processes: every session of the user
sees them and the unread count change, and a gateway's kill -9 loses and doubles nothing."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
import msgspec
import pytest

from clients.websocket import Client
from core.db import Database
from core.settings import Settings
from realtime import protocol
from support.processes import ServerProcess, http_clients, instances
from tests.app.video_helpers import roomy
from tests.users import Person, person


@pytest.fixture(scope="module")
def live_settings(settings: Settings) -> Settings:
    return roomy(settings)


def event(publication: protocol.Publication) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.json.decode(publication.data)
    return data


async def session(server: ServerProcess, who: Person) -> Client:
    client, _ = await Client.connect(server.ws_url, who.token)
    await client.subscribe(f"user:{who.id}")
    return client


async def next_events(client: Client, count: int) -> list[dict[str, Any]]:
    """The next ``count`` notification events (the channel carries feed items too)."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        data = event(await client.publication(within=10))
        if data["type"].startswith("notification."):
            found.append(data)
    return found


async def test_every_session_sees_notifications_and_the_unread_count_change(live_settings: Settings) -> None:
    me, ana, bo = [await person(live_settings) for _ in range(3)]
    async with instances(live_settings) as servers, http_clients(servers) as rest:
        sessions = [await session(server, me) for server in servers]
        assert (await rest[0].put(f"/me/following/{ana.id}", headers=me.headers)).status_code == 204
        assert (await rest[0].put(f"/me/following/{me.id}", headers=ana.headers)).status_code == 204
        seen = [await next_events(s, 2) for s in sessions]
        assert seen[0] == seen[1]
        created, count = seen[0]
        assert created["type"] == "notification.created" and count == {
            "type": "notification.unread",
            "count": 1,
        }
        note = created["notification"]
        # Live events name actors by handle; the display name is filled in by the page only.
        actors = [{"id": str(ana.id), "handle": ana.handle, "display_name": None}]
        assert note["kind"] == "friend" and note["actors"] == actors

        read = await rest[1].post(f"/me/notifications/{note['id']}/read", headers=me.headers)
        assert read.json() == {"count": 0}
        for s in sessions:
            assert await next_events(s, 2) == [
                {"type": "notification.read", "ids": [note["id"]], "up_to": None},
                {"type": "notification.unread", "count": 0},
            ]

        # Undone before it is read: withdrawn, and the count goes back.
        assert (await rest[1].put(f"/me/following/{me.id}", headers=bo.headers)).status_code == 204
        assert (await rest[0].delete(f"/me/following/{me.id}", headers=bo.headers)).status_code == 204
        for s in sessions:
            created, up, withdrawn, down = await next_events(s, 4)
            assert created["type"] == "notification.created" and up["count"] == 1
            assert withdrawn == {"type": "notification.withdrawn", "id": created["notification"]["id"]}
            assert down == {"type": "notification.unread", "count": 0}
        for s in sessions:
            await s.close()


async def _act(rest: list[httpx.AsyncClient], n: int, actor: Person, me: Person, video: str) -> None:
    """One action that notifies ``me``, alternately a mention and a follow (which groups), through
    whichever instance is up (the first is killed halfway)."""
    for client in rest if n % 2 else reversed(rest):
        try:
            if n % 3:
                body = {"body": f"hi @{me.handle} #{n}"}
                response = await client.post(f"/videos/{video}/comments", json=body, headers=actor.headers)
            else:
                response = await client.put(f"/me/following/{me.id}", headers=actor.headers)
        except httpx.TransportError:
            continue  # that instance is dead; the action did not happen there
        assert response.status_code in (201, 204), response.text
        return
    raise AssertionError("no instance answered")


async def test_a_gateways_kill_9_loses_and_doubles_no_notification(
    live_settings: Settings, db: Database
) -> None:
    me, owner = await person(live_settings), await person(live_settings)
    actors = [await person(live_settings) for _ in range(60)]
    doomed, survivor = ServerProcess(live_settings), ServerProcess(live_settings)
    await asyncio.gather(doomed.start(), survivor.start())
    async with http_clients([doomed, survivor]) as rest:
        video = (await rest[1].post("/videos", json={"title": "clip"}, headers=owner.headers)).json()["id"]
        client = await session(doomed, me)
        received: list[protocol.Publication] = []

        async def actions() -> None:
            for n, actor in enumerate(actors):
                await _act(rest, n, actor, me, video)

        acting = asyncio.create_task(actions())
        while len(received) < 30:  # halfway through, with events in flight
            received.append(await client.publication(within=10))
        await doomed.stop(signal.SIGKILL)
        await client.closed()
        while not client.events.empty():  # what reached the socket before it died
            message = client.events.get_nowait()
            if isinstance(message, protocol.Publication):
                received.append(message)
        await acting

        channel = f"user:{me.id}"
        committed = await db.fetch("SELECT count(*) AS n FROM outbox WHERE channel = {}", channel)
        again, _ = await Client.connect(survivor.ws_url, me.token)
        again.positions = {channel: protocol.Recover(received[-1].epoch, received[-1].offset)}
        reply = await again.subscribe(channel, recover=True)
        assert reply.recovered
        received += reply.publications
        while len(received) < committed[0]["n"]:
            received.append(await again.publication(within=10))
        await asyncio.sleep(0)
        await again.close()
    await survivor.stop()

    offsets = [p.offset for p in received]
    events = [event(p) for p in received]
    delivered_notes = {e["notification"]["id"] for e in events if e["type"] == "notification.created"}
    stored = await db.fetch("SELECT id, kind FROM notifications WHERE recipient_id = {}", me.id)
    print(
        f"\nkill -9 of the subscriber's gateway: {len(actors)} actions, {committed[0]['n']} events committed,"
        f" {len(received)} delivered ({len(set(offsets))} distinct); {len(stored)} notifications stored,"
        f" {len(delivered_notes)} announced"
    )
    assert offsets == list(range(1, committed[0]["n"] + 1)), offsets  # each once, in order, none lost
    assert delivered_notes == {row["id"] for row in stored}
    counts = [e["count"] for e in events if e["type"] == "notification.unread"]
    assert counts == list(range(1, len(stored) + 1))  # the count as each committed, never skipped
    follows = await db.fetch(
        "SELECT count(DISTINCT a.actor_id) AS n FROM notification_actors a JOIN notifications n"
        " ON n.id = a.notification_id WHERE n.recipient_id = {} AND n.kind = 'follow'",
        me.id,
    )
    assert follows[0]["n"] == len([n for n in range(len(actors)) if n % 3 == 0])
