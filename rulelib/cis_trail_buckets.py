"""The S3 buckets that the account's trails deliver to and that this account owns: what CIS 2.3
and 2.6 judge. Symlinked into those rule folders.

The trails: ``DescribeTrails`` with shadow trails in the rule's region (the account's multi-region
trails and the organisation trails it receives), plus ``ListTrails``, which names every trail of
the account with its home region, for the single-region trails homed elsewhere; those are
described in their home region.

A trail bucket owned by another account (an organisation's central log bucket) is skipped: that
account's own deployment of the rule judges it. A bucket deleted between listing and reading is
NOT_APPLICABLE; every other error propagates to rdklib.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from rdklib import Evaluation

from cis_rule import S3_BUCKET, join_names, not_applicable
from cis_s3_public import OWNERSHIP_ACTIONS, bucket_region, is_no_such_bucket, owned_buckets
from cis_trails import DESCRIBE_ACTIONS, Trail, trails_by_bucket, visible_trails

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


def account_trails(client_factory: Any, account: str) -> list[Trail]:
    """Every trail visible in the rule's region, and every trail of ``account`` in other regions."""
    cloudtrail = client_factory.build_client("cloudtrail")
    trails = {trail.arn: trail for trail in visible_trails(cloudtrail)}
    for page in cloudtrail.get_paginator("list_trails").paginate():
        for info in page.get("Trails", []):
            arn = str(info["TrailARN"])
            # Another account's trails (an organisation's) reach this region as shadow trails.
            if arn in trails or arn.split(":")[4] != account:
                continue
            home = client_factory.build_client("cloudtrail", str(info["HomeRegion"]))
            for item in home.describe_trails(trailNameList=[arn])["trailList"]:
                trail = Trail.from_description(item)
                trails.setdefault(trail.arn, trail)
    return [trails[arn] for arn in sorted(trails)]


def evaluate_trail_buckets(
    client_factory: Any, account: str, judge: Callable[[TrailBucket], Evaluation]
) -> list[Evaluation]:
    """One evaluation per owned trail bucket: ``judge``'s, or NOT_APPLICABLE if it was deleted."""
    buckets = trails_by_bucket(account_trails(client_factory, account))
    if not buckets:
        return []
    s3 = client_factory.build_client("s3")
    owned = owned_buckets(s3)
    evaluations = []
    for name, trails in buckets.items():
        if name not in owned:
            continue
        bucket = TrailBucket(name, tuple(trails), None)
        try:
            region = owned[name] or bucket_region(s3, name)
            bucket = TrailBucket(name, tuple(trails), client_factory.build_client("s3", region))
            evaluations.append(judge(bucket))
        except ClientError as err:
            if not is_no_such_bucket(err):
                raise
            evaluations.append(not_applicable(name, S3_BUCKET, f"{bucket.subject} was deleted while the rule ran."))
    return evaluations
