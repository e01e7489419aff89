"""The PostgreSQL side of the benchmark (--postgres URL): a database per target on that server,
boternity_bench_<target>, re-created for every run and filled from the generated SQLite database
with `boternity-graphql copy-data`, so every target serves the same rows (and no target sees
another's writes), like the SQLite targets' copies of the file."""

import asyncio
import subprocess

import asyncpg
import databases
from generate import server_command
from procs import clean_environ


async def _recreate(url: str, database: str) -> None:
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()


def prepare(url: str, base_db: str, target: str) -> str:
    """The URL of a fresh database for the target, holding base_db's rows."""
    database = f"boternity_bench_{target}"
    bench_url = str(databases.DatabaseURL(url).replace(database=database))
    asyncio.run(_recreate(url, database))
    copy = [str(server_command()), "copy-data", "--from", f"sqlite:///{base_db}", "--to", bench_url]
    done = subprocess.run(copy, env=clean_environ(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"copy-data into {database} failed:\n{done.stdout}{done.stderr}")
    print(f"copied the data into PostgreSQL database {database}", flush=True)
    return bench_url
