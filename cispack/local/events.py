"""The events AWS Config sends a custom rule's Lambda."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


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
    when = (now or datetime.now(UTC)).astimezone(UTC)
    rule_id = f"config-rule-{rule_name.lower().replace('_', '')[:12]}"
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(
            {
                "awsAccountId": account,
                "notificationCreationTime": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "messageType": "ScheduledNotification",
                "recordVersion": "1.0",
            }
        ),
        "ruleParameters": json.dumps(dict(parameters or {})),
        "resultToken": result_token,
        "eventLeftScope": False,
        "executionRoleArn": execution_role_arn or f"arn:aws:iam::{account}:role/rdk/config-role",
        "configRuleArn": f"arn:aws:config:{region}:{account}:config-rule/{rule_id}",
        "configRuleName": rule_name,
        "configRuleId": rule_id,
        "accountId": account,
    }
