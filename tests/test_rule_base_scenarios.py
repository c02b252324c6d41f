"""The rule base's handler as AWS Config drives it: the event, the rule parameters, the results the
rule read back, what the rule decided or met, and the evaluations sent (CONTROLS.md, "When a rule
cannot judge").

No moto: every client is botocore's ``Stubber`` answering exactly the calls the scenario expects
(an unexpected call fails the test), built where rdklib builds its clients (``boto3.client``).
"""

# The tables keep one case per line, each with the exact sentence it expects.
# ruff: noqa: E501

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.stub import Stubber

from cis_rule import (
    ACCOUNT,
    IAM_USER,
    S3_BUCKET,
    CisRule,
    EvaluationError,
    IntParameter,
    ListParameter,
    NotJudgedYet,
    PartialRun,
    RuleFailed,
    account_id,
    annotation,
    check_deadline,
    compliant,
    failure_text,
    handle,
    is_transient,
    join_names,
    judging_order,
    non_compliant,
    not_applicable,
    seconds_left,
    send_margin,
)

ACCOUNT_ID = "111122223333"
REGION = "eu-west-1"
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
NOW_TEXT = "2026-01-10T12:00:00.000Z"
RULE = "CIS_TEST_RULE"
FIVE_EAST = timezone(timedelta(hours=5))


# One session for every scenario: it loads each service's model once.
SESSION = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name=REGION)


class Aws:
    """One stubbed client per (service, region), handed to the rule when it asks for one; every
    PutEvaluations request is kept (``sent``) in the order made."""

    def __init__(self) -> None:
        self.stubbers: dict[tuple[str, str], Stubber] = {}
        self.sent: list[dict[str, Any]] = []
        self.real: dict[tuple[str, str], Any] = {}

    def stub(self, service: str, region: str = REGION) -> Stubber:
        if (service, region) not in self.stubbers:
            client = SESSION.client(service, region_name=region)
            if service == "config":
                client.meta.events.register("before-parameter-build.config-service.PutEvaluations", self._keep)
            self.stubbers[(service, region)] = Stubber(client)
            self.stubbers[(service, region)].activate()
        return self.stubbers[(service, region)]

    def unreachable(self, service: str, region: str = REGION) -> None:
        """A client whose requests really leave (to a port nothing answers on), not stubbed."""
        self.real[(service, region)] = SESSION.client(service, region_name=region, endpoint_url="http://127.0.0.1:9")

    def _keep(self, params: dict[str, Any], **_: Any) -> None:
        self.sent.extend(params["Evaluations"])

    def client(self, service: str, region: str | None = None, *_: Any, **__: Any) -> Any:
        if (service, region or REGION) in self.real:
            return self.real[(service, region or REGION)]
        return self.stub(service, region or REGION).client

    # --- What AWS Config answers ---

    def last_results(self, *pages: list[tuple[str, str, str, datetime | None, str]]) -> None:
        """GetComplianceDetailsByConfigRule's pages: (type, ID, compliance, recorded, annotation)."""
        for number, rows in enumerate(pages):
            # AWS leaves an empty list out of its answer.
            answer: dict[str, Any] = (
                {}
                if not rows
                else {
                    "EvaluationResults": [
                        {
                            "EvaluationResultIdentifier": {
                                "EvaluationResultQualifier": {
                                    "ConfigRuleName": RULE,
                                    "ResourceType": kind,
                                    "ResourceId": rid,
                                }
                            },
                            "ComplianceType": compliance,
                            **({"ResultRecordedTime": recorded} if recorded else {}),
                            **({"Annotation": text} if text else {}),
                        }
                        for kind, rid, compliance, recorded, text in rows
                    ]
                }
            )
            request = {"ConfigRuleName": RULE, "ComplianceTypes": ["COMPLIANT", "NON_COMPLIANT"], "Limit": 100}
            if number:
                request["NextToken"] = f"page-{number}"
            if number < len(pages) - 1:
                answer["NextToken"] = f"page-{number + 1}"
            self.stub("config").add_response("get_compliance_details_by_config_rule", answer, request)

    def last_results_fail(self, code: str, status: int) -> None:
        self.stub("config").add_client_error(
            "get_compliance_details_by_config_rule", code, "Denied or slowed down.", status
        )

    def accepts(self, batches: int = 1) -> None:
        for _ in range(batches):
            self.stub("config").add_response("put_evaluations", {"FailedEvaluations": []})

    def refuses_evaluations(self, code: str, status: int) -> None:
        self.stub("config").add_client_error("put_evaluations", code, "Not now.", status)

    def users(self, *names: str) -> None:
        answer = {
            "Users": [
                {
                    "Path": "/",
                    "UserName": name,
                    "UserId": "AIDA" + name.upper().ljust(16, "X"),
                    "Arn": f"arn:aws:iam::{ACCOUNT_ID}:user/{name}",
                    "CreateDate": NOW,
                }
                for name in names
            ]
        }
        self.stub("iam").add_response("list_users", answer, {})

    def users_fail(self, code: str, status: int) -> None:
        self.stub("iam").add_client_error("list_users", code, "Denied or slowed down.", status)

    def all_answered(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def aws(monkeypatch):
    fake = Aws()
    monkeypatch.setattr(boto3, "client", fake.client)
    monkeypatch.setenv("AWS_REGION", REGION)
    yield fake
    fake.all_answered()


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def scheduled(**params: Any) -> dict[str, Any]:
    return {
        "version": "1.0",
        "invokingEvent": json.dumps({"messageType": "ScheduledNotification", "notificationCreationTime": NOW_TEXT}),
        "ruleParameters": json.dumps(params),
        "resultToken": "token",
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/config-role",
        "configRuleArn": f"arn:aws:config:{REGION}:{ACCOUNT_ID}:config-rule/config-rule-abc123",
        "configRuleName": RULE,
        "configRuleId": "config-rule-abc123",
        "accountId": ACCOUNT_ID,
    }


def sent_rows(sent: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [
        (e["ComplianceType"], e["ComplianceResourceType"], e["ComplianceResourceId"], e.get("Annotation", ""))
        for e in sent
    ]


def failure(excinfo: pytest.ExceptionInfo[RuleFailed]) -> tuple[str | None, str]:
    response = excinfo.value.response
    return response.get("customerErrorCode"), response.get("customerErrorMessage") or response["internalErrorMessage"]


# --- The rules the scenarios run ---------------------------------------------------------------


class Users(CisRule):
    """Reports each IAM user: MFA off is NON_COMPLIANT (users named in ``NO_MFA``)."""

    RESOURCE_TYPE = IAM_USER
    ACTIONS = ("iam:ListUsers",)
    NO_MFA = frozenset({"bob"})

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        iam = client_factory.build_client("iam")
        names = [user["UserName"] for user in iam.list_users()["Users"]]
        return [
            non_compliant(name, IAM_USER, f"User {name} has no MFA.")
            if name in self.NO_MFA
            else compliant(name, IAM_USER)
            for name in judging_order(names, IAM_USER, lambda name: name)
        ]


class UsersCutShort(Users):
    """Judges alice, then meets throttling on the next user's read."""

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        iam = client_factory.build_client("iam")
        decided = [compliant("alice", IAM_USER, "User alice has MFA.")]
        try:
            iam.list_users()
        except botocore.exceptions.ClientError as ex:
            raise PartialRun(decided, ["bob", "carol", "dave", "erin", "frank", "gina"], ex) from ex
        raise AssertionError("the scenario expects the read to be throttled")


class Account(CisRule):
    """Reports the account: COMPLIANT when it has at least one IAM user."""

    ACTIONS = ("iam:ListUsers",)

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        users = client_factory.build_client("iam").list_users()["Users"]
        return [
            compliant(ACCOUNT_ID, ACCOUNT, "The account has users.")
            if users
            else non_compliant(ACCOUNT_ID, ACCOUNT, "No users.")
        ]


# --- A complete run ------------------------------------------------------------------------------


def test_a_complete_run_reports_every_user_and_retires_the_ones_gone_oldest_judged_first(aws):
    aws.last_results(
        [(IAM_USER, "alice", "COMPLIANT", hours_ago(1), ""), (IAM_USER, "gone", "NON_COMPLIANT", hours_ago(2), "x")],
        [(IAM_USER, "carol", "COMPLIANT", hours_ago(30), "")],
    )
    aws.users("alice", "bob", "carol")
    aws.accepts()
    sent = handle(Users(), scheduled(), None)
    # bob was never judged, carol 30 hours ago, alice an hour ago; "gone" is no longer a user.
    assert sent_rows(sent) == [
        ("NOT_APPLICABLE", IAM_USER, "gone", ""),
        ("NON_COMPLIANT", IAM_USER, "bob", "User bob has no MFA."),
        ("COMPLIANT", IAM_USER, "carol", ""),
        ("COMPLIANT", IAM_USER, "alice", ""),
    ]
    assert {e["OrderingTimestamp"] for e in sent} == {NOW_TEXT}
    assert aws.sent == sent


def test_a_user_last_marked_stale_is_judged_with_the_never_judged_ones(aws):
    aws.last_results(
        [
            (IAM_USER, "alice", "COMPLIANT", hours_ago(100), ""),
            (
                IAM_USER,
                "bob",
                "NON_COMPLIANT",
                hours_ago(200),
                "Could not evaluate: not evaluated since 2026-01-01 20:00 UTC.",
            ),
            (IAM_USER, "carol", "COMPLIANT", datetime(2026, 1, 5), ""),  # no zone: UTC
            (IAM_USER, "dave", "COMPLIANT", datetime(2026, 1, 6, tzinfo=UTC), ""),
            (IAM_USER, "erin", "NON_COMPLIANT", None, "x"),
            (IAM_USER, "fay", "COMPLIANT", datetime(2026, 1, 6, 10, tzinfo=FIVE_EAST), ""),  # 05:00 UTC
        ]
    )
    aws.users("alice", "carol", "dave", "fay", "erin", "bob")
    aws.accepts()
    sent = handle(Users(), scheduled(), None)
    assert [e["ComplianceResourceId"] for e in sent] == ["erin", "bob", "carol", "dave", "fay", "alice"]


def test_judging_order_outside_a_run_keeps_the_items_order():
    assert judging_order(["b", "a", "c"], IAM_USER, lambda name: name) == ["b", "a", "c"]


def test_an_account_rule_reads_nothing_back_and_retires_nothing(aws):
    aws.users("alice")
    aws.accepts()
    sent = handle(Account(), scheduled(), None)
    assert sent_rows(sent) == [("COMPLIANT", ACCOUNT, ACCOUNT_ID, "The account has users.")]


def test_a_run_with_nothing_to_report_still_answers_aws_config(aws):
    class NoUsers(Users):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            return []

    aws.last_results([])
    aws.accepts()
    assert handle(NoUsers(), scheduled(), None) == []


def test_a_rule_that_returns_no_list_fails_the_invocation(aws):
    class Broken(Users):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            return compliant("alice", IAM_USER)

    aws.last_results([])
    with pytest.raises(TypeError, match=r"^evaluate_periodic\(\) must return a list of Evaluation objects$"):
        handle(Broken(), scheduled(), None)


def test_a_rule_that_returns_something_else_than_evaluations_fails_the_invocation(aws):
    class Broken(Account):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            return [{"ComplianceType": "COMPLIANT"}]

    with pytest.raises(TypeError, match=r"^a rule returned dict, not an rdklib Evaluation$"):
        handle(Broken(), scheduled(), None)


def test_the_verdicts_go_in_batches_of_one_hundred(aws):
    class Many(Users):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            return [compliant(f"user{n:03}", IAM_USER) for n in range(150)]

    aws.last_results([])
    aws.accepts(batches=2)
    assert len(handle(Many(), scheduled(), None)) == 150
    assert len(aws.sent) == 150


# --- The last results cannot be read -------------------------------------------------------------


def test_a_run_that_cannot_read_its_last_results_reports_and_fails_naming_the_read(aws):
    aws.last_results_fail("AccessDeniedException", 400)
    aws.users("alice", "bob")
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(Users(), scheduled(), None)
    assert sent_rows(aws.sent) == [
        ("COMPLIANT", IAM_USER, "alice", ""),
        ("NON_COMPLIANT", IAM_USER, "bob", "User bob has no MFA."),
    ]
    assert failure(failed) == (
        "AccessDeniedException",
        "Sent 2 evaluations; resources the rule no longer reports keep their verdict because it could not read its "
        "last results: config:GetComplianceDetailsByConfigRule was denied (AccessDeniedException). Denied or slowed down.",
    )


# --- A run cut short: what was decided, and the stale results ---------------------------------------


LAST = [
    (IAM_USER, "alice", "COMPLIANT", hours_ago(1), ""),
    (IAM_USER, "bob", "NON_COMPLIANT", hours_ago(47), "User bob has no MFA."),
    (IAM_USER, "carol", "COMPLIANT", hours_ago(72), ""),
    (IAM_USER, "dave", "COMPLIANT", NOW - timedelta(hours=48), ""),  # exactly 48 hours: not yet stale
    (
        IAM_USER,
        "erin",
        "NON_COMPLIANT",
        hours_ago(300),
        "Could not evaluate: not evaluated since 2025-12-29 00:00 UTC.",
    ),
    (IAM_USER, "frank", "COMPLIANT", datetime(2026, 1, 7, 9, 30), ""),  # no zone: UTC
    (IAM_USER, "gina", "NON_COMPLIANT", None, "x"),
    (IAM_USER, "hana", "COMPLIANT", datetime(2026, 1, 7, 10, tzinfo=FIVE_EAST), ""),  # 05:00 UTC
]


def test_a_throttled_run_sends_what_it_decided_and_marks_results_older_than_48_hours(aws):
    aws.last_results(LAST)
    aws.users_fail("Throttling", 400)
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(UsersCutShort(), scheduled(), None)
    assert sent_rows(aws.sent) == [
        ("COMPLIANT", IAM_USER, "alice", "User alice has MFA."),
        ("NON_COMPLIANT", IAM_USER, "carol", "Could not evaluate: not evaluated since 2026-01-07 12:00 UTC."),
        ("NON_COMPLIANT", IAM_USER, "frank", "Could not evaluate: not evaluated since 2026-01-07 09:30 UTC."),
        ("NON_COMPLIANT", IAM_USER, "hana", "Could not evaluate: not evaluated since 2026-01-07 05:00 UTC."),
    ]
    assert failure(failed) == (
        "NotJudged",
        "Sent the 1 verdicts decided and 3 not evaluated for over 48 hours, no clean-up; not judged: bob, carol, "
        "dave, erin, frank and 1 more, because iam:ListUsers failed after retries (Throttling). Denied or slowed down.",
    )


def test_stale_after_hours_sets_how_old_a_result_may_grow(aws):
    aws.last_results(LAST)
    aws.users_fail("Throttling", 400)
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(UsersCutShort(), scheduled(staleAfterHours="46"), None)
    assert [row[2] for row in sent_rows(aws.sent)] == ["alice", "bob", "carol", "dave", "frank", "hana"]
    assert "and 5 not evaluated for over 46 hours, no clean-up" in failure(failed)[1]


def test_a_stale_after_hours_beyond_a_century_is_a_century(aws):
    aws.last_results([(IAM_USER, "carol", "COMPLIANT", datetime(1900, 1, 1, tzinfo=UTC), "")])
    aws.users_fail("Throttling", 400)
    aws.accepts()
    with pytest.raises(RuleFailed):
        handle(UsersCutShort(), scheduled(staleAfterHours="9" * 40), None)
    assert [row[2] for row in sent_rows(aws.sent)] == ["alice", "carol"]


def test_a_run_throttled_before_deciding_anything_fails_naming_the_whole_run(aws):
    aws.last_results([(IAM_USER, "alice", "COMPLIANT", hours_ago(1), "")])
    aws.users_fail("ThrottlingException", 400)
    with pytest.raises(RuleFailed) as failed:
        handle(Users(), scheduled(), None)
    assert aws.sent == []
    assert failure(failed) == ("ThrottlingException", "Nothing judged, nothing sent. Denied or slowed down.")


def test_a_run_failing_on_a_server_error_marks_only_the_stale_results(aws):
    aws.last_results(
        [(IAM_USER, "alice", "COMPLIANT", hours_ago(1), ""), (IAM_USER, "bob", "COMPLIANT", hours_ago(49), "")]
    )
    aws.users_fail("ServiceUnavailable", 503)
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(Users(), scheduled(), None)
    assert sent_rows(aws.sent) == [
        ("NON_COMPLIANT", IAM_USER, "bob", "Could not evaluate: not evaluated since 2026-01-08 11:00 UTC.")
    ]
    assert failure(failed) == (
        "NotJudged",
        "Sent the 0 verdicts decided and 1 not evaluated for over 48 hours, no clean-up; not judged: the whole run, "
        "because iam:ListUsers failed after retries (ServiceUnavailable). Denied or slowed down.",
    )


def test_a_throttled_run_whose_first_read_back_failed_reads_its_results_again_for_the_stale_ones(aws):
    aws.last_results_fail("Throttling", 400)
    aws.users_fail("Throttling", 400)
    aws.last_results([(IAM_USER, "carol", "COMPLIANT", hours_ago(72), "")])
    aws.accepts()
    with pytest.raises(RuleFailed):
        handle(UsersCutShort(), scheduled(), None)
    assert [row[2] for row in sent_rows(aws.sent)] == ["alice", "carol"]


def test_a_throttled_run_that_cannot_read_its_results_at_all_sends_what_it_decided(aws):
    aws.last_results_fail("Throttling", 400)
    aws.users_fail("Throttling", 400)
    aws.last_results_fail("Throttling", 400)
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(UsersCutShort(), scheduled(), None)
    assert [row[2] for row in sent_rows(aws.sent)] == ["alice"]
    assert failure(failed)[1].startswith("Sent the 1 verdicts decided, no clean-up; not judged: bob, carol,")


def test_an_account_rule_cut_short_marks_the_account_when_its_result_is_stale(aws):
    aws.users_fail("Throttling", 400)
    aws.last_results([(ACCOUNT, ACCOUNT_ID, "COMPLIANT", hours_ago(50), "")])
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(Account(), scheduled(), None)
    assert sent_rows(aws.sent) == [
        ("NON_COMPLIANT", ACCOUNT, ACCOUNT_ID, "Could not evaluate: not evaluated since 2026-01-08 10:00 UTC.")
    ]
    assert failure(failed)[0] == "NotJudged"


def test_a_report_still_being_generated_leaves_the_run_not_judged(aws):
    class WaitingForReport(Account):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            raise NotJudgedYet("The credential report is still being generated. ")

    aws.last_results([])
    with pytest.raises(RuleFailed) as failed:
        handle(WaitingForReport(), scheduled(), None)
    assert failed.value.response == {
        "internalErrorMessage": "The credential report is still being generated. ",
        "internalErrorDetails": "The credential report is still being generated. ",
        "customerErrorCode": None,
        "customerErrorMessage": "Nothing judged, nothing sent. The credential report is still being generated.",
    }


# --- A run that cannot judge at all -------------------------------------------------------------------


def test_a_denied_run_reports_every_user_it_last_reported_as_not_evaluated(aws):
    aws.last_results(
        [(IAM_USER, "bob", "NON_COMPLIANT", hours_ago(1), "x"), (IAM_USER, "alice", "COMPLIANT", hours_ago(1), "")]
    )
    aws.users_fail("AccessDenied", 403)
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(Users(), scheduled(), None)
    text = "Could not evaluate: iam:ListUsers was denied (AccessDenied)."
    assert sent_rows(aws.sent) == [("NON_COMPLIANT", IAM_USER, "alice", text), ("NON_COMPLIANT", IAM_USER, "bob", text)]
    assert failure(failed) == (
        "AccessDenied",
        "Could not evaluate: iam:ListUsers was denied (AccessDenied); reported NON_COMPLIANT for 2 resources the rule "
        "last reported. Denied or slowed down.",
    )


def test_a_denied_run_with_nothing_reported_before_sends_nothing_and_fails(aws):
    aws.last_results([])
    aws.users_fail("AccessDenied", 403)
    with pytest.raises(RuleFailed) as failed:
        handle(Users(), scheduled(), None)
    assert aws.sent == []
    assert "reported NON_COMPLIANT for 0 resources the rule last reported" in failure(failed)[1]


def test_a_denied_account_rule_reports_the_account_as_not_evaluated(aws):
    aws.users_fail("AccessDenied", 403)
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(Account(), scheduled(), None)
    assert sent_rows(aws.sent) == [
        ("NON_COMPLIANT", ACCOUNT, ACCOUNT_ID, "Could not evaluate: iam:ListUsers was denied (AccessDenied).")
    ]
    assert failure(failed) == (
        "AccessDenied",
        "Could not evaluate: iam:ListUsers was denied (AccessDenied); reported NON_COMPLIANT for the account. "
        "Denied or slowed down.",
    )


def test_an_input_the_rule_cannot_read_is_reported_as_not_evaluated(aws):
    class Unreadable(Account):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            raise EvaluationError("The credential report is not CSV.")

    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(Unreadable(), scheduled(), None)
    assert sent_rows(aws.sent) == [
        ("NON_COMPLIANT", ACCOUNT, ACCOUNT_ID, "Could not evaluate: The credential report is not CSV.")
    ]
    assert failure(failed) == (
        None,
        "Could not evaluate: The credential report is not CSV; reported NON_COMPLIANT for the account. "
        "The credential report is not CSV.",
    )


# --- Sending fails ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "code", "status", "expected"),
    [
        ("denied", "AccessDeniedException", 400, ("AccessDeniedException", "Not now.")),
        ("server_error", "InternalError", 500, (None, "Unexpected error while completing API request")),
        ("bad_token", "InvalidResultTokenException", 400, ("InvalidResultTokenException", "Not now.")),
    ],
)
def test_evaluations_aws_config_will_not_take_fail_the_invocation(aws, case, code, status, expected):
    aws.users("alice")
    aws.refuses_evaluations(code, status)
    with pytest.raises(RuleFailed) as failed:
        handle(Account(), scheduled(), None)
    assert failure(failed) == expected


def test_no_answer_from_aws_names_the_endpoint(aws, monkeypatch):
    class Unreachable(Account):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            raise botocore.exceptions.EndpointConnectionError(endpoint_url="https://iam.amazonaws.com/")

    aws.last_results([])
    with pytest.raises(RuleFailed) as failed:
        handle(Unreachable(), scheduled(), None)
    unreachable = 'Could not connect to the endpoint URL: "https://iam.amazonaws.com/"'
    assert failed.value.response == {
        "internalErrorMessage": "No answer from AWS",
        "internalErrorDetails": unreachable,
        "customerErrorCode": "EndpointConnectionError",
        "customerErrorMessage": f"Nothing judged, nothing sent. No answer from AWS after retries: {unreachable}",
    }


# --- Configuration changes --------------------------------------------------------------------------


class Buckets(CisRule):
    """Judges a bucket from its configuration item: public when its name starts with one of
    ``publicPrefixes``."""

    RESOURCE_TYPE = S3_BUCKET
    CHANGE_TYPES = (S3_BUCKET,)
    ACTIONS = ("s3:GetBucketPolicy",)
    PARAMETERS = {"publicPrefixes": ListParameter(default=("public",))}

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        name = configuration_item["resourceId"]
        if name.startswith("denied"):
            client_factory.build_client("iam").list_users()
        if name.startswith(valid_rule_parameters["publicPrefixes"]):
            return [non_compliant(name, S3_BUCKET, f"Bucket {name} of account {account_id(event)} is public.")]
        return [compliant(name, S3_BUCKET, f"Bucket {name} is private.")]


CAPTURED = "2026-01-10T11:58:00.000Z"


def bucket_item(name: str, status: str = "OK") -> dict[str, Any]:
    return {
        "resourceType": S3_BUCKET,
        "resourceId": name,
        "resourceName": name,
        "awsRegion": REGION,
        "awsAccountId": ACCOUNT_ID,
        "configurationItemStatus": status,
        "configurationItemCaptureTime": CAPTURED,
        "configuration": {"name": name},
        "supplementaryConfiguration": {},
    }


def change(item: dict[str, Any], left_scope: bool = False) -> dict[str, Any]:
    event = scheduled()
    event["invokingEvent"] = json.dumps(
        {
            "messageType": "ConfigurationItemChangeNotification",
            "notificationCreationTime": NOW_TEXT,
            "configurationItem": item,
        }
    )
    event["eventLeftScope"] = left_scope
    return event


def oversized(name: str, **summary: Any) -> dict[str, Any]:
    event = scheduled()
    event["invokingEvent"] = json.dumps(
        {
            "messageType": "OversizedConfigurationItemChangeNotification",
            "notificationCreationTime": NOW_TEXT,
            "configurationItemSummary": {"resourceType": S3_BUCKET, "resourceId": name, **summary},
        }
    )
    return event


@pytest.mark.parametrize(
    ("case", "item", "left_scope", "row"),
    [
        ("private", bucket_item("logs"), False, ("COMPLIANT", S3_BUCKET, "logs", "Bucket logs is private.")),
        ("public", bucket_item("public-site"), False, ("NON_COMPLIANT", S3_BUCKET, "public-site", "Bucket public-site of account 111122223333 is public.")),
        ("deleted", bucket_item("logs", "ResourceDeleted"), False, ("NOT_APPLICABLE", S3_BUCKET, "logs", "")),
        ("left_scope", bucket_item("public-site"), True, ("NOT_APPLICABLE", S3_BUCKET, "public-site", "")),
        ("another_type", {**bucket_item("vol"), "resourceType": "AWS::EC2::Volume"}, False, ("NOT_APPLICABLE", "AWS::EC2::Volume", "vol", "")),
    ],
)  # fmt: skip
def test_a_changed_bucket_is_judged_at_the_time_of_its_item(aws, case, item, left_scope, row):
    aws.accepts()
    sent = handle(Buckets(), change(item, left_scope), None)
    assert sent_rows(sent) == [row]
    assert sent[0]["OrderingTimestamp"] == CAPTURED


def test_a_changed_bucket_the_rule_may_not_read_is_not_evaluated(aws):
    aws.users_fail("AccessDenied", 403)
    aws.accepts()
    sent = handle(Buckets(), change(bucket_item("denied-logs")), None)
    assert sent_rows(sent) == [
        ("NON_COMPLIANT", S3_BUCKET, "denied-logs", "Could not evaluate: iam:ListUsers was denied (AccessDenied).")
    ]


def test_a_changed_bucket_read_throttled_sends_nothing_and_fails(aws):
    aws.users_fail("Throttling", 400)
    with pytest.raises(RuleFailed) as failed:
        handle(Buckets(), change(bucket_item("denied-logs")), None)
    assert aws.sent == []
    assert failure(failed) == ("Throttling", "Denied or slowed down.")


def test_a_change_rule_that_returns_no_list_fails_the_invocation(aws):
    class Broken(Buckets):
        def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
            return compliant("logs", S3_BUCKET)

    with pytest.raises(TypeError, match=r"^evaluate_change\(\) must return a list of Evaluation objects$"):
        handle(Broken(), change(bucket_item("logs")), None)


def test_a_change_whose_verdict_cannot_be_sent_fails_the_invocation(aws):
    aws.refuses_evaluations("AccessDeniedException", 400)
    with pytest.raises(RuleFailed) as failed:
        handle(Buckets(), change(bucket_item("logs")), None)
    assert failure(failed) == ("AccessDeniedException", "Not now.")


def history(answer: dict[str, Any], name: str = "public-site") -> tuple[str, dict[str, Any], dict[str, Any]]:
    return ("get_resource_config_history", answer, {"resourceType": S3_BUCKET, "resourceId": name, "limit": 1})


def recorded_item(name: str, status: str = "OK", configuration: str | None = None) -> dict[str, Any]:
    return {
        "version": "1.3",
        "accountId": ACCOUNT_ID,
        "configurationItemCaptureTime": datetime(2026, 1, 10, 11, 57, tzinfo=UTC),
        "configurationItemStatus": status,
        "configurationStateId": "1",
        "resourceType": S3_BUCKET,
        "resourceId": name,
        "resourceName": name,
        "awsRegion": REGION,
        "configuration": configuration if configuration is not None else json.dumps({"name": name}),
        "supplementaryConfiguration": {},
        "relationships": [],
    }


def test_an_oversized_change_is_judged_from_the_item_read_back(aws):
    aws.stub("config").add_response(*history({"configurationItems": [recorded_item("public-site")]}))
    aws.accepts()
    sent = handle(Buckets(), oversized("public-site"), None)
    assert sent_rows(sent) == [
        ("NON_COMPLIANT", S3_BUCKET, "public-site", "Bucket public-site of account 111122223333 is public.")
    ]


@pytest.mark.parametrize(
    ("case", "answer", "summary", "annotation", "ordering"),
    [
        (
            "no_history",
            {"configurationItems": []},
            {"configurationItemCaptureTime": "2026-01-10T11:50:00.000Z"},
            "Could not evaluate: AWS Config holds no configuration item for AWS::S3::Bucket public-site.",
            "2026-01-10T11:50:00.000Z",
        ),
        (
            "not_json",
            {"configurationItems": [recorded_item("public-site", configuration="{name")]},
            {},
            "Could not evaluate: the configuration item AWS Config holds for AWS::S3::Bucket public-site is not readable JSON (GetResourceConfigHistory).",
            NOW_TEXT,
        ),
        (
            "not_the_shape",
            {"configurationItems": [{k: v for k, v in recorded_item("public-site").items() if k != "configuration"}]},
            {},
            "Could not evaluate: the configuration item AWS Config holds for AWS::S3::Bucket public-site is not in the shape AWS Config writes (GetResourceConfigHistory).",
            NOW_TEXT,
        ),
    ],
)  # fmt: skip
def test_an_oversized_change_without_a_readable_item_is_not_evaluated(aws, case, answer, summary, annotation, ordering):
    aws.stub("config").add_response(*history(answer))
    aws.accepts()
    sent = handle(Buckets(), oversized("public-site", **summary), None)
    assert sent_rows(sent) == [("NON_COMPLIANT", S3_BUCKET, "public-site", annotation)]
    assert sent[0]["OrderingTimestamp"] == ordering


def test_an_oversized_change_whose_history_is_denied_is_not_evaluated(aws):
    aws.stub("config").add_client_error("get_resource_config_history", "AccessDeniedException", "No.", 400)
    aws.accepts()
    sent = handle(Buckets(), oversized("public-site"), None)
    assert sent_rows(sent) == [
        (
            "NON_COMPLIANT",
            S3_BUCKET,
            "public-site",
            "Could not evaluate: config:GetResourceConfigHistory was denied (AccessDeniedException).",
        )
    ]


def test_an_oversized_change_whose_verdict_cannot_be_sent_fails_the_invocation(aws):
    aws.stub("config").add_client_error("get_resource_config_history", "AccessDeniedException", "No.", 400)
    aws.refuses_evaluations("AccessDeniedException", 400)
    with pytest.raises(RuleFailed) as failed:
        handle(Buckets(), oversized("public-site"), None)
    assert failure(failed) == ("AccessDeniedException", "Not now.")


def test_an_oversized_change_whose_history_is_throttled_sends_nothing_and_fails(aws):
    aws.stub("config").add_client_error("get_resource_config_history", "ThrottlingException", "Slow down.", 400)
    with pytest.raises(RuleFailed) as failed:
        handle(Buckets(), oversized("public-site"), None)
    assert aws.sent == []
    assert failure(failed) == ("ThrottlingException", "Slow down.")


def test_an_oversized_item_with_a_status_aws_config_does_not_write_is_refused(aws):
    aws.stub("config").add_response(
        *history({"configurationItems": [recorded_item("public-site", status="ResourceMoved")]})
    )
    with pytest.raises(RuleFailed) as failed:
        handle(Buckets(), oversized("public-site"), None)
    sentence = (
        "the configuration item GetResourceConfigHistory returned has configurationItemStatus 'ResourceMoved', which "
        "AWS Config does not write; expected one of OK, ResourceDiscovered, ResourceNotRecorded, ResourceDeleted, "
        "ResourceDeletedNotRecorded."
    )
    assert failed.value.response == {
        "internalErrorMessage": "The event is malformed",
        "internalErrorDetails": sentence,
        "customerErrorCode": "InvalidEvent",
        "customerErrorMessage": sentence,
    }


def test_an_oversized_item_of_a_deleted_bucket_is_not_applicable(aws):
    aws.stub("config").add_response(
        *history({"configurationItems": [recorded_item("public-site", status="ResourceDeleted")]})
    )
    aws.accepts()
    sent = handle(Buckets(), oversized("public-site"), None)
    assert sent_rows(sent) == [("NOT_APPLICABLE", S3_BUCKET, "public-site", "")]


# --- How a failure is named ---------------------------------------------------------------------------


def client_error(
    code: str, status: int | None, operation: str = "GetBucketPolicy", action: str | None = None
) -> Exception:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "m"}}
    if action:
        response["Error"]["CisAction"] = action
    if status is not None:
        response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return botocore.exceptions.ClientError(response, operation)


@pytest.mark.parametrize(
    ("case", "error", "transient", "text"),
    [
        ("denied", client_error("AccessDenied", 403, action="s3:GetBucketPolicy"), False, "s3:GetBucketPolicy was denied (AccessDenied)"),
        ("denied_exception", client_error("AccessDeniedException", 400), False, "GetBucketPolicy was denied (AccessDeniedException)"),
        ("unauthorized_ec2", client_error("UnauthorizedOperation", 403), False, "GetBucketPolicy was denied (UnauthorizedOperation)"),
        ("unrecognized_client", client_error("UnrecognizedClientException", 403), False, "GetBucketPolicy was denied (UnrecognizedClientException)"),
        ("throttled", client_error("SlowDown", 503), True, "GetBucketPolicy failed after retries (SlowDown)"),
        ("throttled_without_status", client_error("RequestLimitExceeded", None), True, "GetBucketPolicy failed after retries (RequestLimitExceeded)"),
        ("server_error", client_error("InternalError", 500), True, "GetBucketPolicy failed after retries (InternalError)"),
        ("gateway_timeout", client_error("GatewayTimeout", 504), True, "GetBucketPolicy failed after retries (GatewayTimeout)"),
        ("request_timeout", client_error("RequestTimeout", 400), True, "GetBucketPolicy failed after retries (RequestTimeout)"),
        ("not_found", client_error("NoSuchBucketPolicy", 404), False, "GetBucketPolicy failed (NoSuchBucketPolicy)"),
        ("status_499", client_error("ClientClosedRequest", 499), False, "GetBucketPolicy failed (ClientClosedRequest)"),
        ("no_code", client_error("", 400), False, "GetBucketPolicy failed (an error)"),
        ("long_code", client_error("X" * 70, 400), False, f"GetBucketPolicy failed ({'X' * 60})"),
        ("connection_closed", botocore.exceptions.ConnectionClosedError(endpoint_url="https://s3"), True, "no answer from AWS (ConnectionClosedError)"),
        ("read_timeout", botocore.exceptions.ReadTimeoutError(endpoint_url="https://s3"), True, "no answer from AWS (ReadTimeoutError)"),
        ("no_credentials", botocore.exceptions.NoCredentialsError(), False, "no answer from AWS (NoCredentialsError)"),
        ("cannot_decide", EvaluationError(" The policy is not JSON. "), False, "The policy is not JSON"),
        ("ends_in_a_capital", EvaluationError("The report lists no user named MAX."), False, "The report lists no user named MAX"),
        ("report_not_ready", NotJudgedYet("The report is being generated."), True, "The report is being generated"),
    ],
)  # fmt: skip
def test_a_failure_is_named_and_sorted_as_retrying_may_or_may_not_cure_it(case, error, transient, text):
    assert is_transient(error) is transient
    assert failure_text(error) == text


@pytest.mark.parametrize(
    ("case", "service", "method", "action"),
    [
        ("bucket_list", "s3", "list_buckets", "s3:ListAllMyBuckets"),
        ("bucket_block", "s3", "get_public_access_block", "s3:GetBucketPublicAccessBlock"),
        ("account_block", "s3control", "get_public_access_block", "s3:GetAccountPublicAccessBlock"),
        ("alarms", "cloudwatch", "describe_alarms", "cloudwatch:DescribeAlarms"),
        ("filters", "logs", "describe_metric_filters", "logs:DescribeMetricFilters"),
        ("trails", "cloudtrail", "describe_trails", "cloudtrail:DescribeTrails"),
        ("access_points", "s3control", "list_access_points", "s3:ListAccessPoints"),
    ],
)
def test_a_denied_call_is_named_by_the_iam_action_to_grant(aws, case, service, method, action):
    class Caller(Account):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            client = client_factory.build_client(service)
            params = {"Bucket": "logs"} if service == "s3" and method != "list_buckets" else {}
            if service == "s3control":
                params = {"AccountId": ACCOUNT_ID}
            getattr(client, method)(**params)
            return []

    aws.stub(service).add_client_error(method, "AccessDenied", "No.", 403)
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(Caller(), scheduled(), None)
    assert sent_rows(aws.sent) == [
        ("NON_COMPLIANT", ACCOUNT, ACCOUNT_ID, f"Could not evaluate: {action} was denied (AccessDenied).")
    ]
    assert failure(failed)[0] == "AccessDenied"


# --- Evaluations AWS Config did not record ---------------------------------------------------------


def test_evaluations_aws_config_rejected_fail_the_invocation_naming_them(aws):
    aws.users("alice", "bob")
    aws.last_results([])
    aws.stub("config").add_response(
        "put_evaluations",
        {
            "FailedEvaluations": [
                {
                    "ComplianceResourceType": IAM_USER,
                    "ComplianceResourceId": "bob",
                    "ComplianceType": "NON_COMPLIANT",
                    "OrderingTimestamp": NOW,
                }
            ]
        },
    )
    with pytest.raises(RuleFailed) as failed:
        handle(Users(), scheduled(), None)
    assert failure(failed) == (
        "FailedEvaluations",
        "AWS Config rejected 1 of 2 evaluations (PutEvaluations listed them as FailedEvaluations, which carry no "
        "reason code): NON_COMPLIANT AWS::IAM::User bob; those resources keep their previous verdict.",
    )
    # The function's log keeps what AWS Config listed.
    assert failed.value.response["internalErrorMessage"] == "PutEvaluations rejected evaluations"
    assert json.loads(failed.value.response["internalErrorDetails"]) == [
        {
            "ComplianceResourceType": IAM_USER,
            "ComplianceResourceId": "bob",
            "ComplianceType": "NON_COMPLIANT",
            "OrderingTimestamp": str(NOW),
        }
    ]


def test_rejected_evaluations_and_a_later_failure_are_both_reported(aws):
    class ManyThenDenied(Users):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            return [compliant(f"user{n:03}", IAM_USER) for n in range(101)]

    aws.last_results([])
    aws.stub("config").add_response(
        "put_evaluations",
        {
            "FailedEvaluations": [
                {
                    "ComplianceResourceType": IAM_USER,
                    "ComplianceResourceId": "user007",
                    "ComplianceType": "COMPLIANT",
                    "OrderingTimestamp": NOW,
                }
            ]
        },
    )
    aws.refuses_evaluations("AccessDeniedException", 400)
    with pytest.raises(RuleFailed) as failed:
        handle(ManyThenDenied(), scheduled(), None)
    assert failure(failed) == (
        "FailedEvaluations",
        "AWS Config rejected 1 of 100 evaluations (PutEvaluations listed them as FailedEvaluations, which carry no "
        "reason code): COMPLIANT AWS::IAM::User user007; those resources keep their previous verdict. The run then failed: "
        "AccessDeniedException: Not now.",
    )


# --- What the event says ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "event", "sentence"),
    [
        ("array", ["ScheduledNotification"], "The event must be a JSON object, not a JSON array."),
        ("null", None, "The event must be a JSON object, not null."),
        ("true", True, "The event must be a JSON object, not the boolean true."),
        ("false", False, "The event must be a JSON object, not the boolean false."),
        ("number", 1.5, "The event must be a JSON object, not the number 1.5."),
        ("short_text", "x" * 40, f"The event must be a JSON object, not '{'x' * 40}'."),
        ("long_text", "y" * 41, f"The event must be a JSON object, not '{'y' * 37}...'."),
        ("not_json_at_all", {1, 2}, "The event must be a JSON object, not set."),
    ],
)
def test_an_event_that_is_not_an_object_is_named_by_what_it_is(case, event, sentence):
    with pytest.raises(RuleFailed) as failed:
        handle(Account(), event, None)
    assert str(failed.value) == "InvalidEvent: " + sentence


def test_a_change_notification_whose_item_has_no_capture_time_is_refused():
    item = bucket_item("logs")
    del item["configurationItemCaptureTime"]
    with pytest.raises(RuleFailed) as failed:
        handle(Buckets(), change(item), None)
    assert str(failed.value) == (
        "InvalidEvent: invokingEvent.configurationItem.configurationItemCaptureTime is missing; "
        "expected an ISO 8601 time such as 2026-01-01T00:00:00.000Z."
    )


@pytest.mark.parametrize(
    ("case", "environment", "arn", "region"),
    [
        ("lambda_region", {"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-west-2"}, "", "eu-central-1"),
        ("default_region", {"AWS_DEFAULT_REGION": "us-west-2"}, "", "us-west-2"),
        ("rule_arn", {}, "arn:aws:config:ap-south-1:111122223333:config-rule/config-rule-x", "ap-south-1"),
    ],
)
def test_the_rule_runs_in_the_lambdas_region_else_its_rule_arns(monkeypatch, case, environment, arn, region):
    from cis_rule import event_region

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert event_region({"configRuleArn": arn}) == region


@pytest.mark.parametrize("arn", ["", "arn:aws:config::111122223333:config-rule/x", "arn:aws:config"])
def test_a_rule_that_cannot_tell_its_region_cannot_evaluate(monkeypatch, arn):
    from cis_rule import event_region

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(
        EvaluationError, match=r"^The rule cannot tell which region it runs in: AWS_REGION is not set\.$"
    ):
        event_region({"configRuleArn": arn})


def test_a_change_rule_also_needs_to_read_an_oversized_item_back():
    assert Buckets.required_actions() == (
        "config:GetComplianceDetailsByConfigRule",
        "config:GetResourceConfigHistory",
        "config:PutEvaluations",
        "s3:GetBucketPolicy",
    )
    assert Buckets.is_periodic() is False
    assert Users.is_periodic() is True


@pytest.mark.parametrize(
    ("case", "params", "arn", "region"),
    [
        ("config_role", {"AssumeRoleMode": "true"}, f"arn:aws:iam::{ACCOUNT_ID}:role/config-role", None),
        (
            "named_role",
            {"ExecutionRoleName": "audit/cis-reader"},
            f"arn:aws:iam::{ACCOUNT_ID}:role/audit/cis-reader",
            None,
        ),
        (
            "named_role_beside_a_config_role_with_a_path",
            {"ExecutionRoleName": "audit"},
            f"arn:aws:iam::{ACCOUNT_ID}:role/audit",
            None,
        ),
        (
            "role_region",
            {"AssumeRoleMode": "true", "ExecutionRoleRegion": "us-east-1"},
            f"arn:aws:iam::{ACCOUNT_ID}:role/config-role",
            "us-east-1",
        ),
    ],
)
def test_the_role_to_assume_and_where(case, params, arn, region):
    event = scheduled(**params)
    if "with_a_path" in case:
        event["executionRoleArn"] = f"arn:aws:iam::{ACCOUNT_ID}:role/service-role/config-role"
    assert Users().get_execution_role_arn(event) == arn
    assert Users().get_assume_role_region(event) == region


@pytest.mark.parametrize(
    ("case", "response", "message"),
    [
        ("customer", {"customerErrorCode": "AccessDenied", "customerErrorMessage": "No."}, "AccessDenied: No."),
        ("internal", {"internalErrorMessage": "Broken.", "customerErrorCode": None}, "Error: Broken."),
        ("nothing", {}, "Error: "),
    ],
)
def test_a_failed_invocation_says_its_code_and_message(case, response, message):
    assert str(RuleFailed(response)) == message


def test_a_partial_run_says_how_many_were_not_judged():
    cause = client_error("Throttling", 400, operation="ListUsers", action="iam:ListUsers")
    partial = PartialRun([compliant("alice", IAM_USER)], ["bob", "carol"], cause)
    assert str(partial) == "2 not judged: iam:ListUsers failed after retries (Throttling)"
    assert (len(partial.evaluations), partial.unjudged, partial.cause) == (1, ["bob", "carol"], cause)


def test_a_changed_bucket_is_judged_with_the_rules_parameters(aws):
    aws.accepts()
    event = change(bucket_item("www-site"))
    event["ruleParameters"] = json.dumps({"publicPrefixes": "www, public"})
    sent = handle(Buckets(), event, None)
    assert sent_rows(sent) == [
        ("NON_COMPLIANT", S3_BUCKET, "www-site", "Bucket www-site of account 111122223333 is public.")
    ]


@pytest.mark.parametrize(
    ("case", "invoking", "sentence"),
    [
        (
            "message_type_object",
            {"messageType": {"type": "ConfigurationItemChangeNotification"}},
            "invokingEvent.messageType must be one of ScheduledNotification, ConfigurationItemChangeNotification, "
            "OversizedConfigurationItemChangeNotification, not a JSON object.",
        ),
        (
            "item_a_string",
            {"messageType": "ConfigurationItemChangeNotification", "configurationItem": "logs"},
            "invokingEvent.configurationItem must be a JSON object, not 'logs'.",
        ),
    ],
)
def test_a_change_notification_with_the_wrong_kind_of_value_is_refused(case, invoking, sentence):
    event = change(bucket_item("logs"))
    event["invokingEvent"] = json.dumps({"notificationCreationTime": NOW_TEXT, **invoking})
    with pytest.raises(RuleFailed) as failed:
        handle(Buckets(), event, None)
    assert str(failed.value) == "InvalidEvent: " + sentence


# --- The time a rule has left ---------------------------------------------------------------------------


class Lambda:
    """Lambda's context: the milliseconds left, as the test sets them."""

    def __init__(self, remaining_ms: Any) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> Any:
        return self.remaining_ms


class Timed(Account):
    """Notes the seconds it has left before deciding nothing, 250 verdicts, then 99."""

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        self.left = [seconds_left()]
        check_deadline("250 decided", decided=250)
        self.left.append(seconds_left())
        check_deadline("99 decided", decided=99)
        self.left.append(seconds_left())
        return []


@pytest.mark.parametrize(
    ("case", "remaining_ms", "left"),
    [
        # 15 minutes: the margin is 20 s of backoff and 10 s to send, and 4 s per further batch of 100.
        ("long_timeout", 900_000, [870.0, 862.0, 862.0]),
        # 1 minute: the margin is at most a quarter of the time the run started with.
        ("short_timeout", 60_000, [45.0, 45.0, 45.0]),
        ("no_number", "soon", [None, None, None]),
        ("a_boolean", True, [None, None, None]),
    ],
)
def test_a_rule_knows_the_seconds_it_may_still_spend(aws, case, remaining_ms, left):
    rule = Timed()
    aws.accepts()
    assert handle(rule, scheduled(), Lambda(remaining_ms)) == []
    assert rule.left == left
    assert seconds_left() is None  # the invocation is over


def test_outside_an_invocation_a_rule_has_no_deadline():
    assert seconds_left() is None
    check_deadline("anything", needed_s=10_000.0, decided=10_000)


@pytest.mark.parametrize(
    ("case", "decided", "margin"),
    [
        ("nothing", 0, 30.0),
        ("one_batch", 100, 30.0),
        ("a_second_batch", 101, 34.0),
        ("two_batches", 200, 34.0),
        ("a_third_batch", 201, 38.0),
    ],
)
def test_sending_keeps_four_more_seconds_per_further_batch_of_one_hundred(case, decided, margin):
    assert send_margin(decided) == margin


@pytest.mark.parametrize(
    ("case", "names", "text"),
    [
        ("two", ["alice", "bob"], "alice and bob"),
        ("eight", [f"u{n}" for n in range(8)], "u0, u1, u2, u3, u4, u5, u6 and u7"),
        ("nine", [f"u{n}" for n in range(9)], "u0, u1, u2, u3, u4, u5, u6, u7 and 1 more"),
    ],
)
def test_names_in_a_sentence_stop_after_eight(case, names, text):
    assert join_names(names) == text


def test_an_error_answer_without_a_code_is_named_as_an_error():
    without_code = botocore.exceptions.ClientError({"Error": {"Message": "m"}}, "GetBucketPolicy")
    without_error = botocore.exceptions.ClientError({"ResponseMetadata": {"HTTPStatusCode": 400}}, "GetBucketPolicy")
    assert failure_text(without_code) == "GetBucketPolicy failed (an error)"
    assert failure_text(without_error) == "GetBucketPolicy failed (an error)"


@pytest.fixture
def tokyo_time(monkeypatch):
    """The Lambda's local time zone set to Tokyo (a function may set TZ)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_stale_result_is_dated_in_utc_whatever_the_functions_time_zone(aws, tokyo_time):
    aws.last_results([(IAM_USER, "carol", "COMPLIANT", hours_ago(72), "")])
    aws.users_fail("Throttling", 400)
    aws.accepts()
    with pytest.raises(RuleFailed):
        handle(UsersCutShort(), scheduled(), None)
    assert sent_rows(aws.sent)[1] == (
        "NON_COMPLIANT",
        IAM_USER,
        "carol",
        "Could not evaluate: not evaluated since 2026-01-07 12:00 UTC.",
    )


# Where a long annotation is cut: 252 characters or bytes, then "....", never after a character
# that joins or modifies the next one (the cut leaves it dangling), nor after a space.
@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("after_a_space", "a" * 251 + " " + "b" * 10, "a" * 251 + "...."),
        ("after_a_zero_width_joiner", "a" * 248 + "\u200d\U0001f4bb" + "b" * 10, "a" * 248 + "...."),
        ("after_a_variation_selector", "a" * 249 + "\ufe00" + "b" * 10, "a" * 249 + "...."),
        ("after_a_combining_accent", "a" * 250 + "\u0301" + "b" * 10, "a" * 250 + "...."),
        ("an_accent_early_in_the_text", "e\u0301" + "a" * 300, "e\u0301" + "a" * 249 + "...."),
        ("a_joiner_early_in_the_text", "a\u200d" + "b" * 300, "a\u200d" + "b" * 248 + "...."),
    ],
)
def test_a_long_annotation_is_cut_where_nothing_dangles(case, text, expected):
    assert annotation(text) == expected


def test_a_user_judged_before_the_run_was_cut_short_gets_its_verdict_not_a_stale_mark(aws):
    aws.last_results(
        [(IAM_USER, "alice", "COMPLIANT", hours_ago(100), ""), (IAM_USER, "carol", "COMPLIANT", hours_ago(100), "")]
    )
    aws.users_fail("Throttling", 400)
    aws.accepts()
    with pytest.raises(RuleFailed):
        handle(UsersCutShort(), scheduled(), None)
    assert sent_rows(aws.sent) == [
        ("COMPLIANT", IAM_USER, "alice", "User alice has MFA."),
        ("NON_COMPLIANT", IAM_USER, "carol", "Could not evaluate: not evaluated since 2026-01-06 08:00 UTC."),
    ]


def test_only_a_rule_reporting_resources_retires_the_ones_it_no_longer_reports():
    class PerUser(CisRule):
        RESOURCE_TYPE = IAM_USER

    class PerAccount(CisRule):
        pass

    assert PerUser.delete_old_evaluations_on_scheduled_notification is True
    assert PerAccount.delete_old_evaluations_on_scheduled_notification is False


# What the operators' logs get when sending fails: rdklib's four fields, raw error text in the details.
@pytest.mark.parametrize(
    ("case", "code", "status", "response"),
    [
        (
            "denied",
            "AccessDeniedException",
            400,
            {
                "internalErrorMessage": "Insufficient access to perform this action.",
                "internalErrorDetails": "An error occurred (AccessDeniedException) when calling the PutEvaluations operation: Not now.",
                "customerErrorCode": "AccessDeniedException",
                "customerErrorMessage": "Not now.",
            },
        ),
        (
            "server_error",
            "InternalError",
            500,
            {
                "internalErrorMessage": "Unexpected error while completing API request",
                "internalErrorDetails": "An error occurred (InternalError) when calling the PutEvaluations operation: Not now.",
                "customerErrorCode": None,
                "customerErrorMessage": None,
            },
        ),
        (
            "bad_token",
            "InvalidResultTokenException",
            400,
            {
                "internalErrorMessage": "Customer error while making API request",
                "internalErrorDetails": "An error occurred (InvalidResultTokenException) when calling the PutEvaluations operation: Not now.",
                "customerErrorCode": "InvalidResultTokenException",
                "customerErrorMessage": "Not now.",
            },
        ),
    ],
)
def test_a_failed_send_leaves_the_error_in_the_functions_log(aws, case, code, status, response):
    aws.refuses_evaluations(code, status)
    with pytest.raises(RuleFailed) as failed:
        handle(Buckets(), change(bucket_item("logs")), None)
    assert failed.value.response == response


@pytest.mark.parametrize(
    ("case", "left_ms", "shown"), [("one_second", 1_000, "1.0"), ("a_fraction", 400, "0.4"), ("overdue", -50, "0.0")]
)
def test_a_request_about_to_leave_with_no_time_to_send_stops_the_run_naming_its_action(aws, case, left_ms, shown):
    class Filters(Account):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            logs = client_factory.build_client("logs")
            self.context.remaining_ms = left_ms  # the account was slow
            logs.describe_metric_filters()
            raise AssertionError("the request should not have been sent")

    rule = Filters()
    rule.context = Lambda(900_000)
    aws.unreachable("logs")
    aws.last_results([])
    with pytest.raises(RuleFailed) as failed:
        handle(rule, scheduled(), rule.context)
    assert failure(failed)[1].startswith(
        f"Nothing judged, nothing sent. Stopped with {shown} s left before the Lambda timeout after "
        "logs:DescribeMetricFilters was about to be sent, keeping the rest"
    )


def test_a_resource_out_of_scope_is_not_applicable_with_one_sentence():
    evaluation = not_applicable("logs", S3_BUCKET, "Bucket logs belongs to another account")
    assert (evaluation.complianceType, evaluation.complianceResourceType, evaluation.complianceResourceId) == (
        "NOT_APPLICABLE",
        S3_BUCKET,
        "logs",
    )
    assert evaluation.annotation == "Bucket logs belongs to another account."


def test_evaluations_rejected_in_the_first_of_two_batches_are_counted_against_all_sent(aws):
    class Many(Users):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            return [compliant(f"user{n:03}", IAM_USER) for n in range(150)]

    aws.last_results([])
    rejected = {
        "ComplianceResourceType": IAM_USER,
        "ComplianceResourceId": "user007",
        "ComplianceType": "COMPLIANT",
        "OrderingTimestamp": NOW,
    }
    aws.stub("config").add_response("put_evaluations", {"FailedEvaluations": [rejected]})
    aws.accepts()
    with pytest.raises(RuleFailed) as failed:
        handle(Many(), scheduled(), None)
    assert failure(failed)[1].startswith("AWS Config rejected 1 of 150 evaluations")


def test_a_rule_that_keeps_old_results_retires_nothing(aws):
    class KeepsOld(Users):
        delete_old_evaluations_on_scheduled_notification = False

    aws.last_results([(IAM_USER, "gone", "COMPLIANT", hours_ago(1), "")])
    aws.users("alice")
    aws.accepts()
    assert sent_rows(handle(KeepsOld(), scheduled(), None)) == [("COMPLIANT", IAM_USER, "alice", "")]


def test_an_account_rule_judges_with_the_events_account_and_its_parameters(aws):
    class EnoughUsers(CisRule):
        PARAMETERS = {"minimumUsers": IntParameter(default=1, minimum=0)}

        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            users = client_factory.build_client("iam").list_users()["Users"]
            enough = len(users) >= valid_rule_parameters["minimumUsers"]
            verdict = compliant if enough else non_compliant
            return [verdict(account_id(event), ACCOUNT, f"The account has {len(users)} users.")]

    aws.users("alice")
    aws.accepts()
    sent = handle(EnoughUsers(), scheduled(minimumUsers="2"), None)
    assert sent_rows(sent) == [("NON_COMPLIANT", ACCOUNT, ACCOUNT_ID, "The account has 1 users.")]
