"""Trails, their buckets and Config recorders for CIS 2.3, 2.5 and 2.6.

* ``cis-main-trail``: multi-region, delivering to a private bucket with server access logging
  (2.3 and 2.6 COMPLIANT for ``cis-demo-cloudtrail-logs``).
* ``cis-legacy-trail``: single-region, delivering to a bucket whose ACL grants READ to AllUsers and
  that has no access logging (2.3 and 2.6 NON_COMPLIANT for ``cis-demo-legacy-trail-logs``).
* Config recorders in two regions only, one of them recording S3 buckets alone (2.5
  NON_COMPLIANT, naming the regions). The demo region is left to ``rdk init``, which sets up its
  own recorder there (moto allows one recorder per region).
"""

from __future__ import annotations

import json
from typing import Any

MAIN_BUCKET = "cis-demo-cloudtrail-logs"
ACCESS_LOG_BUCKET = "cis-demo-s3-access-logs"
LEGACY_BUCKET = "cis-demo-legacy-trail-logs"
CONFIG_BUCKET = "cis-demo-config-history"


def _trail_bucket_policy(bucket: str, account_id: str) -> str:
    """CloudTrail's documented bucket policy: the service principal, scoped to this account."""
    condition = {"StringEquals": {"aws:SourceAccount": account_id}}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AWSCloudTrailAclCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": f"arn:aws:s3:::{bucket}",
                    "Condition": condition,
                },
                {
                    "Sid": "AWSCloudTrailWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{account_id}/*",
                    "Condition": condition,
                },
            ],
        }
    )


def seed(account: Any) -> None:
    s3 = account.client("s3")
    cloudtrail = account.client("cloudtrail")

    # The account's main trail: multi-region, all management events, private and logged bucket.
    s3.create_bucket(Bucket=ACCESS_LOG_BUCKET, ACL="log-delivery-write")
    s3.create_bucket(Bucket=MAIN_BUCKET)
    s3.put_bucket_policy(Bucket=MAIN_BUCKET, Policy=_trail_bucket_policy(MAIN_BUCKET, account.account_id))
    s3.put_public_access_block(
        Bucket=MAIN_BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_logging(
        Bucket=MAIN_BUCKET,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": ACCESS_LOG_BUCKET, "TargetPrefix": f"{MAIN_BUCKET}/"}},
    )
    cloudtrail.create_trail(
        Name="cis-main-trail", S3BucketName=MAIN_BUCKET, IsMultiRegionTrail=True, EnableLogFileValidation=True
    )
    # AWS gives a new trail this selector; moto gives none until it is put.
    cloudtrail.put_event_selectors(
        TrailName="cis-main-trail", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    cloudtrail.start_logging(Name="cis-main-trail")

    # A forgotten single-region trail whose bucket was opened to the world and never logged.
    s3.create_bucket(Bucket=LEGACY_BUCKET)
    s3.put_bucket_acl(Bucket=LEGACY_BUCKET, ACL="public-read")
    cloudtrail.create_trail(Name="cis-legacy-trail", S3BucketName=LEGACY_BUCKET)

    # AWS Config in two other regions only; one recorder records S3 buckets alone.
    s3.create_bucket(Bucket=CONFIG_BUCKET)
    role = f"arn:aws:iam::{account.account_id}:role/cis-demo-config-recorder"
    for region, group in (
        (account.other_region, {"allSupported": True, "includeGlobalResourceTypes": False}),
        ("eu-central-1", {"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}),
    ):
        config = account.client("config", region)
        config.put_configuration_recorder(
            ConfigurationRecorder={"name": "default", "roleARN": role, "recordingGroup": group}
        )
        config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": CONFIG_BUCKET})
        config.start_configuration_recorder(ConfigurationRecorderName="default")
