"""The hand-written Ariadne peer: a schema subset over one raw aiosqlite connection.

What a developer writes by hand: SDL, one resolver per root field, rows turned into dicts,
Ariadne's ASGI app with its defaults, plus the two caches everybody should add (each query
text parsed once, each parsed document validated once). Runs in bench/.venv-peers.

    python bench/peers/ariadne_peer.py <database> --port 8002
"""

import json
from functools import lru_cache
from typing import Any

import aiosqlite
import uvicorn
import uvloop
from ariadne import MutationType, ObjectType, QueryType, ScalarType, make_executable_schema
from ariadne.asgi import GraphQL
from common import KV_PAGE, ONE_BOT, PRAGMAS, UPSERT_KV, arguments, now
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate

SDL = """
scalar JSON
type Query {
  bot(id: ID!): Bot
  bots(first: Int = 50): BotConnection!
  kvEntries(botId: ID!, first: Int = 50): KvEntryConnection!
}
type Mutation { setKv(botId: ID!, key: String!, value: JSON): KvEntry! }
type Bot { id: ID!, slug: String!, name: String!, kvEntries(first: Int = 50): KvEntryConnection! }
type BotConnection { nodes: [Bot!]! }
type KvEntry { key: String!, value: JSON }
type KvEntryConnection { nodes: [KvEntry!]! }
"""


@lru_cache(maxsize=256)
def _parse(query: str) -> DocumentNode:
    return parse(query)


_validated: dict[int, tuple[DocumentNode, list[GraphQLError]]] = {}


def cached_parser(context: Any, data: dict[str, Any]) -> DocumentNode:
    return _parse(data["query"])


def cached_validator(
    schema: GraphQLSchema, document: DocumentNode, rules: Any = None, **kwargs: Any
) -> list[GraphQLError]:
    found = _validated.get(id(document))
    if found is None:
        found = (document, validate(schema, document, rules=rules, **kwargs))
        _validated[id(document)] = found
    return found[1]


def build(conn: aiosqlite.Connection) -> GraphQL:
    query, mutation, bot = QueryType(), MutationType(), ObjectType("Bot")

    async def kv_page(bot_id: str, first: int) -> dict[str, Any]:
        rows = await conn.execute_fetchall(KV_PAGE, (bot_id, first))
        return {"nodes": [{"key": key, "value": json.loads(value)} for key, value in rows]}

    @query.field("bot")
    async def resolve_bot(_: Any, info: Any, id: str) -> dict[str, Any] | None:
        rows = list(await conn.execute_fetchall(ONE_BOT, (id,)))
        return None if not rows else {"id": rows[0][0], "slug": rows[0][1], "name": rows[0][2]}

    @query.field("bots")
    async def resolve_bots(_: Any, info: Any, first: int) -> dict[str, Any]:
        sql = "SELECT id, slug, name FROM bots ORDER BY created_at DESC, id DESC LIMIT ?"
        rows = await conn.execute_fetchall(sql, (first,))
        return {"nodes": [{"id": row[0], "slug": row[1], "name": row[2]} for row in rows]}

    @query.field("kvEntries")
    async def resolve_kv_entries(_: Any, info: Any, botId: str, first: int) -> dict[str, Any]:  # noqa: N803
        return await kv_page(botId, first)

    @bot.field("kvEntries")
    async def resolve_bot_kv_entries(parent: dict[str, Any], info: Any, first: int) -> Any:
        return await kv_page(parent["id"], first)

    @mutation.field("setKv")
    async def resolve_set_kv(_: Any, info: Any, botId: str, key: str, value: Any = None) -> Any:  # noqa: N803
        moment = now()
        params = (botId, key, json.dumps(value, separators=(",", ":")), moment, moment)
        ((stored_key, stored),) = await conn.execute_fetchall(UPSERT_KV, params)
        return {"key": stored_key, "value": json.loads(stored)}

    schema = make_executable_schema(SDL, query, mutation, bot, ScalarType("JSON"))
    return GraphQL(schema, query_parser=cached_parser, query_validator=cached_validator)


async def serve() -> None:
    args = arguments("Hand-written Ariadne + raw aiosqlite.")
    conn = await aiosqlite.connect(args.database, isolation_level=None)
    for pragma in PRAGMAS:
        await conn.execute(pragma)
    config = uvicorn.Config(
        build(conn), host=args.host, port=args.port, log_level="warning", http="httptools",
        lifespan="off",
    )  # fmt: skip
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    uvloop.run(serve())
