"""CIS 1.4: deactivate the user's active access keys older than 90 days.

Keys are deactivated, never deleted: the owner rotates them (creates a new key, moves the
application, deletes the old one) and can reactivate one meanwhile if something breaks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runbook_base import Changes, access_keys, client, days_between, deactivate_key, now_of, user_by_id

ACTIONS = ("iam:ListUsers", "iam:ListAccessKeys", "iam:UpdateAccessKey")


def deactivate_old_access_keys(user_id: str, max_age_days: int, now: datetime) -> Changes:
    changes = Changes("CisPack-DeactivateOldAccessKeys")
    iam = client("iam")
    name = str(user_by_id(iam, user_id)["UserName"])
    keys = access_keys(iam, name)
    if not keys:
        changes.keep(f"user {name} has no access key")
    for key in keys:
        key_id = str(key["AccessKeyId"])
        age = days_between(key["CreateDate"], now)
        if key.get("Status") != "Active":
            changes.keep(f"access key {key_id} of user {name} is already inactive")
        elif age > max_age_days:
            deactivate_key(iam, changes, name, key_id, f"created {age} days ago")
        else:
            changes.keep(f"access key {key_id} of user {name} is {age} days old")
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    age = int(str(events.get("MaxAccessKeyAge") or "90"))
    return deactivate_old_access_keys(str(events["ResourceId"]), age, now_of(events)).result()
