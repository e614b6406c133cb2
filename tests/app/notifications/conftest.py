"""An app with roomy comment rates, and helpers to read a person's notifications."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from server.factory import create_app
from tests.app.video_helpers import roomy
from tests.users import Person

Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(roomy(settings))) as test_client:
        yield test_client


async def notifications(client: Client, who: Person, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/me/notifications", headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def unread(client: Client, who: Person) -> int:
    response = await client.get("/me/notifications/unread", headers=who.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


async def follow(client: Client, who: Person, whom: Person) -> None:
    assert (await client.put(f"/me/following/{whom.id}", headers=who.headers)).status_code == 204


async def unfollow(client: Client, who: Person, whom: Person) -> None:
    assert (await client.delete(f"/me/following/{whom.id}", headers=who.headers)).status_code == 204
