"""CIS 1.3: deactivate access keys and remove console passwords unused for 90 days or more.

The user is the one AWS Config names (``IAM_USER_UNUSED_CREDENTIALS_CHECK`` reports users by
their unique ID). A credential counts from its last use or, when later, from when it was set: a
key's creation, a password's creation or last change (the credential report's
``password_last_changed``: a password an administrator re-issued today is new, however long ago
the old one was used). A credential set within the last ``GraceDays`` days is never touched.
Access keys are deactivated, never deleted; a console password is removed (its login profile
deleted: there is no way to disable one), which the user gets back with a new password.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime
from typing import Any

from runbook_base import (
    Changes,
    RemediationError,
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
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:UpdateAccessKey",
    "iam:GetLoginProfile",
    "iam:DeleteLoginProfile",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
)
USERS = ("arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*",)
SCOPE = {
    action: USERS
    for action in ACTIONS
    if action not in ("iam:ListUsers", "iam:GenerateCredentialReport", "iam:GetCredentialReport")
}
REPORT_WAIT_SECONDS = (0, 1, 2, 4, 8, 15)


def password_last_changed(iam: Any, user_name: str) -> datetime | None:
    """The user's ``password_last_changed`` in the IAM credential report (generated if needed)."""
    for delay in REPORT_WAIT_SECONDS:
        time.sleep(delay)
        if iam.generate_credential_report().get("State") == "COMPLETE":
            break
    else:
        raise RemediationError("IAM did not finish the credential report within 30 seconds: run this again.")
    content = iam.get_credential_report()["Content"]
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("user") == user_name:
            value = str(row.get("password_last_changed") or "")
            if value[:1].isdigit():
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def deactivate_unused_credentials(user_id: str, max_age_days: int, grace_days: int, now: datetime) -> Changes:
    changes = Changes("CisPack-DeactivateUnusedCredentials")
    iam = client("iam")
    user = user_by_id(iam, user_id)
    name = str(user["UserName"])
    for key in active_keys(iam, changes, name):
        key_id = str(key["AccessKeyId"])
        used = key_last_used(iam, key_id)
        created = days_between(key["CreateDate"], now)
        age = days_between(max(used or key["CreateDate"], key["CreateDate"]), now)
        if created < grace_days:
            changes.keep(f"access key {key_id} of user {name} was created {created} days ago, within the grace")
        elif age >= max_age_days:
            what = "last used" if used else "never used, created"
            deactivate_key(iam, changes, name, key_id, f"{what} {age} days ago")
        else:
            changes.keep(f"access key {key_id} of user {name} was used {age} days ago")
    profile = login_profile(iam, name)
    if profile is None:
        changes.keep(f"user {name} has no console password")
        return changes
    used = user.get("PasswordLastUsed")
    set_at = max(d for d in (profile["CreateDate"], password_last_changed(iam, name)) if d is not None)
    since = max(used, set_at) if used else set_at
    age = days_between(since, now)
    if days_between(set_at, now) < grace_days:
        changes.keep(f"the console password of user {name} was set {days_between(set_at, now)} days ago")
    elif age >= max_age_days:
        iam.delete_login_profile(UserName=name)
        what = "last used" if used and used >= set_at else "set and not used since,"
        changes.change(
            f"removed the console password of user {name} ({what} {age} days ago)",
            f"iam user {name} login profile",
            before={"CreateDate": profile["CreateDate"], "PasswordLastUsed": used, "PasswordLastSet": set_at},
            after=None,
        )
    else:
        changes.keep(f"the console password of user {name} was used or set {age} days ago")
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    age = number(events, "MaxCredentialUsageAge", "90")
    grace = number(events, "GraceDays", "7")
    user_id = str(events["ResourceId"])
    return deactivate_unused_credentials(user_id, age, grace, now_of(events)).result(user_id)
