"""Role changes and erasures reach live websockets and every instance: two ``mydrtv serve``
processes on one PostgreSQL and one Redis; the change is made through one of them (or by hand
in the database), the connections and requests on the other follow at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from clients.websocket import Client
from core.settings import Settings
from realtime import protocol
from tests import processes
from tests.processes import ServerProcess
from tests.users import person


@pytest.fixture(scope="module")
async def instances(settings: Settings) -> AsyncIterator[list[ServerProcess]]:
    async with processes.instances(settings) as servers:
        yield servers


@pytest.fixture(scope="module")
async def http(instances: list[ServerProcess]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with processes.http_clients(instances) as clients:
        yield clients


async def test_a_demoted_moderators_sockets_close_and_other_instances_refuse_the_old_role(
    instances: list[ServerProcess], http: list[httpx.AsyncClient], settings: Settings
) -> None:
    a, b = http
    admin, moderator = await person(settings, "admin"), await person(settings, "moderator")
    assert (await b.get("/moderation/queue", headers=moderator.headers)).status_code == 200
    live, _ = await Client.connect(instances[1].ws_url, moderator.token)
    await live.subscribe(f"user:{moderator.id}")

    changed = await a.put(f"/users/{moderator.id}/role", json={"role": "viewer"}, headers=admin.headers)
    assert changed.status_code == 200, changed.text
    goodbye = await live.closed()
    assert goodbye is not None
    assert (goodbye.code, goodbye.reconnect) == (protocol.CLOSE_ROLE_CHANGED, True)
    assert live.close_code == protocol.CLOSE_ROLE_CHANGED

    # Instance B heard it (it closed the socket): its REST answers with the new role too.
    refused = await b.get("/moderation/queue", headers=moderator.headers)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden_role")
    again, connected = await Client.connect(instances[1].ws_url, moderator.token)
    assert connected.user is not None and connected.user.id == str(moderator.id)
    await again.close()


async def test_an_erased_users_sockets_close_and_the_token_is_refused(
    instances: list[ServerProcess], settings: Settings
) -> None:
    user = await person(settings)
    sockets = [(await Client.connect(server.ws_url, user.token))[0] for server in instances]

    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute("DELETE FROM users WHERE id = $1", user.id)
    finally:
        await connection.close()
    for socket in sockets:
        goodbye = await socket.closed()
        assert goodbye is not None
        assert (goodbye.code, goodbye.reconnect) == (protocol.CLOSE_UNAUTHENTICATED, False)

    with pytest.raises(ConnectionError, match=f"code={protocol.CLOSE_UNAUTHENTICATED}"):
        await Client.connect(instances[0].ws_url, user.token)
    anonymous, _ = await Client.connect(instances[0].ws_url)
    with pytest.raises(Exception, match="account_gone"):
        await anonymous.request(protocol.Refresh(token=user.token))
    await anonymous.close()
