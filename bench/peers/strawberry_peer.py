"""The hand-written Strawberry peer, and the naive per-bot loop for the nested page.

Strawberry types over one raw aiosqlite connection, served by strawberry.asgi.GraphQL with the
parser and validation caches, and no DataLoaders: `bots { nodes { kvEntries } }` runs one
query for the page and then one per bot. Runs in the project's venv (the same Strawberry as
the server).

    python bench/peers/strawberry_peer.py <database> --port 8003
"""

import json
from typing import Any

import aiosqlite
import strawberry
import uvicorn
import uvloop
from common import KV_PAGE, ONE_BOT, PRAGMAS, UPSERT_KV, arguments, now
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.scalars import JSON


class Db:
    conn: aiosqlite.Connection


@strawberry.type
class KvEntry:
    key: str
    value: JSON | None


@strawberry.type
class KvEntryConnection:
    nodes: list[KvEntry]


async def kv_page(bot_id: str, first: int) -> KvEntryConnection:
    rows = await Db.conn.execute_fetchall(KV_PAGE, (bot_id, first))
    return KvEntryConnection(
        nodes=[KvEntry(key=key, value=json.loads(value)) for key, value in rows]
    )


@strawberry.type
class Bot:
    id: strawberry.ID
    slug: str
    name: str

    @strawberry.field
    async def kv_entries(self, first: int = 50) -> KvEntryConnection:
        return await kv_page(self.id, first)


@strawberry.type
class BotConnection:
    nodes: list[Bot]


@strawberry.type
class Query:
    @strawberry.field
    async def bot(self, id: strawberry.ID) -> Bot | None:
        rows = list(await Db.conn.execute_fetchall(ONE_BOT, (id,)))
        return None if not rows else Bot(id=rows[0][0], slug=rows[0][1], name=rows[0][2])

    @strawberry.field
    async def bots(self, first: int = 50) -> BotConnection:
        sql = "SELECT id, slug, name FROM bots ORDER BY created_at DESC, id DESC LIMIT ?"
        rows = await Db.conn.execute_fetchall(sql, (first,))
        return BotConnection(nodes=[Bot(id=row[0], slug=row[1], name=row[2]) for row in rows])

    @strawberry.field
    async def kv_entries(self, bot_id: strawberry.ID, first: int = 50) -> KvEntryConnection:
        return await kv_page(bot_id, first)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def set_kv(self, bot_id: strawberry.ID, key: str, value: JSON | None = None) -> KvEntry:
        moment = now()
        params = (bot_id, key, json.dumps(value, separators=(",", ":")), moment, moment)
        ((stored_key, stored),) = await Db.conn.execute_fetchall(UPSERT_KV, params)
        return KvEntry(key=stored_key, value=json.loads(stored))


def build() -> Any:
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[ParserCache(maxsize=256), ValidationCache(maxsize=256)],
    )
    return GraphQL(schema, graphql_ide=None)


async def serve() -> None:
    args = arguments("Hand-written Strawberry + raw aiosqlite, no DataLoaders.")
    Db.conn = await aiosqlite.connect(args.database, isolation_level=None)
    for pragma in PRAGMAS:
        await Db.conn.execute(pragma)
    config = uvicorn.Config(
        build(), host=args.host, port=args.port, log_level="warning", http="httptools",
        lifespan="off",
    )  # fmt: skip
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    uvloop.run(serve())
