"""The S3 buckets that the account's trails deliver to and that this account owns: what CIS 2.3
and 2.6 judge. Symlinked into those rule folders.

The trails: ``DescribeTrails`` with shadow trails in the rule's region (the account's multi-region
trails and the organisation trails it receives), plus ``ListTrails``, which names every trail of
the account with its home region, for the single-region trails homed elsewhere; those are
described in their home region, one ``DescribeTrails`` call per region.

A trail bucket owned by another account (an organisation's central log bucket) is skipped: that
account's own deployment of the rule judges it. A bucket deleted between listing and reading is
NOT_APPLICABLE; every other error propagates to rdklib.

Work per run: one client per service and region (the rule's client factory builds each once),
``ListBuckets`` once, then per bucket its region (``BucketRegion`` from ``ListBuckets``, else
``GetBucketLocation``) and the rule's own reads. Regions and buckets are read at most
:data:`cis_parallel.WORKERS` at a time, the buckets judged longest ago first (results in bucket
order). A failure about one bucket concerns that bucket alone (CONTROLS.md, "When a rule cannot
judge"): denied, it is NON_COMPLIANT ``Could not evaluate``; throttled out, or the Lambda's time
running short, it is not judged and the run sends the others' verdicts and fails naming it.

**On a configuration change** (:func:`evaluate_trail_bucket_change`) the rule judges the one
bucket of the configuration item with the judge of the periodic run, so that the verdict and the
annotation are the ones the next periodic run gives it: the same trail discovery decides whether
it is a trail bucket (and names its trails), and a bucket that is none, or that another account
owns, is NOT_APPLICABLE. That also keeps rdklib's clean-up of the periodic run (it marks
NOT_APPLICABLE every COMPLIANT or NON_COMPLIANT resource the run does not report) from retiring
a change evaluation: a bucket the change judged is a trail bucket this account owns, which the
periodic run reports again, unless it stopped being one, when retiring it is right.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from rdklib import Evaluation

from cis_parallel import judge_each, map_in_order
from cis_rule import S3_BUCKET, join_names, judging_order, not_applicable
from cis_s3_public import OWNERSHIP_ACTIONS, bucket_region, is_no_such_bucket, owned_buckets
from cis_trails import DESCRIBE_ACTIONS, Trail, arn_account, describe_trails_by_arn, trails_by_bucket, visible_trails

ACTIONS = (*DESCRIBE_ACTIONS, "cloudtrail:ListTrails", *OWNERSHIP_ACTIONS)


@dataclass(frozen=True)
class TrailBucket:
    name: str
    trails: tuple[Trail, ...]
    #: An S3 client in the bucket's own region.
    s3: Any

    @property
    def subject(self) -> str:
        """How annotations name the bucket: with the trails that deliver to it, two at most and
        each cut to 40 characters, so that the reason after it fits in the 256 an annotation has
        (a bucket name is at most 63 characters, a trail name 128)."""
        names = (t.name if len(t.name) <= 40 else t.name[:39] + "~" for t in self.trails)
        return f"S3 bucket {self.name} (CloudTrail logs of {join_names(names, limit=2)})"


#: Judges one bucket; built once per run by the rule (it may read account-wide settings first).
Judge = Callable[[TrailBucket], Evaluation]


def account_trails(client_factory: Any, account: str) -> list[Trail]:
    """Every trail visible in the rule's region, and every trail of ``account`` in other regions."""
    cloudtrail = client_factory.build_client("cloudtrail")
    trails = {trail.arn: trail for trail in visible_trails(cloudtrail)}
    elsewhere: dict[str, set[str]] = {}
    for page in cloudtrail.get_paginator("list_trails").paginate():
        for info in page.get("Trails", []):
            arn = str(info["TrailARN"])
            # Another account's trails (an organisation's) reach this region as shadow trails.
            if arn in trails or arn_account(arn) != account:
                continue
            elsewhere.setdefault(str(info["HomeRegion"]), set()).add(arn)
    regions = sorted(elsewhere)
    clients = {region: client_factory.build_client("cloudtrail", region) for region in regions}
    described = map_in_order(
        lambda region: describe_trails_by_arn(clients[region], elsewhere[region]),
        regions,
        "regions' trails described",
    )
    for found in described:
        for trail in found:
            trails.setdefault(trail.arn, trail)
    return [trails[arn] for arn in sorted(trails)]


def _region_or_none(s3: Any, name: str) -> str | None:
    """The bucket's region, or None when it was deleted since ``ListBuckets``."""
    try:
        return bucket_region(s3, name)
    except ClientError as err:
        if not is_no_such_bucket(err):
            raise
        return None


def evaluate_trail_buckets(client_factory: Any, account: str, start_judging: Callable[[], Judge]) -> list[Evaluation]:
    """One evaluation per owned trail bucket, in bucket-name order: the judge's, NOT_APPLICABLE if
    the bucket was deleted while the rule ran, or NON_COMPLIANT ``Could not evaluate`` when a call
    about that bucket fails for good (a bucket policy that denies the rule's role). A bucket whose
    calls fail after retries is not judged: :class:`cis_rule.PartialRun` (see ``cis_parallel``).
    Buckets are judged oldest result first (:func:`cis_rule.judging_order`), so a run cut short
    leaves the next one to start where it stopped. ``start_judging`` is called once, in the calling
    thread, when there is a bucket to judge, and returns the judge the workers call."""
    buckets = trails_by_bucket(account_trails(client_factory, account))
    if not buckets:
        return []
    s3 = client_factory.build_client("s3")
    owned = owned_buckets(s3)
    mine = [(name, trails) for name, trails in buckets.items() if name in owned]
    if not mine:
        return []
    judge = start_judging()

    def evaluate(entry: tuple[str, tuple[Trail, ...]]) -> Evaluation:
        name, trails = entry
        bucket = TrailBucket(name, trails, None)
        try:
            region = owned[name] or bucket_region(s3, name)
            # The rule's own region keeps the client that listed the buckets; the factory builds
            # each other region's once, under its lock.
            client = s3 if region == s3.meta.region_name else client_factory.build_client("s3", region)
            return judge(TrailBucket(name, trails, client))
        except ClientError as err:
            if not is_no_such_bucket(err):
                raise
        return not_applicable(name, S3_BUCKET, f"{bucket.subject} was deleted while the rule ran.")

    def subject(entry: tuple[str, tuple[Trail, ...]]) -> tuple[str, str, str]:
        return entry[0], S3_BUCKET, TrailBucket(entry[0], entry[1], None).subject

    ordered = judging_order(mine, S3_BUCKET, lambda entry: entry[0])
    verdicts = judge_each(evaluate, ordered, subject, "trail buckets judged")
    # Judged oldest first, reported in bucket-name order (as a serial run in name order would).
    by_name = dict(zip((name for name, _ in ordered), verdicts, strict=True))
    return [by_name[name] for name, _ in mine]


#: Judges the bucket of a configuration item: the bucket and the item's ``supplementaryConfiguration``.
ChangeJudge = Callable[[TrailBucket, Mapping[str, Any]], Evaluation]


def evaluate_trail_bucket_change(
    client_factory: Any, account: str, item: Mapping[str, Any], judge: ChangeJudge
) -> list[Evaluation]:
    """The evaluation of the one bucket of a configuration item (AWS Config has already told
    deleted and out-of-scope items apart): the judge's when it is a trail bucket this account
    owns, NOT_APPLICABLE otherwise or when it was deleted while the rule ran. ``judge`` gets an
    S3 client in the bucket's region (the item's ``awsRegion``) for what the item does not record."""
    name = str(item["resourceId"])
    owner = item.get("awsAccountId")
    if owner and str(owner) != account:
        text = f"S3 bucket {name} belongs to account {owner}, whose own deployment of the rule judges it."
        return [not_applicable(name, S3_BUCKET, text)]
    trails = trails_by_bucket(account_trails(client_factory, account)).get(name)
    if not trails:
        text = f"S3 bucket {name} is not the log bucket of any trail of this account."
        return [not_applicable(name, S3_BUCKET, text)]
    region = item.get("awsRegion")
    if not isinstance(region, str) or not region:
        region = _region_or_none(client_factory.build_client("s3"), name)
    bucket = TrailBucket(name, trails, client_factory.build_client("s3", region) if region else None)
    try:
        if region is not None:
            supplementary = item.get("supplementaryConfiguration")
            return [judge(bucket, supplementary if isinstance(supplementary, Mapping) else {})]
    except ClientError as err:
        if not is_no_such_bucket(err):
            raise
    return [not_applicable(name, S3_BUCKET, f"{bucket.subject} was deleted while the rule ran.")]
