"""The reference's slugify rules (domain.md A.1): pure, no I/O."""

import re

_DASHES = re.compile(r"-+")
MAX_SUFFIX = 100


def slugify(name: str) -> str:
    """Lowercase; every non-alphanumeric character becomes '-'; runs collapse; ends trimmed.

    "Research Assistant" -> "research-assistant", "Bot v2.0" -> "bot-v2-0".
    """
    replaced = "".join(char if char.isalnum() else "-" for char in name.lower())
    return _DASHES.sub("-", replaced).strip("-")


def slug_candidates(slug: str) -> list[str]:
    """The slug, then slug-2 ... slug-100, in the order they are tried."""
    return [slug, *(f"{slug}-{suffix}" for suffix in range(2, MAX_SUFFIX + 1))]
