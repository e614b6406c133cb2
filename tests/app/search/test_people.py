"""People search against the real PostgreSQL: handles by prefix and typo, blocks, order."""

from __future__ import annotations

from core.settings import Settings
from tests.app.search.helpers import ids, word
from tests.app.video_helpers import Client
from tests.users import person


async def test_finds_handles_by_prefix_typo_and_case(client: Client, settings: Settings) -> None:
    term = word()
    someone = await person(settings, handle=f"{term}_films")
    for q in (term, term[:2], term.upper(), term[:4] + term[5:], f"{term}_films"):
        assert str(someone.id) in ids(await client.get("/search/people", params={"q": q})), q


async def test_the_exact_handle_comes_first_then_the_most_followed(
    client: Client, settings: Settings
) -> None:
    term = word()
    longer = await person(settings, handle=f"{term}_official")
    followed = await person(settings, handle=f"{term}_fans")
    exact = await person(settings, handle=term)
    fan = await person(settings)
    assert (await client.put(f"/me/following/{followed.id}", headers=fan.headers)).status_code == 204
    found = ids(await client.get("/search/people", params={"q": term}))
    assert found[0] == str(exact.id)
    assert found[1:] == [str(followed.id), str(longer.id)]


async def test_wildcards_in_a_query_are_plain_characters(client: Client, settings: Settings) -> None:
    term = word()
    underscored = await person(settings, handle=f"_{term}")
    await person(settings, handle=f"x{term}")  # what an unescaped "_" would also match
    assert ids(await client.get("/search/people", params={"q": f"_{term[:1]}"})) == [str(underscored.id)]
    assert ids(await client.get("/search/people", params={"q": f"%{term[:1]}"})) == []


async def test_people_across_a_block_are_hidden_both_ways(client: Client, settings: Settings) -> None:
    term = word()
    me, blocker, blocked = (
        await person(settings),
        await person(settings, handle=f"{term}_a"),
        await person(settings, handle=f"{term}_b"),
    )
    assert (await client.put(f"/me/blocks/{me.id}", headers=blocker.headers)).status_code == 204
    assert (await client.put(f"/me/blocks/{blocked.id}", headers=me.headers)).status_code == 204
    assert ids(await client.get("/search/people", params={"q": term}, headers=me.headers)) == []
    assert sorted(ids(await client.get("/search/people", params={"q": term}))) == sorted(
        [str(blocker.id), str(blocked.id)]
    )
