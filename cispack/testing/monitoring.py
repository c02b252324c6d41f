"""Test-only helpers for CIS 3.x monitoring chains: the COMPLIANT annotation a chain gets, a
broader pattern, a pending subscription answer, and AWS-sized pages for listings moto answers
in one page. The AWS state itself is built by :mod:`cispack.local.builders`."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from cispack.local.builders import (
    ACCOUNT_ID,
    REGION,
    TOPIC,
    Aws,
    Chain,
    add_alarm,
    add_metric_filter,
    add_topic,
    add_trail,
    topic_arn,
)


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


def dimensioned_chain(
    pattern: str, filter_name: str, dimensions: Mapping[str, str], alarm_dimensions: Mapping[str, str]
) -> Any:
    """A chain whose filter writes its metric with ``dimensions`` (name -> selector) and whose
    alarm watches the series ``alarm_dimensions`` (name -> value) names: a ``given`` step."""

    def build(aws: Aws) -> None:
        add_trail(aws)
        metric = add_metric_filter(aws, filter_name, pattern, dimensions=dimensions)
        arn = add_topic(aws)
        values = [{"Name": name, "Value": value} for name, value in alarm_dimensions.items()]
        add_alarm(aws, f"{filter_name}-alarm", metric, actions=[arn], dimensions=values)

    return build


#: Thirteen resource words, one of which (``Policy``) every IAM policy change contains.
KEYWORDS = (
    "User",
    "Role",
    "Group",
    "Key",
    "Trail",
    "Bucket",
    "Vpc",
    "Route",
    "Gateway",
    "Acl",
    "Alarm",
    "Topic",
    "Policy",
)


def keyword_filter(words: Sequence[str], field: str = "eventName") -> str:
    """One filter with a ``"*word*"`` term per word on ``field``, as broad filters are written."""
    return "{ " + " || ".join(f'($.{field} = "*{word}*")' for word in words) + " }"


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
