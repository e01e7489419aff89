"""Builder drafts through the GraphQL API: the reference's cases (domain.md E.5), createdAt kept,
revisions, optimistic concurrency, listing order and pages, malformed stored states, bad input."""

import json
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette

from tests.conftest import FakeClock, GraphQL, codes

DRAFT_FIELDS = "sessionId state schemaVersion revision createdAt updatedAt initialDescription phase"
SAVE = (
    "mutation($input: SaveBuilderDraftInput!) "
    f"{{ saveBuilderDraft(input: $input) {{ {DRAFT_FIELDS} }} }}"
)
GET = f"query($id: ID!) {{ builderDraft(sessionId: $id) {{ {DRAFT_FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteBuilderDraft(sessionId: $id) }"
LIST = """
query($first: Int, $after: String) {
  builderDrafts(first: $first, after: $after) {
    totalCount
    nodes { sessionId initialDescription phase updatedAt }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
NOW = "2026-02-12T22:04:12.123456+00:00"
ID1 = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a1"
ID2 = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a2"
ID3 = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a3"
MIB = 1024 * 1024


def make_state(session_id: str, description: str, phase: str) -> dict[str, Any]:
    """The reference's make_draft state (domain.md E.5)."""
    return {
        "session_id": session_id,
        "phase": phase,
        "initial_description": description,
        "purpose_category": None,
        "conversation": [],
        "config": {},
        "phase_history": [],
    }


async def save(gql: GraphQL, session_id: str, state: Any, **fields: Any) -> dict[str, Any]:
    data = await gql(SAVE, {"input": {"sessionId": session_id, "state": state, **fields}})
    draft: dict[str, Any] = data["saveBuilderDraft"]
    return draft


async def get(gql: GraphQL, session_id: str) -> dict[str, Any] | None:
    draft: dict[str, Any] | None = (await gql(GET, {"id": session_id}))["builderDraft"]
    return draft


async def total(gql: GraphQL) -> int:
    count: int = (await gql(LIST, {}))["builderDrafts"]["totalCount"]
    return count


async def test_save_builder_draft_round_trip_returns_state_as_saved(gql: GraphQL) -> None:
    state = make_state(ID1, "A coding bot", "basics")
    saved = await save(gql, ID1, state)
    assert saved == {
        "sessionId": ID1,
        "state": state,
        "schemaVersion": 1,
        "revision": 1,
        "createdAt": NOW,
        "updatedAt": NOW,
        "initialDescription": "A coding bot",
        "phase": "BASICS",
    }
    assert await get(gql, ID1) == saved


async def test_save_builder_draft_keeps_nested_values_and_key_order(gql: GraphQL) -> None:
    state = {"z": 1, "a": [1.5, None, True, {"y": "é\u0000", "b": 2**70}], "m": {}}
    saved = await save(gql, ID1, state)
    stored = await get(gql, ID1)
    assert stored is not None
    assert saved["state"] == stored["state"] == state
    assert list(stored["state"]) == ["z", "a", "m"]


async def test_save_builder_draft_normalises_session_id(gql: GraphQL) -> None:
    saved = await save(gql, ID1.upper(), make_state(ID1, "x", "basics"))
    assert saved["sessionId"] == ID1
    assert (await get(gql, ID1.replace("-", "")))["sessionId"] == ID1  # type: ignore[index]


async def test_save_builder_draft_twice_upserts_keeps_created_at_and_counts_revisions(
    gql: GraphQL, clock: FakeClock
) -> None:
    await save(gql, ID1, make_state(ID1, "A coding bot", "basics"))
    clock.advance(seconds=5)
    second = make_state(ID1, "A coding bot", "personality")
    await save(gql, ID1, second)
    clock.advance(seconds=5)
    third = await save(gql, ID1, second)
    assert (third["state"], third["phase"], third["revision"]) == (second, "PERSONALITY", 3)
    assert (third["createdAt"], third["updatedAt"]) == (
        NOW,
        "2026-02-12T22:04:22.123456+00:00",
    )
    assert await get(gql, ID1) == third
    assert await total(gql) == 1


async def test_builder_draft_missing_is_null(gql: GraphQL) -> None:
    assert await get(gql, ID1) is None


async def test_save_builder_draft_keeps_schema_version(gql: GraphQL) -> None:
    await save(gql, ID1, make_state(ID1, "v2", "basics"), schemaVersion=2)
    assert (await get(gql, ID1))["schemaVersion"] == 2  # type: ignore[index]


async def test_delete_builder_draft_removes_it(gql: GraphQL) -> None:
    await save(gql, ID1, make_state(ID1, "temp", "basics"))
    assert (await gql(DELETE, {"id": ID1}))["deleteBuilderDraft"] is True
    assert await get(gql, ID1) is None


async def test_delete_builder_draft_absent_is_false(gql: GraphQL) -> None:
    assert (await gql(DELETE, {"id": ID1}))["deleteBuilderDraft"] is False


async def test_builder_drafts_lists_newest_first_with_summaries(
    gql: GraphQL, clock: FakeClock
) -> None:
    await save(gql, ID1, make_state(ID1, "Bot alpha", "basics"))
    clock.advance(milliseconds=10)
    await save(gql, ID2, make_state(ID2, "Bot beta", "personality"))
    drafts = (await gql(LIST, {}))["builderDrafts"]
    assert drafts["totalCount"] == 2
    assert drafts["nodes"] == [
        {
            "sessionId": ID2,
            "initialDescription": "Bot beta",
            "phase": "PERSONALITY",
            "updatedAt": "2026-02-12T22:04:12.133456+00:00",
        },
        {"sessionId": ID1, "initialDescription": "Bot alpha", "phase": "BASICS", "updatedAt": NOW},
    ]


async def test_builder_drafts_resave_moves_draft_to_front(gql: GraphQL, clock: FakeClock) -> None:
    for session_id in (ID1, ID2):
        await save(gql, session_id, make_state(session_id, "x", "basics"))
        clock.advance(seconds=1)
    await save(gql, ID1, make_state(ID1, "x", "model"))
    nodes = (await gql(LIST, {}))["builderDrafts"]["nodes"]
    assert [node["sessionId"] for node in nodes] == [ID1, ID2]


async def test_builder_drafts_pages_walk_ties_by_session_id_descending(
    gql: GraphQL, clock: FakeClock
) -> None:
    ids = [f"01a20321-1ea8-77b0-98e8-acd5d6e5e1{index:02x}" for index in range(7)]
    for index, session_id in enumerate(ids):
        await save(gql, session_id, make_state(session_id, f"draft {index}", "basics"))
        if index == 3:
            clock.advance(seconds=1)
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(LIST, {"first": 2, "after": after}))["builderDrafts"]
        seen += [node["sessionId"] for node in page["nodes"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids[4:][::-1] + ids[:4][::-1]
    assert page["totalCount"] == 7


async def _store_raw(app: Starlette, session_id: str, state_text: str) -> None:
    """A row written outside this API (an older version, a manual edit)."""
    async with app.state.db.write() as conn:
        await conn.execute(
            "INSERT INTO builder_drafts (session_id, state, schema_version, revision, "
            "created_at, updated_at) VALUES (:id, :state, 1, 1, :now, :now)",
            {"id": session_id, "state": state_text, "now": NOW},
        )


@pytest.mark.parametrize(
    ("state_text", "state", "description", "phase"),
    [
        ("{not json", "{not json", "", None),
        ("[1,2]", [1, 2], "", None),
        ('"basics"', "basics", "", None),
        (
            '{"initial_description":7,"phase":"launch"}',
            {"initial_description": 7, "phase": "launch"},
            "",
            None,
        ),
        (
            '{"initial_description":null,"phase":["review"]}',
            {"initial_description": None, "phase": ["review"]},
            "",
            None,
        ),
        ('{"config":{"phase":"review"}}', {"config": {"phase": "review"}}, "", None),
        (
            '{"initial_description":"ok","phase":"review"}',
            {"initial_description": "ok", "phase": "review"},
            "ok",
            "REVIEW",
        ),
    ],
)
async def test_builder_drafts_malformed_stored_state_lists_with_empty_summary(
    gql: GraphQL, app: Starlette, state_text: str, state: Any, description: str, phase: Any
) -> None:
    await _store_raw(app, ID1, state_text)
    await save(gql, ID2, make_state(ID2, "good", "skills"))
    query = "{ builderDrafts { nodes { sessionId state initialDescription phase } } }"
    nodes = (await gql(query))["builderDrafts"]["nodes"]
    assert nodes == [
        {
            "sessionId": ID2,
            "state": make_state(ID2, "good", "skills"),
            "initialDescription": "good",
            "phase": "SKILLS",
        },
        {"sessionId": ID1, "state": state, "initialDescription": description, "phase": phase},
    ]


async def test_save_builder_draft_with_current_revision_succeeds(
    gql: GraphQL, clock: FakeClock
) -> None:
    await save(gql, ID1, make_state(ID1, "x", "basics"))
    clock.advance(seconds=1)
    saved = await save(gql, ID1, make_state(ID1, "x", "model"), expectedRevision=1)
    assert (saved["revision"], saved["phase"], saved["createdAt"]) == (2, "MODEL", NOW)


async def test_save_builder_draft_with_stale_revision_is_precondition_failed(
    gql: GraphQL, clock: FakeClock
) -> None:
    await save(gql, ID1, make_state(ID1, "x", "basics"))
    clock.advance(seconds=1)
    winner = await save(gql, ID1, make_state(ID1, "tab one", "model"), expectedRevision=1)
    clock.advance(seconds=1)
    errors = await gql.errors(
        SAVE,
        {
            "input": {
                "sessionId": ID1,
                "state": make_state(ID1, "tab two", "skills"),
                "expectedRevision": 1,
            }
        },
    )
    assert codes(errors) == ["PRECONDITION_FAILED"]
    assert errors[0]["message"] == (
        f"draft {ID1} has changed: it is at revision 2, updated at "
        "2026-02-12T22:04:13.123456+00:00; reload it and save again"
    )
    assert await get(gql, ID1) == winner


async def test_save_builder_draft_with_stale_updated_at_is_precondition_failed(
    gql: GraphQL, clock: FakeClock
) -> None:
    first = await save(gql, ID1, make_state(ID1, "x", "basics"))
    clock.advance(seconds=1)
    winner = await save(
        gql, ID1, make_state(ID1, "tab one", "model"), expectedUpdatedAt=first["updatedAt"]
    )
    assert winner["revision"] == 2
    clock.advance(seconds=1)
    errors = await gql.errors(
        SAVE,
        {"input": {"sessionId": ID1, "state": {}, "expectedUpdatedAt": first["updatedAt"]}},
    )
    assert codes(errors) == ["PRECONDITION_FAILED"]
    assert await get(gql, ID1) == winner


async def test_save_builder_draft_updated_at_in_other_offset_matches(
    gql: GraphQL, clock: FakeClock
) -> None:
    await save(gql, ID1, make_state(ID1, "x", "basics"))
    clock.advance(seconds=1)
    saved = await save(gql, ID1, {}, expectedUpdatedAt="2026-02-12T23:04:12.123456+01:00")
    assert saved["revision"] == 2


async def test_save_builder_draft_needs_both_expectations_to_match(
    gql: GraphQL, clock: FakeClock
) -> None:
    first = await save(gql, ID1, make_state(ID1, "x", "basics"))
    clock.advance(seconds=1)
    errors = await gql.errors(
        SAVE,
        {
            "input": {
                "sessionId": ID1,
                "state": {},
                "expectedRevision": 1,
                "expectedUpdatedAt": "2026-02-12T22:04:12Z",
            }
        },
    )
    assert codes(errors) == ["PRECONDITION_FAILED"]
    assert await get(gql, ID1) == first


@pytest.mark.parametrize(
    "expected",
    [{"expectedRevision": 1}, {"expectedUpdatedAt": NOW}],
)
async def test_save_builder_draft_expecting_absent_draft_is_precondition_failed(
    gql: GraphQL, expected: dict[str, Any]
) -> None:
    errors = await gql.errors(
        SAVE, {"input": {"sessionId": ID1, "state": make_state(ID1, "x", "basics"), **expected}}
    )
    assert codes(errors) == ["PRECONDITION_FAILED"]
    assert errors[0]["message"] == (
        f"no draft {ID1} is stored; save without expectedRevision and expectedUpdatedAt to "
        "create it"
    )
    assert await get(gql, ID1) is None


async def test_save_builder_draft_accepts_exactly_one_mib_of_state(gql: GraphQL) -> None:
    state = {"x": "a" * (MIB - len('{"x":""}'))}
    assert len(orjson.dumps(state)) == MIB
    saved = await save(gql, ID1, state)
    assert saved["state"] == state


def nested(depth: int) -> dict[str, Any]:
    """Objects nested depth levels deep, innermost holding an empty array."""
    state: dict[str, Any] = {"leaf": []}
    for _ in range(depth - 2):
        state = {"a": state}
    return state


async def test_save_builder_draft_accepts_state_nested_100_levels(gql: GraphQL) -> None:
    saved = await save(gql, ID1, nested(100))
    assert saved["state"] == nested(100)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"state": [1, 2]}, "state must be a JSON object, not list"),
        ({"state": "text"}, "state must be a JSON object, not str"),
        ({"state": 3}, "state must be a JSON object, not int"),
        (
            {"state": {"x": "a" * (MIB - 7)}},
            f"state is {MIB + 1} bytes of JSON; at most {MIB} are allowed",
        ),
        (
            {"state": {"é": "é" * (MIB // 2 - 4)}},
            f"state is {MIB + 1} bytes of JSON; at most {MIB} are allowed",
        ),
        ({"state": nested(101)}, "state is nested more than 100 levels deep"),
        ({"sessionId": "not-a-uuid"}, "sessionId 'not-a-uuid' is not a valid UUID"),
        ({"schemaVersion": 0}, "schemaVersion must be at least 1, not 0"),
        ({"expectedRevision": 0}, "expectedRevision must be at least 1, not 0"),
    ],
)
async def test_save_builder_draft_with_bad_input_writes_nothing(
    gql: GraphQL, fields: dict[str, Any], message: str
) -> None:
    variables = {"input": {"sessionId": ID1, "state": {}, **fields}}
    errors = await gql.errors(SAVE, variables)
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == message
    assert await total(gql) == 0


@pytest.mark.parametrize(
    "fields",
    [{"state": None}, {"expectedUpdatedAt": "2026-02-12T22:04:12"}, {"schemaVersion": 2**31}],
)
async def test_save_builder_draft_with_uncoercible_input_writes_nothing(
    gql: GraphQL, fields: dict[str, Any]
) -> None:
    errors = await gql.errors(SAVE, {"input": {"sessionId": ID1, "state": {}, **fields}})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert await total(gql) == 0


async def test_save_builder_draft_with_lone_surrogate_writes_nothing(gql: GraphQL) -> None:
    body = json.dumps(
        {"query": SAVE, "variables": {"input": {"sessionId": ID1, "state": {"k": "\ud800"}}}}
    )
    assert "\\ud800" in body
    response = await gql.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["message"]) == (
        "BAD_USER_INPUT",
        "state holds a string that is not valid Unicode",
    )
    assert await total(gql) == 0


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (GET, {"id": "nope"}),
        (DELETE, {"id": "nope"}),
        (LIST, {"first": 0}),
        (LIST, {"first": 501}),
        (LIST, {"after": ""}),
        (LIST, {"after": "WyJib3QiLCJhIl0"}),
    ],
)
async def test_builder_draft_reads_with_bad_arguments_are_bad_user_input(
    gql: GraphQL, query: str, variables: dict[str, Any]
) -> None:
    assert codes(await gql.errors(query, variables)) == ["BAD_USER_INPUT"]
