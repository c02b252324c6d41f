"""CIS 2.3 — Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible
(Level 1, scored).

Trigger: periodic, and configuration changes of ``AWS::S3::Bucket``. Reports on: each
``AWS::S3::Bucket`` (by name) that a trail of this account, or an organisation trail it receives,
delivers to, when this account owns it. Parameters: ``staleAfterHours`` (every rule).

Deploy in one region (rule set ``global-resources``): ``DescribeTrails`` with shadow trails shows
the account's multi-region trails and organisation trails from any region, and ``ListTrails``
the single-region trails homed in other regions (see ``cis_trail_buckets``). The bucket is
NON_COMPLIANT when its ACL grants anything to AllUsers or AuthenticatedUsers, or its policy
allows a ``*`` principal without a restricting condition, and S3 Block Public Access (bucket or
account level) does not neutralise it; see ``cis_s3_public`` for the exact definition.

Ownership: a bucket this account owns is one ``ListBuckets`` returns. A trail bucket owned by
another account (an organisation's central log bucket) is not evaluated here: that account's
own deployment of the rule judges it.

Scenarios:
1. No trails, or no trail bucket this account owns: no evaluations (rdklib retires earlier ones).
2. A trail bucket with a private ACL, no public policy statement: COMPLIANT.
3. A trail bucket whose ACL grants to AllUsers or AuthenticatedUsers: NON_COMPLIANT, naming the
   grants and the trails.
4. A trail bucket whose policy allows ``*`` without a restricting condition: NON_COMPLIANT,
   naming the statements. With a restricting condition (aws:SourceVpce...): COMPLIANT.
5. Public ACL or policy neutralised by IgnorePublicAcls / RestrictPublicBuckets at bucket or
   account level: COMPLIANT, the annotation saying what is neutralised and by which level.
6. Several trails and buckets, listed over several ``ListBuckets`` pages: one evaluation per
   owned bucket, naming every trail that delivers to it.
7. A multi-region trail homed in another region (a shadow trail here), or a single-region trail
   of another region: its bucket is judged, read in the bucket's own region.
8. A bucket deleted between listing and reading (``NoSuchBucket``): NOT_APPLICABLE.
9. AccessDenied, or a bucket policy that is not JSON, on one bucket's reads: that bucket
   NON_COMPLIANT ``Could not evaluate: ...`` naming the call or input, the others judged (never
   COMPLIANT). Denied on the trails, ``ListBuckets`` or the account's Block Public Access: every
   bucket the rule last reported NON_COMPLIANT ``Could not evaluate``, and the invocation fails.
   Throttling or 5xx after retries on a bucket: the others are sent, no clean-up, the invocation
   fails naming it (``staleAfterHours``, every rule: older results then NON_COMPLIANT).
10. Any rule parameter but ``staleAfterHours`` and rdklib's own: InvalidParametersError.
11. Many buckets in many regions: read at most four at a time (``cis_parallel``), the verdicts
    and their order those of a serial run; other regions' trails described in one
    ``DescribeTrails`` call per region.
12. The Lambda's remaining time runs short: the buckets judged are sent (those judged longest ago
    go first), no clean-up, and the invocation fails naming the others.

On a configuration change of a bucket (AWS Config records buckets in their own region, so the
rule hears of changes to buckets in the region it is deployed in; the periodic run covers the
others), the rule judges that one bucket as the periodic run would, with the same annotation:
13. A trail bucket made public (ACL grant or policy statement, Block Public Access not
    neutralising it): NON_COMPLIANT, as in 3 and 4; made private again: COMPLIANT, as in 2 and 5.
    The ACL, the policy and the bucket's Block Public Access come from the configuration item's
    ``supplementaryConfiguration``; a setting it does not record readably is read from the API,
    and Block Public Access (the bucket's when the item has none, the account's always) only when
    something is public.
14. A bucket that is not the log bucket of any trail of this account, or that another account
    owns: NOT_APPLICABLE.
15. A deleted bucket (``ResourceDeleted``), or an item that left the rule's scope: NOT_APPLICABLE.
16. An oversized configuration item: read back with ``config:GetResourceConfigHistory``, then as 13.
17. AccessDenied on any call, or a bucket policy that is not JSON: the bucket NON_COMPLIANT
    ``Could not evaluate: ...``; throttling after retries: nothing sent, the invocation fails.
A change evaluation is never retired by the periodic run's clean-up: the periodic run reports
every trail bucket this account owns again (see ``cis_trail_buckets``).
"""

from cis_rule import S3_BUCKET, CisRule, account_id, compliant, handle, non_compliant
from cis_s3_public import ACTIONS as PUBLIC_ACTIONS
from cis_s3_public import account_block_public_access, bucket_public_access, recorded_public_access
from cis_trail_buckets import ACTIONS as TRAIL_BUCKET_ACTIONS
from cis_trail_buckets import evaluate_trail_bucket_change, evaluate_trail_buckets


def _verdict(bucket, access):
    """The one verdict and annotation of both triggers."""
    verdict = non_compliant if access.is_public else compliant
    return verdict(bucket.name, S3_BUCKET, f"{bucket.subject} {access.reason}.")


class CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(CisRule):
    ACTIONS = (*TRAIL_BUCKET_ACTIONS, *PUBLIC_ACTIONS)
    RESOURCE_TYPE = S3_BUCKET
    CHANGE_TYPES = (S3_BUCKET,)

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        account = account_id(event)

        def start_judging():
            # The account's Block Public Access, read once, and only when there is a bucket to judge.
            account_block = account_block_public_access(client_factory.build_client("s3control"), account)
            return lambda bucket: _verdict(bucket, bucket_public_access(bucket.s3, bucket.name, account_block))

        return evaluate_trail_buckets(client_factory, account, start_judging)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        account = account_id(event)

        def judge(bucket, supplementary):
            def account_block():
                return account_block_public_access(client_factory.build_client("s3control"), account)

            return _verdict(bucket, recorded_public_access(bucket.s3, bucket.name, supplementary, account_block))

        return evaluate_trail_bucket_change(client_factory, account, configuration_item, judge)


def lambda_handler(event, context):
    return handle(CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), event, context)
