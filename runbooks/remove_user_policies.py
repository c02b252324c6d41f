"""CIS 1.16: detach the managed policies and remove the inline policies of an IAM user.

The user keeps the permissions its groups grant; CIS wants policies on groups and roles only.
Every policy removed is in the change record: each managed policy's ARN (attach it again, or to a
group the user is in) and each inline policy's full document (put it on a group, or back on the
user), so nothing is lost. Nothing else of the user changes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from runbook_base import Changes, client, user_by_id

ACTIONS = (
    "iam:ListUsers",
    "iam:ListAttachedUserPolicies",
    "iam:DetachUserPolicy",
    "iam:ListUserPolicies",
    "iam:GetUserPolicy",
    "iam:DeleteUserPolicy",
)


def remove_user_policies(user_id: str) -> Changes:
    changes = Changes("CisPack-RemoveUserPolicies")
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
    for policy in attached:
        iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
        changes.change(
            f"detached managed policy {policy['PolicyName']} from user {name}",
            f"iam user {name}",
            before={"PolicyArn": policy["PolicyArn"]},
        )
    for policy_name in inline:
        document = iam.get_user_policy(UserName=name, PolicyName=policy_name)["PolicyDocument"]
        if isinstance(document, str):
            # IAM returns the document URL-encoded; botocore decodes it, a raw answer may not be.
            document = json.loads(unquote(document))
        iam.delete_user_policy(UserName=name, PolicyName=policy_name)
        changes.change(
            f"removed inline policy {policy_name} from user {name} (its document is in the record)",
            f"iam user {name}",
            before={"PolicyName": policy_name, "PolicyDocument": document},
        )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    return remove_user_policies(str(events["ResourceId"])).result()
