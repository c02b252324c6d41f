"""The scorecard of each CIS version (``./pack report --benchmark``): the same evaluations mapped to
that version's recommendations through its catalogue (pure, no AWS; the command offline)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cispack.catalog.versions import LATER, V120, benchmark
from cispack.cli.main import main
from cispack.report.demo import version_lines
from cispack.report.model import Compliance, Deployment, Evaluation, Verdict, pack_rule_for, pack_rules
from cispack.report.render import from_json, render, text, to_json
from cispack.report.samples import sample
from cispack.report.sources import read_account, read_aggregator
from cispack.report.versions import VERSIONS, rules_read, unchecked, version_scorecard

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
A = "111111111111"
DATA = Path(__file__).parent / "data"
SNAPSHOT = "scorecard-sample12-cis-3.0.0"
C, NC = "COMPLIANT", "NON_COMPLIANT"
# What docs/versions.md's comparison table says each later version's pack checks with a rule.
CHECKED_BY_A_RULE = {"cis-1.4.0": 53, "cis-3.0.0": 57, "cis-5.0.0": 58, "cis-6.0.0": 58}


def dep(rule, *verdicts, error=None):
    evaluations = [
        Evaluation("AWS::IAM::User", f"r-{n}", verdict, "", NOW - timedelta(hours=1))
        for n, verdict in enumerate(verdicts)
    ]
    return Deployment(A, "us-east-1", rule, rule, evaluations, error)


def card(name, *deployments, level=2):
    return version_scorecard(Compliance("test", [A], list(deployments), NOW), name, level)


def verdicts(scorecard_):
    return {r.control.id: r.verdict for r in scorecard_.controls}


def every_rule_compliant(name):
    """Every rule the version reads deployed and COMPLIANT; the v1.2.0 process checks reviewed."""
    return [dep(rule, C) for rule in rules_read((name,))] + [
        dep(rule.name, C) for rule in pack_rules().values() if rule.kind == "process check"
    ]


def two_rule_recommendation(name):
    return next(rec for rec in benchmark(name).recommendations if len(rec.rules) >= 2)


@pytest.mark.parametrize("name", LATER)
@pytest.mark.parametrize(
    ("case", "first", "second", "verdict"),
    [
        ("both-compliant", (C,), (C,), Verdict.COMPLIANT),
        ("second-non-compliant", (C,), (NC,), Verdict.NON_COMPLIANT),
        ("first-non-compliant", (NC,), (C,), Verdict.NON_COMPLIANT),
        ("second-not-deployed", (C,), None, Verdict.NO_DATA),
        ("second-in-error", (C,), "error", Verdict.ERROR),
    ],
)
def test_a_recommendation_checked_by_two_rules_takes_the_worse_verdict(name, case, first, second, verdict):
    rec = two_rule_recommendation(name)
    one, other = rec.rules[:2]
    deployments = [dep(one, *first)]
    if second == "error":
        deployments.append(dep(other, C, error="its last run failed with AccessDenied (not authorized)."))
    elif second is not None:
        deployments.append(dep(other, *second))
    result = {r.control.id: r for r in card(name, *deployments).controls}[rec.id]
    assert result.verdict == verdict
    assert result.rules == rec.rules


@pytest.mark.parametrize("name", LATER)
def test_a_process_check_is_never_passed(name):
    scorecard_ = card(name, *every_rule_compliant(name))
    process = unchecked(name)
    assert process, f"{name} has no recommendation without a rule"
    got = verdicts(scorecard_)
    for rec in benchmark(name).recommendations:
        if rec.rules:
            assert got[rec.id] == Verdict.COMPLIANT, rec.id
        else:
            assert got[rec.id] == Verdict.AWAITING_REVIEW, rec.id
    reason = {r.control.id: r.reason for r in scorecard_.controls}
    some = next(iter(process))
    assert reason[some].startswith(f"No rule checks {some} (") and reason[some].endswith("review it by hand.")


@pytest.mark.parametrize("name", LATER)
def test_counts_per_version_equal_the_catalogue(name):
    recs = benchmark(name).recommendations
    full = card(name, *every_rule_compliant(name))
    assert [r.control.id for r in full.controls] == [rec.id for rec in recs]
    assert [(r.control.title, r.control.level) for r in full.controls] == [(rec.title, rec.level) for rec in recs]
    assert full.score.passed == CHECKED_BY_A_RULE[name] == sum(1 for rec in recs if rec.rules)
    assert full.score.counts[Verdict.AWAITING_REVIEW] == len(recs) - CHECKED_BY_A_RULE[name] == len(unchecked(name))
    assert full.benchmark == name
    level_1 = card(name, *every_rule_compliant(name), level=1)
    assert len(level_1.controls) == sum(1 for rec in recs if rec.level == 1)
    # Automated-only score: the benchmark's Automated recommendations.
    assert full.scored_score.passed == sum(1 for rec in recs if rec.rules and rec.assessment == "Automated")


@pytest.mark.parametrize("name", LATER)
def test_each_evaluation_lands_on_every_recommendation_its_rule_checks(name):
    rule = "IAM_ROOT_ACCOUNT_UNUSED"
    expected = sorted(rec.id for rec in benchmark(name).recommendations if rule in rec.rules)
    rows = card(name, dep(rule, NC)).rows
    assert sorted(row.control for row in rows) == expected
    assert all(row.rule == rule for row in rows)


def test_v120_is_todays_scorecard_and_ignores_rules_of_later_versions():
    later_only = dep("IAM_USER_ONE_ACTIVE_ACCESS_KEY", NC)
    today = card(V120, dep("IAM_ROOT_ACCOUNT_UNUSED", NC))
    with_later = card(V120, dep("IAM_ROOT_ACCOUNT_UNUSED", NC), later_only)
    assert len(today.controls) == 49
    assert verdicts(today) == verdicts(with_later) and today.rows == with_later.rows
    assert verdicts(card("cis-3.0.0", later_only))["1.13"] == Verdict.NON_COMPLIANT


def test_the_rules_a_version_reads_include_those_only_later_versions_deploy():
    assert rules_read() == tuple(pack_rules())
    later = rules_read(("cis-3.0.0",))
    assert "IAM_USER_ONE_ACTIVE_ACCESS_KEY" in later and "IAM_PASSWORD_POLICY_LENGTH_AND_REUSE" in later
    assert "IAM_USER_ONE_ACTIVE_ACCESS_KEY" not in rules_read()
    suffixed = "IAM_USER_ONE_ACTIVE_ACCESS_KEY-conformance-pack-a1b2c3d4"
    assert pack_rule_for(suffixed) is None
    assert pack_rule_for(suffixed, later) == "IAM_USER_ONE_ACTIVE_ACCESS_KEY"
    assert set(rules_read(VERSIONS)) >= set(later) | set(pack_rules())


class _Pages:
    def __init__(self, pages):
        self.pages = pages

    def paginate(self, **kwargs):
        return self.pages(kwargs)


class _Config:
    """AWS Config with one deployed rule, answering the by-name reads of :func:`read_account`."""

    def __init__(self, deployed):
        self.deployed = deployed
        self.asked = []

    def get_paginator(self, operation):
        from botocore.exceptions import ClientError

        def pages(kwargs):
            name = kwargs.get("ConfigRuleName") or kwargs["ConfigRuleNames"][0]
            self.asked.append(name)
            if name != self.deployed:
                raise ClientError({"Error": {"Code": "NoSuchConfigRuleException"}}, operation)
            if operation == "describe_config_rule_evaluation_status":
                return [{"ConfigRulesEvaluationStatus": []}]
            item = {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {"ResourceType": "AWS::IAM::User", "ResourceId": "AIDA1"}
                },
                "ComplianceType": NC,
                "ResultRecordedTime": NOW,
            }
            return [{"EvaluationResults": [item]}]

        return _Pages(pages)


def test_reading_by_name_reads_the_rules_only_later_versions_deploy():
    config = _Config("IAM_USER_ONE_ACTIVE_ACCESS_KEY")
    compliance = read_account(lambda _s, _r: config, "us-east-1", account_id=A, benchmarks=("cis-3.0.0",))
    assert [d.rule for d in compliance.deployments] == ["IAM_USER_ONE_ACTIVE_ACCESS_KEY"]
    assert verdicts(version_scorecard(compliance, "cis-3.0.0"))["1.13"] == Verdict.NON_COMPLIANT
    config = _Config("IAM_USER_ONE_ACTIVE_ACCESS_KEY")
    assert read_account(lambda _s, _r: config, "us-east-1", account_id=A).deployments == []
    assert "IAM_USER_ONE_ACTIVE_ACCESS_KEY" not in config.asked


class _Aggregator:
    """An aggregator listing one later-only rule of a v3.0.0 conformance pack, non-compliant."""

    rule = "IAM_USER_ONE_ACTIVE_ACCESS_KEY-conformance-pack-a1b2c3d4"

    def get_paginator(self, operation):
        def pages(kwargs):
            if operation == "describe_aggregate_compliance_by_config_rules":
                item = {
                    "ConfigRuleName": self.rule,
                    "AccountId": A,
                    "AwsRegion": "us-east-1",
                    "Compliance": {"ComplianceType": NC},
                }
                return [{"AggregateComplianceByConfigRules": [item]}]
            assert kwargs["ConfigRuleName"] == self.rule
            if kwargs["ComplianceType"] != NC:
                return [{"AggregateEvaluationResults": []}]
            result = {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {"ResourceType": "AWS::IAM::User", "ResourceId": "AIDA1"}
                },
                "ComplianceType": NC,
                "ResultRecordedTime": NOW,
            }
            return [{"AggregateEvaluationResults": [result]}]

        return _Pages(pages)


def test_an_aggregator_is_read_for_the_rules_of_the_version_asked():
    later = read_aggregator(lambda _s, _r: _Aggregator(), "us-east-1", "org", benchmarks=("cis-3.0.0",))
    assert [(d.rule, d.pack_rule) for d in later.deployments] == [(_Aggregator.rule, "IAM_USER_ONE_ACTIVE_ACCESS_KEY")]
    assert verdicts(version_scorecard(later, "cis-3.0.0"))["1.13"] == Verdict.NON_COMPLIANT
    assert read_aggregator(lambda _s, _r: _Aggregator(), "us-east-1", "org").deployments == []


@pytest.fixture(scope="module")
def sample_30():
    return version_scorecard(sample(12), "cis-3.0.0")


def _controls_json(body):
    """The JSON snapshot: everything but the per-resource evaluations (counted) and per-account cells."""
    document = json.loads(body)
    document["evaluations"] = len(document["evaluations"])
    for control in document["controls"]:
        del control["accounts"]
    return json.dumps(document, indent=1) + "\n"


def test_sample_12_as_v3_0_0_is_the_snapshot(sample_30):
    """Regenerate after a deliberate change: ``./pack report --sample 12 --benchmark cis-3.0.0 >
    tests/data/scorecard-sample12-cis-3.0.0.txt`` (and the same with --format json, trimmed as here)."""
    assert text(sample_30) == (DATA / f"{SNAPSHOT}.txt").read_text(encoding="utf-8")
    assert _controls_json(to_json(sample_30)) == (DATA / f"{SNAPSHOT}.json").read_text(encoding="utf-8")


def test_the_command_maps_the_sample_and_reads_its_json_back(sample_30, tmp_path, capsys):
    written = tmp_path / "v3.json"
    assert (
        main(["report", "--sample", "12", "--benchmark", "cis-3.0.0", "--format", "json", "--out", str(written)]) == 0
    )
    document = json.loads(written.read_text())
    assert document["benchmark"] == "CIS Amazon Web Services Foundations Benchmark v3.0.0"
    assert from_json(written.read_text()).benchmark == "cis-3.0.0"
    capsys.readouterr()
    assert main(["report", "--from", str(written)]) == 0
    assert capsys.readouterr().out == text(sample_30)
    assert main(["report", "--from", str(written), "--benchmark", "cis-3.0.0", "--level", "1"]) == 0
    assert capsys.readouterr().out == text(sample_30.at_level(1))
    assert main(["report", "--from", str(written), "--benchmark", "cis-5.0.0"]) == 2
    assert capsys.readouterr().err == (
        "report: the scorecard holds CIS v3.0.0 recommendations, not v5.0.0: "
        "map the evaluations again with ./pack report --benchmark cis-5.0.0.\n"
    )


@pytest.mark.parametrize("name", LATER)
def test_every_format_names_the_version(name, capsys):
    title = f"CIS Amazon Web Services Foundations Benchmark v{name.removeprefix('cis-')}: scorecard"
    for fmt in ("text", "html"):
        assert main(["report", "--sample", "12", "--benchmark", name, "--format", fmt]) == 0
        assert title in capsys.readouterr().out
    page = render(version_scorecard(sample(12), name), "html")
    assert "None in this version's pack: the Remediate actions are the v1.2.0 pack's" in page
    assert "Automated-only" in page and "Scored-only" not in page
    assert main(["report", "--sample", "12", "--benchmark", name, "--format", "csv"]) == 0
    controls = {line.split(",")[2] for line in capsys.readouterr().out.splitlines()[1:]}
    assert controls <= {rec.id for rec in benchmark(name).recommendations}


def test_the_demo_prints_one_score_line_per_version():
    compliance = Compliance("demo", [A], [dep("IAM_ROOT_ACCOUNT_UNUSED", NC), dep("ACCESS_KEYS_ROTATED", C)], NOW)
    lines = version_lines(compliance)
    assert lines[0].startswith("Score per CIS version")
    assert [line.split()[0] for line in lines[1:]] == ["v1.2.0", "v1.4.0", "v3.0.0", "v5.0.0", "v6.0.0"]
    for name, line in zip(VERSIONS, lines[1:], strict=True):
        scorecard_ = version_scorecard(compliance, name)
        assert f"{len(scorecard_.controls)} recommendations: Score {scorecard_.score.text()}: " in line
    # The root user's use is checked in every version; key rotation too.
    assert all("1 passed of 2 judged (1 failed)" in line for line in lines[1:])
