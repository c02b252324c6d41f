"""CIS 1.16: move an IAM user's own policies to a group created for that user.

CIS wants permissions granted through groups and roles, not to users directly. The group
``cis-policies-<user>`` is created when absent and the user added to it; each managed policy
attached to the user is attached to the group, each inline policy is put on the group under the
same name and document, and only then removed from the user, so the user keeps every permission
at every moment. Every policy moved is in the change record (its ARN, or its full document).
Nothing else of the user changes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from runbook_base import Changes, ClientError, RemediationError, client, error_code, user_by_id

ACTIONS = (
    "iam:ListUsers",
    "iam:ListAttachedUserPolicies",
    "iam:ListUserPolicies",
    "iam:GetUserPolicy",
    "iam:GetGroup",
    "iam:CreateGroup",
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:PutGroupPolicy",
    "iam:DetachUserPolicy",
    "iam:DeleteUserPolicy",
)
GROUP_PREFIX = "cis-policies-"
USERS = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*",)
GROUPS = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:group/" + GROUP_PREFIX + "*",)
SCOPE = {
    "iam:ListAttachedUserPolicies": USERS,
    "iam:ListUserPolicies": USERS,
    "iam:GetUserPolicy": USERS,
    "iam:DetachUserPolicy": USERS,
    "iam:DeleteUserPolicy": USERS,
    "iam:GetGroup": GROUPS,
    "iam:CreateGroup": GROUPS,
    "iam:AddUserToGroup": GROUPS,
    "iam:AttachGroupPolicy": GROUPS,
    "iam:PutGroupPolicy": GROUPS,
}


def _group(iam: Any, changes: Changes, name: str, user: str) -> None:
    try:
        members = {str(u["UserName"]) for u in iam.get_group(GroupName=name).get("Users", [])}
    except ClientError as err:
        if error_code(err) != "NoSuchEntity":
            raise
        iam.create_group(GroupName=name)
        changes.change(f"created group {name} for user {user}", f"iam group {name}")
        members = set()
    if user not in members:
        iam.add_user_to_group(GroupName=name, UserName=user)
        changes.change(f"added user {user} to group {name}", f"iam group {name}", before=None, after=user)


def move_user_policies(user_id: str) -> Changes:
    changes = Changes("CisPack-MoveUserPoliciesToGroup")
    iam = client("iam")
    name = str(user_by_id(iam, user_id)["UserName"])
    attached = [
        policy
        for page in iam.get_paginator("list_attached_user_policies").paginate(UserName=name)
        for policy in page.get("AttachedPolicies", [])
    ]
    inline = [
        policy_name
        for page in iam.get_paginator("list_user_policies").paginate(UserName=name)
        for policy_name in page.get("PolicyNames", [])
    ]
    if not attached and not inline:
        changes.keep(f"user {name} has no policy of its own")
        return changes
    group = GROUP_PREFIX + name
    if len(group) > 128:
        raise RemediationError(f"Group name {group} would be longer than IAM's 128 characters: move them by hand.")
    _group(iam, changes, group, name)
    for policy in attached:
        iam.attach_group_policy(GroupName=group, PolicyArn=policy["PolicyArn"])
        iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
        changes.change(
            f"moved managed policy {policy['PolicyName']} from user {name} to group {group}",
            f"iam user {name}",
            before={"User": name, "PolicyArn": policy["PolicyArn"]},
            after={"Group": group, "PolicyArn": policy["PolicyArn"]},
        )
    for policy_name in inline:
        document = iam.get_user_policy(UserName=name, PolicyName=policy_name)["PolicyDocument"]
        if isinstance(document, str):
            # IAM returns the document URL-encoded; botocore decodes it, a raw answer may not be.
            document = json.loads(unquote(document))
        iam.put_group_policy(GroupName=group, PolicyName=policy_name, PolicyDocument=json.dumps(document))
        iam.delete_user_policy(UserName=name, PolicyName=policy_name)
        changes.change(
            f"moved inline policy {policy_name} from user {name} to group {group}",
            f"iam user {name}",
            before={"User": name, "PolicyName": policy_name, "PolicyDocument": document},
            after={"Group": group, "PolicyName": policy_name},
        )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    user_id = str(events["ResourceId"])
    return move_user_policies(user_id).result(user_id)
