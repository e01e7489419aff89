"""Refresh the GraphiQL assets vendored in app/static/graphiql/ from the npm registry.

    python scripts/refresh_graphiql.py

Each pinned package below is fetched with `npm pack` into a temporary folder, the files the
page needs (and each package's license) are copied out of the tarball, and manifest.json
records every file's package, version, path in the package and sha256
(tests/api/test_graphiql.py checks the files against it). Change a version here, run the
script, run the browser test (tests/api/test_graphiql_browser.py), commit.
"""

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "app" / "static" / "graphiql"

# package, version, {path inside the package: file name in TARGET}
PACKAGES: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "react",
        "18.2.0",
        {"umd/react.production.min.js": "react.production.min.js", "LICENSE": "LICENSE.react"},
    ),
    (
        "react-dom",
        "18.2.0",
        {
            "umd/react-dom.production.min.js": "react-dom.production.min.js",
            "LICENSE": "LICENSE.react-dom",
        },
    ),
    (
        # GraphiQL's UMD build bundles @graphiql/react, graphql, CodeMirror and graphql-ws
        # (subscriptions over graphql-transport-ws).
        "graphiql",
        "3.8.3",
        {
            "graphiql.min.js": "graphiql.min.js",
            "graphiql.min.css": "graphiql.min.css",
            "LICENSE": "LICENSE.graphiql",
        },
    ),
    (
        # MIT per its package.json; it ships no license file (its repository is graphiql's,
        # LICENSE.graphiql). Its UMD build bundles graphiql-explorer, whose license follows.
        "@graphiql/plugin-explorer",
        "1.0.2",
        {"dist/index.umd.js": "plugin-explorer.umd.js", "dist/style.css": "plugin-explorer.css"},
    ),
    ("graphiql-explorer", "0.9.0", {"LICENSE": "LICENSE.graphiql-explorer"}),
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(package: str, version: str, folder: Path) -> tuple[Path, str]:
    """npm pack package@version into folder: the tarball and npm's integrity string."""
    output = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    packed = json.loads(output)[0]
    return folder / packed["filename"], packed["integrity"]


def refresh() -> dict[str, dict[str, dict[str, str]]]:
    TARGET.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, str]] = {}
    packages: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as temp:
        for package, version, wanted in PACKAGES:
            tarball, integrity = fetch(package, version, Path(temp))
            packages[package] = {"version": version, "integrity": integrity}
            with tarfile.open(tarball) as archive:
                for inner, name in wanted.items():
                    member = archive.extractfile(f"package/{inner}")
                    if member is None:
                        raise SystemExit(f"{package}@{version} has no file {inner}")
                    (TARGET / name).write_bytes(member.read())
                    files[name] = {
                        "package": package,
                        "version": version,
                        "path": inner,
                        "sha256": sha256(TARGET / name),
                    }
    manifest = {"packages": packages, "files": dict(sorted(files.items()))}
    (TARGET / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


if __name__ == "__main__":
    written = refresh()["files"]
    print(f"wrote {len(written)} files and manifest.json to {TARGET}", file=sys.stderr)
