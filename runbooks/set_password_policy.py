"""CIS 1.5-1.11: the account password policy at the benchmark's values, stricter ones kept.

Upper case, lower case, symbol and number required; at least 14 characters; the last 24 passwords
not reused; passwords expire within 90 days. A longer minimum, a shorter expiry or any setting
the benchmark does not name (hard expiry, users changing their own password) stays as it is.
``UpdateAccountPasswordPolicy`` resets every setting it is not given, so each call carries them
all. With no policy yet, users may change their own password (AWS's console default).
"""

from __future__ import annotations

from typing import Any

from runbook_base import Changes, ClientError, check_account, client, error_code

ACTIONS = ("iam:GetAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy")
#: The password policy is no resource IAM can name.
SCOPE: dict[str, tuple[str, ...]] = {}

REQUIRED = ("RequireUppercaseCharacters", "RequireLowercaseCharacters", "RequireSymbols", "RequireNumbers")
MINIMUM_LENGTH = 14
REUSE_PREVENTION = 24
MAX_AGE = 90
SETTINGS = (*REQUIRED, "MinimumPasswordLength", "PasswordReusePrevention", "MaxPasswordAge")


def benchmark_policy(current: dict[str, Any] | None) -> dict[str, Any]:
    """The policy to set: the benchmark's floor, each stricter current value kept."""
    current = current or {}
    policy: dict[str, Any] = {name: True for name in REQUIRED}
    policy["MinimumPasswordLength"] = max(int(current.get("MinimumPasswordLength") or 0), MINIMUM_LENGTH)
    policy["PasswordReusePrevention"] = max(int(current.get("PasswordReusePrevention") or 0), REUSE_PREVENTION)
    age = int(current.get("MaxPasswordAge") or 0) if current.get("ExpirePasswords", True) else 0
    policy["MaxPasswordAge"] = age if 0 < age <= MAX_AGE else MAX_AGE
    policy["AllowUsersToChangePassword"] = bool(current.get("AllowUsersToChangePassword", True))
    policy["HardExpiry"] = bool(current.get("HardExpiry", False))
    return policy


def set_password_policy(account_id: str) -> Changes:
    changes = Changes("CisPack-SetPasswordPolicy")
    check_account(account_id)
    iam = client("iam")
    try:
        current: dict[str, Any] | None = dict(iam.get_account_password_policy()["PasswordPolicy"])
    except ClientError as err:
        if error_code(err) != "NoSuchEntity":
            raise
        current = None
    wanted = benchmark_policy(current)
    before = {name: (current or {}).get(name) for name in (*SETTINGS, "AllowUsersToChangePassword", "HardExpiry")}
    if current is not None and all(before[name] == wanted[name] for name in wanted):
        changes.keep("the account password policy already meets CIS 1.5-1.11")
        return changes
    iam.update_account_password_policy(**wanted)
    differing = sorted(name for name in SETTINGS if before[name] != wanted[name])
    changes.change(
        f"set the account password policy ({', '.join(differing)})"
        if current
        else "created the account password policy",
        "iam account password policy",
        before=before if current else None,
        after=wanted,
    )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    return set_password_policy(str(events.get("AccountId") or "")).result("account password policy")
