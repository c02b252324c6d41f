"""Scenarios of CloudWatch Logs filter patterns on CloudTrail events (rulelib/cis_filter_pattern.py).

Each table reads as the account would see it: the filter pattern on the log group, the CloudTrail
event, whether CloudWatch Logs counts it; and, for a pattern the pack cannot read, the exact
sentence (and position) the pack reports.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import cis_filter_pattern
from cis_filter_pattern import (
    EVERYTHING,
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
    Term,
    Terms,
    evaluate,
    leaves,
    matches,
    normalize,
    parse,
    raw_text,
    render,
)
from cispack.testing.caches import forget_remembered_answers


def case_id(value: object) -> str:
    """A test id that pytest and mutmut both read back: ASCII, no backslash (mutmut doubles it)."""
    text = ascii(value) if not isinstance(value, str) or not value.isascii() or not value.isprintable() else value
    return text.replace("\\", "(backslash)")


@pytest.fixture(autouse=True)
def _parse_afresh() -> None:
    """Each scenario parses its own pattern: the parser's cache would otherwise hand back what an
    earlier test parsed (mutation testing forks each mutant from a process that ran the tests)."""
    forget_remembered_answers([cis_filter_pattern])


def sel(*path: str | int) -> Selector:
    return Selector(tuple(path))


def eq(name: str, text: str, operator: str = "=") -> Comparison:
    return Comparison(sel(name), operator, StringValue(text))


# A console sign-in by the root user without MFA, as CloudTrail records it.
ROOT_SIGN_IN: dict[str, Any] = {
    "eventVersion": "1.08",
    "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root"},
    "eventSource": "signin.amazonaws.com",
    "eventName": "ConsoleLogin",
    "responseElements": {"ConsoleLogin": "Success"},
    "additionalEventData": {"MFAUsed": "No", "MobileVersion": "No"},
    "eventType": "AwsConsoleSignIn",
    "readOnly": False,
    "managementEvent": True,
    "requestParameters": None,
    "resources": [{"ARN": "arn:aws:kms:eu-west-1:111122223333:key/k1", "type": "AWS::KMS::Key"}],
    "errorCount": 3,
    "latency": 12.5,
}


# ---------------------------------------------------------------- patterns the pack refuses


@pytest.mark.parametrize(
    ("pattern", "sentence"),
    [
        pytest.param(
            "  [ip, user]",
            "space-delimited filter patterns ([...]) are not supported on JSON log events (at position 2)",
            id="space-delimited [ip, user]",
        ),
        pytest.param(
            "?a b", "'?' terms mixed with other terms have no documented meaning (at position 0)", id="?a with plain b"
        ),
        pytest.param(
            "-a ?b", "'?' terms mixed with other terms have no documented meaning (at position 0)", id="?b with -a"
        ),
        pytest.param('ERROR ""', "empty quoted term (at position 6)", id='ERROR ""'),
        pytest.param("ERROR -", "expected a term after '-' (at position 7)", id="ERROR -"),
        pytest.param("ERROR ?", "expected a term after '?' (at position 7)", id="ERROR ?"),
        pytest.param("ERR{OR", "term 'ERR{OR' must be double-quoted (at position 0)", id="ERR{OR"),
        pytest.param("ab]", "term 'ab]' must be double-quoted (at position 0)", id="ab]"),
        pytest.param("ok [ab", "term '[ab' must be double-quoted (at position 3)", id="second term [ab"),
        pytest.param('"ab"cd', "expected a space between terms (at position 4)", id='"ab"cd'),
        pytest.param("%ab%cd", "expected a space between terms (at position 4)", id="%ab%cd"),
        pytest.param("%ab", "unterminated regular expression (expected a closing '%') (at position 0)", id="term %ab"),
        pytest.param("{}", "empty JSON filter pattern (at position 1)", id="{}"),
        pytest.param("{  }", "empty JSON filter pattern (at position 3)", id="{  }"),
        pytest.param("{ $.a = b", "expected '&&', '||' or '}' but found end of pattern (at position 9)", id="no }"),
        pytest.param("{ $.a = b } x", "unexpected text after the closing '}' (at position 12)", id="text after }"),
        pytest.param(
            "{ $.a }",
            "expected an operator (=, !=, <, <=, >, >=, IS, NOT) but found '}' (at position 6)",
            id="no operator",
        ),
        pytest.param(
            "{ $.a  x }",
            "expected an operator (=, !=, <, <=, >, >=, IS, NOT) but found 'x' (at position 7)",
            id="a word for an operator",
        ),
        pytest.param(
            "{ $.a ISNULL }",
            "expected an operator (=, !=, <, <=, >, >=, IS, NOT) but found 'I' (at position 6)",
            id="ISNULL",
        ),
        pytest.param("{ $.a = }", "expected a value but found '}' (at position 8)", id="no value"),
        pytest.param("{ $.a == b }", "'==' is not an operator; use '=' (at position 6)", id="=="),
        pytest.param("{ $.a > b }", "'>' compares numbers; expected a bare number (at position 8)", id="> a word"),
        pytest.param("{ $.a <= %x% }", "'<=' compares numbers; expected a bare number (at position 9)", id="<= regex"),
        pytest.param("{ $a = b }", "expected '.' after '$' (selectors look like $.name) (at position 3)", id="$a"),
        pytest.param("{ $ = b }", "a selector needs at least one property ($.name) (at position 2)", id="bare $"),
        pytest.param(
            "{ $. = b }",
            "expected a property name (letters, digits, '-' or '_') after '.' (at position 4)",
            id="$. without a name",
        ),
        pytest.param(
            "{ $.a.b[2]. = c }",
            "expected a property name (letters, digits, '-' or '_') after '.' (at position 11)",
            id="$.a.b[2]. without a name",
        ),
        pytest.param(
            "{ $.é = b }",
            "expected a property name (letters, digits, '-' or '_') after '.' (at position 4)",
            id="non-ASCII property name",
        ),
        pytest.param(
            "{ $.* = b }", "wildcard selectors ($.*) are not supported by CloudWatch Logs (at position 4)", id="$.*"
        ),
        pytest.param(
            "{ $.a[*] = b }", "array wildcards ([*]) are not supported by CloudWatch Logs (at position 6)", id="[*]"
        ),
        pytest.param("{ $.a[] = b }", "expected an array index (digits) after '[' (at position 6)", id="[]"),
        pytest.param(
            "{ $.a[\u0661] = b }", "expected an array index (digits) after '[' (at position 6)", id="Arabic digit"
        ),
        pytest.param("{ $.a[1 = b }", "expected ']' after the array index (at position 7)", id="[1 unclosed"),
        pytest.param(
            "{ $[0] = b }", "an array index must follow a property name ($.name[0]) (at position 3)", id="$[0]"
        ),
        pytest.param("{ $.a[1234567890] = b }", "array index is too large (at position 6)", id="ten-digit index"),
        pytest.param('{ $.a = "b }', "unterminated double-quoted string (at position 8)", id="unterminated string"),
        pytest.param(
            '{ $.a = "b\\',
            "unterminated double-quoted string (at position 8)",
            id="string ending in a backslash",
        ),
        pytest.param("{ $.a = b@c }", "character '@' must be inside a double-quoted string (at position 9)", id="b@c"),
        pytest.param("{ $.a = $b }", "character '$' must be inside a double-quoted string (at position 8)", id="$b"),
        pytest.param(
            "{ $.a = b\\c }",
            "character '\\\\' must be inside a double-quoted string (at position 9)",
            id="b backslash c",
        ),
        pytest.param(
            "{ $.a = café }",
            "character 'é' must be inside a double-quoted string (at position 11)",
            id="cafe with an accent",
        ),
        pytest.param(
            "{ $.a =\x01b }", "character '\\x01' must be inside a double-quoted string (at position 7)", id="control"
        ),
        pytest.param(
            "{ $.a = %ab }", "unterminated regular expression (expected a closing '%') (at position 8)", id="%ab"
        ),
        pytest.param("{ $.a = %% }", "empty regular expression (at position 8)", id="%%"),
        pytest.param("%%", "empty regular expression (at position 0)", id="term %%"),
        pytest.param(
            "{ $.a = %ab(c)% }",
            "parentheses are not supported in filter-pattern regular expressions (at position 11)",
            id="regex with parentheses",
        ),
        pytest.param("{ $.a IS }", "expected 'IS NULL' or 'IS TRUE' or 'IS FALSE' (at position 9)", id="IS"),
        pytest.param(
            "{ $.a IS MAYBE }", "expected 'IS NULL' or 'IS TRUE' or 'IS FALSE' (at position 9)", id="IS MAYBE"
        ),
        pytest.param("{ $.a IS", "expected a space after 'IS' (at position 8)", id="IS at the end"),
        pytest.param(
            "{ $.a IS NULL",
            "expected '&&', '||' or '}' but found end of pattern (at position 13)",
            id="IS NULL at the end",
        ),
        pytest.param('"a\\"', "unterminated double-quoted string (at position 0)", id="escaped quote at the end"),
        pytest.param("{ $.a IS(NULL) }", "expected a space after 'IS' (at position 8)", id="IS(NULL)"),
        pytest.param("{ $.a NOT NULL }", "expected 'NOT EXISTS' (at position 10)", id="NOT NULL"),
        pytest.param("{ $.a NOT EXISTSx }", "expected 'NOT EXISTS' (at position 10)", id="NOT EXISTSx"),
        pytest.param("{ $.a IS NULL3 }", "unexpected character after 'IS NULL' (at position 13)", id="IS NULL3"),
        pytest.param("{ $.a = b & $.c = d }", "expected '&&', '||' or '}' but found '&' (at position 10)", id="&"),
        pytest.param(
            "{ $.a = b && }", "expected a selector ($.field) or '(' but found '}' (at position 13)", id="&& at the end"
        ),
        pytest.param("{ && $.a = b }", "expected a condition before '&' (at position 2)", id="&& first"),
        pytest.param("{ || $.a = b }", "expected a condition before '|' (at position 2)", id="|| first"),
        pytest.param(
            "{ ( $.a = b ) && ( $.c = d }",
            "expected ')' to close the '(' at position 17 but found '}' (at position 27)",
            id="second ( unclosed",
        ),
        pytest.param("{ $.a = b) }", "expected '&&', '||' or '}' but found ')' (at position 9)", id="extra )"),
        pytest.param(
            '{ $.a = "b" "c" }', "expected '&&', '||' or '}' but found '\"' (at position 12)", id="two values"
        ),
    ],
)
def test_an_unreadable_pattern_is_reported_in_one_sentence(pattern: str, sentence: str) -> None:
    with pytest.raises(FilterPatternError) as caught:
        parse(pattern)
    assert str(caught.value) == sentence
    assert f"{caught.value.message} (at position {caught.value.position})" == sentence


def test_a_pattern_longer_than_the_api_allows_is_refused_at_its_limit() -> None:
    longest = "{ $.eventName = " + "x" * (1024 - 18) + " }"
    assert len(longest) == 1024
    assert parse(longest) == eq("eventName", "x" * (1024 - 18))
    with pytest.raises(FilterPatternError) as caught:
        parse(longest.replace("{ ", "{  "))
    assert str(caught.value) == "filter pattern is longer than 1024 characters (at position 1024)"


def test_parentheses_may_nest_64_deep_and_no_deeper_even_in_a_later_operand() -> None:
    def nested(depth: int) -> str:
        return "(" * depth + "$.b = c" + ")" * depth

    assert parse("{ " + nested(64) + " && " + nested(64) + " }") == And((eq("b", "c"), eq("b", "c")))
    with pytest.raises(FilterPatternError) as caught:
        parse("{ " + nested(64) + " && " + nested(65) + " }")
    assert caught.value.message == "parentheses nest deeper than 64 levels"


def test_only_a_string_is_a_filter_pattern() -> None:
    with pytest.raises(TypeError, match=r"^filter pattern must be str, not bytes$"):
        parse(b"{ $.a = b }")  # type: ignore[arg-type]


# ----------------------------------------------------------------------- what a pattern says


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("{ $.a[0000000001] = b }", Comparison(sel("a", 1), "=", StringValue("b")), id="padded index"),
        pytest.param("{ $.a[999999999] = b }", Comparison(sel("a", 999999999), "=", StringValue("b")), id="9 digits"),
        pytest.param("{ $.a != b }", eq("a", "b", "!="), id="!="),
        pytest.param("{ $.n<5 }", Comparison(sel("n"), "<", NumberValue(Decimal(5), "5")), id="<"),
        pytest.param("{ $.n>5 }", Comparison(sel("n"), ">", NumberValue(Decimal(5), "5")), id=">"),
        pytest.param("{ $.n<=5 }", Comparison(sel("n"), "<=", NumberValue(Decimal(5), "5")), id="<="),
        pytest.param("{ $.n = 1.5E+2 }", Comparison(sel("n"), "=", NumberValue(Decimal(150), "1.5E+2")), id="1.5E+2"),
        pytest.param("{ $.n = 1.5.2 }", eq("n", "1.5.2"), id="version is a string"),
        pytest.param("{ $.n = 5x }", eq("n", "5x"), id="5x is a string"),
        pytest.param("{ $.a IS true }", Check(sel("a"), "IS TRUE"), id="IS true"),
        pytest.param("{ $.a not exists }", Check(sel("a"), "NOT EXISTS"), id="not exists"),
        pytest.param("{ $.a IS FALSE}", Check(sel("a"), "IS FALSE"), id="IS FALSE}"),
        pytest.param("{ ($.a IS NULL)}", Check(sel("a"), "IS NULL"), id="(IS NULL)"),
        pytest.param(r'{ $.a = "\\" }', eq("a", "\\"), id="escaped backslash"),
        pytest.param(r'{ $.a = "a\b" }', eq("a", "a\\b"), id="lone backslash kept"),
        pytest.param(r'{ $.a = "\X" }', eq("a", "\\X"), id="backslash before X kept"),
        pytest.param(
            "{ $.a = 1 || $.b = 2 || $.c = 3 }",
            Or(tuple(Comparison(sel(n), "=", NumberValue(Decimal(v), v)) for n, v in zip("abc", "123", strict=True))),
            id="three-way or",
        ),
        pytest.param(
            "{ ($.a = x && $.b = y) && $.c = z }", And((eq("a", "x"), eq("b", "y"), eq("c", "z"))), id="and flattened"
        ),
        pytest.param(
            "{ ($.a = x || $.b = y) && $.c = z }", And((Or((eq("a", "x"), eq("b", "y"))), eq("c", "z"))), id="or in and"
        ),
        pytest.param(" \t{ $.a = b }\n", eq("a", "b"), id="spaces around the braces"),
        pytest.param("", EVERYTHING, id="empty"),
        pytest.param(" \n ", EVERYTHING, id="blank"),
        pytest.param("Root", Terms((Term("Root"),)), id="one term"),
        pytest.param(" a\t-b  ", Terms((Term("a"),), (Term("b"),)), id="term and exclusion"),
        pytest.param("?a ?%b+%", Terms(any_of=(Term("a"), Term("b+", regex=True))), id="alternatives"),
        pytest.param('"x y" -"z"', Terms((Term("x y"),), (Term("z"),)), id="quoted terms"),
        pytest.param("a-b", Terms((Term("a-b"),)), id="hyphen inside a term"),
    ],
)
def test_what_a_pattern_says(pattern: str, expected: Node) -> None:
    assert parse(pattern) == expected


# ------------------------------------------------------------------ what CloudWatch Logs counts


@pytest.mark.parametrize(
    ("pattern", "counted"),
    [
        # CIS 3.3: root usage.
        ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }', True),
        ('{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }', True),
        ('{ $.userIdentity.type = "root" }', False),
        # CIS 3.2: console sign-in without MFA.
        ('{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }', True),
        ('{ $.eventName = "ConsoleLogin" && $.additionalEventData.MFAUsed = "Yes" }', False),
        ('{ $.eventName = "ConsoleLogin" || $.additionalEventData.MFAUsed = "Yes" }', True),
        ('{ $.eventName = "GetObject" || $.additionalEventData.MFAUsed = "Yes" }', False),
        ('{ $.responseElements.ConsoleLogin = "Success" }', True),
        # Booleans, null, missing.
        ("{ $.readOnly IS FALSE }", True),
        ("{ $.readOnly IS TRUE }", False),
        ("{ $.managementEvent IS TRUE }", True),
        ("{ $.managementEvent IS FALSE }", False),
        ("{ $.requestParameters IS NULL }", True),
        ("{ $.requestParameters NOT EXISTS }", False),
        ("{ $.errorCode IS NULL }", False),
        ("{ $.errorCode NOT EXISTS }", True),
        ("{ $.userIdentity.type NOT EXISTS }", False),
        ("{ $.userIdentity.type.name NOT EXISTS }", True),
        ("{ $.readOnly = false }", False),
        ("{ $.readOnly != true }", False),
        ("{ $.requestParameters = * }", False),
        # Arrays by index.
        ('{ $.resources[0].type = "AWS::KMS::Key" }', True),
        ("{ $.resources[1].type NOT EXISTS }", True),
        ("{ $.resources[1] NOT EXISTS }", True),
        ("{ $.resources[0] NOT EXISTS }", False),
        ("{ $.eventName[0] NOT EXISTS }", True),
        ("{ $.resources.type NOT EXISTS }", True),
        # Numbers: every operator on both sides of the value.
        ("{ $.errorCount = 3 }", True),
        ("{ $.errorCount = 3.0 }", True),
        ("{ $.errorCount = 4 }", False),
        ("{ $.errorCount = 2 }", False),
        ("{ $.errorCount != 3 }", False),
        ("{ $.errorCount != 4 }", True),
        ("{ $.errorCount < 3 }", False),
        ("{ $.errorCount < 4 }", True),
        ("{ $.errorCount <= 2 }", False),
        ("{ $.errorCount <= 3 }", True),
        ("{ $.errorCount > 3 }", False),
        ("{ $.errorCount > 2 }", True),
        ("{ $.errorCount >= 4 }", False),
        ("{ $.errorCount >= 3 }", True),
        ("{ $.latency > 12.49 }", True),
        ("{ $.latency = 12.5 }", True),
        ("{ $.latency = 12.5* }", True),
        ('{ $.latency = "12.5" }', True),
        ("{ $.latency = %^12\\.5$% }", True),
        ("{ $.latency != %^12% }", False),
        ("{ $.errorCount = 3* }", True),
        ("{ $.eventVersion = 1.08 }", True),
        ("{ $.eventVersion = 1.080 }", False),
        ("{ $.eventVersion != 1.080 }", True),
        ("{ $.eventVersion > 1 }", False),
        ("{ $.eventVersion <= 2 }", False),
        ("{ $.readOnly = 0 }", False),
        ("{ $.readOnly != 0 }", False),
        ("{ $.userIdentity = 1 }", False),
        ("{ $.userIdentity != 1 }", False),
        ("{ $.errorCode != 1 }", False),
        # Strings and wildcards.
        ("{ $.eventSource = signin.* }", True),
        ("{ $.eventSource = *.amazonaws.com }", True),
        ("{ $.eventSource = *amazonaws* }", True),
        ("{ $.eventSource = *signin.amazonaws.com* }", True),
        ("{ $.eventSource = *kms* }", False),
        ("{ $.eventSource = sign*.com }", False),
        ("{ $.eventSource = *signin }", False),
        ("{ $.eventSource = amazonaws.com* }", False),
        ("{ $.eventSource != kms.* }", True),
        ("{ $.eventName = %Login$% }", True),
        ("{ $.eventName = %^Login% }", False),
        ("{ $.eventName != %Logout% }", True),
        ("{ $.userIdentity = %Root% }", False),
        ("{ $.userIdentity != %Root% }", False),
        ("{ $.missing != %Root% }", False),
    ],
    ids=lambda value: case_id(value) if isinstance(value, str) else None,
)
def test_what_cloudwatch_logs_counts_of_a_root_console_sign_in(pattern: str, counted: bool) -> None:
    assert matches(pattern, ROOT_SIGN_IN) is counted


@pytest.mark.parametrize(
    ("pattern", "event", "counted"),
    [
        pytest.param("{ $.a = *b }", {"a": "b"}, True, id="*b on b"),
        pytest.param("{ $.a = b* }", {"a": "b"}, True, id="b* on b"),
        pytest.param("{ $.a = *b* }", {"a": "b"}, True, id="*b* on b"),
        pytest.param("{ $.a = *b* }", {"a": "xbx"}, True, id="*b* on xbx"),
        pytest.param("{ $.a = *b* }", {"a": "xyx"}, False, id="*b* on xyx"),
        pytest.param("{ $.a = *b }", {"a": "bx"}, False, id="*b on bx"),
        pytest.param("{ $.a = b* }", {"a": "xb"}, False, id="b* on xb"),
        pytest.param("{ $.a = ** }", {"a": ""}, True, id="** on empty"),
        pytest.param("{ $.a = *** }", {"a": "xyz"}, True, id="*** on xyz"),
        pytest.param('{ $.a = "" }', {"a": ""}, True, id="empty on empty"),
        pytest.param('{ $.a = "" }', {"a": "*"}, False, id="empty on *"),
        pytest.param("{ $.a[1] = y }", {"a": ("x", "y")}, True, id="index into a tuple"),
        pytest.param("{ $.a[2] NOT EXISTS }", {"a": ["x", "y"]}, True, id="index just past the end"),
        pytest.param("{ $.a[1] NOT EXISTS }", {"a": ["x", "y"]}, False, id="last index"),
        pytest.param("{ $.a.b = c }", {"a": {"b": "c"}}, True, id="nested property"),
        pytest.param("{ $.a.b NOT EXISTS }", {"a": {"c": "b"}}, True, id="sibling property"),
        pytest.param("{ $.a.b NOT EXISTS }", {"a": None}, True, id="property of null"),
        pytest.param("{ $.a.b IS NULL }", {"a": {"b": None}}, True, id="nested null"),
        pytest.param("{ $.n = 5 }", {"n": "5"}, True, id="5 on the string 5"),
        pytest.param("{ $.n != 5 }", {"n": "5"}, False, id="!= 5 on the string 5"),
        pytest.param("{ $.n != 5 }", {"n": "6"}, True, id="!= 5 on the string 6"),
        pytest.param("{ $.n = 5 }", {"n": None}, False, id="5 on null"),
        pytest.param("{ $.n != 5 }", {"n": None}, False, id="!= 5 on null"),
        pytest.param("{ $.n != 5 }", {"n": [5]}, False, id="!= 5 on an array"),
        pytest.param("{ $.n = 1e400 }", {"n": 1}, False, id="1e400 on 1"),
        pytest.param("{ $.n < 1e400 }", {"n": 1e308}, True, id="1e308 under 1e400"),
        pytest.param("{ $.n > 1 }", {"n": float("-inf")}, False, id="minus infinity"),
        pytest.param("{ $.n = inf }", {"n": float("inf")}, False, id="inf is a word"),
        pytest.param("{ $.n = Infinity }", {"n": float("inf")}, True, id="infinity by its JSON text"),
        pytest.param("{ $.n = 40* }", {"n": 404.5}, True, id="40* on 404.5"),
        pytest.param("{ $.n = %^4.4$% }", {"n": 404}, True, id="regex on a number"),
        pytest.param("{ $.n = *4 }", {"n": True}, False, id="*4 on true"),
        pytest.param("{ $.n = %true% }", {"n": True}, False, id="regex on true"),
        pytest.param("{ $.a = b }", {"a": "b", 1: "x"}, True, id="event with a non-string key"),
    ],
)
def test_what_cloudwatch_logs_counts_of_one_event(pattern: str, event: dict[Any, Any], counted: bool) -> None:
    assert matches(pattern, event) is counted


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]


class _RefusingMapping(dict[Any, Any]):
    """A mapping whose membership test raises for an unhashable key (a decoded event never is)."""

    def __contains__(self, key: object) -> bool:
        raise TypeError("unhashable")


def test_a_mapping_that_cannot_answer_holds_nothing() -> None:
    assert matches("{ $.a NOT EXISTS }", _RefusingMapping(a="b"))
    assert not matches("{ $.a = b }", _RefusingMapping(a="b"))


@pytest.mark.parametrize(
    ("pattern", "counted"),
    [
        pytest.param("ConsoleLogin Root", True, id="two terms present"),
        pytest.param("ConsoleLogin Admin", False, id="one term missing"),
        pytest.param("XRay", False, id="a term starting with X"),
        pytest.param('"\\"MFAUsed\\":\\"No\\""', True, id="the compact JSON of a field"),
        pytest.param('"\\"MFAUsed\\": \\"No\\""', False, id="JSON with a space is not the raw text"),
        pytest.param("ConsoleLogin -%MFAUsed...Yes%", True, id="regex exclusion absent"),
        pytest.param("ConsoleLogin -%MFAUsed...No%", False, id="regex exclusion present"),
        pytest.param("-Admin -IAMUser", True, id="only exclusions, all absent"),
        pytest.param("-Admin -Root", False, id="only exclusions, one present"),
        pytest.param("?Admin ?%Ro+t%", True, id="regex alternative present"),
        pytest.param("?Admin ?%Ro+tx%", False, id="no alternative present"),
        pytest.param('%^\\{"eventVersion%', True, id="raw text starts with the first field"),
        pytest.param("%false,%", True, id="booleans as JSON"),
        pytest.param("%null,%", True, id="null as JSON"),
    ],
)
def test_what_a_term_pattern_counts(pattern: str, counted: bool) -> None:
    assert matches(pattern, ROOT_SIGN_IN) is counted


def test_the_raw_text_of_an_event_is_compact_json_with_its_characters_kept() -> None:
    assert raw_text({"a": "é", "b": [1, None, True]}) == '{"a":"é","b":[1,null,true]}'
    assert raw_text({"when": Decimal("1.5")}) == '{"when":"1.5"}'
    assert matches("é", {"a": "é"})


def test_an_event_that_is_not_an_object_is_never_counted_even_by_the_empty_pattern() -> None:
    assert matches("", {})
    assert not matches("", [])  # type: ignore[arg-type]
    assert evaluate(EVERYTHING, [])


def test_only_a_pattern_or_a_parsed_node_can_be_matched() -> None:
    with pytest.raises(TypeError, match=r"^expected a filter pattern or a parsed Node, not int$"):
        matches(5, ROOT_SIGN_IN)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^not a filter-pattern node: Selector$"):
        evaluate(sel("a"), ROOT_SIGN_IN)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- values the pack builds


def test_a_literal_value_has_no_wildcards() -> None:
    star = StringValue("*", literal=True)
    both = StringValue("*prod*", literal=True)
    assert not star.is_any and not both.leading_wildcard and not both.trailing_wildcard
    assert both.core == "*prod*"
    assert evaluate(Comparison(sel("a"), "=", both), {"a": "*prod*"})
    assert not evaluate(Comparison(sel("a"), "=", both), {"a": "x-prod-y"})
    assert not evaluate(Comparison(sel("a"), "=", star), {"a": "x"})


@pytest.mark.parametrize(
    ("text", "core"),
    [("*", ""), ("**", ""), ("*a", "a"), ("a*", "a"), ("*a*", "a"), ("a*b", "a*b"), ("", "")],
    ids=["*", "**", "*a", "a*", "*a*", "a*b", "empty"],
)
def test_the_core_of_a_value_is_its_text_without_wildcards(text: str, core: str) -> None:
    assert StringValue(text).core == core


# ----------------------------------------------------------------------- rendering and order


@pytest.mark.parametrize(
    ("pattern", "rendered"),
    [
        pytest.param("{$.a=b}", '{ $.a = "b" }', id="string"),
        pytest.param("{ $.a[0].b != 1.50 }", "{ $.a[0].b != 1.50 }", id="number keeps its text"),
        pytest.param("{ $.a = %^x+$% }", "{ $.a = %^x+$% }", id="regex"),
        pytest.param(r'{ $.a = "q\"b\\c" }', r'{ $.a = "q\"b\\c" }', id="escapes"),
        pytest.param("{ $.a is null }", "{ $.a IS NULL }", id="check"),
        pytest.param("{ $.a = 1 && $.b NOT EXISTS }", "{ ($.a = 1) && ($.b NOT EXISTS) }", id="and"),
        pytest.param(
            "{ $.a = 1 || $.b = 2 && $.c = 3 }", "{ ($.a = 1) || (($.b = 2) && ($.c = 3)) }", id="and inside or"
        ),
        pytest.param("", "", id="empty"),
        pytest.param('a\\b -"c d" -%e+%', '"a\\\\b" -"c d" -%e+%', id="terms"),
        pytest.param('?x ?"y\\"z"', '?"x" ?"y\\"z"', id="alternatives"),
    ],
)
def test_a_pattern_renders_to_canonical_text_that_reads_back_the_same(pattern: str, rendered: str) -> None:
    assert render(parse(pattern)) == rendered
    assert parse(rendered) == parse(pattern)


def test_only_filter_pattern_nodes_render() -> None:
    with pytest.raises(TypeError, match=r"^not a filter-pattern node: Selector$"):
        render(And((eq("a", "b"), sel("c"))))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("{ $.a = 1 && $.b = 2 }", "{ $.b = 2 && $.a = 1 }", id="clause order"),
        pytest.param("{ $.a = x || $.a = x }", "{ $.a = x }", id="repetition"),
        pytest.param("{ ($.a = x && $.b = y) && $.c = z }", "{ $.c = z && ($.b = y && $.a = x) }", id="grouping"),
        pytest.param("{ ($.a = x || $.b = y) || $.c = z }", "{ $.c = z || $.b = y || $.a = x }", id="nested or"),
        pytest.param("{ $.a = x && ($.b = y || $.b = y) }", "{ $.b = y && $.a = x }", id="collapsed or"),
        pytest.param(
            "{ $.a = x && ($.b = y && $.c = z || $.c = z && $.b = y) }",
            "{ $.a = x && $.b = y && $.c = z }",
            id="the same group written twice",
        ),
    ],
)
def test_patterns_that_differ_only_in_order_or_repetition_normalise_alike(first: str, second: str) -> None:
    assert normalize(parse(first)) == normalize(parse(second))


def test_normalising_keeps_and_and_or_apart_and_sorts_by_text() -> None:
    node = normalize(parse("{ $.c = z || ($.b = y && $.a = x) || $.a = x }"))
    assert render(node) == '{ ($.a = "x") || ($.c = "z") || (($.a = "x") && ($.b = "y")) }'
    assert normalize(parse("{ ($.a = x || $.b = y) && ($.a = x || $.b = y) }")) == Or((eq("a", "x"), eq("b", "y")))
    assert normalize(EVERYTHING) is EVERYTHING


def test_the_leaves_of_a_pattern_are_its_conditions_left_to_right() -> None:
    node = parse("{ ($.c = 1 || $.b IS NULL) && $.a != x }")
    assert list(leaves(node)) == [
        Comparison(sel("c"), "=", NumberValue(Decimal(1), "1")),
        Check(sel("b"), "IS NULL"),
        eq("a", "x", "!="),
    ]
    assert list(leaves(parse("Root"))) == []
    assert list(leaves(EVERYTHING)) == []


def test_a_selector_reads_as_written() -> None:
    assert str(sel("a", 0, "b-c", 12)) == "$.a[0].b-c[12]"
    assert RegexValue("a+").search_in("baab")
    assert not RegexValue("^a+$").search_in("baab")
