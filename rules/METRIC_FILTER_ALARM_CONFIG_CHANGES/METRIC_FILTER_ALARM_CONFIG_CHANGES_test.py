"""Scenarios 1 and 2 of METRIC_FILTER_ALARM_CONFIG_CHANGES (CIS 3.9); the other links of the chain are
exercised once for all fourteen rules in tests/test_monitoring_chain.py."""

# Filter patterns stay on one line each, as CloudWatch Logs shows them.
# ruff: noqa: E501

import METRIC_FILTER_ALARM_CONFIG_CHANGES as rule

from cispack.local.builders import add_chain
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import superset

EXACT = rule.METRIC_FILTER_ALARM_CONFIG_CHANGES.ACCEPTED_PATTERNS[0]
REWRITE = '{ $.eventSource = "config.amazonaws.com" && ( $.eventName = "PutConfigurationRecorder" || $.eventName = "PutDeliveryChannel" || $.eventName = "DeleteDeliveryChannel" || $.eventName = "StopConfigurationRecorder" ) }'
MISSING_TERM = "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)) }"


def chain(pattern):
    return lambda test: add_chain(test, pattern, filter_name="cis-3.9")


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


COMPLIANT = account(
    "COMPLIANT",
    "Trail cis-trail feeds filter cis-3.9 on log group CloudTrail/cis; alarm cis-3.9-alarm notifies SNS topic "
    "cis-alarms, which has a confirmed subscription.",
)

CASES = [
    Case("exact_cis_pattern", chain(EXACT), expect=COMPLIANT),
    Case("equivalent_rewrite", chain(REWRITE), expect=COMPLIANT),
    Case("superset_with_extra_or_term", chain(superset(EXACT)), expect=COMPLIANT),
    Case(
        "missing_term",
        chain(MISSING_TERM),
        expect=account(
            "NON_COMPLIANT",
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.9 pattern; "
            'the closest, cis-3.9, misses {"eventSource": "config.amazonaws.com", "eventName": "PutConfigurationRecorder"}.',
        ),
    ),
]


@data_driven(CASES)
class MetricFilterAlarmConfigChangesTest(RuleTestCase):
    rule_module = rule
    rule_name = "METRIC_FILTER_ALARM_CONFIG_CHANGES"
