"""Scenarios of METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES (CIS v1.4.0-v5.0.0 4.15, v6.0.0 5.15); the
links of the chain it shares with the fourteen CIS v1.2.0 monitoring rules are exercised for all of
them in tests/test_monitoring_chain.py, and the ones below for this rule."""

import METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES as rule

from cispack.local.builders import add_chain, add_log_group, add_metric_filter, add_topic
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import superset

EXACT = rule.METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES.ACCEPTED_PATTERNS[0]
EVENT_NAMES = (
    "AcceptHandshake AttachPolicy CreateAccount CreateOrganizationalUnit CreatePolicy DeclineHandshake "
    "DeleteOrganization DeleteOrganizationalUnit DeletePolicy DetachPolicy DisablePolicyType EnablePolicyType "
    "InviteAccountToOrganization LeaveOrganization MoveAccount RemoveAccountFromOrganization UpdatePolicy "
    "UpdateOrganizationalUnit"
).split()
# Bare words, reversed order, no redundant parentheses: the same events.
REWRITE = (
    "{ ("
    + " || ".join(f"$.eventName = {name}" for name in reversed(EVENT_NAMES))
    + ') && $.eventSource = "organizations.amazonaws.com" }'
)
# Every one of these calls, from any event source: broader, still covers.
ANY_SOURCE = "{ " + " || ".join(f'$.eventName = "{name}"' for name in EVENT_NAMES) + " }"
MISSING_TERM = EXACT.replace('($.eventName = "MoveAccount") || ', "")
OTHER_SOURCE = EXACT.replace("organizations.amazonaws.com", "account.amazonaws.com")


def chain(pattern):
    return lambda test: add_chain(test, pattern, filter_name="cis-4.15")


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


def filter_without_alarm(test):
    add_chain(test, EXACT, filter_name="cis-4.15")
    test.client("cloudwatch").delete_alarms(AlarmNames=["cis-4.15-alarm"])


def filter_without_trail(test):
    add_topic(test, "cis-alarms")
    add_log_group(test, "CloudTrail/cis")
    add_metric_filter(test, "cis-4.15", EXACT, log_group="CloudTrail/cis")


COMPLIANT = account(
    "COMPLIANT",
    "Trail cis-trail feeds filter cis-4.15 on log group CloudTrail/cis; alarm cis-4.15-alarm notifies SNS topic "
    "cis-alarms, which has a confirmed subscription.",
)

CASES = [
    Case("exact_cis_pattern", chain(EXACT), expect=COMPLIANT),
    Case("equivalent_rewrite", chain(REWRITE), expect=COMPLIANT),
    Case("superset_with_extra_or_term", chain(superset(EXACT)), expect=COMPLIANT),
    Case("broader_without_event_source", chain(ANY_SOURCE), expect=COMPLIANT),
    Case(
        "missing_event_name",
        chain(MISSING_TERM),
        expect=account(
            "NON_COMPLIANT",
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 4.15 pattern; "
            'the closest, cis-4.15, misses {"eventSource": "organizations.amazonaws.com", "eventName": "MoveAccount"}.',
        ),
    ),
    Case(
        "other_event_source",
        chain(OTHER_SOURCE),
        expect=account(
            "NON_COMPLIANT",
            "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 4.15 pattern; "
            'the closest, cis-4.15, misses {"eventSource": "organizations.amazonaws.com", '
            '"eventName": "AcceptHandshake"}.',
        ),
    ),
    Case(
        "no_trail", filter_without_trail, expect=account("NON_COMPLIANT", "No CloudTrail trail exists in this account.")
    ),
    Case(
        "filter_without_alarm",
        filter_without_alarm,
        expect=account(
            "NON_COMPLIANT", "No alarm on metric CISBenchmark/cis-4.15 of filter cis-4.15 on log group CloudTrail/cis."
        ),
    ),
    Case(
        "access_denied",
        lambda test: test.respond("cloudtrail", "DescribeTrails", error="AccessDenied", status=403),
        error="AccessDenied",
        # Fail closed where users look: the account is NON_COMPLIANT "Could not evaluate".
        expect=account("NON_COMPLIANT", "Could not evaluate: cloudtrail:DescribeTrails was denied (AccessDenied)."),
    ),
]


@data_driven(CASES)
class MetricFilterAlarmOrganizationsChangesTest(RuleTestCase):
    rule_module = rule
    rule_name = "METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES"

    def test_the_pattern_names_the_18_event_names_of_the_benchmark(self):
        for name in EVENT_NAMES:
            self.assertIn(f'($.eventName = "{name}")', EXACT)
        self.assertEqual(18, EXACT.count("$.eventName"))
        self.assertIn("($.eventSource = organizations.amazonaws.com) && ", EXACT)
