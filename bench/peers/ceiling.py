"""The ceiling: bare Starlette + stdlib sqlite3, no GraphQL at all.

Each route reads the same JSON body the GraphQL targets get ({"query", "variables"}), ignores
the query text, runs the same SQL and answers the same JSON as the GraphQL response (values
decoded from their stored JSON text and encoded again with orjson). /set-kv is the bare upsert
endpoint the setKv target is compared with: one autocommit INSERT ... ON CONFLICT DO UPDATE on
a WAL database with synchronous=FULL, like the server's default.

    python bench/peers/ceiling.py <database> --port 8001
"""

import sqlite3
from typing import Any

import orjson
import uvicorn
from common import BOTS_PAGE, KV_PAGE, ONE_BOT, PRAGMAS, UPSERT_KV, arguments, kv_pages_sql, now
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE = 50
NESTED_KV = 10


def make_app(path: str) -> Starlette:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in PRAGMAS:
        conn.execute(pragma)

    def answer(data: dict[str, Any]) -> Response:
        return Response(orjson.dumps({"data": data}), media_type="application/json")

    async def variables(request: Request) -> dict[str, Any]:
        found: dict[str, Any] = orjson.loads(await request.body()).get("variables") or {}
        return found

    async def one_bot(request: Request) -> Response:
        row = conn.execute(ONE_BOT, ((await variables(request))["id"],)).fetchone()
        bot = None if row is None else {"id": row[0], "name": row[2], "slug": row[1]}
        return answer({"bot": bot})

    async def kv_page(request: Request) -> Response:
        rows = conn.execute(KV_PAGE, ((await variables(request))["id"], PAGE)).fetchall()
        nodes = [{"key": key, "value": orjson.loads(value)} for key, value in rows]
        return answer({"kvEntries": {"nodes": nodes}})

    async def nested(request: Request) -> Response:
        await variables(request)
        ids = [row[0] for row in conn.execute(BOTS_PAGE, (PAGE,))]
        pages: dict[str, list[dict[str, Any]]] = {bot_id: [] for bot_id in ids}
        binds = [bind for bot_id in ids for bind in (bot_id, NESTED_KV)]
        for bot_id, key, value in conn.execute(kv_pages_sql(len(ids)), binds):
            pages[bot_id].append({"key": key, "value": orjson.loads(value)})
        nodes = [{"id": bot_id, "kvEntries": {"nodes": pages[bot_id]}} for bot_id in ids]
        return answer({"bots": {"nodes": nodes}})

    async def set_kv(request: Request) -> Response:
        given = await variables(request)
        moment = now()
        params = (given["id"], given["key"], orjson.dumps(given["value"]).decode())
        ((key, value),) = conn.execute(UPSERT_KV, (*params, moment, moment)).fetchall()
        return answer({"setKv": {"key": key, "value": orjson.loads(value)}})

    routes = [
        Route("/one-bot", one_bot, methods=["POST"]),
        Route("/kv-page", kv_page, methods=["POST"]),
        Route("/nested", nested, methods=["POST"]),
        Route("/set-kv", set_kv, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def main() -> None:
    args = arguments("The ceiling: bare Starlette + sqlite3.")
    uvicorn.run(
        make_app(args.database),
        host=args.host,
        port=args.port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
