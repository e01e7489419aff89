"""The purpose classifier: the reference's cases (domain.md E.9) and its keyword rules (D.4)."""

import pytest

from resolvers.purpose import KEYWORD_GROUPS, classify_purpose


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("Build me an email sorter", "simple_utility"),
        ("Daily reminder bot", "simple_utility"),
        ("Unit converter", "simple_utility"),
        ("Analyze my sales data", "complex_analyst"),
        ("Weekly metrics dashboard", "complex_analyst"),
        ("Generate quarterly report", "complex_analyst"),
        ("Write short stories", "creative"),
        ("Help me with poetry and poem writing", "creative"),
        ("A creative assistant for art projects", "creative"),
        ("Help me debug Rust code", "coding"),
        ("Software development assistant", "coding"),
        ("A bot that helps program in Python", "coding"),
        ("Research assistant for academic papers", "research"),
        ("Help me study for exams", "research"),
        ("Literature review helper", "research"),
        ("Customer support chatbot", "customer_service"),
        ("Handle support tickets", "customer_service"),
        ("Help desk automation", "customer_service"),
    ],
)
def test_classify_purpose_reference_cases_by_group(description: str, category: str) -> None:
    assert classify_purpose(description) == category


def test_classify_purpose_without_keyword_is_custom() -> None:
    assert classify_purpose("A general-purpose companion") == "custom"


def test_classify_purpose_long_text_without_keyword_is_custom() -> None:
    text = "This is a very long description that should be truncated to fifty characters exactly"
    assert len(text) == 84
    assert classify_purpose(text) == "custom"


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("Help me CODE in Rust", "coding"),
        ("CREATIVE writing", "creative"),
        ("HELP DESK", "customer_service"),
    ],
)
def test_classify_purpose_ignores_case(description: str, category: str) -> None:
    assert classify_purpose(description) == category


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("write code documentation", "creative"),  # creative comes before coding
        ("email me a data report", "simple_utility"),
        ("support my research", "research"),
    ],
)
def test_classify_purpose_first_matching_group_wins(description: str, category: str) -> None:
    assert classify_purpose(description) == category


@pytest.mark.parametrize(
    ("description", "category"),
    [("start a chat", "creative"), ("a database helper", "complex_analyst"), ("", "custom")],
)
def test_classify_purpose_matches_plain_substrings(description: str, category: str) -> None:
    assert classify_purpose(description) == category


def test_classify_purpose_keyword_groups_are_the_reference_order() -> None:
    assert [category for category, _ in KEYWORD_GROUPS] == [
        "simple_utility",
        "complex_analyst",
        "creative",
        "coding",
        "research",
        "customer_service",
    ]
    for category, keywords in KEYWORD_GROUPS:
        for keyword in keywords:
            assert classify_purpose(f"xx {keyword.upper()} yy") == category, keyword
