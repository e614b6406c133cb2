"""Video search against the real PostgreSQL: what it finds, what it never shows, its order."""

from __future__ import annotations

from core.db import Database
from core.pagination import encode_cursor
from core.settings import Settings
from tests.app.search.helpers import ids, rate, ready_video, word
from tests.app.video_helpers import Client, new_video
from tests.users import person


async def test_finds_by_title_and_description_words(client: Client, db: Database, settings: Settings) -> None:
    owner, term = await person(settings), word()
    by_title = await ready_video(client, db, owner, title=f"The {term} show")
    by_text = await ready_video(client, db, owner, title="Other", description=f"all about {term} today")
    found = ids(await client.get("/search/videos", params={"q": term}))
    assert found == [by_title, by_text]  # a title word weighs more than a description word


async def test_accents_typos_and_prefixes_match(client: Client, db: Database, settings: Settings) -> None:
    owner, term = await person(settings), word()
    video = await ready_video(client, db, owner, title=f"Café {term}")
    for q in ("cafe", f"CAFÉ {term}", term[:5], term[:4] + term[5:]):  # accent, case, prefix, a typo
        assert video in ids(await client.get("/search/videos", params={"q": q})), q


async def test_the_start_of_the_last_word_matches_in_title_or_description(
    client: Client, db: Database, settings: Settings
) -> None:
    owner, first, last = await person(settings), word(), word()
    video = await ready_video(client, db, owner, title="Other", description=f"{first} and {last}")
    assert ids(await client.get("/search/videos", params={"q": f"{first} {last[:5]}"})) == [video]
    assert ids(await client.get("/search/videos", params={"q": f"{first[:5]} {last}"})) == []  # only the last


async def test_never_private_unlisted_draft_or_deleted(
    client: Client, db: Database, settings: Settings
) -> None:
    owner, term = await person(settings), word()
    shown = await ready_video(client, db, owner, title=term)
    await ready_video(client, db, owner, title=term, visibility="private")
    await ready_video(client, db, owner, title=term, visibility="unlisted")
    await new_video(client, owner, title=term)  # a draft: nothing to play yet
    gone = await ready_video(client, db, owner, title=term)
    assert (await client.delete(f"/videos/{gone}", headers=owner.headers)).status_code == 204
    made_private = await ready_video(client, db, owner, title=term)
    change = await client.patch(
        f"/videos/{made_private}", json={"visibility": "private"}, headers=owner.headers
    )
    assert change.status_code == 200, change.text
    assert ids(await client.get("/search/videos", params={"q": term}, headers=owner.headers)) == [shown]


async def test_equal_relevance_is_ordered_by_popularity(
    client: Client, db: Database, settings: Settings
) -> None:
    owner, term = await person(settings), word()
    quiet = await ready_video(client, db, owner, title=term)
    loved = await ready_video(client, db, owner, title=term)
    await rate(db, loved, [await person(settings), await person(settings)])
    await rate(db, quiet, [await person(settings)])
    assert ids(await client.get("/search/videos", params={"q": term})) == [loved, quiet]


async def test_videos_across_a_block_are_hidden_both_ways(
    client: Client, db: Database, settings: Settings
) -> None:
    owner, blocker, blocked, term = (
        await person(settings),
        await person(settings),
        await person(settings),
        word(),
    )
    video = await ready_video(client, db, owner, title=term)
    assert (await client.put(f"/me/blocks/{blocker.id}", headers=owner.headers)).status_code == 204
    assert (await client.put(f"/me/blocks/{owner.id}", headers=blocked.headers)).status_code == 204
    assert ids(await client.get("/search/videos", params={"q": term}, headers=blocker.headers)) == []
    assert ids(await client.get("/search/videos", params={"q": term}, headers=blocked.headers)) == []
    assert ids(await client.get("/search/videos", params={"q": term})) == [video]


async def test_pages_walk_every_match_once(client: Client, db: Database, settings: Settings) -> None:
    owner, term = await person(settings), word()
    made = {await ready_video(client, db, owner, title=f"{term} part {n}") for n in range(5)}
    typo = await ready_video(client, db, owner, title=f"{term[:-1]}x special")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"q": term, "limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await client.get("/search/videos", params=params)
        seen += ids(response)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    assert set(seen[:5]) == made and seen[5] == typo  # whole words before a near miss


async def test_a_cursor_that_is_not_ours_is_refused(client: Client) -> None:
    zero = "00000000-0000-0000-0000-000000000000"
    for cursor in (
        "nonsense",
        encode_cursor(1.0, 1, "x"),
        encode_cursor(1.0, 2**70, zero),
        encode_cursor(zero),
    ):
        response = await client.get("/search/videos", params={"q": "anything", "cursor": cursor})
        assert response.status_code == 400, (cursor, response.text)
        assert response.json()["error"] == "invalid_cursor"
