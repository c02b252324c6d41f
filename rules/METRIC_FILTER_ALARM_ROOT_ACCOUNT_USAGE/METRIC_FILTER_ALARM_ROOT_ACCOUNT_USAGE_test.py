"""Scenarios 1 and 2 of METRIC_FILTER_ALARM_ROOT_ACCOUNT_USAGE (CIS 3.3); the other links of the chain are
exercised once for all fourteen rules in tests/test_monitoring_chain.py."""

import METRIC_FILTER_ALARM_ROOT_ACCOUNT_USAGE as rule

from cispack.local.builders import add_chain
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import dimensioned_chain, superset

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
    # An alarm's dimension value is one more condition on the events it counts.
    Case(
        "alarm_on_the_dimension_value_every_root_event_has",
        dimensioned_chain(EXACT, "cis-3.3", {"Type": "$.userIdentity.type"}, {"Type": "Root"}),
        expect=COMPLIANT,
    ),
    Case(
        "alarm_on_one_account_only",
        dimensioned_chain(EXACT, "cis-3.3", {"Account": "$.recipientAccountId"}, {"Account": "111122223333"}),
        expect=account(
            "NON_COMPLIANT",
            "Alarm cis-3.3-alarm on metric CISBenchmark/cis-3.3 of filter cis-3.3 counts only events with "
            "Account=111122223333, which miss events of the CIS 3.3 pattern, e.g. "
            '{"userIdentity": {"type": "Root"}, "eventType": "x"}.',
        ),
    ),
    Case(
        "alarm_without_the_filters_dimensions",
        dimensioned_chain(EXACT, "cis-3.3", {"Type": "$.userIdentity.type"}, {}),
        expect=account(
            "NON_COMPLIANT",
            "No alarm watches the series of metric CISBenchmark/cis-3.3 of filter cis-3.3 (written with Type): "
            "alarm cis-3.3-alarm names no dimensions, so it sees none of them.",
        ),
    ),
]


@data_driven(CASES)
class MetricFilterAlarmRootAccountUsageTest(RuleTestCase):
    rule_module = rule
    rule_name = "METRIC_FILTER_ALARM_ROOT_ACCOUNT_USAGE"
