"""Scenarios of CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING (CIS 2.6), against moto's CloudTrail and S3."""

from unittest import mock

import CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING as rule

import cis_parallel
from cispack.testing.cases import Case, RuleTestCase, Verdict, data_driven
from cispack.testing.trails import (
    LambdaContext,
    fail_for_bucket,
    list_buckets_in_two_pages,
    many_trail_buckets,
    organisation_trail_of_another_account,
    regions_of_calls,
    run_with_context,
    steps,
    trail,
)

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def sent(run):
    """The evaluations of a run in the order the rule returned them, without their timestamps."""
    return [(e["ComplianceResourceId"], e["ComplianceType"], e["Annotation"]) for e in run.raw]


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
    # CONTROLS.md, "When a rule cannot judge": a bucket the rule cannot read shows as NON_COMPLIANT.
    Case(
        "get_bucket_logging_access_denied_could_not_evaluate_that_bucket",
        steps(
            bucket("ct-logs"),
            trail("main", "ct-logs"),
            lambda test: test.respond("s3", "GetBucketLogging", error="AccessDenied", status=403),
        ),
        expect=[
            Verdict(
                BUCKET,
                "ct-logs",
                "NON_COMPLIANT",
                "Could not evaluate: s3:GetBucketLogging was denied (AccessDenied) for S3 bucket ct-logs "
                "(CloudTrail logs of main).",
            )
        ],
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

    def test_many_buckets_in_three_regions_concurrently_as_serially(self):
        many_trail_buckets(REGIONS, per_region=4, logged=lambda n: n % 3 == 0)(self)
        list_buckets_in_two_pages(self, first_page=7, runs=2)
        described_in = regions_of_calls(self, "cloudtrail", "DescribeTrails")
        concurrent = sent(self.run_rule())
        # Shadow trails here, then one DescribeTrails per other region naming all its trails.
        self.assertEqual(["ap-southeast-2", "eu-west-1", "us-east-1"], sorted(described_in))
        self.assertEqual(12, len(concurrent))
        self.assertEqual(4, sum(compliance == "COMPLIANT" for _, compliance, _ in concurrent))
        with mock.patch.object(cis_parallel, "WORKERS", 1):
            serial = sent(self.run_rule())
        self.assertEqual(serial, concurrent)
        self.assertEqual(sorted(serial), serial, "in bucket-name order")

    def test_one_denied_bucket_among_many_is_could_not_evaluate_and_the_others_are_judged(self):
        many_trail_buckets(REGIONS, per_region=4, logged=lambda n: True)(self)
        fail_for_bucket(self, "GetBucketLogging", "ct-eu-west-1-2")
        verdicts = {v.resource_id: v for v in self.run_rule().verdicts}
        self.assertEqual(12, len(verdicts))
        denied = verdicts.pop("ct-eu-west-1-2")
        self.assertEqual("NON_COMPLIANT", denied.compliance)
        self.assertTrue(denied.annotation.startswith("Could not evaluate: s3:GetBucketLogging was denied"))
        self.assertEqual({"COMPLIANT"}, {v.compliance for v in verdicts.values()})

    def test_a_run_cut_short_is_finished_by_the_next_starting_with_what_it_missed(self):
        """Large accounts converge: the next run judges first the buckets the last did not reach."""
        many_trail_buckets(("us-east-1",), per_region=5, logged=lambda n: True)(self)
        calls = self.count_calls("s3", "GetBucketLogging")
        with mock.patch.object(cis_parallel, "WORKERS", 1):
            run_with_context(self, LambdaContext(runs_short=lambda: len(calls) >= 3))
            first = [c["Bucket"] for c in calls[:2]]
            del calls[:]
            self.assertEqual(5, len(run_with_context(self, LambdaContext(runs_short=lambda: False))))
        missed = sorted({c["Bucket"] for c in calls} - set(first))
        self.assertEqual(missed, sorted(c["Bucket"] for c in calls[:3]), "the three not reached come first")
        self.assertEqual(first, [c["Bucket"] for c in calls[3:]])

    def test_deadline_sends_the_buckets_judged_and_names_the_others(self):
        many_trail_buckets(("us-east-1",), per_region=5, logged=lambda n: True)(self)
        calls = self.count_calls("s3", "GetBucketLogging")
        # The time runs short as the third bucket is read: its request is not sent, the two
        # buckets judged are, and the invocation fails naming the three not judged.
        with mock.patch.object(cis_parallel, "WORKERS", 1):
            error = run_with_context(self, LambdaContext(runs_short=lambda: len(calls) >= 3))
        self.assertEqual("NotJudged", error["customerErrorCode"])
        self.assertIn("Sent the 2 verdicts decided, no clean-up; not judged: S3 bucket", error["customerErrorMessage"])
        self.assertIn("before the Lambda timeout after s3:GetBucketLogging was about to be sent", str(error))
        self.assertEqual(3, len(calls))
        self.assertEqual(2, len(self.ledger.sent))
