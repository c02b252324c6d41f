"""CIS 1.21: deactivate the access keys a console user got at setup and never used.

The benchmark's audit: compare the user's creation date to each key's creation date; "for any
that match, the key was created during initial user setup", and such keys without a last-used
date should go. Here a key matches when it was created within ``SETUP_WINDOW`` of the user. Of
a user with a console password, each active key created at setup, never used, and older than
``GraceDays`` days is deactivated (never deleted). A never-used key created later, or still
within the grace period, is reported and left alone: someone asked for it as a separate step,
which is what the benchmark wants, or may be about to use it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from runbook_base import (
    Changes,
    active_keys,
    client,
    days_between,
    deactivate_key,
    key_last_used,
    login_profile,
    now_of,
    number,
    user_by_id,
)

ACTIONS = (
    "iam:ListUsers",
    "iam:GetLoginProfile",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:UpdateAccessKey",
)
USERS = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*",)
SCOPE = {action: USERS for action in ACTIONS if action != "iam:ListUsers"}
#: A key created this close to its user was created "during initial user setup".
SETUP_WINDOW = timedelta(minutes=10)


def deactivate_unused_setup_keys(user_id: str, grace_days: int, now: datetime) -> Changes:
    changes = Changes("CisPack-DeactivateUnusedSetupKeys")
    iam = client("iam")
    user = user_by_id(iam, user_id)
    name = str(user["UserName"])
    if login_profile(iam, name) is None:
        changes.keep(f"user {name} has no console password")
        return changes
    for key in active_keys(iam, changes, name):
        key_id = str(key["AccessKeyId"])
        age = days_between(key["CreateDate"], now)
        if key_last_used(iam, key_id):
            changes.keep(f"access key {key_id} of user {name} has been used")
        elif abs(key["CreateDate"] - user["CreateDate"]) > SETUP_WINDOW:
            changes.keep(
                f"access key {key_id} of user {name} was never used but was created after the user's setup: "
                "a person decides whether it is needed"
            )
        elif age < grace_days:
            changes.keep(f"access key {key_id} of user {name} is {age} days old, within the {grace_days}-day grace")
        else:
            deactivate_key(iam, changes, name, key_id, f"created at the user's setup {age} days ago, never used")
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    user_id = str(events["ResourceId"])
    return deactivate_unused_setup_keys(user_id, number(events, "GraceDays", "7"), now_of(events)).result(user_id)
