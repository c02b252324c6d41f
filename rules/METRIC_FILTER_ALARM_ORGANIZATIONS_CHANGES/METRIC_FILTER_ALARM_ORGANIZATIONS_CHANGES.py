"""CIS v1.4.0 4.15 — Ensure a log metric filter and alarm exists for AWS Organizations changes
(Level 1, automated); v2.0.0-v5.0.0 4.15 and v6.0.0 5.15 "Ensure AWS Organizations changes are
monitored" (Level 1, manual: a SIEM may stand in for the alarm). Not a CIS v1.2.0 recommendation.

Trigger: periodic. Reports on: ``AWS::::Account`` (this account). Parameters: none.

COMPLIANT when a multi-region, logging trail that logs all management events delivers to a
CloudWatch Logs log group holding a metric filter that covers ``ACCEPTED_PATTERNS``, with an alarm
(actions enabled) on the filter's metric that notifies an SNS topic with a confirmed subscription.
The chain and how it is judged: ``cis_monitoring``, exactly as for CIS v1.2.0 3.1-3.14; what
"covers" means: ``cis_pattern_coverage``.

Scenarios:
1. The chain exists with the exact CIS pattern, an equivalent rewrite (clause order, quoting,
   whitespace, parentheses) or a broader filter (extra OR terms, or no eventSource condition):
   COMPLIANT, naming trail, filter, alarm and topic.
2. The filter lacks one of the 18 event names, or narrows the pattern (another event source):
   NON_COMPLIANT, "No metric filter on log group ... covers the CIS 4.15 pattern", naming the
   closest filter and an event it misses.
3. No trail, no multi-region trail, trail not logging, not all management events, no log group:
   NON_COMPLIANT naming that trail link.
4. No alarm on the filter's metric, alarm actions disabled, no SNS action, no confirmed
   subscription: NON_COMPLIANT naming that link.
5. The only chains run through a trail, log group or topic of another account (an organisation
   trail): NOT_APPLICABLE naming that account.
6. AccessDenied on any call: the account is NON_COMPLIANT ``Could not evaluate: ...`` and the invocation
   fails; throttling after retries: nothing sent, the invocation fails.
"""

# The filter pattern is kept verbatim on one line, as the benchmark prints it.
# ruff: noqa: E501

from cis_monitoring import MetricFilterAlarmRule
from cis_rule import handle


class METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES(MetricFilterAlarmRule):
    # The recommendation's number in v1.4.0-v5.0.0 (v6.0.0: 5.15), shown in the annotations.
    CONTROL = "4.15"
    ACCEPTED_PATTERNS = (
        # CIS v1.4.0-v5.0.0 4.15 and v6.0.0 5.15, Audit step 3 and Remediation step 1, as reproduced in
        # mitre/aws-foundations-cis-baseline (controls/aws-foundations-cis-4.15.rb) and
        # turbot/steampipe-mod-aws-compliance (cis_v*/docs); the same 18 event names in every version.
        '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }',
    )


def lambda_handler(event, context):
    return handle(METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES(), event, context)
