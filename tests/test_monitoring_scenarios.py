"""The CIS 3.x monitoring chain (rulelib/cis_monitoring.py) in states moto cannot build, or that
would take it a second per case: alarms on dimension values, a dimension whose field cannot be
read, decisions beyond their bound, which of two broken or foreign links is named, a topic ARN
without an account, a witness event too long for the annotation.

Each service is a boto3 client under botocore's ``Stubber``: a test queues exactly the answers AWS
gives in that state, in the order the chain asks, in the region it must ask, and the Stubber
checks every request against the service model. ``tests/test_monitoring_chain.py`` runs every
link through the rule itself on moto.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber

import cis_monitoring
import cis_pattern_coverage
import cis_rule
from cis_monitoring import (
    ALARMS_PAGE,
    METRIC_FILTERS_PAGE,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    MetricFilter,
    MonitoringChains,
    Outcome,
    closest_miss,
    group_coverage,
)
from cis_rule import EvaluationError

ACCOUNT = "123456789012"
CENTRAL = "999988887777"
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
PATTERN = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
ROOT_PATTERN = (
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
)
LOG_GROUP = "CloudTrail/cis"
METRIC = "metric CISBenchmark/cis-metric"
# Neither equals the CIS pattern nor misses one of its samples: only the search decides them.
NEEDS_SEARCH = "{ $.errorCode = %Unauthorized|^AccessDenied% }"


def topic(account: str = ACCOUNT, region: str = REGION, name: str = "cis-alarms") -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


class Account:
    """This account's AWS, one stubbed client per service and region."""

    def __init__(self) -> None:
        self._stubs: dict[tuple[str, str], Stubber] = {}

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._stubs:
            client = boto3.client(
                service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            self._stubs[key] = Stubber(client)
            self._stubs[key].activate()
        return self._stubs[key].client

    def answer(self, service: str, operation: str, response: Any, expected: Any = None, region: str = REGION) -> None:
        self.client(service, region)
        self._stubs[(service, region)].add_response(operation, response, expected)

    def fail(self, service: str, operation: str, code: str, expected: Any = None, region: str = REGION) -> None:
        self.client(service, region)
        self._stubs[(service, region)].add_client_error(operation, service_error_code=code, expected_params=expected)

    def judge(self, control: str = "3.1", patterns: tuple[str, ...] = (PATTERN,), trusted: tuple[str, ...] = ()):
        outcome = MonitoringChains(self.client, ACCOUNT, REGION, trusted).judge(control, patterns)
        self.settled()
        return outcome

    def settled(self) -> None:
        """Every queued answer was asked for."""
        for stub in self._stubs.values():
            stub.assert_no_pending_responses()


def trail_item(name: str = "cis-trail", *, multi_region: bool = True, region: str = REGION, **log_group: str):
    """A trail of this account homed in ``region`` delivering to LOG_GROUP of this account there
    (``log_group_account`` names another owner)."""
    owner = log_group.get("log_group_account", ACCOUNT)
    return {
        "Name": name,
        "TrailARN": f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}",
        "HomeRegion": region,
        "IsMultiRegionTrail": multi_region,
        "IsOrganizationTrail": False,
        "S3BucketName": "cis-trail-logs",
        "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{region}:{owner}:log-group:{LOG_GROUP}:*",
    }


def organisation_trail() -> dict[str, Any]:
    return {
        "Name": "org-trail",
        "TrailARN": f"arn:aws:cloudtrail:{REGION}:{CENTRAL}:trail/org-trail",
        "HomeRegion": REGION,
        "IsMultiRegionTrail": True,
        "IsOrganizationTrail": True,
        "S3BucketName": "org-cloudtrail-logs",
        "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{REGION}:{CENTRAL}:log-group:org/CloudTrail:*",
    }


REGIONAL = trail_item("a-regional", multi_region=False)


def trails(account: Account, *items: dict[str, Any], logging: int = 1, region: str = REGION) -> None:
    """``DescribeTrails``, then status and selectors (logging every management event) of the
    ``logging`` trails the chain reads, in ``region``."""
    account.answer("cloudtrail", "describe_trails", {"trailList": list(items)})
    for _ in range(logging):
        account.answer("cloudtrail", "get_trail_status", {"IsLogging": True}, region=region)
        selectors = {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}
        account.answer("cloudtrail", "get_event_selectors", selectors, region=region)


def filter_item(name: str, pattern: str, dimensions: dict[str, str] | None = None) -> dict[str, Any]:
    transformation: dict[str, Any] = {"metricName": "cis-metric", "metricNamespace": "CISBenchmark", "metricValue": "1"}
    if dimensions:
        transformation["dimensions"] = dimensions
    return {
        "filterName": name,
        "filterPattern": pattern,
        "logGroupName": LOG_GROUP,
        "metricTransformations": [transformation],
    }


def filters(account: Account, *items: dict[str, Any], region: str = REGION) -> None:
    request = {"logGroupName": LOG_GROUP, "limit": METRIC_FILTERS_PAGE}
    account.answer("logs", "describe_metric_filters", {"metricFilters": list(items)}, request, region)


def alarm_item(
    name: str, dimensions: dict[str, str] | None = None, actions: tuple[str, ...] = (topic(),), enabled: bool = True
) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        "MetricName": "cis-metric",
        "Namespace": "CISBenchmark",
        "ActionsEnabled": enabled,
        "AlarmActions": list(actions),
        "Dimensions": [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()],
    }


def alarms_for_metric(account: Account, *items: dict[str, Any]) -> None:
    request = {"MetricName": "cis-metric", "Namespace": "CISBenchmark"}
    account.answer("cloudwatch", "describe_alarms_for_metric", {"MetricAlarms": list(items)}, request)


def all_alarms(account: Account, page: dict[str, Any], region: str = REGION) -> None:
    """The region's metric alarms in one page of the largest size AWS accepts (read when the
    filter's metric has dimensions)."""
    request = {"AlarmTypes": ["MetricAlarm"], "MaxRecords": ALARMS_PAGE}
    account.answer("cloudwatch", "describe_alarms", page, request, region)


def subscribed(account: Account, arn: str = topic()) -> None:
    confirmed = {"SubscriptionArn": f"{arn}:0c6a1a4e", "Owner": ACCOUNT, "Protocol": "sqs", "Endpoint": "q"}
    account.answer("sns", "list_subscriptions_by_topic", {"Subscriptions": [{**confirmed, "TopicArn": arn}]})


@pytest.fixture
def account() -> Account:
    return Account()


@pytest.fixture
def tiny_bound():
    """A decision bound of 3 automaton states, and no decision remembered from another test."""
    cis_pattern_coverage.clear_caches()
    with mock.patch.object(cis_pattern_coverage, "DECISION_STATES", 3):
        yield
    cis_pattern_coverage.clear_caches()


def verdict(outcome: Outcome) -> tuple[str, str]:
    return outcome.compliance, outcome.text


# --- An alarm on dimension values ----------------------------------------------------------------


def test_an_alarm_on_the_value_the_pattern_requires_counts_every_event(account):
    # CIS 3.3: the filter writes the identity type as a dimension, the pattern only matches
    # Root, so the alarm on Type=Root counts every event of the pattern.
    trails(account, trail_item())
    filters(account, filter_item("root", ROOT_PATTERN, dimensions={"Type": "$.userIdentity.type"}))
    all_alarms(account, {"MetricAlarms": [alarm_item("root-usage", dimensions={"Type": "Root"})]})
    subscribed(account)
    outcome = account.judge("3.3", (ROOT_PATTERN,))
    assert verdict(outcome) == (
        "COMPLIANT",
        "Trail cis-trail feeds filter root on log group CloudTrail/cis; alarm root-usage notifies SNS topic "
        "cis-alarms, which has a confirmed subscription.",
    )


def test_an_alarm_on_a_dimension_value_beyond_the_bound_could_not_be_evaluated(account, tiny_bound):
    # The filter is the CIS pattern itself (decided at once); whether Type=Root loses events
    # needs the search, which the bound stops. A single-region trail is judged first.
    trails(account, REGIONAL, trail_item())
    filters(account, filter_item("root", ROOT_PATTERN, dimensions={"Type": "$.userIdentity.type"}))
    all_alarms(account, {"MetricAlarms": [alarm_item("root-usage", dimensions={"Type": "Root"})]})
    assert verdict(account.judge("3.3", (ROOT_PATTERN,))) == (
        NON_COMPLIANT,
        "Could not evaluate: could not decide whether alarm root-usage (Type=Root) counts every event of the "
        "CIS 3.3 pattern within its bound of 3 automaton states.",
    )


def test_an_alarm_on_the_dimension_value_star_counts_only_events_whose_code_is_a_star(account):
    # CloudWatch matches dimension values exactly: the series Code="*" holds the events whose
    # code is the text "*", not every event. A single-region trail is judged first.
    trails(account, REGIONAL, trail_item())
    filters(account, filter_item("cis-filter", PATTERN, dimensions={"Code": "$.errorCode"}))
    all_alarms(account, {"MetricAlarms": [alarm_item("every-code", dimensions={"Code": "*"})]})
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        f"Alarm every-code on {METRIC} of filter cis-filter counts only events with Code=*, which miss events "
        'of the CIS 3.1 pattern, e.g. {"errorCode": "UnauthorizedOperation"}.',
    )


def test_an_alarm_on_a_dimension_whose_field_cannot_be_read(account):
    trails(account, REGIONAL, trail_item())
    filters(account, filter_item("cis-filter", PATTERN, dimensions={"Code": "errorCode ("}))
    all_alarms(account, {"MetricAlarms": [alarm_item("by-code", dimensions={"Code": "AccessDenied"})]})
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        f"Alarm by-code on {METRIC} of filter cis-filter names a dimension whose field cannot be read.",
    )


def test_an_alarm_naming_other_dimensions_than_the_filter_writes(account):
    trails(account, trail_item())
    filters(account, filter_item("cis-filter", PATTERN, dimensions={"Code": "$.errorCode", "Event": "$.eventName"}))
    all_alarms(account, {"MetricAlarms": [alarm_item("by-user", dimensions={"Code": "AccessDenied", "User": "bob"})]})
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        f"No alarm watches the series of {METRIC} of filter cis-filter (written with Code, Event): alarm by-user "
        "names Code, User, so it sees none of them.",
    )


@pytest.mark.parametrize(
    ("length", "shown"),
    [(73, "A" * 73), (74, "A" * 37 + "...")],
    ids=["ninety_characters_shown_whole", "ninety_one_characters_shortened"],
)
def test_the_event_an_alarm_misses_is_shortened_beyond_ninety_characters(account, length, shown):
    name = "A" * length
    pattern = f'{{ $.eventName = "{name}" }}'
    trails(account, trail_item())
    filters(account, filter_item("cis-filter", pattern, dimensions={"Event": "$.eventName"}))
    all_alarms(account, {"MetricAlarms": [alarm_item("other-event", dimensions={"Event": "B"})]})
    assert verdict(account.judge("3.1", (pattern,))) == (
        NON_COMPLIANT,
        f"Alarm other-event on {METRIC} of filter cis-filter counts only events with Event=B, which miss events "
        f'of the CIS 3.1 pattern, e.g. {{"eventName": "{shown}"}}.',
    )


def test_the_alarms_of_a_log_group_in_another_region_are_read_there(account):
    # The trail is homed in eu-west-1 with its log group; the filter writes a dimension, so the
    # region's alarms are paged through, in eu-west-1. That region has no metric alarm at all.
    trails(account, trail_item(region=OTHER_REGION), region=OTHER_REGION)
    filters(account, filter_item("cis-filter", PATTERN, dimensions={"Code": "$.errorCode"}), region=OTHER_REGION)
    all_alarms(account, {}, region=OTHER_REGION)
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        f"No alarm on {METRIC} of filter cis-filter on log group CloudTrail/cis.",
    )


# --- Which link is named ------------------------------------------------------------------------


def test_an_undecided_filter_is_named_rather_than_a_trail_that_is_not_multi_region(account, tiny_bound):
    trails(account, REGIONAL, trail_item("b-cis"))
    filters(account, filter_item("hard", NEEDS_SEARCH))
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        "Could not evaluate: could not decide whether filter hard on log group CloudTrail/cis covers the "
        "CIS 3.1 pattern within its bound of 3 automaton states.",
    )


def test_two_filters_on_one_metric_beyond_the_bound_are_both_named(account, tiny_bound):
    trails(account, trail_item())
    filters(
        account,
        filter_item("hard-a", NEEDS_SEARCH),
        filter_item("hard-b", NEEDS_SEARCH.replace("Unauthorized", "Unauthorized|Forbidden")),
    )
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        "Could not evaluate: could not decide whether filters hard-a and hard-b on log group CloudTrail/cis "
        "covers the CIS 3.1 pattern within its bound of 3 automaton states.",
    )


def test_a_central_log_group_is_named_rather_than_an_organisation_trail(account):
    # Both chains leave this account; the local trail's got further (to its log group).
    trails(account, trail_item(log_group_account=CENTRAL), organisation_trail())
    assert verdict(account.judge()) == (
        NOT_APPLICABLE,
        f"Log group {LOG_GROUP} of trail cis-trail is owned by account {CENTRAL}, so its metric filters cannot "
        "be verified from this account.",
    )


def test_a_trusted_central_topic_is_named_rather_than_an_organisation_trail(account):
    trails(account, trail_item(), organisation_trail())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm", actions=(topic(CENTRAL),)))
    assert verdict(account.judge(trusted=(CENTRAL,))) == (
        NOT_APPLICABLE,
        f"SNS topic cis-alarms of alarm cis-alarm is owned by account {CENTRAL}, so its subscriptions cannot be "
        "verified from this account.",
    )


def test_a_trusted_central_topic_is_named_rather_than_a_central_log_group(account):
    # Two trails of this account: a-central delivers to a log group of another account; b-cis
    # reaches an alarm whose topic is in a trusted account. The chain that got further is named.
    trails(account, trail_item("a-central", log_group_account=CENTRAL), trail_item("b-cis"), logging=2)
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm", actions=(topic(CENTRAL),)))
    assert verdict(account.judge(trusted=(CENTRAL,))) == (
        NOT_APPLICABLE,
        f"SNS topic cis-alarms of alarm cis-alarm is owned by account {CENTRAL}, so its subscriptions cannot be "
        "verified from this account.",
    )


def compliant_text(alarm: str, filter_name: str = "cis-filter") -> str:
    return (
        f"Trail cis-trail feeds filter {filter_name} on log group CloudTrail/cis; alarm {alarm} notifies SNS topic "
        "cis-alarms, which has a confirmed subscription."
    )


def on_metric(item: dict[str, Any], metric: str) -> dict[str, Any]:
    """A filter or alarm item moved to another metric of the namespace."""
    if "metricTransformations" in item:
        return {**item, "metricTransformations": [{**t, "metricName": metric} for t in item["metricTransformations"]]}
    return {**item, "MetricName": metric}


def test_each_metric_s_alarms_are_read_for_it(account):
    # Two filters each covering the control, on metrics cis-a and cis-b: cis-a's alarm has its
    # actions disabled, cis-b's completes the chain.
    trails(account, trail_item())
    filters(account, on_metric(filter_item("a", PATTERN), "cis-a"), on_metric(filter_item("b", PATTERN), "cis-b"))
    for metric, alarm in (("cis-a", alarm_item("a-alarm", enabled=False)), ("cis-b", alarm_item("b-alarm"))):
        request = {"MetricName": metric, "Namespace": "CISBenchmark"}
        account.answer(
            "cloudwatch", "describe_alarms_for_metric", {"MetricAlarms": [on_metric(alarm, metric)]}, request
        )
    subscribed(account)
    assert verdict(account.judge()) == ("COMPLIANT", compliant_text("b-alarm", "b"))


def test_one_metric_written_with_and_without_a_dimension_has_an_alarm_for_each_series(account):
    # CIS 3.3: a-root writes cis-metric without dimensions, b-root the same metric with the
    # identity type. The series without dimensions has an alarm with its actions disabled; the
    # series Type=Root has one that completes the chain.
    trails(account, trail_item())
    filters(
        account,
        filter_item("a-root", ROOT_PATTERN),
        filter_item("b-root", ROOT_PATTERN, dimensions={"Type": "$.userIdentity.type"}),
    )
    alarms_for_metric(account, alarm_item("a-disabled", enabled=False))
    page = {
        "MetricAlarms": [alarm_item("a-disabled", enabled=False), alarm_item("b-root", dimensions={"Type": "Root"})]
    }
    all_alarms(account, page)
    subscribed(account)
    assert verdict(account.judge("3.3", (ROOT_PATTERN,))) == ("COMPLIANT", compliant_text("b-root", "b-root"))


def test_an_alarm_on_another_metric_of_the_namespace_does_not_count(account):
    # The region's alarms are paged through (the filter writes a dimension): the only alarm with
    # the right dimension watches another metric of the same namespace.
    trails(account, trail_item())
    filters(account, filter_item("root", ROOT_PATTERN, dimensions={"Type": "$.userIdentity.type"}))
    all_alarms(account, {"MetricAlarms": [on_metric(alarm_item("other", dimensions={"Type": "Root"}), "other-metric")]})
    assert verdict(account.judge("3.3", (ROOT_PATTERN,))) == (
        NON_COMPLIANT,
        f"No alarm on {METRIC} of filter root on log group CloudTrail/cis.",
    )


def test_a_filter_publishing_no_metric_is_named_rather_than_a_single_region_trail(account):
    trails(account, REGIONAL, trail_item())
    item = filter_item("cis-filter", PATTERN)
    del item["metricTransformations"]
    filters(account, item)
    assert verdict(account.judge()) == (NON_COMPLIANT, "Filter cis-filter on log group CloudTrail/cis has no metric.")


def test_an_alarm_notifying_no_topic_does_not_hide_the_next_one(account):
    trails(account, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("a-silent", actions=()), alarm_item("b-cis"))
    subscribed(account)
    assert verdict(account.judge()) == ("COMPLIANT", compliant_text("b-cis"))


def test_a_central_topic_does_not_hide_the_alarm_s_own_topic(account):
    trails(account, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm", actions=(topic(CENTRAL), topic())))
    subscribed(account)
    assert verdict(account.judge(trusted=(CENTRAL,))) == ("COMPLIANT", compliant_text("cis-alarm"))


def test_an_alarm_on_another_identity_type_does_not_hide_the_alarm_on_root(account):
    # CIS 3.3: alarms on the series Type=IAMUser and Type=Root; only the second counts the events.
    trails(account, trail_item())
    filters(account, filter_item("root", ROOT_PATTERN, dimensions={"Type": "$.userIdentity.type"}))
    alarms = [
        alarm_item("a-iam-user", dimensions={"Type": "IAMUser"}),
        alarm_item("b-root", dimensions={"Type": "Root"}),
    ]
    all_alarms(account, {"MetricAlarms": alarms})
    subscribed(account)
    assert verdict(account.judge("3.3", (ROOT_PATTERN,))) == ("COMPLIANT", compliant_text("b-root", "root"))


def test_a_topic_of_an_unlisted_account_is_named_rather_than_an_alarm_with_actions_disabled(account):
    trails(account, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(
        account, alarm_item("a-disabled", enabled=False), alarm_item("b-central", actions=(topic(CENTRAL),))
    )
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        f"SNS topic cis-alarms of alarm b-central is owned by account {CENTRAL}, which the rule parameter "
        "trustedTopicAccounts does not list.",
    )


def test_each_trail_s_log_group_has_its_own_filters(account):
    # a-trail delivers to CloudTrail/other, whose only filter is for another control; b-trail to
    # CloudTrail/cis, whose filter covers the control.
    other = trail_item("a-trail")
    other["CloudWatchLogsLogGroupArn"] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:CloudTrail/other:*"
    trails(account, other, trail_item("b-trail"), logging=2)
    unrelated = {**filter_item("unrelated", '{ $.eventName = "Other" }'), "logGroupName": "CloudTrail/other"}
    request = {"logGroupName": "CloudTrail/other", "limit": METRIC_FILTERS_PAGE}
    account.answer("logs", "describe_metric_filters", {"metricFilters": [unrelated]}, request)
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm"))
    subscribed(account)
    assert verdict(account.judge()) == ("COMPLIANT", compliant_text("cis-alarm").replace("cis-trail", "b-trail"))


def test_a_deleted_log_group_of_two_trails_is_read_once_and_missing_for_both(account):
    trails(account, trail_item("a-cis"), trail_item("b-cis"), logging=2)
    request = {"logGroupName": LOG_GROUP, "limit": METRIC_FILTERS_PAGE}
    account.fail("logs", "describe_metric_filters", "ResourceNotFoundException", request)
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        "Log group CloudTrail/cis of trail a-cis does not exist in us-east-1.",
    )


def test_a_log_group_whose_listing_names_no_metric_filter(account):
    # DescribeMetricFilters may leave the list out when the log group has no metric filter. The
    # missing filter is named rather than the single-region trail judged first.
    trails(account, REGIONAL, trail_item())
    request = {"logGroupName": LOG_GROUP, "limit": METRIC_FILTERS_PAGE}
    account.answer("logs", "describe_metric_filters", {}, request)
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.1 pattern; the log "
        "group has no metric filter.",
    )


def test_a_metric_whose_listing_names_no_alarm(account):
    # DescribeAlarmsForMetric may leave the list out when no alarm watches the metric. The
    # missing alarm is named rather than the single-region trail judged first.
    trails(account, REGIONAL, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    account.answer(
        "cloudwatch", "describe_alarms_for_metric", {}, {"MetricName": "cis-metric", "Namespace": "CISBenchmark"}
    )
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        f"No alarm on {METRIC} of filter cis-filter on log group CloudTrail/cis.",
    )


def test_a_topic_whose_listing_names_no_subscription(account):
    # ListSubscriptionsByTopic may leave the list out when the topic has no subscription. The
    # topic is named rather than the single-region trail judged first.
    trails(account, REGIONAL, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm"))
    account.answer("sns", "list_subscriptions_by_topic", {}, {"TopicArn": topic()})
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        "SNS topic cis-alarms of alarm cis-alarm has no confirmed subscription.",
    )


def test_a_deleted_topic_is_named_rather_than_a_single_region_trail(account):
    trails(account, REGIONAL, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm"))
    account.fail("sns", "list_subscriptions_by_topic", "NotFound", {"TopicArn": topic()})
    assert verdict(account.judge()) == (NON_COMPLIANT, "SNS topic cis-alarms of alarm cis-alarm does not exist.")


def test_a_topic_arn_without_an_account(account):
    trails(account, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm", actions=("arn:aws:sns:us-east-1::cis-alarms",)))
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        "SNS topic cis-alarms of alarm cis-alarm is owned by account unknown, which the rule parameter "
        "trustedTopicAccounts does not list.",
    )


@pytest.mark.parametrize(
    ("action", "annotation"),
    [
        (
            "arn:aws:sns:us-east-1",
            "SNS topic us-east-1 of alarm cis-alarm is owned by account unknown, which the rule parameter "
            "trustedTopicAccounts does not list.",
        ),
        (
            f"urn:aws:sns:us-east-1:{ACCOUNT}:cis-alarms",
            "Alarm cis-alarm on metric CISBenchmark/cis-metric of filter cis-filter notifies no SNS topic.",
        ),
    ],
    ids=["an_sns_arn_cut_after_its_region", "a_name_that_is_not_an_arn"],
)
def test_an_alarm_action_that_is_not_a_whole_sns_topic_arn(account, action, annotation):
    # Named rather than the single-region trail judged first.
    trails(account, REGIONAL, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm", actions=(action,)))
    assert verdict(account.judge()) == (NON_COMPLIANT, annotation)


@pytest.mark.parametrize(
    ("name", "shown"),
    [("cis-alarms", "cis-alarms"), ("t" * 200, "t" * 94)],
    ids=["named_whole", "a_topic_name_of_200_characters_cut_to_120_for_the_whole_action"],
)
def test_an_alarm_action_without_a_region_is_named_in_one_sentence(account, name, shown):
    trails(account, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm", actions=(f"arn:aws:sns::{ACCOUNT}:{name}",)))
    with pytest.raises(EvaluationError) as error:
        account.judge()
    assert str(error.value) == f"Alarm action 'arn:aws:sns::{ACCOUNT}:{shown}' is not a valid SNS topic ARN."


def test_two_trails_that_are_not_multi_region_the_first_is_named(account):
    trails(account, REGIONAL, trail_item("b-regional", multi_region=False), logging=0)
    assert verdict(account.judge()) == (NON_COMPLIANT, "Trail a-regional is not a multi-region trail.")


def test_a_control_without_an_accepted_pattern_is_a_defect_of_the_pack(account):
    with pytest.raises(EvaluationError) as error:
        account.judge("3.1", ())
    assert str(error.value) == "CIS 3.1 has no accepted filter pattern."


class Readings:
    """Lambda's remaining time for a five-minute invocation, as successive readings return it."""

    def __init__(self, *millis: int) -> None:
        self.millis = list(millis)

    def get_remaining_time_in_millis(self) -> int:
        return self.millis.pop(0) if len(self.millis) > 1 else self.millis[0]


@pytest.mark.parametrize(
    ("readings", "progress"),
    [
        ((300_000, 1_000), "CIS 3.1: 0 of 2 trails judged"),
        ((300_000, 300_000, 300_000, 1_000), "CIS 3.1: 0 of 1 metric filter groups on CloudTrail/cis judged"),
    ],
    ids=["before_the_first_trail", "before_the_first_metric_filter_group"],
)
def test_a_run_out_of_time_says_how_far_it_got(account, readings, progress):
    # The regional trail costs no call and no reading; the clock is read before each trail and
    # before each group of filters writing one metric.
    if len(readings) > 2:
        trails(account, REGIONAL, trail_item())
        filters(account, filter_item("cis-filter", PATTERN))
    else:
        trails(account, REGIONAL, trail_item(), logging=0)
    cis_rule._DEADLINE.start(Readings(*readings))
    try:
        with pytest.raises(cis_rule.OutOfTime) as error:
            account.judge()
    finally:
        cis_rule._DEADLINE.stop()
    assert str(error.value).startswith(f"Stopped with 1.0 s left before the Lambda timeout after {progress}, ")


# --- Filters and their coverage ------------------------------------------------------------------


def test_a_filter_with_an_empty_pattern_counts_every_event(account):
    # CloudWatch Logs accepts the empty filter pattern: it matches every log event.
    trails(account, trail_item())
    filters(account, filter_item("every-event", ""))
    alarms_for_metric(account, alarm_item("every-event-alarm"))
    subscribed(account)
    assert verdict(account.judge()) == (
        "COMPLIANT",
        "Trail cis-trail feeds filter every-event on log group CloudTrail/cis; alarm every-event-alarm notifies "
        "SNS topic cis-alarms, which has a confirmed subscription.",
    )


@pytest.mark.parametrize(
    ("name", "shown"),
    [("f" * 48, "f" * 48), ("f" * 49, "f" * 45 + "...")],
    ids=["name_of_48_characters_whole", "name_of_49_characters_shortened"],
)
def test_a_long_filter_name_is_shortened_in_the_annotation(name, shown):
    near = MetricFilter(name, LOG_GROUP, REGION, '{ $.errorCode = "AccessDenied*" }', ())
    assert (
        closest_miss([near], (PATTERN,)) == f'; the closest, {shown}, misses {{"errorCode": "UnauthorizedOperation"}}'
    )


BROKEN = "expected '&&', '||' or '}' but found end of pattern"


@pytest.mark.parametrize(
    ("patterns", "annotation"),
    [
        (
            {"broken-denied": '{ $.errorCode = "AccessDenied*" '},
            f"; the closest, broken-denied, could not be read ({BROKEN})",
        ),
        (
            {
                "broken-both": '{ $.errorCode = "AccessDenied*" || $.errorCode = "*UnauthorizedOperation" ',
                "event-named": '{ $.eventName = "UnauthorizedOperation" }',
            },
            f"; the closest, broken-both, could not be read ({BROKEN})",
        ),
        (
            {"broken-other": "{ $.eventName = CreateUser ", "unrelated": "{ $.eventName = CreateUser }"},
            '; no filter tests this control\'s events, e.g. {"errorCode": "UnauthorizedOperation"}',
        ),
        (
            {
                "a-broken": "{ $.eventName = CreateUser ",
                "b-broken": "{ $.eventName = DeleteUser ",
                "c-broken": "{ ($.eventName = PutUser }",
            },
            "; a-broken, b-broken and 1 more could not be read",
        ),
    ],
    ids=[
        "the_only_filter_unreadable_and_naming_a_code_of_the_control",
        "an_unreadable_filter_naming_both_codes_before_a_readable_one_naming_one_on_another_field",
        "an_unreadable_filter_of_another_control_is_not_blamed_for_an_unrelated_readable_one",
        "only_unreadable_filters_of_other_controls_two_named",
    ],
)
def test_the_closest_filter_an_unreadable_one_or_a_readable_one(patterns, annotation):
    # CIS 3.1 (error codes *UnauthorizedOperation and AccessDenied*). An unreadable filter is
    # named when it names more of the control's values than any readable filter that matches none
    # of the control's events; filters that name none of them are listed, two at most.
    found = [MetricFilter(name, LOG_GROUP, REGION, pattern, ()) for name, pattern in patterns.items()]
    assert closest_miss(found, (PATTERN,)) == annotation


def test_a_long_witness_event_is_shortened_to_fit_the_annotation():
    # The event no filter matches is too long for the annotation: long values are cut (keeping
    # their start, ending with "...") first to 40 characters, then to 24, inside lists too; a value
    # of exactly 24 characters and a boolean stay as they are.
    ou = "arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-exampleouid111"
    accepted = (
        f'{{ ($.resources[0] = "{ou}") && ($.eventName = "DeleteOrganizationalUnit") && ($.readOnly IS FALSE) }}',
    )
    unrelated = MetricFilter("unrelated", LOG_GROUP, REGION, '{ $.eventName = "Other" }', ())
    assert closest_miss([unrelated], accepted) == (
        "; no filter tests this control's events, e.g. "
        '{"resources": ["arn:aws:organizations..."], "eventName": "DeleteOrganizationalUnit", "readOnly": false}'
    )


@pytest.mark.parametrize(
    ("accepted", "event"),
    [
        (ROOT_PATTERN, '{"userIdentity": {"type": "Root"}, "eventType": "x"}'),
        ('{ $.userIdentity.userName = "José" }', '{"userIdentity": {"userName": "José"}}'),
        (
            "{ $.requestParameters.description = "
            '"Überwachung der Konfigurationsänderungen aller Konten der Organisation" }',
            '{"requestParameters": {"description": "Überwachung der Konfigurationsänderun..."}}',
        ),
        (
            '{ ($.eventSource = "organizations.amazonaws.com") && ($.eventName = "LeaveOrganization") && '
            '($.userAgent = "console.amazonaws.com") }',
            '{"eventSource": "organizat...", "eventName": "LeaveOrga...", "userAgent": "console.a..."}',
        ),
        (
            '{ ($.eventSource = "organizations.amazonaws.com") && ($.eventName = "LeaveOrganization") && '
            '($.userAgent = "console.amazonaws.com") && ($.sourceIPAddress = "AWS Internal") }',
            '{"eventSource": "organizat...", "eventName": "LeaveOrga...", "userAgent": "console.a...", '
            '"sourceIPAddress...}',
        ),
    ],
    ids=[
        "root_usage_two_fields_as_compact_json",
        "a_name_outside_ascii_as_written",
        "a_long_description_outside_ascii_cut_to_forty_characters_as_written",
        "three_values_cut_to_twelve_characters_when_twenty_four_are_too_long",
        "four_values_too_long_even_at_twelve_characters_cut_at_the_annotation_s_bound",
    ],
)
def test_the_event_no_filter_tests_as_the_annotation_shows_it(accepted, event):
    unrelated = MetricFilter("unrelated", LOG_GROUP, REGION, '{ $.eventName = "Other" }', ())
    assert closest_miss([unrelated], (accepted,)) == f"; no filter tests this control's events, e.g. {event}"


def test_the_closest_filter_read_late_in_an_invocation_is_not_credited_when_no_time_is_left():
    # Asked on its own (no judge's memo), with 34 s left of a five-minute invocation: the 30 s
    # kept for sending and the 5 s kept for the chain leave the search no time. With time, the
    # same filter misses AccessDenied followed by anything.
    narrow = MetricFilter("narrow", LOG_GROUP, REGION, "{ $.errorCode = %Unauthorized|^AccessDenied$% }", ())

    class Context:
        millis = 300_000

        def get_remaining_time_in_millis(self) -> int:
            return self.millis

    context = Context()
    cis_pattern_coverage.clear_caches()
    cis_rule._DEADLINE.start(context)
    context.millis = 34_000
    try:
        late = closest_miss([narrow], (PATTERN,))
    finally:
        cis_rule._DEADLINE.stop()
        cis_pattern_coverage.clear_caches()
    assert late == "; the closest, narrow, could not be decided, so it is not credited"
    assert closest_miss([narrow], (PATTERN,)) == '; the closest, narrow, misses {"errorCode": "AccessDeniedx"}'


def test_a_filter_judged_late_in_an_invocation_is_not_credited_when_no_time_is_left(account):
    # 34 s left of a five-minute invocation: the 30 s kept for sending and the 5 s kept for the
    # rest of the chain leave the search no time (it would take well under its own ten seconds).
    trails(account, trail_item())
    filters(account, filter_item("hard", NEEDS_SEARCH))
    cis_pattern_coverage.clear_caches()
    cis_rule._DEADLINE.start(Readings(300_000, 34_000))
    try:
        outcome = account.judge()
    finally:
        cis_rule._DEADLINE.stop()
        cis_pattern_coverage.clear_caches()
    assert verdict(outcome) == (
        NON_COMPLIANT,
        "Could not evaluate: could not decide whether filter hard on log group CloudTrail/cis covers the CIS 3.1 "
        "pattern within 0 s.",
    )


def test_a_group_decided_late_in_an_invocation_gets_only_the_time_left():
    # A five-minute invocation with 34 s left: the 30 s kept for sending and the 5 s kept for the
    # rest of the chain leave no time for the decision, not its own ten seconds.
    class Context:
        millis = 300_000

        def get_remaining_time_in_millis(self) -> int:
            return self.millis

    context = Context()
    cis_rule._DEADLINE.start(context)
    context.millis = 34_000
    try:
        with mock.patch.object(cis_monitoring, "covers", wraps=cis_monitoring.covers) as decided:
            group_coverage([PATTERN], (PATTERN,))
    finally:
        cis_rule._DEADLINE.stop()
    assert decided.call_args.kwargs == {"seconds": 0.0}


def test_filters_on_one_metric_cover_together_what_neither_covers_alone():
    unauthorized = '{ $.errorCode = "*UnauthorizedOperation" }'
    denied = '{ $.errorCode = "AccessDenied*" }'
    assert group_coverage([unauthorized, denied, unauthorized], (PATTERN,)).covered
    assert not group_coverage([unauthorized], (PATTERN,)).covered
    assert not group_coverage([denied], (PATTERN,)).covered


# --- Trails, read errors and the rule itself -----------------------------------------------------


def status_of(account: Account, trail: dict[str, Any], logging: bool, selectors: dict[str, Any] | None = None) -> None:
    """``GetTrailStatus`` and, for a logging trail, ``GetEventSelectors`` of ``trail``, asked by ARN."""
    account.answer("cloudtrail", "get_trail_status", {"IsLogging": logging}, {"Name": trail["TrailARN"]})
    if selectors is not None:
        account.answer("cloudtrail", "get_event_selectors", selectors, {"TrailName": trail["TrailARN"]})


WRITE_ONLY = {"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}
EVERY_EVENT = {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}


def test_an_account_without_a_trail(account):
    account.answer("cloudtrail", "describe_trails", {}, {"includeShadowTrails": True})
    assert verdict(account.judge()) == (NON_COMPLIANT, "No CloudTrail trail exists in this account.")


def test_a_multi_region_trail_without_a_log_group_is_named_rather_than_a_single_region_one(account):
    no_logs = {k: v for k, v in trail_item("b-cis").items() if k != "CloudWatchLogsLogGroupArn"}
    trails(account, REGIONAL, no_logs, logging=0)
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        "Multi-region trail b-cis does not deliver to a CloudWatch Logs log group.",
    )


@pytest.mark.parametrize(
    ("logging", "selectors", "annotation"),
    [
        (False, None, "Multi-region trail b-cis is not logging."),
        (True, WRITE_ONLY, "Multi-region trail b-cis does not log all management events, read and write."),
    ],
    ids=["stopped", "write_events_only"],
)
def test_a_trail_that_cannot_feed_the_chain_is_named_rather_than_one_without_a_log_group(
    account, logging, selectors, annotation
):
    # The trail without a log group (a-) is judged first and costs no call; the trail that got
    # further (b-) is named. Its status and selectors are read once, by ARN.
    no_logs = {k: v for k, v in trail_item("a-no-logs").items() if k != "CloudWatchLogsLogGroupArn"}
    stopped = trail_item("b-cis")
    trails(account, no_logs, stopped, logging=0)
    status_of(account, stopped, logging, selectors)
    assert verdict(account.judge()) == (NON_COMPLIANT, annotation)


def test_a_stopped_trail_does_not_hide_a_complete_chain_of_the_next_one(account):
    stopped, logging = trail_item("a-stopped"), trail_item("b-cis")
    trails(account, stopped, logging, logging=0)
    status_of(account, stopped, False)
    status_of(account, logging, True, EVERY_EVENT)
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm"))
    subscribed(account)
    assert verdict(account.judge())[0] == "COMPLIANT"


def test_a_trail_read_for_one_control_is_not_read_again_for_the_next(account):
    # One MonitoringChains per evaluation: the second control costs no trail call (the Stubber
    # would refuse one it has no answer for).
    stopped = trail_item()
    trails(account, stopped, logging=0)
    status_of(account, stopped, False)
    chains = MonitoringChains(account.client, ACCOUNT, REGION)
    first = chains.judge("3.1", (PATTERN,))
    second = chains.judge("3.3", (ROOT_PATTERN,))
    account.settled()
    assert verdict(first) == verdict(second) == (NON_COMPLIANT, "Multi-region trail cis-trail is not logging.")


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("logs", "describe_metric_filters", "AccessDeniedException"),
        ("sns", "list_subscriptions_by_topic", "AuthorizationError"),
    ],
    ids=["metric_filters_denied", "subscriptions_denied"],
)
def test_a_link_that_cannot_be_read_is_an_error_not_a_missing_link(account, service, operation, code):
    trails(account, trail_item())
    if service == "logs":
        account.fail("logs", operation, code, {"logGroupName": LOG_GROUP, "limit": METRIC_FILTERS_PAGE})
    else:
        filters(account, filter_item("cis-filter", PATTERN))
        alarms_for_metric(account, alarm_item("cis-alarm"))
        account.fail("sns", operation, code, {"TopicArn": topic()})
    with pytest.raises(cis_monitoring.ClientError) as error:
        account.judge()
    assert error.value.response["Error"]["Code"] == code


class UnauthorizedCalls(cis_monitoring.MetricFilterAlarmRule):
    CONTROL = "3.1"
    ACCEPTED_PATTERNS = (PATTERN,)


class Factory:
    def __init__(self, account: Account) -> None:
        self.build_client = account.client


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (
            {},
            (
                NON_COMPLIANT,
                f"SNS topic cis-alarms of alarm cis-alarm is owned by account {CENTRAL}, which the rule parameter "
                "trustedTopicAccounts does not list.",
            ),
        ),
        (
            {"trustedTopicAccounts": f"111122223333, {CENTRAL}"},
            (
                NOT_APPLICABLE,
                f"SNS topic cis-alarms of alarm cis-alarm is owned by account {CENTRAL}, so its subscriptions "
                "cannot be verified from this account.",
            ),
        ),
    ],
    ids=["topic_account_not_listed", "topic_account_listed"],
)
def test_the_rule_judges_its_control_in_its_own_region_for_its_account(account, monkeypatch, parameters, expected):
    # The rule runs in eu-west-1: the trails are listed there, and its account is the resource.
    monkeypatch.setenv("AWS_REGION", OTHER_REGION)
    home = trail_item(region=OTHER_REGION)
    account.answer("cloudtrail", "describe_trails", {"trailList": [home]}, region=OTHER_REGION)
    account.answer("cloudtrail", "get_trail_status", {"IsLogging": True}, region=OTHER_REGION)
    account.answer("cloudtrail", "get_event_selectors", EVERY_EVENT, region=OTHER_REGION)
    filters(account, filter_item("cis-filter", PATTERN), region=OTHER_REGION)
    request = {"MetricName": "cis-metric", "Namespace": "CISBenchmark"}
    central = alarm_item("cis-alarm", actions=(topic(CENTRAL, OTHER_REGION),))
    account.answer("cloudwatch", "describe_alarms_for_metric", {"MetricAlarms": [central]}, request, OTHER_REGION)
    rule = UnauthorizedCalls()
    event = {"accountId": ACCOUNT, "configRuleArn": f"arn:aws:config:{OTHER_REGION}:{ACCOUNT}:config-rule/r"}
    [evaluation] = rule.evaluate_periodic(event, Factory(account), rule.evaluate_parameters(parameters))
    account.settled()
    assert (evaluation.complianceResourceType, evaluation.complianceResourceId) == ("AWS::::Account", ACCOUNT)
    assert (evaluation.complianceType, evaluation.annotation) == expected


def test_a_compliant_chain_is_the_account_s_compliant_evaluation(account, monkeypatch):
    monkeypatch.setenv("AWS_REGION", REGION)
    trails(account, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm"))
    subscribed(account)
    rule = UnauthorizedCalls()
    [evaluation] = rule.evaluate_periodic({"accountId": ACCOUNT}, Factory(account), rule.evaluate_parameters({}))
    account.settled()
    assert (evaluation.complianceResourceType, evaluation.complianceResourceId) == ("AWS::::Account", ACCOUNT)
    assert evaluation.complianceType == "COMPLIANT"
    assert evaluation.annotation.startswith("Trail cis-trail feeds filter cis-filter on log group CloudTrail/cis;")


def test_outside_lambda_the_rule_runs_in_the_region_of_its_arn_and_names_its_control(account, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    account.answer("cloudtrail", "describe_trails", {"trailList": []}, region=OTHER_REGION)
    rule = UnauthorizedCalls()
    event = {"accountId": ACCOUNT, "configRuleArn": f"arn:aws:config:{OTHER_REGION}:{ACCOUNT}:config-rule/r"}
    [evaluation] = rule.evaluate_periodic(event, Factory(account), rule.evaluate_parameters({}))
    account.settled()
    assert (evaluation.complianceType, evaluation.annotation) == (
        NON_COMPLIANT,
        "No CloudTrail trail exists in this account.",
    )


def test_the_rule_names_its_own_control_in_the_annotation(account, monkeypatch):
    monkeypatch.setenv("AWS_REGION", REGION)
    trails(account, trail_item())
    filters(account, filter_item("other-control", '{ $.eventName = "CreateUser" }'))
    rule = UnauthorizedCalls()
    [evaluation] = rule.evaluate_periodic({"accountId": ACCOUNT}, Factory(account), rule.evaluate_parameters({}))
    account.settled()
    assert evaluation.annotation == (
        "No metric filter on log group CloudTrail/cis of trail cis-trail covers the CIS 3.1 pattern; no filter "
        'tests this control\'s events, e.g. {"errorCode": "UnauthorizedOperation"}.'
    )


def test_an_organisation_trail_alone_cannot_be_verified_from_a_member_account(account):
    trails(account, organisation_trail(), logging=0)
    assert verdict(account.judge()) == (
        NOT_APPLICABLE,
        f"Trail org-trail is owned by account {CENTRAL}, so its monitoring chain cannot be verified from this account.",
    )


def test_the_account_s_own_trail_is_judged_before_an_organisation_trail_that_sorts_first(account):
    # The organisation trail's ARN (account 000011112222) sorts before this account's; the own
    # trail, which can make the verdict COMPLIANT, is judged first all the same. Time runs short
    # once the clock has been read three times (at the start, before the own trail, before its
    # filters): judging the organisation trail first would spend one of them and stop the run.
    early = "000011112222"
    org = {
        **organisation_trail(),
        "TrailARN": f"arn:aws:cloudtrail:{REGION}:{early}:trail/org-trail",
        "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{REGION}:{early}:log-group:org/CloudTrail:*",
    }
    trails(account, org, trail_item())
    filters(account, filter_item("cis-filter", PATTERN))
    alarms_for_metric(account, alarm_item("cis-alarm"))
    subscribed(account)
    cis_rule._DEADLINE.start(Readings(300_000, 300_000, 300_000, 1_000))
    try:
        outcome = account.judge()
    finally:
        cis_rule._DEADLINE.stop()
    assert verdict(outcome)[0] == "COMPLIANT"


def test_a_deleted_log_group_is_named_rather_than_a_single_region_trail(account):
    trails(account, REGIONAL, trail_item())
    account.fail(
        "logs", "describe_metric_filters", "ResourceNotFoundException", {"logGroupName": LOG_GROUP, "limit": 50}
    )
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        "Log group CloudTrail/cis of trail cis-trail does not exist in us-east-1.",
    )


def test_filters_that_cover_together_are_named_together(account):
    # Two filters write one metric and cover the pattern together; the alarm on it is disabled.
    trails(account, REGIONAL, trail_item())
    filters(
        account,
        filter_item("cis-denied", '{ $.errorCode = "AccessDenied*" }'),
        filter_item("cis-unauthorized", '{ $.errorCode = "*UnauthorizedOperation" }'),
    )
    alarms_for_metric(account, alarm_item("cis-alarm", enabled=False))
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        f"Alarm cis-alarm on {METRIC} of filters cis-denied and cis-unauthorized has its actions disabled.",
    )


@pytest.mark.parametrize(
    ("written", "named", "annotation"),
    [
        (None, {"Code": "AccessDenied"}, "(written with no dimensions): alarm by-code names Code"),
        ({"Code": "$.errorCode"}, None, "(written with Code): alarm by-code names no dimensions"),
    ],
    ids=["filter_without_dimensions", "alarm_without_dimensions"],
)
def test_an_alarm_on_another_series_of_the_metric_says_which_dimensions_each_has(account, written, named, annotation):
    trails(account, trail_item())
    filters(account, filter_item("cis-filter", PATTERN, dimensions=written))
    if written:
        all_alarms(account, {"MetricAlarms": [alarm_item("by-code", dimensions=named)]})
    else:
        alarms_for_metric(account, alarm_item("by-code", dimensions=named))
    assert verdict(account.judge()) == (
        NON_COMPLIANT,
        f"No alarm watches the series of {METRIC} of filter cis-filter {annotation}, so it sees none of them.",
    )


@pytest.mark.parametrize(
    ("patterns", "annotation"),
    [
        (
            {"a-unrelated": '{ $.eventName = "CreateUser" }', "b-close": '{ $.errorCode = "*UnauthorizedOperation" }'},
            '; the closest, b-close, misses {"errorCode": "AccessDenied"}',
        ),
        (
            {
                "a-names-both": '{ $.userAgent = "*UnauthorizedOperation*" && $.sourceIPAddress = "AccessDenied" }',
                "b-matches-some": '{ $.errorCode = "AccessDenied*" }',
            },
            '; the closest, b-matches-some, misses {"errorCode": "UnauthorizedOperation"}',
        ),
    ],
    ids=["a_filter_matching_some_events_before_one_matching_none", "matching_events_before_naming_values"],
)
def test_the_closest_filter_is_the_one_matching_most_of_the_control_s_events(patterns, annotation):
    # Several filters, none covering CIS 3.1: the one matching most of the control's sample
    # events is named, whatever its name's order or how many of the control's values another names.
    found = [MetricFilter(name, LOG_GROUP, REGION, pattern, ()) for name, pattern in patterns.items()]
    assert closest_miss(found, (PATTERN,)) == annotation
