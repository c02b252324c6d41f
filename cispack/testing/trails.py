"""Account state for the tests of the rules on trail buckets (CIS 2.3, 2.6): steps that a
:class:`cispack.testing.cases.Case` runs in order inside moto."""

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


def list_buckets_in_two_pages(test: Any, first_page: int, runs: int = 1) -> list[Any]:
    """Answer ``ListBuckets`` with moto's own buckets split into two pages (moto answers in one
    page whatever its size), for ``runs`` runs of the rule; returns the parameters of every
    ``ListBuckets`` call the rule makes."""
    listed = test.client("s3").list_buckets()
    buckets, owner = listed["Buckets"], listed["Owner"]
    test.respond(
        "s3",
        "ListBuckets",
        [
            {"Buckets": buckets[:first_page], "Owner": owner, "ContinuationToken": "page-2"},
            {"Buckets": buckets[first_page:], "Owner": owner},
        ]
        * runs,
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


def many_trail_buckets(regions: tuple[str, ...], per_region: int, logged: Callable[[int], bool]) -> Step:
    """``per_region`` single-region trails in each region (at most 5, AWS's limit), each with its
    own bucket in that region, named ``ct-<region>-<n>``; ``logged(index)`` says which buckets get
    server access logging (to ``access-<region>``). The other regions' trails are listed by
    ``ListTrails`` in us-east-1, as AWS lists them. Returns nothing; bucket names are sorted."""

    def step(test: Any) -> None:
        elsewhere = []
        index = 0
        for region in regions:
            s3 = test.client("s3", region)
            location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=f"access-{region}", ACL="log-delivery-write", **location)
            for n in range(per_region):
                name = f"ct-{region}-{n}"
                s3.create_bucket(Bucket=name, **location)
                if logged(index):
                    s3.put_bucket_logging(
                        Bucket=name,
                        BucketLoggingStatus={
                            "LoggingEnabled": {"TargetBucket": f"access-{region}", "TargetPrefix": ""}
                        },
                    )
                trail(f"t-{region}-{n}", name, region)(test)
                if region != "us-east-1":
                    elsewhere.append((f"t-{region}-{n}", region))
                index += 1
        listed_elsewhere(*elsewhere)(test)

    return step


def fail_for_bucket(test: Any, operation: str, bucket: str, code: str = "AccessDenied", status: int = 403) -> None:
    """Answer ``s3.<operation>`` with the error ``code`` for one bucket only (moto answers the others)."""
    import boto3
    from botocore.awsrequest import AWSResponse

    events = boto3._get_default_session().events
    unique = f"fail-{operation}-{bucket}"

    def params(params: Any, context: dict[str, Any], **_: Any) -> None:
        context["fixture_bucket"] = params.get("Bucket")

    def answer(context: Any, **_: Any) -> Any:
        if context.get("fixture_bucket") != bucket:
            return None
        parsed = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://local", status, {}, None), parsed

    events.register(f"before-parameter-build.s3.{operation}", params, unique_id=f"{unique}-params")
    events.register(f"before-call.s3.{operation}", answer, unique_id=f"{unique}-answer")
    test.addCleanup(events.unregister, f"before-parameter-build.s3.{operation}", unique_id=f"{unique}-params")
    test.addCleanup(events.unregister, f"before-call.s3.{operation}", unique_id=f"{unique}-answer")


def regions_of_calls(test: Any, service: str, operation: str) -> list[str]:
    """The region of the client of every ``service.operation`` call from now on."""
    import boto3

    seen: list[str] = []
    events = boto3._get_default_session().events
    event = f"before-call.{service}.{operation}"
    unique = f"regions-of-{service}-{operation}"

    def record(context: Any, **_: Any) -> None:
        seen.append(str(context.get("client_region")))

    events.register(event, record, unique_id=unique)
    test.addCleanup(events.unregister, event, unique_id=unique)
    return seen


class LambdaContext:
    """A Lambda context with a minute left, and one second once ``runs_short()`` is true."""

    def __init__(self, runs_short: Callable[[], bool]) -> None:
        self.runs_short = runs_short

    def get_remaining_time_in_millis(self) -> int:
        return 1_000 if self.runs_short() else 60_000


def run_with_context(test: Any, context: LambdaContext) -> Any:
    """The rule's handler on a scheduled event with ``context``: evaluations, or rdklib's error."""
    from cis_rule import RuleFailed
    from cispack.local.events import scheduled_event

    event = scheduled_event(test.rule_name, account=ACCOUNT_ID, region="us-east-1")
    try:
        return test.rule_module.lambda_handler(event, context)
    except RuleFailed as failed:
        return failed.response
