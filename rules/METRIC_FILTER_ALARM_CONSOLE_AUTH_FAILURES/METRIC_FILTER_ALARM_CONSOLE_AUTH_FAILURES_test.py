"""Scenarios 1 and 2 of METRIC_FILTER_ALARM_CONSOLE_AUTH_FAILURES (CIS 3.6); the other links of the chain are
exercised once for all fourteen rules in tests/test_monitoring_chain.py."""

# Filter patterns stay on one line each, as CloudWatch Logs shows them.
# ruff: noqa: E501

import METRIC_FILTER_ALARM_CONSOLE_AUTH_FAILURES as rule

from cispack.local.builders import add_chain
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import superset

EXACT = rule.METRIC_FILTER_ALARM_CONSOLE_AUTH_FAILURES.ACCEPTED_PATTERNS[0]
REWRITE = '{ $.errorMessage = "Failed authentication" && $.eventName = "ConsoleLogin" }'
NARROWED = '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") && ($.userIdentity.type = "IAMUser") }'


def chain(pattern):
    return lambda test: add_chain(test, pattern, filter_name="cis-3.6")


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


COMPLIANT = account(
    "COMPLIANT",
    "Trail cis-trail feeds filter cis-3.6 on log group CloudTrail/cis; alarm cis-3.6-alarm notifies SNS topic "
    "cis-alarms, which has a confirmed subscription.",
)

CASES = [
    Case("exact_cis_pattern", chain(EXACT), expect=COMPLIANT),
    Case("equivalent_rewrite", chain(REWRITE), expect=COMPLIANT),
    Case("superset_with_extra_or_term", chain(superset(EXACT)), expect=COMPLIANT),
    Case(
        "narrowed_term",
        chain(NARROWED),
        expect=account(
            "NON_COMPLIANT",
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.6 pattern; "
            'the closest, cis-3.6, misses {"eventName": "ConsoleLogin", "errorMessage": "Failed authentication"}.',
        ),
    ),
]


@data_driven(CASES)
class MetricFilterAlarmConsoleAuthFailuresTest(RuleTestCase):
    rule_module = rule
    rule_name = "METRIC_FILTER_ALARM_CONSOLE_AUTH_FAILURES"
