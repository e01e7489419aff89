"""Signed download URLs: the path plus ?exp=<unix seconds>&sig=<hex HMAC-SHA256 of path and
exp>, so a browser can fetch a file with a plain link (DESIGN.md section 5).

The secret is a setting, or else <data dir>/secret.key, created once (0600) and kept; with
PostgreSQL it is kept in the database instead, so every API process checks the URLs any of them
signed.
"""

import hashlib
import hmac
import os
import secrets
from datetime import datetime
from pathlib import Path

from db.connection import WriteConn

SECRET_FILE = "secret.key"  # noqa: S105 (a file name, not a secret)
SAVE_SHARED_SECRET = """
INSERT INTO shared_secrets (name, value) VALUES ('download', :value) ON CONFLICT (name) DO NOTHING
"""  # noqa: S105 (SQL; the value is a bind)
SHARED_SECRET = "SELECT value FROM shared_secrets WHERE name = 'download'"  # noqa: S105 (SQL)


def load_secret(data_dir: Path) -> bytes:
    """The data dir's secret, created on first use; two processes starting at once agree (the
    key is written to a private temp file and linked into place, the loser reads the winner's)."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        temp = data_dir / f".{SECRET_FILE}.{os.getpid()}"
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(descriptor, secrets.token_hex(32).encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return path.read_bytes().strip()


async def load_shared_secret(conn: WriteConn) -> bytes:
    """The database's secret (shared_secrets, PostgreSQL), created by the first process."""
    await conn.execute(SAVE_SHARED_SECRET, {"value": secrets.token_hex(32)})
    value: str = await conn.fetch_val(SHARED_SECRET)
    return value.encode()


class UrlSigner:
    def __init__(self, secret: bytes, lifetime_seconds: int) -> None:
        self._secret = secret
        self._lifetime = lifetime_seconds

    def _signature(self, path: str, exp: str) -> str:
        message = f"{path}\n{exp}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, path: str, now: datetime) -> str:
        """The path with exp and sig, valid for the lifetime from now."""
        exp = str(int(now.timestamp()) + self._lifetime)
        return f"{path}?exp={exp}&sig={self._signature(path, exp)}"

    def check(self, path: str, exp: str | None, sig: str | None, now: datetime) -> str | None:
        """Why this exp and sig do not open the path, or None when they do."""
        if exp is None or sig is None or not exp.isascii() or not exp.isdigit() or len(exp) > 12:
            return "the download link is malformed (it needs exp and sig)"
        if not hmac.compare_digest(self._signature(path, exp).encode(), sig.encode()):
            return "the download link's signature does not match"
        if int(now.timestamp()) > int(exp):  # valid through its exp second
            return "the download link has expired"
        return None
