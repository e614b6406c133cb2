from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings, SettingsError
from server.factory import create_app


async def test_openapi_describes_the_api(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/accounts", "/auth/token", "/auth/revoke", "/me", "/health/ready"):
        assert path in paths


def test_a_short_jwt_secret_is_refused(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="MYDRTV_JWT_SECRET"):
        create_app(msgspec.structs.replace(settings, jwt_secret="short"))


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"privacy_master_key": ""}, "MYDRTV_PRIVACY_MASTER_KEY"),
        ({"privacy_master_key": "too-short"}, "MYDRTV_PRIVACY_MASTER_KEY"),
        ({"privacy_old_master_keys": "A" * 40}, "MYDRTV_PRIVACY_OLD_MASTER_KEYS"),
    ],
)
def test_a_missing_or_malformed_privacy_master_key_is_refused(
    settings: Settings, changes: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        create_app(msgspec.structs.replace(settings, **changes))


@pytest.mark.parametrize(("field", "url"), [("graph_url", "mysql://x"), ("storage_url", "ftp://x")])
def test_an_unsupported_backend_url_is_refused(settings: Settings, field: str, url: str) -> None:
    with pytest.raises(SettingsError, match="unsupported scheme"):
        create_app(msgspec.structs.replace(settings, **{field: url}))


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env({"MYDRTV_PORT": "9001", "MYDRTV_REDIS_URL": "redis://r:6379/0"})
    assert settings.port == 9001
    assert settings.redis_url == "redis://r:6379/0"
    with pytest.raises(SettingsError, match="invalid setting"):
        Settings.from_env({"MYDRTV_PORT": "eighty"})
