"""CIS 2.1: a multi-region trail logging every management event, with log file validation and
KMS encryption, to a bucket this account owns that passes CIS 2.3 and 2.6.

Nothing is created when a multi-region trail already covers the account: one of this account's,
or an organisation trail (another account's, seen here as a shadow trail). When such a trail is
not logging, or logs only some management events, the run stops and names it: a second trail
would bill every event twice, so a person fixes that one (its owner, for an organisation trail).

Otherwise the trail ``TrailName`` (default ``cis-multi-region-trail``; a trail of that name that
exists already stops the run) is created multi-region, logging, with log file validation, every
management event, and encrypted with ``KmsKeyId`` (the pack's ``TrailKmsKey``, a key of this
account whose policy lets CloudTrail encrypt: the pack's template creates ``alias/cis-cloudtrail``).
Its bucket is ``BucketName`` when given (a bucket this account owns, used as it is: its policy
must let CloudTrail write), or a new one named ``cis-cloudtrail-logs-<account>-<random>`` (a name
no other account can claim first; a later run reuses it): ACLs disabled, every Block Public
Access setting on, a policy that lets only CloudTrail write, for this trail, over TLS, and server
access logging to ``AccessLogsBucket`` (owner checked) or to a new private access-log bucket
``cis-cloudtrail-access-<account>-<random>``. Every S3 call names this account as the expected
bucket owner.
"""

from __future__ import annotations

import json
from typing import Any

from runbook_base import (
    THIS_ACCOUNTS_BUCKETS,
    Changes,
    ClientError,
    RemediationError,
    account_and_partition,
    client,
    error_code,
    logs_all_management_events,
    named_trails,
    new_bucket_name,
    owned_bucket,
    unguessable_bucket,
)

ACTIONS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:CreateTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StartLogging",
    "kms:DescribeKey",
    "s3:ListAllMyBuckets",
    "s3:ListBucket",
    "s3:CreateBucket",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketPolicy",
    "s3:PutBucketLogging",
)
TRAILS = ("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*",)
NEW_BUCKETS = ("arn:${AWS::Partition}:s3:::cis-cloudtrail-*",)
SCOPE = {
    "cloudtrail:GetTrailStatus": TRAILS,
    "cloudtrail:GetEventSelectors": TRAILS,
    "cloudtrail:CreateTrail": TRAILS,
    "cloudtrail:PutEventSelectors": TRAILS,
    "cloudtrail:StartLogging": TRAILS,
    "kms:DescribeKey": ("arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*",),
    "s3:ListBucket": ("arn:${AWS::Partition}:s3:::*",),
    "s3:CreateBucket": NEW_BUCKETS,
    "s3:PutBucketOwnershipControls": NEW_BUCKETS,
    "s3:PutBucketPublicAccessBlock": NEW_BUCKETS,
    "s3:PutBucketPolicy": NEW_BUCKETS,
    "s3:PutBucketLogging": NEW_BUCKETS,
}
CONDITIONS = {
    "s3:ListBucket": THIS_ACCOUNTS_BUCKETS,
    "s3:PutBucketOwnershipControls": THIS_ACCOUNTS_BUCKETS,
    "s3:PutBucketPublicAccessBlock": THIS_ACCOUNTS_BUCKETS,
    "s3:PutBucketPolicy": THIS_ACCOUNTS_BUCKETS,
    "s3:PutBucketLogging": THIS_ACCOUNTS_BUCKETS,
}
ALL_MANAGEMENT = {"ReadWriteType": "All", "IncludeManagementEvents": True}
BLOCK_ALL = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)


def _covering_trail(cloudtrail: Any, account: str, changes: Changes) -> bool:
    """Whether a multi-region trail covers the account; stops when one does, but not fully."""
    for trail in cloudtrail.describe_trails(includeShadowTrails=True)["trailList"]:
        if not trail.get("IsMultiRegionTrail"):
            continue
        arn, name = str(trail["TrailARN"]), str(trail["Name"])
        owner = arn.split(":")[4]
        if owner != account:
            changes.keep(f"organisation trail {name} of account {owner} covers this account")
            return True
        home = client("cloudtrail", trail.get("HomeRegion") or cloudtrail.meta.region_name)
        logging = home.get_trail_status(Name=arn).get("IsLogging")
        if logging and logs_all_management_events(home, arn):
            changes.keep(f"trail {name} is multi-region, logging and logs every management event")
            return True
        missing = "is not logging" if not logging else "does not log every management event (read and write)"
        raise RemediationError(
            f"Multi-region trail {name} {missing}: fix that trail (a second one would bill every event twice)."
        )
    return False


def _kms_key(key: str, account: str) -> str:
    if not key:
        raise RemediationError("The runbook parameter KmsKeyId (pack parameter TrailKmsKey) is empty.")
    kms = client("kms")
    try:
        metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
    except ClientError as err:
        if error_code(err) != "NotFoundException":
            raise
        raise RemediationError(
            f"KMS key {key} (TrailKmsKey) does not exist in {kms.meta.region_name}: deploy the pack's template, "
            "which creates alias/cis-cloudtrail, or give a key whose policy lets CloudTrail encrypt."
        ) from err
    if str(metadata["Arn"]).split(":")[4] != account or metadata.get("KeyState") != "Enabled":
        raise RemediationError(f"KMS key {key} (TrailKmsKey) is not an enabled key of account {account}.")
    return str(metadata["Arn"])


def _trail_policy(bucket: str, partition: str, account: str, trail_arn: str) -> dict[str, Any]:
    condition = {"StringEquals": {"aws:SourceArn": trail_arn}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:{partition}:s3:::{bucket}",
                "Condition": condition,
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:{partition}:s3:::{bucket}/AWSLogs/{account}/*",
                "Condition": {
                    "StringEquals": {**condition["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"}
                },
            },
            _tls_only(bucket, partition),
        ],
    }


def _access_log_policy(bucket: str, source: str, partition: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:{partition}:s3:::{bucket}/*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::{source}"},
                },
            },
            _tls_only(bucket, partition),
        ],
    }


def _tls_only(bucket: str, partition: str) -> dict[str, Any]:
    return {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _private_bucket(s3: Any, changes: Changes, prefix: str, region: str, account: str, purpose: str) -> str:
    """This account's bucket named ``prefix`` + random suffix, created private when absent; the
    caller sets its policy."""
    found = unguessable_bucket(s3, prefix)
    if found:
        owned_bucket(s3, found, account, purpose)
        changes.keep(f"bucket {found} exists")
        return found
    bucket = new_bucket_name(prefix)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_bucket_ownership_controls(
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        ExpectedBucketOwner=account,
    )
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL, ExpectedBucketOwner=account)
    changes.change(
        f"created private bucket {bucket} for {purpose}", f"s3 bucket {bucket}", after={"PublicAccessBlock": BLOCK_ALL}
    )
    return bucket


def _trail_bucket(changes: Changes, region: str, partition: str, account: str, trail_arn: str, access_logs: str) -> str:
    s3 = client("s3", region)
    if access_logs:
        owned_bucket(s3, access_logs, account, "AccessLogsBucket")
    bucket = _private_bucket(s3, changes, f"cis-cloudtrail-logs-{account}-", region, account, "the trail's logs")
    policy = _trail_policy(bucket, partition, account, trail_arn)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy), ExpectedBucketOwner=account)
    target = access_logs or _private_bucket(
        s3, changes, f"cis-cloudtrail-access-{account}-", region, account, "the trail bucket's access logs"
    )
    if not access_logs:
        log_policy = _access_log_policy(target, bucket, partition, account)
        s3.put_bucket_policy(Bucket=target, Policy=json.dumps(log_policy), ExpectedBucketOwner=account)
    logging = {"TargetBucket": target, "TargetPrefix": f"{bucket}/"}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": logging}, ExpectedBucketOwner=account)
    changes.change(
        f"bucket {bucket} lets only trail {trail_arn} write and logs its accesses to bucket {target}",
        f"s3 bucket {bucket}",
        after={"Policy": policy, "LoggingEnabled": logging},
    )
    return bucket


def create_multi_region_trail(account_id: str, trail_name: str, bucket: str, access_logs: str, key: str) -> Changes:
    changes = Changes("CisPack-CreateMultiRegionTrail")
    account, partition = account_and_partition()
    if account_id and account_id != account:
        raise RemediationError(f"This runbook runs in account {account}, not in account {account_id} it was given.")
    cloudtrail = client("cloudtrail")
    region = str(cloudtrail.meta.region_name)
    if _covering_trail(cloudtrail, account, changes):
        return changes
    if named_trails(cloudtrail, trail_name, shadows=False):
        raise RemediationError(
            f"A trail named {trail_name} exists and is not multi-region: make it multi-region yourself or give "
            "another TrailName."
        )
    key_arn = _kms_key(key, account)
    trail_arn = f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name}"
    if bucket:
        owned_bucket(client("s3", region), bucket, account, "BucketName")
        changes.keep(f"bucket {bucket} is this account's and is used as it is")
    else:
        bucket = _trail_bucket(changes, region, partition, account, trail_arn, access_logs)
    settings = {
        "S3BucketName": bucket,
        "IsMultiRegionTrail": True,
        "IncludeGlobalServiceEvents": True,
        "EnableLogFileValidation": True,
        "KmsKeyId": key_arn,
    }
    try:
        cloudtrail.create_trail(Name=trail_name, **settings)
    except ClientError as err:
        if error_code(err) not in ("InsufficientS3BucketPolicyException", "InsufficientEncryptionPolicyException"):
            raise
        what = "bucket's policy" if "S3" in error_code(err) else "KMS key's policy"
        raise RemediationError(
            f"CloudTrail may not use the {what} for trail {trail_name}: let it, then run again."
        ) from err
    cloudtrail.put_event_selectors(TrailName=trail_name, EventSelectors=[ALL_MANAGEMENT])
    cloudtrail.start_logging(Name=trail_name)
    changes.change(
        f"created multi-region trail {trail_name} to bucket {bucket}, encrypted with {key_arn}, log file "
        "validation and logging on",
        f"cloudtrail trail {trail_name}",
        after={**settings, "EventSelectors": [ALL_MANAGEMENT], "IsLogging": True},
    )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    trail_name = str(events.get("TrailName") or "cis-multi-region-trail")
    return create_multi_region_trail(
        str(events.get("AccountId") or ""),
        trail_name,
        str(events.get("BucketName") or ""),
        str(events.get("AccessLogsBucket") or ""),
        str(events.get("KmsKeyId") or ""),
    ).result(f"cloudtrail trail {trail_name}")
