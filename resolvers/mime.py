"""MIME types: derived from a filename's extension (the reference's table, domain.md A.5.1),
and the shape a client-set type must have. Pure: no I/O."""

import re

DEFAULT_MIME_TYPE = "application/octet-stream"

_BY_EXTENSION = {
    "txt": "text/plain",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "csv": "text/csv",
    "html": "text/html",
    "htm": "text/html",
    "css": "text/css",
    "xml": "text/xml",
    "yaml": "text/yaml",
    "yml": "text/yaml",
    "toml": "text/toml",
    "rs": "text/x-rust",
    "py": "text/x-python",
    "js": "text/javascript",
    "ts": "text/typescript",
    "json": "application/json",
    "sh": "text/x-shellscript",
    "bash": "text/x-shellscript",
    "sql": "text/x-sql",
    "go": "text/x-go",
    "java": "text/x-java",
    "c": "text/x-c",
    "h": "text/x-c",
    "cpp": "text/x-c++",
    "hpp": "text/x-c++",
    "cc": "text/x-c++",
    "cxx": "text/x-c++",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/msword",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "webp": "image/webp",
    "zip": "application/zip",
    "tar": "application/x-tar",
    "gz": "application/gzip",
}

# RFC 6838 restricted names: type/subtype, no parameters
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def mime_type_for(filename: str) -> str:
    """The type for the last extension, lowercased (archive.tar.gz is gz); no extension or a
    dot-file such as .bashrc is application/octet-stream."""
    stem, dot, extension = filename.rpartition(".")
    if not dot or not stem:
        return DEFAULT_MIME_TYPE
    return _BY_EXTENSION.get(extension.lower(), DEFAULT_MIME_TYPE)


def is_text_mime(mime_type: str) -> bool:
    """Text that can be indexed: text/* or application/json."""
    return mime_type.startswith("text/") or mime_type == "application/json"


def normalize_mime_type(value: str) -> str | None:
    """A client-set type as stored (lowercase), or None when it is not a type/subtype string."""
    lowered = value.lower()
    return lowered if _MIME_TYPE.match(lowered) else None
