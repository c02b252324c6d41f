"""No rejected verdict goes unreported: every ``PutEvaluations`` answer is read, and evaluations
that AWS Config lists in ``FailedEvaluations`` fail the invocation, naming them.

moto never answers ``FailedEvaluations``, so the answers are injected at the HTTP layer: a
``before-send`` handler returns a real HTTP response (JSON body, as AWS Config sends it), which
botocore parses exactly as it would parse AWS's. Nothing above the wire is patched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from cis_rule import ACCOUNT, S3_BUCKET, CisRule, RuleFailed, compliant, handle, non_compliant
from cispack.catalog.rules import custom_rules
from cispack.local.config import ComplianceLedger
from cispack.local.events import scheduled_event
from cispack.testing.cases import ACCOUNT_ID, REGION

PUT = "before-send.config-service.PutEvaluations"


class Body:
    """The raw body of an HTTP response, as botocore reads it (``stream()``)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_):
        yield self.data


class ConfigEndpoint:
    """AWS Config's PutEvaluations endpoint: records every batch and answers, for each, the
    evaluations that ``reject`` picks as ``FailedEvaluations``."""

    def __init__(self, reject=lambda batch_number, evaluation: False):
        self.reject = reject
        self.batches = []

    def __call__(self, request, **_):
        sent = json.loads(request.body)["Evaluations"]
        number = len(self.batches)
        self.batches.append(sent)
        failed = [evaluation for evaluation in sent if self.reject(number, evaluation)]
        body = json.dumps({"FailedEvaluations": failed}).encode()
        headers = {"x-amzn-RequestId": f"req-{number}", "Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, 200, headers, Body(body))


@pytest.fixture
def endpoint(aws):
    session = boto3._get_default_session()
    ledger = ComplianceLedger().install()
    answered = []

    def install(reject=lambda batch_number, evaluation: False):
        config = ConfigEndpoint(reject)
        # The more specific event name runs before moto's catch-all before-send, so this answer wins.
        session.events.register(PUT, config)
        answered.append(config)
        return config

    yield install
    for config in answered:
        session.events.unregister(PUT, config)
    ledger.uninstall()


class Buckets(CisRule):
    """Reports ``count`` buckets, alternately compliant and not, without any API call of its own."""

    RESOURCE_TYPE = S3_BUCKET
    delete_old_evaluations_on_scheduled_notification = False
    count = 0

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        return [
            (compliant if n % 2 else non_compliant)(f"bucket-{n:03}", S3_BUCKET, f"Bucket {n} judged.")
            for n in range(self.count)
        ]


def event():
    return scheduled_event("Buckets", account=ACCOUNT_ID, region=REGION, now=datetime(2026, 1, 1, tzinfo=UTC))


def run(count):
    rule = Buckets()
    rule.count = count
    return handle(rule, event(), None)


@pytest.mark.parametrize(
    ("case", "count", "rejected"),
    [
        ("one_of_one", 1, {"bucket-000"}),
        ("one_in_the_last_batch", 250, {"bucket-249"}),
        ("some_in_every_batch", 250, {"bucket-000", "bucket-150", "bucket-201", "bucket-248"}),
        ("all_of_a_full_batch", 100, {f"bucket-{n:03}" for n in range(100)}),
    ],
)
def test_rejected_evaluations_fail_the_invocation_naming_them(endpoint, case, count, rejected):
    config = endpoint(lambda batch, evaluation: evaluation["ComplianceResourceId"] in rejected)
    with pytest.raises(RuleFailed) as failed:
        run(count)
    # Every batch still went out: the accepted verdicts are recorded, the rejected ones reported.
    assert [len(batch) for batch in config.batches] == [min(100, count - start) for start in range(0, count, 100)]
    message = failed.value.response["customerErrorMessage"]
    assert failed.value.response["customerErrorCode"] == "FailedEvaluations"
    assert message.startswith(f"AWS Config rejected {len(rejected)} of {count} evaluations (PutEvaluations listed")
    assert message.endswith("; those resources keep their previous verdict.")
    shown = sorted(rejected)[:8]
    for name in shown:
        assert f"{S3_BUCKET} {name}" in message
    if len(rejected) > 8:
        assert f"and {len(rejected) - 8} more" in message
    # The full list travels in the error details, for the log.
    details = json.loads(failed.value.response["internalErrorDetails"])
    assert {item["ComplianceResourceId"] for item in details} == rejected


def test_an_accepted_run_returns_its_evaluations(endpoint):
    config = endpoint()
    evaluations = run(150)
    assert len(evaluations) == 150
    assert [len(batch) for batch in config.batches] == [100, 50]


@pytest.mark.parametrize("count", [1, 99, 100, 101, 250, 301])
@pytest.mark.parametrize("every", [1, 7, 50])
def test_no_rejected_verdict_goes_unreported(endpoint, count, every):
    # Whatever the layout of rejections over the batches, the run fails and counts them all.
    config = endpoint(lambda batch, evaluation: int(evaluation["ComplianceResourceId"][-3:]) % every == 0)
    expected = len(range(0, count, every))
    with pytest.raises(RuleFailed, match=rf"AWS Config rejected {expected} of {count} evaluations"):
        run(count)
    assert sum(len(batch) for batch in config.batches) == count


def test_a_pack_rule_reports_the_rejection(endpoint):
    # A rule of the pack, end to end: in an empty account a CloudWatch monitoring rule judges the
    # account NON_COMPLIANT; AWS Config rejects that verdict, and the invocation fails.
    rule = next(r for r in custom_rules() if r.name == "METRIC_FILTER_ALARM_VPC_CHANGES")
    config = endpoint(lambda batch, evaluation: True)
    with pytest.raises(RuleFailed) as failed:
        rule.module().lambda_handler(scheduled_event(rule.name, account=ACCOUNT_ID, region=REGION), None)
    assert [[e["ComplianceResourceType"] for e in batch] for batch in config.batches] == [[ACCOUNT]]
    assert str(failed.value).startswith(
        f"FailedEvaluations: AWS Config rejected 1 of 1 evaluations (PutEvaluations listed them as "
        f"FailedEvaluations, which carry no reason code): NON_COMPLIANT {ACCOUNT} {ACCOUNT_ID}"
    )


def test_rejections_are_named_even_when_a_later_batch_fails(endpoint):
    # Batch 1 is answered with two rejections; batch 2 is refused outright (AccessDenied, an HTTP
    # 400 with AWS Config's JSON error body). The run fails naming both.
    config = endpoint(lambda batch, evaluation: evaluation["ComplianceResourceId"] in {"bucket-003", "bucket-007"})
    answer_batch = config.__call__

    def first_then_denied(request, **kwargs):
        if config.batches:
            config.batches.append(json.loads(request.body)["Evaluations"])
            body = json.dumps({"__type": "AccessDeniedException", "message": "not allowed"}).encode()
            return AWSResponse(request.url, 400, {"x-amzn-RequestId": "denied"}, Body(body))
        return answer_batch(request, **kwargs)

    session = boto3._get_default_session()
    session.events.unregister(PUT, config)
    session.events.register(PUT, first_then_denied)
    try:
        with pytest.raises(RuleFailed) as failed:
            run(150)
    finally:
        session.events.unregister(PUT, first_then_denied)
    assert [len(batch) for batch in config.batches] == [100, 50]
    assert failed.value.response["customerErrorCode"] == "FailedEvaluations"
    assert failed.value.response["customerErrorMessage"] == (
        "AWS Config rejected 2 of 100 evaluations (PutEvaluations listed them as FailedEvaluations, "
        "which carry no reason code): COMPLIANT AWS::S3::Bucket bucket-003 and COMPLIANT AWS::S3::Bucket "
        "bucket-007; those resources keep their previous verdict. The run then failed: "
        "AccessDeniedException: not allowed."
    )
