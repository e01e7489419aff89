"""The api_keys table: keys are stored as SHA-256 hashes, never in the clear."""

import hashlib
import secrets
from dataclasses import dataclass

from db.connection import Conn, Row

SCOPES = ("read", "write", "admin")
_IDS_PER_QUERY = 500

INSERT_KEY = """
INSERT INTO api_keys (id, name, scope, key_hash, created_at)
VALUES (:id, :name, :scope, :key_hash, :now)
ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
RETURNING id, name, scope, created_at, last_used_at, revoked_at
"""
LIST_KEYS = """
SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_keys ORDER BY name, id
"""
FIND_ACTIVE = """
SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_keys
WHERE key_hash = :key_hash AND revoked_at IS NULL
"""
REVOKE_KEY = """
UPDATE api_keys SET revoked_at = :now WHERE name = :name AND revoked_at IS NULL RETURNING id
"""
TOUCH_KEY = "UPDATE api_keys SET last_used_at = :now WHERE id = :id"
COUNT_ACTIVE = "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: str
    name: str
    scope: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


def _key(row: Row) -> ApiKeyRow:
    return ApiKeyRow(
        id=row["id"],
        name=row["name"],
        scope=row["scope"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def new_secret() -> str:
    """A random 256-bit key in URL-safe characters."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_api_key(
    conn: Conn, *, id: str, name: str, scope: str, secret: str, now: str
) -> ApiKeyRow | None:
    """None when a key that is not revoked has the name."""
    row = await conn.fetch_one(
        INSERT_KEY,
        {"id": id, "name": name, "scope": scope, "key_hash": hash_secret(secret), "now": now},
    )
    return None if row is None else _key(row)


async def list_api_keys(conn: Conn) -> list[ApiKeyRow]:
    return [_key(row) for row in await conn.fetch_all(LIST_KEYS)]


async def get_active_key(conn: Conn, *, secret: str) -> ApiKeyRow | None:
    row = await conn.fetch_one(FIND_ACTIVE, {"key_hash": hash_secret(secret)})
    return None if row is None else _key(row)


async def revoke_api_key(conn: Conn, *, name: str, now: str) -> bool:
    return await conn.fetch_one(REVOKE_KEY, {"name": name, "now": now}) is not None


async def touch_api_key(conn: Conn, *, id: str, now: str) -> None:
    await conn.execute(TOUCH_KEY, {"id": id, "now": now})


async def active_key_ids(conn: Conn, *, ids: list[str]) -> set[str]:
    """Which of these key ids name a key that exists and is not revoked."""
    active: set[str] = set()
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[start : start + _IDS_PER_QUERY]
        binds = {f"id{n}": key_id for n, key_id in enumerate(chunk)}
        placeholders = ", ".join(f":{name}" for name in binds)
        rows = await conn.fetch_all(
            f"SELECT id FROM api_keys WHERE revoked_at IS NULL AND id IN ({placeholders})",  # noqa: S608 (binds only)
            binds,
        )
        active.update(row["id"] for row in rows)
    return active


async def count_active_keys(conn: Conn) -> int:
    count: int = await conn.fetch_val(COUNT_ACTIVE)
    return count
