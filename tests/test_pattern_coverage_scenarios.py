"""The coverage decision (rulelib/cis_pattern_coverage.py) as scenarios: for a pattern and the
filters it is checked against, the event the search finds that the pattern matches and no filter
does (the witness a NON_COMPLIANT annotation shows), or that there is none; the questions it
cannot decide and what it says then; what it remembers between questions.

Each witness is also checked with the reference evaluator (``cis_filter_pattern.evaluate``), so
a table row can only be wrong one way: the engine's exact choice of event changed.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any
from unittest import mock

import pytest

import cis_pattern_coverage
from cis_filter_pattern import And, evaluate, parse
from cis_pattern_coverage import Coverage, TooComplex, covers, find_event

CIS_31 = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
CIS_33 = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
SIGNIN = '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
INEXACT = "exactly: an event the search built was not matched as its assumptions said"
BEYOND = "exactly: the patterns compare with a number of 10^15 or more, beyond the numbers the search tries"


@pytest.fixture(autouse=True)
def _cold():
    """Every question decided afresh: no answer remembered from another test."""
    cis_pattern_coverage.clear_caches()
    yield
    cis_pattern_coverage.clear_caches()


def witness(pattern: str, *filters: str) -> dict[str, Any] | None:
    found = find_event(parse(pattern), [parse(f) for f in filters])
    if found is not None:
        assert evaluate(parse(pattern), found), found
        assert not any(evaluate(parse(f), found) for f in filters), found
    return found


# --- Text values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "filters", "event"),
    [
        ('{ $.eventName = "Create*" }', ['{ $.eventName = "CreateTrail" }'], {"eventName": "Create"}),
        (
            '{ $.eventName = "*Trail" }',
            ['{ $.eventName = "Create*" }', '{ $.eventName = "Delete*" }'],
            {"eventName": "Trail"},
        ),
        ('{ $.sourceIPAddress != "10.0.0.1" }', ['{ $.sourceIPAddress = "10.*" }'], {"sourceIPAddress": "x"}),
        ("{ $.sourceIPAddress != %^10\\.% }", ["{ $.sourceIPAddress NOT EXISTS }"], {"sourceIPAddress": "x"}),
        ("{ $.eventName = * }", ['{ $.eventName = "A*" }'], {"eventName": "x"}),
        ('{ $.a = "x*" && $.a != "xy" && $.b = "x*" && $.b != "xy" }', [], {"a": "x", "b": "x"}),
        (
            '{ $.errorCode = "AccessDenied*" }',
            ['{ $.errorCode = "AccessDenied" }', "AccessDeniedException"],
            {"errorCode": "AccessDeniedx"},
        ),
        (SIGNIN, ['{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed = "No") }'], None),
    ],
    ids=[
        "a_prefix_against_one_name",
        "a_suffix_against_two_prefixes",
        "all_but_one_address_against_a_range",
        "a_regex_exclusion_against_an_absent_field",
        "any_value_against_a_prefix",
        "two_fields_under_the_same_conditions",
        "a_prefix_against_its_exact_value_and_a_longer_term",
        "sign_in_without_mfa_against_mfa_no",
    ],
)
def test_a_text_value_the_filters_miss(pattern, filters, event):
    found = witness(pattern, *filters)
    if event is None:  # the witness of the last row: MFAUsed neither "Yes" nor "No"
        assert found == {"eventName": "ConsoleLogin", "additionalEventData": {"MFAUsed": "x"}}
    else:
        assert found == event


@pytest.mark.parametrize(
    ("pattern", "filters"),
    [
        ('{ $.eventName = "CreateTrail" }', ['{ $.eventName = "Create*" }']),
        ("{ $.eventName = %^Create% }", ['{ $.eventName = "Create*" }']),
        ('{ $.eventName = "Create*" }', ["{ $.eventName = %^Create% }"]),
        ("{ $.eventName = %Trail$% }", ['{ $.eventName = "*Trail" }']),
        (
            CIS_33,
            [
                '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }',
                '{ $.eventType = "AwsApiCall" }',
            ],
        ),
    ],
    ids=[
        "a_name_under_its_prefix",
        "a_regex_anchor_as_a_prefix",
        "a_prefix_as_a_regex_anchor",
        "a_regex_end_anchor_as_a_suffix",
        "root_usage_under_a_wider_filter",
    ],
)
def test_a_text_value_every_event_of_which_a_filter_matches(pattern, filters):
    assert witness(pattern, *filters) is None


def test_a_field_decided_once_is_decided_the_same_way_on_another_branch():
    # The first branch (b = "1") fails on c; the second (b = "2") assumes a = "x" again, which the
    # search has already checked once: the remembered answer must be the same answer.
    pattern = '{ ($.b = "1" || $.b = "2") && $.a = "x" && $.c = "y" }'
    assert witness(pattern, '{ $.b = "1" && $.c = "y" }') == {"b": "2", "a": "x", "c": "y"}


# --- Numbers, null, booleans and absent fields ------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "filters", "event"),
    [
        ("{ $.n > 5 }", ["{ $.n >= 6 }"], {"n": 5.5}),
        ("{ $.n >= 5 }", ["{ $.n > 5 }"], {"n": 5}),
        ("{ $.n = 5 }", ["{ $.n != 5 }"], {"n": "5"}),
        ("{ $.n < 0 }", [], {"n": -1}),
        ("{ $.n <= -1 }", ["{ $.n < -1 }"], {"n": -1}),
        ('{ $.n = "5*" }', ["{ $.n = 5 }"], {"n": "5x"}),
        ("{ $.n != 5 }", ["{ $.n NOT EXISTS }", "{ $.n IS NULL }"], {"n": "x"}),
        ("{ $.n = 0.5 }", ["{ $.n < 0.5 }"], {"n": "0.5"}),
        ("{ $.a IS TRUE }", ["{ $.a IS FALSE }"], {"a": True}),
        ("{ $.a IS FALSE }", ['{ $.a = "false" }'], {"a": False}),
        ("{ $.a NOT EXISTS }", ["{ $.a IS NULL }"], {}),
        ('{ $.n = "5" && $.n > 4 }', [], {"n": 5}),
        ("{ $.n IS NULL || $.n > 100 }", ["{ $.n IS NULL }"], {"n": 101}),
        ('{ $.n = "12*" && $.n > 12.5 }', [], {"n": 120}),
        ('{ $.n = "12*" && $.n > 121.5 }', [], {"n": 122}),
        ('{ $.n = "NaN" }', ['{ $.n = "x" }'], {"n": "NaN"}),
    ],
    ids=[
        "between_two_bounds",
        "on_the_bound",
        "the_number_as_text",
        "a_negative_number",
        "on_a_negative_bound",
        "a_text_starting_with_the_number",
        "a_text_neither_absent_nor_null",
        "a_half_as_text",
        "true_against_false",
        "false_against_the_text_false",
        "absent_against_null",
        "a_text_that_reads_as_a_number_and_a_bound",
        "a_bound_after_a_check_on_the_same_field",
        "a_number_whose_text_starts_with_a_prefix",
        "a_larger_number_whose_text_starts_with_a_prefix",
        "a_text_that_reads_as_not_a_number",
    ],
)
def test_a_value_of_another_kind_the_filters_miss(pattern, filters, event):
    assert witness(pattern, *filters) == event


@pytest.mark.parametrize(
    ("pattern", "filters"),
    [
        ("{ $.n = 5 }", ['{ $.n = "5*" }']),
        ("{ $.a IS NULL }", ["{ $.a.b NOT EXISTS }"]),
        ('{ $.a NOT EXISTS && $.b = "1" }', ["{ $.b = 1 }"]),
    ],
    ids=["five_under_texts_starting_with_5", "null_has_no_fields", "the_text_1_is_the_number_1"],
)
def test_a_value_of_another_kind_every_event_of_which_a_filter_matches(pattern, filters):
    assert witness(pattern, *filters) is None


# --- Nested fields and arrays -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "filters", "event"),
    [
        ('{ $.a.b = "x" }', ['{ $.a.c = "y" }'], {"a": {"b": "x", "c": "x"}}),
        ('{ $.a.b = "x" }', ['{ $.a.b = "x" && $.a.c NOT EXISTS }'], {"a": {"b": "x", "c": "x"}}),
        ('{ $.a[0] = "x" }', ["{ $.a[1] NOT EXISTS }"], {"a": ["x", "x"]}),
        ('{ $.a[1] = "x" }', ["{ $.a[0] IS NULL }"], {"a": ["x", "x"]}),
        ("{ $.a[1] NOT EXISTS }", ["{ $.a[0] NOT EXISTS }"], {"a": ["x"]}),
        ("{ $.a.b NOT EXISTS && $.a.c = 1 }", [], {"a": {"c": "1"}}),
        ('{ $.a[1] = "x" }', [], {"a": [None, "x"]}),
        ('{ $.a[0] = "x" }', ['{ $.a.b = "y" }'], {"a": ["x"]}),
        ('{ $.a = "x" }', ['{ $.a.b = "y" }'], {"a": "x"}),
        ('{ $.k = "v" || ($.a.b = "z" && $.a.b.c = "x") }', [], {"k": "v", "a": {"b": "x"}}),
        ('{ $.a IS NULL || $.a.b = "y" }', ["{ $.a IS NULL }"], {"a": {"b": "y"}}),
        ('{ $.a IS NULL || $.a[0] = "y" }', ["{ $.a IS NULL }"], {"a": ["y"]}),
    ],
    ids=[
        "a_sibling_field_with_another_value",
        "a_sibling_field_present",
        "a_second_element",
        "a_first_element_not_null",
        "one_element_only",
        "an_absent_sibling",
        "an_earlier_element_written_as_null",
        "an_array_where_a_filter_expects_an_object",
        "a_text_where_a_filter_expects_an_object",
        "a_text_field_whose_nested_field_nothing_requires",
        "an_object_rather_than_null",
        "an_array_rather_than_null",
    ],
)
def test_a_nested_field_or_element_the_filters_miss(pattern, filters, event):
    assert witness(pattern, *filters) == event


# --- Terms in the raw text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "filters", "event"),
    [
        ("ERROR", ["ERROR -timeout"], {"note": "timeoutERROR"}),
        ('"ERROR" -"timeout"', ['"ERROR" "disk"'], {"note": "ERROR"}),
        ("%ERR[0-9]+%", ["ERR5"], {"note": "ERR0"}),
        ("?ERROR ?WARN", ["ERROR"], {"note": "WARN"}),
        ('{ $.a = "x" }', ["-y"], {"a": "x", "note": "y"}),
        ('{ $.a = "x" }', ["-x"], {"a": "x"}),
        ('"10.0.0.1"', ['"10.0.0.2"'], {"note": "10.0.0.1"}),
    ],
    ids=[
        "a_term_with_the_excluded_one",
        "an_excluded_term_kept_out",
        "a_regex_term_with_another_digit",
        "one_of_two_terms",
        "a_json_pattern_against_a_term_it_excludes",
        "a_term_already_in_a_value",
        "a_quoted_term_with_dots_is_not_a_regex",
    ],
)
def test_raw_text_the_filters_miss(pattern, filters, event):
    assert witness(pattern, *filters) == event


@pytest.mark.parametrize(
    ("pattern", "filters"),
    [
        ("?ERROR ?WARN", ["ERROR", "WARN"]),
        ("ERROR WARN", ["?ERROR ?WARN"]),
        ("%^ERR%", ["ERR"]),
        ('"ERR" -%[0-9]%', ['"ERR" -"1"']),
        ('{ $.a = "x" }', ["x"]),
    ],
    ids=[
        "either_term_by_two_filters",
        "both_terms_by_either",
        "a_regex_prefix_by_its_text",
        "no_digit_by_no_1",
        "a_value_by_its_text",
    ],
)
def test_raw_text_every_event_of_which_a_filter_matches(pattern, filters):
    assert witness(pattern, *filters) is None


# --- Questions the search cannot settle ----------------------------------------------------


def test_a_term_found_in_a_field_name_makes_the_question_undecided():
    # Every event of CIS 3.1 has the key "errorCode" in its raw text, so the term filter matches
    # it there; the search keeps terms out of values only, builds an event the filter matches, and
    # cannot then claim either answer.
    with pytest.raises(TooComplex) as error:
        find_event(parse(CIS_31), [parse('"errorCode"')])
    assert (error.value.reason, error.value.position) == (INEXACT, 0)
    assert str(error.value) == f"could not decide {INEXACT} (at position 0)"
    assert covers('"errorCode"', [CIS_31]) == Coverage(False, None, None, undecided=INEXACT)


def test_a_term_with_no_key_left_to_carry_it_makes_the_question_undecided():
    # The witness must contain "q" (the filter matches events without it); the pattern's values
    # are all "a", and every key the search writes extra text under is taken.
    taken = '{ $.note = "a" && $.x-note = "a" && $.extra = "a" && $.zz = "a" }'
    with pytest.raises(TooComplex) as error:
        find_event(parse(taken), [parse("-q")])
    assert error.value.reason == INEXACT


@pytest.mark.parametrize("bound", ["1000000000000000", "10000000000000000000", "1e16"])
def test_a_filter_bounded_beyond_the_numbers_the_search_tries_is_not_credited(bound):
    # Every n > 5 below the bound is counted by the filter, n = bound is not: the filter does not
    # cover the pattern. The search tries numbers below 10^15 only, so it cannot show that event;
    # it must then say it could not decide, never that no such event exists.
    coverage = covers(f"{{ $.n < {bound} }}", ["{ $.n > 5 }"])
    assert (coverage.covered, coverage.undecided) == (False, BEYOND)


def test_a_number_beyond_the_search_s_range_is_harmless_when_an_event_is_found():
    assert covers("{ $.n < 1e16 && $.n > 7 }", ["{ $.n > 5 }"]) == Coverage(False, None, {"n": 6})


def test_a_search_deeper_than_the_stack_is_undecided_not_a_crash():
    # One level of the search per field it assumes: 300 fields (built as one pattern node, which
    # as text would pass CloudWatch's length limit), under 100 frames more than this test uses.
    fields = And(tuple(parse(f'{{ $.f{index} = "v" }}') for index in range(300)))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 100)
    try:
        with pytest.raises(TooComplex) as error:
            find_event(fields, [parse('{ $.g = "w" }')])
    finally:
        sys.setrecursionlimit(limit)
    assert error.value.reason == "within the search's depth bound"


# --- Several accepted patterns, and what is remembered ---------------------------------------


def test_the_second_accepted_pattern_covered_is_named_and_the_first_one_s_miss_dropped():
    assert covers('{ $.errorCode = "Access*" }', ['{ $.errorCode = "x*" }', '{ $.errorCode = "AccessDenied*" }']) == (
        Coverage(True, '{ $.errorCode = "AccessDenied*" }')
    )


def test_when_no_accepted_pattern_is_covered_the_first_one_s_miss_is_shown():
    assert covers('{ $.errorCode = "AccessDenied*" }', ['{ $.errorCode = "x*" }', '{ $.errorCode = "Access*" }']) == (
        Coverage(False, None, {"errorCode": "x"})
    )


def test_a_decided_question_is_answered_from_memory_and_an_undecided_one_is_not():
    with mock.patch.object(cis_pattern_coverage, "_decide", wraps=cis_pattern_coverage._decide) as decided:
        first = covers('{ $.errorCode = "AccessDenied*" }', [CIS_31])
        again = covers('{ $.errorCode = "AccessDenied*" }', [CIS_31])
        assert decided.call_count == 1
        covers('"errorCode"', [CIS_31])
        covers('"errorCode"', [CIS_31])
        assert decided.call_count == 3
    assert first == again == Coverage(False, None, {"errorCode": "UnauthorizedOperation"})


def test_a_caller_changing_the_event_it_was_given_does_not_change_the_remembered_one():
    narrowed = CIS_33.replace(" }", ' && $.userIdentity.arn = "arn:aws:iam::1:root" }')
    first = covers(narrowed, [CIS_33])
    assert first.missed is not None
    first.missed["userIdentity"]["type"] = "IAMUser"
    again = covers(narrowed, [CIS_33])
    assert again.missed is not None and again.missed["userIdentity"]["type"] == "Root"
