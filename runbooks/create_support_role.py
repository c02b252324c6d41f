"""CIS 1.20: a role with ``AWSSupportAccess`` that the account's own principals may assume.

The role's name is a parameter (the pack's ``SupportRoleName``). A role of that name that the pack
created (tag ``cis-config-pack: 1.20``) gets the policy attached if it lacks it; any other role of
that name is left alone and the run stops, naming it: the pack never changes a role it did not
create. The role is created with ``AWSSupportAccess`` as its permissions boundary too, so it can
never hold more than that policy grants. Who may assume the role is then the account's decision
(IAM policies allowing ``sts:AssumeRole`` on it), as the benchmark leaves it.
"""

from __future__ import annotations

import json
from typing import Any

from runbook_base import Changes, ClientError, RemediationError, account_and_partition, client, error_code, required

ACTIONS = (
    "iam:GetRole",
    "iam:CreateRole",
    "iam:TagRole",
    "iam:ListRoleTags",
    "iam:ListAttachedRolePolicies",
    "iam:AttachRolePolicy",
)
SUPPORT_ROLE = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${SupportRoleName}",)
SUPPORT_ACCESS = "arn:${AWS::Partition}:iam::aws:policy/AWSSupportAccess"
SCOPE = {action: SUPPORT_ROLE for action in ACTIONS}
#: IAM's condition per action: the role is created only with the boundary, and gets only AWSSupportAccess.
CONDITIONS = {
    "iam:CreateRole": {"StringEquals": {"iam:PermissionsBoundary": SUPPORT_ACCESS}},
    "iam:AttachRolePolicy": {"ArnEquals": {"iam:PolicyARN": SUPPORT_ACCESS}},
}
TAG = {"Key": "cis-config-pack", "Value": "1.20"}


def create_support_role(account_id: str, role_name: str) -> Changes:
    changes = Changes("CisPack-CreateSupportRole")
    account, partition = account_and_partition()
    if account_id and account_id != account:
        raise RemediationError(f"This runbook runs in account {account}, not in account {account_id} it was given.")
    policy_arn = f"arn:{partition}:iam::aws:policy/AWSSupportAccess"
    iam = client("iam")
    try:
        iam.get_role(RoleName=role_name)
        exists = True
    except ClientError as err:
        if error_code(err) != "NoSuchEntity":
            raise
        exists = False
    if not exists:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="CIS 1.20: manages incidents with AWS Support (created by the CIS config pack).",
            Tags=[TAG],
            PermissionsBoundary=policy_arn,
        )
        changes.change(f"created role {role_name}, trusted by account {account}", f"iam role {role_name}", after=trust)
    attached = {
        policy["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
        for policy in page.get("AttachedPolicies", [])
    }
    if policy_arn in attached:
        changes.keep(f"role {role_name} has AWSSupportAccess")
        return changes
    if exists:
        tags = iam.list_role_tags(RoleName=role_name).get("Tags", [])
        if TAG not in tags:
            raise RemediationError(
                f"Role {role_name} exists without AWSSupportAccess and the pack did not create it: choose another "
                "SupportRoleName or attach the policy to it yourself."
            )
    iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
    changes.change(f"attached AWSSupportAccess to role {role_name}", f"iam role {role_name}", after=policy_arn)
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    role_name = required(events, "SupportRoleName", "SupportRoleName")
    return create_support_role(str(events.get("AccountId") or ""), role_name).result(f"iam role {role_name}")
