"""Issue 14, items 2 to 5: the attacks that made one read request cost the server seconds of CPU
or hundreds of MB, each against a real uvicorn (tests/server.py), bounded in count and time.

Before the fixes: the fragment bomb walked every spread again (exponential: 4 spreads over 15
levels is minutes of CPU with the event loop blocked); parent links looped within the depth
limit (160,000 entries here); aliases inside fragments were counted once per definition; a
batch selecting one large value many times built a response of every copy; a list variable of
1.2 M enum values was coerced item by item. Each test asserts the coded refusal."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import Server, started_server

pytestmark = pytest.mark.server
TIMEOUT_S = 60.0  # a request the old code spent minutes on fails here instead of hanging
CREATE = 'mutation { createBot(input: {name: "Victim"}) { id } }'
SET = "mutation($b: ID!, $k: String!, $v: JSON) { setKv(botId: $b, key: $k, value: $v) { key } }"


def peak_rss_mib(server: Server) -> float:
    for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def first_code(body: Any) -> str:
    answer = body[0] if isinstance(body, list) else body
    code: str = answer["errors"][0]["extensions"]["code"]
    return code


async def victim(http: httpx.AsyncClient, keys: int, value: Any) -> str:
    made = await http.post("/graphql", json={"query": CREATE})
    bot: str = made.json()["data"]["createBot"]["id"]
    for n in range(keys):
        variables = {"b": bot, "k": f"k{n}", "v": value}
        done = await http.post("/graphql", json={"query": SET, "variables": variables})
        assert "errors" not in done.json()
    return bot


@pytest.fixture
async def server(tmp_path: Path) -> Any:
    async with started_server(tmp_path / "data") as started:
        yield started


@pytest.fixture
async def http(server: Server) -> Any:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT_S) as client:
        yield client


async def test_the_fragment_spread_bomb_is_refused_at_once(http: httpx.AsyncClient) -> None:
    bot = await victim(http, 0, None)
    fragments = [
        f"fragment F{n} on Bot {{ id {' '.join([f'...F{n + 1}'] * 4)} }}" for n in range(14)
    ]
    query = (
        f'{{ bot(id: "{bot}") {{ ...F0 }} }} ' + " ".join(fragments) + " fragment F14 on Bot { id }"
    )
    response = await http.post("/graphql", json={"query": query})
    assert first_code(response.json()) == "QUERY_TOO_COMPLEX"
    assert response.json()["errors"][0]["extensions"]["maxCost"] == 100_000
    assert (await http.get("/healthz")).json() == {"status": "ok"}


async def test_a_parent_link_loop_within_the_depth_limit_is_refused(
    http: httpx.AsyncClient,
) -> None:
    bot = await victim(http, 10, 1)
    inner = "a: kvEntries { nodes { key } } b: kvEntries { nodes { key } }"
    for _ in range(3):  # 4 levels of 2 aliases x 10 entries: 160,000 entries, 30 aliases
        inner = " ".join(
            f"{alias}: kvEntries {{ nodes {{ bot {{ {inner} }} }} }}" for alias in "ab"
        )
    query = f'{{ bot(id: "{bot}") {{ {inner} }} }}'
    response = await http.post("/graphql", json={"query": query})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] > error["extensions"]["maxCost"] == 100_000


async def test_aliases_inside_fragments_are_counted_per_use(http: httpx.AsyncClient) -> None:
    bot = await victim(http, 0, None)
    aliases = " ".join(f"a{n}: name" for n in range(16))
    query = (
        f'{{ x: bot(id: "{bot}") {{ ...A }} y: bot(id: "{bot}") {{ ...A }} }} '
        f"fragment A on Bot {{ {aliases} }}"
    )  # 2 + 2 x 16 = 34 aliases per use; 18 as written
    response = await http.post("/graphql", json={"query": query})
    assert response.json()["errors"][0] == {
        "message": "the query uses 34 aliases; at most 30 are allowed",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }


async def test_a_large_value_selected_many_times_in_a_batch_stays_within_the_budget(
    server: Server, http: httpx.AsyncClient
) -> None:
    bot = await victim(http, 1, "x" * 1_000_000)  # 1 MB
    entry = " ".join(f'a{n}: kvEntry(botId: "{bot}", key: "k0") {{ value }}' for n in range(10))
    batch = [{"query": f"{{ {entry} }}"}] * 3  # 30 MB of values; the budget is 16 MiB
    response = await http.post("/graphql", json=batch)
    answers = response.json()
    assert [sorted(answer) for answer in answers[:1]] == [["data"]]  # the first 10 MB fit
    assert first_code(answers[1:]) == "PAYLOAD_TOO_LARGE"
    assert len(response.content) < 16 * 1024 * 1024
    assert peak_rss_mib(server) < 300


async def test_a_huge_enum_list_variable_is_refused_before_coercion(
    http: httpx.AsyncClient,
) -> None:
    bot = await victim(http, 0, None)
    query = (
        "query($b: ID!, $a: [AuditAction!]) "
        "{ auditLog(botId: $b, filter: {actions: $a}) { totalCount } }"
    )
    huge = json.dumps(
        {"query": query, "variables": {"b": bot, "a": ["ADD"] * 1_200_000}}, separators=(",", ":")
    )
    assert 6 * 1024 * 1024 < len(huge) < 8 * 1024 * 1024  # under the body limit
    headers = {"content-type": "application/json"}
    response = await http.post("/graphql", content=huge, headers=headers)
    assert (response.status_code, first_code(response.json())) == (413, "PAYLOAD_TOO_LARGE")
    six = {"query": query, "variables": {"b": bot, "a": ["ADD"] * 6}}  # one over the enum's 5
    response = await http.post("/graphql", json=six)
    assert first_code(response.json()) == "BAD_USER_INPUT"
