"""Watch parties end to end: two real server processes on one Redis, reference party clients."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from app.parties.events import ChatPosted, MemberJoined
from clients.party import PartyClient
from clients.simulation import SimulatedPlayer, Traits
from clients.websocket import Client, ClientError
from core.settings import Settings
from realtime import protocol
from tests.processes import ServerProcess
from tests.users import Person, person

INSTANT = Traits(start_ms=(0.0, 0.0), pause_ms=(0.0, 0.0), seek_ms=(0.0, 0.0))
DURATION = 600.0


@pytest.fixture(scope="module")
async def instances(settings: Settings) -> AsyncIterator[list[ServerProcess]]:
    """Two gateway processes sharing one Redis and one database."""
    tuned = msgspec.structs.replace(settings, ws_message_rate="500/second", party_max_members=4)
    servers = [ServerProcess(tuned), ServerProcess(tuned)]
    await asyncio.gather(*(s.start() for s in servers))
    yield servers
    for server in servers:
        await server.stop()


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def video(settings: Settings, owner: Person, duration: float | None = DURATION) -> str:
    video_id = uuid.uuid4()
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "INSERT INTO videos (id, owner_id, title, status, duration_seconds)"
            " VALUES ($1, $2, 'film', 'ready', $3)",
            video_id,
            owner.id,
            duration,
        )
    finally:
        await connection.close()
    return str(video_id)


class Scene:
    """A party on the two instances: helpers to create, join and connect members."""

    def __init__(self, http: httpx.AsyncClient, instances: list[ServerProcess], settings: Settings) -> None:
        self.http = http
        self.instances = instances
        self.settings = settings
        self.clients: list[PartyClient] = []

    async def rest(self, method: str, path: str, who: Person, expect: int = 200, **body: Any) -> Any:
        response = await self.http.request(
            method, self.instances[0].http_url + path, headers=who.headers, json=body if body else None
        )
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    async def party(self, host: Person, **fields: Any) -> str:
        video_id = await video(self.settings, host)
        created = await self.rest("POST", "/parties", host, 201, video_id=video_id, **fields)
        return str(created["id"])

    async def connect(
        self, who: Person, party_id: str, instance: int, traits: Traits = INSTANT, **options: Any
    ) -> PartyClient:
        client, _ = await Client.connect(self.instances[instance].ws_url, who.token)
        member = PartyClient(client, party_id, SimulatedPlayer(traits, random.Random(1)), **options)
        await member.start()
        self.clients.append(member)
        return member

    async def close(self) -> None:
        for member in self.clients:
            await member.stop()
            await member.client.close()


@pytest.fixture
async def scene(
    http: httpx.AsyncClient, instances: list[ServerProcess], settings: Settings
) -> AsyncIterator[Scene]:
    made = Scene(http, instances, settings)
    yield made
    await made.close()


async def refused(
    member: PartyClient, code: str, action: protocol.PartyAction, **fields: Any
) -> protocol.Error:
    with pytest.raises(ClientError) as caught:
        await member.command(action, **fields)
    assert caught.value.error.code == code, caught.value.error
    return caught.value.error


async def test_members_on_two_instances_follow_one_party(scene: Scene, settings: Settings) -> None:
    host, guest = await person(settings), await person(settings)
    party_id = await scene.party(host)
    await scene.rest("POST", f"/parties/{party_id}/join", guest)
    ada = await scene.connect(host, party_id, 0)
    bob = await scene.connect(guest, party_id, 1)

    before = ada.server_now()
    assert before is not None
    played = await ada.command("play")
    assert played.playback.playing and played.playback.version == 2
    assert played.playback.at >= before + 500 - 5  # at least the start lead ahead (5 ms: clock sync)
    seen = await bob.until(lambda s: s.playback.version == 2)
    assert seen.playback == played.playback  # the same schedule, to the microsecond

    # Both players start when the schedule says, within a few milliseconds of each other.
    for member in (ada, bob):
        player = member.player
        assert isinstance(player, SimulatedPlayer)
        await player.until(lambda p: p.segments[-1].speed > 0)
    starts = [m.player.segments[-1].start for m in (ada, bob)]  # type: ignore[attr-defined]
    assert abs(starts[0] - starts[1]) < 50

    members = (await scene.rest("GET", f"/parties/{party_id}/members", guest))["items"]
    assert [(m["user"]["id"], m["host"], m["online"]) for m in members] == [
        (str(host.id), True, True),
        (str(guest.id), False, True),
    ]


async def test_host_only_control_and_handing_it_over(scene: Scene, settings: Settings) -> None:
    host, guest = await person(settings), await person(settings)
    party_id = await scene.party(host)
    await scene.rest("POST", f"/parties/{party_id}/join", guest)
    ada = await scene.connect(host, party_id, 0)
    bob = await scene.connect(guest, party_id, 1)
    error = await refused(bob, "not_host", "play")
    assert error.details == {"host": str(host.id)}

    changed = await scene.rest("PATCH", f"/parties/{party_id}", host, control="everyone")
    assert changed["state"]["control"] == "everyone"
    await bob.until(lambda s: s.control == "everyone")
    assert (await bob.command("play")).playback.playing

    await scene.rest("PATCH", f"/parties/{party_id}", host, control="host")
    handed = await scene.rest("PUT", f"/parties/{party_id}/host", host, user_id=str(guest.id))
    assert handed["state"]["host"] == str(guest.id)
    await ada.until(lambda s: s.host == str(guest.id))
    await refused(ada, "not_host", "pause")
    assert not (await bob.command("pause")).playback.playing
    # The former host cannot take control back while the new host is online.
    response = await scene.rest("PUT", f"/parties/{party_id}/host", host, 403, user_id=str(host.id))
    assert response["error"] == "not_host"


async def test_bad_commands_get_clear_errors(scene: Scene, settings: Settings) -> None:
    host, stranger = await person(settings), await person(settings)
    party_id = await scene.party(host)
    ada = await scene.connect(host, party_id, 0)

    error = await refused(ada, "seek_out_of_range", "seek", position=DURATION + 1)
    assert error.details == {"duration": DURATION}
    await refused(ada, "invalid_position", "seek", position=-3.0)
    error = await refused(ada, "invalid_rate", "rate", rate=-1.0)
    assert error.details == {"min": 0.25, "max": 4.0}
    await refused(ada, "invalid_command", "seek")
    await refused(ada, "video_not_found", "video", video_id=str(uuid.uuid4()))
    await ada.command("play")
    error = await refused(ada, "stale_version", "pause", version=1)
    assert error.details == {"version": 2}

    # A non-member: refused on the socket whether or not it tries to subscribe.
    outsider, _ = await Client.connect(scene.instances[1].ws_url, stranger.token)
    with pytest.raises(ClientError) as command:
        await outsider.request(protocol.PartyCommand(party=party_id, action="pause", version=2))
    assert command.value.error.code == "not_member"
    with pytest.raises(ClientError) as subscribe:
        await outsider.subscribe(f"party:{party_id}")
    assert subscribe.value.error.code == "forbidden"
    with pytest.raises(ClientError) as unknown:
        await outsider.request(protocol.PartyGet(party=str(uuid.uuid4())))
    assert unknown.value.error.code == "party_not_found"
    await outsider.socket.send('{"type":"party_command","party":"x","action":"rewind","version":1}')
    malformed = await asyncio.wait_for(outsider.events.get(), 5)
    assert isinstance(malformed, protocol.Error) and malformed.code == "malformed"
    await outsider.close()

    anonymous, _ = await Client.connect(scene.instances[0].ws_url)
    with pytest.raises(ClientError) as signed_out:
        await anonymous.request(protocol.PartyGet(party=party_id))
    assert signed_out.value.error.code == "unauthenticated"
    await anonymous.close()


async def test_a_late_joiner_starts_where_the_party_is(scene: Scene, settings: Settings) -> None:
    host, late = await person(settings), await person(settings)
    party_id = await scene.party(host)
    ada = await scene.connect(host, party_id, 0)
    await ada.command("seek", position=100.0)
    played = await ada.command("play")
    await ada.player.until(lambda p: p.segments[-1].speed > 0)  # type: ignore[attr-defined]
    # The party is playing when the late member arrives (joining, syncing the clock: > 0.2 s).
    await scene.rest("POST", f"/parties/{party_id}/join", late)
    carol = await scene.connect(late, party_id, 1)
    player = carol.player
    assert isinstance(player, SimulatedPlayer)
    await player.until(lambda p: p.segments[-1].speed > 0)
    now = carol.server_now()
    assert now is not None
    assert player.position() > 100.2
    assert player.position() == pytest.approx(played.playback.position_at(now), abs=0.02)


async def test_the_host_leaving_hands_control_on_and_the_last_one_out_ends_the_party(
    scene: Scene, settings: Settings
) -> None:
    host, first, second = [await person(settings) for _ in range(3)]
    party_id = await scene.party(host)
    for who in (first, second):
        await scene.rest("POST", f"/parties/{party_id}/join", who)
    host_client = await scene.connect(host, party_id, 0)
    second_client = await scene.connect(second, party_id, 1)  # online; ``first`` is not

    await scene.rest("POST", f"/parties/{party_id}/leave", host, 204)
    handed = await second_client.until(lambda s: s.host != str(host.id))
    assert handed.host == str(second.id)  # the longest-standing member who is online
    assert [m.id for m in handed.members] == [str(first.id), str(second.id)]
    assert (await second_client.command("play")).playback.playing
    # The former host's socket is still subscribed, but no longer a member's.
    with pytest.raises(ClientError) as gone:
        await host_client.get()
    assert gone.value.error.code == "not_member"
    await refused(host_client, "not_member", "pause", version=handed.playback.version + 1)

    await scene.rest("POST", f"/parties/{party_id}/leave", first, 204)
    await scene.rest("POST", f"/parties/{party_id}/leave", second, 204)
    gone = await scene.rest("GET", f"/parties/{party_id}", second, 404)
    assert gone["error"] == "party_not_found"
    again = await scene.rest("POST", f"/parties/{party_id}/join", host, 409)
    assert again["error"] == "party_ended"


async def test_buffering_disconnect_and_reconnect(scene: Scene, settings: Settings) -> None:
    host, guest = await person(settings), await person(settings)
    party_id = await scene.party(host)
    await scene.rest("POST", f"/parties/{party_id}/join", guest)
    ada = await scene.connect(host, party_id, 0)
    stalling = Traits(start_ms=(0.0, 0.0), pause_ms=(0.0, 0.0), seek_ms=(60_000.0, 60_000.0))
    bob = await scene.connect(guest, party_id, 1, traits=stalling)
    await ada.command("play")
    await ada.until(lambda s: s.playback.playing)

    # Bob's player stalls (a seek that takes a minute): his client reports it, the party waits.
    bob.player.seek(5.0)
    waiting = await ada.until(lambda s: s.waiting)
    assert waiting.buffering == [str(guest.id)] and not waiting.playback.playing
    assert (await bob.until(lambda s: s.revision >= waiting.revision)).waiting  # Bob sees it too

    # Bob's connection drops: he no longer holds anyone up, and playback resumes.
    await bob.stop()
    await bob.client.close()
    resumed = await ada.until(lambda s: s.playback.playing)
    assert not resumed.waiting and resumed.buffering == []

    # He comes back (a reloaded page) on the other instance: still a member, he gets the state
    # and follows it.
    bob.player = SimulatedPlayer(INSTANT, random.Random(2))
    client, _ = await Client.connect(scene.instances[0].ws_url, guest.token)
    again = await bob.reattach(client)
    assert again.revision >= resumed.revision and again.playback.playing
    player = bob.player
    assert isinstance(player, SimulatedPlayer)
    await player.until(lambda p: p.segments[-1].speed > 0)

    # The host's connection drops and comes back: still the host.
    await ada.stop()
    await ada.client.close()
    client, _ = await Client.connect(scene.instances[1].ws_url, host.token)
    back = await ada.reattach(client)
    assert back.host == str(host.id)
    assert not (await ada.command("pause")).playback.playing


async def test_a_member_takes_control_while_the_host_is_offline(scene: Scene, settings: Settings) -> None:
    host, guest = await person(settings), await person(settings)
    party_id = await scene.party(host)
    await scene.rest("POST", f"/parties/{party_id}/join", guest)
    bob = await scene.connect(guest, party_id, 1)  # the host never connects
    taken = await scene.rest("PUT", f"/parties/{party_id}/host", guest, user_id=str(guest.id))
    assert taken["state"]["host"] == str(guest.id)
    assert (await bob.command("play")).playback.playing


async def test_chat_and_reactions_are_anchored_to_the_video(scene: Scene, settings: Settings) -> None:
    host, guest = await person(settings), await person(settings)
    party_id = await scene.party(host)
    await scene.rest("POST", f"/parties/{party_id}/join", guest)
    ada = await scene.connect(host, party_id, 0)
    bob = await scene.connect(guest, party_id, 1)
    await ada.command("seek", position=42.0)
    assert ada.state is not None
    video_id = ada.state.playback.video_id

    message_id = await ada.chat("  what a scene  ")
    posted = await bob.event(ChatPosted)
    assert posted.message.id == message_id and posted.message.text == "what a scene"
    assert (str(posted.message.video_id), posted.message.position) == (video_id, 42.0)
    assert posted.message.user.id == str(host.id)
    await bob.chat("indeed", position=43.5)

    await bob.react("🔥")
    reaction = await ada.event(protocol.PartyReaction)
    assert (reaction.user.id, reaction.emoji, reaction.video_id) == (str(guest.id), "🔥", video_id)
    assert reaction.position == 42.0

    history = await scene.rest("GET", f"/parties/{party_id}/messages", guest)
    assert [(m["text"], m["position"]) for m in history["items"]] == [
        ("indeed", 43.5),
        ("what a scene", 42.0),
    ]
    bad_messages: list[tuple[Any, str]] = [
        (protocol.PartyChat(party=party_id, text="   "), "invalid_text"),
        (protocol.PartyReact(party=party_id, emoji="x", position=-1), "invalid_position"),
    ]
    for bad, code in bad_messages:
        with pytest.raises(ClientError) as caught:
            await ada.client.request(bad)
        assert caught.value.error.code == code


async def test_a_chat_message_with_control_characters_is_refused_and_the_socket_lives(
    scene: Scene, settings: Settings
) -> None:
    host = await person(settings)
    party_id = await scene.party(host)
    ada = await scene.connect(host, party_id, 0)
    for text in ["nul \u0000 inside", "\u0000", "bell \u0007"]:
        with pytest.raises(ClientError) as caught:
            await ada.client.request(protocol.PartyChat(party=party_id, text=text))
        assert caught.value.error.code == "invalid_characters", text
    # Tabs and line breaks are text; the socket is still there and chat still works.
    assert await ada.chat("two\tlines\nhere") > 0
    assert not any("Traceback" in line for server in scene.instances for line in server.lines)


async def test_member_events_and_a_full_party(scene: Scene, settings: Settings) -> None:
    host = await person(settings)
    party_id = await scene.party(host)
    ada = await scene.connect(host, party_id, 0)
    joiners = [await person(settings) for _ in range(4)]
    for who in joiners[:3]:
        await scene.rest("POST", f"/parties/{party_id}/join", who)
    joined = [(await ada.event(MemberJoined)).member.id for _ in range(3)]
    assert joined == [str(who.id) for who in joiners[:3]]
    full = await scene.rest("POST", f"/parties/{party_id}/join", joiners[3], 409)
    assert full["error"] == "party_full"  # party_max_members is 4 here


async def test_time_sync_stamps_the_server_clock(scene: Scene, settings: Settings) -> None:
    client, _ = await Client.connect(scene.instances[0].ws_url)
    sent = time.time_ns() / 1e6
    reply = await client.request(protocol.TimeSync(client_sent=sent))
    received = time.time_ns() / 1e6
    assert isinstance(reply, protocol.TimeSynced) and reply.client_sent == sent
    # One machine, one clock: the server's stamps fall inside the exchange.
    assert sent <= reply.server_received <= reply.server_sent <= received
    await client.close()


async def test_changing_the_video_keeps_everyone_allowed_to_see_it(scene: Scene, settings: Settings) -> None:
    host, guest, stranger = [await person(settings) for _ in range(3)]
    party_id = await scene.party(host)
    await scene.rest("POST", f"/parties/{party_id}/join", guest)
    ada = await scene.connect(host, party_id, 0)
    private_video = await video(settings, host, duration=90.0)
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "UPDATE videos SET visibility = 'private' WHERE id = $1", uuid.UUID(private_video)
        )
        error = await refused(ada, "video_hidden_from_members", "video", video_id=private_video)
        assert error.details == {"members": [guest.handle]}
        await connection.execute(
            "INSERT INTO video_members (video_id, user_id) VALUES ($1, $2)",
            uuid.UUID(private_video),
            guest.id,
        )
    finally:
        await connection.close()
    await ada.command("play")
    changed = await ada.command("video", video_id=private_video)
    assert (changed.playback.video_id, changed.playback.position, changed.playback.duration) == (
        private_video,
        0.0,
        90.0,
    )
    assert changed.playback.playing  # the group was playing: it goes on with the new video
    await ada.player.until(lambda p: p.video_id == private_video)  # type: ignore[attr-defined]
    # Someone who may not see the party's video now cannot join it, nor see the party.
    refused_join = await scene.rest("POST", f"/parties/{party_id}/join", stranger, 404)
    assert refused_join["error"] == "video_not_found"
    assert (await scene.rest("GET", f"/parties/{party_id}", stranger, 404))["error"] == "party_not_found"
