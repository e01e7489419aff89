"""MIME types from extensions (the reference's table, domain.md A.5.1) and client-set types."""

import pytest

from resolvers.mime import is_text_mime, mime_type_for, normalize_mime_type


@pytest.mark.parametrize(
    ("filename", "mime_type"),
    [
        ("file.txt", "text/plain"),
        ("doc.md", "text/markdown"),
        ("doc.markdown", "text/markdown"),
        ("data.json", "application/json"),
        ("image.png", "image/png"),
        ("code.rs", "text/x-rust"),
        ("page.htm", "text/html"),
        ("conf.yml", "text/yaml"),
        ("run.bash", "text/x-shellscript"),
        ("lib.hpp", "text/x-c++"),
        ("photo.JPEG", "image/jpeg"),
        ("drawing.svg", "image/svg+xml"),
        ("letter.docx", "application/msword"),
        ("archive.tar.gz", "application/gzip"),
        ("archive.tar", "application/x-tar"),
        ("unknown.xyz", "application/octet-stream"),
        ("no_extension", "application/octet-stream"),
        (".bashrc", "application/octet-stream"),
        ("trailing.", "application/octet-stream"),
    ],
)
def test_mime_type_for_uses_the_last_extension(filename: str, mime_type: str) -> None:
    assert mime_type_for(filename) == mime_type


@pytest.mark.parametrize(
    ("mime_type", "is_text"),
    [
        ("text/plain", True),
        ("text/markdown", True),
        ("text/x-rust", True),
        ("application/json", True),
        ("image/png", False),
        ("application/pdf", False),
        ("application/octet-stream", False),
    ],
)
def test_is_text_mime_means_text_or_json(mime_type: str, is_text: bool) -> None:
    assert is_text_mime(mime_type) is is_text


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("text/plain", "text/plain"),
        ("Application/VND.Example+JSON", "application/vnd.example+json"),
        ("text", None),
        ("text/", None),
        ("/plain", None),
        ("text/plain; charset=utf-8", None),
        ("text/plain\r\nX-Evil: 1", None),
        ("text/pl ain", None),
        ("a/b/c", None),
        ("t" * 128 + "/x", None),
    ],
)
def test_normalize_mime_type_accepts_only_type_slash_subtype(
    value: str, stored: str | None
) -> None:
    assert normalize_mime_type(value) == stored
