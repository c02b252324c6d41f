"""CIS 2.9: flow logs of rejected traffic for a VPC, to a CloudWatch Logs log group.

A VPC that already has an active flow log of rejected traffic is left as it is. Otherwise the log
group ``LogGroupName`` (default ``cis-vpc-flow-logs``) is created when absent (no expiry), with the
role ``cis-config-pack-vpc-flow-logs`` that lets VPC Flow Logs write to it (created when absent).
"""

from __future__ import annotations

from typing import Any

from runbook_base import (
    Changes,
    RemediationError,
    account_and_partition,
    client,
    ensure_log_group,
    ensure_service_role,
)

ACTIONS = (
    "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs",
    "ec2:CreateFlowLogs",
    "logs:DescribeLogGroups",
    "logs:CreateLogGroup",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:PassRole",
)
ROLE_NAME = "cis-config-pack-vpc-flow-logs"


def enable_reject_flow_logs(vpc_id: str, log_group: str) -> Changes:
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
    rejecting = [
        f for f in flow_logs if f.get("TrafficType") == "REJECT" and f.get("FlowLogStatus", "ACTIVE") == "ACTIVE"
    ]
    if rejecting:
        changes.keep(f"VPC {vpc_id} has flow log {rejecting[0].get('FlowLogId')} of rejected traffic")
        return changes
    account, partition = account_and_partition()
    region = str(ec2.meta.region_name)
    ensure_log_group(changes, client("logs", region), log_group)
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
    role_arn = ensure_service_role(changes, ROLE_NAME, "vpc-flow-logs.amazonaws.com", "write-flow-log-group", policy)
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
    return enable_reject_flow_logs(
        str(events["VpcId"]), str(events.get("LogGroupName") or "cis-vpc-flow-logs")
    ).result()
