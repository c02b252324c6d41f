"""Account state for the tests of the rules on trail buckets (CIS 2.3, 2.6): steps that a
:class:`cispack.testing.Case` runs in order inside moto."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Step = Callable[[Any], Any]

ACCOUNT_ID = "123456789012"
OTHER_ACCOUNT = "999988887777"


def steps(*given: Step) -> Step:
    """Run several steps as one ``Case.given``."""
    return lambda test: [step(test) for step in given]


def trail(name: str, bucket_name: str, region: str = "us-east-1", multi: bool = False) -> Step:
    return lambda test: test.client("cloudtrail", region).create_trail(
        Name=name, S3BucketName=bucket_name, IsMultiRegionTrail=multi
    )


def organisation_trail_of_another_account(bucket: str = "org-central-cloudtrail") -> Step:
    """The only visible trail is an organisation trail of the management account, delivering to
    that account's central bucket (moto cannot create another account's trail: recorded)."""
    return lambda test: test.respond(
        "cloudtrail",
        "DescribeTrails",
        {
            "trailList": [
                {
                    "Name": "org-trail",
                    "S3BucketName": bucket,
                    "IsMultiRegionTrail": True,
                    "IsOrganizationTrail": True,
                    "HomeRegion": "us-east-1",
                    "TrailARN": f"arn:aws:cloudtrail:us-east-1:{OTHER_ACCOUNT}:trail/org-trail",
                }
            ]
        },
    )


def list_buckets_in_two_pages(test: Any, first_page: int) -> list[Any]:
    """Answer ``ListBuckets`` with moto's own buckets split into two pages (moto answers in one
    page whatever its size); returns the parameters of every ``ListBuckets`` call the rule makes."""
    listed = test.client("s3").list_buckets()
    buckets, owner = listed["Buckets"], listed["Owner"]
    test.respond(
        "s3",
        "ListBuckets",
        [
            {"Buckets": buckets[:first_page], "Owner": owner, "ContinuationToken": "page-2"},
            {"Buckets": buckets[first_page:], "Owner": owner},
        ],
    )
    calls: list[Any] = test.count_calls("s3", "ListBuckets")
    return calls


def listed_elsewhere(*trails: tuple[str, str]) -> Step:
    """``ListTrails`` in the rule's region naming the account's trails ``(name, home region)`` of
    other regions, as AWS lists every region's trails (moto lists only the client's region)."""
    return lambda test: test.respond(
        "cloudtrail",
        "ListTrails",
        {
            "Trails": [
                {"TrailARN": f"arn:aws:cloudtrail:{home}:{ACCOUNT_ID}:trail/{name}", "Name": name, "HomeRegion": home}
                for name, home in trails
            ]
        },
        region="us-east-1",
    )
