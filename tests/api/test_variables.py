"""Variables bounded before coercion: list lengths (app/variables.py) and max_variables_bytes."""

from typing import Any

from tests.api.test_graphql_http import custom_client, only_error
from tests.api.upload_helpers import create_bot, upload

__all__ = ["custom_client"]  # the fixture, shared

ACTIONS = ["ADD", "DELETE", "SHARE", "REVOKE", "MERGE"]
AUDIT = "query($b: ID!, $f: AuditLogFilter) { auditLog(botId: $b, filter: $f) { totalCount } }"
BOT = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"
BY_SLUG = "query($s: String) { bot(slug: $s) { id } }"
PREFLIGHT = {"Apollo-Require-Preflight": "1"}


async def test_an_enum_list_holds_at_most_the_enums_values(custom_client: Any) -> None:
    http = await custom_client()
    at = {"b": BOT, "f": {"actions": ACTIONS}}
    assert (await http.post("/graphql", json={"query": AUDIT, "variables": at})).json() == {
        "data": {"auditLog": {"totalCount": 0}}
    }
    over = {"b": BOT, "f": {"actions": [*ACTIONS, "ADD"]}}
    response = await http.post("/graphql", json={"query": AUDIT, "variables": over})
    assert response.status_code == 400
    assert only_error(response) == {
        "message": "$f.actions holds 6 items; at most 5 are allowed",
        "extensions": {"code": "BAD_USER_INPUT"},
    }


async def test_list_bounds_apply_inside_input_objects_and_lists(custom_client: Any) -> None:
    http = await custom_client()
    query = "mutation($b: ID!, $e: [KvSetInput!]!) { setKvMany(botId: $b, entries: $e) { key } }"
    entries = [{"key": f"k{n}"} for n in range(1001)]
    response = await http.post(
        "/graphql", json={"query": query, "variables": {"b": BOT, "e": entries}}
    )
    assert only_error(response) == {
        "message": "$e holds 1001 items; at most 1000 are allowed",
        "extensions": {"code": "BAD_USER_INPUT"},
    }
    tags = "mutation($i: CreateBotInput!) { createBot(input: $i) { slug } }"
    many = {"i": {"name": "Tagged", "tags": ["t"] * 51}}
    response = await http.post("/graphql", json={"query": tags, "variables": many})
    assert only_error(response)["message"] == "$i.tags holds 51 items; at most 50 are allowed"
    assert (await http.post("/graphql", json={"query": "{ bots { totalCount } }"})).json() == {
        "data": {"bots": {"totalCount": 0}}
    }


async def test_variables_at_the_byte_limit_run_and_one_byte_over_is_413(
    custom_client: Any,
) -> None:
    http = await custom_client(max_variables_bytes="100")
    at = {"s": "x" * (100 - len('{"s":""}'))}
    response = await http.post("/graphql", json={"query": BY_SLUG, "variables": at})
    assert response.json() == {"data": {"bot": None}}
    over = {"s": "x" * (101 - len('{"s":""}'))}
    response = await http.post("/graphql", json={"query": BY_SLUG, "variables": over})
    assert response.status_code == 413
    assert only_error(response) == {
        "message": "the variables are over 100 bytes of JSON (uploads go as multipart)",
        "extensions": {"code": "PAYLOAD_TOO_LARGE"},
    }
    batch = [{"query": BY_SLUG, "variables": at}, {"query": BY_SLUG, "variables": over}]
    assert (await http.post("/graphql", json=batch)).status_code == 413
    get = await http.get(
        "/graphql",
        params={"query": BY_SLUG, "variables": f'{{"s":"{over["s"]}"}}'},
        headers=PREFLIGHT,
    )
    assert (get.status_code, only_error(get)["extensions"]) == (413, {"code": "PAYLOAD_TOO_LARGE"})


async def test_an_upload_is_not_held_to_the_variables_limit(custom_client: Any) -> None:
    http = await custom_client(max_variables_bytes="30")  # createBot's fit, not the upload's
    bot = await create_bot(http)
    response = await upload(http, bot, "notes.txt", b"hello")
    assert response.json()["data"]["uploadFile"]["filename"] == "notes.txt"
