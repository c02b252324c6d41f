"""Every link of the CIS 3.x monitoring chain, judged through one of the fourteen rules (3.1).

The rules differ only in their control and accepted patterns (each rule's own test covers those);
the chain, its discovery and its annotations are shared (``rulelib/cis_monitoring.py``), so they
are exercised once here: each broken link NON_COMPLIANT with its exact annotation, a trail homed
in another region, chains owned by another account, two pages of each paginated listing,
AccessDenied on every call, and what one evaluation costs in calls.

Paging: ``DescribeMetricFilters``, ``DescribeAlarms`` (the fallback for metrics with dimensions)
and ``ListSubscriptionsByTopic`` are paginated and each has a two-page test. ``DescribeTrails`` and
``DescribeAlarmsForMetric`` have no pagination in the API (no token, no boto3 paginator), so they
have none.
"""

from __future__ import annotations

from unittest import mock

import cis_pattern_coverage
from cispack.catalog.rules import import_rule_module
from cispack.local.builders import (
    ACCOUNT_ID,
    LOG_GROUP,
    TOPIC,
    Chain,
    add_alarm,
    add_chain,
    add_metric_filter,
    add_topic,
    add_trail,
    log_group_arn,
    topic_arn,
)
from cispack.testing.cases import REGION, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.monitoring import compliant_annotation, pending_subscriptions

NAME = "METRIC_FILTER_ALARM_UNAUTHORIZED_API_CALLS"
rule = import_rule_module(NAME)
PATTERN = rule.METRIC_FILTER_ALARM_UNAUTHORIZED_API_CALLS.ACCEPTED_PATTERNS[0]
OTHER_ACCOUNT = "999988887777"
OTHER_REGION = "eu-west-1"
UNREADABLE = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*" }'
UNRELATED = "{ $.eventName = CreateUser }"
# Cover (or not) only when the search says so: neither equals the CIS pattern nor misses a sample.
NEEDS_SEARCH = "{ $.errorCode = %Unauthorized|^AccessDenied% }"
NARROW_SEARCH = "{ $.errorCode = %Unauthorized|^AccessDenied$% }"
METRIC = "CISBenchmark/cis-filter"
METRIC_NAME = "cis-filter"


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


def missing(annotation):
    return account("NON_COMPLIANT", annotation)


def foreign(annotation):
    return account("NOT_APPLICABLE", annotation)


def compliant(plural=False, **names):
    defaults = {
        "trail": "cis-trail",
        "log_group": LOG_GROUP,
        "filter": "cis-filter",
        "metric": "cis-filter",
        "alarm": "cis-filter-alarm",
        "topic": TOPIC,
        "topic_arn": topic_arn(),
    }
    text = compliant_annotation(Chain(**{**defaults, **names}))
    return account("COMPLIANT", text.replace(" feeds filter ", " feeds filters ") if plural else text)


def chain_without_trail(pattern=PATTERN, region=REGION):
    """Log group, filter, alarm and topic, for cases that build the trail themselves."""
    return lambda test: add_chain(test, pattern, with_trail=False, region=region)


def given(*steps):
    def run(test):
        for step in steps:
            step(test)

    return run


def trail(**kwargs):
    return lambda test: add_trail(test, **kwargs)


def filter_(name, pattern):
    return lambda test: add_metric_filter(test, name, pattern)


def alarm(name, metric="cis-filter", **kwargs):
    return lambda test: add_alarm(test, name, metric, **kwargs)


def topic(name=TOPIC, subscribers=1):
    return lambda test: add_topic(test, name, subscribers=subscribers)


def respond(service, operation, response=None, **kwargs):
    return lambda test: test.respond(service, operation, response, **kwargs)


def org_trail_description(name="org-trail", owner=OTHER_ACCOUNT, multi_region=True):
    return {
        "Name": name,
        "TrailARN": f"arn:aws:cloudtrail:{REGION}:{owner}:trail/{name}",
        "HomeRegion": REGION,
        "IsMultiRegionTrail": multi_region,
        "IsOrganizationTrail": True,
        "S3BucketName": "org-cloudtrail-logs",
        "CloudWatchLogsLogGroupArn": log_group_arn("aws-controltower/CloudTrailLogs", REGION, owner),
        "CloudWatchLogsRoleArn": f"arn:aws:iam::{owner}:role/CloudTrailRole",
    }


def trail_to_foreign_log_group(name):
    """A logging multi-region trail of this account delivering to log group ``name`` of another account."""

    def build(test):
        test.client("s3").create_bucket(Bucket="cis-trail-logs")
        test.client("cloudtrail").create_trail(
            Name="cis-trail",
            S3BucketName="cis-trail-logs",
            IsMultiRegionTrail=True,
            CloudWatchLogsLogGroupArn=log_group_arn(name, REGION, OTHER_ACCOUNT),
            CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/CloudTrail_CloudWatchLogs_Role",
        )
        test.client("cloudtrail").put_event_selectors(
            TrailName="cis-trail", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
        )
        test.client("cloudtrail").start_logging(Name="cis-trail")

    return build


def with_org_trail(test):
    """moto's own trails plus an organisation trail of the management account: a member's view."""
    own = test.client("cloudtrail").describe_trails(includeShadowTrails=True)["trailList"]
    keys = ("Name", "TrailARN", "HomeRegion", "IsMultiRegionTrail", "IsOrganizationTrail", "S3BucketName")
    trails = [{k: t[k] for k in (*keys, "CloudWatchLogsLogGroupArn") if k in t} for t in own]
    test.respond("cloudtrail", "DescribeTrails", {"trailList": [*trails, org_trail_description()]})


NO_COVER = "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.1 pattern."
TYPO_REASON = "expected ')' to close the '(' at position 46 but found '}'"

CASES = [
    Case("complete_chain", lambda test: add_chain(test, PATTERN), expect=compliant()),
    # 1. the trail
    Case("no_trail", chain_without_trail(), expect=missing("No CloudTrail trail exists in this account.")),
    Case(
        "single_region_trail",
        given(chain_without_trail(), trail(multi_region=False)),
        expect=missing("Trail cis-trail is not a multi-region trail."),
    ),
    Case(
        "trail_not_logging",
        given(chain_without_trail(), trail(logging=False)),
        expect=missing("Multi-region trail cis-trail is not logging."),
    ),
    Case(
        "selectors_write_only",
        given(chain_without_trail(), trail(event_selectors=[{"ReadWriteType": "WriteOnly"}])),
        expect=missing("Multi-region trail cis-trail does not log all management events, read and write."),
    ),
    Case(
        "selectors_without_management_events",
        given(
            chain_without_trail(),
            trail(event_selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": False}]),
        ),
        expect=missing("Multi-region trail cis-trail does not log all management events, read and write."),
    ),
    Case(
        "advanced_selectors_all_management_events",
        given(
            chain_without_trail(),
            trail(
                advanced_event_selectors=[
                    {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
                ]
            ),
        ),
        expect=compliant(),
    ),
    Case(
        "advanced_selectors_read_only",
        given(
            chain_without_trail(),
            trail(
                advanced_event_selectors=[
                    {
                        "Name": "management reads",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Management"]},
                            {"Field": "readOnly", "Equals": ["true"]},
                        ],
                    }
                ]
            ),
        ),
        expect=missing("Multi-region trail cis-trail does not log all management events, read and write."),
    ),
    Case(
        "trail_without_log_group",
        given(chain_without_trail(), trail(log_group=None)),
        expect=missing("Multi-region trail cis-trail does not deliver to a CloudWatch Logs log group."),
    ),
    Case(
        "furthest_trail_is_named",
        given(chain_without_trail(), trail(name="a-regional", multi_region=False), trail(logging=False)),
        expect=missing("Multi-region trail cis-trail is not logging."),
    ),
    Case(
        "trail_homed_in_another_region",
        lambda test: add_chain(test, PATTERN, region=OTHER_REGION),
        expect=compliant(),
    ),
    # 2. the log group and its metric filters
    Case(
        "log_group_deleted",
        given(
            lambda test: add_chain(test, PATTERN),
            respond("logs", "DescribeMetricFilters", error="ResourceNotFoundException", message="gone"),
        ),
        expect=missing("Log group CloudTrail/cis of trail cis-trail does not exist in us-east-1."),
    ),
    Case("no_filter", given(trail()), expect=missing(NO_COVER[:-1] + "; the log group has no metric filter.")),
    Case(
        "no_matching_filter",
        lambda test: add_chain(test, UNRELATED),
        expect=missing(
            NO_COVER[:-1] + """; no filter tests this control's events, e.g. {"errorCode": "UnauthorizedOperation"}."""
        ),
    ),
    Case(
        "closest_filter_and_the_event_it_misses",
        given(
            lambda test: add_chain(test, UNRELATED, filter_name="a-unrelated"),
            filter_("b-near", '{ $.errorCode = "AccessDenied*" }'),
            filter_("c-near-too", '{ $.errorCode = "AccessDenied*" && $.eventName = "HeadBucket" }'),
        ),
        expect=missing(NO_COVER[:-1] + '; the closest, b-near, misses {"errorCode": "UnauthorizedOperation"}.'),
    ),
    Case(
        "unparseable_filter",
        lambda test: add_chain(test, UNREADABLE, filter_name="typo"),
        expect=missing(NO_COVER[:-1] + f"; the closest, typo, could not be read ({TYPO_REASON})."),
    ),
    Case(
        "unparseable_filters",
        given(lambda test: add_chain(test, UNREADABLE, filter_name="typo"), filter_("typo-2", "{ $.a = }")),
        expect=missing(NO_COVER[:-1] + f"; the closest, typo, could not be read ({TYPO_REASON})."),
    ),
    Case(
        "unreadable_filter_of_another_control_is_not_blamed",
        given(
            lambda test: add_chain(test, UNRELATED, filter_name="a-unrelated"),
            filter_("b-broken-3.6", '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication" }'),
            filter_("c-near", '{ $.errorCode = "AccessDenied*" }'),
        ),
        expect=missing(NO_COVER[:-1] + '; the closest, c-near, misses {"errorCode": "UnauthorizedOperation"}.'),
    ),
    Case(
        "two_filters_one_metric_cover_together",
        given(
            lambda test: add_chain(test, '{ $.errorCode = "*UnauthorizedOperation" }', filter_name="cis-filter"),
            lambda test: add_metric_filter(
                test, "cis-filter-2", '{ $.errorCode = "AccessDenied*" }', metric=METRIC_NAME
            ),
        ),
        expect=compliant(filter="cis-filter and cis-filter-2", plural=True),
    ),
    Case(
        "two_filters_two_metrics_do_not_cover",
        given(
            lambda test: add_chain(test, '{ $.errorCode = "*UnauthorizedOperation" }', filter_name="cis-filter"),
            filter_("cis-filter-2", '{ $.errorCode = "AccessDenied*" }'),
        ),
        expect=missing(NO_COVER[:-1] + '; the closest, cis-filter, misses {"errorCode": "AccessDenied"}.'),
    ),
    Case(
        "unparseable_filter_beside_a_covering_one",
        given(lambda test: add_chain(test, PATTERN), filter_("a-typo", UNREADABLE)),
        expect=compliant(),
    ),
    # 3. the alarm
    Case(
        "alarm_on_another_metric",
        given(trail(), filter_("cis-filter", PATTERN), topic(), alarm("other", metric="other", actions=[topic_arn()])),
        expect=missing(f"No alarm on metric {METRIC} of filter cis-filter on log group CloudTrail/cis."),
    ),
    Case(
        "alarm_in_another_namespace",
        given(trail(), filter_("cis-filter", PATTERN), topic(), alarm("x", namespace="Custom", actions=[topic_arn()])),
        expect=missing(f"No alarm on metric {METRIC} of filter cis-filter on log group CloudTrail/cis."),
    ),
    Case(
        "alarm_actions_disabled",
        given(
            trail(), filter_("cis-filter", PATTERN), topic(), alarm("a", actions=[topic_arn()], actions_enabled=False)
        ),
        expect=missing(f"Alarm a on metric {METRIC} of filter cis-filter has its actions disabled."),
    ),
    # Ties: the first trail by ARN, filter by name, alarm by name is the one named.
    Case(
        "two_alarms_with_actions_disabled",
        given(
            trail(),
            filter_("cis-filter", PATTERN),
            topic(),
            alarm("b", actions=[topic_arn()], actions_enabled=False),
            alarm("a", actions=[topic_arn()], actions_enabled=False),
        ),
        expect=missing(f"Alarm a on metric {METRIC} of filter cis-filter has its actions disabled."),
    ),
    Case(
        "two_trails_not_logging",
        given(chain_without_trail(), trail(name="trail-b", logging=False), trail(name="trail-a", logging=False)),
        expect=missing("Multi-region trail trail-a is not logging."),
    ),
    Case(
        "alarm_action_not_sns",
        given(trail(), filter_("cis-filter", PATTERN), alarm("a", actions=["arn:aws:automate:us-east-1:ec2:stop"])),
        expect=missing(f"Alarm a on metric {METRIC} of filter cis-filter notifies no SNS topic."),
    ),
    Case(
        "alarm_without_actions",
        given(trail(), filter_("cis-filter", PATTERN), alarm("a")),
        expect=missing(f"Alarm a on metric {METRIC} of filter cis-filter notifies no SNS topic."),
    ),
    Case(
        "furthest_alarm_is_named",
        given(
            trail(),
            filter_("cis-filter", PATTERN),
            topic(subscribers=0),
            alarm("a-disabled", actions=[topic_arn()], actions_enabled=False),
            alarm("b-unsubscribed", actions=[topic_arn()]),
        ),
        expect=missing("SNS topic cis-alarms of alarm b-unsubscribed has no confirmed subscription."),
    ),
    # 4. the topic
    Case(
        "topic_without_subscriptions",
        given(trail(), filter_("cis-filter", PATTERN), topic(subscribers=0), alarm("a", actions=[topic_arn()])),
        expect=missing("SNS topic cis-alarms of alarm a has no confirmed subscription."),
    ),
    Case(
        "topic_with_pending_subscription_only",
        given(
            lambda test: add_chain(test, PATTERN), respond("sns", "ListSubscriptionsByTopic", pending_subscriptions())
        ),
        expect=missing("SNS topic cis-alarms of alarm cis-filter-alarm has no confirmed subscription."),
    ),
    Case(
        "topic_deleted",
        given(trail(), filter_("cis-filter", PATTERN), alarm("a", actions=[topic_arn("gone")])),
        expect=missing("SNS topic gone of alarm a does not exist."),
    ),
    Case(
        "second_topic_of_the_alarm_is_subscribed",
        given(
            trail(),
            filter_("cis-filter", PATTERN),
            topic("quiet", subscribers=0),
            topic(),
            alarm("cis-filter-alarm", actions=[topic_arn("quiet"), topic_arn()]),
        ),
        expect=compliant(),
    ),
    # Another account's chain
    Case(
        "organisation_trail_of_another_account",
        given(chain_without_trail(), with_org_trail),
        expect=foreign(
            f"Trail org-trail is owned by account {OTHER_ACCOUNT}, so its monitoring chain cannot be verified "
            "from this account."
        ),
    ),
    Case(
        "organisation_trail_and_a_broken_local_chain",
        given(trail(), filter_("cis-filter", PATTERN), with_org_trail),
        expect=foreign(
            f"Trail org-trail is owned by account {OTHER_ACCOUNT}, so its monitoring chain cannot be verified "
            "from this account."
        ),
    ),
    Case(
        "organisation_trail_and_a_complete_local_chain",
        given(lambda test: add_chain(test, PATTERN), with_org_trail),
        expect=compliant(),
    ),
    Case(
        "log_group_of_another_account",
        given(chain_without_trail(), trail_to_foreign_log_group("central")),
        expect=foreign(
            f"Log group central of trail cis-trail is owned by account {OTHER_ACCOUNT}, so its metric filters "
            "cannot be verified from this account."
        ),
    ),
    Case(
        # The local log group of the same name, with a complete chain, is not the one the trail feeds.
        "log_group_of_another_account_named_like_a_local_one",
        given(chain_without_trail(), trail_to_foreign_log_group(LOG_GROUP)),
        expect=foreign(
            f"Log group {LOG_GROUP} of trail cis-trail is owned by account {OTHER_ACCOUNT}, so its metric filters "
            "cannot be verified from this account."
        ),
    ),
    Case(
        "topic_of_another_account",
        given(
            trail(), filter_("cis-filter", PATTERN), alarm("a", actions=[topic_arn("central", REGION, OTHER_ACCOUNT)])
        ),
        expect=missing(
            f"SNS topic central of alarm a is owned by account {OTHER_ACCOUNT}, which the rule parameter "
            "trustedTopicAccounts does not list."
        ),
    ),
    Case(
        "topic_of_a_trusted_account",
        given(
            trail(), filter_("cis-filter", PATTERN), alarm("a", actions=[topic_arn("central", REGION, OTHER_ACCOUNT)])
        ),
        parameters={"trustedTopicAccounts": f"111122223333, {OTHER_ACCOUNT}"},
        expect=foreign(
            f"SNS topic central of alarm a is owned by account {OTHER_ACCOUNT}, so its subscriptions cannot be "
            "verified from this account."
        ),
    ),
    Case(
        "topic_of_an_account_other_than_the_trusted_one",
        given(
            trail(), filter_("cis-filter", PATTERN), alarm("a", actions=[topic_arn("central", REGION, OTHER_ACCOUNT)])
        ),
        parameters={"trustedTopicAccounts": "111122223333"},
        expect=missing(
            f"SNS topic central of alarm a is owned by account {OTHER_ACCOUNT}, which the rule parameter "
            "trustedTopicAccounts does not list."
        ),
    ),
    Case(
        "trusted_topic_accounts_not_account_ids",
        lambda test: add_chain(test, PATTERN),
        parameters={"trustedTopicAccounts": "9999-8888"},
        error="trustedTopicAccounts must be a comma-separated list of 12-digit account IDs; '9999-8888' is not one.",
    ),
    # The alarm must watch the series the filter writes (metric, namespace and dimension names).
    Case(
        "alarm_without_the_dimensions_the_filter_writes",
        given(
            trail(),
            topic(),
            lambda test: add_metric_filter(test, "cis-filter", PATTERN, dimensions={"EventName": "$.eventName"}),
            alarm("cis-filter-alarm", actions=[topic_arn()]),
        ),
        expect=missing(
            "No alarm watches the series of metric CISBenchmark/cis-filter of filter cis-filter (written with "
            "EventName): alarm cis-filter-alarm names no dimensions, so it sees none of them."
        ),
    ),
    Case(
        "alarm_on_one_dimension_value",
        given(
            trail(),
            topic(),
            lambda test: add_metric_filter(test, "cis-filter", PATTERN, dimensions={"Code": "$.errorCode"}),
            alarm("denied", actions=[topic_arn()], dimensions=[{"Name": "Code", "Value": "AccessDenied"}]),
        ),
        expect=missing(
            "Alarm denied on metric CISBenchmark/cis-filter of filter cis-filter counts only events with "
            'Code=AccessDenied, which miss events of the CIS 3.1 pattern, e.g. {"errorCode": '
            '"UnauthorizedOperation"}.'
        ),
    ),
    Case(
        "alarm_with_dimensions_on_a_filter_without",
        given(
            trail(),
            topic(),
            filter_("cis-filter", PATTERN),
            # AWS answers only alarms without dimensions here; the rule checks rather than trusts it.
            lambda test: test.respond(
                "cloudwatch",
                "DescribeAlarmsForMetric",
                {"MetricAlarms": [_alarm_item("by-user", "cis-filter", [topic_arn()])]},
            ),
        ),
        expect=missing(
            "No alarm watches the series of metric CISBenchmark/cis-filter of filter cis-filter (written with no "
            "dimensions): alarm by-user names user, so it sees none of them."
        ),
    ),
    # Fail closed where users look (CONTROLS.md, "When a rule cannot judge"): a denial is the
    # account's NON_COMPLIANT "Could not evaluate", and the invocation fails.
    *[
        Case(
            f"access_denied_on_{operation}",
            given(lambda test: add_chain(test, PATTERN), respond(service, operation, error=code, status=403)),
            error=code,
            expect=[
                Verdict(
                    "AWS::::Account",
                    ACCOUNT_ID,
                    "NON_COMPLIANT",
                    f"Could not evaluate: {service}:{operation} was denied ({code}).",
                )
            ],
        )
        for service, operation, code in (
            ("cloudtrail", "DescribeTrails", "AccessDeniedException"),
            ("cloudtrail", "GetTrailStatus", "AccessDeniedException"),
            ("cloudtrail", "GetEventSelectors", "AccessDeniedException"),
            ("logs", "DescribeMetricFilters", "AccessDeniedException"),
            ("cloudwatch", "DescribeAlarmsForMetric", "AccessDenied"),
            ("sns", "ListSubscriptionsByTopic", "AuthorizationError"),
        )
    ],
    Case(
        "throttled_metric_filters",
        given(lambda test: add_chain(test, PATTERN), respond("logs", "DescribeMetricFilters", error="Throttling")),
        error="Throttling",
    ),
    Case(
        "unknown_parameter",
        lambda test: add_chain(test, PATTERN),
        parameters={"pattern": "x"},
        error="Unknown rule parameter pattern",
    ),
]


def _filter_item(name, pattern, metric=None, dimensions=None):
    transformation = {"metricName": metric or name, "metricNamespace": "CISBenchmark", "metricValue": "1"}
    if dimensions:
        transformation["dimensions"] = dimensions
    return {
        "filterName": name,
        "filterPattern": pattern,
        "logGroupName": LOG_GROUP,
        "metricTransformations": [transformation],
    }


def _alarm_item(name, metric, actions):
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{name}",
        "MetricName": metric,
        "Namespace": "CISBenchmark",
        "ActionsEnabled": True,
        "AlarmActions": list(actions),
        "Dimensions": [{"Name": "user", "Value": "alice"}],
    }


def _subscription(arn):
    return {"SubscriptionArn": arn, "Owner": ACCOUNT_ID, "Protocol": "sqs", "Endpoint": "q", "TopicArn": topic_arn()}


@data_driven(CASES)
class MonitoringChainTest(RuleTestCase):
    rule_module = rule
    rule_name = NAME

    def calls(self, *operations):
        return {operation: self.count_calls(service, operation) for service, operation in operations}

    def test_one_evaluation_costs_six_calls(self):
        add_chain(self, PATTERN)
        add_metric_filter(self, "unrelated", UNRELATED)
        seen = self.calls(
            ("cloudtrail", "DescribeTrails"),
            ("cloudtrail", "GetTrailStatus"),
            ("cloudtrail", "GetEventSelectors"),
            ("logs", "DescribeMetricFilters"),
            ("cloudwatch", "DescribeAlarmsForMetric"),
            ("cloudwatch", "DescribeAlarms"),
            ("sns", "ListSubscriptionsByTopic"),
        )
        self.assertEqual(compliant(), self.run_rule().verdicts)
        self.assertEqual(
            {
                "DescribeTrails": 1,
                "GetTrailStatus": 1,
                "GetEventSelectors": 1,
                "DescribeMetricFilters": 1,
                "DescribeAlarmsForMetric": 1,
                "DescribeAlarms": 0,
                "ListSubscriptionsByTopic": 1,
            },
            {operation: len(calls) for operation, calls in seen.items()},
        )
        self.assertEqual([{"logGroupName": LOG_GROUP, "limit": 50}], seen["DescribeMetricFilters"])
        self.assertEqual([{"MetricName": "cis-filter", "Namespace": "CISBenchmark"}], seen["DescribeAlarmsForMetric"])

    def test_shared_alarm_and_topic_are_read_once(self):
        # Two covering filters on the same metric, whose alarm's topic has no confirmed
        # subscription: the metric's alarms and the topic's subscriptions are each listed once.
        add_trail(self)
        add_metric_filter(self, "cis-a", PATTERN, metric="unauthorized")
        add_metric_filter(self, "cis-b", PATTERN.replace(" ", ""), metric="unauthorized")
        add_topic(self, subscribers=0)
        add_alarm(self, "unauthorized-alarm", "unauthorized", actions=[topic_arn()])
        seen = self.calls(("cloudwatch", "DescribeAlarmsForMetric"), ("sns", "ListSubscriptionsByTopic"))
        self.assertEqual(
            missing("SNS topic cis-alarms of alarm unauthorized-alarm has no confirmed subscription."),
            self.run_rule().verdicts,
        )
        self.assertEqual(1, len(seen["DescribeAlarmsForMetric"]))
        self.assertEqual(1, len(seen["ListSubscriptionsByTopic"]))

    def test_a_filter_beyond_the_budget_could_not_be_evaluated(self):
        add_chain(self, NEEDS_SEARCH)
        decided = self.count_decisions()
        with mock.patch.object(cis_pattern_coverage, "DECISION_STATES", 3):
            self.assertEqual(
                missing(
                    "Could not evaluate: could not decide whether filter cis-filter on log group CloudTrail/cis "
                    "covers the CIS 3.1 pattern within its bound of 3 automaton states."
                ),
                self.run_rule().verdicts,
            )
        self.assertEqual(1, len(decided))  # the failed search is not run again for the annotation

    def test_an_undecided_filter_does_not_stop_the_rule_judging_the_others(self):
        add_chain(self, NEEDS_SEARCH, filter_name="a-hard")
        add_metric_filter(self, "b-exact", PATTERN)
        add_alarm(self, "b-exact-alarm", "b-exact", actions=[topic_arn()])
        self.forget_decisions()  # a-hard decided by an earlier test would not meet the bound
        with mock.patch.object(cis_pattern_coverage, "DECISION_STATES", 3):
            self.assertEqual(compliant(filter="b-exact", alarm="b-exact-alarm"), self.run_rule().verdicts)

    def forget_decisions(self):
        """No coverage decision remembered from another test, nor left for the next one."""
        cis_pattern_coverage.clear_caches()
        self.addCleanup(cis_pattern_coverage.clear_caches)

    def count_decisions(self):
        decided = []
        real = cis_pattern_coverage._decide

        def counting(filters, accepted, budget):
            decided.append(filters)
            return real(filters, accepted, budget)

        self.forget_decisions()
        patcher = mock.patch.object(cis_pattern_coverage, "_decide", counting)
        patcher.start()
        self.addCleanup(patcher.stop)
        return decided

    def test_metric_groups_are_decided_lazily(self):
        # The first group's chain is complete: the second group is never decided.
        add_chain(self, NEEDS_SEARCH, filter_name="a-first")
        add_metric_filter(self, "b-second", NEEDS_SEARCH.replace("Unauthorized", "Unauthorized|Forbidden"))
        decided = self.count_decisions()
        self.assertEqual(compliant(filter="a-first", alarm="a-first-alarm"), self.run_rule().verdicts)
        self.assertEqual(1, len(decided))

    def test_a_failed_search_is_not_run_again_for_the_annotation(self):
        add_chain(self, NARROW_SEARCH)
        decided = self.count_decisions()
        self.assertEqual(
            missing(NO_COVER[:-1] + '; the closest, cis-filter, misses {"errorCode": "AccessDeniedx"}.'),
            self.run_rule().verdicts,
        )
        self.assertEqual(1, len(decided))

    def test_two_pages_of_metric_filters(self):
        add_trail(self)
        add_topic(self)
        add_alarm(self, "cis-filter-alarm", "cis-filter", actions=[topic_arn()])
        first = {"metricFilters": [_filter_item(f"other-{i}", UNRELATED) for i in range(50)], "nextToken": "page-2"}
        second = {"metricFilters": [_filter_item("cis-filter", PATTERN)]}
        self.respond("logs", "DescribeMetricFilters", [first, second])
        seen = self.calls(("logs", "DescribeMetricFilters"))
        self.assertEqual(compliant(), self.run_rule().verdicts)
        self.assertEqual([None, "page-2"], [call.get("nextToken") for call in seen["DescribeMetricFilters"]])

    def test_two_pages_of_alarms_for_a_metric_with_dimensions(self):
        # A filter whose metric has dimensions: its alarms name dimension values the rule cannot
        # know, so DescribeAlarmsForMetric cannot find them; the region's alarms are paged instead.
        # The alarm found on the second page counts alice's events only, which is not enough.
        add_trail(self)
        add_topic(self)
        item = _filter_item("cis-filter", PATTERN, dimensions={"user": "$.userIdentity.userName"})
        self.respond("logs", "DescribeMetricFilters", {"metricFilters": [item]})
        first = {
            "MetricAlarms": [_alarm_item(f"other-{i}", f"other-{i}", [topic_arn()]) for i in range(100)],
            "NextToken": "page-2",
        }
        second = {"MetricAlarms": [_alarm_item("cis-filter-alarm", "cis-filter", [topic_arn()])]}
        self.respond("cloudwatch", "DescribeAlarms", [first, second])
        seen = self.calls(("cloudwatch", "DescribeAlarms"), ("cloudwatch", "DescribeAlarmsForMetric"))
        self.assertEqual(
            missing(
                "Alarm cis-filter-alarm on metric CISBenchmark/cis-filter of filter cis-filter counts only events "
                'with user=alice, which miss events of the CIS 3.1 pattern, e.g. {"errorCode": '
                '"UnauthorizedOperation"}.'
            ),
            self.run_rule().verdicts,
        )
        self.assertEqual([None, "page-2"], [call.get("NextToken") for call in seen["DescribeAlarms"]])
        # AWS rejects MaxRecords above 100: the largest page it allows, and only metric alarms.
        self.assertEqual([100, 100], [call.get("MaxRecords") for call in seen["DescribeAlarms"]])
        self.assertEqual([["MetricAlarm"]] * 2, [call.get("AlarmTypes") for call in seen["DescribeAlarms"]])
        self.assertEqual([], seen["DescribeAlarmsForMetric"])

    def test_two_pages_of_subscriptions(self):
        add_chain(self, PATTERN)
        first = {**pending_subscriptions(), "NextToken": "page-2"}
        second = {"Subscriptions": [_subscription(topic_arn() + ":0c6a1a4e-3c51-4c1e-9a43-0c6b5f6f1d2a")]}
        self.respond("sns", "ListSubscriptionsByTopic", [first, second])
        seen = self.calls(("sns", "ListSubscriptionsByTopic"))
        self.assertEqual(compliant(), self.run_rule().verdicts)
        self.assertEqual([None, "page-2"], [call.get("NextToken") for call in seen["ListSubscriptionsByTopic"]])

    def test_subscription_paging_stops_at_the_first_confirmed_one(self):
        add_chain(self, PATTERN)
        first = {"Subscriptions": [_subscription(topic_arn() + ":0c6a1a4e")], "NextToken": "page-2"}
        self.respond("sns", "ListSubscriptionsByTopic", [first])
        seen = self.calls(("sns", "ListSubscriptionsByTopic"))
        self.assertEqual(compliant(), self.run_rule().verdicts)
        self.assertEqual(1, len(seen["ListSubscriptionsByTopic"]))

    def test_trail_in_another_region_is_read_in_its_home_region(self):
        add_chain(self, PATTERN, region=OTHER_REGION)
        seen = self.calls(("cloudtrail", "GetTrailStatus"), ("logs", "DescribeMetricFilters"))
        self.assertEqual(compliant(), self.run_rule().verdicts)
        arn = f"arn:aws:cloudtrail:{OTHER_REGION}:{ACCOUNT_ID}:trail/cis-trail"
        self.assertEqual([{"Name": arn}], seen["GetTrailStatus"])


def test_judging_all_fourteen_controls_lists_everything_once():
    """One MonitoringChains answers any number of controls from one discovery."""
    import boto3
    from moto import mock_aws

    from cispack.catalog.rules import custom_rules

    monitoring = [r for r in custom_rules() if r.name.startswith("METRIC_FILTER_ALARM_")]
    assert len(monitoring) == 14
    with mock_aws():

        class Aws:
            def client(self, service, region=REGION):
                return boto3.client(service, region_name=region)

        aws = Aws()
        add_trail(aws)
        add_topic(aws)
        for r in monitoring:
            cls = r.rule_class()
            metric = add_metric_filter(aws, f"cis-{cls.CONTROL}", cls.ACCEPTED_PATTERNS[0])
            add_alarm(aws, f"cis-{cls.CONTROL}-alarm", metric, actions=[topic_arn()])
        import cis_monitoring

        made = []
        session = boto3._get_default_session()
        session.events.register("before-call", lambda model, **_: made.append(model.name), unique_id="count-all")
        try:
            chains = cis_monitoring.MonitoringChains(lambda s, r: boto3.client(s, region_name=r), ACCOUNT_ID, REGION)
            outcomes = [chains.judge(r.rule_class().CONTROL, r.rule_class().ACCEPTED_PATTERNS) for r in monitoring]
        finally:
            session.events.unregister("before-call", unique_id="count-all")
        assert {o.compliance for o in outcomes} == {"COMPLIANT"}
        assert made.count("DescribeTrails") == 1
        assert made.count("GetTrailStatus") == 1
        assert made.count("DescribeMetricFilters") == 1
        assert made.count("ListSubscriptionsByTopic") == 1
        assert made.count("DescribeAlarmsForMetric") == 14


def test_demo_seed_gives_a_mix_of_verdicts(monkeypatch):
    """``cispack/seeds/monitoring.py`` (after the ``logging`` seed whose bucket it reuses)."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, REGION)
    import boto3
    from moto import mock_aws

    from cispack.catalog.rules import custom_rules
    from cispack.local.config import ComplianceLedger
    from cispack.local.events import scheduled_event
    from cispack.local.seeds import logging as logging_seed
    from cispack.local.seeds import monitoring as monitoring_seed

    class Account:
        account_id = ACCOUNT_ID
        region = REGION
        other_region = OTHER_REGION

        def client(self, service, region=None):
            return boto3.client(service, region_name=region or REGION)

    verdicts = {}
    with mock_aws():
        logging_seed.seed(Account())
        monitoring_seed.seed(Account())
        for r in custom_rules():
            if r.name.startswith("METRIC_FILTER_ALARM_"):
                ledger = ComplianceLedger(current_rule=r.name).install()
                try:
                    result = r.module().lambda_handler(scheduled_event(r.name, account=ACCOUNT_ID, region=REGION), None)
                finally:
                    ledger.uninstall()
                verdicts[r.controls[0].id] = result[0]["ComplianceType"]
    assert {c for c, v in verdicts.items() if v == "COMPLIANT"} == {"3.1", "3.3", "3.5"}
    assert set(verdicts.values()) == {"COMPLIANT", "NON_COMPLIANT"} and len(verdicts) == 14


def test_a_decision_gets_at_most_what_the_invocation_has_left():
    import cis_monitoring
    import cis_rule

    class Context:
        def __init__(self, millis):
            self.millis = millis

        def get_remaining_time_in_millis(self):
            return self.millis

    assert cis_monitoring.decision_seconds() == cis_pattern_coverage.DECISION_SECONDS  # outside Lambda
    context = Context(300_000)
    cis_rule._DEADLINE.start(context)
    try:
        assert cis_monitoring.decision_seconds() == 10.0  # plenty left: the decision's own bound
        # 37 s left, less the 30 s kept for sending (cis_rule.send_margin) and the 5 s kept for the chain
        context.millis = 37_000
        assert cis_monitoring.decision_seconds() == 2.0
        context.millis = 37_340  # in tenths of a second
        assert cis_monitoring.decision_seconds() == 2.3
        context.millis = 34_000
        assert cis_monitoring.decision_seconds() == 0.0
    finally:
        cis_rule._DEADLINE.stop()
