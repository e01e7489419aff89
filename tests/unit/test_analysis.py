"""Document analysis (app/analysis.py): linear in the document, and equal to the naive count.

The naive walk expands every fragment spread again (exponential in the nesting of fragments);
on documents small enough to expand, the memoised analysis must agree with it exactly. On
hostile documents within the token limit, preparing a document (parse, limits, validation,
analysis) stays far below 50 ms of CPU: exponential work would take seconds.
"""

import re
import sys
import time
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    parse,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.analysis import FIXED_BOUNDS, Analysis, is_connection, operation_costs, shape
from app.documents import DocumentCache
from db.settings import Settings
from resolvers import build_schema

SCHEMA = build_schema()._schema
SETTINGS = Settings(data_dir=Path("/nonexistent"), database_url="sqlite:////nonexistent/x.db")
README = (Path(__file__).parents[2] / "README.md").read_text()
BOT = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"


def naive(document: str, variables: dict[str, Any] | None = None) -> tuple[int, int, int]:
    """(depth, aliases, cost) of the only operation, every spread expanded again."""
    parsed = parse(document)
    fragments = {d.name.value: d for d in parsed.definitions if hasattr(d, "type_condition")}
    (operation,) = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    given = variables or {}

    def size(node: FieldNode, name: str, default: int, most: int) -> int:
        for argument in node.arguments or ():
            if argument.name.value == name:
                value = argument.value
                found = given.get(value.name.value) if hasattr(value, "name") else None
                raw = int(value.value) if hasattr(value, "value") else found  # type: ignore[attr-defined]
                return default if raw is None else max(1, min(raw, most))
        return default

    def walk(parent: Any, selections: SelectionSetNode | None, page: int) -> tuple[int, int, int]:
        depth = aliases = cost = 0
        for selection in selections.selections if selections else ():
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                kind = SCHEMA.get_type(fragment.type_condition.name.value)
                d, a, c = walk(kind, fragment.selection_set, page)
                depth, aliases, cost = max(depth, d), aliases + a, cost + c
            elif isinstance(selection, InlineFragmentNode):
                d, a, c = walk(parent, selection.selection_set, page)
                depth, aliases, cost = max(depth, d), aliases + a, cost + c
            else:
                field = parent.fields.get(selection.name.value)
                aliases += selection.alias is not None
                if field is None:
                    depth, cost = max(depth, 1), cost + 1
                    continue
                kind = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
                named = get_named_type(kind)
                bound = 1
                if isinstance(kind, GraphQLList):
                    name = selection.name.value
                    if page and name in ("nodes", "edges"):
                        bound = page
                    elif "limit" in field.args:
                        bound = size(selection, "limit", field.args["limit"].default_value, 100)
                    else:
                        bound = FIXED_BOUNDS.get((parent.name, name), 500)
                inner = size(selection, "first", 50, 500) if is_connection(named) else 0
                d, a, c = walk(named, selection.selection_set, inner)
                depth, aliases, cost = max(depth, d + 1), aliases + a, cost + bound * (1 + c)
        return depth, aliases, cost

    return walk(SCHEMA.get_root_type(operation.operation), operation.selection_set, 0)


def analysed(document: str, variables: dict[str, Any] | None = None) -> tuple[int, int, int]:
    parsed = parse(document)
    depth, aliases = Analysis(SCHEMA, parsed, SETTINGS).depth_and_aliases()
    (cost,) = operation_costs(SCHEMA, parsed, SETTINGS).values()
    return depth, aliases, cost.cost(variables)


LOOP = "kvEntries{} {{ nodes {{ bot {{ {} }} }} }}"


@st.composite
def hostile(draw: st.DrawFn) -> str:
    """Fragment chains with spread fan-out, aliases in fragments, and parent-link loops."""
    levels = draw(st.integers(1, 40))
    fan_out = draw(st.integers(1, 8))
    aliases = draw(st.integers(0, 6))
    loops = draw(st.integers(0, 4))
    page = draw(st.sampled_from(["", "(first: 500)", "(first: $n)", "(first: 3)"]))
    fragments = []
    for level in range(levels):
        inner = " ".join(f"...F{level + 1}" for _ in range(fan_out)) if level + 1 < levels else ""
        aliased = " ".join(f"a{n}: name" for n in range(aliases))
        body = f"id {aliased} {inner} kvEntries{page} {{ nodes {{ key }} }}"
        for _ in range(loops if level % 3 == 0 else 0):
            body = LOOP.format(page, body)
        fragments.append(f"fragment F{level} on Bot {{ {body} }}")
    header = "query Q($n: Int)" if "$n" in page else "query Q"
    return f'{header} {{ bot(id: "{BOT}") {{ ...F0 }} }} ' + " ".join(fragments)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=hostile(), n=st.integers(-5, 10_000))
def test_analysing_a_hostile_document_is_linear(document: str, n: int) -> None:
    try:
        parsed = parse(document, max_lexical_tokens=SETTINGS.max_tokens)
    except GraphQLError:
        return  # over the token limit: refused while parsing, never analysed
    start = time.process_time()
    shape(parsed)
    Analysis(SCHEMA, parsed, SETTINGS).depth_and_aliases()
    costs = operation_costs(SCHEMA, parsed, SETTINGS)
    cost = costs["Q"].cost({"n": n})
    elapsed = time.process_time() - start
    assert elapsed < 0.05, (elapsed, document[:200])  # exponential work takes seconds
    assert cost > 0
    prepared = DocumentCache(SCHEMA, SETTINGS).get(document)
    codes = {error["extensions"]["code"] for error in prepared.errors}
    assert codes <= {"QUERY_TOO_COMPLEX"}, prepared.errors


@settings(max_examples=80, deadline=None)
@given(document=hostile(), n=st.integers(-5, 600))
def test_memoised_analysis_equals_the_naive_expansion(document: str, n: int) -> None:
    spreads = document.count("...")
    levels = len(re.findall("fragment F", document))
    fan_out = spreads // max(levels - 1, 1)
    if fan_out ** min(levels, 30) > 2_000 or len(document) > 3000:
        return  # too big to expand naively
    assert analysed(document, {"n": n}) == naive(document, {"n": n})


def test_fragment_spread_fan_out_is_counted_per_use() -> None:
    query = (
        f'query {{ bot(id: "{BOT}") {{ ...A ...A }} }} '
        "fragment A on Bot { x: name y: slug kvEntries(first: 2) { nodes { key } } }"
    )
    assert analysed(query) == (4, 4, 1 + 2 * (2 + 1 + 2 + 2))


def test_every_readme_example_and_bench_query_is_within_the_default_budget() -> None:
    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    from targets import GRAPHQL

    blocks = re.findall(r"```graphql\n(.*?)```", README, re.S)
    blocks += [query for query, _ in GRAPHQL.values()]
    blocks += re.findall(r'"query": "(\{.*?\})"', README)
    assert len(blocks) >= 8
    costs = [
        cost.cost({})
        for block in blocks
        for cost in operation_costs(SCHEMA, parse(block), SETTINGS).values()
    ]
    assert max(costs) == 1_651 <= SETTINGS.max_cost  # the figure the README gives


def test_a_largest_page_of_each_list_with_every_leaf_is_within_the_default_budget() -> None:
    """The contract's query shapes: any root list at its largest page (500), every scalar."""
    query_type = SCHEMA.query_type
    assert query_type is not None
    checked = 0
    for name, field in query_type.fields.items():
        named = get_named_type(field.type)
        if not is_connection(named):
            continue
        node = get_named_type(named.fields["nodes"].type)  # type: ignore[union-attr]
        leaves = " ".join(
            leaf
            for leaf, each in node.fields.items()  # type: ignore[union-attr]
            if not hasattr(get_named_type(each.type), "fields") and not each.args
        )
        required = ", ".join(
            f'{arg}: "{BOT}"'
            for arg, spec in field.args.items()
            if isinstance(spec.type, GraphQLNonNull)
        )
        arguments = f"({required}, first: 500)" if required else "(first: 500)"
        document = f"{{ {name}{arguments} {{ totalCount nodes {{ {leaves} }} }} }}"
        (cost,) = operation_costs(SCHEMA, parse(document), SETTINGS).values()
        assert cost.cost({}) <= SETTINGS.max_cost, (document, cost.cost({}))
        checked += 1
    assert checked == 7
    nested = "{ bots(first: 500) { totalCount nodes { id kvEntries { nodes { key value } } } } }"
    (cost,) = operation_costs(SCHEMA, parse(nested), SETTINGS).values()
    assert cost.cost({}) == 76_502 == 2 + 500 * (1 + 1 + 1 + 50 * 3) <= SETTINGS.max_cost
    wide = "{ bots(first: 100) { nodes { kvEntries(first: 100) { nodes { key value } } } } }"
    (cost,) = operation_costs(SCHEMA, parse(wide), SETTINGS).values()
    assert cost.cost({}) == 30_201  # the README's figures
