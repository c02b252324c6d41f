"""CIS 2.7: encrypt a trail of this account with the KMS key given.

``KmsKeyId`` is the pack's ``TrailKmsKey`` (default ``alias/cis-cloudtrail``, the key the pack's
template creates with a policy that lets CloudTrail encrypt): it must be an enabled key of this
account in the trail's home region. A trail already encrypted (with any key) is left as it is; a
trail of another account is its owner's to change. CloudTrail refuses a key whose policy does not
let it encrypt: the run then stops and says so.
"""

from __future__ import annotations

from typing import Any

from runbook_base import (
    Changes,
    ClientError,
    RemediationError,
    account_and_partition,
    client,
    error_code,
    own_trail,
    required,
)

ACTIONS = ("cloudtrail:DescribeTrails", "cloudtrail:UpdateTrail", "kms:DescribeKey")
SCOPE = {
    "cloudtrail:UpdateTrail": ("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*",),
    "kms:DescribeKey": ("arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*",),
}


def encrypt_trail(trail_id: str, key: str) -> Changes:
    changes = Changes("CisPack-EncryptTrail")
    account, _ = account_and_partition()
    trail = own_trail(trail_id, account)
    name, region = str(trail["Name"]), str(trail["HomeRegion"])
    if trail.get("KmsKeyId"):
        changes.keep(f"trail {name} is encrypted with {trail['KmsKeyId']}")
        return changes
    try:
        metadata = client("kms", region).describe_key(KeyId=key)["KeyMetadata"]
    except ClientError as err:
        if error_code(err) != "NotFoundException":
            raise
        raise RemediationError(
            f"KMS key {key} (TrailKmsKey) does not exist in {region}: deploy the pack's template there, which creates "
            "alias/cis-cloudtrail, or give another key."
        ) from err
    if str(metadata["Arn"]).split(":")[4] != account or metadata.get("KeyState") != "Enabled":
        raise RemediationError(f"KMS key {key} (TrailKmsKey) is not an enabled key of account {account}.")
    try:
        client("cloudtrail", region).update_trail(Name=trail["TrailARN"], KmsKeyId=metadata["Arn"])
    except ClientError as err:
        if error_code(err) != "InsufficientEncryptionPolicyException":
            raise
        raise RemediationError(
            f"The policy of KMS key {metadata['Arn']} does not let CloudTrail encrypt: allow it, then run again."
        ) from err
    changes.change(
        f"trail {name} is now encrypted with KMS key {metadata['Arn']}",
        f"cloudtrail trail {name}",
        before=None,
        after={"KmsKeyId": metadata["Arn"]},
    )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    trail = str(events["TrailName"])
    return encrypt_trail(trail, required(events, "KmsKeyId", "TrailKmsKey")).result(trail)
