"""Settings of a media test module: storage in a directory of its own, no transcoding worker
(modules that need other settings define their own ``media_settings``)."""

from __future__ import annotations

import msgspec
import pytest

from core.settings import Settings


@pytest.fixture(scope="module")
def media_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    storage = tmp_path_factory.mktemp("storage")
    return msgspec.structs.replace(settings, storage_url=storage.as_uri(), media_worker=False)
