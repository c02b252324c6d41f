"""Scenarios of IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS (CIS 1.21), against moto's IAM."""

from datetime import UTC, datetime

import IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS as rule

from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, credential_report_csv, data_driven
from cispack.testing.trails import LambdaContext, run_with_context

USER = "AWS::IAM::User"
UNUSED_KEY_1 = "has a console password and an active access key 1 that has never been used."
NO_UNUSED_KEY = "has no active access key that was never used."


def user(test, name, password=False, keys=0, inactive=()):
    iam = test.client("iam")
    test.ids[name] = iam.create_user(UserName=name)["User"]["UserId"]
    if password:
        iam.create_login_profile(UserName=name, Password="Correct-Horse-9")
    for n in range(keys):
        key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
        if n + 1 in inactive:
            iam.update_access_key(UserName=name, AccessKeyId=key, Status="Inactive")


def users(*specs):
    return lambda test: [user(test, **spec) for spec in specs]


def verdicts(*rows):
    """Expected verdicts as (user name, compliance, annotation); IDs are moto's, known once created."""
    return lambda test: [Verdict(USER, test.ids[name], compliance, text) for name, compliance, text in rows]


CASES = [
    Case("zero_users", users(), expect=[]),
    Case(
        "no_password_unused_key",
        users({"name": "ci-bot", "keys": 1}),
        expect=verdicts(("ci-bot", "COMPLIANT", "IAM user ci-bot has no console password.")),
    ),
    Case(
        "password_and_unused_key",
        users({"name": "alice", "password": True, "keys": 1}),
        expect=verdicts(("alice", "NON_COMPLIANT", f"IAM user alice {UNUSED_KEY_1}")),
    ),
    Case(
        "password_two_unused_keys",
        users({"name": "bob", "password": True, "keys": 2}),
        expect=verdicts(
            (
                "bob",
                "NON_COMPLIANT",
                "IAM user bob has a console password and an active access key 1 "
                "and access key 2 that have never been used.",
            )
        ),
    ),
    Case(
        "password_no_keys",
        users({"name": "carol", "password": True}),
        expect=verdicts(("carol", "COMPLIANT", f"IAM user carol {NO_UNUSED_KEY}")),
    ),
    Case(
        "password_inactive_unused_key",
        users({"name": "dave", "password": True, "keys": 1, "inactive": (1,)}),
        expect=verdicts(("dave", "COMPLIANT", f"IAM user dave {NO_UNUSED_KEY}")),
    ),
    Case(
        "several_users",
        users(
            {"name": "alice", "password": True, "keys": 1},
            {"name": "ci-bot", "keys": 1},
            {"name": "carol", "password": True},
        ),
        expect=verdicts(
            ("alice", "NON_COMPLIANT", f"IAM user alice {UNUSED_KEY_1}"),
            ("carol", "COMPLIANT", f"IAM user carol {NO_UNUSED_KEY}"),
            ("ci-bot", "COMPLIANT", "IAM user ci-bot has no console password."),
        ),
    ),
    Case(
        "access_denied_with_no_user_reported_before_sends_nothing",
        lambda test: test.respond("iam", "ListUsers", error="AccessDenied", status=403),
        error="AccessDenied",
    ),
    # CONTROLS.md, "When a rule cannot judge": the listing denied, every user last reported shows it.
    Case(
        "listing_denied_marks_every_user_last_reported",
        lambda test: (
            test.previously([Verdict(USER, "AIDAOLDUSER", "COMPLIANT", "x")], datetime(2026, 1, 1, tzinfo=UTC)),
            test.respond("iam", "ListUsers", error="AccessDenied", status=403),
        ),
        error="AccessDenied",
        expect=[
            Verdict(
                USER, "AIDAOLDUSER", "NON_COMPLIANT", "Could not evaluate: iam:ListUsers was denied (AccessDenied)."
            )
        ],
    ),
    Case(
        "throttled_out_before_any_user_marks_only_stale_results",
        lambda test: (
            test.previously([Verdict(USER, "AIDAOLDUSER", "COMPLIANT", "x")], datetime(2026, 1, 1, tzinfo=UTC)),
            test.previously([Verdict(USER, "AIDARECENT", "COMPLIANT", "x")], datetime(2026, 6, 30, 11, tzinfo=UTC)),
            test.respond("iam", "ListUsers", error="Throttling"),
        ),
        now=datetime(2026, 6, 30, 12, tzinfo=UTC),
        error="Throttling",
        expect=[
            Verdict(
                USER, "AIDAOLDUSER", "NON_COMPLIANT", "Could not evaluate: not evaluated since 2026-01-01 00:00 UTC."
            )
        ],
    ),
    Case(
        "report_access_denied",
        lambda test: test.respond("iam", "GetCredentialReport", error="AccessDenied", status=403),
        error="AccessDenied",
    ),
    Case(
        "report_in_progress_throughout",
        lambda test: test.respond("iam", "GenerateCredentialReport", {"State": "INPROGRESS"}),
        error="still being generated",
    ),
    Case("any_parameter_is_rejected", parameters={"maxKeyAge": "90"}, error="Unknown rule parameter maxKeyAge"),
]


@data_driven(CASES)
class IamUserNoUnusedSetupAccessKeysTest(RuleTestCase):
    rule_module = rule
    rule_name = "IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS"

    def setUp(self):
        super().setUp()
        self.ids = {}
        # The report's waits are recorded instead of slept, so the backoff is asserted, not timed.
        self.waits = []
        defaults = rule.get_credential_report.__kwdefaults__
        self.addCleanup(defaults.__setitem__, "sleep", defaults["sleep"])
        defaults["sleep"] = self.waits.append

    def test_report_in_progress_waits_with_backoff(self):
        self.respond("iam", "GenerateCredentialReport", {"State": "STARTED"})
        self.assertIn("still being generated", str(self.run_rule().error))
        self.assertEqual([1.0, 2.0, 4.0, 8.0, 16.0], self.waits)

    def test_users_over_two_pages(self):
        # moto answers ListUsers in one page whatever its size; the pages are recorded from moto's users.
        for n in range(4):
            user(self, f"user{n}", password=n % 2 == 0, keys=1)
        listed = self.client("iam").list_users()["Users"]
        self.respond(
            "iam",
            "ListUsers",
            [
                {"Users": listed[:2], "IsTruncated": True, "Marker": "page-2"},
                {"Users": listed[2:], "IsTruncated": False},
            ],
        )
        calls = self.count_calls("iam", "ListUsers")
        verdicts = self.run_rule().verdicts
        # ListUsers at its largest page: 5,000 users take 5 calls, not 50.
        self.assertEqual([{"MaxItems": 1000}, {"MaxItems": 1000, "Marker": "page-2"}], calls)
        self.assertEqual(sorted(self.ids.values()), [v.resource_id for v in verdicts])
        self.assertEqual(2, sum(v.compliance == "NON_COMPLIANT" for v in verdicts))

    def test_deadline_between_two_pages_names_how_many_users_were_judged(self):
        for n in range(4):
            user(self, f"user{n}", password=True, keys=1)
        listed = self.client("iam").list_users()["Users"]
        self.respond(
            "iam",
            "ListUsers",
            [
                {"Users": listed[:3], "IsTruncated": True, "Marker": "page-2"},
                {"Users": listed[3:], "IsTruncated": False},
            ],
        )
        self.previously([Verdict(USER, "AIDAGONE", "COMPLIANT", "x")], datetime.now(UTC))
        calls = self.count_calls("iam", "ListUsers")
        error = run_with_context(self, LambdaContext(runs_short=lambda: len(calls) >= 1))
        self.assertIn("Lambda timeout after 3 IAM users judged,", error["internalErrorMessage"])
        self.assertIn("Sent the 3 verdicts decided, no clean-up; not judged: the IAM users after", str(error))
        self.assertEqual(1, len(calls), "the second page is not read")
        # The first page's verdicts are sent; the user the run did not reach keeps its result.
        sent = sorted(e["ComplianceResourceId"] for e in self.ledger.sent)
        self.assertEqual(sorted(self.ids[f"user{n}"] for n in range(3)), sent)

    def test_a_later_page_throttled_out_sends_the_first_pages_verdicts_without_clean_up(self):
        from botocore.awsrequest import AWSResponse

        for n in range(4):
            user(self, f"user{n}", password=True, keys=1)
        listed = self.client("iam").list_users()["Users"]
        self.previously([Verdict(USER, "AIDAGONE", "COMPLIANT", "x")], datetime.now(UTC))
        answered = []

        def pages(**_):
            answered.append(1)
            if len(answered) == 1:
                page = {"Users": listed[:2], "IsTruncated": True, "Marker": "page-2"}
                return AWSResponse("https://local", 200, {}, None), page
            error = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {}}
            return AWSResponse("https://local", 400, {}, None), error

        events = __import__("boto3")._get_default_session().events
        events.register("before-call.iam.ListUsers", pages, unique_id="second-page-throttled")
        self.addCleanup(events.unregister, "before-call.iam.ListUsers", unique_id="second-page-throttled")
        error = self.run_rule().error
        self.assertEqual("NotJudged", error["customerErrorCode"])
        self.assertIn("not judged: the IAM users after the first 2, because iam:ListUsers failed", str(error))
        self.assertEqual(
            sorted(self.ids[f"user{n}"] for n in range(2)), sorted(e["ComplianceResourceId"] for e in self.ledger.sent)
        )
        self.assertNotIn("NOT_APPLICABLE", [e["ComplianceType"] for e in self.ledger.sent], "no clean-up")

    def test_deadline_while_the_report_is_being_generated(self):
        self.respond("iam", "GenerateCredentialReport", {"State": "STARTED"})
        calls = self.count_calls("iam", "GenerateCredentialReport")
        error = run_with_context(self, LambdaContext(runs_short=lambda: len(calls) >= 2))
        self.assertIn(
            "after 2 of 6 checks of the IAM credential report, still being generated,", error["internalErrorMessage"]
        )
        self.assertEqual([1.0], self.waits, "no wait once the time runs short")

    def test_user_newer_than_report(self):
        user(self, "alice", password=True, keys=1)
        user(self, "newcomer", password=True, keys=1)
        generated = datetime.now(UTC)
        created = self.client("iam").get_user(UserName="alice")["User"]["CreateDate"]
        rows = [
            {
                "user": "alice",
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/alice",
                "user_creation_time": created.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "password_enabled": "true",
                "access_key_1_active": "true",
                "access_key_1_last_used_date": "2026-01-02T03:04:05+00:00",
            }
        ]
        self.respond(
            "iam",
            "GetCredentialReport",
            {"Content": credential_report_csv(rows), "ReportFormat": "text/csv", "GeneratedTime": generated},
        )
        self.assertEqual(
            sorted(
                [
                    Verdict(USER, self.ids["alice"], "COMPLIANT", f"IAM user alice {NO_UNUSED_KEY}"),
                    Verdict(
                        USER,
                        self.ids["newcomer"],
                        "NOT_APPLICABLE",
                        f"IAM user newcomer is newer than the credential report of {generated:%Y-%m-%d %H:%M} "
                        "UTC; it is judged on the next run.",
                    ),
                ],
                key=lambda v: v.resource_id,
            ),
            self.run_rule().verdicts,
        )

    def test_user_created_again_under_the_same_name_is_not_judged_by_the_old_row(self):
        # The report still holds the earlier alice (keys used, created in 2020); the new alice has
        # the same ARN, a password and a key never used.
        user(self, "alice", password=True, keys=1)
        generated = datetime.now(UTC)
        rows = [
            {
                "user": "alice",
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/alice",
                "user_creation_time": "2020-01-01T00:00:00+00:00",
                "password_enabled": "true",
                "access_key_1_active": "true",
                "access_key_1_last_used_date": "2026-01-02T03:04:05+00:00",
            }
        ]
        self.respond(
            "iam",
            "GetCredentialReport",
            {"Content": credential_report_csv(rows), "ReportFormat": "text/csv", "GeneratedTime": generated},
        )
        self.assertEqual(
            [
                Verdict(
                    USER,
                    self.ids["alice"],
                    "NOT_APPLICABLE",
                    f"IAM user alice is newer than the credential report of {generated:%Y-%m-%d %H:%M} UTC; "
                    "it is judged on the next run.",
                )
            ],
            self.run_rule().verdicts,
        )

    def test_deleted_user_is_retired(self):
        user(self, "alice", password=True, keys=1)
        self.assertEqual("NON_COMPLIANT", self.run_rule().verdicts[0].compliance)
        iam = self.client("iam")
        for key in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]:
            iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
        iam.delete_login_profile(UserName="alice")
        iam.delete_user(UserName="alice")
        self.assertEqual([Verdict(USER, self.ids["alice"], "NOT_APPLICABLE", "")], self.run_rule().verdicts)
