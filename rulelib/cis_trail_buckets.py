"""The S3 buckets that trails visible in this region deliver to and that this account owns: what
CIS 2.3 and 2.6 judge. Symlinked into those rule folders.

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

ACTIONS = (*DESCRIBE_ACTIONS, *OWNERSHIP_ACTIONS)


@dataclass(frozen=True)
class TrailBucket:
    name: str
    trails: tuple[Trail, ...]
    #: An S3 client in the bucket's own region.
    s3: Any

    @property
    def subject(self) -> str:
        """How annotations name the bucket: with the trails that deliver to it."""
        return f"S3 bucket {self.name} (CloudTrail logs of {join_names(t.name for t in self.trails)})"


def evaluate_trail_buckets(client_factory: Any, judge: Callable[[TrailBucket], Evaluation]) -> list[Evaluation]:
    """One evaluation per owned trail bucket: ``judge``'s, or NOT_APPLICABLE if it was deleted."""
    buckets = trails_by_bucket(visible_trails(client_factory.build_client("cloudtrail")))
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
