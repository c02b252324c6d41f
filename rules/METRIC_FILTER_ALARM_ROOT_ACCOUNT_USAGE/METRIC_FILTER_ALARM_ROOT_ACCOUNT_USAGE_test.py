"""Scenarios 1 and 2 of METRIC_FILTER_ALARM_ROOT_ACCOUNT_USAGE (CIS 3.3); the other links of the chain are
exercised once for all fourteen rules in tests/test_monitoring_chain.py."""

import METRIC_FILTER_ALARM_ROOT_ACCOUNT_USAGE as rule

from cispack.local.builders import add_chain
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import superset

EXACT = rule.METRIC_FILTER_ALARM_ROOT_ACCOUNT_USAGE.ACCEPTED_PATTERNS[0]
REWRITE = (
    "{ ($.eventType != AwsServiceEvent) && (($.userIdentity.invokedBy NOT EXISTS) && ($.userIdentity.type = Root)) }"
)
NARROWED = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType = "AwsApiCall" }'


def chain(pattern):
    return lambda test: add_chain(test, pattern, filter_name="cis-3.3")


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


COMPLIANT = account(
    "COMPLIANT",
    "Trail cis-trail feeds filter cis-3.3 on log group CloudTrail/cis; alarm cis-3.3-alarm notifies SNS topic "
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
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.3 pattern; "
            'the closest, cis-3.3, misses {"userIdentity": {"type": "Root"}, "eventType": "x"}.',
        ),
    ),
]


@data_driven(CASES)
class MetricFilterAlarmRootAccountUsageTest(RuleTestCase):
    rule_module = rule
    rule_name = "METRIC_FILTER_ALARM_ROOT_ACCOUNT_USAGE"
