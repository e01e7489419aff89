"""Issue 16, items 2 and 4: clients this project did not write, in Node, against a real uvicorn.

graphql-http's serverAudits (the GraphQL-over-HTTP specification's own checks), and the README's
settings for Apollo Client 4, urql, Relay, graphql-request, plain fetch and graphql-ws: each
snippet of the README's Clients section is run as written (URL and key filled in)."""

import os
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients.node import readme_snippets, require_node, run_node, write_snippets
from tests.security.keyed import keyed_server
from tests.server import running_server

pytestmark = pytest.mark.server
VALIDATION = "GRAPHQL_VALIDATION_FAILED"
NOPE = "Cannot query field 'nope' on type 'Query'. Did you mean 'node'?"


def combined(message: str, code: str) -> dict[str, Any]:
    return {"combined": True, "errors": [[message, code]]}


async def test_graphql_http_server_audits_pass_with_a_preflight_header(tmp_path: Path) -> None:
    """Before: 0 errors, 4 warnings, 4 notices (the server never answered
    application/graphql-response+json; parse, validation and variable errors were 400 in
    application/json; extensions were not checked)."""
    require_node()
    async with running_server(tmp_path / "data") as url:
        results = await run_node("audit.mjs", f"{url}/graphql")
    assert len(results) == 61
    failed = [result for result in results if result["status"] != "ok"]
    assert failed == []
    assert Counter(result["status"] for result in results) == {"ok": 61}


def test_the_readme_has_every_client_snippet() -> None:
    assert sorted(readme_snippets()) == [
        "apollo-get.mjs",
        "apollo-upload.mjs",
        "apollo.mjs",
        "fetch.mjs",
        "graphql-request.mjs",
        "graphql-ws.mjs",
        "relay.mjs",
        "urql.mjs",
    ]


async def test_readme_clients_against_a_real_server(tmp_path: Path) -> None:
    require_node()
    async with keyed_server(tmp_path, {"BOTERNITY_MAX_BODY_BYTES": "65536"}) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=server.bearer("write")) as http:
            created = await http.post(
                "/graphql", json={"query": 'mutation { createBot(input: {name: "Node"}) { id } }'}
            )
            bot_id = created.json()["data"]["createBot"]["id"]
        write_snippets(server.url, server.keys["write"])
        env = {
            **os.environ,
            "GRAPHQL_URL": f"{server.url}/graphql",
            "READ_KEY": server.keys["read"],
            "BOT_ID": bot_id,
        }
        seen = await run_node("clients.mjs", env=env)
    count = {"bots": {"totalCount": 1}}
    apollo_count = {"bots": {"__typename": "BotConnection", "totalCount": 1}}
    assert seen["apolloQuery"] == {
        "value": {"data": apollo_count},
        "sent": ["POST application/json"],
    }
    assert seen["apolloValidation"] == combined(
        "Cannot query field 'nope' on type 'BotConnection'. Did you mean 'nodes'?", VALIDATION
    )
    assert seen["apolloParse"] == combined("Syntax Error: Unexpected '}'.", "GRAPHQL_PARSE_FAILED")
    assert seen["apolloVariables"] == combined(
        "Variable '$n' has invalid value: Int cannot represent non-integer value: 'ten'",
        "BAD_USER_INPUT",
    )
    assert seen["apolloNoKey"]["combined"] is True
    assert [code for _, code in seen["apolloNoKey"]["errors"]] == ["UNAUTHENTICATED"]
    assert seen["apolloNoKey"]["errors"][0][0].startswith(
        "an API key is required: send the header Authorization: Bearer <key>"
    )
    assert seen["apolloReadKeyMutation"] == combined(
        "the API key 'read' has scope read; mutations need write", "FORBIDDEN"
    )
    assert seen["apolloTooComplex"] == combined(
        "the query uses 40 aliases; at most 30 are allowed", "QUERY_TOO_COMPLEX"
    )
    assert seen["apolloTooLarge"] == combined("the body is over 65536 bytes", "PAYLOAD_TOO_LARGE")
    assert seen["apolloGetQuery"] == {
        "value": {"data": apollo_count},
        "sent": ["GET application/json"],
    }
    assert seen["apolloGetValidation"] == {
        "value": combined(NOPE, VALIDATION),
        "sent": ["GET application/json"],
    }
    assert seen["apolloGetMutation"] == {
        "value": {"data": {"setKv": {"__typename": "KvEntry", "key": "via"}}},
        "sent": ["POST application/json"],
    }
    assert seen["apolloUpload"] == {
        "value": {
            "data": {
                "uploadFile": {"__typename": "StorageFile", "filename": "notes.txt", "sizeBytes": 5}
            }
        },
        "sent": ["POST -"],  # fetch sets multipart/form-data with its boundary itself
    }
    assert seen["urqlGet"] == {"value": {"data": count}, "sent": ["GET -"]}
    assert seen["urqlPost"] == {"value": {"data": count}, "sent": ["POST application/json"]}
    assert seen["urqlError"] == {
        "value": {"errors": [[NOPE, VALIDATION]]},
        "sent": ["GET -"],
    }
    assert seen["relay"] == {"data": count}
    assert seen["graphqlRequest"] == count
    assert seen["graphqlRequestError"] == {
        "status": 200,
        "errors": [["first must be between 1 and 500, not 0", "BAD_USER_INPUT"]],
    }
    assert seen["fetch"] == {"data": {"bot": {"name": "Node"}}}
    assert seen["fetchError"] == {
        "errors": [
            {
                "message": NOPE,
                "locations": [{"line": 1, "column": 3}],
                "extensions": {"code": VALIDATION},
            }
        ]
    }
    assert seen["graphqlWs"] == {
        "data": {"kvChanged": {"key": "live", "deleted": False, "entry": {"value": "on"}}}
    }
