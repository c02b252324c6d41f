"""The events AWS Config sends a custom rule's Lambda."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def _timestamp(now: datetime | None) -> str:
    """AWS Config's notification time: UTC, milliseconds, ``Z``."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _envelope(
    rule_name: str,
    invoking: Mapping[str, Any],
    parameters: Mapping[str, Any] | None,
    *,
    account: str,
    region: str,
    left_scope: bool,
    result_token: str,
    execution_role_arn: str | None,
) -> dict[str, Any]:
    """What every event AWS Config sends a rule carries around its invoking event."""
    rule_id = f"config-rule-{rule_name.lower().replace('_', '')[:12]}"
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(dict(parameters or {})),
        "resultToken": result_token,
        "eventLeftScope": left_scope,
        "executionRoleArn": execution_role_arn or f"arn:aws:iam::{account}:role/rdk/config-role",
        "configRuleArn": f"arn:aws:config:{region}:{account}:config-rule/{rule_id}",
        "configRuleName": rule_name,
        "configRuleId": rule_id,
        "accountId": account,
    }


def scheduled_event(
    rule_name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    account: str,
    region: str,
    now: datetime | None = None,
    result_token: str = "TESTMODE",
    execution_role_arn: str | None = None,
) -> dict[str, Any]:
    """A ``ScheduledNotification`` event for a periodic rule, as AWS Config shapes it."""
    invoking = {
        "awsAccountId": account,
        "notificationCreationTime": _timestamp(now),
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    }
    return _envelope(
        rule_name,
        invoking,
        parameters,
        account=account,
        region=region,
        left_scope=False,
        result_token=result_token,
        execution_role_arn=execution_role_arn,
    )


def change_event(
    rule_name: str,
    item: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    *,
    account: str,
    region: str,
    now: datetime | None = None,
    left_scope: bool = False,
    result_token: str = "TESTMODE",
    execution_role_arn: str | None = None,
) -> dict[str, Any]:
    """A ``ConfigurationItemChangeNotification`` for configuration item ``item`` (see
    :mod:`cispack.local.config_items`), as AWS Config sends it to a change-triggered rule."""
    deleted = item.get("configurationItemStatus") == "ResourceDeleted"
    invoking = {
        "configurationItemDiff": {"changedProperties": {}, "changeType": "DELETE" if deleted else "UPDATE"},
        "configurationItem": dict(item),
        "notificationCreationTime": _timestamp(now),
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    }
    return _envelope(
        rule_name,
        invoking,
        parameters,
        account=account,
        region=region,
        left_scope=left_scope,
        result_token=result_token,
        execution_role_arn=execution_role_arn,
    )


#: The fields of a configuration item that an oversized notification's summary keeps.
SUMMARY_FIELDS = (
    "configurationItemVersion",
    "configurationItemCaptureTime",
    "configurationStateId",
    "awsAccountId",
    "configurationItemStatus",
    "resourceType",
    "resourceId",
    "resourceName",
    "ARN",
    "awsRegion",
    "availabilityZone",
    "configurationStateMd5Hash",
    "resourceCreationTime",
)


def oversized_change_event(
    rule_name: str,
    item: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    *,
    account: str,
    region: str,
    now: datetime | None = None,
    left_scope: bool = False,
    result_token: str = "TESTMODE",
    execution_role_arn: str | None = None,
) -> dict[str, Any]:
    """An ``OversizedConfigurationItemChangeNotification``: AWS Config sends it instead of
    :func:`change_event` when the item does not fit the Lambda payload, with the item's summary
    only; the rule reads the item back with ``GetResourceConfigHistory``."""
    event = change_event(
        rule_name,
        item,
        parameters,
        account=account,
        region=region,
        now=now,
        left_scope=left_scope,
        result_token=result_token,
        execution_role_arn=execution_role_arn,
    )
    invoking = json.loads(event["invokingEvent"])
    invoking.pop("configurationItem")
    invoking.pop("configurationItemDiff")
    deleted = item.get("configurationItemStatus") == "ResourceDeleted"
    invoking["configurationItemSummary"] = {
        "changeType": "DELETE" if deleted else "UPDATE",
        **{key: item.get(key) for key in SUMMARY_FIELDS},
    }
    invoking["s3DeliverySummary"] = {"s3BucketLocation": f"config-bucket-{account}/AWSLogs/{account}/Config/{region}"}
    invoking["messageType"] = "OversizedConfigurationItemChangeNotification"
    invoking["recordVersion"] = "1.0"
    event["invokingEvent"] = json.dumps(invoking)
    return event
