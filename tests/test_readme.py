"""The README's GraphQL examples run, in order, and its settings table lists every setting."""

import re
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from db.settings import Settings
from tests.conftest import GraphQL

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_readme_settings_table_lists_every_setting_with_its_default() -> None:
    for spec in fields(Settings):
        row = next(
            (
                line
                for line in README.splitlines()
                if line.startswith(f"| `BOTERNITY_{spec.name.upper()}`")
            ),
            None,
        )
        assert row is not None, spec.name
        assert f"`--{spec.name.replace('_', '-')}`" in row
        if spec.default is not MISSING and not isinstance(spec.default, tuple | bool):
            default = "(empty)" if spec.default == "" else str(spec.default)
            assert f"`{default}`" in row, (spec.name, row)


async def test_readme_graphql_examples_run_in_order(gql: GraphQL) -> None:
    blocks = re.findall(r"```graphql\n(.*?)```", README, flags=re.DOTALL)
    assert len(blocks) == 3
    variables: dict[str, Any] = {}
    results = []
    for block in blocks:
        wanted = {name: variables[name] for name in re.findall(r"\$(\w+):", block)}
        results.append(await gql(block, wanted))
        if "createBot" in results[-1]:
            variables["botId"] = results[-1]["createBot"]["id"]
    assert results[0]["createBot"]["slug"] == "research-assistant"
    assert results[1]["setKv"]["value"] == {"theme": "dark", "fontSize": 14}
    assert results[2] == {
        "bot": {
            "name": "Research Assistant",
            "category": "RESEARCH",
            "kvEntries": {
                "totalCount": 1,
                "nodes": [{"key": "settings", "value": {"theme": "dark", "fontSize": 14}}],
            },
        }
    }
