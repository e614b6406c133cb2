"""An app with media storage in a directory of the module's own, for the avatar endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from server.factory import create_app


@pytest.fixture(scope="module")
def profile_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    storage = tmp_path_factory.mktemp("storage")
    return msgspec.structs.replace(settings, storage_url=storage.as_uri(), media_worker=False)


@pytest.fixture(scope="module")
async def api(profile_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=create_app(profile_settings)) as client:
        yield client
