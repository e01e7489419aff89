"""The purpose classifier (domain.md D.4): which category a free-text description belongs to.

The description is lowercased and tested for substring keywords group by group; the first group
with a match wins, otherwise the category is custom. Substrings are plain ("art" matches inside
"start"), as in the reference. The reference's Custom(first 50 characters) label is not made
here: classifyPurpose returns only the enum, and clients choose their own customCategory.
"""

CUSTOM = "custom"

# In the reference's order; the first group that matches wins.
KEYWORD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("simple_utility", ("email", "reminder", "timer", "calculator", "converter")),
    ("complex_analyst", ("analyze", "data", "report", "metrics", "dashboard")),
    ("creative", ("write", "story", "poem", "creative", "art", "music")),
    ("coding", ("code", "debug", "program", "develop", "software")),
    ("research", ("research", "study", "academic", "paper", "literature")),
    ("customer_service", ("support", "customer", "help desk", "ticket")),
)


def classify_purpose(description: str) -> str:
    """The stored (snake_case) category value for a description."""
    lowered = description.lower()
    for category, keywords in KEYWORD_GROUPS:
        if any(keyword in lowered for keyword in keywords):
            return category
    return CUSTOM
