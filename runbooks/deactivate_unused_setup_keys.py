"""CIS 1.21: deactivate the never-used access keys of a user who has a console password.

The keys the benchmark calls "set up during initial user setup": active, never used, on a user
who signs in to the console. Deactivated, never deleted.
"""

from __future__ import annotations

from typing import Any

from runbook_base import Changes, active_keys, client, deactivate_key, key_last_used, login_profile, user_by_id

ACTIONS = (
    "iam:ListUsers",
    "iam:GetLoginProfile",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:UpdateAccessKey",
)


def deactivate_unused_setup_keys(user_id: str) -> Changes:
    changes = Changes("CisPack-DeactivateUnusedSetupKeys")
    iam = client("iam")
    name = str(user_by_id(iam, user_id)["UserName"])
    if login_profile(iam, name) is None:
        changes.keep(f"user {name} has no console password")
        return changes
    for key in active_keys(iam, changes, name):
        key_id = str(key["AccessKeyId"])
        if key_last_used(iam, key_id):
            changes.keep(f"access key {key_id} of user {name} has been used")
        else:
            deactivate_key(iam, changes, name, key_id, "never used, on a user with a console password")
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    return deactivate_unused_setup_keys(str(events["ResourceId"])).result()
