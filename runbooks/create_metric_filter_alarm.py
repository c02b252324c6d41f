"""CIS 3.1-3.14: the CIS metric filter on the trail's log group and an alarm on its metric that
notifies the SNS topic given.

The trail is one of this account's multi-region trails that logs every management event and
delivers to a log group of this account (CIS 2.1 and 2.4; without one the run stops and says so).
On its log group the filter ``CIS-<control>-<name>`` gets the control's CIS v1.2.0 pattern
(``PATTERNS``, which ``./pack generate`` fills from the rule's ``ACCEPTED_PATTERNS``), publishing
metric ``CIS-<control>-<name>`` (namespace ``CISBenchmark``, value 1); the alarm of the same name
(Sum over 5 minutes >= 1, missing data not breaching) has its actions enabled and notifies
``AlarmTopic`` (an ARN, or a topic name in the log group's region). Filters and alarms the pack
did not name are never touched; an existing alarm of the pack keeps its other actions. A topic
without a confirmed subscription is reported: the rule stays NON_COMPLIANT until someone
confirms one (the runbook cannot).
"""

from __future__ import annotations

from typing import Any

from runbook_base import (
    Changes,
    ClientError,
    RemediationError,
    account_and_partition,
    client,
    error_code,
    logs_all_management_events,
)

ACTIONS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "logs:DescribeMetricFilters",
    "logs:PutMetricFilter",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:PutMetricAlarm",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
)
SCOPE = {
    "cloudtrail:GetTrailStatus": ("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*",),
    "cloudtrail:GetEventSelectors": ("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*",),
    "logs:PutMetricFilter": ("arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:*",),
    "cloudwatch:PutMetricAlarm": ("arn:${AWS::Partition}:cloudwatch:*:${AWS::AccountId}:alarm:CIS-*",),
}
NAMESPACE = "CISBenchmark"

# Control -> {"name": ..., "pattern": ...}; ./pack generate writes the embedded copy.
PATTERNS: dict[str, dict[str, str]] = {}


def monitored_log_group(account: str) -> tuple[str, str, str]:
    """(trail name, log group name, region) of the first qualifying trail, by ARN."""
    cloudtrail = client("cloudtrail")
    trails = sorted(cloudtrail.describe_trails(includeShadowTrails=True)["trailList"], key=lambda t: t["TrailARN"])
    for trail in trails:
        arn = str(trail["TrailARN"])
        group_arn = str(trail.get("CloudWatchLogsLogGroupArn") or "")
        if not trail.get("IsMultiRegionTrail") or arn.split(":")[4] != account or not group_arn:
            continue
        parts = group_arn.split(":")
        if parts[4] != account:
            continue
        home = client("cloudtrail", trail.get("HomeRegion") or cloudtrail.meta.region_name)
        if home.get_trail_status(Name=arn).get("IsLogging") and logs_all_management_events(home, arn):
            return str(trail["Name"]), parts[6], parts[3]
    raise RemediationError(
        "No multi-region trail of this account logs every management event to a log group of this account: "
        "remediate CIS 2.1 and 2.4 first."
    )


def _topic_arn(topic: str, partition: str, region: str, account: str) -> str:
    return topic if topic.startswith("arn:") else f"arn:{partition}:sns:{region}:{account}:{topic}"


def create_metric_filter_alarm(account_id: str, control: str, topic: str) -> Changes:
    changes = Changes("CisPack-CreateMetricFilterAlarm")
    if control not in PATTERNS:
        raise RemediationError(f"Control {control!r} is not one of CIS 3.1-3.14.")
    account, partition = account_and_partition()
    if account_id and account_id != account:
        raise RemediationError(f"This runbook runs in account {account}, not in account {account_id} it was given.")
    trail, log_group, region = monitored_log_group(account)
    topic_arn = _topic_arn(topic, partition, region, account)
    sns = client("sns", region)
    try:
        sns.get_topic_attributes(TopicArn=topic_arn)
    except ClientError as err:
        if error_code(err) != "NotFound":
            raise
        raise RemediationError(
            f"SNS topic {topic_arn} does not exist: create it (with a confirmed subscription) or set AlarmTopic."
        ) from err
    name = f"CIS-{control}-{PATTERNS[control]['name']}"
    pattern = PATTERNS[control]["pattern"]
    transformation = {"metricName": name, "metricNamespace": NAMESPACE, "metricValue": "1"}
    logs = client("logs", region)
    existing = [
        f
        for f in logs.describe_metric_filters(logGroupName=log_group, filterNamePrefix=name).get("metricFilters", [])
        if f.get("filterName") == name
    ]
    current = existing[0] if existing else None
    same = (
        current is not None
        and current.get("filterPattern") == pattern
        and [{k: t.get(k) for k in transformation} for t in current.get("metricTransformations", [])]
        == [transformation]
    )
    if same:
        changes.keep(f"metric filter {name} on log group {log_group} has the CIS {control} pattern")
    else:
        logs.put_metric_filter(
            logGroupName=log_group, filterName=name, filterPattern=pattern, metricTransformations=[transformation]
        )
        changes.change(
            f"{'set' if current else 'created'} metric filter {name} on log group {log_group} of trail {trail}",
            f"logs log group {log_group}",
            before=current and {"filterPattern": current.get("filterPattern")},
            after={"filterPattern": pattern, **transformation},
        )
    cloudwatch = client("cloudwatch", region)
    alarms = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"]).get("MetricAlarms", [])
    alarm = alarms[0] if alarms else None
    wanted = {
        "MetricName": name,
        "Namespace": NAMESPACE,
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    actions = list(alarm.get("AlarmActions", [])) if alarm else []
    ok = (
        alarm is not None
        and alarm.get("ActionsEnabled")
        and topic_arn in actions
        and all(alarm.get(k) == v for k, v in wanted.items())
    )
    if ok:
        changes.keep(f"alarm {name} notifies {topic_arn}")
    else:
        actions = actions if topic_arn in actions else [*actions, topic_arn]
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=f"CIS {control}: {name} events in the CloudTrail log group {log_group}.",
            ActionsEnabled=True,
            AlarmActions=actions,
            OKActions=list(alarm.get("OKActions", [])) if alarm else [],
            InsufficientDataActions=list(alarm.get("InsufficientDataActions", [])) if alarm else [],
            TreatMissingData="notBreaching",
            **wanted,
        )
        changes.change(
            f"{'set' if alarm else 'created'} alarm {name}, notifying {topic_arn}",
            f"cloudwatch alarm {name}",
            before=alarm and {k: alarm.get(k) for k in ("ActionsEnabled", "AlarmActions")},
            after={"ActionsEnabled": True, "AlarmActions": actions},
        )
    confirmed = any(
        str(s.get("SubscriptionArn", "")).startswith("arn:")
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        for s in page.get("Subscriptions", [])
    )
    if not confirmed:
        changes.keep(
            f"SNS topic {topic_arn} has no confirmed subscription: CIS {control} stays NON_COMPLIANT "
            "until one is confirmed"
        )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    topic = str(events.get("AlarmTopic") or "").strip()
    if not topic:
        raise RemediationError("The runbook parameter AlarmTopic (pack parameter AlarmTopic) is empty.")
    control = str(events["Control"])
    return create_metric_filter_alarm(str(events.get("AccountId") or ""), control, topic).result(f"CIS {control}")
