"""Build CIS 3.x monitoring chains (trail → log group → metric filter → alarm → SNS topic) in moto.

Shared by the fourteen ``METRIC_FILTER_ALARM_*`` tests, ``tests/test_monitoring_chain.py``, the
benchmark and the demo seed. Every helper takes ``aws``: anything with
``client(service, region=None)`` — a :class:`cispack.testing.RuleTestCase` or a
:class:`cispack.demo.DemoAccount`.

moto facts these helpers lean on: a new trail has no event selectors until ``PutEventSelectors``
(AWS gives it a default "All, management events" selector), so :func:`add_trail` always puts
one; a trail is logging only after ``StartLogging``; moto lists every subscription with a real
ARN (it never leaves one ``PendingConfirmation``), so a pending subscription needs a recorded
``ListSubscriptionsByTopic`` answer (:func:`pending_subscriptions`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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


def compliant_annotation(chain: Chain) -> str:
    return (
        f"Trail {chain.trail} feeds filter {chain.filter} on log group {chain.log_group}; alarm {chain.alarm} "
        f"notifies SNS topic {chain.topic}, which has a confirmed subscription."
    )


def superset(pattern: str, extra: str = "($.eventName = SomeOtherCall)") -> str:
    """``pattern`` with one more OR term: matches everything ``pattern`` matches, and more."""
    body = pattern.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError("a JSON filter pattern is enclosed in { }")
    return "{ (" + body[1:-1].strip() + ") || " + extra + " }"


def pending_subscriptions(topic: str = TOPIC, region: str = REGION, account: str = ACCOUNT_ID) -> dict[str, Any]:
    """A ``ListSubscriptionsByTopic`` page whose only subscription awaits confirmation."""
    arn = topic_arn(topic, region, account)
    return {
        "Subscriptions": [
            {
                "SubscriptionArn": "PendingConfirmation",
                "Owner": account,
                "Protocol": "email",
                "Endpoint": "security@example.com",
                "TopicArn": arn,
            }
        ]
    }


#: AWS's largest page per listing the chain reads (API references: DescribeMetricFilters ``limit``
#: 1-50, DescribeAlarms ``MaxRecords`` 1-100, ListSubscriptionsByTopic 100 per call).
AWS_PAGE_SIZES = {
    ("logs", "DescribeMetricFilters"): 50,
    ("cloudwatch", "DescribeAlarms"): 100,
    ("sns", "ListSubscriptionsByTopic"): 100,
}


@contextmanager
def aws_sized_pages(session: Any = None, sizes: Mapping[tuple[str, str], int] = AWS_PAGE_SIZES) -> Iterator[None]:
    """Make moto page these listings as AWS does. moto answers ``DescribeMetricFilters`` and
    ``DescribeAlarms`` in one page whatever their size; this cuts each answer to the smaller of
    the request's limit and AWS's page size and serves the rest on the following calls, under
    the operation's own token names (from botocore's paginator model)."""
    import boto3
    from botocore.awsrequest import AWSResponse

    session = session or boto3._get_default_session()
    stash: dict[str, dict[str, Any]] = {}
    tokens = itertools.count(1)
    registered: list[tuple[str, str]] = []
    for (service, operation), size in sizes.items():
        model = session._session.get_paginator_model(service).get_paginator(operation)
        input_token, output_token = model["input_token"], model["output_token"]
        keys = model["result_key"] if isinstance(model["result_key"], list) else [model["result_key"]]
        limit_key = model.get("limit_key")
        service_id = session._session.get_service_model(service).service_id.hyphenize()
        unique = f"cis-pages-{service}-{operation}-{id(stash)}"

        def params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["cis_page_params"] = dict(params)

        def before(
            context: Mapping[str, Any], input_token: str = input_token, **_: Any
        ) -> tuple[AWSResponse, dict[str, Any]] | None:
            token = context.get("cis_page_params", {}).get(input_token)
            if token in stash:
                page = stash.pop(token)
                page.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RetryAttempts": 0})
                return AWSResponse("https://local", 200, {}, None), page
            return None

        def after(
            parsed: dict[str, Any],
            context: Mapping[str, Any],
            size: int = size,
            output_token: str = output_token,
            keys: list[str] = keys,
            limit_key: str | None = limit_key,
            input_token: str = input_token,
            **_: Any,
        ) -> None:
            asked = context.get("cis_page_params", {})
            if parsed.get("Error") or "ResponseMetadata" not in parsed or asked.get(input_token) in stash:
                return
            limit = min(size, int(asked.get(limit_key) or size)) if limit_key else size
            items = {key: list(parsed.get(key) or []) for key in keys}
            if all(len(values) <= limit for values in items.values()) or parsed.get(output_token):
                return
            pages: list[dict[str, Any]] = []
            start = 0
            while any(start < len(values) for values in items.values()):
                pages.append({key: values[start : start + limit] for key, values in items.items()})
                start += limit
            names = [f"cis-page-{next(tokens)}" for _ in pages[1:]]
            for index, page in enumerate(pages[1:]):
                if index + 1 < len(names):
                    page[output_token] = names[index + 1]
                stash[names[index]] = page
            parsed.update(pages[0])
            parsed[output_token] = names[0]

        for stage, handler in (
            ("before-parameter-build", params),
            ("before-call", before),
            ("after-call", after),
        ):
            event = f"{stage}.{service_id}.{operation}"
            session.events.register(event, handler, unique_id=f"{unique}-{stage}")
            registered.append((event, f"{unique}-{stage}"))
    try:
        yield
    finally:
        for event, unique in registered:
            session.events.unregister(event, unique_id=unique)
