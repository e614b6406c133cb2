"""Display names and bios people cannot use to pass for someone else or garble a page: each bad
input is a 400 with its reason, and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from tests.app.profiles.helpers import member

Client = AsyncTestClient[Any]

BAD_NAMES = [
    ("Ana\x00", "display_name_invalid_characters"),  # refused by the JSON body check, below
    ("Ana\x07Bell", "display_name_invalid_characters"),
    ("Ana\x1b[31mRed", "display_name_invalid_characters"),
    ("Ana\nNewline", "display_name_invalid_characters"),
    ("Ana\tTab", "display_name_invalid_characters"),
    ("\u202eevil\u202c", "display_name_invalid_characters"),  # right-to-left override
    ("admin\u202a", "display_name_invalid_characters"),
    ("x\u202b", "display_name_invalid_characters"),
    ("x\u202d", "display_name_invalid_characters"),
    ("\u2066isolate\u2069", "display_name_invalid_characters"),
    ("x\u2067", "display_name_invalid_characters"),
    ("x\u2068", "display_name_invalid_characters"),
    ("x\u200fy", "display_name_invalid_characters"),  # right-to-left mark
    ("ad\u200bmin", "display_name_invalid_characters"),  # zero-width space
    ("ad\u200dmin", "display_name_invalid_characters"),  # zero-width joiner between letters
    ("\ufeffAna", "display_name_invalid_characters"),  # byte order mark
    ("Ana\u2028Bo", "display_name_invalid_characters"),  # line separator
    ("\ue000", "display_name_invalid_characters"),  # private use
    ("", "display_name_empty"),
    ("    ", "display_name_empty"),
    ("\u3000\u00a0", "display_name_empty"),  # ideographic and no-break spaces only
    ("x" * 51, "display_name_too_long"),
    ("x" * 1000, "display_name_too_long"),
]


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES)
async def test_a_bad_display_name_is_refused_with_its_reason(
    api: Client, settings: Settings, name: str, reason: str
) -> None:
    me = await member(settings, display_name="Before")
    response = await api.patch("/me/profile", json={"display_name": name}, headers=me.headers)
    assert response.status_code == 400, response.text
    expected = "invalid_characters" if "\x00" in name else reason
    assert response.json()["error"] == expected
    assert (await api.get("/me/profile", headers=me.headers)).json()["display_name"] == "Before"


async def test_a_lone_surrogate_is_refused(api: Client, settings: Settings) -> None:
    me = await member(settings)
    body = b'{"display_name": "Ana \\ud800"}'
    response = await api.patch(
        "/me/profile", content=body, headers={**me.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Ørsted-Åberg",
        "\u674e\u5c0f\u9f8d",  # Chinese
        "\u0645\u062d\u0645\u062f",  # Arabic: right-to-left by itself, without any override
        "Ana \U0001f468\u200d\U0001f469\u200d\U0001f467",  # a family emoji (joined by ZWJ)
        "x" * 50,
    ],
)
async def test_names_in_any_script_and_emoji_sequences_are_kept(
    api: Client, settings: Settings, name: str
) -> None:
    me = await member(settings)
    response = await api.patch("/me/profile", json={"display_name": name}, headers=me.headers)
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == name


@pytest.mark.parametrize(
    ("bio", "reason"),
    [
        ("x" * 501, "bio_too_long"),
        ("hello\x00", "invalid_characters"),
        ("hello\x1b[2J", "bio_invalid_characters"),
        ("hello\u202eevil", "bio_invalid_characters"),
        ("hello\u2066", "bio_invalid_characters"),
    ],
)
async def test_a_bad_bio_is_refused_with_its_reason(
    api: Client, settings: Settings, bio: str, reason: str
) -> None:
    me = await member(settings)
    response = await api.patch("/me/profile", json={"bio": bio}, headers=me.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == reason


async def test_a_bio_keeps_its_lines_and_is_normalised(api: Client, settings: Settings) -> None:
    me = await member(settings)
    response = await api.patch(
        "/me/profile",
        json={"bio": "\n  Films.\n\n\tSeries.\r\nCafe\u0301 \u2764\ufe0f  "},
        headers=me.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["bio"] == "Films.\n\n\tSeries.\nCaf\u00e9 \u2764\ufe0f"
    assert (await api.patch("/me/profile", json={"bio": "   "}, headers=me.headers)).json()["bio"] is None
