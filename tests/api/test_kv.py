"""The KV store through the GraphQL API: the reference's cases (domain.md E.1), upserts and
timestamps, JSON round trips, limits, prefixes, pages, bot isolation, cascade, statement counts."""

from typing import Any

import pytest
from starlette.applications import Starlette

from tests.conftest import FakeClock, GraphQL, codes

ENTRY = "botId key value createdAt updatedAt"
SET = f"""
mutation($botId: ID!, $key: String!, $value: JSON) {{
  setKv(botId: $botId, key: $key, value: $value) {{ {ENTRY} }}
}}
"""
SET_NO_VALUE = "mutation($botId: ID!, $key: String!) { setKv(botId: $botId, key: $key) { value } }"
SET_MANY = f"""
mutation($botId: ID!, $entries: [KvSetInput!]!) {{
  setKvMany(botId: $botId, entries: $entries) {{ {ENTRY} }}
}}
"""
GET = f"query($botId: ID!, $key: String!) {{ kvEntry(botId: $botId, key: $key) {{ {ENTRY} }} }}"
DELETE = "mutation($botId: ID!, $key: String!) { deleteKv(botId: $botId, key: $key) }"
KEYS = "query($botId: ID!, $prefix: String) { kvKeys(botId: $botId, prefix: $prefix) }"
LIST = """
query($botId: ID!, $prefix: String, $first: Int, $after: String) {
  kvEntries(botId: $botId, prefix: $prefix, first: $first, after: $after) {
    edges { cursor node { key value } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
COUNT = (
    "query($botId: ID!, $prefix: String) "
    "{ kvEntries(botId: $botId, prefix: $prefix) { totalCount } }"
)
CREATE_BOT = "mutation($name: String!) { createBot(input: {name: $name}) { id } }"
DELETE_BOT = "mutation($id: ID!) { deleteBot(id: $id) }"
NOW = "2026-02-12T22:04:12.123456+00:00"
LATER = "2026-02-12T22:04:17.123456+00:00"
UNKNOWN_BOT = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"
MIB = 1024 * 1024
MAX_PAGES = 100


async def new_bot(gql: GraphQL, name: str = "Keeper") -> str:
    bot_id: str = (await gql(CREATE_BOT, {"name": name}))["createBot"]["id"]
    return bot_id


async def set_kv(gql: GraphQL, bot_id: str, key: str, value: Any) -> dict[str, Any]:
    entry: dict[str, Any] = (await gql(SET, {"botId": bot_id, "key": key, "value": value}))["setKv"]
    return entry


async def get_kv(gql: GraphQL, bot_id: str, key: str) -> dict[str, Any] | None:
    entry: dict[str, Any] | None = (await gql(GET, {"botId": bot_id, "key": key}))["kvEntry"]
    return entry


async def keys_of(gql: GraphQL, bot_id: str, prefix: str | None = None) -> list[str]:
    keys: list[str] = (await gql(KEYS, {"botId": bot_id, "prefix": prefix}))["kvKeys"]
    return keys


async def walk(gql: GraphQL, bot_id: str, first: int, prefix: str | None = None) -> list[str]:
    """Every key of kvEntries, page by page (a cursor that does not advance fails)."""
    seen: list[str] = []
    after = None
    for _ in range(MAX_PAGES):
        variables = {"botId": bot_id, "prefix": prefix, "first": first, "after": after}
        page = (await gql(LIST, variables))["kvEntries"]
        seen += [edge["node"]["key"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError(f"more than {MAX_PAGES} pages: {seen[:20]}")


# ---------------------------------------------------------------- reference cases (E.1)


async def test_set_kv_then_kv_entry_round_trips_object(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    settings = {"theme": "dark", "font_size": 14}
    assert (await set_kv(gql, bot, "settings", settings))["value"] == settings
    assert (await get_kv(gql, bot, "settings")) == {
        "botId": bot,
        "key": "settings",
        "value": settings,
        "createdAt": NOW,
        "updatedAt": NOW,
    }


async def test_kv_entry_missing_key_is_null(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    assert await get_kv(gql, bot, "missing") is None


async def test_set_kv_twice_upserts_value(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    await set_kv(gql, bot, "counter", 1)
    await set_kv(gql, bot, "counter", 2)
    assert (await get_kv(gql, bot, "counter") or {})["value"] == 2
    assert await keys_of(gql, bot) == ["counter"]


async def test_delete_kv_removes_entry_and_returns_true(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    await set_kv(gql, bot, "temp", "value")
    assert (await gql(DELETE, {"botId": bot, "key": "temp"}))["deleteKv"] is True
    assert await get_kv(gql, bot, "temp") is None


async def test_delete_kv_absent_key_returns_false(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    assert (await gql(DELETE, {"botId": bot, "key": "nope"}))["deleteKv"] is False
    assert (await gql(DELETE, {"botId": UNKNOWN_BOT, "key": "nope"}))["deleteKv"] is False


async def test_kv_keys_are_in_byte_order(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    for key in ("beta", "alpha", "gamma", "_", "B", "a", "é", "Z"):
        await set_kv(gql, bot, key, key)
    assert await keys_of(gql, bot) == ["B", "Z", "_", "a", "alpha", "beta", "gamma", "é"]


async def test_kv_keys_and_entries_of_bot_without_keys_are_empty(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    assert await keys_of(gql, bot) == []
    page = (await gql(LIST, {"botId": bot}))["kvEntries"]
    assert page == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_set_kv_upsert_keeps_created_at_and_advances_updated_at(
    gql: GraphQL, clock: FakeClock
) -> None:
    bot = await new_bot(gql)
    first = await set_kv(gql, bot, "data", {"nested": [1, 2, 3]})
    assert (first["createdAt"], first["updatedAt"]) == (NOW, NOW)
    clock.advance(seconds=5)
    second = await set_kv(gql, bot, "data", {"nested": [4]})
    assert second == {
        "botId": bot,
        "key": "data",
        "value": {"nested": [4]},
        "createdAt": NOW,
        "updatedAt": LATER,
    }
    assert await get_kv(gql, bot, "data") == second


async def test_kv_of_two_bots_never_mix(gql: GraphQL) -> None:
    alice_bot = await new_bot(gql, "A")
    bob_bot = await new_bot(gql, "B")
    await set_kv(gql, alice_bot, "name", "Alice")
    await set_kv(gql, bob_bot, "name", "Bob")
    await set_kv(gql, bob_bot, "name2", "Bobby")
    assert (await get_kv(gql, alice_bot, "name") or {})["value"] == "Alice"
    assert (await get_kv(gql, bob_bot, "name") or {})["value"] == "Bob"
    assert await keys_of(gql, alice_bot) == ["name"]
    assert await walk(gql, alice_bot, 1, "name") == ["name"]
    assert await get_kv(gql, alice_bot, "name2") is None


@pytest.mark.parametrize(
    "value",
    [
        "hello",
        "",
        42,
        -7,
        1.5,
        True,
        False,
        None,
        [1, "two", 3],
        [],
        {},
        {"a": {"b": {"c": True}}},
        {"z": 1, "a": 2, "m": [None, {"x": None}]},
        2**63 - 1,
        -(2**63),
        2**64,
        -(2**70) - 1,
        [2**100, {"big": 10**30}],
        '日本語 🎉 \u00e9\u0301 \\ " \n\t',
        {"ключ": "значение", "🔑": "🎉"},
    ],
)
async def test_set_kv_round_trips_every_json_value_exactly(gql: GraphQL, value: Any) -> None:
    bot = await new_bot(gql)
    assert (await set_kv(gql, bot, "v", value))["value"] == value
    entry = await get_kv(gql, bot, "v")
    assert entry is not None
    assert entry["value"] == value
    assert type(entry["value"]) is type(value)


async def test_set_kv_json_null_is_an_entry_and_missing_key_is_null(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    await set_kv(gql, bot, "null", None)
    assert await get_kv(gql, bot, "null") == {
        "botId": bot,
        "key": "null",
        "value": None,
        "createdAt": NOW,
        "updatedAt": NOW,
    }
    assert await get_kv(gql, bot, "absent") is None
    assert await keys_of(gql, bot) == ["null"]


async def test_set_kv_without_value_stores_json_null(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    await set_kv(gql, bot, "k", "something")
    assert (await gql(SET_NO_VALUE, {"botId": bot, "key": "k"}))["setKv"] == {"value": None}
    assert (await get_kv(gql, bot, "k") or {"value": "missing"})["value"] is None


async def test_set_kv_inline_literal_value_is_stored(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    query = (
        f'mutation {{ setKv(botId: "{bot}", key: "lit", '
        'value: {a: [1, 2.5, "x", true, null], big: 123456789012345678901234567890}) { value } }'
    )
    expected = {"a": [1, 2.5, "x", True, None], "big": 123456789012345678901234567890}
    assert (await gql(query))["setKv"]["value"] == expected
    assert (await get_kv(gql, bot, "lit") or {})["value"] == expected


async def test_kv_entry_bot_is_the_owning_bot(gql: GraphQL) -> None:
    bot = await new_bot(gql, "Owner")
    await set_kv(gql, bot, "k", 1)
    data = await gql(
        'query($botId: ID!) { kvEntry(botId: $botId, key: "k") { bot { id name } } }',
        {"botId": bot},
    )
    assert data["kvEntry"]["bot"] == {"id": bot, "name": "Owner"}


# ---------------------------------------------------------------- unknown bots and bad input


async def test_reads_for_unknown_bot_are_null_and_empty(gql: GraphQL) -> None:
    assert await get_kv(gql, UNKNOWN_BOT, "k") is None
    assert await keys_of(gql, UNKNOWN_BOT) == []
    assert (await gql(LIST, {"botId": UNKNOWN_BOT}))["kvEntries"]["edges"] == []
    assert (await gql(COUNT, {"botId": UNKNOWN_BOT}))["kvEntries"]["totalCount"] == 0


async def test_set_kv_unknown_bot_is_not_found(gql: GraphQL) -> None:
    errors = await gql.errors(SET, {"botId": UNKNOWN_BOT, "key": "k", "value": 1})
    assert codes(errors) == ["NOT_FOUND"]
    assert errors[0]["path"] == ["setKv"]
    assert await keys_of(gql, UNKNOWN_BOT) == []


@pytest.mark.parametrize("entries", [[], [{"key": "k", "value": 1}]])
async def test_set_kv_many_unknown_bot_is_not_found(
    gql: GraphQL, entries: list[dict[str, Any]]
) -> None:
    errors = await gql.errors(SET_MANY, {"botId": UNKNOWN_BOT, "entries": entries})
    assert codes(errors) == ["NOT_FOUND"]
    assert await keys_of(gql, UNKNOWN_BOT) == []


@pytest.mark.parametrize("query", [SET, GET, DELETE, KEYS, LIST])
async def test_invalid_bot_id_is_bad_user_input(gql: GraphQL, query: str) -> None:
    errors = await gql.errors(query, {"botId": "not-a-uuid", "key": "k"})
    assert codes(errors) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "key must be 1 to 512 bytes, not empty"),
        ("a\x00b", "key must not contain NUL characters"),
        ("k" * 513, "key is 513 bytes; at most 512 are allowed"),
        ("é" * 257, "key is 514 bytes; at most 512 are allowed"),
    ],
)
async def test_set_kv_bad_key_is_bad_user_input_and_writes_nothing(
    gql: GraphQL, key: str, message: str
) -> None:
    bot = await new_bot(gql)
    errors = await gql.errors(SET, {"botId": bot, "key": key, "value": 1})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == message
    assert await keys_of(gql, bot) == []


@pytest.mark.parametrize("query", [GET, DELETE])
async def test_read_or_delete_with_bad_key_is_bad_user_input(gql: GraphQL, query: str) -> None:
    bot = await new_bot(gql)
    for key in ("", "a\x00", "k" * 513):
        assert codes(await gql.errors(query, {"botId": bot, "key": key})) == ["BAD_USER_INPUT"]


async def test_set_kv_key_of_512_bytes_is_accepted(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    key = "é" * 256
    assert (await set_kv(gql, bot, key, 1))["key"] == key
    assert await keys_of(gql, bot) == [key]


async def test_set_kv_value_of_1_mib_is_accepted_and_one_byte_more_is_refused(
    gql: GraphQL,
) -> None:
    bot = await new_bot(gql)
    exact = "x" * (MIB - 2)  # plus the two quotes: 1 MiB of JSON text
    assert (await set_kv(gql, bot, "big", exact))["value"] == exact
    errors = await gql.errors(SET, {"botId": bot, "key": "big", "value": exact + "y"})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == f"value is {MIB + 1} bytes of JSON; at most {MIB} are allowed"
    assert (await get_kv(gql, bot, "big") or {})["value"] == exact


async def post_raw_value(gql: GraphQL, bot_id: str, value_text: str) -> Any:
    """setKv with the value spelled as raw JSON text in the request body."""
    body = (
        '{"query": "mutation($b: ID!, $v: JSON) { setKv(botId: $b, key: \\"k\\", value: $v) '
        '{ key } }", "variables": {"b": "' + bot_id + '", "v": ' + value_text + "}}"
    )
    response = await gql.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    return response.json()


async def test_set_kv_lone_surrogate_is_bad_user_input(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    body = await post_raw_value(gql, bot, '"\\ud800"')
    assert codes(body["errors"]) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "value holds a string that is not valid Unicode"
    assert await keys_of(gql, bot) == []


@pytest.mark.parametrize("number", ["1e400", "-1e400", "[1, 1e999]", "1e-400", "[1, -1E-400]"])
async def test_set_kv_number_beyond_double_range_is_refused(gql: GraphQL, number: str) -> None:
    bot = await new_bot(gql)
    body = await post_raw_value(gql, bot, number)
    assert codes(body["errors"]) == ["BAD_USER_INPUT"]
    assert await keys_of(gql, bot) == []


@pytest.mark.parametrize(
    "literal", ["1e999", "-1e999", "[1, {a: 1e999}]", "1e-400", "[1, {a: -1E-400}]"]
)
async def test_set_kv_literal_number_beyond_double_range_is_bad_user_input(
    gql: GraphQL, literal: str
) -> None:
    bot = await new_bot(gql)
    query = f'mutation {{ setKv(botId: "{bot}", key: "k", value: {literal}) {{ value }} }}'
    errors = await gql.errors(query)
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert await keys_of(gql, bot) == []


async def test_set_kv_integer_beyond_64_bits_from_raw_json_stays_exact(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    body = await post_raw_value(gql, bot, "[18446744073709551616, -9223372036854775809, 1.5]")
    assert "errors" not in body
    entry = await get_kv(gql, bot, "k")
    assert entry is not None
    assert entry["value"] == [2**64, -(2**63) - 1, 1.5]
    assert [type(item) for item in entry["value"]] == [int, int, float]


# ---------------------------------------------------------------- setKvMany


async def test_set_kv_many_sets_all_and_returns_entries_in_given_order(
    gql: GraphQL, clock: FakeClock
) -> None:
    bot = await new_bot(gql)
    await set_kv(gql, bot, "b", "old")
    clock.advance(seconds=5)
    entries = [{"key": "c", "value": [3]}, {"key": "b", "value": {"two": 2}}, {"key": "a"}]
    result = (await gql(SET_MANY, {"botId": bot, "entries": entries}))["setKvMany"]
    assert result == [
        {"botId": bot, "key": "c", "value": [3], "createdAt": LATER, "updatedAt": LATER},
        {"botId": bot, "key": "b", "value": {"two": 2}, "createdAt": NOW, "updatedAt": LATER},
        {"botId": bot, "key": "a", "value": None, "createdAt": LATER, "updatedAt": LATER},
    ]
    assert await keys_of(gql, bot) == ["a", "b", "c"]


async def test_set_kv_many_with_no_entries_returns_empty_list(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    assert (await gql(SET_MANY, {"botId": bot, "entries": []}))["setKvMany"] == []


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{"key": "a", "value": 1}, {"key": "b"}, {"key": "a", "value": 2}],
            "key 'a' is given twice (entries 0 and 2)",
        ),
        (
            [{"key": "ok", "value": 1}, {"key": "", "value": 2}],
            "key must be 1 to 512 bytes, not empty",
        ),
        (
            [{"key": "ok", "value": 1}, {"key": "big", "value": "x" * MIB}],
            f"the value of entries[1] is {MIB + 2} bytes of JSON; at most {MIB} are allowed",
        ),
        (
            [{"key": f"k{index}", "value": index} for index in range(1001)],
            "$entries holds 1001 items; at most 1000 are allowed",
        ),
    ],
)
async def test_set_kv_many_bad_input_is_bad_user_input_and_writes_nothing(
    gql: GraphQL, entries: list[dict[str, Any]], message: str
) -> None:
    bot = await new_bot(gql)
    await set_kv(gql, bot, "ok", "before")
    errors = await gql.errors(SET_MANY, {"botId": bot, "entries": entries})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == message
    assert await keys_of(gql, bot) == ["ok"]
    assert (await get_kv(gql, bot, "ok") or {})["value"] == "before"


async def test_set_kv_many_accepts_1000_entries(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    entries = [{"key": f"k{index:04d}", "value": index} for index in range(1000)]
    result = (await gql(SET_MANY, {"botId": bot, "entries": entries}))["setKvMany"]
    assert [entry["value"] for entry in result] == list(range(1000))
    assert (await gql(COUNT, {"botId": bot}))["kvEntries"]["totalCount"] == 1000


async def test_kv_keys_over_10000_is_bad_user_input(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    for batch in range(10):
        entries = [{"key": f"k{batch}-{index:03d}"} for index in range(1000)]
        await gql(SET_MANY, {"botId": bot, "entries": entries})
    assert len(await keys_of(gql, bot)) == 10_000
    await set_kv(gql, bot, "one-more", 1)
    errors = await gql.errors(KEYS, {"botId": bot})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == "more than 10000 keys match; page through them with kvEntries"
    assert await keys_of(gql, bot, "one") == ["one-more"]


# ---------------------------------------------------------------- prefixes and pages

PREFIX_KEYS = [
    "a",
    "a%b",
    "aXb",
    "a_b",
    "ab",
    "A",
    "b",
    "e",
    "é1",
    "é2",
    "\U0010ffff",
    "x\U0010ffffy",
]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("a%", ["a%b"]),
        ("a_", ["a_b"]),
        ("a", ["a", "a%b", "aXb", "a_b", "ab"]),
        ("A", ["A"]),
        ("é", ["é1", "é2"]),
        ("\U0010ffff", ["\U0010ffff"]),
        ("x\U0010ffff", ["x\U0010ffffy"]),
        ("zzz", []),
        ("", sorted(PREFIX_KEYS)),
        (None, sorted(PREFIX_KEYS)),
    ],
)
async def test_prefix_matches_exactly_those_bytes(
    gql: GraphQL, prefix: str | None, expected: list[str]
) -> None:
    bot = await new_bot(gql)
    await gql(SET_MANY, {"botId": bot, "entries": [{"key": key} for key in PREFIX_KEYS]})
    assert await keys_of(gql, bot, prefix) == expected
    assert await walk(gql, bot, 2, prefix) == expected
    assert (await gql(COUNT, {"botId": bot, "prefix": prefix}))["kvEntries"]["totalCount"] == len(
        expected
    )


async def test_kv_entries_pages_walk_every_key_once_in_byte_order(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    keys = [f"key-{index:02d}" for index in range(23)] + ["Z", "_x", "é"]
    await gql(SET_MANY, {"botId": bot, "entries": [{"key": key, "value": key} for key in keys]})
    for first in (1, 5, 26, 500):
        assert await walk(gql, bot, first) == sorted(keys)


async def test_kv_entries_page_info_and_cursors(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    await gql(SET_MANY, {"botId": bot, "entries": [{"key": key} for key in "abc"]})
    first = (await gql(LIST, {"botId": bot, "first": 2}))["kvEntries"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["startCursor"] == first["edges"][0]["cursor"]
    assert first["pageInfo"]["endCursor"] == first["edges"][1]["cursor"]
    after = first["pageInfo"]["endCursor"]
    second = (await gql(LIST, {"botId": bot, "first": 2, "after": after}))["kvEntries"]
    assert [edge["node"]["key"] for edge in second["edges"]] == ["c"]
    assert (second["pageInfo"]["hasNextPage"], second["pageInfo"]["hasPreviousPage"]) == (
        False,
        True,
    )


async def test_kv_entries_cursor_of_deleted_key_continues_after_it(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    await gql(SET_MANY, {"botId": bot, "entries": [{"key": key} for key in "abcd"]})
    first = (await gql(LIST, {"botId": bot, "first": 2}))["kvEntries"]
    await gql(DELETE, {"botId": bot, "key": "b"})
    after = first["pageInfo"]["endCursor"]
    second = (await gql(LIST, {"botId": bot, "first": 2, "after": after}))["kvEntries"]
    assert [edge["node"]["key"] for edge in second["edges"]] == ["c", "d"]


@pytest.mark.parametrize("first", [0, -1, 501])
async def test_kv_entries_page_size_outside_range_is_bad_user_input(
    gql: GraphQL, first: int
) -> None:
    bot = await new_bot(gql)
    errors = await gql.errors(LIST, {"botId": bot, "first": first})
    assert codes(errors) == ["BAD_USER_INPUT"]


# ["kv",1], ["kv","a\u0000"], ["bot","a"], []
MALFORMED = ["", "garbage!", "WyJrdiIsMV0", "WyJrdiIsICJhXHUwMDAwIl0", "WyJib3QiLCJhIl0", "W10"]


@pytest.mark.parametrize("after", MALFORMED)
async def test_kv_entries_malformed_cursor_is_bad_user_input(gql: GraphQL, after: str) -> None:
    bot = await new_bot(gql)
    errors = await gql.errors(LIST, {"botId": bot, "after": after})
    assert codes(errors) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("prefix", ["a\x00", "p" * 4097])
async def test_bad_prefix_is_bad_user_input(gql: GraphQL, prefix: str) -> None:
    bot = await new_bot(gql)
    assert codes(await gql.errors(KEYS, {"botId": bot, "prefix": prefix})) == ["BAD_USER_INPUT"]
    assert codes(await gql.errors(LIST, {"botId": bot, "prefix": prefix})) == ["BAD_USER_INPUT"]


# ---------------------------------------------------------------- Bot fields and cascade

BOT_KV = """
query($id: ID, $prefix: String, $first: Int, $after: String) {
  bot(id: $id) {
    kvEntry(key: "a") { key value }
    missing: kvEntry(key: "zz") { key }
    kvEntries(prefix: $prefix, first: $first, after: $after) {
      totalCount
      nodes { key value }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def test_bot_kv_fields_read_the_bots_entries(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    other = await new_bot(gql, "Other")
    entries = [{"key": key, "value": key.upper()} for key in ("a", "ab", "abc", "b")]
    await gql(SET_MANY, {"botId": bot, "entries": entries})
    await gql(SET_MANY, {"botId": other, "entries": [{"key": "aa"}]})
    data = (await gql(BOT_KV, {"id": bot, "prefix": "a", "first": 2}))["bot"]
    assert data == {
        "kvEntry": {"key": "a", "value": "A"},
        "missing": None,
        "kvEntries": {
            "totalCount": 3,
            "nodes": [{"key": "a", "value": "A"}, {"key": "ab", "value": "AB"}],
            "pageInfo": {
                "hasNextPage": True,
                "endCursor": data["kvEntries"]["pageInfo"]["endCursor"],
            },
        },
    }
    after = data["kvEntries"]["pageInfo"]["endCursor"]
    rest = (await gql(BOT_KV, {"id": bot, "prefix": "a", "after": after}))["bot"]["kvEntries"]
    assert rest["nodes"] == [{"key": "abc", "value": "ABC"}]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_bot_kv_entries_aliases_with_other_arguments_page_separately(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    await gql(SET_MANY, {"botId": bot, "entries": [{"key": key} for key in ("a1", "a2", "b1")]})
    data = await gql(
        """query($id: ID) { bot(id: $id) {
          all: kvEntries { nodes { key } }
          two: kvEntries(first: 2) { nodes { key } }
          b: kvEntries(prefix: "b") { nodes { key } totalCount }
          a: kvEntries(prefix: "a") { nodes { key } totalCount }
        } }""",
        {"id": bot},
    )
    assert data["bot"] == {
        "all": {"nodes": [{"key": "a1"}, {"key": "a2"}, {"key": "b1"}]},
        "two": {"nodes": [{"key": "a1"}, {"key": "a2"}]},
        "b": {"nodes": [{"key": "b1"}], "totalCount": 1},
        "a": {"nodes": [{"key": "a1"}, {"key": "a2"}], "totalCount": 2},
    }


async def test_delete_bot_removes_its_kv_entries(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    other = await new_bot(gql, "Other")
    await gql(SET_MANY, {"botId": bot, "entries": [{"key": "a"}, {"key": "b"}]})
    await set_kv(gql, other, "a", 1)
    await gql(DELETE_BOT, {"id": bot})
    assert await keys_of(gql, bot) == []
    assert await get_kv(gql, bot, "a") is None
    assert await keys_of(gql, other) == ["a"]
    assert codes(await gql.errors(SET, {"botId": bot, "key": "a", "value": 1})) == ["NOT_FOUND"]


# ---------------------------------------------------------------- statement counts (no N+1)

NESTED = "{ bots(first: 50) { nodes { id kvEntries(first: 10) { nodes { key value } } } } }"


async def test_kv_entries_page_of_50_is_one_statement(gql: GraphQL, app: Starlette) -> None:
    bot = await new_bot(gql)
    entries = [{"key": f"k{index:02d}", "value": {"n": index}} for index in range(60)]
    await gql(SET_MANY, {"botId": bot, "entries": entries})
    counter = app.state.db.counter
    before = counter.count
    page = (await gql(LIST, {"botId": bot, "first": 50}))["kvEntries"]
    assert (len(page["edges"]), counter.count - before) == (50, 1)
    before = counter.count
    assert (await gql(COUNT, {"botId": bot}))["kvEntries"]["totalCount"] == 60
    assert counter.count - before == 2


async def _nested_statements(gql: GraphQL, app: Starlette, bots: int) -> int:
    """Statements of NESTED once there are `bots` bots with 20 keys each."""
    existing = len((await gql("{ bots(first: 500) { nodes { id } } }"))["bots"]["nodes"])
    for index in range(existing, bots):
        bot = await new_bot(gql, f"Bot {index}")
        entries = [{"key": f"k{key:02d}", "value": key} for key in range(20)]
        await gql(SET_MANY, {"botId": bot, "entries": entries})
    before = app.state.db.counter.count
    nodes = (await gql(NESTED))["bots"]["nodes"]
    assert len(nodes) == bots
    assert all(
        [entry["key"] for entry in node["kvEntries"]["nodes"]]
        == [f"k{key:02d}" for key in range(10)]
        for node in nodes
    )
    statements: int = app.state.db.counter.count - before
    return statements


async def test_bots_with_kv_entries_costs_the_same_for_5_and_50_bots(
    gql: GraphQL, app: Starlette
) -> None:
    five = await _nested_statements(gql, app, 5)
    fifty = await _nested_statements(gql, app, 50)
    assert five == fifty == 2


async def test_bots_with_kv_entry_and_bot_links_are_batched(
    gql: GraphQL, app: Starlette, backend: str
) -> None:
    for index in range(30):
        bot = await new_bot(gql, f"Bot {index}")
        await set_kv(gql, bot, "a", index)
    before = app.state.db.counter.count
    data = await gql(
        '{ bots(first: 50) { nodes { kvEntry(key: "a") { value bot { id } } '
        "kvEntries { totalCount nodes { bot { name } } } } } }"
    )
    assert len(data["bots"]["nodes"]) == 30
    # bots page, kvEntry batch, kvEntries batch, count batch, bot batch. On PostgreSQL the
    # kvEntry and kvEntries statements return on their own loop turns, so the bot links they
    # ask for (at two levels) are one DataLoader batch or two: never one per bot.
    statements = app.state.db.counter.count - before
    assert statements == 5 if backend == "sqlite" else statements in (5, 6)
