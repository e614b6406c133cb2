"""Live feed items on ``user:{id}``: to online followers only, as their feed shows them, once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest

from app.feed.activity import ActivityRecorded, record
from app.feed.push import FeedPusher
from app.feed.schemas import FeedItemAdded
from app.feed.service import FeedService
from app.social.relations import SocialService
from app.videos.schemas import NewVideo
from app.videos.service import VideoService
from clients.websocket import Client
from core.db import Database
from core.settings import Settings
from core.tokens import Principal
from realtime import protocol
from realtime.bus.base import Publication
from realtime.bus.redis import RedisBus
from realtime.presence.redis import RedisPresence
from tests.app.video_helpers import make_playable
from tests.processes import ServerProcess
from tests.users import Person, person

_item = msgspec.json.Decoder(FeedItemAdded)


@pytest.fixture(scope="module")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database("main", settings.database_url)
    await database.start(max_size=2)
    yield database
    await database.stop()


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[RedisBus]:
    redis_bus = RedisBus(settings.redis_url, settings.redis_namespace)
    await redis_bus.start()
    yield redis_bus
    await redis_bus.stop()


@pytest.fixture
async def presence(settings: Settings) -> AsyncIterator[RedisPresence]:
    redis_presence = RedisPresence(settings.redis_url, settings.redis_namespace, ttl_seconds=30)
    await redis_presence.heartbeat()
    yield redis_presence
    await redis_presence.close()


async def online(presence: RedisPresence, *people: Person) -> None:
    for who in people:
        await presence.join(f"user:{who.id}", uuid.uuid4().hex, protocol.User(str(who.id), who.handle))


def as_principal(who: Person) -> Principal:
    return Principal(id=who.id, handle=who.handle, role=who.role)


async def test_online_followers_get_the_item_their_feed_would_show_once(
    db: Database, bus: RedisBus, presence: RedisPresence, settings: Settings
) -> None:
    actor, reader, muter, outsider, offline, owner = [await person(settings) for _ in range(6)]
    social = SocialService(db)
    for follower in (reader, muter, outsider, offline):
        await social.follow(as_principal(follower), actor.id)
    await social.mute(as_principal(muter), actor.id)
    videos = VideoService(db)
    private = await videos.create(as_principal(owner), NewVideo(title="secret", visibility="private"))
    await videos.add_member(as_principal(owner), private.id, reader.id)
    await make_playable(settings.database_url, private.id)
    await online(presence, reader, muter, outsider)
    for who in (reader, muter, outsider, offline):
        await bus.subscribe(f"user:{who.id}")

    async with db.engine.transaction():
        activity = await record(db, actor.id, "rated", video_id=private.id, data={"stars": 5})
    pusher = FeedPusher(db, bus, presence, FeedService(db, videos))
    payload = msgspec.json.encode(ActivityRecorded(activity))
    await pusher.handle(payload, "outbox:1")
    await pusher.handle(payload, "outbox:1")  # a relay retrying after a crash

    publications = bus.publications()
    got = await asyncio.wait_for(anext(publications), 5)
    assert isinstance(got, Publication) and got.channel == f"user:{reader.id}"
    item = _item.decode(got.data).item
    assert (item.id, item.verb, item.actor.id, item.data) == (activity, "rated", actor.id, {"stars": 5})
    assert item.video is not None and item.video.title == "secret"
    # Nothing else: not twice, not to the muter, the non-member, or the offline follower.
    for who in (reader, muter, outsider, offline):
        assert (await bus.position(f"user:{who.id}")).offset == (1 if who is reader else 0)


async def test_a_follow_reaches_an_online_follower_over_the_socket(settings: Settings) -> None:
    """End to end: REST write, outbox, relay, ``@feed`` handler, bus, gateway, socket."""
    server = ServerProcess(settings)
    await server.start()
    try:
        fan, ada, bob = [await person(settings) for _ in range(3)]
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            assert (await http.put(f"/me/following/{ada.id}", headers=fan.headers)).status_code == 204
            client, _ = await Client.connect(server.ws_url, fan.token)
            try:
                await client.subscribe(f"user:{fan.id}")
                assert (await http.put(f"/me/following/{bob.id}", headers=ada.headers)).status_code == 204
                event = await client.publication(within=10)
                assert event.channel == f"user:{fan.id}"
                data = msgspec.json.decode(event.data)
                assert data["type"] == "feed.item"
                assert data["item"]["verb"] == "followed"
                assert data["item"]["actor"] == {"id": str(ada.id), "handle": ada.handle}
                assert data["item"]["subject"] == {"id": str(bob.id), "handle": bob.handle}
            finally:
                await client.close()
    finally:
        await server.stop()
