"""CIS 2.4: deliver a trail to a CloudWatch Logs log group.

A trail that already delivers to a log group is left as it is, as is a trail of another account
(an organisation trail: its owner changes it). Otherwise the log group ``LogGroupName`` (default
``cis-cloudtrail/<trail>``; it must start with ``cis-cloudtrail/``, the groups the pack's roles may
write) is created in the trail's home region when absent, kept ``LogRetentionDays`` days, with
the role ``cis-config-pack-cloudtrail-logs`` that lets CloudTrail, for this account's trails
only, write to the pack's trail log groups (created when absent, under the pack's log-delivery
permissions boundary), and the trail is pointed at both. IAM takes a few seconds to make a new
role usable, so the update is retried for up to a minute on that one error.
"""

from __future__ import annotations

import time
from typing import Any

from runbook_base import (
    Changes,
    ClientError,
    account_and_partition,
    boundary_arn,
    client,
    ensure_log_group,
    ensure_service_role,
    error_code,
    log_group_arn,
    own_trail,
    pack_log_group,
    retention_days,
)

ACTIONS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:UpdateTrail",
    "logs:DescribeLogGroups",
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:PassRole",
)
ROLE_NAME = "cis-config-pack-cloudtrail-logs"
ROLE = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" + ROLE_NAME,)
LOG_GROUPS = ("arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:cis-cloudtrail/*",)
BOUNDED = {"StringEquals": {"iam:PermissionsBoundary": "${LogDeliveryBoundary}"}}
SCOPE = {
    "cloudtrail:UpdateTrail": ("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*",),
    "logs:CreateLogGroup": LOG_GROUPS,
    "logs:PutRetentionPolicy": LOG_GROUPS,
    "iam:GetRole": ROLE,
    "iam:CreateRole": ROLE,
    "iam:PutRolePolicy": ROLE,
    "iam:PassRole": ROLE,
}
CONDITIONS = {
    "iam:CreateRole": BOUNDED,
    "iam:PutRolePolicy": BOUNDED,
    "iam:PassRole": {"StringEquals": {"iam:PassedToService": "cloudtrail.amazonaws.com"}},
}
RETRY_SECONDS = (0, 5, 10, 15, 30)


def enable_cloudwatch_logs(trail_id: str, log_group: str, retention: int) -> Changes:
    changes = Changes("CisPack-EnableTrailCloudWatchLogs")
    account, partition = account_and_partition()
    trail = own_trail(trail_id, account)
    name, region = str(trail["Name"]), str(trail["HomeRegion"])
    if trail.get("CloudWatchLogsLogGroupArn"):
        changes.keep(f"trail {name} delivers to {trail['CloudWatchLogsLogGroupArn']}")
        return changes
    log_group = pack_log_group(log_group or f"cis-cloudtrail/{name}", "LogGroupName")
    ensure_log_group(changes, client("logs", region), log_group, retention)
    group_arn = log_group_arn(partition, region, account, log_group)
    policy: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:{partition}:logs:*:{account}:log-group:cis-cloudtrail/*",
            }
        ],
    }
    role_arn = ensure_service_role(
        changes,
        ROLE_NAME,
        "cloudtrail.amazonaws.com",
        f"arn:{partition}:cloudtrail:*:{account}:trail/*",
        boundary_arn(),
        "write-trail-log-groups",
        policy,
    )
    cloudtrail = client("cloudtrail", region)
    for delay in RETRY_SECONDS:
        time.sleep(delay)
        try:
            cloudtrail.update_trail(Name=name, CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=role_arn)
            break
        except ClientError as err:
            if error_code(err) != "InvalidCloudWatchLogsRoleArnException" or delay == RETRY_SECONDS[-1]:
                raise
    changes.change(
        f"trail {name} now delivers to log group {log_group}",
        f"cloudtrail trail {name}",
        before=None,
        after={"CloudWatchLogsLogGroupArn": group_arn, "CloudWatchLogsRoleArn": role_arn},
    )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    trail = str(events["TrailName"])
    retention = retention_days(str(events.get("LogRetentionDays") or "365"))
    return enable_cloudwatch_logs(trail, str(events.get("LogGroupName") or ""), retention).result(trail)
