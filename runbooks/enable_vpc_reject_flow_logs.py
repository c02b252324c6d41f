"""CIS 2.9: flow logs of rejected traffic for a VPC, to a CloudWatch Logs log group.

A VPC that already has an active flow log of rejected traffic, or of all traffic (which holds
the rejected), is left as it is. Otherwise the log group ``LogGroupName`` (default
``cis-vpc-flow-logs``; it must start with that, the groups the pack's roles may write) is created
when absent, kept ``LogRetentionDays`` days, with the role ``cis-config-pack-vpc-flow-logs`` that
lets VPC Flow Logs, for this account's flow logs only, write to it (created when absent, under the
pack's log-delivery permissions boundary).
"""

from __future__ import annotations

from typing import Any

from runbook_base import (
    Changes,
    RemediationError,
    account_and_partition,
    boundary_arn,
    client,
    ensure_log_group,
    ensure_service_role,
    pack_log_group,
    retention_days,
)

ACTIONS = (
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "ec2:CreateFlowLogs",
    "logs:DescribeLogGroups",
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:PassRole",
)
ROLE_NAME = "cis-config-pack-vpc-flow-logs"
ROLE = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/" + ROLE_NAME,)
LOG_GROUPS = ("arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:cis-vpc-flow-logs*",)
BOUNDED = {"StringEquals": {"iam:PermissionsBoundary": "${LogDeliveryBoundary}"}}
SCOPE = {
    "ec2:CreateFlowLogs": (
        "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:vpc/*",
        "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:vpc-flow-log/*",
    ),
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
    "iam:PassRole": {"StringEquals": {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}},
}


def enable_reject_flow_logs(vpc_id: str, log_group: str, retention: int) -> Changes:
    changes = Changes("CisPack-EnableVpcRejectFlowLogs")
    ec2 = client("ec2")
    if not ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"]:
        raise RemediationError(
            f"No VPC {vpc_id} exists in {ec2.meta.region_name} (deleted since AWS Config evaluated it?)."
        )
    flow_logs = [
        log
        for page in ec2.get_paginator("describe_flow_logs").paginate(
            Filters=[{"Name": "resource-id", "Values": [vpc_id]}]
        )
        for log in page.get("FlowLogs", [])
    ]
    covering = [
        f
        for f in flow_logs
        if f.get("TrafficType") in ("REJECT", "ALL") and f.get("FlowLogStatus", "ACTIVE") == "ACTIVE"
    ]
    if covering:
        found = covering[0]
        changes.keep(f"VPC {vpc_id} has flow log {found.get('FlowLogId')} of {found.get('TrafficType')} traffic")
        return changes
    log_group = pack_log_group(log_group, "LogGroupName")
    account, partition = account_and_partition()
    region = str(ec2.meta.region_name)
    ensure_log_group(changes, client("logs", region), log_group, retention)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                ],
                "Resource": f"arn:{partition}:logs:*:{account}:log-group:{log_group}:*",
            }
        ],
    }
    role_arn = ensure_service_role(
        changes,
        ROLE_NAME,
        "vpc-flow-logs.amazonaws.com",
        f"arn:{partition}:ec2:*:{account}:vpc-flow-log/*",
        boundary_arn(),
        "write-flow-log-group",
        policy,
    )
    created = ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="REJECT",
        LogDestinationType="cloud-watch-logs",
        LogGroupName=log_group,
        DeliverLogsPermissionArn=role_arn,
    )
    if created.get("Unsuccessful"):
        reason = created["Unsuccessful"][0].get("Error", {}).get("Message", "unknown reason")
        raise RemediationError(f"VPC Flow Logs refused a flow log for VPC {vpc_id}: {reason}")
    changes.change(
        f"created flow log {created['FlowLogIds'][0]} of rejected traffic of VPC {vpc_id} to log group {log_group}",
        f"ec2 vpc {vpc_id}",
        after={"FlowLogId": created["FlowLogIds"][0], "LogGroupName": log_group, "Role": role_arn},
    )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    vpc_id = str(events["VpcId"])
    retention = retention_days(str(events.get("LogRetentionDays") or "365"))
    log_group = str(events.get("LogGroupName") or "cis-vpc-flow-logs")
    return enable_reject_flow_logs(vpc_id, log_group, retention).result(vpc_id)
