"""The reference's slugify rules (domain.md A.1): pure, no I/O."""

import re
import unicodedata

_DASHES = re.compile(r"-+")
MAX_SUFFIX = 100


def slugify(name: str) -> str:
    """NFKC-normalised, then lowercase; every non-alphanumeric character becomes '-'; runs
    collapse; ends trimmed.

    "Research Assistant" -> "research-assistant", "Bot v2.0" -> "bot-v2-0", and a name in
    compatibility characters (fullwidth letters, the "fi" ligature) gets the slug of its plain
    spelling.
    """
    normal = unicodedata.normalize("NFKC", name)
    replaced = "".join(char if char.isalnum() else "-" for char in normal.lower())
    return _DASHES.sub("-", replaced).strip("-")


def slug_candidates(slug: str) -> list[str]:
    """The slug, then slug-2 ... slug-100, in the order they are tried."""
    return [slug, *(f"{slug}-{suffix}" for suffix in range(2, MAX_SUFFIX + 1))]
