"""CIS 2.1: a multi-region trail logging every management event, with log file validation, to a
private bucket.

Nothing happens when a trail of this account already qualifies (multi-region, logging, every
management event). Otherwise the trail ``TrailName`` (default ``cis-multi-region-trail``) is
created, or, when it exists, turned multi-region, logging and validated; a trail's existing
event selectors are kept, the management selector added beside them. Its bucket, ``BucketName``
(default ``cis-cloudtrail-<account>-<region>``), is created when absent: every Block Public
Access setting on, and a policy that lets only CloudTrail write, for this trail, over TLS. An
existing bucket is used as it is.
"""

from __future__ import annotations

import json
from typing import Any

from runbook_base import (
    Changes,
    ClientError,
    RemediationError,
    account_and_partition,
    client,
    error_code,
    logs_all_management_events,
)

ACTIONS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:CreateTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StartLogging",
    "s3:ListBucket",
    "s3:CreateBucket",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketPolicy",
)
ALL_MANAGEMENT = {"ReadWriteType": "All", "IncludeManagementEvents": True}


def _qualifying_trail(cloudtrail: Any, account: str) -> str | None:
    for trail in cloudtrail.describe_trails(includeShadowTrails=True)["trailList"]:
        arn = str(trail["TrailARN"])
        if not trail.get("IsMultiRegionTrail") or arn.split(":")[4] != account:
            continue
        home = client("cloudtrail", trail.get("HomeRegion") or cloudtrail.meta.region_name)
        if home.get_trail_status(Name=arn).get("IsLogging") and logs_all_management_events(home, arn):
            return str(trail["Name"])
    return None


def _bucket_policy(bucket: str, partition: str, account: str, trail_arn: str) -> dict[str, Any]:
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
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def _ensure_bucket(changes: Changes, bucket: str, region: str, partition: str, account: str, trail_arn: str) -> None:
    s3 = client("s3", region)
    try:
        s3.head_bucket(Bucket=bucket)
        changes.keep(f"bucket {bucket} exists")
        return
    except ClientError as err:
        if error_code(err) not in ("404", "NoSuchBucket", "NotFound"):
            raise RemediationError(
                f"Bucket {bucket} belongs to another account or cannot be read: give another BucketName."
            ) from err
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    block = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
    policy = _bucket_policy(bucket, partition, account, trail_arn)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    changes.change(f"created private bucket {bucket} for the trail's logs", f"s3 bucket {bucket}", after=policy)


def create_multi_region_trail(account_id: str, trail_name: str, bucket: str) -> Changes:
    changes = Changes("CisPack-CreateMultiRegionTrail")
    account, partition = account_and_partition()
    if account_id and account_id != account:
        raise RemediationError(f"This runbook runs in account {account}, not in account {account_id} it was given.")
    cloudtrail = client("cloudtrail")
    region = str(cloudtrail.meta.region_name)
    found = _qualifying_trail(cloudtrail, account)
    if found:
        changes.keep(f"trail {found} is multi-region, logging and logs every management event")
        return changes
    bucket = bucket or f"cis-cloudtrail-{account}-{region}"
    trail_arn = f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name}"
    existing = cloudtrail.describe_trails(trailNameList=[trail_name], includeShadowTrails=False)["trailList"]
    if not existing:
        _ensure_bucket(changes, bucket, region, partition, account, trail_arn)
        cloudtrail.create_trail(
            Name=trail_name,
            S3BucketName=bucket,
            IsMultiRegionTrail=True,
            IncludeGlobalServiceEvents=True,
            EnableLogFileValidation=True,
        )
        cloudtrail.put_event_selectors(TrailName=trail_name, EventSelectors=[ALL_MANAGEMENT])
        changes.change(
            f"created multi-region trail {trail_name} to bucket {bucket}, log file validation on",
            f"cloudtrail trail {trail_name}",
            after={"S3BucketName": bucket, "IsMultiRegionTrail": True, "LogFileValidationEnabled": True},
        )
    else:
        trail = existing[0]
        settings = {"IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True, "LogFileValidationEnabled": True}
        missing = {name: True for name, value in settings.items() if not trail.get(name)}
        if missing:
            names = {"LogFileValidationEnabled": "EnableLogFileValidation"}
            cloudtrail.update_trail(Name=trail_name, **{names.get(k, k): v for k, v in missing.items()})
            changes.change(
                f"turned on {', '.join(sorted(missing))} for trail {trail_name}",
                f"cloudtrail trail {trail_name}",
                before={name: trail.get(name) for name in missing},
                after=missing,
            )
        if not logs_all_management_events(cloudtrail, trail_name):
            current = cloudtrail.get_event_selectors(TrailName=trail_name)
            if current.get("AdvancedEventSelectors"):
                raise RemediationError(
                    f"Trail {trail_name} uses advanced event selectors: add one for every management event by hand."
                )
            selectors = [*current.get("EventSelectors", []), ALL_MANAGEMENT]
            cloudtrail.put_event_selectors(TrailName=trail_name, EventSelectors=selectors)
            changes.change(
                f"added an event selector for every management event to trail {trail_name}",
                f"cloudtrail trail {trail_name}",
                before=current.get("EventSelectors"),
                after=selectors,
            )
    if not cloudtrail.get_trail_status(Name=trail_name).get("IsLogging"):
        cloudtrail.start_logging(Name=trail_name)
        changes.change(f"started logging on trail {trail_name}", f"cloudtrail trail {trail_name}", False, True)
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    trail_name = str(events.get("TrailName") or "cis-multi-region-trail")
    return create_multi_region_trail(
        str(events.get("AccountId") or ""), trail_name, str(events.get("BucketName") or "")
    ).result()
