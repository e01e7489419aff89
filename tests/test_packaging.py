"""`pip install .` ships every package: each folder with an __init__.py under the top-level
packages is listed in pyproject's [tool.setuptools] packages (a package missing there works in an
editable install and fails in a real one, as app.engine once did)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("app", "db", "schema", "resolvers", "migrations")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found == listed
