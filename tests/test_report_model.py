"""The scorecard's verdicts, decided from what AWS Config reported (pure: no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cispack.catalog.recommendations import CONTROLS
from cispack.report.model import (
    Compliance,
    Deployment,
    Evaluation,
    Verdict,
    pack_rule_for,
    pack_rules,
    rules_of,
    scorecard,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
A, B = "111111111111", "222222222222"
C, NC, NA = "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"


def ev(compliance, resource="r-1", age_hours=1.0, annotation=""):
    return Evaluation("AWS::IAM::User", resource, compliance, annotation, NOW - timedelta(hours=age_hours))


def dep(rule, *evaluations, region="us-east-1", account=A, error=None, summary=None):
    return Deployment(account, region, rule, rule, list(evaluations), error, summary)


def card(*deployments, accounts=(A,), level=2):
    return scorecard(Compliance("test", list(accounts), list(deployments), NOW), level)


def result(scorecard_, control_id):
    return {r.control.id: r for r in scorecard_.controls}[control_id]


# CIS 1.16 has one managed rule triggered by changes only (no age check); 1.1 a daily custom rule.
POLICIES = "IAM_USER_NO_POLICIES_CHECK"
ROOT_UNUSED = "IAM_ROOT_ACCOUNT_UNUSED"


@pytest.mark.parametrize(
    ("case", "deployments", "verdict", "non_compliant"),
    [
        ("not-deployed", [], Verdict.NO_DATA, 0),
        ("deployed-no-evaluation", [dep(POLICIES)], Verdict.NO_DATA, 0),
        ("compliant", [dep(POLICIES, ev(C))], Verdict.COMPLIANT, 0),
        ("compliant-but-rule-in-error", [dep(POLICIES, ev(C), error="AccessDenied.")], Verdict.ERROR, 0),
        ("error-without-results", [dep(POLICIES, error="AccessDenied.")], Verdict.ERROR, 0),
        ("non-compliant-wins-over-error", [dep(POLICIES, ev(NC), error="AccessDenied.")], Verdict.NON_COMPLIANT, 1),
        ("all-not-applicable", [dep(POLICIES, ev(NA), ev(NA, "r-2"))], Verdict.NOT_APPLICABLE, 0),
        ("compliant-and-not-applicable", [dep(POLICIES, ev(C), ev(NA, "r-2"))], Verdict.COMPLIANT, 0),
        (
            "one-region-without-evaluation",
            [dep(POLICIES, ev(C)), dep(POLICIES, region="eu-west-1")],
            Verdict.NO_DATA,
            0,
        ),
        (
            "one-region-non-compliant",
            [dep(POLICIES, ev(C)), dep(POLICIES, ev(NC, "r-9"), region="eu-west-1")],
            Verdict.NON_COMPLIANT,
            1,
        ),
        ("summary-compliant", [dep(POLICIES, summary=C)], Verdict.COMPLIANT, 0),
        ("summary-non-compliant", [dep(POLICIES, summary=NC)], Verdict.NON_COMPLIANT, 1),
        (
            "resource-counted-once",
            [dep(POLICIES, ev(NC)), dep(POLICIES, ev(NC), region="eu-west-1")],
            Verdict.NON_COMPLIANT,
            1,
        ),
        (
            "three-resources",
            [dep(POLICIES, ev(NC, "a"), ev(NC, "b"), ev(NC, "c"), ev(C, "d"))],
            Verdict.NON_COMPLIANT,
            3,
        ),
    ],
)
def test_one_control_in_one_account(case, deployments, verdict, non_compliant):
    got = result(card(*deployments), "1.16")
    assert (got.verdict, got.non_compliant) == (verdict, non_compliant)
    assert got.cells[A].verdict == verdict
    assert got.reason.endswith(".")


@pytest.mark.parametrize(
    ("case", "evaluations", "verdict"),
    [
        ("fresh", [ev(C, age_hours=47)], Verdict.COMPLIANT),
        ("older-than-twice-its-period", [ev(C, age_hours=49)], Verdict.ERROR),
        ("newest-counts", [ev(C, "a", age_hours=200), ev(C, "b", age_hours=3)], Verdict.COMPLIANT),
        ("old-failure-still-fails", [ev(NC, age_hours=100)], Verdict.NON_COMPLIANT),
        ("no-time-no-age-check", [Evaluation("AWS::::Account", A, C)], Verdict.COMPLIANT),
    ],
)
def test_a_periodic_rule_that_stopped_recording_is_in_error(case, evaluations, verdict):
    got = result(card(dep(ROOT_UNUSED, *evaluations)), "1.1")
    assert got.verdict == verdict
    if verdict == Verdict.ERROR:
        assert "although it runs every 24 hours" in got.reason


def test_a_rule_changed_only_by_configuration_has_no_age_check():
    assert result(card(dep(POLICIES, ev(C, age_hours=24 * 90))), "1.16").verdict == Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("case", "deployments", "verdict"),
    [
        ("not-deployed", [], Verdict.AWAITING_REVIEW),
        ("deployed-not-reviewed", [dep("SECURITY_CHALLENGE_QUESTIONS_REGISTERED")], Verdict.AWAITING_REVIEW),
        ("reviewed-compliant", [dep("SECURITY_CHALLENGE_QUESTIONS_REGISTERED", ev(C))], Verdict.COMPLIANT),
        ("reviewed-non-compliant", [dep("SECURITY_CHALLENGE_QUESTIONS_REGISTERED", ev(NC))], Verdict.NON_COMPLIANT),
        ("reviewed-not-applicable", [dep("SECURITY_CHALLENGE_QUESTIONS_REGISTERED", ev(NA))], Verdict.NOT_APPLICABLE),
        (
            "a-review-months-old-still-stands",
            [dep("SECURITY_CHALLENGE_QUESTIONS_REGISTERED", ev(C, age_hours=24 * 200))],
            Verdict.COMPLIANT,
        ),
    ],
)
def test_process_checks_await_a_reviewer(case, deployments, verdict):
    assert result(card(*deployments), "1.15").verdict == verdict
    assert result(card(*deployments), "1.17").verdict == Verdict.AWAITING_REVIEW


def test_password_policy_rule_decides_seven_controls_each_counted_once():
    got = card(dep("IAM_PASSWORD_POLICY", Evaluation("AWS::::Account", A, NC, "No symbol required.", NOW)))
    controls = ["1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11"]
    assert [result(got, c).verdict for c in controls] == [Verdict.NON_COMPLIANT] * 7
    assert [result(got, c).non_compliant for c in controls] == [1] * 7
    assert got.score.failed == 7 and got.score.passed == 0
    assert [r.control for r in got.rows] == controls  # one evidence row per control


def test_several_regions_and_rules_count_a_control_once():
    got = card(
        dep("METRIC_FILTER_ALARM_VPC_CHANGES", ev(C)),
        dep("METRIC_FILTER_ALARM_VPC_CHANGES", ev(C, "r-2"), region="eu-west-1"),
        dep("IAM_PASSWORD_POLICY", ev(C)),
    )
    assert got.score.passed == 8  # 3.14 once, and 1.5-1.11
    assert got.score.counts[Verdict.COMPLIANT] == 8


@pytest.mark.parametrize(
    ("case", "cells", "verdict"),
    [
        ("one-fails", [ev(C), ev(NC)], Verdict.NON_COMPLIANT),
        ("one-without-data", [ev(C), None], Verdict.NO_DATA),
        ("compliant-and-not-applicable", [ev(C), ev(NA)], Verdict.COMPLIANT),
        ("all-not-applicable", [ev(NA), ev(NA)], Verdict.NOT_APPLICABLE),
        ("all-compliant", [ev(C), ev(C)], Verdict.COMPLIANT),
    ],
)
def test_across_accounts_a_control_passes_only_where_it_passes_everywhere(case, cells, verdict):
    deployments = [
        dep(POLICIES, *([e] if e else []), account=account) for account, e in zip((A, B), cells, strict=True)
    ]
    got = result(card(*deployments, accounts=(A, B)), "1.16")
    assert got.verdict == verdict
    assert got.reason.startswith(f"{verdict.value} in ") and got.reason.endswith(" of 2 accounts.")


def test_error_in_one_account_makes_the_control_error():
    got = result(card(dep(POLICIES, ev(C)), dep(POLICIES, ev(C), account=B, error="x."), accounts=(A, B)), "1.16")
    assert (got.verdict, got.cells[A].verdict, got.cells[B].verdict) == (
        Verdict.ERROR,
        Verdict.COMPLIANT,
        Verdict.ERROR,
    )


def test_score_and_level():
    deployments = [dep(POLICIES, ev(C)), dep("ROOT_ACCOUNT_MFA_ENABLED", ev(NC)), dep("VPC_FLOW_LOGS_ENABLED", ev(C))]
    every = card(*deployments)
    assert len(every.controls) == 49
    assert (every.score.passed, every.score.failed, every.score.percent) == (2, 1, pytest.approx(66.666, 0.01))
    level1 = card(*deployments, level=1)
    assert len(level1.controls) == sum(c.level == 1 for c in CONTROLS)
    assert "2.9" not in {r.control.id for r in level1.controls}
    assert (level1.score.passed, level1.score.failed) == (1, 1)
    assert every.score_for(1).percent == level1.score.percent == 50.0
    assert {r.control for r in level1.rows} == {"1.16", "1.13"}


def test_nothing_judged_has_no_score():
    assert card().score.percent is None
    assert card().score.text() == "n/a"


def test_bad_level():
    with pytest.raises(ValueError, match="level must be 1 or 2"):
        card(level=3)


@pytest.mark.parametrize(
    ("name", "pack_rule"),
    [
        ("IAM_PASSWORD_POLICY", "IAM_PASSWORD_POLICY"),
        ("IAM_PASSWORD_POLICY-conformance-pack-ab12cd34", "IAM_PASSWORD_POLICY"),
        ("ACCOUNT_CONTACT_DETAILS_CURRENT-conformance-pack-0x9y8z7w", "ACCOUNT_CONTACT_DETAILS_CURRENT"),
        ("IAM_PASSWORD_POLICY-extra", None),
        ("iam-password-policy", None),
        ("OTHER-conformance-pack-ab12cd34", None),
    ],
)
def test_config_rule_names_map_to_the_pack(name, pack_rule):
    assert pack_rule_for(name) == pack_rule


def test_every_control_has_a_rule_in_the_catalogue():
    assert all(rules_of(c.id) for c in CONTROLS)
    assert rules_of("1.9") == ("IAM_PASSWORD_POLICY",)
    assert pack_rules()["ACCOUNT_CONTACT_DETAILS_CURRENT"].kind == "process check"
    assert pack_rules()[ROOT_UNUSED].period_hours == 24
    assert pack_rules()[POLICIES].period_hours is None


def test_level_1_of_a_level_2_scorecard_is_the_level_1_scorecard():
    from cispack.report.samples import sample

    compliance = sample(12)
    level2, level1 = scorecard(compliance, 2), scorecard(compliance, 1)
    narrowed = level2.at_level(1)
    assert narrowed == level1
    assert narrowed.score == level2.score_for(1) and narrowed.spread() == level1.spread()
    assert [a for a, _ in narrowed.ranking()] == [a for a, _ in level1.ranking()]
    with pytest.raises(ValueError, match="cannot show Level 2"):
        level1.at_level(2)


def test_failing_accounts_counts_non_compliant_and_error_cells():
    c = card(
        dep(POLICIES, ev(NC), account=A),
        dep(POLICIES, ev(C), account=B, error="AccessDenied."),
        accounts=(A, B, "333333333333"),
    )
    assert c.failing_accounts(result(c, "1.16")) == 2
