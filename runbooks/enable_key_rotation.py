"""CIS 2.8: automatic rotation of a customer managed KMS key.

Only an enabled symmetric encryption key of this account that its customer manages (the keys the
rule judges; AWS rotates its own keys, and asymmetric or HMAC keys cannot rotate). Rotation
already on is left as it is; nothing else of the key changes.
"""

from __future__ import annotations

from typing import Any

from runbook_base import Changes, RemediationError, account_and_partition, client

ACTIONS = ("kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation")
KEYS = ("arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*",)
SCOPE = {action: KEYS for action in ACTIONS}


def enable_key_rotation(key_id: str) -> Changes:
    changes = Changes("CisPack-EnableKeyRotation")
    account, _ = account_and_partition()
    kms = client("kms")
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    arn = str(metadata["Arn"])
    if arn.split(":")[4] != account or metadata.get("KeyManager") != "CUSTOMER":
        raise RemediationError(f"KMS key {key_id} is not a customer managed key of account {account}.")
    if metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT" or metadata.get("KeyState") != "Enabled":
        raise RemediationError(f"KMS key {key_id} is not an enabled symmetric encryption key: it cannot rotate.")
    if kms.get_key_rotation_status(KeyId=arn).get("KeyRotationEnabled"):
        changes.keep(f"KMS key {key_id} rotates")
        return changes
    kms.enable_key_rotation(KeyId=arn)
    changes.change(f"turned on automatic rotation of KMS key {key_id}", f"kms key {arn}", before=False, after=True)
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    key_id = str(events["KeyId"])
    return enable_key_rotation(key_id).result(key_id)
