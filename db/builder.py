"""The builder tables: the only place a builder_drafts or builder_memory_entries record becomes a
BuilderDraftRow or BuilderMemoryRow.

A draft's state is stored as compact JSON text and parsed only when a client asks for it; its
summary fields (initial_description, phase) are taken from the state when it is saved and
stored beside it (migrations/0013_builder_draft_summaries.*), so a page of drafts costs the same
whatever the size of their states, and a malformed stored state never breaks a read
(domain.md D.3).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from db.batch import fetch_batched, values_rows
from db.codec import dump_json, load_json
from db.connection import Conn, Row
from db.counts import DRAFTS, total

_DRAFT_COLUMNS = (
    "session_id, state, schema_version, revision, created_at, updated_at, initial_description, "
    "phase"
)
_MEMORY_COLUMNS = (
    "id, purpose_category, custom_category, initial_description, chosen_tone, chosen_model, "
    "chosen_skills, bot_slug, created_at"
)

GET_DRAFT = f"SELECT {_DRAFT_COLUMNS} FROM builder_drafts WHERE session_id = :session_id"  # noqa: S608 (constant columns)
SET_DRAFT = f"""
INSERT INTO builder_drafts (session_id, state, schema_version, revision, created_at, updated_at,
                            initial_description, phase)
VALUES (:session_id, :state, :schema_version, 1, :now, :now, :initial_description, :phase)
ON CONFLICT (session_id) DO UPDATE SET
    state = excluded.state,
    initial_description = excluded.initial_description,
    phase = excluded.phase,
    schema_version = excluded.schema_version,
    revision = builder_drafts.revision + 1,
    updated_at = excluded.updated_at
RETURNING {_DRAFT_COLUMNS}
"""  # noqa: S608 (constant columns)
# The optimistic-concurrency check is part of the write itself, so it cannot race.
UPDATE_DRAFT_IF_CURRENT = f"""
UPDATE builder_drafts SET
    state = :state,
    initial_description = :initial_description,
    phase = :phase,
    schema_version = :schema_version,
    revision = revision + 1,
    updated_at = :now
WHERE session_id = :session_id
  AND (:expected_revision IS NULL OR revision = :expected_revision)
  AND (:expected_updated_at IS NULL OR updated_at = :expected_updated_at)
RETURNING {_DRAFT_COLUMNS}
"""  # noqa: S608 (constant columns)
DELETE_DRAFT = "DELETE FROM builder_drafts WHERE session_id = :session_id RETURNING session_id"
# A page leaves the states out (loaded when asked for, `get_states`), except for rows written
# outside the API, whose summary comes from their state.
_LISTED_COLUMNS = _DRAFT_COLUMNS.replace(
    "state,", "CASE WHEN initial_description IS NULL THEN state END AS state,"
)
LIST_DRAFTS = f"""
SELECT {_LISTED_COLUMNS} FROM builder_drafts
ORDER BY updated_at DESC, session_id DESC
LIMIT :limit
"""  # noqa: S608 (constant columns)
# A row-value comparison (SQLite and PostgreSQL) lets the index seek straight to the page.
LIST_DRAFTS_AFTER = f"""
SELECT {_LISTED_COLUMNS} FROM builder_drafts
WHERE (updated_at, session_id) < (:after_updated_at, :after_session_id)
ORDER BY updated_at DESC, session_id DESC
LIMIT :limit
"""  # noqa: S608 (constant columns)

INSERT_MEMORY = f"""
INSERT INTO builder_memory_entries (id, purpose_category, custom_category, initial_description,
    chosen_tone, chosen_model, chosen_skills, bot_slug, created_at)
VALUES (:id, :purpose_category, :custom_category, :initial_description, :chosen_tone,
    :chosen_model, :chosen_skills, :bot_slug, :now)
RETURNING {_MEMORY_COLUMNS}
"""  # noqa: S608 (constant columns)
GET_MEMORY = f"SELECT {_MEMORY_COLUMNS} FROM builder_memory_entries WHERE id = :id"  # noqa: S608 (constant columns)
# Two statements rather than one with IS NOT DISTINCT FROM, so both use the category index.
RECALL_MEMORY = f"""
SELECT {_MEMORY_COLUMNS} FROM builder_memory_entries
WHERE purpose_category = :purpose_category AND custom_category IS NULL
ORDER BY created_at DESC, id DESC
LIMIT :limit
"""  # noqa: S608 (constant columns)
RECALL_CUSTOM_MEMORY = f"""
SELECT {_MEMORY_COLUMNS} FROM builder_memory_entries
WHERE purpose_category = 'custom' AND custom_category = :custom_category
ORDER BY created_at DESC, id DESC
LIMIT :limit
"""  # noqa: S608 (constant columns)
RECENT_MEMORY = f"""
SELECT {_MEMORY_COLUMNS} FROM builder_memory_entries
ORDER BY created_at DESC, id DESC
LIMIT :limit
"""  # noqa: S608 (constant columns)

CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class DraftSummary:
    """What a list shows of a draft, taken from its state when it is saved."""

    initial_description: str  # state.initial_description, "" when absent or not a string
    phase: str | None  # state.phase when it is a string, else None


@dataclass(frozen=True, slots=True)
class BuilderDraftRow:
    session_id: str
    state_json: str | None  # the stored text, parsed when asked for; None: not read (a list)
    schema_version: int
    revision: int
    created_at: str
    updated_at: str
    initial_description: str
    phase: str | None


def parse_state(text: str) -> Any:
    """A stored state; a stored text that is not JSON comes back as that string."""
    return _parse_state(text)


@dataclass(frozen=True, slots=True)
class BuilderMemoryRow:
    id: str
    purpose_category: str
    custom_category: str | None
    initial_description: str
    chosen_tone: str | None
    chosen_model: str | None
    chosen_skills: list[str]
    bot_slug: str | None
    created_at: str


def _parse_state(text: str) -> Any:
    try:
        return load_json(text)
    except (ValueError, RecursionError):
        return text


def _string_field(state: Any, key: str) -> str | None:
    value = state.get(key) if isinstance(state, dict) else None
    return value if isinstance(value, str) else None


def draft_summary(state: Any) -> DraftSummary:
    """The summary fields of a state being saved."""
    return DraftSummary(
        initial_description=_string_field(state, "initial_description") or "",
        phase=_string_field(state, "phase"),
    )


def _draft(row: Row) -> BuilderDraftRow:
    summary = DraftSummary(row["initial_description"], row["phase"])
    if summary.initial_description is None:  # written outside the API: no summary stored
        summary = draft_summary(_parse_state(row["state"]))
    return BuilderDraftRow(
        session_id=row["session_id"],
        state_json=row["state"],
        schema_version=row["schema_version"],
        revision=row["revision"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        initial_description=summary.initial_description,
        phase=summary.phase,
    )


def _memory(row: Row) -> BuilderMemoryRow:
    return BuilderMemoryRow(
        id=row["id"],
        purpose_category=row["purpose_category"],
        custom_category=row["custom_category"],
        initial_description=row["initial_description"],
        chosen_tone=row["chosen_tone"],
        chosen_model=row["chosen_model"],
        chosen_skills=load_json(row["chosen_skills"]),
        bot_slug=row["bot_slug"],
        created_at=row["created_at"],
    )


async def get_draft(conn: Conn, *, session_id: str) -> BuilderDraftRow | None:
    row = await conn.fetch_one(GET_DRAFT, {"session_id": session_id})
    return None if row is None else _draft(row)


async def set_draft(
    conn: Conn,
    *,
    session_id: str,
    state_json: str,
    summary: DraftSummary,
    schema_version: int,
    now: str,
) -> BuilderDraftRow:
    """Insert or replace a draft's state: revision 1 on insert, +1 on update; created_at kept."""
    row = await conn.fetch_one(
        SET_DRAFT,
        {
            "session_id": session_id,
            "state": state_json,
            "initial_description": summary.initial_description,
            "phase": summary.phase,
            "schema_version": schema_version,
            "now": now,
        },
    )
    assert row is not None  # an upsert always returns its row
    return _draft(row)


async def update_draft_if_current(
    conn: Conn,
    *,
    session_id: str,
    state_json: str,
    summary: DraftSummary,
    schema_version: int,
    expected_revision: int | None,
    expected_updated_at: str | None,
    now: str,
) -> BuilderDraftRow | None:
    """Replace a stored draft's state only while it still has the expected revision and/or
    updated_at; None (nothing written) when it is absent or has moved on."""
    row = await conn.fetch_one(
        UPDATE_DRAFT_IF_CURRENT,
        {
            "session_id": session_id,
            "state": state_json,
            "initial_description": summary.initial_description,
            "phase": summary.phase,
            "schema_version": schema_version,
            "expected_revision": expected_revision,
            "expected_updated_at": expected_updated_at,
            "now": now,
        },
    )
    return None if row is None else _draft(row)


async def delete_draft(conn: Conn, *, session_id: str) -> bool:
    return await conn.fetch_one(DELETE_DRAFT, {"session_id": session_id}) is not None


async def list_drafts(
    conn: Conn, *, after: tuple[str, str] | None, limit: int
) -> list[BuilderDraftRow]:
    """A keyset page, newest updated_at first, ties by session_id descending."""
    if after is None:
        rows = await conn.fetch_all(LIST_DRAFTS, {"limit": limit})
    else:
        rows = await conn.fetch_all(
            LIST_DRAFTS_AFTER,
            {"after_updated_at": after[0], "after_session_id": after[1], "limit": limit},
        )
    return [_draft(row) for row in rows]


def _states_sql(count: int) -> str:
    return f"""
SELECT session_id, state FROM builder_drafts
WHERE session_id IN ({values_rows(count, ":session{n}")})
"""  # noqa: S608 (binds only)


async def get_states(conn: Conn, *, session_ids: Sequence[str]) -> dict[str, str]:
    """The stored state texts of these drafts (a listed page's, when asked for)."""
    items = [{"session": session_id} for session_id in session_ids]
    rows = await fetch_batched(conn, _states_sql, items)
    return {row["session_id"]: row["state"] for _, row in rows}


async def count_drafts(conn: Conn) -> int:
    return await total(conn, kind=DRAFTS, parent_id="")


async def create_memory_entry(
    conn: Conn,
    *,
    id: str,
    purpose_category: str,
    custom_category: str | None,
    initial_description: str,
    chosen_tone: str | None,
    chosen_model: str | None,
    chosen_skills: list[str],
    bot_slug: str | None,
    now: str,
) -> BuilderMemoryRow:
    row = await conn.fetch_one(
        INSERT_MEMORY,
        {
            "id": id,
            "purpose_category": purpose_category,
            "custom_category": custom_category,
            "initial_description": initial_description,
            "chosen_tone": chosen_tone,
            "chosen_model": chosen_model,
            "chosen_skills": dump_json(chosen_skills),
            "bot_slug": bot_slug,
            "now": now,
        },
    )
    assert row is not None  # an insert that did not raise returns its row
    return _memory(row)


async def get_memory_entry(conn: Conn, *, id: str) -> BuilderMemoryRow | None:
    row = await conn.fetch_one(GET_MEMORY, {"id": id})
    return None if row is None else _memory(row)


async def list_memory_for_category(
    conn: Conn, *, purpose_category: str, custom_category: str | None, limit: int
) -> list[BuilderMemoryRow]:
    """Newest first (created_at, then id, descending); custom entries match their label
    exactly."""
    if purpose_category == CUSTOM:
        sql, params = RECALL_CUSTOM_MEMORY, {"custom_category": custom_category, "limit": limit}
    else:
        sql, params = RECALL_MEMORY, {"purpose_category": purpose_category, "limit": limit}
    return [_memory(row) for row in await conn.fetch_all(sql, params)]


async def list_recent_memory(conn: Conn, *, limit: int) -> list[BuilderMemoryRow]:
    return [_memory(row) for row in await conn.fetch_all(RECENT_MEMORY, {"limit": limit})]
