"""CIS 2.6: S3 server access logging on a CloudTrail log bucket, to the target bucket given.

Only a bucket that a trail of this account delivers to, and only when this account owns both it
and the target bucket (each listed by this account, every call made with ``ExpectedBucketOwner``):
access logs never go to a bucket another account holds. Logging already on (to any target) is
left as it is. The target bucket must let the S3 logging service write to it (a bucket policy
for ``logging.s3.amazonaws.com``); the runbook does not change the target bucket. A bucket never
logs into itself (every log delivery would be logged again).
"""

from __future__ import annotations

from typing import Any

from runbook_base import (
    THIS_ACCOUNTS_BUCKETS,
    Changes,
    ClientError,
    RemediationError,
    error_code,
    owned_bucket,
    required,
    trail_bucket_of_this_account,
)

ACTIONS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:ListTrails",
    "s3:ListAllMyBuckets",
    "s3:ListBucket",
    "s3:GetBucketLogging",
    "s3:PutBucketLogging",
)
BUCKETS = ("arn:${AWS::Partition}:s3:::*",)
SCOPE = {"s3:ListBucket": BUCKETS, "s3:GetBucketLogging": BUCKETS, "s3:PutBucketLogging": BUCKETS}
CONDITIONS = {
    "s3:ListBucket": THIS_ACCOUNTS_BUCKETS,
    "s3:GetBucketLogging": THIS_ACCOUNTS_BUCKETS,
    "s3:PutBucketLogging": THIS_ACCOUNTS_BUCKETS,
}


def enable_bucket_logging(bucket: str, target: str, prefix: str) -> Changes:
    changes = Changes("CisPack-EnableTrailBucketLogging")
    if target == bucket:
        raise RemediationError(f"Bucket {bucket} cannot log its own accesses: give another AccessLogsBucket.")
    s3, account = trail_bucket_of_this_account(bucket)
    current = s3.get_bucket_logging(Bucket=bucket, ExpectedBucketOwner=account).get("LoggingEnabled")
    if current:
        changes.keep(f"bucket {bucket} logs its accesses to bucket {current.get('TargetBucket')}")
        return changes
    owned_bucket(s3, target, account, "TargetBucket")
    after = {"TargetBucket": target, "TargetPrefix": prefix}
    try:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": after}, ExpectedBucketOwner=account)
    except ClientError as err:
        if error_code(err) != "InvalidTargetBucketForLogging":
            raise
        raise RemediationError(
            f"Bucket {target} does not let S3 deliver access logs to it: give it a bucket policy that allows "
            "logging.s3.amazonaws.com to put objects, then run this again."
        ) from err
    changes.change(f"enabled access logging of bucket {bucket} to bucket {target}", f"s3 bucket {bucket}", after=after)
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    bucket = str(events["BucketName"])
    target = required(events, "TargetBucket", "AccessLogsBucket")
    prefix = str(events.get("TargetPrefix") or f"{bucket}/")
    return enable_bucket_logging(bucket, target, prefix).result(f"s3 bucket {bucket}")
