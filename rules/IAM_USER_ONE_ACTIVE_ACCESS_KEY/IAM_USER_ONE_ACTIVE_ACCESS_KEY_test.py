"""Scenarios of IAM_USER_ONE_ACTIVE_ACCESS_KEY (CIS v1.4.0/v3.0.0 1.13, v5.0.0 1.12), against moto's IAM."""

from datetime import UTC, datetime

import IAM_USER_ONE_ACTIVE_ACCESS_KEY as rule

from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, credential_report_csv, data_driven
from cispack.testing.trails import LambdaContext, run_with_context

USER = "AWS::IAM::User"
TWO_ACTIVE = "has 2 active access keys (access key 1 and access key 2); deactivate all but one."


def user(test, name, keys=0, inactive=()):
    iam = test.client("iam")
    test.ids[name] = iam.create_user(UserName=name)["User"]["UserId"]
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
        "no_access_key",
        users({"name": "carol"}),
        expect=verdicts(("carol", "COMPLIANT", "IAM user carol has no active access key.")),
    ),
    Case(
        "one_active_key",
        users({"name": "ci-bot", "keys": 1}),
        expect=verdicts(("ci-bot", "COMPLIANT", "IAM user ci-bot has 1 active access key.")),
    ),
    Case(
        "two_keys_one_inactive",
        users({"name": "dave", "keys": 2, "inactive": (1,)}),
        expect=verdicts(("dave", "COMPLIANT", "IAM user dave has 1 active access key.")),
    ),
    Case(
        "two_keys_both_inactive",
        users({"name": "erin", "keys": 2, "inactive": (1, 2)}),
        expect=verdicts(("erin", "COMPLIANT", "IAM user erin has no active access key.")),
    ),
    Case(
        "two_active_keys",
        users({"name": "bob", "keys": 2}),
        expect=verdicts(("bob", "NON_COMPLIANT", f"IAM user bob {TWO_ACTIVE}")),
    ),
    Case(
        "several_users",
        users({"name": "alice", "keys": 2}, {"name": "ci-bot", "keys": 1}, {"name": "carol"}),
        expect=verdicts(
            ("alice", "NON_COMPLIANT", f"IAM user alice {TWO_ACTIVE}"),
            ("carol", "COMPLIANT", "IAM user carol has no active access key."),
            ("ci-bot", "COMPLIANT", "IAM user ci-bot has 1 active access key."),
        ),
    ),
    Case(
        "list_users_access_denied",
        lambda test: test.respond("iam", "ListUsers", error="AccessDenied", status=403),
        error="AccessDenied",
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
    Case("any_parameter_is_rejected", parameters={"maxKeys": "1"}, error="Unknown rule parameter maxKeys"),
]


@data_driven(CASES)
class IamUserOneActiveAccessKeyTest(RuleTestCase):
    rule_module = rule
    rule_name = "IAM_USER_ONE_ACTIVE_ACCESS_KEY"

    def setUp(self):
        super().setUp()
        self.ids = {}
        # The report's waits are recorded instead of slept.
        self.waits = []
        defaults = rule.get_credential_report.__kwdefaults__
        self.addCleanup(defaults.__setitem__, "sleep", defaults["sleep"])
        defaults["sleep"] = self.waits.append

    def test_users_over_two_pages(self):
        # moto answers ListUsers in one page whatever its size; the pages are recorded from moto's users.
        for n in range(4):
            user(self, f"user{n}", keys=2 if n % 2 == 0 else 1)
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
        self.assertEqual([{"MaxItems": 1000}, {"MaxItems": 1000, "Marker": "page-2"}], calls)
        self.assertEqual(sorted(self.ids.values()), [v.resource_id for v in verdicts])
        self.assertEqual(
            sorted(self.ids[f"user{n}"] for n in (0, 2)),
            sorted(v.resource_id for v in verdicts if v.compliance == "NON_COMPLIANT"),
        )

    def test_deadline_between_two_pages_names_how_many_users_were_judged(self):
        for n in range(4):
            user(self, f"user{n}", keys=2)
        listed = self.client("iam").list_users()["Users"]
        self.respond(
            "iam",
            "ListUsers",
            [
                {"Users": listed[:3], "IsTruncated": True, "Marker": "page-2"},
                {"Users": listed[3:], "IsTruncated": False},
            ],
        )
        calls = self.count_calls("iam", "ListUsers")
        error = run_with_context(self, LambdaContext(runs_short=lambda: len(calls) >= 1))
        self.assertIn("Lambda timeout after 3 IAM users judged,", error["internalErrorMessage"])
        self.assertIn("Sent the 3 verdicts decided, no clean-up; not judged: the IAM users after", str(error))
        self.assertEqual(1, len(calls), "the second page is not read")
        # The first page's verdicts are sent; the user the run did not reach keeps its result.
        sent = sorted(e["ComplianceResourceId"] for e in self.ledger.sent)
        self.assertEqual(sorted(self.ids[f"user{n}"] for n in range(3)), sent)

    def test_user_newer_than_report_or_created_again(self):
        # The report holds alice (two keys, one active) and an earlier "again" of 2020; "newcomer" is absent.
        user(self, "alice", keys=2, inactive=(2,))
        user(self, "again", keys=2)
        user(self, "newcomer", keys=2)
        generated = datetime.now(UTC)
        created = self.client("iam").get_user(UserName="alice")["User"]["CreateDate"]
        rows = [
            {
                "user": "alice",
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/alice",
                "user_creation_time": created.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "access_key_1_active": "true",
                "access_key_2_active": "false",
            },
            {
                "user": "again",
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/again",
                "user_creation_time": "2020-01-01T00:00:00+00:00",
                "access_key_1_active": "true",
                "access_key_2_active": "false",
            },
        ]
        self.respond(
            "iam",
            "GetCredentialReport",
            {"Content": credential_report_csv(rows), "ReportFormat": "text/csv", "GeneratedTime": generated},
        )
        later = f"is newer than the credential report of {generated:%Y-%m-%d %H:%M} UTC; it is judged on the next run."
        self.assertEqual(
            sorted(
                [
                    Verdict(USER, self.ids["alice"], "COMPLIANT", "IAM user alice has 1 active access key."),
                    Verdict(USER, self.ids["again"], "NOT_APPLICABLE", f"IAM user again {later}"),
                    Verdict(USER, self.ids["newcomer"], "NOT_APPLICABLE", f"IAM user newcomer {later}"),
                ],
                key=lambda v: v.resource_id,
            ),
            self.run_rule().verdicts,
        )

    def test_deleted_user_is_retired(self):
        user(self, "alice", keys=2)
        self.assertEqual("NON_COMPLIANT", self.run_rule().verdicts[0].compliance)
        iam = self.client("iam")
        for key in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]:
            iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName="alice")
        self.assertEqual([Verdict(USER, self.ids["alice"], "NOT_APPLICABLE", "")], self.run_rule().verdicts)
