"""The settings every layer reads: a frozen dataclass, built in one place (app/settings.py)
from the environment (BOTERNITY_<NAME>) and command-line flags (--<name>), and passed down.
Nothing reads it at import time."""

from dataclasses import dataclass, field
from pathlib import Path


def _doc(
    text: str, *, choices: tuple[str, ...] = (), minimum: int = 0, maximum: int | None = None
) -> dict[str, object]:
    """A field's help text; for a word setting its choices (matched case-insensitively), for a
    whole number its bounds (app/settings.py checks them, naming the flag or variable given)."""
    return {"help": text, "choices": choices, "minimum": minimum, "maximum": maximum}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(metadata=_doc("Where the SQLite database and file content live."))
    database_url: str = field(
        metadata=_doc("Database URL; default sqlite:///<data dir>/boternity.db.")
    )
    host: str = field(default="127.0.0.1", metadata=_doc("Address to bind."))
    port: int = field(default=8000, metadata=_doc("Port to bind.", minimum=1, maximum=65535))
    log_level: str = field(
        default="info",
        metadata=_doc(
            "critical, error, warning, info or debug.",
            choices=("critical", "error", "warning", "info", "debug", "trace"),
        ),
    )
    log_format: str = field(
        default="text",
        metadata=_doc(
            "Log lines as text or json (one object per line); each names its request id.",
            choices=("text", "json"),
        ),
    )
    metrics_token: str = field(
        default="",
        metadata=_doc(
            "A bearer token that may read /metrics without an API key (empty: API keys only)."
        ),
    )
    metrics_max_operation_names: int = field(
        default=100,
        metadata=_doc(
            "Distinct operation names with their own duration series in /metrics; later ones"
            " count as (other)."
        ),
    )
    auth: str = field(
        default="required",
        metadata=_doc(
            "required, or disabled (allowed only on a loopback host).",
            choices=("required", "disabled"),
        ),
    )
    auth_cache_ms: int = field(
        default=1000, metadata=_doc("How long a checked API key is trusted before re-checking.")
    )
    max_depth: int = field(default=15, metadata=_doc("Deepest field nesting of a query."))
    max_tokens: int = field(default=2000, metadata=_doc("Most tokens in a query document."))
    max_aliases: int = field(default=30, metadata=_doc("Most aliases in a query document."))
    max_fragments: int = field(
        default=100, metadata=_doc("Most fragment definitions in a query document.")
    )
    max_spreads: int = field(
        default=500, metadata=_doc("Most fragment spreads (...Name) in a query document.")
    )
    max_cost: int = field(
        default=100_000,
        metadata=_doc(
            "Most values a response may hold, estimated before anything runs: per field, the"
            " product of the page sizes above it, summed (README, Limits).",
            minimum=1,
        ),
    )
    max_batch: int = field(
        default=10, metadata=_doc("Most operations in one batched request.", minimum=1)
    )
    max_subscriptions: int = field(
        default=20, metadata=_doc("Most subscriptions on one WebSocket.")
    )
    max_subscriptions_per_key: int = field(
        default=1000,
        metadata=_doc("Most subscriptions at once over the WebSockets of one API key."),
    )
    max_subscriptions_total: int = field(
        default=10_000, metadata=_doc("Most subscriptions at once over every WebSocket.")
    )
    max_websockets: int = field(
        default=1000,
        metadata=_doc("Most WebSockets open at once; one more is closed with 1013 (try again)."),
    )
    max_websockets_per_key: int = field(
        default=100,
        metadata=_doc("Most WebSockets of one API key; one more is closed with 4429."),
    )
    ws_key_check_ms: int = field(
        default=500,
        metadata=_doc(
            "How often the keys of open WebSockets are checked again: a revoked or deleted"
            " key's sockets close (4401) within this time plus one query.",
            minimum=50,
        ),
    )
    subscription_queue: int = field(
        default=1000,
        metadata=_doc(
            "Most events held for one subscription whose client reads slowly; past it the"
            " subscription ends with PAYLOAD_TOO_LARGE (the client resubscribes).",
            minimum=1,
        ),
    )
    broker: str = field(
        default="auto",
        metadata=_doc(
            "Where subscription events travel: memory (within this one process), postgres"
            " (LISTEN/NOTIFY, between every process on the database) or auto (postgres with a"
            " PostgreSQL database, else memory).",
            choices=("auto", "memory", "postgres"),
        ),
    )
    max_body_bytes: int = field(
        default=8 * 1024 * 1024, metadata=_doc("Largest JSON or GET request body, in bytes.")
    )
    max_response_bytes: int = field(
        default=16 * 1024 * 1024,
        metadata=_doc(
            "Most bytes of stored data one request may read for its response (16 MiB), charged"
            " as rows are fetched: past it the request answers PAYLOAD_TOO_LARGE.",
            minimum=1,
        ),
    )
    max_variables_bytes: int = field(
        default=4 * 1024 * 1024,
        metadata=_doc(
            "Largest variables of a request without uploads, in bytes of JSON (4 MiB): over it"
            " is PAYLOAD_TOO_LARGE (HTTP 413)."
        ),
    )
    max_file_bytes: int = field(
        default=50 * 1024 * 1024, metadata=_doc("Largest uploaded file, in bytes (50 MiB).")
    )
    max_upload_files: int = field(
        default=10, metadata=_doc("Most files in one multipart upload request.")
    )
    content_grace_seconds: int = field(
        default=3600,
        metadata=_doc(
            "Age below which unreferenced file content and interrupted uploads are kept, in"
            " seconds (another process may be about to commit them)."
        ),
    )
    download_url_seconds: int = field(
        default=900, metadata=_doc("How long a signed download URL stays valid, in seconds.")
    )
    download_secret: str = field(
        default="",
        metadata=_doc("Secret signing download URLs; default <data dir>/secret.key (made once)."),
    )
    default_page_size: int = field(
        default=50, metadata=_doc("Page size when `first` is omitted.", minimum=1)
    )
    max_page_size: int = field(default=500, metadata=_doc("Largest `first` accepted.", minimum=1))
    introspection: bool = field(default=True, metadata=_doc("Allow schema introspection."))
    graphiql: bool = field(default=True, metadata=_doc("Serve GraphiQL at GET /graphql."))
    graphiql_persist_headers: bool = field(
        default=False,
        metadata=_doc(
            "Let GraphiQL keep its Headers tab (API keys included) in the browser's"
            " localStorage; off by default, so a key is typed again in each new tab."
        ),
    )
    cors_origins: tuple[str, ...] = field(
        default=(), metadata=_doc("Comma-separated origins allowed by CORS (none by default).")
    )
    allowed_hosts: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Comma-separated host names or addresses (port not compared) the server answers"
            " to in the Host header, anything else is HTTP 400; * allows any. Default:"
            " localhost, 127.0.0.1, [::1] and the bind host. With BOTERNITY_AUTH=disabled only"
            " the loopback names."
        ),
    )
    ws_origins: tuple[str, ...] = field(
        default=(), metadata=_doc("Comma-separated extra origins allowed to open WebSockets.")
    )
    sqlite_readers: int = field(
        default=2, metadata=_doc("SQLite reader connections held open.", minimum=1)
    )
    postgres_pool_size: int = field(
        default=10,
        metadata=_doc("Most PostgreSQL connections this process holds (its pool).", minimum=1),
    )
    sqlite_synchronous: str = field(
        default="FULL",
        metadata=_doc(
            "SQLite synchronous PRAGMA: NORMAL, FULL or EXTRA (OFF is refused: a power loss can"
            " then lose or corrupt committed writes).",
            choices=("NORMAL", "FULL", "EXTRA"),
        ),
    )
    busy_timeout_ms: int = field(
        default=5000,
        metadata=_doc(
            "How long a write waits for a lock another process holds (SQLite busy_timeout,"
            " PostgreSQL lock_timeout); past it the write is CONFLICT."
        ),
    )
    statement_timeout_ms: int = field(
        default=60000,
        metadata=_doc(
            "Longest one database statement may run, in ms (0: no limit); past it the request"
            " is QUERY_TOO_COMPLEX and nothing is written. Migrations run without it."
        ),
    )
    max_providers: int = field(
        default=200,
        metadata=_doc(
            "Most providers that may exist; saving or recording a call for one more is CONFLICT"
            " (a provider list is small, and any write key could otherwise grow it)."
        ),
    )
    circuit_failure_threshold: int = field(
        default=3, metadata=_doc("Consecutive failures that open a provider's circuit.")
    )
    circuit_cooldown_seconds: int = field(
        default=30, metadata=_doc("Seconds an open circuit waits before it reads as half-open.")
    )
    rate_limit_max_wait_ms: int = field(
        default=5000,
        metadata=_doc(
            "Longest rate-limit back-off a provider call stores, in ms (retryAfterMs is capped"
            " at it; the reference's rate-limit queue timeout)."
        ),
    )
