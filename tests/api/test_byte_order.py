"""Text order is UTF-8 byte order on every backend (on PostgreSQL whatever the database's own
collation: the test databases there default to ICU en-US, where 'a' < 'B'), for every list
ordered by text, forwards and backwards, and across pages."""

from typing import Any

from tests.conftest import GraphQL

# Python's str order is code point order, which is UTF-8 byte order
WORDS = ["b", "B", "a", "A", "é", "Z", "z", "_x", "~x", "Éa", "a b", "ab", "日本", "🙂", "a-b"]
BYTE_ORDER = sorted(WORDS)
BOTS = """
query($field: BotOrderField!, $direction: SortDirection!, $after: String) {
  bots(orderBy: {field: $field, direction: $direction}, first: 4, after: $after) {
    nodes { name slug } pageInfo { hasNextPage endCursor }
  }
}
"""
CREATE_BOT = "mutation($name: String!) { createBot(input: {name: $name}) { id } }"
SAVE_PROVIDER = """
mutation($name: String!) {
  saveProviderHealth(input: {name: $name, priority: 1, circuitState: CLOSED,
    consecutiveFailures: 0, totalCalls: 0, totalFailures: 0}) { name }
}
"""
SET_KV = "mutation($b: ID!, $k: String!) { setKv(botId: $b, key: $k, value: 1) { key } }"
KV_PAGE = """
query($b: ID!, $after: String) {
  kvEntries(botId: $b, first: 4, after: $after) {
    nodes { key } pageInfo { hasNextPage endCursor }
  }
}
"""


async def all_pages(gql: GraphQL, query: str, field: str, variables: dict[str, Any]) -> list[Any]:
    nodes: list[Any] = []
    after = None
    while True:
        page = (await gql(query, {**variables, "after": after}))[field]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_bots_by_name_are_in_byte_order_both_ways(gql: GraphQL) -> None:
    for word in WORDS:
        await gql(CREATE_BOT, {"name": f"{word} bot"})
    names = sorted(f"{word} bot" for word in WORDS)
    for direction, expected in (("ASC", names), ("DESC", names[::-1])):
        nodes = await all_pages(gql, BOTS, "bots", {"field": "NAME", "direction": direction})
        assert [node["name"] for node in nodes] == expected


async def test_bots_by_slug_are_in_byte_order(gql: GraphQL) -> None:
    for word in ("b2", "b-2", "b", "a", "b10", "b-10", "b1"):
        await gql(CREATE_BOT, {"name": word})
    nodes = await all_pages(gql, BOTS, "bots", {"field": "SLUG", "direction": "ASC"})
    assert [node["slug"] for node in nodes] == ["a", "b", "b-10", "b-2", "b1", "b10", "b2"]


async def test_providers_of_one_priority_are_in_byte_order(gql: GraphQL) -> None:
    for word in WORDS:
        await gql(SAVE_PROVIDER, {"name": word})
    providers = (await gql("{ providers { name } }"))["providers"]
    assert [provider["name"] for provider in providers] == BYTE_ORDER


async def test_kv_keys_page_in_byte_order(gql: GraphQL) -> None:
    bot = (await gql(CREATE_BOT, {"name": "Keys"}))["createBot"]["id"]
    for word in WORDS:
        await gql(SET_KV, {"b": bot, "k": word})
    nodes = await all_pages(gql, KV_PAGE, "kvEntries", {"b": bot})
    assert [node["key"] for node in nodes] == BYTE_ORDER
