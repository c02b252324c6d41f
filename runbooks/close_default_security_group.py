"""CIS 4.3: remove every inbound and outbound rule of a VPC's default security group.

Only a group named ``default`` (the one every VPC has, which the rule judges). Instances that
rely on it lose that traffic: that is what the control asks, hence the manual mode. Every rule
removed is in the change record, to authorise again (or move to a group of its own) by hand.
"""

from __future__ import annotations

from typing import Any

from runbook_base import Changes, RemediationError, client

ACTIONS = ("ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress")
GROUPS = ("arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:security-group/*",)
SCOPE = {"ec2:RevokeSecurityGroupIngress": GROUPS, "ec2:RevokeSecurityGroupEgress": GROUPS}
#: What a rule of DescribeSecurityGroups' answer holds that a revoke call takes.
RULE_KEYS = ("IpProtocol", "FromPort", "ToPort", "IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs")


def close_default_group(group_id: str) -> Changes:
    changes = Changes("CisPack-CloseDefaultSecurityGroup")
    ec2 = client("ec2")
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroups"]
    if not groups:
        raise RemediationError(f"No security group {group_id} exists (deleted since AWS Config evaluated it?).")
    group = groups[0]
    if group.get("GroupName") != "default":
        raise RemediationError(f"Security group {group_id} is not a VPC's default security group: left unchanged.")
    for direction, revoke in (
        ("IpPermissions", ec2.revoke_security_group_ingress),
        ("IpPermissionsEgress", ec2.revoke_security_group_egress),
    ):
        rules = [{k: v for k, v in rule.items() if k in RULE_KEYS and v != []} for rule in group.get(direction, [])]
        if not rules:
            continue
        revoke(GroupId=group_id, IpPermissions=rules)
        kind = "inbound" if direction == "IpPermissions" else "outbound"
        changes.change(
            f"removed {len(rules)} {kind} rules of default security group {group_id}",
            f"ec2 security group {group_id}",
            before=rules,
            after=[],
        )
    if not changes.changed:
        changes.keep(f"default security group {group_id} has no rule")
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    group_id = str(events["GroupId"])
    return close_default_group(group_id).result(group_id)
