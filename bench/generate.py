"""Benchmark data: a freshly migrated database with N bots x M KV entries, and the bot id list.

    python bench/generate.py --out bench/out/data --bots 1000 --entries 50

Runs `boternity-graphql migrate` on an empty data dir (so the tables are exactly the server's),
then inserts the rows with the standard sqlite3 module in one transaction. Everything is drawn
from a seeded random generator, so the same arguments give the same database. Writes
<out>/base/boternity.db (checkpointed: one self-contained file to copy per target),
<out>/bot_ids.txt (one id a line, for the load generator) and <out>/manifest.json.
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_TIME = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"
ADJECTIVES = ("swift", "quiet", "clever", "bright", "patient", "curious", "steady", "bold")
NOUNS = ("helper", "scribe", "analyst", "muse", "scout", "tutor", "keeper", "pilot")
CATEGORIES = ("assistant", "creative", "research", "utility")
KEY_PREFIXES = ("pref", "memory", "session", "counter", "flag", "profile", "note", "cache")
WORDS = (
    "alpha", "budget", "calendar", "draft", "email", "focus", "garden", "history", "inbox",
    "journal", "kitchen", "language", "meeting", "notes", "outline", "project", "query",
    "reading", "schedule", "travel",
)  # fmt: skip


def server_command() -> Path:
    """The project's console script, next to the Python running this file."""
    beside = Path(sys.executable).parent / "boternity-graphql"
    if beside.exists():
        return beside
    found = shutil.which("boternity-graphql")
    if found is None:
        sys.exit("boternity-graphql is not installed: activate the project venv (.venv)")
    return Path(found)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def json_value(rng: random.Random) -> object:
    """A realistic KV value: strings, numbers, booleans, null, objects and arrays."""
    kind = rng.randrange(9)
    words = [rng.choice(WORDS) for _ in range(rng.randint(2, 12))]
    values: list[object] = [
        " ".join(words).capitalize() + ".",
        rng.randint(-1000, 10**9),
        round(rng.uniform(-500, 500), 4),
        rng.random() < 0.5,
        None,
        {"theme": rng.choice(("dark", "light")), "fontSize": rng.randint(10, 20), "on": True},
        words[: rng.randint(1, len(words))],
        {
            "summary": " ".join(words),
            "score": round(rng.random(), 3),
            "tags": words[:3],
            "meta": {"source": rng.choice(NOUNS), "count": rng.randint(0, 99), "ok": None},
        },
        [
            {"role": rng.choice(("user", "bot")), "text": word, "n": i}
            for i, word in enumerate(words)
        ],
    ]
    return values[kind]


def bot_rows(rng: random.Random, count: int) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for index in range(count):
        name = f"{rng.choice(ADJECTIVES).capitalize()} {rng.choice(NOUNS).capitalize()} {index}"
        created = BASE_TIME + timedelta(seconds=index * 37, microseconds=rng.randrange(10**6))
        updated = created + timedelta(minutes=rng.randint(0, 5000))
        tags = json.dumps(rng.sample(WORDS, rng.randint(0, 4)), separators=(",", ":"))
        rows.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                name.lower().replace(" ", "-"),
                name,
                f"A bot named {name}",
                rng.choice(CATEGORIES),
                tags,
                f"user-{rng.randrange(50)}",
                rng.randrange(10_000),
                rng.randrange(10**8),
                rng.randrange(1, 20),
                timestamp(created),
                timestamp(updated),
                timestamp(updated + timedelta(seconds=rng.randint(0, 9999))),
            )
        )
    return rows


def kv_rows(rng: random.Random, bot_id: str, count: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for index in range(count):
        key = f"{KEY_PREFIXES[index % len(KEY_PREFIXES)]}:{rng.choice(WORDS)}-{index:03d}"
        moment = timestamp(BASE_TIME + timedelta(days=30, seconds=rng.randrange(10**6)))
        value = json.dumps(json_value(rng), separators=(",", ":"), ensure_ascii=False)
        rows.append((bot_id, key, value, moment, moment))
    return rows


def migrate(data_dir: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY_")}
    env.update(BOTERNITY_DATA_DIR=str(data_dir), BOTERNITY_AUTH="disabled")
    subprocess.run([str(server_command()), "migrate"], env=env, check=True, capture_output=True)


def fill(db_path: Path, bots: int, entries: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    conn = sqlite3.connect(db_path)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "kv_entries" not in tables:
            sys.exit("the kv_entries table is missing: the KV store migration has not landed")
        rows = bot_rows(rng, bots)
        with conn:
            conn.executemany(
                "INSERT INTO bots (id, slug, name, description, status, category, tags, user_id,"
                " conversation_count, total_tokens_used, version_count, created_at, updated_at,"
                " last_active_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            for row in rows:
                conn.executemany(
                    "INSERT INTO kv_entries (bot_id, key, value, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    kv_rows(rng, str(row[0]), entries),
                )
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return [str(row[0]) for row in rows]


def generate(out: Path, bots: int, entries: int, seed: int) -> Path:
    """Build the dataset under `out` (replacing what is there); returns the database path."""
    if out.exists():
        shutil.rmtree(out)
    base = out / "base"
    base.mkdir(parents=True)
    migrate(base)
    db_path = base / "boternity.db"
    ids = fill(db_path, bots, entries, seed)
    (out / "bot_ids.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
    manifest = {"bots": bots, "entries": entries, "seed": seed, "database": str(db_path)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return db_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "data")
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    db_path = generate(args.out, args.bots, args.entries, args.seed)
    print(f"{args.bots} bots x {args.entries} KV entries in {db_path}")


if __name__ == "__main__":
    main()
