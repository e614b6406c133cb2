"""What other features do when a user signs in with their password (an erasure in its grace
period is cancelled). The composition root adds the hooks; the token endpoint calls them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

SignInHook = Callable[[uuid.UUID], Awaitable[object]]


class SignInHooks:
    def __init__(self, hooks: list[SignInHook] | None = None) -> None:
        self._hooks = list(hooks or [])

    def add(self, hook: SignInHook) -> None:
        self._hooks.append(hook)

    async def signed_in(self, user_id: uuid.UUID) -> None:
        for hook in self._hooks:
            await hook(user_id)
