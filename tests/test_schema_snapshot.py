"""The committed schema.graphql is the exported schema."""

from pathlib import Path

from resolvers import build_schema as build_server_schema

ROOT = Path(__file__).parents[1]


def test_committed_schema_is_the_exported_schema() -> None:
    exported = build_server_schema().as_str() + "\n"
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == exported, "run: boternity-graphql export-schema > schema.graphql"
