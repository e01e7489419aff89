"""The suite runs on the versions pyproject.toml pins: every dependency (and dev dependency) is
pinned exactly, and the installed version is the pinned one. The adapters' contract tests
(tests/engine/test_adapters.py) then prove what the code relies on in those versions."""

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(\[[^\]]*\])?==(?P<version>[^\s;]+)$")


def pins() -> dict[str, str]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    found = {}
    for requirement in requirements:
        match = PIN.match(requirement)
        assert match is not None, f"not pinned exactly: {requirement}"
        found[match["name"]] = match["version"]
    return found


def test_every_dependency_is_pinned_and_installed_at_its_pin() -> None:
    pinned = pins()
    assert {"strawberry-graphql", "graphql-core", "databases", "aiosqlite"} <= set(pinned)
    installed = {name: version(name) for name in pinned}
    assert installed == pinned
