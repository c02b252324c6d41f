"""The demo's scorecard: the rules' results read back through AWS Config's API, every call
answered by the local Config seam (the demo's local AWS has stopped by then)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from cispack.local.aws import LocalAws
from cispack.report import demo
from cispack.report.model import Verdict


def outcome(rule, evaluations=(), error=None):
    return SimpleNamespace(rule=SimpleNamespace(name=rule), evaluations=list(evaluations), error=error)


def account_evaluation(compliance, annotation=""):
    return {
        "ComplianceResourceType": "AWS::::Account",
        "ComplianceResourceId": "123456789012",
        "ComplianceType": compliance,
        "Annotation": annotation,
        "OrderingTimestamp": "2026-11-30T10:00:00+00:00",
    }


def test_demo_scorecard_reads_the_results_back(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "DEMO_REPORT_DIR", tmp_path / "build-demo")
    outcomes = [
        outcome(
            "IAM_ROOT_ACCOUNT_UNUSED", [account_evaluation("NON_COMPLIANT", "The root user signed in 2 days ago.")]
        ),
        outcome("METRIC_FILTER_ALARM_VPC_CHANGES", [account_evaluation("COMPLIANT")]),
        outcome("CONFIG_ENABLED_ALL_REGIONS", error="AccessDenied when calling DescribeConfigurationRecorders."),
    ]
    managed = [SimpleNamespace(name="IAM_PASSWORD_POLICY")]
    # Nothing listens on port 9: a call the seam did not answer would fail, never reach AWS.
    aws = LocalAws("http://127.0.0.1:9", "us-east-1")
    card = demo.demo_scorecard(outcomes, managed, "123456789012", aws, tmp_path / "work", print)
    got = {r.control.id: r.verdict for r in card.controls}
    assert got["1.1"] == Verdict.NON_COMPLIANT
    assert got["3.14"] == Verdict.COMPLIANT
    assert got["2.5"] == Verdict.ERROR
    assert got["1.5"] == Verdict.NO_DATA  # a managed rule: deployed, not evaluated locally
    assert got["4.4"] == Verdict.NO_DATA  # not deployed
    assert got["1.15"] == Verdict.AWAITING_REVIEW
    for folder in (tmp_path / "work", tmp_path / "build-demo"):
        assert (folder / "scorecard.html").read_text().startswith("<!doctype html>")
        document = json.loads((folder / "scorecard.json").read_text())
        assert document["score"]["passed"] == 1 and document["score"]["failed"] == 2
    printed = capsys.readouterr().out
    assert "Score 33%: 1 passed of 3 judged (2 failed, 1 of them in error)" in printed
    # One line per CIS version from the same run; 1.1's rule is v1.4.0's 1.7 and v6.0.0's 2.7.
    versions = printed.split("Score per CIS version, from the same evaluations")[1].splitlines()[1:6]
    assert [line.split()[0] for line in versions] == ["v1.2.0", "v1.4.0", "v3.0.0", "v5.0.0", "v6.0.0"]
    assert "v1.2.0  49 recommendations: Score 33%" in versions[0]
    assert "The root user signed in 2 days ago." in (tmp_path / "work" / "scorecard.html").read_text()
    assert "Scorecard written: " in printed
