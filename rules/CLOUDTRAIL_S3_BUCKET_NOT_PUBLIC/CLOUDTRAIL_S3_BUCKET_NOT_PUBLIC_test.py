"""Scenarios of CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC (CIS 2.3), against moto's CloudTrail and S3."""

import json
from datetime import UTC, datetime
from unittest import mock

import CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC as rule

import cis_parallel
from cispack.local.builders import add_bucket, set_account_block
from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.trails import (
    fail_for_bucket,
    list_buckets_in_two_pages,
    listed_elsewhere,
    many_trail_buckets,
    organisation_trail_of_another_account,
    regions_of_calls,
    steps,
    trail,
)

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")

BUCKET = "AWS::S3::Bucket"
PRIVATE = (
    "is not public: no ACL grant to AllUsers or AuthenticatedUsers and no policy statement allowing any principal."
)


def bucket(name, region="us-east-1", acl=None, policy=None, block=None):
    return lambda test: add_bucket(test, name, region, acl=acl, policy=policy, block=block or ())


def account_block(*settings):
    return lambda test: set_account_block(test, *settings)


def public_read(name, sid="PublicRead", condition=None):
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*",
    }
    if condition:
        statement["Condition"] = condition
    return statement


def verdict(name, compliance, text):
    return Verdict(BUCKET, name, compliance, text)


CASES = [
    Case("zero_trails", expect=[]),
    Case(
        "private_bucket",
        steps(bucket("ct-logs"), trail("main", "ct-logs")),
        expect=[verdict("ct-logs", "COMPLIANT", f"S3 bucket ct-logs (CloudTrail logs of main) {PRIVATE}")],
    ),
    Case(
        "acl_grants_all_users",
        steps(bucket("ct-logs", acl="public-read"), trail("main", "ct-logs")),
        expect=[
            verdict(
                "ct-logs",
                "NON_COMPLIANT",
                "S3 bucket ct-logs (CloudTrail logs of main) is public: its ACL grants READ to AllUsers.",
            )
        ],
    ),
    Case(
        "acl_grants_authenticated_users",
        steps(bucket("ct-logs", acl="authenticated-read"), trail("main", "ct-logs")),
        expect=[
            verdict(
                "ct-logs",
                "NON_COMPLIANT",
                "S3 bucket ct-logs (CloudTrail logs of main) is public: its ACL grants READ to AuthenticatedUsers.",
            )
        ],
    ),
    Case(
        "policy_allows_anyone",
        steps(bucket("ct-logs", policy=[public_read("ct-logs")]), trail("main", "ct-logs")),
        expect=[
            verdict(
                "ct-logs",
                "NON_COMPLIANT",
                "S3 bucket ct-logs (CloudTrail logs of main) is public: its bucket policy allows any principal "
                "without a restricting condition (statement PublicRead).",
            )
        ],
    ),
    Case(
        "policy_allows_anyone_through_one_vpc_endpoint",
        steps(
            bucket(
                "ct-logs",
                policy=[public_read("ct-logs", condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})],
            ),
            trail("main", "ct-logs"),
        ),
        expect=[verdict("ct-logs", "COMPLIANT", f"S3 bucket ct-logs (CloudTrail logs of main) {PRIVATE}")],
    ),
    Case(
        "acl_and_policy_public",
        steps(bucket("ct-logs", acl="public-read", policy=[public_read("ct-logs")]), trail("main", "ct-logs")),
        expect=[
            verdict(
                "ct-logs",
                "NON_COMPLIANT",
                "S3 bucket ct-logs (CloudTrail logs of main) is public: its ACL grants READ to AllUsers and its "
                "bucket policy allows any principal without a restricting condition (statement PublicRead).",
            )
        ],
    ),
    Case(
        "public_acl_ignored_at_bucket_level",
        steps(bucket("ct-logs", acl="public-read", block=["IgnorePublicAcls"]), trail("main", "ct-logs")),
        expect=[
            verdict(
                "ct-logs",
                "COMPLIANT",
                "S3 bucket ct-logs (CloudTrail logs of main) is not public: its ACL grants READ to AllUsers but "
                "IgnorePublicAcls is on (bucket level).",
            )
        ],
    ),
    Case(
        "public_policy_restricted_at_account_level",
        steps(
            bucket("ct-logs", policy=[public_read("ct-logs")]),
            trail("main", "ct-logs"),
            account_block("RestrictPublicBuckets"),
        ),
        expect=[
            verdict(
                "ct-logs",
                "COMPLIANT",
                "S3 bucket ct-logs (CloudTrail logs of main) is not public: its bucket policy allows any principal "
                "without a restricting condition (statement PublicRead) but RestrictPublicBuckets is on "
                "(account level).",
            )
        ],
    ),
    Case(
        "block_public_acls_does_not_neutralise_an_existing_acl",
        steps(
            bucket("ct-logs", acl="public-read"),
            trail("main", "ct-logs"),
            account_block("BlockPublicAcls", "BlockPublicPolicy"),
        ),
        expect=[
            verdict(
                "ct-logs",
                "NON_COMPLIANT",
                "S3 bucket ct-logs (CloudTrail logs of main) is public: its ACL grants READ to AllUsers.",
            )
        ],
    ),
    Case(
        "several_trails_and_buckets",
        steps(
            bucket("ct-logs"),
            bucket("ct-open", acl="public-read"),
            bucket("unrelated", acl="public-read"),
            trail("main", "ct-logs"),
            trail("audit", "ct-logs"),
            trail("legacy", "ct-open"),
        ),
        expect=[
            verdict("ct-logs", "COMPLIANT", f"S3 bucket ct-logs (CloudTrail logs of audit and main) {PRIVATE}"),
            verdict(
                "ct-open",
                "NON_COMPLIANT",
                "S3 bucket ct-open (CloudTrail logs of legacy) is public: its ACL grants READ to AllUsers.",
            ),
        ],
    ),
    Case(
        "multi_region_trail_homed_elsewhere",
        steps(
            bucket("ct-eu", region="eu-west-1", acl="public-read"), trail("eu-main", "ct-eu", "eu-west-1", multi=True)
        ),
        expect=[
            verdict(
                "ct-eu",
                "NON_COMPLIANT",
                "S3 bucket ct-eu (CloudTrail logs of eu-main) is public: its ACL grants READ to AllUsers.",
            )
        ],
    ),
    Case(
        "single_region_trail_of_another_region",
        steps(
            bucket("ct-eu", region="eu-west-1", acl="public-read"),
            trail("eu-only", "ct-eu", "eu-west-1"),
            listed_elsewhere(("eu-only", "eu-west-1")),
        ),
        expect=[
            verdict(
                "ct-eu",
                "NON_COMPLIANT",
                "S3 bucket ct-eu (CloudTrail logs of eu-only) is public: its ACL grants READ to AllUsers.",
            )
        ],
    ),
    Case(
        "list_trails_access_denied",
        steps(lambda test: test.respond("cloudtrail", "ListTrails", error="AccessDeniedException")),
        error="AccessDenied",
    ),
    Case(
        "organisation_trail_bucket_in_another_account",
        organisation_trail_of_another_account(),
        expect=[],
    ),
    Case(
        "bucket_deleted_between_listing_and_reading",
        steps(
            bucket("ct-logs"),
            trail("main", "ct-logs"),
            lambda test: test.respond("s3", "GetBucketAcl", error="NoSuchBucket", status=404),
        ),
        expect=[
            verdict(
                "ct-logs",
                "NOT_APPLICABLE",
                "S3 bucket ct-logs (CloudTrail logs of main) was deleted while the rule ran.",
            )
        ],
    ),
    Case(
        "describe_trails_access_denied",
        lambda test: test.respond("cloudtrail", "DescribeTrails", error="AccessDeniedException"),
        error="AccessDenied",
    ),
    # CONTROLS.md, "When a rule cannot judge": what the rule cannot read shows as NON_COMPLIANT.
    Case(
        "bucket_policy_access_denied_could_not_evaluate_that_bucket",
        steps(
            bucket("ct-logs"),
            trail("main", "ct-logs"),
            lambda test: test.respond("s3", "GetBucketPolicy", error="AccessDenied", status=403),
        ),
        expect=[
            verdict(
                "ct-logs",
                "NON_COMPLIANT",
                "Could not evaluate: s3:GetBucketPolicy was denied (AccessDenied) for S3 bucket ct-logs "
                "(CloudTrail logs of main).",
            )
        ],
    ),
    Case(
        "account_block_public_access_denied_with_nothing_reported_before_sends_nothing",
        steps(
            bucket("ct-logs"),
            trail("main", "ct-logs"),
            lambda test: test.respond("s3control", "GetPublicAccessBlock", error="AccessDenied", status=403),
        ),
        error="AccessDenied",
    ),
    Case(
        "account_block_public_access_denied_marks_every_bucket_last_reported",
        steps(
            bucket("ct-logs"),
            trail("main", "ct-logs"),
            lambda test: test.previously([verdict("ct-logs", "COMPLIANT", "x")], datetime(2026, 1, 1, tzinfo=UTC)),
            lambda test: test.respond("s3control", "GetPublicAccessBlock", error="AccessDenied", status=403),
        ),
        error="AccessDenied",
        expect=[
            verdict(
                "ct-logs",
                "NON_COMPLIANT",
                "Could not evaluate: s3:GetAccountPublicAccessBlock was denied (AccessDenied).",
            )
        ],
    ),
    Case(
        "unreadable_bucket_policy_could_not_evaluate_that_bucket",
        steps(
            bucket("ct-logs"),
            trail("main", "ct-logs"),
            lambda test: test.respond("s3", "GetBucketPolicy", {"Policy": "{not json"}),
        ),
        expect=[
            verdict(
                "ct-logs",
                "NON_COMPLIANT",
                "Could not evaluate: The bucket policy is not valid JSON for S3 bucket ct-logs "
                "(CloudTrail logs of main).",
            )
        ],
    ),
    Case("any_parameter_is_rejected", parameters={"bucketNames": "x"}, error="Unknown rule parameter bucketNames"),
]


@data_driven(CASES)
class CloudtrailS3BucketNotPublicTest(RuleTestCase):
    rule_module = rule
    rule_name = "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC"

    def test_buckets_over_two_pages(self):
        for name in ("ct-a", "ct-b", "ct-c"):
            bucket(name, acl="public-read" if name == "ct-b" else None)(self)
            trail(f"trail-{name}", name)(self)
        calls = list_buckets_in_two_pages(self, first_page=2)
        verdicts = self.run_rule().verdicts
        self.assertEqual([{}, {"ContinuationToken": "page-2"}], calls)
        self.assertEqual(
            [("ct-a", "COMPLIANT"), ("ct-b", "NON_COMPLIANT"), ("ct-c", "COMPLIANT")],
            [(v.resource_id, v.compliance) for v in verdicts],
        )

    def test_account_settings_are_read_once(self):
        for name in ("ct-a", "ct-b"):
            bucket(name)(self)
            trail(f"trail-{name}", name)(self)
        calls = self.count_calls("s3control", "GetPublicAccessBlock")
        self.assertEqual(2, len(self.run_rule().verdicts))
        self.assertEqual([{"AccountId": ACCOUNT_ID}], calls)

    def test_deleted_bucket_is_retired(self):
        bucket("ct-logs", acl="public-read")(self)
        trail("main", "ct-logs")(self)
        self.assertEqual("NON_COMPLIANT", self.run_rule().verdicts[0].compliance)
        self.client("cloudtrail").delete_trail(Name="main")
        self.assertEqual([Verdict(BUCKET, "ct-logs", "NOT_APPLICABLE", "")], self.run_rule().verdicts)

    def test_many_buckets_in_three_regions_concurrently_as_serially(self):
        many_trail_buckets(REGIONS, per_region=4, logged=lambda n: False)(self)
        for region in REGIONS:
            self.client("s3", region).put_bucket_acl(Bucket=f"ct-{region}-1", ACL="public-read")
        list_buckets_in_two_pages(self, first_page=5, runs=2)
        described_in = regions_of_calls(self, "cloudtrail", "DescribeTrails")
        account_settings = self.count_calls("s3control", "GetPublicAccessBlock")
        concurrent = self.run_rule().raw
        self.assertEqual(["ap-southeast-2", "eu-west-1", "us-east-1"], sorted(described_in))
        self.assertEqual([{"AccountId": ACCOUNT_ID}], account_settings)
        with mock.patch.object(cis_parallel, "WORKERS", 1):
            serial = self.run_rule().raw

        def sent(evaluations):
            return [(e["ComplianceResourceId"], e["ComplianceType"], e["Annotation"]) for e in evaluations]

        self.assertEqual(sent(serial), sent(concurrent))
        self.assertEqual(
            [f"ct-{region}-{n}" for region in sorted(REGIONS) for n in range(4)],
            [e["ComplianceResourceId"] for e in concurrent],
        )
        self.assertEqual(
            sorted(f"ct-{region}-1" for region in REGIONS),
            [e["ComplianceResourceId"] for e in concurrent if e["ComplianceType"] == "NON_COMPLIANT"],
        )

    def test_one_denied_bucket_among_many_is_could_not_evaluate_and_the_others_are_judged(self):
        many_trail_buckets(REGIONS, per_region=4, logged=lambda n: False)(self)
        fail_for_bucket(self, "GetBucketPolicy", "ct-ap-southeast-2-3")
        verdicts = {v.resource_id: v for v in self.run_rule().verdicts}
        self.assertEqual(12, len(verdicts))
        denied = verdicts.pop("ct-ap-southeast-2-3")
        self.assertEqual("NON_COMPLIANT", denied.compliance)
        self.assertTrue(denied.annotation.startswith("Could not evaluate: s3:GetBucketPolicy was denied"))
        self.assertEqual({"COMPLIANT"}, {v.compliance for v in verdicts.values()})

    def test_one_throttled_out_bucket_is_not_judged_and_the_others_are_sent_without_clean_up(self):
        many_trail_buckets(REGIONS, per_region=4, logged=lambda n: False)(self)
        self.previously([verdict("ct-retired", "COMPLIANT", "x")], datetime.now(UTC))
        fail_for_bucket(self, "GetBucketAcl", "ct-eu-west-1-2", code="SlowDown", status=503)
        run = self.run_rule()
        self.assertEqual("NotJudged", run.error["customerErrorCode"])
        self.assertIn(
            "Sent the 11 verdicts decided, no clean-up; not judged: S3 bucket ct-eu-west-1-2", json.dumps(run.error)
        )
        sent = {e["ComplianceResourceId"]: e["ComplianceType"] for e in self.ledger.sent}
        self.assertEqual(11, len(sent))
        self.assertNotIn("ct-eu-west-1-2", sent)
        self.assertNotIn("ct-retired", sent, "a partial run retires nothing")

    def test_buckets_judged_longest_ago_are_judged_first(self):
        for name in ("ct-a", "ct-b", "ct-c", "ct-d"):
            bucket(name)(self)
            trail(f"trail-{name}", name)(self)
        self.previously([verdict("ct-a", "COMPLIANT", "x")], datetime(2026, 3, 1, tzinfo=UTC))
        self.previously([verdict("ct-b", "COMPLIANT", "x")], datetime(2026, 1, 1, tzinfo=UTC))
        self.previously([verdict("ct-d", "COMPLIANT", "x")], datetime(2026, 2, 1, tzinfo=UTC))
        calls = self.count_calls("s3", "GetBucketAcl")
        with mock.patch.object(cis_parallel, "WORKERS", 1):
            verdicts = self.run_rule().verdicts
        # ct-c was never judged, then ct-b (January), ct-d (February), ct-a (March); sent in name order.
        self.assertEqual(["ct-c", "ct-b", "ct-d", "ct-a"], [c["Bucket"] for c in calls])
        self.assertEqual(["ct-a", "ct-b", "ct-c", "ct-d"], [v.resource_id for v in verdicts])
