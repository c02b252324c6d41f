"""The coverage decision against an independent reference: ``cis_filter_pattern.evaluate``, a
plain evaluator of one pattern on one event (Python ``re`` and string operations, no automata).

* Property: for random patterns P and filters F over a few fields, the engine's answer agrees
  with an exhaustive check over every event built from a pool of values: when it says "covers",
  no pooled event matches P and not F; when it says "does not cover", its witness matches P
  and not F. The pool holds every value that can tell the patterns below apart, so a wrong
  "covers" would show.
* Tables: the cases a hostile reviewer found in the earlier sampling engine, and their variants.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cis_filter_pattern import And, Comparison, evaluate, parse
from cis_pattern_coverage import Coverage, TooComplex, covers, find_event
from cispack.testing.monitoring import KEYWORDS, keyword_filter

V120_31 = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
V200_31 = (
    '{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && '
    '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }'
)
V120_33 = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'


def _narrow(pattern: str, condition: str) -> str:
    return pattern.rstrip()[:-1].rstrip() + f" && ({condition}) }}"


# ----------------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("candidate", "accepted", "covered", "deciding"),
    [
        pytest.param(
            _narrow(V200_31, "$.sourceIPAddress != %^10\\.%"),
            V200_31,
            False,
            {"sourceIPAddress"},
            id="regex-exclusion-drops-10.x-callers",
        ),
        pytest.param(
            _narrow(V200_31, "$.sourceIPAddress != %^10%"),
            V200_31,
            False,
            {"sourceIPAddress"},
            id="regex-exclusion-without-dot",
        ),
        pytest.param(
            _narrow(
                V120_33,
                '$.sourceIPAddress NOT EXISTS || $.sourceIPAddress != "198.51.100.66" || '
                '$.userAgent NOT EXISTS || $.userAgent != "ops-breakglass/1.0"',
            ),
            V120_33,
            False,
            {"sourceIPAddress", "userAgent"},
            id="two-field-exclusion",
        ),
        pytest.param(
            _narrow(
                V120_33,
                '$.sourceIPAddress != "198.51.100.66" || $.userAgent != "ops-breakglass/1.0" || '
                '$.awsRegion != "eu-west-1" || $.sourceIPAddress NOT EXISTS || $.userAgent NOT EXISTS || '
                "$.awsRegion NOT EXISTS",
            ),
            V120_33,
            False,
            {"sourceIPAddress", "userAgent", "awsRegion"},
            id="three-field-exclusion",
        ),
        pytest.param(_narrow(V120_33, '$.userAgent != "x"'), V120_33, False, set(), id="not-equal-on-missing-field"),
        pytest.param(
            _narrow(V120_33, '$.userAgent NOT EXISTS || $.userAgent != "x"'),
            V120_33,
            False,
            {"userAgent"},
            id="not-equal-or-absent-still-drops-one-value",
        ),
        pytest.param(
            '{ $.errorCode = "*Operation" || $.errorCode = "Access*" }', V120_31, True, set(), id="wider-wildcards"
        ),
        pytest.param(
            '{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied" }',
            V120_31,
            False,
            {"errorCode"},
            id="wildcard-narrowed-to-exact",
        ),
        pytest.param(
            "{ $.errorCode = %Unauthorized|^AccessDenied% }", V120_31, True, set(), id="regex-covers-wildcards"
        ),
        pytest.param(
            "{ $.errorCode = %UnauthorizedOperation$|^AccessDenied% }",
            V120_31,
            True,
            set(),
            id="anchored-regex-covers-wildcards",
        ),
        pytest.param(
            "{ $.errorCode = %^[A-Z][a-z]+Operation$|^AccessDenied% }",
            V120_31,
            False,
            {"errorCode"},
            id="regex-misses-dotted-codes",
        ),
        pytest.param("", V120_33, True, set(), id="empty-pattern-matches-everything"),
        pytest.param("Root", V120_33, True, set(), id="term-forced-by-the-pattern"),
        pytest.param("Root -breakglass", V120_33, False, {"note"}, id="term-exclusion"),
        pytest.param("?Unauthorized ?AccessDenied", V120_31, True, set(), id="any-term"),
        pytest.param("AccessDenied", V120_31, False, {"errorCode"}, id="term-misses-a-branch"),
        pytest.param("{ $.n > 499 }", "{ $.n >= 500 }", True, set(), id="numeric-lower-bound-below"),
        pytest.param("{ $.n > 500 }", "{ $.n >= 500 }", False, {"n"}, id="numeric-boundary"),
        pytest.param("{ $.n >= 500 && $.n != 750 }", "{ $.n >= 500 }", False, {"n"}, id="numeric-hole"),
        pytest.param("{ $.n >= 500 || $.n < 500 }", "{ $.n = * }", False, {"n"}, id="numbers-miss-strings"),
        pytest.param("{ $.a[0] = x || $.a[1] = x }", "{ $.a[1] = x }", True, set(), id="array-index"),
        pytest.param("{ $.a[0] EXISTS }".replace(" EXISTS", " = *"), "{ $.a[1] = x }", False, {"a"}, id="array-0-null"),
        pytest.param("{ $.c.d IS NULL }", '{ $.c.d IS NULL && $.c.e = "x" }', True, set(), id="nested-null"),
        pytest.param("{ $.c NOT EXISTS }", "{ $.c.d NOT EXISTS }", False, {"c"}, id="nested-absent-parent"),
    ],
)
def test_decisions(candidate: str, accepted: str, covered: bool, deciding: set[str]) -> None:
    result = covers(candidate, [accepted])
    assert result.covered is covered
    if covered:
        assert result.missed is None
        return
    assert result.missed is not None
    assert evaluate(parse(accepted), result.missed)
    assert not evaluate(parse(candidate), result.missed)
    assert deciding <= set(result.missed)


def test_union_of_filters_is_judged() -> None:
    halves = ['{ $.errorCode = "*UnauthorizedOperation" }', '{ $.errorCode = "AccessDenied*" }']
    assert not covers(halves[0], [V120_31]).covered
    assert not covers(halves[1], [V120_31]).covered
    assert covers(halves, [V120_31]).covered


# --------------------------------------------------------------------------- the property

FIELDS = ("$.a", "$.b", "$.c.d")
STRING_VALUES = ("AccessDenied", "Access*", "*Denied", "*cess*", "A*D", "10.1", "")
REGEXES = ("^10\\.", "Denied$", "[0-9]+", "^A.c", "x|^$")
NUMBERS = ("5", "4.5", "-1")


@st.composite
def atoms(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(FIELDS))
    kind = draw(st.sampled_from(["string", "regex", "number", "check"]))
    if kind == "string":
        operator = draw(st.sampled_from(["=", "!="]))
        return f"{field} {operator} {json.dumps(draw(st.sampled_from(STRING_VALUES)))}"
    if kind == "regex":
        operator = draw(st.sampled_from(["=", "!="]))
        return f"{field} {operator} %{draw(st.sampled_from(REGEXES))}%"
    if kind == "number":
        operator = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        return f"{field} {operator} {draw(st.sampled_from(NUMBERS))}"
    return f"{field} {draw(st.sampled_from(['NOT EXISTS', 'IS NULL', 'IS TRUE']))}"


@st.composite
def formulas(draw: st.DrawFn, depth: int = 2) -> str:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(atoms())
    parts = [draw(formulas(depth - 1)) for _ in range(draw(st.integers(2, 3)))]
    separator = draw(st.sampled_from([" && ", " || "]))
    return "(" + separator.join(parts) + ")"


@st.composite
def patterns(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["", "Denied", "-Denied", "?10. ?Access", "%^.\\{.a.:.A%"]))
    return "{ " + draw(formulas()) + " }"


# Every value that tells the atoms above apart, and a few that tell none apart.
POOL: tuple[Any, ...] = (
    "AccessDenied",
    "AccessDeniedX",
    "XDenied",
    "Access",
    "xcessx",
    "A*D",
    "AD",
    "10.1",
    "10x",
    "",
    "Abc",
    "x",
    "5",
    5,
    4.5,
    -1,
    6,
    None,
    True,
    False,
)
ABSENT = object()


def _events() -> list[dict[str, Any]]:
    events = []
    for a, b, c in itertools.product(
        (ABSENT, *POOL), (ABSENT, *POOL), (ABSENT, "x", *({"d": value} for value in POOL), {"e": 1})
    ):
        event: dict[str, Any] = {}
        for key, value in (("a", a), ("b", b), ("c", c)):
            if value is not ABSENT:
                event[key] = value
        events.append(event)
    return events


EVENTS = _events()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns(), patterns())
def test_engine_agrees_with_the_reference_evaluator(accepted: str, candidate: str) -> None:
    p, f = parse(accepted), parse(candidate)
    result = covers(candidate, [accepted])
    if result.covered:
        counterexample = next((e for e in EVENTS if evaluate(p, e) and not evaluate(f, e)), None)
        assert counterexample is None, f"claims coverage, but misses {counterexample}"
    elif result.undecided is not None:
        # Fail closed, and only where the event model stops: a term judged on the raw JSON text
        # (e.g. anchored at its start) that the witness's extra field cannot carry.
        assert not accepted.lstrip().startswith("{") or not candidate.lstrip().startswith("{"), result
    else:
        assert result.missed is not None
        assert evaluate(p, result.missed) and not evaluate(f, result.missed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns())
def test_find_event_finds_an_event_whenever_the_pool_has_one(pattern: str) -> None:
    node = parse(pattern)
    try:
        event = find_event(node)
    except TooComplex:
        assert not pattern.lstrip().startswith("{")  # a raw-text term the model cannot carry
        return
    if any(evaluate(node, e) for e in EVENTS):
        assert event is not None
    if event is not None:
        assert evaluate(node, event)


def test_beyond_its_budget_a_decision_is_undecided_never_covered(monkeypatch: pytest.MonkeyPatch) -> None:
    import cis_pattern_coverage

    regex = "{ $.errorCode = %Unauthorized|^AccessDenied% }"  # covers, but only the search can tell
    monkeypatch.setattr(cis_pattern_coverage, "DECISION_STATES", 3)
    cis_pattern_coverage.clear_caches()
    try:
        result = covers(regex, [V120_31])
        assert (result.covered, result.missed) == (False, None)
        assert result.undecided == "within its bound of 3 automaton states"
        with pytest.raises(TooComplex, match="could not decide within its bound of 3 automaton states"):
            find_event(parse(V120_31), [parse(regex)])
    finally:
        cis_pattern_coverage.clear_caches()


def test_a_decision_past_its_seconds_is_undecided() -> None:
    result = covers('{ $.errorCode = %Unauthorized|^Acc% && $.errorCode != "x" }', [V120_31], seconds=0)
    assert result == Coverage(False, None, None, undecided="within 0 s")


def test_an_undecided_question_is_not_remembered_as_decided() -> None:
    pattern = '{ $.errorCode = %Unauthorized|^AccessD% && $.errorCode != "y" }'
    assert covers(pattern, [V120_31], seconds=0).undecided == "within 0 s"
    assert covers(pattern, [V120_31]).covered


# ------------------------------------------------------------------ the adversarial families

WORDS = KEYWORDS


def _keywords(words: tuple[str, ...], field: str = "eventName") -> str:
    return keyword_filter(words, field)


V120_34 = (
    "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||"
    "($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||"
    "($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||"
    "($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
    "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||"
    "($.eventName=DetachGroupPolicy)}"
)


@pytest.mark.parametrize(
    ("filters", "accepted", "covered"),
    [
        pytest.param([_keywords(WORDS)], V120_34, True, id="13-keyword-terms-with-Policy-cover-3.4"),
        pytest.param([_keywords(WORDS[:-1])], V120_34, False, id="12-keyword-terms-without-Policy"),
        pytest.param([_keywords((word,)) for word in WORDS], V120_34, True, id="13-one-term-filters-on-one-metric"),
        pytest.param(
            [_keywords((*WORDS, "Operation"), "errorCode")], V120_31, False, id="keywords-on-the-wildcard-3.1"
        ),
        pytest.param(
            [_keywords((*WORDS, "Unauthorized", "AccessDenied"), "errorCode")],
            V120_31,
            True,
            id="keywords-covering-3.1",
        ),
        pytest.param(["{ $.errorCode = %" + ".*" * 20 + "Operation|^Access% }"], V120_31, True, id="twenty-dot-stars"),
        pytest.param(["{ $.errorCode = %a.{1,40}n% }"], V120_31, False, id="bounded-repeat-under-the-limit"),
        pytest.param(
            ["{ $.eventName = %" + "|".join(f"^N{i:03}$" for i in range(60)) + "|Policy% }"],
            V120_34,
            True,
            id="alternation-of-60-names",
        ),
    ],
)
def test_adversarial_families_decide_with_the_right_verdict(filters: list[str], accepted: str, covered: bool) -> None:
    result = covers(filters, [accepted], seconds=5)
    assert result.undecided is None
    assert result.covered is covered
    if not covered:
        assert result.missed is not None and evaluate(parse(accepted), result.missed)


def test_a_huge_bounded_repeat_is_refused_when_the_filter_is_read() -> None:
    from cis_filter_pattern import FilterPatternError

    with pytest.raises(FilterPatternError, match="bounded repeats spell out 1,000 characters, more than the 64"):
        parse("{ $.eventName = %a.{1000}% }")
    with pytest.raises(FilterPatternError, match="bounded repeats spell out 80 characters, more than the 64"):
        parse("{ $.eventName = %a.{1,40}b.{2,40}% }")
    assert parse("{ $.eventName = %a.{1,40}b.{2,24}c*% }")


def test_filter_regexes_never_reach_python_re(monkeypatch: pytest.MonkeyPatch) -> None:
    """A backtracking engine takes seconds on ``.*`` chains; the pack's automata stay linear."""
    import re

    import cis_pattern_coverage

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a filter's regular expression reached Python's re")

    pattern = "{ $.eventName = %" + ".*" * 12 + "Q% || $.errorCode = %^Access% }"
    cis_pattern_coverage.clear_caches()
    for name in ("compile", "search", "match", "fullmatch"):
        monkeypatch.setattr(re, name, refuse)
    event = {"eventName": "x" * 3000, "errorCode": "Denied"}
    assert not evaluate(parse(pattern), event)
    assert not evaluate(parse("%" + ".*" * 12 + "Q%"), event)
    assert not covers(pattern, [V120_31]).covered


def test_a_dimension_value_narrows_what_the_alarm_counts() -> None:
    from cis_filter_pattern import Selector, StringValue

    names = parse('{ $.eventName = "*Trail*" }')
    only_create = And((names, Comparison(Selector(("eventName",)), "=", StringValue("CreateTrail", literal=True))))
    five = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) }"
    assert covers([names], [five]).covered
    result = covers([only_create], [five])
    assert not result.covered and result.missed == {"eventName": "UpdateTrail"}
    star = And((names, Comparison(Selector(("eventName",)), "=", StringValue("*", literal=True))))
    assert not covers([star], [five]).covered  # a dimension value "*" is that text, not a wildcard


# ------------------------------------------------------------- the regex automata themselves

REGEX_SAMPLES = (
    "^10\\.",
    "a|^b",
    "[hc]at$",
    "a{2,3}",
    "x.y",
    "[^a-c]+z",
    "\\d{1,3}\\.\\d",
    "a$^",
    "[]a-]x?",
    "\\w+\\s\\S",
)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(REGEX_SAMPLES), st.lists(st.text(alphabet="abchtxyz019.- \n]", max_size=7), max_size=40))
def test_regex_automata_agree_with_python_re(pattern: str, texts: list[str]) -> None:
    import re

    from cis_regular import python_regex, search

    language = search(pattern)
    compiled = re.compile(python_regex(pattern), re.ASCII)
    for text in texts:
        assert language.matches(text) is (compiled.search(text) is not None), (pattern, text)
