"""CIS 2.6 — Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket
(Level 1, scored).

Trigger: periodic. Reports on: each ``AWS::S3::Bucket`` (by name) that a trail of this account,
or an organisation trail it receives, delivers to, when this account owns it. Parameters: none.

Deploy in one region (rule set ``global-resources``): ``DescribeTrails`` with shadow trails shows
the account's multi-region trails and organisation trails from any region, and ``ListTrails``
the single-region trails homed in other regions (see ``cis_trail_buckets``). As the benchmark's
audit does, ``GetBucketLogging`` must return a ``LoggingEnabled`` element. The target bucket is
named in the annotation but not judged: the benchmark recommends a separate bucket without
requiring one.

Ownership: a bucket this account owns is one ``ListBuckets`` returns. A trail bucket owned by
another account (an organisation's central log bucket) is not evaluated here: that account's
own deployment of the rule judges it.

Scenarios:
1. No trails, or no trail bucket this account owns: no evaluations (rdklib retires earlier ones).
2. A trail bucket with server access logging on: COMPLIANT, naming the target bucket.
3. A trail bucket with server access logging off: NON_COMPLIANT, naming the trails.
4. Several trails and buckets, listed over several ``ListBuckets`` pages: one evaluation per
   owned bucket, naming every trail that delivers to it.
5. A multi-region trail homed in another region (a shadow trail here), or a single-region trail
   of another region: its bucket is judged, read in the bucket's own region.
6. A bucket deleted between listing and reading (``NoSuchBucket``): NOT_APPLICABLE.
7. AccessDenied or any other API error: error, no evaluation (never COMPLIANT), also when it
   happens to one bucket among many read concurrently.
8. Any rule parameter but rdklib's own: InvalidParametersError.
9. Many buckets in many regions: read at most four at a time (``cis_parallel``), the verdicts
   and their order those of a serial run; other regions' trails described in one
   ``DescribeTrails`` call per region.
10. The Lambda's remaining time runs short: error naming how many buckets were judged, no
    evaluation.
"""

from cis_rule import S3_BUCKET, CisRule, account_id, compliant, handle, non_compliant
from cis_trail_buckets import ACTIONS as TRAIL_BUCKET_ACTIONS
from cis_trail_buckets import evaluate_trail_buckets


class CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(CisRule):
    ACTIONS = (*TRAIL_BUCKET_ACTIONS, "s3:GetBucketLogging")
    RESOURCE_TYPE = S3_BUCKET

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        def judge(bucket):
            enabled = bucket.s3.get_bucket_logging(Bucket=bucket.name).get("LoggingEnabled")
            if enabled:
                target = enabled.get("TargetBucket", "an unnamed bucket")
                return compliant(
                    bucket.name, S3_BUCKET, f"{bucket.subject} has server access logging on, to bucket {target}."
                )
            return non_compliant(bucket.name, S3_BUCKET, f"{bucket.subject} has server access logging off.")

        return evaluate_trail_buckets(client_factory, account_id(event), lambda: judge)


def lambda_handler(event, context):
    return handle(CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), event, context)
