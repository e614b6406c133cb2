"""Live connections follow their user's account.

A role change or an erasure applies to the next request over REST (``app.auth.principals``); a
websocket, open for hours, must not keep what it was allowed at connect. When a user changes,
every connection of theirs on this node is checked again: if the account is gone it is closed
with ``CLOSE_UNAUTHENTICATED`` (terminal), if the role changed with ``CLOSE_ROLE_CHANGED``
(reconnect: the new connection's subscriptions are authorized under the new role). Each process
hears every change, so this covers the connections on every instance.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Protocol

from core.errors import Unauthorized
from core.tokens import Principal
from realtime import protocol
from realtime.node import Node

log = logging.getLogger("mydrtv.gateway")


class CurrentPrincipals(Protocol):
    async def current(self, principal: Principal) -> Principal: ...


class Revocation:
    def __init__(self, node: Node, principals: CurrentPrincipals) -> None:
        self._node = node
        self._principals = principals
        self._checks: set[asyncio.Task[None]] = set()

    def changed(self, user_id: uuid.UUID) -> None:
        """A ``Principals`` watcher: check this user's connections again, soon."""
        if not any(c.principal is not None and c.principal.id == user_id for c in self._node.connections):
            return
        task = asyncio.get_running_loop().create_task(self._check(user_id))
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _check(self, user_id: uuid.UUID) -> None:
        for connection in list(self._node.connections):
            principal = connection.principal
            if principal is None or principal.id != user_id:
                continue
            try:
                now = await self._principals.current(principal)
            except Unauthorized:
                connection.close(protocol.CLOSE_UNAUTHENTICATED, "the account no longer exists")
                continue
            except Exception:
                log.exception("could not check a connection's user again")
                continue
            if now.role != principal.role:
                connection.close(protocol.CLOSE_ROLE_CHANGED, "your role changed: reconnect")
            else:
                connection.principal = now  # a new handle, say
