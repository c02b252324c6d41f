"""CIS 2.3: S3 Block Public Access, all four settings, on a CloudTrail log bucket.

Only a bucket that a trail of this account delivers to (the rule judges no other) and that this
account owns (listed by it, and every call made with ``ExpectedBucketOwner``), and only its
bucket-level Block Public Access: the bucket's ACL and policy stay as they are (Block Public
Access makes S3 ignore and refuse their public parts; nothing is deleted). Settings already on
stay on.
"""

from __future__ import annotations

from typing import Any

from runbook_base import (
    THIS_ACCOUNTS_BUCKETS,
    Changes,
    ClientError,
    error_code,
    trail_bucket_of_this_account,
)

ACTIONS = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:ListTrails",
    "s3:ListAllMyBuckets",
    "s3:ListBucket",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
)
BUCKETS = ("arn:${AWS::Partition}:s3:::*",)
SCOPE = {"s3:ListBucket": BUCKETS, "s3:GetBucketPublicAccessBlock": BUCKETS, "s3:PutBucketPublicAccessBlock": BUCKETS}
CONDITIONS = {
    "s3:ListBucket": THIS_ACCOUNTS_BUCKETS,
    "s3:GetBucketPublicAccessBlock": THIS_ACCOUNTS_BUCKETS,
    "s3:PutBucketPublicAccessBlock": THIS_ACCOUNTS_BUCKETS,
}
SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def block_public_access(bucket: str) -> Changes:
    changes = Changes("CisPack-BlockTrailBucketPublicAccess")
    s3, account = trail_bucket_of_this_account(bucket)
    try:
        current = dict(
            s3.get_public_access_block(Bucket=bucket, ExpectedBucketOwner=account)["PublicAccessBlockConfiguration"]
        )
    except ClientError as err:
        if error_code(err) != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = {}
    before = {name: bool(current.get(name, False)) for name in SETTINGS}
    if all(before.values()):
        changes.keep(f"bucket {bucket} blocks public access")
        return changes
    after = dict.fromkeys(SETTINGS, True)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=after, ExpectedBucketOwner=account)
    turned_on = [name for name in SETTINGS if not before[name]]
    changes.change(
        f"turned on {', '.join(turned_on)} for bucket {bucket}", f"s3 bucket {bucket}", before=before, after=after
    )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    bucket = str(events["BucketName"])
    return block_public_access(bucket).result(f"s3 bucket {bucket}")
