"""IAM users for CIS 1.21 (and the managed IAM rules): some set up well, some not."""

from __future__ import annotations

from typing import Any


def seed(account: Any) -> None:
    iam = account.client("iam")
    # A console user created with an access key that was never used (CIS 1.21: NON_COMPLIANT).
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-9")
    iam.create_access_key(UserName="alice")
    # A console user without access keys (COMPLIANT).
    iam.create_user(UserName="bob")
    iam.create_login_profile(UserName="bob", Password="Correct-Horse-Battery-9")
    # A programmatic user: an access key but no console password (COMPLIANT for 1.21).
    iam.create_user(UserName="ci-deployer")
    iam.create_access_key(UserName="ci-deployer")
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
    )
