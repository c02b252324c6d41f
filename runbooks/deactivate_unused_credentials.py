"""CIS 1.3: deactivate access keys and remove console passwords unused for 90 days or more.

The user is the one AWS Config names (``IAM_USER_UNUSED_CREDENTIALS_CHECK`` reports users by
their unique ID). A credential never used counts from its creation, as the managed rule does.
Access keys are deactivated, never deleted; a console password is removed (its login profile
deleted: there is no way to disable one), which the user gets back with a new password.
"""

from __future__ import annotations

from datetime import datetime
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
    user_by_id,
)

ACTIONS = (
    "iam:ListUsers",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:UpdateAccessKey",
    "iam:GetLoginProfile",
    "iam:DeleteLoginProfile",
)


def deactivate_unused_credentials(user_id: str, max_age_days: int, now: datetime) -> Changes:
    changes = Changes("CisPack-DeactivateUnusedCredentials")
    iam = client("iam")
    user = user_by_id(iam, user_id)
    name = str(user["UserName"])
    for key in active_keys(iam, changes, name):
        key_id = str(key["AccessKeyId"])
        used = key_last_used(iam, key_id)
        since = used or key["CreateDate"]
        age = days_between(since, now)
        if age >= max_age_days:
            what = "last used" if used else "never used, created"
            deactivate_key(iam, changes, name, key_id, f"{what} {age} days ago")
        else:
            changes.keep(f"access key {key_id} of user {name} was used {age} days ago")
    profile = login_profile(iam, name)
    if profile is None:
        changes.keep(f"user {name} has no console password")
        return changes
    used = user.get("PasswordLastUsed")
    since = used or profile["CreateDate"]
    age = days_between(since, now)
    if age >= max_age_days:
        iam.delete_login_profile(UserName=name)
        what = "last used" if used else "never used, set"
        changes.change(
            f"removed the console password of user {name} ({what} {age} days ago)",
            f"iam user {name} login profile",
            before={"CreateDate": profile["CreateDate"], "PasswordLastUsed": used},
            after=None,
        )
    else:
        changes.keep(f"the console password of user {name} was used {age} days ago")
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    age = int(str(events.get("MaxCredentialUsageAge") or "90"))
    return deactivate_unused_credentials(str(events["ResourceId"]), age, now_of(events)).result()
