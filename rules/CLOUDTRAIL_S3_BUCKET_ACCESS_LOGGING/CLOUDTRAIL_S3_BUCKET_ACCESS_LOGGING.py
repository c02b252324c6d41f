"""CIS 2.6 — Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket
(Level 1, scored).

Trigger: periodic, and configuration changes of ``AWS::S3::Bucket``. Reports on: each
``AWS::S3::Bucket`` (by name) that a trail of this account, or an organisation trail it receives,
delivers to, when this account owns it. Parameters: ``staleAfterHours`` (every rule).

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
7. AccessDenied on one bucket's reads: that bucket NON_COMPLIANT ``Could not evaluate: ...``, the
   others judged (never COMPLIANT). Denied on the trails or ``ListBuckets``: every bucket the
   rule last reported NON_COMPLIANT ``Could not evaluate``, and the invocation fails. Throttling or
   5xx after retries on a bucket: the others are sent, no clean-up, the invocation fails naming it.
8. Any rule parameter but ``staleAfterHours`` and rdklib's own: InvalidParametersError.
9. Many buckets in many regions: read at most four at a time (``cis_parallel``), the verdicts
   and their order those of a serial run; other regions' trails described in one
   ``DescribeTrails`` call per region.
10. The Lambda's remaining time runs short: the buckets judged are sent (those judged longest ago
    go first), no clean-up, and the invocation fails naming the others.

On a configuration change of a bucket (AWS Config records buckets in their own region, so the
rule hears of changes to buckets in the region it is deployed in; the periodic run covers the
others), the rule judges that one bucket as the periodic run would, with the same annotation:
11. A trail bucket whose server access logging is turned off: NON_COMPLIANT, as in 3; turned on:
    COMPLIANT naming the target bucket, as in 2. The setting comes from the configuration item's
    ``BucketLoggingConfiguration`` (``destinationBucketName``, null when off); an item without a
    readable one falls back to ``GetBucketLogging``.
12. A bucket that is not the log bucket of any trail of this account, or that another account
    owns: NOT_APPLICABLE.
13. A deleted bucket (``ResourceDeleted``), or an item that left the rule's scope: NOT_APPLICABLE.
14. An oversized configuration item: read back with ``config:GetResourceConfigHistory``, then as 11.
15. AccessDenied on any call: the bucket NON_COMPLIANT ``Could not evaluate: ...``; throttling
    after retries: nothing sent, the invocation fails.
A change evaluation is never retired by the periodic run's clean-up: the periodic run reports
every trail bucket this account owns again (see ``cis_trail_buckets``).
"""

import json

from cis_rule import S3_BUCKET, CisRule, account_id, compliant, handle, non_compliant
from cis_trail_buckets import ACTIONS as TRAIL_BUCKET_ACTIONS
from cis_trail_buckets import evaluate_trail_bucket_change, evaluate_trail_buckets


def _logging_target(bucket):
    """``GetBucketLogging``: the target bucket when logging is on, None when off."""
    enabled = bucket.s3.get_bucket_logging(Bucket=bucket.name).get("LoggingEnabled")
    return enabled.get("TargetBucket", "an unnamed bucket") if enabled else None


def _recorded_target(bucket, supplementary):
    """The item's ``BucketLoggingConfiguration``, or ``GetBucketLogging`` when it has none readable."""
    recorded = supplementary.get("BucketLoggingConfiguration")
    if isinstance(recorded, str):  # a JSON string, as AWS Config writes some supplementary values
        try:
            recorded = json.loads(recorded)
        except ValueError:
            recorded = None
    if isinstance(recorded, dict) and "destinationBucketName" in recorded:
        target = recorded["destinationBucketName"]
        if target is None or (isinstance(target, str) and target):
            return target
    return _logging_target(bucket)


def _verdict(bucket, target):
    """The one verdict and annotation of both triggers."""
    if target:
        return compliant(bucket.name, S3_BUCKET, f"{bucket.subject} has server access logging on, to bucket {target}.")
    return non_compliant(bucket.name, S3_BUCKET, f"{bucket.subject} has server access logging off.")


class CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(CisRule):
    ACTIONS = (*TRAIL_BUCKET_ACTIONS, "s3:GetBucketLogging")
    RESOURCE_TYPE = S3_BUCKET
    CHANGE_TYPES = (S3_BUCKET,)

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        return evaluate_trail_buckets(
            client_factory, account_id(event), lambda: lambda bucket: _verdict(bucket, _logging_target(bucket))
        )

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        return evaluate_trail_bucket_change(
            client_factory,
            account_id(event),
            configuration_item,
            lambda bucket, supplementary: _verdict(bucket, _recorded_target(bucket, supplementary)),
        )


def lambda_handler(event, context):
    return handle(CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), event, context)
