"""CIS 2.4: deliver a trail to a CloudWatch Logs log group.

A trail that already delivers to a log group is left as it is. Otherwise the log group
``LogGroupName`` (default ``cis-cloudtrail/<trail>``) is created in the trail's home region when
absent (no expiry), with the role ``cis-config-pack-cloudtrail-logs`` that lets CloudTrail write
to it (created when absent), and the trail is pointed at both. IAM takes a few seconds to make a
new role usable, so the update is retried for up to a minute on that one error.
"""

from __future__ import annotations

import time
from typing import Any

from runbook_base import (
    Changes,
    ClientError,
    RemediationError,
    account_and_partition,
    client,
    ensure_log_group,
    ensure_service_role,
    error_code,
    log_group_arn,
)

ACTIONS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:UpdateTrail",
    "logs:DescribeLogGroups",
    "logs:CreateLogGroup",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:PassRole",
)
ROLE_NAME = "cis-config-pack-cloudtrail-logs"
RETRY_SECONDS = (0, 5, 10, 15, 30)


def enable_cloudwatch_logs(trail_id: str, log_group: str) -> Changes:
    changes = Changes("CisPack-EnableTrailCloudWatchLogs")
    account, partition = account_and_partition()
    found = client("cloudtrail").describe_trails(trailNameList=[trail_id], includeShadowTrails=True)["trailList"]
    if not found:
        raise RemediationError(f"No trail {trail_id} exists (deleted since AWS Config evaluated it?).")
    trail = found[0]
    name, region = str(trail["Name"]), str(trail.get("HomeRegion") or client("cloudtrail").meta.region_name)
    if str(trail["TrailARN"]).split(":")[4] != account:
        raise RemediationError(f"Trail {name} belongs to another account: its owner must change it.")
    if trail.get("CloudWatchLogsLogGroupArn"):
        changes.keep(f"trail {name} delivers to {trail['CloudWatchLogsLogGroupArn']}")
        return changes
    log_group = log_group or f"cis-cloudtrail/{name}"
    ensure_log_group(changes, client("logs", region), log_group)
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
    if not log_group.startswith("cis-cloudtrail/"):
        policy["Statement"][0]["Resource"] = group_arn
    role_arn = ensure_service_role(changes, ROLE_NAME, "cloudtrail.amazonaws.com", "write-trail-log-groups", policy)
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
    return enable_cloudwatch_logs(str(events["TrailName"]), str(events.get("LogGroupName") or "")).result()
