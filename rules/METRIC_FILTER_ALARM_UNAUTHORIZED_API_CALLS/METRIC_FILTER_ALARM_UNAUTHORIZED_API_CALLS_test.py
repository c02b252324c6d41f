"""Scenarios 1 and 2 of METRIC_FILTER_ALARM_UNAUTHORIZED_API_CALLS (CIS 3.1); the other links of the chain are
exercised once for all fourteen rules in tests/test_monitoring_chain.py."""

import METRIC_FILTER_ALARM_UNAUTHORIZED_API_CALLS as rule

from cispack.local.builders import add_chain, add_metric_filter
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import superset

EXACT = rule.METRIC_FILTER_ALARM_UNAUTHORIZED_API_CALLS.ACCEPTED_PATTERNS[0]
REWRITE = '{$.errorCode = AccessDenied* || $.errorCode = "*UnauthorizedOperation"}'
MISSING_TERM = '{ ($.errorCode = "*UnauthorizedOperation") }'


def chain(pattern):
    return lambda test: add_chain(test, pattern, filter_name="cis-3.1")


def given(*steps):
    def run(test):
        for step in steps:
            step(test)

    return run


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


COMPLIANT = account(
    "COMPLIANT",
    "Trail cis-trail feeds filter cis-3.1 on log group CloudTrail/cis; alarm cis-3.1-alarm notifies SNS topic "
    "cis-alarms, which has a confirmed subscription.",
)

CASES = [
    Case("exact_cis_pattern", chain(EXACT), expect=COMPLIANT),
    Case("equivalent_rewrite", chain(REWRITE), expect=COMPLIANT),
    Case("superset_with_extra_or_term", chain(superset(EXACT)), expect=COMPLIANT),
    # A filter whose repeat would blow the automaton up is refused when read and silences nothing.
    Case(
        "huge_repeat_beside_a_covering_filter",
        given(chain(EXACT), lambda test: add_metric_filter(test, "a-huge", "{ $.eventName = %a.{1000}% }")),
        expect=COMPLIANT,
    ),
    Case(
        "huge_repeat_alone",
        chain('{ ($.errorCode = %AccessDenied.{1000}%) || ($.errorCode = "*UnauthorizedOperation") }'),
        expect=account(
            "NON_COMPLIANT",
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.1 pattern; "
            "the closest, cis-3.1, could not be read (its bounded repeats spell out 1,000 characters, more than "
            "the 64 the pack decides).",
        ),
    ),
    Case(
        "missing_term",
        chain(MISSING_TERM),
        expect=account(
            "NON_COMPLIANT",
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.1 pattern; "
            'the closest, cis-3.1, misses {"errorCode": "AccessDenied"}.',
        ),
    ),
]


@data_driven(CASES)
class MetricFilterAlarmUnauthorizedApiCallsTest(RuleTestCase):
    rule_module = rule
    rule_name = "METRIC_FILTER_ALARM_UNAUTHORIZED_API_CALLS"
