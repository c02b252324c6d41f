"""Scenarios 1 and 2 of METRIC_FILTER_ALARM_CLOUDTRAIL_CONFIG_CHANGES (CIS 3.5); the other links of the chain are
exercised once for all fourteen rules in tests/test_monitoring_chain.py."""

# Filter patterns stay on one line each, as CloudWatch Logs shows them.
# ruff: noqa: E501

import METRIC_FILTER_ALARM_CLOUDTRAIL_CONFIG_CHANGES as rule

from cispack.local.builders import add_chain
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import dimensioned_chain, superset

EXACT = rule.METRIC_FILTER_ALARM_CLOUDTRAIL_CONFIG_CHANGES.ACCEPTED_PATTERNS[0]
REWRITE = '{($.eventName="StopLogging")||($.eventName="StartLogging")||($.eventName="DeleteTrail")||($.eventName="UpdateTrail")||($.eventName="CreateTrail")}'
MISSING_TERM = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }"


def chain(pattern):
    return lambda test: add_chain(test, pattern, filter_name="cis-3.5")


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


COMPLIANT = account(
    "COMPLIANT",
    "Trail cis-trail feeds filter cis-3.5 on log group CloudTrail/cis; alarm cis-3.5-alarm notifies SNS topic "
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
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.5 pattern; "
            'the closest, cis-3.5, misses {"eventName": "StopLogging"}.',
        ),
    ),
    # The filter writes one series per event name; an alarm on CreateTrail's sees nothing else.
    Case(
        "alarm_on_one_event_name",
        dimensioned_chain(EXACT, "cis-3.5", {"EventName": "$.eventName"}, {"EventName": "CreateTrail"}),
        expect=account(
            "NON_COMPLIANT",
            "Alarm cis-3.5-alarm on metric CISBenchmark/cis-3.5 of filter cis-3.5 counts only events with "
            'EventName=CreateTrail, which miss events of the CIS 3.5 pattern, e.g. {"eventName": "UpdateTrail"}.',
        ),
    ),
]


@data_driven(CASES)
class MetricFilterAlarmCloudtrailConfigChangesTest(RuleTestCase):
    rule_module = rule
    rule_name = "METRIC_FILTER_ALARM_CLOUDTRAIL_CONFIG_CHANGES"
