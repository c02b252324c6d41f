"""Build AWS state in moto: CIS 3.x monitoring chains (trail → log group → metric filter → alarm →
SNS topic) and the S3 buckets of CIS 2.3 and 2.6.

Shared by the demo's seeds and the tests (the fourteen ``METRIC_FILTER_ALARM_*`` tests,
``tests/test_monitoring_chain.py``, the benchmarks); test-only helpers are in
:mod:`cispack.testing.monitoring`. Every helper takes ``aws``: anything with
``client(service, region=None)`` — a :class:`cispack.testing.cases.RuleTestCase` or a
:class:`cispack.local.demo.DemoAccount`.

moto facts these helpers lean on: a new trail has no event selectors until ``PutEventSelectors``
(AWS gives it a default "All, management events" selector), so :func:`add_trail` always puts
one; a trail is logging only after ``StartLogging``; moto lists every subscription with a real
ARN (it never leaves one ``PendingConfirmation``), so a pending subscription needs a recorded
``ListSubscriptionsByTopic`` answer (:func:`cispack.testing.monitoring.pending_subscriptions`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
NAMESPACE = "CISBenchmark"
TRAIL = "cis-trail"
LOG_GROUP = "CloudTrail/cis"
TOPIC = "cis-alarms"

#: Classic selector that logs every management event, reads and writes.
ALL_MANAGEMENT = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]


class Aws(Protocol):
    def client(self, service: str, region: str = ...) -> Any: ...


def _client(aws: Aws, service: str, region: str) -> Any:
    return aws.client(service, region)


def add_bucket(
    aws: Aws,
    name: str,
    region: str = REGION,
    *,
    acl: str | None = None,
    policy: Sequence[Mapping[str, Any]] | None = None,
    block: Iterable[str] = (),
    log_to: str | None = None,
) -> None:
    """A bucket with, optionally, a canned ACL, a policy of these statements, these bucket-level
    Block Public Access settings on, and server access logging to a new bucket ``log_to``."""
    s3 = _client(aws, "s3", region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **location)
    if acl:
        s3.put_bucket_acl(Bucket=name, ACL=acl)
    if policy:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(policy)}))
    settings = list(block)
    if settings:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={k: True for k in settings})
    if log_to:
        s3.create_bucket(Bucket=log_to, ACL="log-delivery-write", **location)
        s3.put_bucket_logging(
            Bucket=name, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": log_to, "TargetPrefix": f"{name}/"}}
        )


def set_account_block(aws: Aws, *settings: str, account: str = ACCOUNT_ID) -> None:
    """These account-level S3 Block Public Access settings on, the others off."""
    aws.client("s3control").put_public_access_block(
        AccountId=account, PublicAccessBlockConfiguration={k: True for k in settings}
    )


def log_group_arn(name: str = LOG_GROUP, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{name}:*"


def topic_arn(name: str = TOPIC, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def add_log_group(aws: Aws, name: str = LOG_GROUP, region: str = REGION) -> str:
    logs = _client(aws, "logs", region)
    existing = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    if not any(group["logGroupName"] == name for group in existing):
        logs.create_log_group(logGroupName=name)
    return log_group_arn(name, region, _account(aws))


def _account(aws: Aws) -> str:
    return str(getattr(aws, "account_id", ACCOUNT_ID))


def add_trail(
    aws: Aws,
    name: str = TRAIL,
    region: str = REGION,
    *,
    log_group: str | None = LOG_GROUP,
    multi_region: bool = True,
    logging: bool = True,
    event_selectors: Sequence[Mapping[str, Any]] | None = ALL_MANAGEMENT,
    advanced_event_selectors: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """A trail homed in ``region`` delivering to ``log_group`` (created there); returns its ARN."""
    bucket = f"{name}-logs-{_account(aws)}"
    s3 = _client(aws, "s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    cloudtrail = _client(aws, "cloudtrail", region)
    extra: dict[str, Any] = {}
    if log_group is not None:
        extra["CloudWatchLogsLogGroupArn"] = add_log_group(aws, log_group, region)
        extra["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{_account(aws)}:role/CloudTrail_CloudWatchLogs_Role"
    arn = str(
        cloudtrail.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi_region, **extra)["TrailARN"]
    )
    if advanced_event_selectors is not None:
        cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=list(advanced_event_selectors))
    elif event_selectors is not None:
        cloudtrail.put_event_selectors(TrailName=name, EventSelectors=list(event_selectors))
    if logging:
        cloudtrail.start_logging(Name=name)
    return arn


def add_metric_filter(
    aws: Aws,
    name: str,
    pattern: str,
    *,
    metric: str | None = None,
    namespace: str = NAMESPACE,
    log_group: str = LOG_GROUP,
    region: str = REGION,
    dimensions: Mapping[str, str] | None = None,
) -> str:
    """A metric filter publishing ``namespace/metric`` (default: the filter's name); returns the metric name."""
    metric = metric or name
    transformation: dict[str, Any] = {"metricName": metric, "metricNamespace": namespace, "metricValue": "1"}
    if dimensions:
        transformation["dimensions"] = dict(dimensions)
    _client(aws, "logs", region).put_metric_filter(
        logGroupName=log_group, filterName=name, filterPattern=pattern, metricTransformations=[transformation]
    )
    return metric


def add_topic(aws: Aws, name: str = TOPIC, region: str = REGION, *, subscribers: int = 1) -> str:
    """An SNS topic with ``subscribers`` SQS subscriptions (moto lists them confirmed)."""
    sns = _client(aws, "sns", region)
    arn = str(sns.create_topic(Name=name)["TopicArn"])
    for index in range(subscribers):
        sns.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=f"arn:aws:sqs:{region}:{_account(aws)}:{name}-queue-{index}"
        )
    return arn


def add_alarm(
    aws: Aws,
    name: str,
    metric: str,
    *,
    namespace: str = NAMESPACE,
    actions: Sequence[str] = (),
    actions_enabled: bool = True,
    region: str = REGION,
    dimensions: Sequence[Mapping[str, str]] = (),
) -> None:
    """An alarm on ``namespace/metric`` as the benchmark's remediation creates it."""
    _client(aws, "cloudwatch", region).put_metric_alarm(
        AlarmName=name,
        MetricName=metric,
        Namespace=namespace,
        Statistic="Sum",
        Period=300,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        EvaluationPeriods=1,
        ActionsEnabled=actions_enabled,
        AlarmActions=list(actions),
        Dimensions=list(dimensions),
    )


@dataclass(frozen=True)
class Chain:
    """Names of what :func:`add_chain` built."""

    trail: str
    log_group: str
    filter: str
    metric: str
    alarm: str
    topic: str
    topic_arn: str


def add_chain(
    aws: Aws,
    pattern: str,
    *,
    filter_name: str = "cis-filter",
    region: str = REGION,
    trail: str = TRAIL,
    log_group: str = LOG_GROUP,
    with_trail: bool = True,
    alarm: str | None = None,
    topic: str = TOPIC,
) -> Chain:
    """A complete chain for ``pattern``: trail (unless ``with_trail`` is false) → log group →
    filter → alarm → topic with one confirmed subscription, all in ``region``."""
    if with_trail:
        add_trail(aws, trail, region, log_group=log_group)
    else:
        add_log_group(aws, log_group, region)
    metric = add_metric_filter(aws, filter_name, pattern, log_group=log_group, region=region)
    arn = add_topic(aws, topic, region)
    alarm = alarm or f"{filter_name}-alarm"
    add_alarm(aws, alarm, metric, actions=[arn], region=region)
    return Chain(trail, log_group, filter_name, metric, alarm, topic, arn)
