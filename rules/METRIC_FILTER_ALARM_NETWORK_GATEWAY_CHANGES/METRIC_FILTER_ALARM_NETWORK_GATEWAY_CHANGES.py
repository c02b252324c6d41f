"""CIS 3.12 — Ensure a log metric filter and alarm exist for changes to network gateways (Level 1, scored).

Trigger: periodic. Reports on: ``AWS::::Account`` (this account). Parameters:
``trustedTopicAccounts`` (optional): comma-separated account IDs whose SNS topics are trusted.

COMPLIANT when a multi-region, logging trail that logs all management events delivers to a
CloudWatch Logs log group holding a metric filter that covers one of ``ACCEPTED_PATTERNS``, with
an alarm (actions enabled) on the filter's metric that notifies an SNS topic with a confirmed
subscription. The chain and how it is judged: ``cis_monitoring``; what "covers" means:
``cis_pattern_coverage``.

Scenarios:
1. The chain exists with the exact CIS pattern, an equivalent rewrite (clause order, quoting,
   whitespace, parentheses) or a broader filter (extra OR terms): COMPLIANT, naming trail, filter,
   alarm and topic.
2. The filter lacks a term of every accepted pattern, or narrows one: NON_COMPLIANT, "No metric
   filter on log group ... covers the CIS 3.12 pattern", naming the filters that cannot be read or
   else the closest filter and an event it misses.
3. No trail, no multi-region trail, trail not logging, not all management events, no log group:
   NON_COMPLIANT naming that trail link.
4. No alarm on the filter's metric, an alarm that does not watch the series the filter writes
   (other dimension names, or a dimension value that leaves events of the pattern out), alarm
   actions disabled, no SNS action, no confirmed subscription, a topic of an account
   ``trustedTopicAccounts`` does not list: NON_COMPLIANT naming that link.
5. The only chains run through a trail or log group of another account (an organisation trail),
   or a topic of a trusted account: NOT_APPLICABLE naming that account.
6. A filter that cannot be decided within the decision's bound: NON_COMPLIANT "Could not
   evaluate: ...", the other filters still judged.
7. AccessDenied on any call: the account is NON_COMPLIANT ``Could not evaluate: ...`` and the
   invocation fails; throttling after retries: nothing sent, the invocation fails.
"""

# The filter patterns are kept verbatim on one line each, as the benchmark prints them.
# ruff: noqa: E501

from cis_monitoring import MetricFilterAlarmRule
from cis_rule import handle


class METRIC_FILTER_ALARM_NETWORK_GATEWAY_CHANGES(MetricFilterAlarmRule):
    CONTROL = "3.12"
    ACCEPTED_PATTERNS = (
        # CIS v1.2.0, 3.12 (Audit step 3); v1.3.0 to v5.0.0 4.12 and v6.0.0 5.12 have the same conditions.
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    )


def lambda_handler(event, context):
    return handle(METRIC_FILTER_ALARM_NETWORK_GATEWAY_CHANGES(), event, context)
