"""Scenarios 1 and 2 of METRIC_FILTER_ALARM_VPC_CHANGES (CIS 3.14); the other links of the chain are
exercised once for all fourteen rules in tests/test_monitoring_chain.py."""

# Filter patterns stay on one line each, as CloudWatch Logs shows them.
# ruff: noqa: E501

import METRIC_FILTER_ALARM_VPC_CHANGES as rule

from cispack.local.builders import add_chain
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import superset

EXACT = rule.METRIC_FILTER_ALARM_VPC_CHANGES.ACCEPTED_PATTERNS[0]
REWRITE = '{ $.eventName = "EnableVpcClassicLink" || $.eventName = "DisableVpcClassicLink" || $.eventName = "DetachClassicLinkVpc" || $.eventName = "AttachClassicLinkVpc" || $.eventName = "RejectVpcPeeringConnection" || $.eventName = "DeleteVpcPeeringConnection" || $.eventName = "CreateVpcPeeringConnection" || $.eventName = "AcceptVpcPeeringConnection" || $.eventName = "ModifyVpcAttribute" || $.eventName = "DeleteVpc" || $.eventName = "CreateVpc" }'
MISSING_TERM = "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) }"


def chain(pattern):
    return lambda test: add_chain(test, pattern, filter_name="cis-3.14")


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


COMPLIANT = account(
    "COMPLIANT",
    "Trail cis-trail feeds filter cis-3.14 on log group CloudTrail/cis; alarm cis-3.14-alarm notifies SNS topic "
    "cis-alarms, which has a confirmed subscription.",
)

CASES = [
    Case("exact_cis_pattern", chain(EXACT), expect=COMPLIANT),
    Case("equivalent_rewrite", chain(REWRITE), expect=COMPLIANT),
    Case("superset_with_extra_or_term", chain(superset(EXACT)), expect=COMPLIANT),
    # A backtracking engine never finished this search on a sample event: the automata are linear.
    Case(
        "superset_with_a_chain_of_dot_stars",
        chain(superset(EXACT, "($.eventName = %" + ".*" * 10 + "Q%)")),
        expect=COMPLIANT,
    ),
    Case(
        "missing_term",
        chain(MISSING_TERM),
        expect=account(
            "NON_COMPLIANT",
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.14 pattern; "
            'the closest, cis-3.14, misses {"eventName": "EnableVpcClassicLink"}.',
        ),
    ),
]


@data_driven(CASES)
class MetricFilterAlarmVpcChangesTest(RuleTestCase):
    rule_module = rule
    rule_name = "METRIC_FILTER_ALARM_VPC_CHANGES"
