"""The pack's fault-injection suite in CI: every custom rule, every operation it calls, faults
injected at the HTTP layer below botocore's retries (cispack/testing/faults.py; ``./pack faults``
prints the same matrix as a table). The matrix runs once for the module. The promises are
CONTROLS.md's "When a rule cannot judge": a denial is a visible NON_COMPLIANT "Could not evaluate";
a failure that outlasts retries sends the decided verdicts only, cleans nothing up and fails the
run; the Lambda timeout never kills a run with decided verdicts unsent."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from cis_rule import RuleFailed
from cispack.catalog.rules import custom_rules
from cispack.testing.faults import (
    ACCESS_DENIED,
    CONNECTION,
    DEADLINE,
    FAILED_EVALUATIONS,
    KINDS,
    ON_CHANGE,
    PERSISTENT,
    SECOND_PAGE,
    SERVER_ERROR,
    SERVICES,
    THROTTLED_OUT,
    THROTTLING,
    TRANSIENT,
    Operation,
    Report,
    action_of,
    format_report,
    run_matrix,
)

#: Listings that botocore pages but that the seeded account cannot show in two pages: the CIS 3.x
#: rules stop at a topic's first confirmed subscription, and moto confirms every subscription; an
#: oversized configuration item is read back alone (``limit=1``, the newest).
SINGLE_PAGE_LISTINGS = {
    Operation("sns", "ListSubscriptionsByTopic"),
    Operation("config-service", "GetResourceConfigHistory"),
}


@pytest.fixture(scope="module")
def report() -> Report:
    return run_matrix()


def _runs(report: Report, kind: str) -> list[str]:
    return [f"{o.rule} / {o.fault}" for o in report.of_kind(kind)]


def test_every_custom_rule_runs_clean_and_judges_something(report):
    runs = [rule.name for rule in custom_rules()]
    runs += [rule.name + ON_CHANGE for rule in custom_rules() if rule.rule_class().CHANGE_TYPES]
    assert sorted(report.clean) == sorted(runs)
    assert len(runs) == len(custom_rules()) + 3, "CIS 2.3, 2.6 and 4.4 also run on a configuration change"
    assert {name: clean.error for name, clean in report.clean.items() if clean.error} == {}
    assert [name for name, clean in report.clean.items() if not clean.verdicts] == []


def test_listings_in_two_pages_give_the_verdicts_of_one_page(report):
    differ = [
        name
        for name, clean in report.clean.items()
        if sorted(clean.one_page_verdicts, key=str) != sorted(clean.verdicts, key=str)
    ]
    assert differ == []
    paged = {op for clean in report.clean.values() for op in clean.paged}
    one_page = {op for clean in report.clean.values() for op in clean.single_page_listings} - paged
    assert one_page == SINGLE_PAGE_LISTINGS
    assert {
        Operation("iam", "ListUsers"),
        Operation("cloudtrail", "ListTrails"),
        Operation("s3", "ListBuckets"),
        Operation("cloudwatch-logs", "DescribeMetricFilters"),
        Operation("cloudwatch", "DescribeAlarms"),
        Operation("ec2", "DescribeRouteTables"),
        Operation("ec2", "DescribeVpcPeeringConnections"),
        Operation("ec2", "GetManagedPrefixListEntries"),
        Operation("config-service", "GetComplianceDetailsByConfigRule"),
    } <= paged


def test_the_account_reaches_every_action_each_rule_declares(report):
    """Rules that share their code and their actions (the fourteen CIS 3.x rules) cover them
    together: each control's chain stops at a different link."""
    families: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for clean in report.clean.values():
        families[clean.declared_actions] |= clean.called_actions
    # Account rules read their last results only when a run fails (the stale check).
    for outcome in report.outcomes:
        declared = report.clean[outcome.rule].declared_actions
        families[declared] |= {action_of(o.service_id, o.name) for o in outcome.operations}
    missing = {actions: sorted(set(actions) - called) for actions, called in families.items() if set(actions) - called}
    assert missing == {}


def test_every_operation_of_every_rule_is_faulted_and_reached(report):
    for name, clean in report.clean.items():
        for kind in (ACCESS_DENIED, SERVER_ERROR, CONNECTION, THROTTLED_OUT):
            hit = sorted(o.fault.operation for o in report.of_kind(kind) if o.rule == name)
            assert hit == list(clean.operations), (name, kind)
        second = sorted(o.fault.operation for o in report.of_kind(SECOND_PAGE) if o.rule == name)
        assert second == list(clean.paged), name
    targeted = [o for o in report.outcomes if o.fault.kind in PERSISTENT]
    assert [f"{o.rule} / {o.fault}" for o in targeted if o.injected == 0] == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_run_keeps_every_promise(report, kind):
    broken = [(reason, f"{o.rule} / {o.fault}") for o in report.of_kind(kind) for reason, _ in o.broken()]
    assert broken == []


def _outcome(report, rule, kind, service, operation):
    (found,) = [
        o for o in report.of_kind(kind) if o.rule == rule and o.fault.operation == Operation(service, operation)
    ]
    return found


def test_a_denied_read_of_one_bucket_makes_that_bucket_could_not_evaluate(report):
    """AccessDenied per resource: that resource NON_COMPLIANT "Could not evaluate", the run succeeds."""
    outcome = _outcome(report, "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC", ACCESS_DENIED, "s3", "GetBucketPolicy")
    buckets = {v.resource_id for v in outcome.clean if v.resource_type == "AWS::S3::Bucket"}
    assert not outcome.failed
    assert {v.resource_id for v in outcome.could_not} == buckets
    assert all("s3:GetBucketPolicy was denied (AccessDenied)" in v.annotation for v in outcome.could_not)


def test_a_denied_listing_marks_every_resource_last_reported_and_fails(report):
    outcome = _outcome(report, "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING", ACCESS_DENIED, "s3", "ListBuckets")
    assert outcome.failed and outcome.clear
    last = {(v.resource_type, v.resource_id) for v in outcome.clean if v.compliance != "NOT_APPLICABLE"}
    assert {(v.resource_type, v.resource_id) for v in outcome.could_not} == last
    account = _outcome(report, "IAM_ROOT_ACCOUNT_UNUSED", ACCESS_DENIED, "iam", "GetCredentialReport")
    assert [(v.resource_type, v.annotation) for v in account.accepted] == [
        ("AWS::::Account", "Could not evaluate: iam:GetCredentialReport was denied (AccessDenied).")
    ]


@pytest.mark.parametrize("kind", TRANSIENT)
def test_faults_that_outlast_retries_send_decided_verdicts_only_and_clean_nothing_up(report, kind):
    runs = report.of_kind(kind)
    assert [f"{o.rule} / {o.fault}" for o in runs if not o.failed] == []
    assert [f"{o.rule} / {o.fault}: {o.wrong}" for o in runs if o.wrong] == []
    assert [f"{o.rule} / {o.fault}" for o in runs if o.cleaned_up] == []


def test_one_throttled_out_bucket_leaves_a_partial_run_with_the_others_sent(report):
    outcome = _outcome(report, "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC", THROTTLED_OUT, "s3", "GetBucketAcl")
    judged = [v for v in outcome.clean if v.resource_type == "AWS::S3::Bucket"]
    assert outcome.failed and "NotJudged" in str(outcome.error)
    assert set(outcome.accepted) < set(outcome.clean)
    assert len(outcome.accepted) == len(judged) - 1


def test_the_lambda_timeout_never_kills_a_run(report):
    runs = report.of_kind(DEADLINE)
    assert len(runs) == len(report.clean)
    assert [f"{o.rule}: {o.used_s:.2f} s of {o.timeout_s:.2f} s" for o in runs if o.used_s > o.timeout_s] == []
    assert [f"{o.rule}: {o.wrong}" for o in runs if o.wrong] == []
    cut = [o.rule for o in runs if o.failed]
    assert "CONFIG_ENABLED_ALL_REGIONS" in cut, "a run of 42 calls given the time of 25 is cut short"
    assert [f"{o.rule}: {o.error_text}" for o in runs if o.failed and not o.clear] == []


def test_no_false_compliant_under_any_fault(report):
    assert [f"{o.rule} / {o.fault}: {o.wrong}" for o in report.outcomes if o.false_compliant] == []


@pytest.mark.parametrize("kind", [*PERSISTENT, DEADLINE, FAILED_EVALUATIONS])
def test_every_failed_run_says_what_failed(report, kind):
    unclear = [f"{o.rule} / {o.fault}: {o.error_text}" for o in report.of_kind(kind) if o.failed and not o.clear]
    assert unclear == []


def test_faults_sit_below_botocore_retries(report):
    assert report.max_attempts > 1
    # Throttled out too: botocore retries throttling to the last attempt (the retry quota no
    # longer cuts it short, cis_rule._ThrottlingFreeQuota).
    retried = [o for kind in (SERVER_ERROR, CONNECTION, SECOND_PAGE, THROTTLED_OUT) for o in report.of_kind(kind)]
    assert [f"{o.rule} / {o.fault}: {o.retries_seen}" for o in retried if o.retries_seen != report.max_attempts] == []
    denied = report.of_kind(ACCESS_DENIED)
    assert [f"{o.rule} / {o.fault}: {o.retries_seen}" for o in denied if o.retries_seen != 1] == []


@pytest.mark.parametrize("kind", [ACCESS_DENIED, SERVER_ERROR])
def test_botocore_reads_each_services_own_error_code(report, kind):
    """The injected answers are in each service's wire format: the code the rule's error names
    is the service's own (IAM AccessDenied, EC2 UnauthorizedOperation, SNS AuthorizationError...)."""
    wrong = []
    for o in report.of_kind(kind):
        assert o.fault.operation is not None
        errors = SERVICES[o.fault.operation.service_id]
        code = (errors.access_denied if kind == ACCESS_DENIED else errors.server)[0]
        text = json.dumps(o.error.response) if isinstance(o.error, RuleFailed) else repr(o.error)
        text += " ".join(v.annotation for v in o.could_not)
        if f"({code})" not in text:
            wrong.append(f"{o.rule} / {o.fault}: {text[:160]}")
    assert wrong == []


def test_throttled_verdicts_equal_the_clean_run(report):
    throttled = report.of_kind(THROTTLING)
    assert len(throttled) == len(report.clean)
    assert [f"{o.rule}: {o.error_text or o.accepted}" for o in throttled if not o.identical] == []
    assert sum(o.injected for o in throttled) > 0.2 * sum(o.attempts for o in throttled)


def test_rejected_evaluations_fail_the_run_naming_the_rejection(report):
    runs = report.of_kind(FAILED_EVALUATIONS)
    assert sorted(o.rule for o in runs) == sorted(report.clean)
    assert [o.rule for o in runs if not o.rejected] == []
    assert [f"{o.rule}: {o.error_text}" for o in runs if not (o.failed and o.clear)] == []


def test_the_table_has_a_line_per_fault_kind(report):
    assert [row.kind for row in report.rows()] == list(KINDS)
    assert all(row.tried for row in report.rows())
    text = "\n".join(format_report(report))
    for kind in KINDS:
        assert f"\n{kind} " in text
