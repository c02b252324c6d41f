"""Tests for the CloudWatch Logs JSON filter-pattern engine (rulelib/cis_filter_pattern.py)."""

from __future__ import annotations

import dataclasses
import json
import string
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cis_filter_pattern
from cis_filter_pattern import (
    MAX_NESTING,
    MAX_PATTERN_LENGTH,
    And,
    Check,
    Comparison,
    FilterPatternError,
    Node,
    NumberValue,
    Or,
    RegexValue,
    Selector,
    StringValue,
    leaves,
    matches,
    normalize,
    parse,
    render,
)
from cispack.testing.caches import forget_remembered_answers

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The JSON example and the filters the CloudWatch Logs user guide says match it.
GUIDE_EVENT: dict[str, Any] = {
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": None,
    "ThisFlag": True,
}

# The guide's compound-condition example and its four verdicts (these pin && over || precedence).
GUIDE_COMPOUND_EVENT: dict[str, Any] = {
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
}


@pytest.fixture(autouse=True)
def _parse_afresh() -> None:
    """Each scenario parses its own pattern: the parser's cache would otherwise hand back what an
    earlier test parsed (mutation testing forks each mutant from a process that ran the tests)."""
    forget_remembered_answers([cis_filter_pattern])


def sel(*path: str | int) -> Selector:
    return Selector(tuple(path))


def eq(name: str, text: str, operator: str = "=") -> Comparison:
    return Comparison(sel(name), operator, StringValue(text))


# ------------------------------------------------------------------------------ the guide


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "UpdateTrail" }',
        "{ $.sourceIPAddress != 123.123.* }",
        '{ $.arrayKey[0] = "value" }',
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
        "{ $.eventType = Update* }",
        "{ $.eventType = *Trail }",
    ],
)
def test_guide_examples_match(pattern: str) -> None:
    assert matches(pattern, GUIDE_EVENT)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True, id="and"),
        pytest.param(
            '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }',
            False,
            id="parenthesised-and",
        ),
        pytest.param(
            '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
            True,
            id="and-binds-tighter-than-or",
        ),
        pytest.param(
            '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch)'
            " && $.actions[2] = nomatch }",
            False,
            id="parentheses-override",
        ),
    ],
)
def test_guide_compound_examples(pattern: str, expected: bool) -> None:
    assert matches(pattern, GUIDE_COMPOUND_EVENT) is expected


@pytest.mark.parametrize("pattern", ["{ $.users = 1 }", "{ $.users != 1 }"], ids=["eq", "ne"])
def test_selector_on_array_matches_neither_way(pattern: str) -> None:
    assert not matches(pattern, {"users": [1, 2, 3]})


def test_and_binds_tighter_than_or() -> None:
    a, b, c = eq("a", "1"), eq("b", "1"), eq("c", "1")
    assert parse('{ $.a = "1" || $.b = "1" && $.c = "1" }') == Or((a, And((b, c))))
    assert parse('{ $.a = "1" && $.b = "1" || $.c = "1" }') == Or((And((a, b)), c))
    assert parse('{ ($.a = "1" || $.b = "1") && $.c = "1" }') == And((Or((a, b)), c))


# ------------------------------------------------------------------------- parse results


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("{$.a=b}", eq("a", "b"), id="no-whitespace"),
        pytest.param('{ \t\n$.a\n=\t"b" \n}', eq("a", "b"), id="whitespace-everywhere"),
        pytest.param("{ $.a.b-c.d_e = x }", Comparison(sel("a", "b-c", "d_e"), "=", StringValue("x")), id="nested"),
        pytest.param("{ $.a[0][12].b = x }", Comparison(sel("a", 0, 12, "b"), "=", StringValue("x")), id="indices"),
        pytest.param("{ $.a = kms.amazonaws.com }", eq("a", "kms.amazonaws.com"), id="bare-dotted"),
        pytest.param('{ $.a = "with space" }', eq("a", "with space"), id="quoted-space"),
        pytest.param(r'{ $.a = "q\"b\\s" }', eq("a", 'q"b\\s'), id="quoted-escapes"),
        pytest.param(r'{ $.a = "\d" }', eq("a", "\\d"), id="other-backslash-kept"),
        pytest.param('{ $.a = "" }', eq("a", ""), id="empty-string"),
        pytest.param("{ $.a = * }", eq("a", "*"), id="star"),
        pytest.param("{ $.a >= -1.5e3 }", Comparison(sel("a"), ">=", NumberValue(Decimal("-1.5e3"), "-1.5e3")), id="n"),
        pytest.param("{ $.a = +1000 }", Comparison(sel("a"), "=", NumberValue(Decimal(1000), "+1000")), id="plus"),
        pytest.param('{ $.a = "400" }', eq("a", "400"), id="quoted-number-is-string"),
        pytest.param("{ $.a = %^Ab[0-9]+$% }", Comparison(sel("a"), "=", RegexValue("^Ab[0-9]+$")), id="regex"),
        pytest.param("{ $.a IS NULL }", Check(sel("a"), "IS NULL"), id="is-null"),
        pytest.param("{ $.a  is   null }", Check(sel("a"), "IS NULL"), id="keyword-case"),
        pytest.param("{ $.a NOT EXISTS }", Check(sel("a"), "NOT EXISTS"), id="not-exists"),
        pytest.param("{ $.a IS TRUE&&$.b IS FALSE }", And((Check(sel("a"), "IS TRUE"), Check(sel("b"), "IS FALSE")))),
        pytest.param("{ ((($.a = b))) }", eq("a", "b"), id="redundant-parentheses"),
        pytest.param(
            "{ ($.a = b || ($.c = d || $.e = f)) }", Or((eq("a", "b"), eq("c", "d"), eq("e", "f"))), id="or-flattened"
        ),
    ],
)
def test_parse(pattern: str, expected: Node) -> None:
    assert parse(pattern) == expected


def test_ast_is_immutable_and_hashable() -> None:
    node = parse("{ $.a = b && ($.c = 1 || $.d IS NULL) }")
    assert hash(node) == hash(parse("{ $.a = b && ($.c = 1 || $.d IS NULL) }"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.operands = ()  # type: ignore[attr-defined,misc]


def test_quoting_does_not_change_the_ast() -> None:
    assert parse('{ $.errorCode = "AccessDenied*" }') == parse("{ $.errorCode = AccessDenied* }")


# ----------------------------------------------------------------------------- semantics


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("*UnauthorizedOperation", "UnauthorizedOperation", True),
        ("*UnauthorizedOperation", "Client.UnauthorizedOperation", True),
        ("*UnauthorizedOperation", "UnauthorizedOperationX", False),
        ("*UnauthorizedOperation", "unauthorizedoperation", False),
        ("AccessDenied*", "AccessDenied", True),
        ("AccessDenied*", "AccessDeniedException", True),
        ("AccessDenied*", "Client.AccessDenied", False),
        ("*Denied*", "xDeniedx", True),
        ("*Denied*", "Denied", True),
        ("*Denied*", "Deni", False),
        ("Ev*ent", "Ev*ent", True),
        ("Ev*ent", "Event", False),
        ("Ev*ent", "EvXent", False),
        ("*", "", True),
        ("*", "anything", True),
        ("**", "anything", True),
        ("", "", True),
        ("", "x", False),
        ("abc", "abc", True),
        ("abc", "ABC", False),
    ],
)
def test_wildcards(value: str, text: str, expected: bool) -> None:
    pattern = render(Comparison(sel("f"), "=", StringValue(value)))
    assert matches(pattern, {"f": text}) is expected
    assert matches(pattern.replace(" = ", " != "), {"f": text}) is not expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("{ $.n = 400 }", 400, True),
        ("{ $.n = 400 }", 400.0, True),
        ("{ $.n = 400 }", "400", True),
        ("{ $.n = 400.0 }", "400", False),
        ("{ $.n != 500 }", 400, True),
        ("{ $.n < 10e3 }", 9999, True),
        ("{ $.n < 10e3 }", 10000, False),
        ("{ $.n <= 10e3 }", 10000, True),
        ("{ $.n < 10e-3 }", 0.009, True),
        ("{ $.n > +1000 }", 1000, False),
        ("{ $.n > +1000 }", 1000.5, True),
        ("{ $.n >= 500 }", 500, True),
        ("{ $.n <= 55.5 }", 55.5, True),
        ("{ $.n > 1 }", "2", False),
        ("{ $.n > 0 }", True, False),
        ("{ $.n = 1 }", True, False),
        ("{ $.n > 1 }", float("inf"), True),
        ("{ $.n > 1 }", float("nan"), False),
        ("{ $.n != 1 }", float("nan"), False),
        ("{ $.n = 4* }", 404, True),
        ("{ $.n = * }", 12, True),
        pytest.param("{ $.n > 1 }", 10**5000, True, id="huge-int"),
        pytest.param("{ $.n = 4* }", 4 * 10**5000, False, id="huge-int-text"),
    ],
)
def test_numbers(pattern: str, value: Any, expected: bool) -> None:
    assert matches(pattern, {"n": value}) is expected


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        pytest.param("{ $.a != x }", {}, False, id="ne-missing-is-false"),
        pytest.param("{ $.a != x }", {"a": None}, False, id="ne-null-is-false"),
        pytest.param("{ $.a != x }", {"a": {"b": 1}}, False, id="ne-object-is-false"),
        pytest.param("{ $.a != x }", {"a": True}, False, id="ne-bool-is-false"),
        pytest.param("{ $.a != x }", {"a": "y"}, True, id="ne-other-string"),
        pytest.param("{ $.a = * }", {}, False, id="star-missing"),
        pytest.param("{ $.a = * }", {"a": None}, False, id="star-null"),
        pytest.param("{ $.a = * }", {"a": [1]}, False, id="star-array"),
        pytest.param("{ $.a IS NULL }", {"a": None}, True, id="null"),
        pytest.param("{ $.a IS NULL }", {}, False, id="null-missing"),
        pytest.param("{ $.a IS NULL }", {"a": "null"}, False, id="null-string"),
        pytest.param("{ $.a NOT EXISTS }", {}, True, id="not-exists"),
        pytest.param("{ $.a NOT EXISTS }", {"a": None}, False, id="not-exists-null"),
        pytest.param("{ $.a.b NOT EXISTS }", {"a": "string"}, True, id="not-exists-through-string"),
        pytest.param("{ $.a[3] NOT EXISTS }", {"a": [1, 2]}, True, id="not-exists-index"),
        pytest.param("{ $.a[0] NOT EXISTS }", {"a": {"0": 1}}, True, id="index-into-object"),
        pytest.param("{ $.a IS TRUE }", {"a": 1}, False, id="one-is-not-true"),
        pytest.param("{ $.a IS FALSE }", {"a": 0}, False, id="zero-is-not-false"),
        pytest.param("{ $.a IS FALSE }", {"a": False}, True, id="false"),
        pytest.param("{ $.a[1].b = x }", {"a": [{}, {"b": "x"}]}, True, id="index-then-property"),
        pytest.param("{ $.a.b = x }", {"a": [{"b": "x"}]}, False, id="no-implicit-array-search"),
        pytest.param("{ $.a = %^Del.*Policy$% }", {"a": "DeleteRolePolicy"}, True, id="regex"),
        pytest.param("{ $.a = %Role% }", {"a": "DeleteRolePolicy"}, True, id="regex-search"),
        pytest.param("{ $.a != %Role% }", {"a": "DeleteUserPolicy"}, True, id="regex-ne"),
        pytest.param("{ $.a = %Role% }", {}, False, id="regex-missing"),
    ],
)
def test_value_nodes(pattern: str, event: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, event) is expected


def test_non_object_events_never_match() -> None:
    assert not matches("{ $.a NOT EXISTS }", [])  # type: ignore[arg-type]
    assert not matches("{ $.a NOT EXISTS }", "text")  # type: ignore[arg-type]


def test_matches_accepts_a_parsed_node() -> None:
    node = parse("{ $.a = b }")
    assert matches(node, {"a": "b"})


# ---------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("pattern", "position", "fragment"),
    [
        pytest.param("  [ip, user, status=4*]", 2, "space-delimited", id="space-delimited"),
        pytest.param("?a b", 0, "'?' terms mixed", id="mixed-any-and-all-terms"),
        pytest.param('ERROR ""', 6, "empty quoted term", id="empty-quoted-term"),
        pytest.param("ERROR -", 7, "expected a term", id="dangling-minus"),
        pytest.param('ERR"OR', 0, "must be double-quoted", id="quote-inside-term"),
        pytest.param("%a(b)%", 2, "parentheses", id="term-regex-parens"),
        pytest.param("{ $.a = %a\\b% }", 10, "escape", id="regex-word-boundary"),
        pytest.param("{ $.a = %a**% }", 11, "multiple repeat", id="regex-double-star"),
        pytest.param("{ $.a = %a{3,2}% }", 10, "min repeat", id="regex-bad-count"),
        pytest.param("{}", 1, "empty JSON filter pattern", id="empty-braces"),
        pytest.param("{ $.a = b", 9, "expected '&&', '||' or '}'", id="no-closing-brace"),
        pytest.param("{ $.a = b } trailing", 12, "after the closing", id="trailing"),
        pytest.param("{ $.a }", 6, "expected an operator", id="no-operator"),
        pytest.param("{ $.a = }", 8, "expected a value", id="no-value"),
        pytest.param("{ $.a == b }", 6, "'=='", id="double-equals"),
        pytest.param("{ $.a > b }", 8, "compares numbers", id="relational-string"),
        pytest.param('{ $.a < "5" }', 8, "compares numbers", id="relational-quoted"),
        pytest.param("{ $a = b }", 3, "expected '.' after '$'", id="missing-dot"),
        pytest.param("{ $ = b }", 2, "at least one property", id="bare-dollar"),
        pytest.param("{ $. = b }", 4, "property name", id="empty-name"),
        pytest.param("{ $.* = b }", 4, "wildcard selectors", id="star-selector"),
        pytest.param("{ $.a[*] = b }", 6, "array wildcards", id="star-index"),
        pytest.param("{ $.a[] = b }", 6, "array index", id="empty-index"),
        pytest.param("{ $.a[1 = b }", 7, "expected ']'", id="unclosed-index"),
        pytest.param("{ $[0] = b }", 3, "must follow a property", id="root-index"),
        pytest.param("{ $.a[12345678901] = b }", 6, "too large", id="huge-index"),
        pytest.param('{ $.a = "b }', 8, "unterminated", id="unterminated-string"),
        pytest.param("{ $.a = b@c }", 9, "'@'", id="bare-at"),
        pytest.param("{ $.a = café }", 11, "'é'", id="bare-non-ascii"),
        pytest.param("{ $.a = %ab }", 8, "unterminated regular", id="unterminated-regex"),
        pytest.param("{ $.a = %% }", 8, "empty regular", id="empty-regex"),
        pytest.param("{ $.a = %a(b)% }", 10, "parentheses", id="regex-parens"),
        pytest.param("{ $.a = %[% }", 9, "unterminated character class", id="regex-invalid"),
        pytest.param("{ $.a IS }", 9, "expected 'IS NULL'", id="is-nothing"),
        pytest.param("{ $.a IS MAYBE }", 9, "expected 'IS NULL'", id="is-maybe"),
        pytest.param("{ $.a NOT NULL }", 10, "'NOT EXISTS'", id="not-null"),
        pytest.param("{ $.a ISNULL }", 6, "expected an operator", id="isnull"),
        pytest.param("{ $.a = b & $.c = d }", 10, "expected '&&'", id="single-ampersand"),
        pytest.param("{ $.a = b && }", 13, "expected a selector", id="dangling-and"),
        pytest.param("{ && $.a = b }", 2, "expected a condition", id="leading-and"),
        pytest.param("{ ($.a = b }", 11, "expected ')'", id="unclosed-paren"),
        pytest.param("{ $.a = b) }", 9, "expected '&&', '||' or '}'", id="extra-paren"),
        pytest.param("{ { $.a = b } }", 2, "expected a selector", id="nested-braces"),
    ],
)
def test_errors(pattern: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterPatternError) as caught:
        parse(pattern)
    assert caught.value.position == position
    assert fragment in str(caught.value)
    assert str(caught.value).endswith(f"(at position {position})")
    assert "\n" not in str(caught.value)


def test_error_is_a_value_error() -> None:
    assert issubclass(FilterPatternError, ValueError)


def test_length_limit() -> None:
    body = " || ".join(f"$.a = v{i}" for i in range(200))
    with pytest.raises(FilterPatternError) as caught:
        parse("{ " + body + " }")
    assert caught.value.position == MAX_PATTERN_LENGTH


def test_nesting_limit_is_an_error_not_a_crash() -> None:
    deep = "{ " + "(" * (MAX_NESTING + 1) + "$.a = b" + ")" * (MAX_NESTING + 1) + " }"
    with pytest.raises(FilterPatternError, match="nest deeper"):
        parse(deep)
    ok = "{ " + "(" * MAX_NESTING + "$.a = b" + ")" * MAX_NESTING + " }"
    assert parse(ok) == eq("a", "b")


# --------------------------------------------------------------------------- the CIS patterns

CIS_V120_SAMPLES = [
    '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
]


def test_cis_root_usage_pattern() -> None:
    pattern = CIS_V120_SAMPLES[1]
    root_console = {"userIdentity": {"type": "Root"}, "eventType": "AwsConsoleSignIn"}
    assert matches(pattern, root_console)
    assert not matches(pattern, {**root_console, "eventType": "AwsServiceEvent"})
    assert not matches(pattern, {**root_console, "userIdentity": {"type": "Root", "invokedBy": "AWS Internal"}})
    assert not matches(pattern, {"userIdentity": {"type": "IAMUser"}, "eventType": "AwsApiCall"})


def test_cis_kms_pattern() -> None:
    pattern = CIS_V120_SAMPLES[2]
    assert matches(pattern, {"eventSource": "kms.amazonaws.com", "eventName": "ScheduleKeyDeletion"})
    assert not matches(pattern, {"eventSource": "kms.amazonaws.com", "eventName": "EnableKey"})
    assert not matches(pattern, {"eventSource": "ec2.amazonaws.com", "eventName": "DisableKey"})


# ---------------------------------------------------------------------------- properties

NAMES = st.sampled_from(["a", "b", "eventName", "user-id", "x_y", "0"])
SELECTORS = st.lists(st.one_of(NAMES, st.integers(0, 3)), min_size=0, max_size=2).flatmap(
    lambda rest: NAMES.map(lambda first: Selector((first, *rest)))
)
NUMBER_TEXTS = st.from_regex(r"\A[+-]?[0-9]{1,4}(\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?\Z")
STRING_VALUES = st.text(alphabet=string.ascii_letters + string.digits + ' *."\\-_:/é\n', max_size=12).map(StringValue)
NUMBER_VALUES = NUMBER_TEXTS.map(lambda text: NumberValue(Decimal(text), text))
REGEX_VALUES = st.sampled_from(["^a", "b$", "a.c", "[0-9]+", "x|y", "a{2}", r"\.com$"]).map(RegexValue)


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    selector = draw(SELECTORS)
    value = draw(st.one_of(STRING_VALUES, NUMBER_VALUES, REGEX_VALUES))
    if isinstance(value, NumberValue):
        operator = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
    else:
        operator = draw(st.sampled_from(["=", "!="]))
    return Comparison(selector, operator, value)


CHECK_NODES = st.builds(Check, SELECTORS, st.sampled_from(["IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE"]))


def _flat(kind: type[And] | type[Or], operands: list[Node]) -> Node:
    flat: list[Node] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, kind) else (operand,))
    return kind(tuple(flat))


ASTS: st.SearchStrategy[Node] = st.recursive(
    st.one_of(comparisons(), CHECK_NODES),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=4).map(lambda ops: _flat(And, ops)),
        st.lists(children, min_size=2, max_size=4).map(lambda ops: _flat(Or, ops)),
    ),
    max_leaves=8,
)

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["a", "b", "x", "eventName", "404", "AccessDenied"]),
)
JSON_EVENTS = st.dictionaries(
    st.one_of(NAMES, st.text(max_size=4)),
    st.recursive(
        JSON_SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.one_of(NAMES, st.text(max_size=3)), inner, max_size=4)
        ),
        max_leaves=12,
    ),
    max_size=6,
)


@FUZZ
@given(ASTS)
def test_render_round_trips(node: Node) -> None:
    text = render(node)
    assume(len(text) <= MAX_PATTERN_LENGTH)
    assert parse(text) == node


@FUZZ
@given(ASTS, st.data())
def test_whitespace_and_parentheses_never_change_the_answer(node: Node, data: st.DataObject) -> None:
    text = render(node)
    assume(len(text) <= MAX_PATTERN_LENGTH // 2)
    # render() puts single spaces only between tokens and quotes every string, so a space outside
    # quotes can be widened or removed (except around keywords, which need one).
    pieces: list[str] = []
    in_quotes = escaped = False
    for index, char in enumerate(text):
        if in_quotes:
            in_quotes = escaped or char != '"'
            escaped = not escaped and char == "\\"
            pieces.append(char)
            continue
        if char == '"':
            in_quotes = True
        if char == " ":
            keyword_gap = text[index + 1 : index + 3] in ("IS", "NO", "NU", "EX", "TR", "FA")
            keyword_gap = keyword_gap or text[index - 2 : index] in ("IS", "OT")
            pieces.append(data.draw(st.sampled_from([" ", "\t", "\n ", "  "] if keyword_gap else ["", " ", "\n\t"])))
        else:
            pieces.append(char)
    respaced = "".join(pieces)
    wrapped = "{ (" + respaced.strip()[1:-1].strip() + ") }"
    event = data.draw(JSON_EVENTS)
    assert parse(respaced) == node
    assert normalize(parse(wrapped)) == normalize(node)
    assert matches(respaced, event) == matches(node, event) == matches(wrapped, event)


@FUZZ
@given(st.text(max_size=80))
def test_random_text_raises_only_filter_pattern_error(text: str) -> None:
    try:
        node = parse(text)
    except FilterPatternError as error:
        assert 0 <= error.position <= len(text)
        assert "\n" not in str(error)
    else:
        assert isinstance(node, Node)


PATTERN_ALPHABET = string.printable + "é€\x00"


@FUZZ
@given(st.sampled_from([*CIS_V120_SAMPLES, "{ $.a[0].b >= -1e3 || $.c = %^x[0-9]+$% && $.d IS NULL }"]), st.data())
def test_mutated_patterns_raise_only_filter_pattern_error(pattern: str, data: st.DataObject) -> None:
    text = pattern
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        char = data.draw(st.sampled_from(PATTERN_ALPHABET))
        if action == "insert":
            text = text[:position] + char + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + 1 :]
        else:
            text = text[:position] + char + text[position + 1 :]
    try:
        node = parse(text)
    except FilterPatternError as error:
        assert 0 <= error.position <= len(text)
        return
    event = data.draw(JSON_EVENTS)
    assert isinstance(matches(node, event), bool)


@FUZZ
@given(ASTS, JSON_EVENTS)
def test_matching_never_raises(node: Node, event: dict[str, Any]) -> None:
    assert isinstance(matches(node, event), bool)


@FUZZ
@given(ASTS, JSON_EVENTS)
def test_matching_a_json_round_trip_is_stable(node: Node, event: dict[str, Any]) -> None:
    try:
        decoded = json.loads(json.dumps(event))
    except ValueError:  # integers beyond the int-to-str limit cannot be serialised
        return
    assert matches(node, decoded) == matches(node, json.loads(json.dumps(decoded)))


@FUZZ
@given(ASTS, st.randoms(use_true_random=False), JSON_EVENTS)
def test_clause_order_never_changes_the_answer(node: Node, rng: Any, event: dict[str, Any]) -> None:
    def shuffled(current: Node) -> Node:
        if isinstance(current, And | Or):
            operands = [shuffled(operand) for operand in current.operands]
            rng.shuffle(operands)
            return type(current)(tuple(operands))
        return current

    other = shuffled(node)
    assert normalize(other) == normalize(node)
    assert matches(other, event) == matches(node, event)


def test_leaves_in_order() -> None:
    node = parse("{ $.a = 1 || ($.b IS NULL && $.c != x) }")
    assert [str(leaf.selector) for leaf in leaves(node)] == ["$.a", "$.b", "$.c"]


# ------------------------------------------------------------------ empty and term patterns

EVENT = {"eventName": "ConsoleLogin", "errorMessage": "Failed authentication", "userIdentity": {"type": "Root"}}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("", True, id="empty-matches-everything"),
        pytest.param("   ", True, id="blank-matches-everything"),
        pytest.param("ConsoleLogin", True, id="term"),
        pytest.param("consolelogin", False, id="terms-are-case-sensitive"),
        pytest.param('"Failed authentication"', True, id="quoted-phrase"),
        pytest.param("Failed authentication", True, id="two-terms-both-present"),
        pytest.param("ConsoleLogin -Root", False, id="exclusion-present"),
        pytest.param("ConsoleLogin -IAMUser", True, id="exclusion-absent"),
        pytest.param("?IAMUser ?Root", True, id="any-term-one-present"),
        pytest.param("?IAMUser ?AssumedRole", False, id="any-term-none-present"),
        pytest.param(r'"\"type\":\"Root\""', True, id="raw-compact-json"),
        pytest.param("%Console[A-Z]ogin%", True, id="regex-term"),
        pytest.param("%^ConsoleLogin%", False, id="regex-anchored-at-raw-text-start"),
    ],
)
def test_empty_and_term_patterns(pattern: str, expected: bool) -> None:
    assert matches(pattern, EVENT) is expected
    assert matches(render(parse(pattern)), EVENT) is expected
