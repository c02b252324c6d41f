"""Scenarios of CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING (CIS 2.6), against moto's CloudTrail and S3."""

import CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING as rule

from cispack.testing import Case, RuleTestCase, Verdict, data_driven
from cispack.trail_fixtures import list_buckets_in_two_pages, organisation_trail_of_another_account, steps, trail

BUCKET = "AWS::S3::Bucket"


def bucket(name, region="us-east-1", log_to=None):
    def step(test):
        s3 = test.client("s3", region)
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        if log_to:
            # moto, like S3 with ACLs, wants the log-delivery group allowed to write to the target.
            s3.create_bucket(Bucket=log_to, ACL="log-delivery-write", **location)
        s3.create_bucket(Bucket=name, **location)
        if log_to:
            s3.put_bucket_logging(
                Bucket=name,
                BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": log_to, "TargetPrefix": f"{name}/"}},
            )

    return step


def logged(name, trails, target):
    return Verdict(
        BUCKET,
        name,
        "COMPLIANT",
        f"S3 bucket {name} (CloudTrail logs of {trails}) has server access logging on, to bucket {target}.",
    )


def unlogged(name, trails):
    return Verdict(
        BUCKET, name, "NON_COMPLIANT", f"S3 bucket {name} (CloudTrail logs of {trails}) has server access logging off."
    )


CASES = [
    Case("zero_trails", expect=[]),
    Case(
        "logging_on",
        steps(bucket("ct-logs", log_to="access-logs"), trail("main", "ct-logs")),
        expect=[logged("ct-logs", "main", "access-logs")],
    ),
    Case("logging_off", steps(bucket("ct-logs"), trail("main", "ct-logs")), expect=[unlogged("ct-logs", "main")]),
    Case(
        "several_trails_and_buckets",
        steps(
            bucket("ct-logs", log_to="access-logs"),
            bucket("ct-legacy"),
            bucket("unrelated"),
            trail("main", "ct-logs"),
            trail("audit", "ct-logs"),
            trail("legacy", "ct-legacy"),
        ),
        expect=[logged("ct-logs", "audit and main", "access-logs"), unlogged("ct-legacy", "legacy")],
    ),
    Case(
        "multi_region_trail_homed_elsewhere",
        steps(bucket("ct-eu", region="eu-west-1"), trail("eu-main", "ct-eu", "eu-west-1", multi=True)),
        expect=[unlogged("ct-eu", "eu-main")],
    ),
    Case(
        "organisation_trail_bucket_in_another_account",
        organisation_trail_of_another_account(),
        expect=[],
    ),
    Case(
        "trail_bucket_no_longer_exists",
        steps(
            bucket("ct-logs"), trail("main", "ct-logs"), lambda test: test.client("s3").delete_bucket(Bucket="ct-logs")
        ),
        expect=[],
    ),
    Case(
        "bucket_deleted_between_listing_and_reading",
        steps(
            bucket("ct-logs"),
            trail("main", "ct-logs"),
            lambda test: test.respond("s3", "GetBucketLogging", error="NoSuchBucket", status=404),
        ),
        expect=[
            Verdict(
                BUCKET,
                "ct-logs",
                "NOT_APPLICABLE",
                "S3 bucket ct-logs (CloudTrail logs of main) was deleted while the rule ran.",
            )
        ],
    ),
    Case(
        "get_bucket_logging_access_denied",
        steps(
            bucket("ct-logs"),
            trail("main", "ct-logs"),
            lambda test: test.respond("s3", "GetBucketLogging", error="AccessDenied", status=403),
        ),
        error="AccessDenied",
    ),
    Case(
        "list_buckets_access_denied",
        steps(
            bucket("ct-logs"),
            trail("main", "ct-logs"),
            lambda test: test.respond("s3", "ListBuckets", error="AccessDenied", status=403),
        ),
        error="AccessDenied",
    ),
    Case("any_parameter_is_rejected", parameters={"targetBucket": "x"}, error="Unknown rule parameter targetBucket"),
]


@data_driven(CASES)
class CloudtrailS3BucketAccessLoggingTest(RuleTestCase):
    rule_module = rule
    rule_name = "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING"

    def test_buckets_over_two_pages(self):
        for name in ("ct-a", "ct-b", "ct-c"):
            bucket(name, log_to=None if name == "ct-b" else f"{name}-access")(self)
            trail(f"trail-{name}", name)(self)
        calls = list_buckets_in_two_pages(self, first_page=3)
        verdicts = self.run_rule().verdicts
        self.assertEqual([{}, {"ContinuationToken": "page-2"}], calls)
        self.assertEqual(
            [("ct-a", "COMPLIANT"), ("ct-b", "NON_COMPLIANT"), ("ct-c", "COMPLIANT")],
            [(v.resource_id, v.compliance) for v in verdicts],
        )

    def test_bucket_is_read_in_its_own_region(self):
        bucket("ct-eu", region="eu-west-1")(self)
        trail("eu-main", "ct-eu", "eu-west-1", multi=True)(self)
        # Answered only for an eu-west-1 client: a client of any other region would get moto's "off".
        self.respond(
            "s3",
            "GetBucketLogging",
            {"LoggingEnabled": {"TargetBucket": "eu-access", "TargetPrefix": ""}},
            region="eu-west-1",
        )
        self.assertEqual([logged("ct-eu", "eu-main", "eu-access")], self.run_rule().verdicts)

    def test_single_region_trails_of_other_regions_listed_over_two_pages(self):
        bucket("ct-eu", region="eu-west-1")(self)
        trail("eu-only", "ct-eu", "eu-west-1")(self)
        bucket("ct-ap", region="ap-southeast-2", log_to="ap-access")(self)
        trail("ap-only", "ct-ap", "ap-southeast-2")(self)
        arn = "arn:aws:cloudtrail:{}:123456789012:trail/{}"
        self.respond(
            "cloudtrail",
            "ListTrails",
            [
                {
                    "Trails": [{"TrailARN": arn.format("eu-west-1", "eu-only"), "HomeRegion": "eu-west-1"}],
                    "NextToken": "page-2",
                },
                {"Trails": [{"TrailARN": arn.format("ap-southeast-2", "ap-only"), "HomeRegion": "ap-southeast-2"}]},
            ],
            region="us-east-1",
        )
        calls = self.count_calls("cloudtrail", "ListTrails")
        self.assertEqual(
            [logged("ct-ap", "ap-only", "ap-access"), unlogged("ct-eu", "eu-only")], self.run_rule().verdicts
        )
        self.assertEqual([{}, {"NextToken": "page-2"}], calls)

    def test_long_names_leave_room_for_the_reason(self):
        name = "b" * 63
        bucket(name)(self)
        for n in range(3):
            trail(f"{n}-" + "t" * 126, name)(self)
        (verdict,) = self.run_rule().verdicts
        self.assertLessEqual(len(verdict.annotation), 256)
        self.assertTrue(verdict.annotation.endswith("and 1 more) has server access logging off."), verdict.annotation)
