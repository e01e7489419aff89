"""Bots through the GraphQL API: create, slug rules, read, list, update, delete, activity."""

from typing import Any

import pytest

from tests.conftest import FakeClock, GraphQL, codes

BOT_FIELDS = """
id slug name description status category tags userId conversationCount totalTokensUsed
versionCount createdAt updatedAt lastActiveAt
"""
CREATE = f"mutation($input: CreateBotInput!) {{ createBot(input: $input) {{ {BOT_FIELDS} }} }}"
UPDATE = (
    "mutation($id: ID!, $input: UpdateBotInput!) "
    f"{{ updateBot(id: $id, input: $input) {{ {BOT_FIELDS} }} }}"
)
BOT_BY_ID = f"query($id: ID) {{ bot(id: $id) {{ {BOT_FIELDS} }} }}"
BOT_BY_SLUG = f"query($slug: String) {{ bot(slug: $slug) {{ {BOT_FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteBot(id: $id) }"
ACTIVITY = (
    "mutation($id: ID!, $input: BotActivityInput!) { recordBotActivity(id: $id, input: $input) "
    "{ conversationCount totalTokensUsed versionCount lastActiveAt updatedAt } }"
)
LIST = """
query($status: BotStatus, $category: BotCategory, $orderBy: BotOrder, $first: Int, $after: String) {
  bots(status: $status, category: $category, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    nodes { name }
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
NOW = "2026-02-12T22:04:12.123456+00:00"


async def create(gql: GraphQL, name: str, **fields: Any) -> dict[str, Any]:
    data = await gql(CREATE, {"input": {"name": name, **fields}})
    bot: dict[str, Any] = data["createBot"]
    return bot


async def test_create_bot_with_defaults_returns_every_field(gql: GraphQL) -> None:
    bot = await create(gql, "  Luna  ")
    assert bot == {
        "id": bot["id"],
        "slug": "luna",
        "name": "Luna",
        "description": "A bot named Luna",
        "status": "ACTIVE",
        "category": "ASSISTANT",
        "tags": [],
        "userId": None,
        "conversationCount": 0,
        "totalTokensUsed": 0,
        "versionCount": 0,
        "createdAt": NOW,
        "updatedAt": NOW,
        "lastActiveAt": None,
    }
    assert bot["id"][14] == "7"  # UUIDv7


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Research Assistant", "research-assistant"),
        ("My  Cool  Bot!", "my-cool-bot"),
        ("---hello---world---", "hello-world"),
        ("Bot v2.0", "bot-v2-0"),
        ("Ünïcödé Bót", "ünïcödé-bót"),
        # NFKC first: fullwidth letters, ligatures and combining accents slug as written plainly
        ("\uff32\uff45\uff53\uff45\uff41\uff52\uff43\uff48 Bot", "research-bot"),
        ("\ufb01le Bot", "file-bot"),
        ("Cafe\u0301 Bot", "caf\u00e9-bot"),
    ],
)
async def test_create_bot_derives_slug_by_reference_rules(
    gql: GraphQL, name: str, slug: str
) -> None:
    assert (await create(gql, name))["slug"] == slug


async def test_create_bot_with_taken_slug_adds_suffixes(gql: GraphQL) -> None:
    slugs = [(await create(gql, "Twin"))["slug"] for _ in range(4)]
    assert slugs == ["twin", "twin-2", "twin-3", "twin-4"]


async def test_create_bot_after_suffix_100_is_conflict(gql: GraphQL) -> None:
    for _ in range(100):
        await create(gql, "Crowd")
    errors = await gql.errors(CREATE, {"input": {"name": "Crowd"}})
    assert codes(errors) == ["CONFLICT"]
    total = await gql(LIST, {"first": 1})
    assert total["bots"]["totalCount"] == 100


@pytest.mark.parametrize("name", ["", "   ", "!!!", "---"])
async def test_create_bot_without_letter_or_digit_is_bad_user_input(
    gql: GraphQL, name: str
) -> None:
    errors = await gql.errors(CREATE, {"input": {"name": name}})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert (await gql(LIST, {}))["bots"]["totalCount"] == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "a\x00b"},
        {"name": "x" * 4097},
        {"name": "ok", "description": "d" * (64 * 1024 + 1)},
        {"name": "ok", "tags": ["t"] * 51},
        {"name": "ok", "tags": ["t" * 65]},
        {"name": "ok", "userId": "\x00"},
    ],
)
async def test_create_bot_with_bad_input_writes_nothing(
    gql: GraphQL, fields: dict[str, Any]
) -> None:
    errors = await gql.errors(CREATE, {"input": fields})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert (await gql(LIST, {}))["bots"]["totalCount"] == 0


async def test_create_bot_with_unknown_enum_is_bad_user_input(gql: GraphQL) -> None:
    errors = await gql.errors(CREATE, {"input": {"name": "x", "status": "SLEEPING"}})
    assert codes(errors) == ["BAD_USER_INPUT"]


async def test_create_bot_accepts_64_kib_description_and_50_tags(gql: GraphQL) -> None:
    tags = [f"{index:02d}" + "t" * 62 for index in range(50)]
    bot = await create(gql, "Big", description="d" * 64 * 1024, tags=tags, userId="u-1")
    assert (len(bot["description"]), bot["tags"], bot["userId"]) == (65536, tags, "u-1")


async def test_bot_by_id_and_slug_return_the_same_bot(gql: GraphQL) -> None:
    bot = await create(gql, "Research Bot", category="RESEARCH", tags=["test"])
    by_id = (await gql(BOT_BY_ID, {"id": bot["id"].upper()}))["bot"]
    by_slug = (await gql(BOT_BY_SLUG, {"slug": "research-bot"}))["bot"]
    assert by_id == by_slug == bot


async def test_bot_unknown_is_null(gql: GraphQL) -> None:
    assert (await gql(BOT_BY_ID, {"id": "00000000-0000-7000-8000-000000000000"}))["bot"] is None
    assert (await gql(BOT_BY_SLUG, {"slug": "nobody"}))["bot"] is None


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ bot { id } }", {}),
        ('{ bot(id: "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8", slug: "x") { id } }', {}),
        (BOT_BY_ID, {"id": "not-a-uuid"}),
    ],
)
async def test_bot_lookup_needs_exactly_one_valid_key(
    gql: GraphQL, query: str, variables: dict[str, Any]
) -> None:
    errors = await gql.errors(query, variables)
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["path"] == ["bot"]


async def test_bots_filters_by_status_and_category(gql: GraphQL) -> None:
    await create(gql, "Alpha", status="ACTIVE", category="RESEARCH")
    await create(gql, "Beta", status="DISABLED", category="CREATIVE")
    await create(gql, "Gamma", status="ACTIVE", category="RESEARCH")
    order = {"field": "NAME", "direction": "ASC"}

    async def names(**filters: Any) -> list[str]:
        data = await gql(LIST, {"orderBy": order, **filters})
        return [node["name"] for node in data["bots"]["nodes"]]

    assert await names() == ["Alpha", "Beta", "Gamma"]
    assert await names(status="ACTIVE") == ["Alpha", "Gamma"]
    assert await names(category="RESEARCH") == ["Alpha", "Gamma"]
    assert await names(status="DISABLED", category="RESEARCH") == []


async def test_bots_by_name_second_page_of_one_is_beta(gql: GraphQL) -> None:
    for name in ("Gamma", "Alpha", "Beta"):
        await create(gql, name)
    order = {"field": "NAME", "direction": "ASC"}
    first = (await gql(LIST, {"orderBy": order, "first": 1}))["bots"]
    second = (
        await gql(LIST, {"orderBy": order, "first": 1, "after": first["pageInfo"]["endCursor"]})
    )["bots"]
    assert [node["name"] for node in second["nodes"]] == ["Beta"]
    assert second["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasPreviousPage"] is True
    assert second["totalCount"] == 3
    assert second["edges"][0]["cursor"] == second["pageInfo"]["startCursor"]


async def test_bots_default_order_is_newest_first_with_id_tiebreak(
    gql: GraphQL, clock: FakeClock
) -> None:
    await create(gql, "Old")
    clock.advance(seconds=1)
    tied = [await create(gql, f"Tied {index}") for index in range(3)]
    data = await gql(LIST, {})
    # same createdAt: ids (UUIDv7, monotonic) break the tie, descending like the sort
    assert [node["name"] for node in data["bots"]["nodes"]] == [
        "Tied 2",
        "Tied 1",
        "Tied 0",
        "Old",
    ]
    assert len({bot["createdAt"] for bot in tied}) == 1


async def test_bots_pages_walk_every_bot_once_in_both_directions(
    gql: GraphQL, clock: FakeClock
) -> None:
    for index in range(7):
        await create(gql, f"Bot {index % 3}")
        clock.advance(microseconds=1)
    for direction in ("ASC", "DESC"):
        order = {"field": "NAME", "direction": direction}
        seen: list[str] = []
        after = None
        while True:
            page = (await gql(LIST, {"orderBy": order, "first": 2, "after": after}))["bots"]
            seen += [edge["node"]["name"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == 7
        assert seen == sorted(seen, reverse=direction == "DESC")


async def test_bots_last_active_nulls_last_in_both_directions(
    gql: GraphQL, clock: FakeClock
) -> None:
    idle = await create(gql, "Idle")
    early = await create(gql, "Early")
    late = await create(gql, "Late")
    await gql(ACTIVITY, {"id": early["id"], "input": {}})
    clock.advance(seconds=5)
    await gql(ACTIVITY, {"id": late["id"], "input": {}})
    for direction, expected in (
        ("ASC", ["Early", "Late", "Idle"]),
        ("DESC", ["Late", "Early", "Idle"]),
    ):
        order = {"field": "LAST_ACTIVE_AT", "direction": direction}
        names = []
        after = None
        for _ in range(3):
            page = (await gql(LIST, {"orderBy": order, "first": 1, "after": after}))["bots"]
            names += [node["name"] for node in page["nodes"]]
            after = page["pageInfo"]["endCursor"]
        assert names == expected
    assert idle["lastActiveAt"] is None


@pytest.mark.parametrize("first", [0, -1, 501])
async def test_bots_page_size_outside_range_is_bad_user_input(gql: GraphQL, first: int) -> None:
    errors = await gql.errors(LIST, {"first": first})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == f"first must be between 1 and 500, not {first}"


@pytest.mark.parametrize("after", ["", "garbage!", "WyJrdiIsImEiXQ", "W10"])
async def test_bots_malformed_cursor_is_bad_user_input(gql: GraphQL, after: str) -> None:
    errors = await gql.errors(LIST, {"after": after})
    assert codes(errors) == ["BAD_USER_INPUT"]


async def test_bots_cursor_from_other_order_is_bad_user_input(gql: GraphQL) -> None:
    await create(gql, "One")
    await create(gql, "Two")
    page = (await gql(LIST, {"first": 1}))["bots"]
    errors = await gql.errors(
        LIST, {"orderBy": {"field": "NAME"}, "after": page["pageInfo"]["endCursor"]}
    )
    assert codes(errors) == ["BAD_USER_INPUT"]


async def test_update_bot_changes_given_fields_and_keeps_slug(
    gql: GraphQL, clock: FakeClock
) -> None:
    bot = await create(gql, "Luna", tags=["a"], userId="owner")
    clock.advance(seconds=2)
    updated = (
        await gql(UPDATE, {"id": bot["id"], "input": {"name": "Sol", "status": "ARCHIVED"}})
    )["updateBot"]
    assert updated == {
        **bot,
        "name": "Sol",
        "status": "ARCHIVED",
        "updatedAt": "2026-02-12T22:04:14.123456+00:00",
    }
    assert (await gql(BOT_BY_ID, {"id": bot["id"]}))["bot"] == updated


async def test_update_bot_null_clears_user_id_only(gql: GraphQL) -> None:
    bot = await create(gql, "Luna", userId="owner")
    updated = (await gql(UPDATE, {"id": bot["id"], "input": {"userId": None}}))["updateBot"]
    assert updated["userId"] is None
    for field in ("name", "description", "category", "status", "tags"):
        errors = await gql.errors(UPDATE, {"id": bot["id"], "input": {field: None}})
        assert codes(errors) == ["BAD_USER_INPUT"], field
    assert (await gql(BOT_BY_ID, {"id": bot["id"]}))["bot"] == updated


async def test_update_bot_missing_is_not_found(gql: GraphQL) -> None:
    errors = await gql.errors(
        UPDATE, {"id": "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8", "input": {"name": "x"}}
    )
    assert codes(errors) == ["NOT_FOUND"]


async def test_delete_bot_removes_it_and_second_delete_is_not_found(gql: GraphQL) -> None:
    bot = await create(gql, "Temp")
    assert (await gql(DELETE, {"id": bot["id"]}))["deleteBot"] == bot["id"]
    assert (await gql(BOT_BY_ID, {"id": bot["id"]}))["bot"] is None
    assert codes(await gql.errors(DELETE, {"id": bot["id"]})) == ["NOT_FOUND"]


async def test_record_bot_activity_adds_counts_atomically(gql: GraphQL, clock: FakeClock) -> None:
    bot = await create(gql, "Busy")
    clock.advance(seconds=3)
    big = 2**40
    await gql(ACTIVITY, {"id": bot["id"], "input": {"tokensUsed": big, "conversations": 1}})
    data = await gql(ACTIVITY, {"id": bot["id"], "input": {"tokensUsed": big, "versions": 2}})
    assert data["recordBotActivity"] == {
        "conversationCount": 1,
        "totalTokensUsed": 2 * big,
        "versionCount": 2,
        "lastActiveAt": "2026-02-12T22:04:15.123456+00:00",
        "updatedAt": NOW,
    }


@pytest.mark.parametrize(
    "activity",
    [{"tokensUsed": -1}, {"conversations": -1}, {"versions": -5}, {"tokensUsed": 2**63 - 1}],
)
async def test_record_bot_activity_negative_or_overflow_is_bad_user_input(
    gql: GraphQL, activity: dict[str, int]
) -> None:
    bot = await create(gql, "Busy")
    await gql(ACTIVITY, {"id": bot["id"], "input": {"tokensUsed": 1}})
    errors = await gql.errors(ACTIVITY, {"id": bot["id"], "input": activity})
    assert codes(errors) == ["BAD_USER_INPUT"]
    after = (await gql(BOT_BY_ID, {"id": bot["id"]}))["bot"]
    assert (after["totalTokensUsed"], after["conversationCount"], after["versionCount"]) == (
        1,
        0,
        0,
    )


async def test_record_bot_activity_missing_is_not_found(gql: GraphQL) -> None:
    errors = await gql.errors(
        ACTIVITY, {"id": "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8", "input": {"tokensUsed": 1}}
    )
    assert codes(errors) == ["NOT_FOUND"]


async def test_node_returns_bot_by_id(gql: GraphQL) -> None:
    bot = await create(gql, "Noded")
    data = await gql(
        "query($id: ID!) { node(id: $id) { __typename id ... on Bot { slug } } }", {"id": bot["id"]}
    )
    assert data["node"] == {"__typename": "Bot", "id": bot["id"], "slug": "noded"}
    missing = await gql('{ node(id: "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8") { id } }')
    assert missing["node"] is None


async def test_create_bot_with_null_category_and_status_uses_defaults(gql: GraphQL) -> None:
    bot = await create(gql, "Nully", category=None, status=None, tags=None)
    assert (bot["category"], bot["status"], bot["tags"]) == ("ASSISTANT", "ACTIVE", [])
