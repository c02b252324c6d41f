"""The base every custom rule shares: parameters, role mode, annotations, declared actions."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from rdklib import InvalidParametersError

from cis_rule import (
    ACCOUNT,
    IAM_USER,
    CisRule,
    IntParameter,
    ListParameter,
    RuleFailed,
    annotation,
    check_deadline,
    handle,
    join_names,
    notification_time,
)


class AccountRule(CisRule):
    PARAMETERS = {"days": IntParameter(default=90, minimum=1), "skip": ListParameter(item_pattern=r"[a-z]+")}
    ACTIONS = ("iam:ListUsers",)

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        return []


class UserRule(CisRule):
    RESOURCE_TYPE = IAM_USER
    ACTIONS = ("iam:ListUsers",)


@pytest.mark.parametrize(
    ("case", "params", "expected"),
    [
        ("defaults", {}, {"days": 90, "skip": ()}),
        ("blank_is_default", {"days": "  ", "skip": ""}, {"days": 90, "skip": ()}),
        ("values", {"days": " 30 ", "skip": "a, b ,,c"}, {"days": 30, "skip": ("a", "b", "c")}),
        ("json_integer", {"days": 7}, {"days": 7, "skip": ()}),
        ("plus_sign_and_leading_zeros", {"days": "+007"}, {"days": 7, "skip": ()}),
        (
            "rdklib_parameter_forms",
            {"AssumeRoleMode": " False ", "ExecutionRoleRegion": "eu-central-2"},
            {"days": 90, "skip": ()},
        ),
        ("rdklib_parameters_pass", {"AssumeRoleMode": "true", "ExecutionRoleName": "x"}, {"days": 90, "skip": ()}),
    ],
)
def test_parameters_parse(case, params, expected):
    # Every rule also takes staleAfterHours (CONTROLS.md, "When a rule cannot judge"), default 48.
    assert AccountRule().evaluate_parameters(params) == {**expected, "staleAfterHours": 48}


@pytest.mark.parametrize(
    ("case", "raw", "expected"),
    [("default", None, 48), ("one_hour", "1", 1), ("a_week", " 168 ", 168), ("json_integer", 72, 72)],
)
def test_every_rule_takes_stale_after_hours(case, raw, expected):
    params = {} if raw is None else {"staleAfterHours": raw}
    assert UserRule().evaluate_parameters(params) == {"staleAfterHours": expected}


@pytest.mark.parametrize(("case", "raw"), [("zero", "0"), ("negative", "-2"), ("words", "two days")])
def test_stale_after_hours_below_one_is_refused(case, raw):
    with pytest.raises(InvalidParametersError, match=r"^staleAfterHours must be an integer >= 1, not "):
        UserRule().evaluate_parameters({"staleAfterHours": raw})


@pytest.mark.parametrize(
    ("case", "params", "message"),
    [
        ("not_integer", {"days": "1.5"}, "days must be an integer >= 1, not '1.5'."),
        ("below_minimum", {"days": "0"}, "days must be an integer >= 1, not 0."),
        ("bad_item", {"skip": "ok,NOT-OK"}, "skip must be a comma-separated list of a value; 'NOT-OK' is not one."),
        ("unknown", {"dayz": "3"}, "Unknown rule parameter dayz; this rule accepts: days, skip, staleAfterHours."),
        ("not_string", {"days": ["3"]}, "days must be a string, not list."),
        ("boolean", {"days": True}, "days must be a string, not bool."),
        ("underscore", {"days": "1_0"}, "days must be an integer >= 1, not '1_0'."),
        ("arabic_indic_digits", {"days": "١٢"}, "days must be an integer >= 1, not '١٢'."),
        ("fullwidth_digits", {"days": "\uff11\uff12"}, "days must be an integer >= 1, not '\uff11\uff12'."),
        ("superscript", {"days": "²"}, "days must be an integer >= 1, not '²'."),
        ("inner_space", {"days": " 1 0"}, "days must be an integer >= 1, not ' 1 0'."),
        ("two_signs", {"days": "+-1"}, "days must be an integer >= 1, not '+-1'."),
        ("negative", {"days": "-3"}, "days must be an integer >= 1, not -3."),
        ("too_many_digits", {"days": "9" * 5000}, "days must be an integer >= 1, not a 5000-digit number."),
        ("role_mode", {"AssumeRoleMode": "yes"}, "AssumeRoleMode must be 'true' or 'false', not 'yes'."),
        (
            "role_region",
            {"ExecutionRoleRegion": "Mars"},
            "ExecutionRoleRegion must be an AWS region name such as us-east-1, not 'Mars'.",
        ),
    ],
)
def test_malformed_parameters_raise_naming_the_parameter(case, params, message):
    with pytest.raises(InvalidParametersError) as err:
        AccountRule().evaluate_parameters(params)
    assert str(err.value) == message


def test_bounded_integer():
    spec = IntParameter(default=0, minimum=0, maximum=32)
    assert spec.parse("len", "32") == 32
    with pytest.raises(InvalidParametersError, match=r"len must be an integer from 0 to 32, not 33\."):
        spec.parse("len", "33")


@pytest.mark.parametrize(
    ("case", "params", "assume"),
    [
        ("default_own_role", {}, False),
        ("explicit_true", {"AssumeRoleMode": "TRUE"}, True),
        ("false", {"AssumeRoleMode": "false"}, False),
    ],
)
def test_role_mode_defaults_to_the_lambda_role(case, params, assume):
    assert AccountRule().get_assume_role_mode({"ruleParameters": json.dumps(params)}) is assume


def test_every_rule_reads_back_its_results_and_only_resource_rules_clean_up():
    # Reading back serves stale results (every rule), the clean-up and the judging order.
    assert AccountRule.delete_old_evaluations_on_scheduled_notification is False
    assert AccountRule.required_actions() == (
        "config:GetComplianceDetailsByConfigRule",
        "config:PutEvaluations",
        "iam:ListUsers",
    )
    assert UserRule.delete_old_evaluations_on_scheduled_notification is True
    assert UserRule.required_actions() == (
        "config:GetComplianceDetailsByConfigRule",
        "config:PutEvaluations",
        "iam:ListUsers",
    )
    assert AccountRule.RESOURCE_TYPE == ACCOUNT


def test_throttling_is_retried_before_it_reaches_rdklib(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert os.environ["AWS_RETRY_MODE"] == "standard"
    client = boto3.client("iam", aws_access_key_id="x", aws_secret_access_key="x")
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 8}


def test_annotation_is_one_sentence_within_limits():
    assert annotation("two\n  lines") == "two lines."
    long = annotation("x" * 400)
    assert len(long) == 256 and long.endswith(".")
    assert annotation("done.") == "done."


def test_join_names():
    assert join_names([]) == ""
    assert join_names(["a"]) == "a"
    assert join_names(["a", "b", "c"]) == "a, b and c"
    assert join_names([str(n) for n in range(10)], limit=3) == "0, 1, 2 and 7 more"


def test_notification_time_is_the_events_time():
    event = {"invokingEvent": json.dumps({"notificationCreationTime": "2026-01-02T03:04:05.678Z"})}
    assert notification_time(event).isoformat() == "2026-01-02T03:04:05.678000+00:00"
    offset = {"invokingEvent": json.dumps({"notificationCreationTime": "2026-01-02T05:04:05+02:00"})}
    assert notification_time(offset).utcoffset().total_seconds() == 7200


@pytest.mark.parametrize(
    ("case", "invoking", "message"),
    [
        (
            "no_time_zone",
            json.dumps({"notificationCreationTime": "2026-01-02T03:04:05"}),
            "invokingEvent.notificationCreationTime must carry a time zone (such as 2026-01-01T00:00:00.000Z), "
            "not '2026-01-02T03:04:05'.",
        ),
        ("not_json", "{", "invokingEvent must hold a JSON object, but is not JSON: '{'."),
    ],
)
def test_notification_time_never_returns_a_naive_time(case, invoking, message):
    # The door refuses such events first; a rule calling it directly still gets a sentence.
    with pytest.raises(ValueError) as err:
        notification_time({"invokingEvent": invoking})
    assert str(err.value) == message


def test_handle_fails_the_invocation_when_rdklib_reports_an_error(monkeypatch):
    # rdklib answers a malformed parameter with an error value; the handler raises it, so that the
    # Lambda invocation fails and AWS Config records the failure instead of keeping the old verdict.
    event = {
        "invokingEvent": json.dumps(
            {"messageType": "ScheduledNotification", "notificationCreationTime": "2026-01-01T00:00:00.000Z"}
        ),
        "ruleParameters": json.dumps({"days": "zero"}),
        "resultToken": "TESTMODE",
        "executionRoleArn": "arn:aws:iam::123456789012:role/x",
        "accountId": "123456789012",
        "configRuleName": "AccountRule",
    }
    with pytest.raises(RuleFailed) as failed:
        handle(AccountRule(), event, None)
    assert str(failed.value) == "InvalidParameterValueException: days must be an integer >= 1, not 'zero'."
    assert failed.value.response["customerErrorCode"] == "InvalidParameterValueException"


@pytest.mark.parametrize(
    ("case", "params", "assume"),
    [
        ("execution_role_name_means_assume", {"ExecutionRoleName": "audit"}, True),
        ("explicit_false_wins", {"ExecutionRoleName": "audit", "AssumeRoleMode": "false"}, False),
    ],
)
def test_execution_role_name_keeps_its_rdklib_meaning(case, params, assume):
    assert AccountRule().get_assume_role_mode({"ruleParameters": json.dumps(params)}) is assume


@pytest.fixture
def config(aws):
    """moto's Config with the local seam: it accepts an empty PutEvaluations, as AWS does."""
    from cispack.local.config import ComplianceLedger

    ledger = ComplianceLedger().install()
    yield ledger
    ledger.uninstall()


class FakeContext:
    """Lambda's context as far as the rules use it: the time left, which the test sets."""

    def __init__(self, remaining_ms):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


class DeadlineRule(CisRule):
    """Judges ``steps`` resources, checking the deadline before each; the context loses
    ``cost_ms`` per step, as a slow account would."""

    steps = 3
    context: FakeContext
    cost_ms = 0

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        for done in range(self.steps):
            check_deadline(f"{done} of {self.steps} steps done")
            self.context.remaining_ms -= self.cost_ms
        return []


def scheduled(params=None):
    return {
        "invokingEvent": json.dumps(
            {"messageType": "ScheduledNotification", "notificationCreationTime": "2026-01-01T00:00:00.000Z"}
        ),
        "ruleParameters": json.dumps(params or {}),
        "resultToken": "TESTMODE",
        "executionRoleArn": "arn:aws:iam::123456789012:role/x",
        "accountId": "123456789012",
        "configRuleName": "DeadlineRule",
    }


@pytest.mark.parametrize(
    ("case", "start_ms", "cost_ms", "message"),
    [
        # 12 s left at the start: the margin is a quarter of it (3 s; 24 s for longer timeouts).
        # Step 0 starts at 12 s, step 1 at 7 s, step 2 at 2 s.
        (
            "stops_below_the_margin_naming_how_far_it_got",
            12_000,
            5_000,
            "Error: Nothing judged, nothing sent. Stopped with 2.0 s left before the Lambda timeout after 2 of 3 "
            "steps done, keeping the rest to send what was decided; give the function a longer timeout "
            "(docs/reliability.md, 'Timeouts and memory').",
        ),
        # 10 s timeout: the margin is a quarter of it (2.5 s). Steps start at 10, 6.5 and 3 s left.
        ("short_timeout_keeps_a_quarter", 10_000, 3_500, None),
        ("short_timeout_stops_below_a_fifth", 10_000, 4_500, "Stopped with 1.0 s left"),
    ],
)
def test_deadline_stops_the_run_naming_how_far_it_got(config, case, start_ms, cost_ms, message):
    rule = DeadlineRule()
    rule.context = FakeContext(start_ms)
    rule.cost_ms = cost_ms
    if message is None:
        assert handle(rule, scheduled(), rule.context) == []
        return
    with pytest.raises(RuleFailed) as failed:
        handle(rule, scheduled(), rule.context)
    assert message in str(failed.value)


@pytest.mark.parametrize("context", [None, object()], ids=["none", "no_remaining_time"])
def test_without_a_lambda_context_there_is_no_deadline(config, context):
    rule = DeadlineRule()
    rule.context = FakeContext(0)
    rule.cost_ms = 10_000
    assert handle(rule, scheduled(), context) == []
    check_deadline("outside any invocation")


def test_deadline_is_checked_from_worker_threads(config):
    from concurrent.futures import ThreadPoolExecutor

    context = FakeContext(10_000)

    class Threaded(CisRule):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            def judge(n):
                check_deadline(f"{n} of 8 buckets judged")
                if n == 3:
                    context.remaining_ms = 1_500

            with ThreadPoolExecutor(4) as pool:
                list(pool.map(judge, range(8)))
            return []

    with pytest.raises(RuleFailed, match=r"Stopped with 1\.5 s left before the Lambda timeout after \d of 8 buckets"):
        handle(Threaded(), scheduled(), context)
    context.remaining_ms = 10_000
    assert handle(Threaded(), scheduled(), FakeContext(60_000)) == []


def test_one_client_per_service_and_region_per_invocation(config):
    seen = []

    class Builder(CisRule):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(8) as pool:
                s3 = list(pool.map(lambda _: client_factory.build_client("s3"), range(16)))
            seen.append(s3)
            seen.append(
                [
                    client_factory.build_client("s3", "us-east-1"),
                    client_factory.build_client("s3", "eu-west-1"),
                    client_factory.build_client("s3", "eu-west-1"),
                    client_factory.build_client("iam"),
                ]
            )
            return []

    handle(Builder(), scheduled(), None)
    threaded, (home, west, west_again, iam) = seen
    assert len({id(client) for client in threaded}) == 1
    assert home is threaded[0]
    assert west is west_again and west is not home
    assert west.meta.region_name == "eu-west-1" and iam.meta.service_model.service_name == "iam"
    handle(Builder(), scheduled(), None)
    assert seen[2][0] is not threaded[0], "each invocation builds its own clients"


def test_no_answer_from_aws_fails_the_invocation_naming_the_endpoint(config, monkeypatch):
    # The connection drops below botocore's retry layer (raised from before-send, where botocore
    # treats it as a network failure); one attempt keeps the test fast.
    from botocore.exceptions import ConnectionClosedError

    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    def closed(request, **_):
        raise ConnectionClosedError(endpoint_url=request.url)

    class Lister(CisRule):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            client_factory.build_client("iam").list_users()
            return []

    events = boto3._get_default_session().events
    events.register("before-send.iam.ListUsers", closed)
    try:
        with pytest.raises(RuleFailed) as failed:
            handle(Lister(), scheduled(), None)
    finally:
        events.unregister("before-send.iam.ListUsers", closed)
    assert str(failed.value) == (
        "ConnectionClosedError: Nothing judged, nothing sent. No answer from AWS after retries: Connection was "
        "closed before we received a valid "
        'response from endpoint URL: "https://iam.amazonaws.com/".'
    )
    assert "PutEvaluations" not in config.calls


def test_a_wait_that_would_outlast_the_invocation_is_not_started(config):
    context = FakeContext(200_000)  # the margin is 30 s: the longest backoff and the sending

    class Waiting(CisRule):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            check_deadline("before a 170 s wait", 170.0)  # 200 s left - 170 s = 30 s, above the margin
            check_deadline("before a 180 s wait", 180.0)  # 200 s left - 180 s = 20 s: stop now
            return []

    with pytest.raises(RuleFailed, match=r"Stopped with 200\.0 s left before the Lambda timeout after before a 180 s"):
        handle(Waiting(), scheduled(), context)


@pytest.mark.parametrize(
    ("case", "decided", "margin"),
    [("nothing_decided", 0, 30.0), ("one_batch", 100, 30.0), ("three_batches", 250, 38.0), ("5000", 5000, 226.0)],
)
def test_the_margin_grows_with_the_verdicts_to_send(case, decided, margin):
    from cis_rule import send_margin

    assert send_margin(decided) == margin


def test_the_deadline_is_checked_before_every_request_retries_included(config, monkeypatch):
    """A unit of work slowed by throttling stops inside itself: each attempt of each request
    checks the budget, so the run stops before a request, not after the unit."""
    import botocore.endpoint
    from botocore.awsrequest import AWSResponse

    class Body:
        def stream(self, **_):
            yield b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code></Error></ErrorResponse>"

    context = FakeContext(100_000)
    sent = []

    def throttle(request, **_):
        sent.append(request.url)
        context.remaining_ms -= 30_000  # each attempt (and its backoff) costs 30 s here
        return AWSResponse(request.url, 400, {}, Body())

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)
    events = boto3._get_default_session().events
    events.register("before-send.iam.ListUsers", throttle)

    class Lister(CisRule):
        def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
            client_factory.build_client("iam").list_users()
            return []

    try:
        with pytest.raises(RuleFailed, match=r"before the Lambda timeout after iam:ListUsers was about to be sent"):
            handle(Lister(), scheduled(), context)
    finally:
        events.unregister("before-send.iam.ListUsers", throttle)
    assert len(sent) == 3  # 100 s, 70 s, 40 s left: sent; 10 s left: stopped before the 4th attempt


def test_throttled_retries_never_drain_the_pack_clients_retry_quota(config, monkeypatch):
    """botocore's quota (500 units, 5 per throttled retry, refilled only by 2xx answers) let 100
    throttled retries through per client, then failed every throttled call on its first attempt.
    The pack's clients retry throttling to the last attempt however long it lasts."""
    import botocore.endpoint
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ClientError

    from cis_rule import Clients

    class Body:
        def stream(self, **_):
            yield b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'

    sent = []

    def throttle(request, **_):
        sent.append(request.url)
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, Body())

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)
    client = Clients(None, "us-east-1", False).build_client("cloudtrail")
    client.meta.events.register_first("before-send.cloudtrail.DescribeTrails", throttle)
    for _ in range(40):
        with pytest.raises(ClientError, match="ThrottlingException"):
            client.describe_trails()
    # 40 calls of 8 attempts each; a plain client stops at 40 + 500 // 5 = 140 requests.
    assert len(sent) == 40 * 8
