"""People search by display name (kept in the identity database) beside handles: prefixes, typos
and accents, the better match first, blocks both ways, pages, and the name and avatar carried."""

from __future__ import annotations

from core.settings import Settings
from tests.app.profiles.helpers import member
from tests.app.search.helpers import ids, word
from tests.app.video_helpers import Client


async def test_finds_people_by_display_name_prefix_typo_and_accents(
    client: Client, settings: Settings
) -> None:
    term = word()
    named = await member(settings, display_name=f"Zoë {term.capitalize()}")
    for q in (f"Zoë {term}", f"zoe {term}", term, term[:3], term[:4] + term[5:], f"ZOE {term[:-1]}"):
        found = await client.get("/search/people", params={"q": q})
        assert str(named.id) in ids(found), q
    hit = next(i for i in found.json()["items"] if i["user"]["id"] == str(named.id))
    assert hit["display_name"] == f"Zoë {term.capitalize()}"
    assert hit["user"]["handle"] == named.handle
    assert hit["avatar"] is None


async def test_a_person_matching_by_handle_and_by_name_is_listed_once(
    client: Client, settings: Settings
) -> None:
    term = word()
    both = await member(settings, handle=f"{term}_x", display_name=term)
    assert ids(await client.get("/search/people", params={"q": term})) == [str(both.id)]


async def test_the_closer_match_comes_first_whichever_field_it_is_in(
    client: Client, settings: Settings
) -> None:
    term = word()
    by_name = await member(settings, display_name=term)  # exactly the query
    by_handle = await member(settings, handle=f"{term}_and_more_words")
    assert ids(await client.get("/search/people", params={"q": term})) == [str(by_name.id), str(by_handle.id)]


async def test_display_names_across_a_block_are_hidden_both_ways(client: Client, settings: Settings) -> None:
    term = word()
    me = await member(settings)
    blocker = await member(settings, display_name=f"{term} one")
    blocked = await member(settings, display_name=f"{term} two")
    assert (await client.put(f"/me/blocks/{me.id}", headers=blocker.headers)).status_code == 204
    assert (await client.put(f"/me/blocks/{blocked.id}", headers=me.headers)).status_code == 204
    assert ids(await client.get("/search/people", params={"q": term}, headers=me.headers)) == []
    assert sorted(ids(await client.get("/search/people", params={"q": term}))) == sorted(
        [str(blocker.id), str(blocked.id)]
    )


async def test_display_name_matches_page_by_cursor_without_repeats(
    client: Client, settings: Settings
) -> None:
    term = word()
    made = {str((await member(settings, display_name=f"{term} {n}")).id) for n in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": term, "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await client.get("/search/people", params=params)
        seen += ids(page)
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


async def test_wildcards_in_a_query_match_display_names_literally(client: Client, settings: Settings) -> None:
    term = word()
    digit = str(len(term) % 10)
    # Queries of fewer than 3 letters or digits match by prefix only (trigrams would find both).
    literal = await member(settings, display_name=f"{digit}% {term}")
    await member(settings, display_name=f"{digit}x {term}")  # what an unescaped "%" or "_" would match
    assert str(literal.id) in ids(await client.get("/search/people", params={"q": f"{digit}%"}))
    for q in (f"{digit}%", f"{digit}_"):
        found = await client.get("/search/people", params={"q": q, "limit": "100"})
        names = [item["display_name"] for item in found.json()["items"]]
        assert f"{digit}x {term}" not in names, q
