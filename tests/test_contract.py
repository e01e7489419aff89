"""The committed schema meets the public contract (../shared/api/contract.graphql)."""

from pathlib import Path

import pytest
from graphql import build_schema, find_breaking_changes

ROOT = Path(__file__).parents[1]
CONTRACT = ROOT.parent / "shared" / "api" / "contract.graphql"


def test_schema_has_no_breaking_difference_from_the_contract() -> None:
    if not CONTRACT.exists():
        pytest.skip(f"the contract is not beside the project ({CONTRACT})")
    changes = find_breaking_changes(
        build_schema(CONTRACT.read_text()), build_schema((ROOT / "schema.graphql").read_text())
    )
    assert [f"{change.type.name}: {change.description}" for change in changes] == []
