"""What the hand-written peers share: their command line, their SQL and the write's timestamp.

Standard library only: the peers run in the project's venv (ceiling, Strawberry) or in
bench/.venv-peers (Ariadne).
"""

import argparse
from datetime import UTC, datetime

ONE_BOT = "SELECT id, slug, name FROM bots WHERE id = ?"
KV_PAGE = "SELECT key, value FROM kv_entries WHERE bot_id = ? ORDER BY key LIMIT ?"
BOTS_PAGE = "SELECT id FROM bots ORDER BY created_at DESC, id DESC LIMIT ?"
UPSERT_KV = """
INSERT INTO kv_entries (bot_id, key, value, created_at, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (bot_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
RETURNING key, value
"""


def kv_pages_sql(bots: int) -> str:
    """Each listed bot's first `?` KV entries in one statement (the ceiling's nested page):
    binds bot1, limit1, bot2, limit2, ... One LIMIT subquery per bot walks the primary key;
    a ROW_NUMBER() window over the same rows measured about 7 times slower in SQLite."""
    one = "SELECT * FROM (SELECT bot_id, key, value FROM kv_entries WHERE bot_id = ? ORDER BY key "
    one += "LIMIT ?)"
    return " UNION ALL ".join([one] * bots)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("database", help="the SQLite file to serve (a copy per target)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    return parser.parse_args()


PRAGMAS = ("PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000", "PRAGMA synchronous=FULL")
