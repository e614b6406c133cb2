"""The moderation tests' app: one per test module, with limits roomy enough for many posts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from server.factory import create_app
from tests.app.video_helpers import Client, roomy


@pytest.fixture(scope="module")
def social(settings: Settings) -> Settings:
    return roomy(settings)


@pytest.fixture(scope="module")
async def api(social: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(social)) as test_client:
        yield test_client
