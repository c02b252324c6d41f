"""CIS 2.6 — Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket
(Level 1, scored).

Trigger: periodic. Reports on: each ``AWS::S3::Bucket`` (by name) that a trail visible in the
rule's region delivers to, when this account owns it. Parameters: none.

Deploy in one region (rule set ``global-resources``): ``DescribeTrails`` with shadow trails shows
the account's multi-region trails and organisation trails from any region. As the benchmark's
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
5. A multi-region trail homed in another region (a shadow trail here): its bucket is judged,
   read in the bucket's own region.
6. A bucket deleted between listing and reading (``NoSuchBucket``): NOT_APPLICABLE.
7. AccessDenied or any other API error: error, no evaluation (never COMPLIANT).
8. Any rule parameter but rdklib's own: InvalidParametersError.
"""

from botocore.exceptions import ClientError
from rdklib import Evaluator

from cis_rule import S3_BUCKET, CisRule, compliant, join_names, non_compliant, not_applicable
from cis_s3_public import OWNERSHIP_ACTIONS, bucket_region, is_no_such_bucket, owned_buckets
from cis_trails import DESCRIBE_ACTIONS, trails_by_bucket, visible_trails


class CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(CisRule):
    ACTIONS = (*DESCRIBE_ACTIONS, *OWNERSHIP_ACTIONS, "s3:GetBucketLogging")
    RESOURCE_TYPE = S3_BUCKET

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        buckets = trails_by_bucket(visible_trails(client_factory.build_client("cloudtrail")))
        if not buckets:
            return []
        s3 = client_factory.build_client("s3")
        owned = owned_buckets(s3)
        evaluations = []
        for name, trails in buckets.items():
            if name not in owned:
                continue
            subject = f"S3 bucket {name} (CloudTrail logs of {join_names(t.name for t in trails)})"
            try:
                region = owned[name] or bucket_region(s3, name)
                logging = client_factory.build_client("s3", region).get_bucket_logging(Bucket=name)
            except ClientError as err:
                if not is_no_such_bucket(err):
                    raise
                evaluations.append(not_applicable(name, S3_BUCKET, f"{subject} was deleted while the rule ran."))
                continue
            enabled = logging.get("LoggingEnabled")
            if enabled:
                target = enabled.get("TargetBucket", "an unnamed bucket")
                evaluations.append(
                    compliant(name, S3_BUCKET, f"{subject} has server access logging on, to bucket {target}.")
                )
            else:
                evaluations.append(non_compliant(name, S3_BUCKET, f"{subject} has server access logging off."))
        return evaluations


def lambda_handler(event, context):
    return Evaluator(CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING()).handle(event, context)
