"""No private or internal API of a dependency is used outside its adapter module.

Private: a name starting with an underscore (an attribute, a module, an imported name, or a
getattr string). Internal: a name left out of its module's __all__, or documented as
":meta private:" or "for internal use only" (graphql-core marks its internals so), including
a method a subclass overrides. Explicit __aenter__/__aexit__ calls count too (a context
manager driven by hand). Module-private helpers of the project are not imported across
modules either. The adapters are the one place each library's internals are used.
"""

import ast
import importlib
import importlib.util
import inspect
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "db", "schema", "resolvers")
DEPENDENCIES = (
    "strawberry",
    "graphql",
    "starlette",
    "uvicorn",
    "databases",
    "aiosqlite",
    "asyncpg",
    "orjson",
    "python_multipart",
    "uuid6",
)  # SQLAlchemy comes with databases; the project does not import it
ADAPTERS = {
    "app/engine/graphql_core_adapter.py",
    "app/engine/strawberry_adapter.py",
    "db/aiosqlite_adapter.py",
    "db/databases_adapter.py",
}
INTERNAL_MARKS = (":meta private:", "for internal use only")


@cache
def dependency_private_names() -> frozenset[str]:
    """Every _name a dependency defines or reads as an attribute."""
    found: set[str] = set()
    for name in DEPENDENCIES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        for source in Path(spec.origin).parent.rglob("*.py"):
            try:
                tree = ast.parse(source.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute):
                    found.add(node.attr)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    found.add(node.name)
    return frozenset(n for n in found if n.startswith("_") and not n.startswith("__"))


def _is_dependency(module: str) -> bool:
    return module.split(".")[0] in DEPENDENCIES


def _internal_import(module: str, name: str) -> str | None:
    if any(part.startswith("_") for part in module.split(".")) or name.startswith("_"):
        return "private"
    imported = importlib.import_module(module)
    public = getattr(imported, "__all__", None)
    if public is not None and name not in public:
        return f"not in {module}.__all__"
    return _internal_doc(getattr(imported, name, None))


def _internal_doc(thing: object) -> str | None:
    doc = (inspect.getdoc(thing) or "").lower() if thing is not None else ""
    return next((f"documented '{mark}'" for mark in INTERNAL_MARKS if mark in doc), None)


def violations(source: str, filename: str = "<source>") -> list[str]:
    """Every private or internal use of a dependency in one module's source."""
    tree = ast.parse(source)
    found: list[str] = []
    imported: dict[str, tuple[str, str]] = {}

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
                if _is_dependency(node.module):
                    why = _internal_import(node.module, alias.name)
                    if why is not None:
                        report(node, f"from {node.module} import {alias.name} ({why})")
                elif alias.name.startswith("_"):
                    report(node, f"from {node.module} import {alias.name} (module-private)")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if _is_dependency(alias.name) and any(p.startswith("_") for p in parts):
                    report(node, f"import {alias.name} (private)")
        elif isinstance(node, ast.Attribute):
            receiver = node.value.id if isinstance(node.value, ast.Name) else None
            if node.attr in ("__aenter__", "__aexit__"):
                report(node, f"{ast.unparse(node)} (a context manager driven by hand)")
            elif node.attr in dependency_private_names() and receiver not in ("self", "cls"):
                report(node, f"{ast.unparse(node)} (private attribute of a dependency)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) > 1:
                key = node.args[1]
                if isinstance(key, ast.Constant) and str(key.value).startswith("_"):
                    report(node, f"{ast.unparse(node)} (private attribute by name)")
        elif isinstance(node, ast.ClassDef):
            found += _overrides(node, imported, filename)
    return found


def _overrides(
    node: ast.ClassDef, imported: dict[str, tuple[str, str]], filename: str
) -> list[str]:
    """Methods overriding a dependency class's private or internal ones."""
    bases = []
    for base in node.bases:
        name = base.value.id if isinstance(base, ast.Subscript) else getattr(base, "id", None)
        if name in imported and _is_dependency(imported[name][0]):
            module, attribute = imported[name]
            bases.append(getattr(importlib.import_module(module), attribute))
    found = []
    for item in node.body:
        if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for base in bases:
            overridden = getattr(base, item.name, None)
            private = item.name.startswith("_") and not item.name.startswith("__")
            if overridden is not None and (private or _internal_doc(overridden)):
                found.append(
                    f"{filename}:{item.lineno}: {node.name}.{item.name} overrides "
                    f"{base.__name__}.{item.name} (internal)"
                )
    return found


def project_modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_no_private_use_of_a_dependency_outside_the_adapters() -> None:
    found = []
    for path in project_modules():
        relative = path.relative_to(ROOT).as_posix()
        if relative not in ADAPTERS:
            found += violations(path.read_text(encoding="utf-8"), relative)
    assert found == []


def test_the_adapters_exist_and_are_where_the_private_uses_are() -> None:
    for relative in ADAPTERS:
        assert violations((ROOT / relative).read_text(encoding="utf-8"), relative), relative


def test_the_check_finds_each_kind_of_private_use() -> None:
    source = """
import databases.core
from graphql.execution.collect_fields import collect_subfields
from graphql.execution.values import coerce_argument
from graphql.execution import Executor
from db.connection import _complete

class Fast(Executor):
    def execute_fields(self, *args):
        return None

async def run(schema, field, held, database):
    schema._schema
    getattr(field.resolve, "_is_default", False)
    await held.__aenter__()
    database._backend._pool
"""
    found = violations(source)
    assert sorted(entry.split(": ", 1)[1] for entry in found) == sorted(
        [
            "from graphql.execution.collect_fields import collect_subfields "
            "(documented 'for internal use only')",
            "from graphql.execution.values import coerce_argument "
            "(not in graphql.execution.values.__all__)",
            "from db.connection import _complete (module-private)",
            "Fast.execute_fields overrides Executor.execute_fields (internal)",
            "schema._schema (private attribute of a dependency)",
            "getattr(field.resolve, '_is_default', False) (private attribute by name)",
            "held.__aenter__ (a context manager driven by hand)",
            "database._backend._pool (private attribute of a dependency)",
            "database._backend (private attribute of a dependency)",
        ]
    )
