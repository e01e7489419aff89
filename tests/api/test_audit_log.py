"""The memory audit log through the GraphQL API: the reference's cases (domain.md E.2), newest
first with id tie-breaks, pages, filters, trails across bots, entries outliving their bot, node,
bad input, and nested reads by level resolvers."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.applications import Starlette

from tests.conftest import FakeClock, GraphQL, codes

ENTRY = "id botId memoryId action actor details createdAt"
LOG = f"mutation($input: LogMemoryAuditInput!) {{ logMemoryAudit(input: $input) {{ {ENTRY} }} }}"
AUDIT_LOG = f"""
query($botId: ID!, $filter: AuditLogFilter, $first: Int, $after: String) {{
  auditLog(botId: $botId, filter: $filter, first: $first, after: $after) {{
    totalCount
    nodes {{ {ENTRY} }}
    pageInfo {{ hasNextPage hasPreviousPage endCursor }}
  }}
}}
"""
TRAIL = """
query($memoryId: ID!, $first: Int, $after: String) {
  memoryAuditTrail(memoryId: $memoryId, first: $first, after: $after) {
    totalCount
    nodes { id botId action actor }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CREATE_BOT = "mutation($name: String!) { createBot(input: {name: $name}) { id } }"
DELETE_BOT = "mutation($id: ID!) { deleteBot(id: $id) }"
NOW = "2026-02-12T22:04:12.123456+00:00"
MEMORY = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a1"
OTHER_MEMORY = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a2"
UNKNOWN_BOT = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"
ACTIONS = ["ADD", "DELETE", "SHARE", "REVOKE", "MERGE"]
MAX_PAGES = 100


async def new_bot(gql: GraphQL, name: str = "Rememberer") -> str:
    bot_id: str = (await gql(CREATE_BOT, {"name": name}))["createBot"]["id"]
    return bot_id


async def log(
    gql: GraphQL,
    bot_id: str,
    action: str = "ADD",
    actor: str = "system",
    memory_id: str = MEMORY,
    **extra: Any,
) -> dict[str, Any]:
    fields = {"botId": bot_id, "memoryId": memory_id, "action": action, "actor": actor, **extra}
    entry: dict[str, Any] = (await gql(LOG, {"input": fields}))["logMemoryAudit"]
    return entry


async def audit_log(gql: GraphQL, bot_id: str, **variables: Any) -> dict[str, Any]:
    page: dict[str, Any] = (await gql(AUDIT_LOG, {"botId": bot_id, **variables}))["auditLog"]
    return page


async def walk(fetch: Callable[[str | None], Awaitable[dict[str, Any]]]) -> list[str]:
    """Every node id of a connection, page by page (a cursor that does not advance fails)."""
    seen: list[str] = []
    after = None
    for _ in range(MAX_PAGES):
        page = await fetch(after)
        seen += [node["id"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError(f"more than {MAX_PAGES} pages: {seen[:20]}")


async def walk_ids(gql: GraphQL, bot_id: str, first: int, **variables: Any) -> list[str]:
    """Every entry id of auditLog, page by page."""
    return await walk(lambda after: audit_log(gql, bot_id, first=first, after=after, **variables))


# ---------------------------------------------------------------- reference cases (E.2)


async def test_log_memory_audit_returns_entry_with_server_id_and_time(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    entry = await log(gql, bot)
    assert entry == {
        "id": entry["id"],
        "botId": bot,
        "memoryId": MEMORY,
        "action": "ADD",
        "actor": "system",
        "details": None,
        "createdAt": NOW,
    }
    assert entry["id"][14] == "7"  # UUIDv7


async def test_audit_log_reads_back_a_logged_entry(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    entry = await log(gql, bot, "ADD", "system")
    page = await audit_log(gql, bot)
    assert page["nodes"] == [entry]
    assert page["totalCount"] == 1


async def test_memory_audit_trail_lists_one_memory_across_bots_newest_first(
    gql: GraphQL, clock: FakeClock
) -> None:
    first_bot = await new_bot(gql, "One")
    second_bot = await new_bot(gql, "Two")
    added = await log(gql, first_bot, "ADD", "system")
    clock.advance(seconds=1)
    await log(gql, first_bot, "ADD", "system", memory_id=OTHER_MEMORY)
    shared = await log(gql, second_bot, "SHARE", "user")
    data = (await gql(TRAIL, {"memoryId": MEMORY}))["memoryAuditTrail"]
    assert data["nodes"] == [
        {"id": shared["id"], "botId": second_bot, "action": "SHARE", "actor": "user"},
        {"id": added["id"], "botId": first_bot, "action": "ADD", "actor": "system"},
    ]
    assert data["totalCount"] == 2


async def test_log_memory_audit_accepts_all_five_actions(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    for index, action in enumerate(ACTIONS):
        await log(gql, bot, action, memory_id=f"01a20321-1ea8-77b0-98e8-acd5d6e5e1b{index}")
    page = await audit_log(gql, bot)
    assert [node["action"] for node in page["nodes"]] == ACTIONS[::-1]
    assert page["totalCount"] == 5


@pytest.mark.parametrize(
    "details",
    [
        {"merged_from": "abc", "merged_into": "def"},
        {"source": "manual", "fact": "likes tea", "n": 2**70 + 1, "list": [1, None, "é"]},
        "plain text",
        [1, 2],
        0,
        False,
    ],
)
async def test_log_memory_audit_keeps_details_exactly(gql: GraphQL, details: Any) -> None:
    bot = await new_bot(gql)
    entry = await log(gql, bot, "MERGE", details=details)
    assert entry["details"] == details
    assert (await audit_log(gql, bot))["nodes"][0]["details"] == details


async def test_audit_log_first_3_of_5_has_next_page(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    entries = [await log(gql, bot) for _ in range(5)]
    page = await audit_log(gql, bot, first=3)
    assert [node["id"] for node in page["nodes"]] == [entry["id"] for entry in entries[:1:-1]]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert page["totalCount"] == 5


# ---------------------------------------------------------------- order and pages


async def test_audit_log_is_newest_first(gql: GraphQL, clock: FakeClock) -> None:
    bot = await new_bot(gql)
    old = await log(gql, bot, actor="a")
    clock.advance(seconds=10)
    new = await log(gql, bot, actor="b")
    clock.advance(seconds=-5)  # a clock that stepped back: createdAt still decides
    middle = await log(gql, bot, actor="c")
    page = await audit_log(gql, bot)
    assert [node["id"] for node in page["nodes"]] == [new["id"], middle["id"], old["id"]]


async def test_audit_log_with_identical_timestamps_orders_by_id_descending(
    gql: GraphQL,
) -> None:
    bot = await new_bot(gql)
    ids = [(await log(gql, bot))["id"] for _ in range(12)]
    page = await audit_log(gql, bot)
    assert {node["createdAt"] for node in page["nodes"]} == {NOW}
    assert [node["id"] for node in page["nodes"]] == sorted(ids, reverse=True) == ids[::-1]


@pytest.mark.parametrize("first", [1, 2, 5, 12, 500])
async def test_audit_log_pages_walk_every_entry_exactly_once(
    gql: GraphQL, clock: FakeClock, first: int
) -> None:
    bot = await new_bot(gql)
    ids = []
    for index in range(12):
        ids.append((await log(gql, bot))["id"])
        if index % 5 == 4:
            clock.advance(microseconds=1)
    assert await walk_ids(gql, bot, first) == ids[::-1]


async def test_memory_audit_trail_pages_walk_every_entry_once(gql: GraphQL) -> None:
    bots = [await new_bot(gql, f"Bot {index}") for index in range(3)]
    ids = [(await log(gql, bots[index % 3]))["id"] for index in range(7)]

    async def fetch(after: str | None) -> dict[str, Any]:
        data = await gql(TRAIL, {"memoryId": MEMORY, "first": 3, "after": after})
        page: dict[str, Any] = data["memoryAuditTrail"]
        return page

    assert await walk(fetch) == ids[::-1]


# ["audit",1,2], ["audit","a\u0000","b"], ["kv","a"]
MALFORMED = [
    "",
    "garbage!",
    "WyJhdWRpdCIsMSwyXQ",
    "WyJhdWRpdCIsICJhXHUwMDAwIiwgImIiXQ",
    "WyJrdiIsImEiXQ",
]


@pytest.mark.parametrize("after", MALFORMED)
async def test_audit_log_malformed_cursor_is_bad_user_input(gql: GraphQL, after: str) -> None:
    bot = await new_bot(gql)
    errors = await gql.errors(AUDIT_LOG, {"botId": bot, "after": after})
    assert codes(errors) == ["BAD_USER_INPUT"]
    errors = await gql.errors(TRAIL, {"memoryId": MEMORY, "after": after})
    assert codes(errors) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("first", [0, -1, 501])
async def test_audit_log_page_size_outside_range_is_bad_user_input(
    gql: GraphQL, first: int
) -> None:
    bot = await new_bot(gql)
    assert codes(await gql.errors(AUDIT_LOG, {"botId": bot, "first": first})) == ["BAD_USER_INPUT"]


# ---------------------------------------------------------------- filters


async def _filtered_actors(gql: GraphQL, bot: str, audit_filter: dict[str, Any]) -> list[str]:
    page = await audit_log(gql, bot, filter=audit_filter)
    assert page["totalCount"] == len(page["nodes"])
    return [node["actor"] for node in page["nodes"]]


async def test_audit_log_filters_by_actions(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    for action in ACTIONS:
        await log(gql, bot, action, actor=action.lower())
    assert await _filtered_actors(gql, bot, {"actions": ["SHARE", "ADD"]}) == ["share", "add"]
    assert await _filtered_actors(gql, bot, {"actions": ["MERGE", "MERGE"]}) == ["merge"]
    assert await _filtered_actors(gql, bot, {"actions": ACTIONS}) == [
        "merge",
        "revoke",
        "share",
        "delete",
        "add",
    ]
    assert await _filtered_actors(gql, bot, {"actions": []}) == []
    assert await _filtered_actors(gql, bot, {"actions": None}) == [
        "merge",
        "revoke",
        "share",
        "delete",
        "add",
    ]


async def test_audit_log_filters_by_exact_actor(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    for actor in ("system", "System", "user", "system2", "%", "my-bot"):
        await log(gql, bot, actor=actor)
    assert await _filtered_actors(gql, bot, {"actor": "system"}) == ["system"]
    assert await _filtered_actors(gql, bot, {"actor": "%"}) == ["%"]
    assert await _filtered_actors(gql, bot, {"actor": "nobody"}) == []


async def test_audit_log_since_is_inclusive_and_until_exclusive(
    gql: GraphQL, clock: FakeClock
) -> None:
    bot = await new_bot(gql)
    for actor in ("t0", "t1", "t2", "t3"):
        await log(gql, bot, actor=actor)
        clock.advance(seconds=1)
    t1 = "2026-02-12T22:04:13.123456+00:00"
    t3 = "2026-02-12T23:04:15.123456+01:00"  # another offset for the same moment as t3
    assert await _filtered_actors(gql, bot, {"since": t1}) == ["t3", "t2", "t1"]
    assert await _filtered_actors(gql, bot, {"until": t3}) == ["t2", "t1", "t0"]
    assert await _filtered_actors(gql, bot, {"since": t1, "until": t3}) == ["t2", "t1"]
    assert await _filtered_actors(gql, bot, {"since": t3, "until": t1}) == []


async def test_audit_log_filters_combine_and_page(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    expected = []
    for index in range(9):
        entry = await log(gql, bot, ACTIONS[index % 2], actor="user" if index % 3 else "system")
        if entry["action"] == "ADD" and entry["actor"] == "user":
            expected.append(entry["id"])
    audit_filter = {"actions": ["ADD"], "actor": "user"}
    assert await walk_ids(gql, bot, 1, filter=audit_filter) == expected[::-1]
    assert len(expected) == 3


async def test_audit_log_since_a_year_below_1000_finds_later_entries(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    await log(gql, bot, actor="now")
    assert await _filtered_actors(gql, bot, {"since": "0999-06-01T00:00:00Z"}) == ["now"]
    assert await _filtered_actors(gql, bot, {"until": "0999-06-01T00:00:00Z"}) == []
    assert await _filtered_actors(gql, bot, {"since": "0001-01-01T00:00:00Z"}) == ["now"]


@pytest.mark.parametrize(
    "audit_filter",
    [
        {"actor": "a\x00"},
        {"actor": "a" * 4097},
        {"since": "2026-02-12T22:04:12"},
        {"until": "x"},
        {"since": "2026-W01-1T00:00:00Z"},  # ISO 8601 week date, not RFC 3339
        {"since": "20260101T000000Z"},  # ISO 8601 basic format
        {"since": "0000-01-01T00:00:00Z"},
        {"since": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC
        {"until": "9999-12-31T23:59:59-01:00"},  # after year 9999 in UTC
    ],
)
async def test_audit_log_bad_filter_is_bad_user_input(
    gql: GraphQL, audit_filter: dict[str, Any]
) -> None:
    bot = await new_bot(gql)
    errors = await gql.errors(AUDIT_LOG, {"botId": bot, "filter": audit_filter})
    assert codes(errors) == ["BAD_USER_INPUT"]


# ---------------------------------------------------------------- bad input and unknown bots


async def entries_of(gql: GraphQL, bot: str) -> int:
    return int((await audit_log(gql, bot))["totalCount"])


async def test_log_memory_audit_unknown_bot_is_not_found(gql: GraphQL) -> None:
    errors = await gql.errors(
        LOG,
        {"input": {"botId": UNKNOWN_BOT, "memoryId": MEMORY, "action": "ADD", "actor": "x"}},
    )
    assert codes(errors) == ["NOT_FOUND"]
    assert errors[0]["path"] == ["logMemoryAudit"]
    assert await entries_of(gql, UNKNOWN_BOT) == 0
    assert (await gql(TRAIL, {"memoryId": MEMORY}))["memoryAuditTrail"]["totalCount"] == 0


async def test_log_memory_audit_action_outside_enum_is_refused(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    inline = (
        f'mutation {{ logMemoryAudit(input: {{botId: "{bot}", memoryId: "{MEMORY}", '
        'action: FORGET, actor: "x"}) { id } }'
    )
    assert codes(await gql.errors(inline)) == ["GRAPHQL_VALIDATION_FAILED"]
    fields = {"botId": bot, "memoryId": MEMORY, "action": "add", "actor": "x"}
    assert codes(await gql.errors(LOG, {"input": fields})) == ["BAD_USER_INPUT"]
    assert await entries_of(gql, bot) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"actor": ""}, "actor must not be empty"),
        ({"actor": "a\x00b"}, "actor must not contain NUL characters"),
        ({"actor": "a" * 4097}, "actor is 4097 bytes; at most 4096 are allowed"),
        ({"memoryId": "nope"}, "memoryId 'nope' is not a valid UUID"),
        ({"botId": "nope"}, "botId 'nope' is not a valid UUID"),
        (
            {"details": "d" * 65535},
            "details is 65537 bytes of JSON; at most 65536 are allowed",
        ),
    ],
)
async def test_log_memory_audit_bad_input_is_bad_user_input_and_writes_nothing(
    gql: GraphQL, fields: dict[str, Any], message: str
) -> None:
    bot = await new_bot(gql)
    base = {"botId": bot, "memoryId": MEMORY, "action": "ADD", "actor": "system"}
    errors = await gql.errors(LOG, {"input": {**base, **fields}})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == message
    assert await entries_of(gql, bot) == 0


async def test_log_memory_audit_accepts_64_kib_details_and_4_kib_actor(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    details = "d" * (64 * 1024 - 2)  # plus the quotes: 64 KiB of JSON text
    entry = await log(gql, bot, actor="é" * 2048, details=details)
    assert (entry["details"], entry["actor"]) == (details, "é" * 2048)


async def test_audit_log_unknown_bot_is_empty(gql: GraphQL) -> None:
    page = await audit_log(gql, UNKNOWN_BOT)
    assert (page["nodes"], page["totalCount"]) == ([], 0)


async def test_audit_queries_with_invalid_ids_are_bad_user_input(gql: GraphQL) -> None:
    assert codes(await gql.errors(AUDIT_LOG, {"botId": "x"})) == ["BAD_USER_INPUT"]
    assert codes(await gql.errors(TRAIL, {"memoryId": "x"})) == ["BAD_USER_INPUT"]


# ---------------------------------------------------------------- outliving the bot, node, bot


async def test_delete_bot_keeps_its_audit_trail_with_bot_null(gql: GraphQL) -> None:
    bot = await new_bot(gql, "Gone")
    await gql('mutation($id: ID!) { setKv(botId: $id, key: "k", value: 1) { key } }', {"id": bot})
    entry = await log(gql, bot, "DELETE", "user", details={"why": "cleanup"})
    with_bot = (
        f"query($botId: ID!) {{ auditLog(botId: $botId) {{ nodes {{ {ENTRY} bot {{ name }} }} }} }}"
    )
    before = (await gql(with_bot, {"botId": bot}))["auditLog"]["nodes"]
    assert before == [{**entry, "bot": {"name": "Gone"}}]
    await gql(DELETE_BOT, {"id": bot})
    after = (await gql(with_bot, {"botId": bot}))["auditLog"]["nodes"]
    assert after == [{**entry, "bot": None}]
    assert (await gql(TRAIL, {"memoryId": MEMORY}))["memoryAuditTrail"]["totalCount"] == 1
    keys = await gql("query($id: ID!) { kvKeys(botId: $id) }", {"id": bot})
    assert keys["kvKeys"] == []
    errors = await gql.errors(
        LOG, {"input": {"botId": bot, "memoryId": MEMORY, "action": "ADD", "actor": "x"}}
    )
    assert codes(errors) == ["NOT_FOUND"]


async def test_node_returns_memory_audit_entry(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    entry = await log(gql, bot, "REVOKE", "my-bot", details={"revoked_by": "my-bot"})
    data = await gql(
        "query($id: ID!) { node(id: $id) { __typename "
        f"... on MemoryAuditEntry {{ {ENTRY} }} }} }}",
        {"id": entry["id"].upper()},
    )
    assert data["node"] == {"__typename": "MemoryAuditEntry", **entry}


async def test_no_mutation_edits_or_deletes_audit_entries(gql: GraphQL) -> None:
    data = await gql("{ __schema { mutationType { fields { name } } } }")
    names = [field["name"] for field in data["__schema"]["mutationType"]["fields"]]
    assert [name for name in names if "audit" in name.lower()] == ["logMemoryAudit"]


BOTS_AUDIT = """
query($filter: AuditLogFilter) {
  bots(first: 50) {
    nodes {
      name
      auditLog(filter: $filter, first: 2) { totalCount nodes { actor bot { name } } }
    }
  }
}
"""


async def _bots_audit_statements(gql: GraphQL, app: Starlette, bots: int) -> int:
    existing = len((await gql("{ bots(first: 500) { nodes { id } } }"))["bots"]["nodes"])
    for index in range(existing, bots):
        bot = await new_bot(gql, f"Bot {index}")
        for actor in ("system", "user", "system"):
            await log(gql, bot, actor=actor)
    before = app.state.db.counter.count
    nodes = (await gql(BOTS_AUDIT, {"filter": {"actor": "system"}}))["bots"]["nodes"]
    assert len(nodes) == bots
    for node in nodes:
        assert node["auditLog"] == {
            "totalCount": 2,
            "nodes": [{"actor": "system", "bot": {"name": node["name"]}}] * 2,
        }
    statements: int = app.state.db.counter.count - before
    return statements


async def test_bots_with_audit_log_costs_the_same_for_5_and_50_bots(
    gql: GraphQL, app: Starlette
) -> None:
    five = await _bots_audit_statements(gql, app, 5)
    fifty = await _bots_audit_statements(gql, app, 50)
    # bots page, audit pages, audit counts, entry bots
    assert five == fifty == 4


async def test_bot_audit_log_aliases_with_other_filters_page_separately(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    for action in ACTIONS:
        await log(gql, bot, action)
    data = await gql(
        """query($id: ID) { bot(id: $id) {
          adds: auditLog(filter: {actions: [ADD]}) { nodes { action } totalCount }
          latest: auditLog(first: 1) { nodes { action } pageInfo { hasNextPage } }
          all: auditLog { totalCount }
        } }""",
        {"id": bot},
    )
    assert data["bot"] == {
        "adds": {"nodes": [{"action": "ADD"}], "totalCount": 1},
        "latest": {"nodes": [{"action": "MERGE"}], "pageInfo": {"hasNextPage": True}},
        "all": {"totalCount": 5},
    }


async def test_bot_audit_log_pages_with_cursor(gql: GraphQL) -> None:
    bot = await new_bot(gql)
    ids = [(await log(gql, bot))["id"] for _ in range(5)]
    query = """query($id: ID, $after: String) { bot(id: $id) {
      auditLog(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }"""

    async def fetch(after: str | None) -> dict[str, Any]:
        page: dict[str, Any] = (await gql(query, {"id": bot, "after": after}))["bot"]["auditLog"]
        return page

    assert await walk(fetch) == ids[::-1]
