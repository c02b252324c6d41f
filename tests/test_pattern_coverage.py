"""Tests for the "covers" decision (rulelib/cis_pattern_coverage.py).

The corpus is rulelib/cis_accepted_patterns.md: every CIS version's pattern for controls 3.1-3.14
and AWS Security Hub's, so the tests also check that the recorded patterns parse.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cis_filter_pattern import (
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
    evaluate,
    matches,
    normalize,
    parse,
)
from cis_pattern_coverage import Coverage, covers, find_event, sample_events

PATTERNS_FILE = Path(__file__).resolve().parents[1] / "rulelib" / "cis_accepted_patterns.md"
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load_corpus() -> dict[str, list[tuple[str, str]]]:
    """control -> [(label, pattern)] in file order (CIS v1.2.0 first)."""
    corpus: dict[str, list[tuple[str, str]]] = {}
    control = ""
    label = ""
    lines = iter(PATTERNS_FILE.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if heading := re.match(r"## (3\.\d+) ", line):
            control = heading.group(1)
            corpus[control] = []
        elif line.strip() and line != "```" and control:
            label = line
        elif line == "```" and control:
            pattern = next(lines)
            assert next(lines) == "```"
            if label.startswith("AWS Security Hub"):
                version = "SecurityHub"
            else:
                version = re.search(r"v\d+\.\d+\.\d+", label).group(0)  # type: ignore[union-attr]
                version += "-sso" if label.startswith(f"{version} ") and "SSO" in label.split(";")[0] else ""
            corpus[control].append((f"{control}-{version}", pattern))
    return corpus


CORPUS = _load_corpus()
INVALID = {"3.4-v1.3.0"}  # "$eventName" without the dot, as printed in CIS v1.3.0 4.4
VALID = [(label, pattern) for entries in CORPUS.values() for label, pattern in entries if label not in INVALID]


def _distinct(entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[Node] = set()
    result = []
    for label, pattern in entries:
        if label in INVALID:
            continue
        node = normalize(parse(pattern))
        if node not in seen:
            seen.add(node)
            result.append((label, pattern))
    return result


ACCEPTED = {control: [pattern for _, pattern in _distinct(entries)] for control, entries in CORPUS.items()}
DISTINCT = [entry for entries in CORPUS.values() for entry in _distinct(entries)]
DISTINCT_IDS = [label for label, _ in DISTINCT]


def test_corpus_has_every_control_with_v120_first() -> None:
    assert list(CORPUS) == [f"3.{n}" for n in range(1, 15)]
    for control, entries in CORPUS.items():
        assert entries[0][0] == f"{control}-v1.2.0"
    assert CORPUS["3.1"][0][1] == '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    assert CORPUS["3.3"][0][1] == (
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
    )


def test_only_the_known_misprint_fails_to_parse() -> None:
    invalid = set()
    for entries in CORPUS.values():
        for label, pattern in entries:
            try:
                parse(pattern)
            except FilterPatternError:
                invalid.add(label)
    assert invalid == INVALID


@pytest.mark.parametrize(("label", "pattern"), VALID, ids=[label for label, _ in VALID])
def test_every_accepted_pattern_covers_itself(label: str, pattern: str) -> None:
    events = sample_events(pattern)
    assert events, label
    assert all(matches(pattern, event) for event in events)
    assert all(json.loads(json.dumps(event)) == event for event in events)
    assert covers(pattern, [pattern]) == Coverage(True, pattern, None)


@pytest.mark.parametrize(("label", "pattern"), DISTINCT, ids=DISTINCT_IDS)
def test_every_or_branch_matches_an_event_no_other_branch_does(label: str, pattern: str) -> None:
    node = normalize(parse(pattern))
    for branch in node.operands if isinstance(node, Or) else (node,):
        others = [other for other in node.operands if other != branch] if isinstance(node, Or) else []
        event = find_event(branch, others)
        assert event is not None, branch
        assert evaluate(branch, event) and not any(evaluate(other, event) for other in others), branch


# ------------------------------------------------------------------ relations between versions


@pytest.mark.parametrize(
    ("candidate", "accepted", "expected"),
    [
        pytest.param("3.1-v1.2.0", "3.1-v2.0.0", True, id="3.1-v1.2.0-covers-v2.0.0"),
        pytest.param("3.1-v2.0.0", "3.1-v1.2.0", False, id="3.1-v2.0.0-misses-AccessDenied-HeadBucket"),
        pytest.param("3.1-v1.3.0", "3.1-v1.2.0", True, id="3.1-v1.3.0-covers-v1.2.0"),
        pytest.param("3.1-v1.2.0", "3.1-v1.3.0", False, id="3.1-v1.2.0-misses-most-of-v1.3.0"),
        pytest.param("3.2-v1.2.0", "3.2-v2.0.0-sso", True, id="3.2-v1.2.0-covers-sso"),
        pytest.param("3.2-v2.0.0-sso", "3.2-v1.2.0", False, id="3.2-sso-misses-failed-logins"),
        pytest.param("3.4-v1.2.0", "3.4-SecurityHub", True, id="3.4-cis-covers-securityhub"),
        pytest.param("3.4-SecurityHub", "3.4-v1.2.0", False, id="3.4-securityhub-needs-eventSource"),
        pytest.param("3.10-v5.0.0", "3.10-v1.2.0", True, id="3.10-v5.0.0-covers-v1.2.0"),
        pytest.param("3.10-v1.2.0", "3.10-v5.0.0", False, id="3.10-v1.2.0-misses-ModifySecurityGroupRules"),
        pytest.param("3.13-SecurityHub", "3.13-v1.2.0", False, id="3.13-securityhub-needs-eventSource"),
    ],
)
def test_relations_between_versions(candidate: str, accepted: str, expected: bool) -> None:
    patterns = dict(VALID)
    result = covers(patterns[candidate], [patterns[accepted]])
    assert result.covered is expected
    if not expected:
        assert result.missed is not None
        assert matches(patterns[accepted], result.missed)
        assert not matches(patterns[candidate], result.missed)


# --------------------------------------------------------------------- filters seen in accounts

V120 = {control: entries[0][1] for control, entries in CORPUS.items()}

REAL_FILTERS = [
    pytest.param("3.1", "{ $.errorCode = *UnauthorizedOperation || $.errorCode = AccessDenied* }", True, id="3.1-bare"),
    pytest.param("3.1", "{ $.errorCode = * }", True, id="3.1-every-error-is-broader"),
    pytest.param("3.1", '{ $.errorCode = "AccessDenied*" }', False, id="3.1-only-AccessDenied"),
    pytest.param(
        "3.1", '{ $.errorCode = "UnauthorizedOperation" || $.errorCode = "AccessDenied" }', False, id="3.1-exact"
    ),
    pytest.param(
        "3.1",
        '{ ($.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*")'
        ' && $.sourceIPAddress != "delivery.logs.amazonaws.com" && $.eventName != "HeadBucket" }',
        False,
        id="3.1-v2.0.0-as-intended-drops-Unauthorized-from-delivery",
    ),
    pytest.param(
        "3.2", '{ $.eventName = "ConsoleLogin" && $.additionalEventData.MFAUsed = "No" }', False, id="3.2-eq-No"
    ),
    pytest.param(
        "3.2",
        '{ $.eventName = "ConsoleLogin" && $.additionalEventData.MFAUsed != "Yes" && $.userIdentity.type = "IAMUser" }',
        True,
        id="3.2-IAMUser-only-covers-sso",
    ),
    pytest.param(
        "3.3",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType = "AwsApiCall" }',
        False,
        id="3.3-eq-AwsApiCall-misses-console",
    ),
    pytest.param(
        "3.3",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy IS NULL && $.eventType != "AwsServiceEvent" }',
        False,
        id="3.3-IS-NULL-is-not-NOT-EXISTS",
    ),
    pytest.param("3.3", '{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }', True, id="3.3-broader"),
    pytest.param(
        "3.3",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS'
        ' && $.eventType != "AwsServiceEventFoo" }',
        False,
        id="3.3-excludes-a-value-only-the-filter-names",
    ),
    pytest.param(
        "3.1",
        '{ ($.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*")'
        ' && $.errorCode != "AccessDeniedFoo" }',
        False,
        id="3.1-excludes-one-AccessDenied-code",
    ),
    pytest.param(
        "3.3",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent"'
        " && $.userAgent NOT EXISTS }",
        False,
        id="3.3-extra-field-condition",
    ),
    pytest.param(
        "3.3",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent"'
        ' && $.awsRegion = "us-east-1" }',
        False,
        id="3.3-one-region-only",
    ),
    pytest.param("3.4", "{ $.eventName = *Policy* }", True, id="3.4-wildcard-is-broader"),
    pytest.param("3.4", V120["3.4"].replace("||($.eventName=DetachGroupPolicy)", ""), False, id="3.4-one-missing"),
    pytest.param(
        "3.4",
        V120["3.4"].replace("{", "{ $.eventSource = iam.amazonaws.com && (", 1)[:-1] + ") }",
        True,
        id="3.4-sechub",
    ),
    pytest.param("3.6", '{ $.eventName = ConsoleLogin && $.errorMessage = "Failed*" }', True, id="3.6-prefix"),
    pytest.param("3.7", "{ $.eventName = DisableKey || $.eventName = ScheduleKeyDeletion }", True, id="3.7-no-source"),
    pytest.param("3.7", "{ $.eventSource = kms.amazonaws.com && $.eventName = DisableKey }", False, id="3.7-one-event"),
    pytest.param(
        "3.7",
        '{ $.eventSource = "kms.amazonaws.com" && $.eventName = "Disable*" }',
        False,
        id="3.7-no-ScheduleKeyDeletion",
    ),
    pytest.param(
        "3.10", V120["3.10"].replace(" }", " || ($.eventName = ModifySecurityGroupRules) }"), True, id="3.10-v5.0.0"
    ),
    pytest.param(
        "3.14", V120["3.14"].split(" || ($.eventName = AttachClassicLinkVpc)")[0] + " }", False, id="3.14-short"
    ),
]


@pytest.mark.parametrize(("control", "candidate", "expected"), REAL_FILTERS)
def test_filters_seen_in_accounts(control: str, candidate: str, expected: bool) -> None:
    result = covers(candidate, ACCEPTED[control])
    assert result.covered is expected
    if expected:
        assert result.accepted in ACCEPTED[control]
        assert result.missed is None
    else:
        assert result.accepted is None
        assert result.missed is not None
        assert matches(ACCEPTED[control][0], result.missed)
        assert not matches(candidate, result.missed)


# ------------------------------------------------------------------------ equivalent rewrites

_BARE = re.compile(r"[A-Za-z0-9_.:/*+-]+")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_GAPS = ["", " ", "  ", "\n", "\t "]


def rewrite(node: Node, draw: Callable[[st.SearchStrategy[Any]], Any], top: bool = True) -> str:
    """Equivalent pattern text: shuffled clauses, other whitespace and quoting, extra parentheses."""

    def gap(required: bool = False) -> str:
        return str(draw(st.sampled_from(_GAPS[1:] if required else _GAPS)))

    def value(current: StringValue | NumberValue | RegexValue) -> str:
        if isinstance(current, NumberValue):
            return current.text
        if isinstance(current, RegexValue):
            return f"%{current.pattern}%"
        quoted = '"' + current.text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        bare_legal = _BARE.fullmatch(current.text) and not _NUMBER.fullmatch(current.text)
        return current.text if bare_legal and draw(st.booleans()) else quoted

    if isinstance(node, Comparison):
        text = f"{node.selector}{gap()}{node.operator}{gap()}{value(node.value)}"
    elif isinstance(node, Check):
        first, second = node.kind.split()
        text = f"{node.selector}{gap(True)}{first}{gap(True)}{second}"
    elif isinstance(node, And | Or):
        operands = list(node.operands)
        order = draw(st.permutations(range(len(operands))))
        parts = []
        for index in order:
            operand = operands[index]
            inner = rewrite(operand, draw, top=False)
            needs = isinstance(node, And) and isinstance(operand, Or)
            parts.append(f"({gap()}{inner}{gap()})" if needs or draw(st.booleans()) else inner)
        separator = "&&" if isinstance(node, And) else "||"
        text = f"{gap()}{separator}{gap()}".join(parts)
    else:  # pragma: no cover
        raise TypeError(node)
    for _ in range(draw(st.integers(0, 2))):
        text = f"({gap()}{text}{gap()})"
    return f"{gap()}{{{gap()}{text}{gap()}}}{gap()}" if top else text


@PROPERTY
@given(st.sampled_from(DISTINCT), st.data())
def test_rewrites_never_change_the_answer(entry: tuple[str, str], data: st.DataObject) -> None:
    _, pattern = entry
    node = parse(pattern)
    text = rewrite(node, data.draw)
    assert normalize(parse(text)) == normalize(node)
    assert covers(text, [pattern]).covered
    candidate = normalize(parse(text))
    assert all(evaluate(candidate, event) for event in sample_events(pattern))
    # ... and a filter that does not cover keeps not covering whatever its spelling.
    wrong = next(mutant for _, mutant in _value_changes(node))
    wrong_text = rewrite(wrong, data.draw)
    assert covers(wrong_text, [pattern]) == covers(_render_plain(wrong), [pattern])
    assert not covers(wrong_text, [pattern]).covered


def _render_plain(node: Node) -> str:
    from cis_filter_pattern import render

    return render(node)


EXTRA_TERMS = st.builds(
    Comparison,
    st.sampled_from([Selector(("eventName",)), Selector(("errorCode",)), Selector(("requestParameters", "x"))]),
    st.sampled_from(["=", "!="]),
    st.sampled_from([StringValue("Foo"), StringValue("*Bar"), StringValue("*")]),
)


@PROPERTY
@given(st.sampled_from(DISTINCT), EXTRA_TERMS, st.data())
def test_adding_or_terms_keeps_coverage(entry: tuple[str, str], extra: Node, data: st.DataObject) -> None:
    _, pattern = entry
    node = parse(pattern)
    targets = [path for path, current in _subtrees(node) if isinstance(current, Or)] + [()]
    path = data.draw(st.sampled_from(targets))
    widened = _replace(node, path, lambda current: Or((*_operands(current, Or), extra)))
    text = rewrite(widened, data.draw)
    assert covers(text, [pattern]).covered


# ----------------------------------------------------------------- tree edits that must matter

Path_ = tuple[int, ...]


def _subtrees(node: Node, path: Path_ = ()) -> Iterator[tuple[Path_, Node]]:
    yield path, node
    if isinstance(node, And | Or):
        for index, operand in enumerate(node.operands):
            yield from _subtrees(operand, (*path, index))


def _replace(node: Node, path: Path_, change: Callable[[Node], Node | None]) -> Node:
    if not path:
        replaced = change(node)
        assert replaced is not None
        return replaced
    assert isinstance(node, And | Or)
    operands = list(node.operands)
    new = _replace(operands[path[0]], path[1:], change) if len(path) > 1 else change(operands[path[0]])
    if new is None:
        del operands[path[0]]
    else:
        operands[path[0]] = new
    return operands[0] if len(operands) == 1 else type(node)(tuple(operands))


def _operands(node: Node, kind: type[And] | type[Or]) -> tuple[Node, ...]:
    return node.operands if isinstance(node, kind) else (node,)


def _dropped(node: Node, kind: type[And] | type[Or]) -> Iterator[tuple[str, Node]]:
    for path, current in _subtrees(node):
        if path and isinstance(_parent(node, path), kind):
            yield f"drop {current}", _replace(node, path, lambda _: None)


def _parent(node: Node, path: Path_) -> Node:
    for index in path[:-1]:
        assert isinstance(node, And | Or)
        node = node.operands[index]
    return node


def _changed_value(leaf: Node) -> Node:
    assert isinstance(leaf, Comparison) and isinstance(leaf.value, StringValue)
    value = leaf.value
    star_before = "*" if value.leading_wildcard else ""
    star_after = "*" if value.trailing_wildcard else ""
    return dataclasses.replace(leaf, value=StringValue(f"{star_before}{value.core}Changed{star_after}"))


def _flipped(leaf: Node) -> Node:
    if isinstance(leaf, Comparison):
        return dataclasses.replace(leaf, operator={"=": "!=", "!=": "="}[leaf.operator])
    assert isinstance(leaf, Check)
    return dataclasses.replace(leaf, kind="IS NULL" if leaf.kind == "NOT EXISTS" else "NOT EXISTS")


def _value_changes(node: Node) -> Iterator[tuple[str, Node]]:
    for path, current in _subtrees(node):
        if isinstance(current, Comparison):
            yield f"change {current}", _replace(node, path, _changed_value)


def _operator_flips(node: Node) -> Iterator[tuple[str, Node]]:
    for path, current in _subtrees(node):
        if isinstance(current, Comparison | Check):
            yield f"flip {current}", _replace(node, path, _flipped)


def _assert_not_covered(pattern: str, edits: Iterator[tuple[str, Node]]) -> int:
    count = 0
    for description, mutant in edits:
        result = covers(_render_plain(mutant), [pattern])
        assert not result.covered, description
        assert result.missed is not None and matches(pattern, result.missed), description
        assert not evaluate(mutant, result.missed), description
        count += 1
    return count


@pytest.mark.parametrize(("label", "pattern"), DISTINCT, ids=DISTINCT_IDS)
def test_dropping_an_or_term_loses_coverage(label: str, pattern: str) -> None:
    _assert_not_covered(pattern, _dropped(parse(pattern), Or))


@pytest.mark.parametrize(("label", "pattern"), DISTINCT, ids=DISTINCT_IDS)
def test_dropping_an_and_term_broadens_and_keeps_coverage(label: str, pattern: str) -> None:
    for description, mutant in _dropped(parse(pattern), And):
        assert covers(_render_plain(mutant), [pattern]).covered, description


@pytest.mark.parametrize(("label", "pattern"), DISTINCT, ids=DISTINCT_IDS)
def test_changing_a_value_loses_coverage(label: str, pattern: str) -> None:
    assert _assert_not_covered(pattern, _value_changes(parse(pattern))) >= 1


@pytest.mark.parametrize(("label", "pattern"), DISTINCT, ids=DISTINCT_IDS)
def test_flipping_an_operator_loses_coverage(label: str, pattern: str) -> None:
    assert _assert_not_covered(pattern, _operator_flips(parse(pattern))) >= 1


# ------------------------------------------------------------------------------------- API


def test_unparsable_filter_raises_filter_pattern_error() -> None:
    with pytest.raises(FilterPatternError):
        covers("[ip, user]", ACCEPTED["3.1"])
    with pytest.raises(FilterPatternError):
        covers("{ $.errorCode = }", [])


def test_invalid_accepted_pattern_is_a_pack_defect() -> None:
    with pytest.raises(ValueError, match="accepted pattern") as caught:
        covers("{ $.a = b }", ["{ $eventName = x }"])
    assert not isinstance(caught.value, FilterPatternError)


def test_no_accepted_patterns_covers_nothing() -> None:
    assert covers("{ $.a = b }", []) == Coverage(False, None, None)


def test_reports_the_accepted_pattern_that_is_covered() -> None:
    sso = ACCEPTED["3.2"][1]
    result = covers(sso, ACCEPTED["3.2"])
    assert result == Coverage(True, sso, None)


def test_missed_example_comes_from_the_first_accepted_pattern() -> None:
    result = covers("{ $.eventName = CreateVpc }", [V120["3.14"], V120["3.10"]])
    assert not result.covered
    assert result.missed is not None
    assert matches(V120["3.14"], result.missed)


def test_coverage_is_immutable_and_missed_is_a_copy() -> None:
    result = covers("{ $.eventName = CreateVpc }", [V120["3.14"]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.covered = True  # type: ignore[misc]
    assert isinstance(result.missed, dict)
    result.missed.clear()
    assert covers("{ $.eventName = CreateVpc }", [V120["3.14"]]).missed


def test_sample_events_are_copies() -> None:
    first = sample_events(V120["3.3"])
    first[0].clear()
    assert sample_events(V120["3.3"])[0]


def test_an_unsatisfiable_accepted_pattern_is_covered_by_anything() -> None:
    impossible = '{ $.a = "x" && $.a = "y" }'
    assert sample_events(impossible) == []
    assert find_event(parse(impossible)) is None
    assert covers('{ $.a = "x" }', [impossible]).covered


def test_numeric_and_regex_accepted_patterns() -> None:
    pattern = "{ $.latency >= 500 && $.path = %^/api/[a-z]+$% }"
    assert covers("{ $.latency > 499 && $.path = %^/api/% }", [pattern]).covered
    result = covers("{ $.latency > 500 && $.path = %^/api/% }", [pattern])
    assert not result.covered
    assert result.missed is not None and result.missed["latency"] == 500
