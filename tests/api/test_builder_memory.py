"""Builder memory and the purpose classifier through the GraphQL API: the reference's cases
(domain.md E.6, E.9), custom labels, order on ties, limits and bad input."""

from typing import Any

import pytest

from tests.conftest import FakeClock, GraphQL, codes

ENTRY_FIELDS = """
id purposeCategory customCategory initialDescription chosenTone chosenModel chosenSkills botSlug
createdAt
"""
RECORD = (
    "mutation($input: RecordBuilderMemoryInput!) "
    f"{{ recordBuilderMemory(input: $input) {{ {ENTRY_FIELDS} }} }}"
)
RECALL = (
    "query($category: PurposeCategory!, $custom: String, $limit: Int!) "
    "{ recallBuilderMemory(category: $category, customCategory: $custom, limit: $limit) "
    f"{{ {ENTRY_FIELDS} }} }}"
)
RECENT = f"query($limit: Int!) {{ recentBuilderMemory(limit: $limit) {{ {ENTRY_FIELDS} }} }}"
CLASSIFY = "query($text: String!) { classifyPurpose(description: $text) }"
NOW = "2026-02-12T22:04:12.123456+00:00"
SONNET = "claude-sonnet-4-20250514"


async def record(gql: GraphQL, category: str, description: str, **fields: Any) -> dict[str, Any]:
    variables = {
        "input": {"purposeCategory": category, "initialDescription": description, **fields}
    }
    entry: dict[str, Any] = (await gql(RECORD, variables))["recordBuilderMemory"]
    return entry


async def recall(
    gql: GraphQL, category: str, limit: int = 10, custom: str | None = None
) -> list[dict[str, Any]]:
    variables = {"category": category, "custom": custom, "limit": limit}
    entries: list[dict[str, Any]] = (await gql(RECALL, variables))["recallBuilderMemory"]
    return entries


async def recent(gql: GraphQL, limit: int = 10) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (await gql(RECENT, {"limit": limit}))["recentBuilderMemory"]
    return entries


async def test_record_builder_memory_returns_every_field(gql: GraphQL) -> None:
    entry = await record(
        gql,
        "CODING",
        "A Rust linter",
        chosenTone="formal",
        chosenModel=SONNET,
        chosenSkills=["code-review"],
        botSlug="rust-linter",
    )
    assert entry == {
        "id": entry["id"],
        "purposeCategory": "CODING",
        "customCategory": None,
        "initialDescription": "A Rust linter",
        "chosenTone": "formal",
        "chosenModel": SONNET,
        "chosenSkills": ["code-review"],
        "botSlug": "rust-linter",
        "createdAt": NOW,
    }
    assert entry["id"][14] == "7"  # UUIDv7


async def test_recall_builder_memory_by_category_newest_first_with_skills(gql: GraphQL) -> None:
    # no clock movement between records, as in the reference: ties keep record order reversed
    await record(
        gql,
        "CODING",
        "A Rust linter",
        chosenTone="formal",
        chosenModel=SONNET,
        chosenSkills=["code-review"],
        botSlug="rust-linter",
    )
    await record(
        gql,
        "CODING",
        "A Python helper",
        chosenTone="casual",
        chosenModel=SONNET,
        chosenSkills=["code-gen", "testing"],
        botSlug="py-helper",
    )
    await record(gql, "CREATIVE", "A story writer", chosenTone="playful")
    coding = await recall(gql, "CODING")
    assert [entry["initialDescription"] for entry in coding] == ["A Python helper", "A Rust linter"]
    assert coding[0]["chosenSkills"] == ["code-gen", "testing"]
    creative = await recall(gql, "CREATIVE")
    assert [entry["initialDescription"] for entry in creative] == ["A story writer"]


async def test_recent_builder_memory_is_newest_first_across_categories(
    gql: GraphQL, clock: FakeClock
) -> None:
    await record(gql, "CODING", "First bot")
    clock.advance(milliseconds=10)
    await record(gql, "CREATIVE", "Second bot")
    clock.advance(milliseconds=10)
    await record(gql, "CODING", "Third bot")
    assert [entry["initialDescription"] for entry in await recent(gql, 2)] == [
        "Third bot",
        "Second bot",
    ]
    assert len(await recent(gql, 10)) == 3


async def test_recall_builder_memory_ties_in_time_keep_id_order(gql: GraphQL) -> None:
    made = [await record(gql, "RESEARCH", f"tied {index}") for index in range(5)]
    assert len({entry["createdAt"] for entry in made}) == 1
    newest_first = [entry["id"] for entry in reversed(made)]
    assert [entry["id"] for entry in await recall(gql, "RESEARCH")] == newest_first
    assert [entry["id"] for entry in await recent(gql)] == newest_first
    assert [entry["id"] for entry in await recall(gql, "RESEARCH", limit=2)] == newest_first[:2]


async def test_recall_builder_memory_empty_category_is_empty(gql: GraphQL) -> None:
    await record(gql, "CODING", "A Rust linter")
    assert await recall(gql, "RESEARCH") == []


async def test_recent_builder_memory_empty_is_empty(gql: GraphQL) -> None:
    assert await recent(gql) == []


async def test_record_builder_memory_optional_fields_persist_as_empty(gql: GraphQL) -> None:
    await record(gql, "CODING", "Minimal bot")
    [entry] = await recent(gql, 1)
    assert (
        entry["chosenTone"],
        entry["chosenModel"],
        entry["chosenSkills"],
        entry["botSlug"],
    ) == (None, None, [], None)


async def test_recall_builder_memory_custom_matches_label_exactly(gql: GraphQL) -> None:
    game = await record(gql, "CUSTOM", "Runs my tabletop games", customCategory="game-master")
    await record(gql, "CUSTOM", "Another", customCategory="Game-Master")
    await record(gql, "CODING", "A Rust linter")
    assert game["customCategory"] == "game-master"
    assert await recall(gql, "CUSTOM", custom="game-master") == [game]
    assert await recall(gql, "CUSTOM", custom="game") == []
    assert [entry["purposeCategory"] for entry in await recall(gql, "CODING")] == ["CODING"]


async def test_node_returns_builder_memory_entry(gql: GraphQL) -> None:
    entry = await record(gql, "CUSTOM", "Runs my games", customCategory="game-master")
    query = (
        "query($id: ID!) { node(id: $id) { __typename id "
        "... on BuilderMemoryEntry { customCategory } } }"
    )
    assert (await gql(query, {"id": entry["id"].upper()}))["node"] == {
        "__typename": "BuilderMemoryEntry",
        "id": entry["id"],
        "customCategory": "game-master",
    }


async def test_record_builder_memory_accepts_the_largest_inputs(gql: GraphQL) -> None:
    skills = [f"{index:02d}" + "s" * 254 for index in range(50)]
    label = "é" * 128
    entry = await record(
        gql,
        "CUSTOM",
        "d" * 64 * 1024,
        customCategory=label,
        chosenSkills=skills,
        botSlug="b" * 4096,
    )
    assert (entry["chosenSkills"], entry["customCategory"]) == (skills, label)
    assert len(entry["initialDescription"]) == 64 * 1024


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"purposeCategory": "CUSTOM"}, "customCategory is required when the category is CUSTOM"),
        (
            {"purposeCategory": "CUSTOM", "customCategory": " "},
            "customCategory is required when the category is CUSTOM",
        ),
        (
            {"customCategory": "game-master"},
            "customCategory is only allowed when the category is CUSTOM",
        ),
        (
            {"purposeCategory": "CUSTOM", "customCategory": "x" * 257},
            "customCategory is 257 bytes; at most 256 are allowed",
        ),
        (
            {"chosenSkills": ["s"] * 51},
            "$input.chosenSkills holds 51 items; at most 50 are allowed",
        ),
        ({"chosenSkills": ["s" * 257]}, "a skill name is 257 bytes; at most 256 are allowed"),
        (
            {"initialDescription": "d" * (64 * 1024 + 1)},
            "initialDescription is 65537 bytes; at most 65536 are allowed",
        ),
        ({"chosenTone": "a\x00b"}, "chosenTone must not contain NUL characters"),
        ({"chosenModel": "m" * 4097}, "chosenModel is 4097 bytes; at most 4096 are allowed"),
        ({"botSlug": "\x00"}, "botSlug must not contain NUL characters"),
    ],
)
async def test_record_builder_memory_with_bad_input_writes_nothing(
    gql: GraphQL, fields: dict[str, Any], message: str
) -> None:
    variables = {"input": {"purposeCategory": "CODING", "initialDescription": "x", **fields}}
    errors = await gql.errors(RECORD, variables)
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == message
    assert await recent(gql) == []


async def test_record_builder_memory_with_unknown_category_writes_nothing(gql: GraphQL) -> None:
    variables = {"input": {"purposeCategory": "coding", "initialDescription": "x"}}
    assert codes(await gql.errors(RECORD, variables)) == ["BAD_USER_INPUT"]
    assert await recent(gql) == []


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"category": "CUSTOM", "custom": None, "limit": 3},
            "customCategory is required when the category is CUSTOM",
        ),
        (
            {"category": "CODING", "custom": "x", "limit": 3},
            "customCategory is only allowed when the category is CUSTOM",
        ),
        (
            {"category": "CODING", "custom": None, "limit": 0},
            "limit must be between 1 and 100, not 0",
        ),
        (
            {"category": "CODING", "custom": None, "limit": 101},
            "limit must be between 1 and 100, not 101",
        ),
    ],
)
async def test_recall_builder_memory_with_bad_arguments_is_bad_user_input(
    gql: GraphQL, variables: dict[str, Any], message: str
) -> None:
    errors = await gql.errors(RECALL, variables)
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == message


@pytest.mark.parametrize("limit", [0, -1, 101])
async def test_recent_builder_memory_limit_outside_range_is_bad_user_input(
    gql: GraphQL, limit: int
) -> None:
    errors = await gql.errors(RECENT, {"limit": limit})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == f"limit must be between 1 and 100, not {limit}"


async def test_recall_and_recent_use_their_default_limits(gql: GraphQL) -> None:
    for index in range(12):
        await record(gql, "CODING", f"bot {index}")
    data = await gql("{ recallBuilderMemory(category: CODING) { id } recentBuilderMemory { id } }")
    assert (len(data["recallBuilderMemory"]), len(data["recentBuilderMemory"])) == (3, 10)
    assert len(await recent(gql, 100)) == 12


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Build me an email sorter", "SIMPLE_UTILITY"),
        ("Analyze my sales data", "COMPLEX_ANALYST"),
        ("write code documentation", "CREATIVE"),
        ("Help me CODE in Rust", "CODING"),
        ("Literature review helper", "RESEARCH"),
        ("Help desk automation", "CUSTOMER_SERVICE"),
        ("A general-purpose companion", "CUSTOM"),
    ],
)
async def test_classify_purpose_returns_the_category(
    gql: GraphQL, text: str, category: str
) -> None:
    assert (await gql(CLASSIFY, {"text": text}))["classifyPurpose"] == category


@pytest.mark.parametrize("text", ["a\x00b", "x" * (64 * 1024 + 1)])
async def test_classify_purpose_with_bad_text_is_bad_user_input(gql: GraphQL, text: str) -> None:
    assert codes(await gql.errors(CLASSIFY, {"text": text})) == ["BAD_USER_INPUT"]
