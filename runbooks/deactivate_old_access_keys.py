"""CIS 1.4: deactivate the user's active access keys older than 90 days that nobody uses.

A key older than ``MaxAccessKeyAge`` days that was used within the last ``GraceDays`` days is in
use: deactivating it would break whatever uses it, so it is reported for rotation (its owner
creates a new key, moves the application, deletes the old one) and left active. Older keys that
were not used within the grace period, or never, are deactivated, never deleted: the owner can
reactivate one if something breaks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runbook_base import (
    Changes,
    access_keys,
    client,
    days_between,
    deactivate_key,
    key_last_used,
    now_of,
    number,
    user_by_id,
)

ACTIONS = ("iam:ListUsers", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:UpdateAccessKey")
USERS = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*",)
SCOPE = {"iam:ListAccessKeys": USERS, "iam:GetAccessKeyLastUsed": USERS, "iam:UpdateAccessKey": USERS}


def deactivate_old_access_keys(user_id: str, max_age_days: int, grace_days: int, now: datetime) -> Changes:
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
            continue
        if age <= max_age_days:
            changes.keep(f"access key {key_id} of user {name} is {age} days old")
            continue
        used = key_last_used(iam, key_id)
        if used is not None and days_between(used, now) < grace_days:
            changes.keep(
                f"access key {key_id} of user {name} is {age} days old and was used {days_between(used, now)} days "
                "ago: rotate it (it is in use, so it stays active)"
            )
            continue
        last = f"last used {days_between(used, now)} days ago" if used else "never used"
        deactivate_key(iam, changes, name, key_id, f"created {age} days ago, {last}")
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    age = number(events, "MaxAccessKeyAge", "90")
    grace = number(events, "GraceDays", "30")
    user_id = str(events["ResourceId"])
    return deactivate_old_access_keys(user_id, age, grace, now_of(events)).result(user_id)
