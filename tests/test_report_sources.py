"""The report's three sources on the local AWS (moto in-process), with the local Config seam
answering what moto lacks: one account by the pack's rule names, one account by conformance pack,
and an organisation aggregator. Each pages through every API it calls."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from cispack.cli.cmd_report import run
from cispack.local.config import AggregatorLedger, ComplianceLedger, observe, pack_rule_suffix, respond
from cispack.report import sources
from cispack.report.model import Verdict, scorecard
from cispack.report.sources import SourceError, read_account, read_aggregator

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
REGION = "us-east-1"


def clients(service, region):
    return boto3.client(service, region_name=region)


def evaluation(resource_id, compliance, annotation="", resource_type="AWS::::Account"):
    item = {
        "ComplianceResourceType": resource_type,
        "ComplianceResourceId": resource_id,
        "ComplianceType": compliance,
        "OrderingTimestamp": datetime.now(UTC),
    }
    if annotation:
        item["Annotation"] = annotation
    return item


def managed_rule(name):
    boto3.client("config").put_config_rule(
        ConfigRule={"ConfigRuleName": name, "Source": {"Owner": "AWS", "SourceIdentifier": name}}
    )


@pytest.fixture
def ledger(aws):
    ledger = ComplianceLedger().install()
    yield ledger
    ledger.uninstall()


def verdicts(card):
    return {r.control.id: r.verdict for r in card.controls}


def test_rules_by_name(ledger):
    """Managed rules created in moto, custom ones known to the seam; one in error, one never run."""
    managed_rule("IAM_PASSWORD_POLICY")
    managed_rule("ROOT_ACCOUNT_MFA_ENABLED")
    managed_rule("MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS")
    ledger.record("IAM_PASSWORD_POLICY", [evaluation(ACCOUNT, "NON_COMPLIANT", "Password policy lacks symbols.")])
    ledger.record("ROOT_ACCOUNT_MFA_ENABLED", [evaluation(ACCOUNT, "COMPLIANT")])
    ledger.record(
        "MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS", [evaluation("AIDA1", "COMPLIANT", resource_type="AWS::IAM::User")]
    )
    ledger.record_failure("MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS", "AccessDenied", "Config could not read IAM.")
    ledger.record("IAM_ROOT_ACCOUNT_UNUSED", [evaluation(ACCOUNT, "COMPLIANT")])
    ledger.deploy("VPC_PEERING_ROUTES_LEAST_ACCESS")
    with observe("config", "GetComplianceDetailsByConfigRule") as detail_calls:
        compliance = read_account(clients, REGION)
    assert compliance.accounts == [ACCOUNT]
    assert sorted(d.rule for d in compliance.deployments) == [
        "IAM_PASSWORD_POLICY",
        "IAM_ROOT_ACCOUNT_UNUSED",
        "MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS",
        "ROOT_ACCOUNT_MFA_ENABLED",
        "VPC_PEERING_ROUTES_LEAST_ACCESS",
    ]
    # Rules Config does not know are never asked for their resources.
    assert len(detail_calls) == 5
    card = scorecard(compliance)
    got = verdicts(card)
    assert {got[c] for c in ("1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11")} == {Verdict.NON_COMPLIANT}
    assert got["1.13"] == Verdict.COMPLIANT
    assert got["1.2"] == Verdict.ERROR  # compliant results, but the last run failed
    assert got["1.1"] == Verdict.COMPLIANT
    assert got["4.4"] == Verdict.NO_DATA  # deployed, never evaluated
    assert got["2.1"] == Verdict.NO_DATA  # not deployed
    assert got["1.15"] == got["1.17"] == Verdict.AWAITING_REVIEW
    assert card.score.passed == 2 and card.score.failed == 8  # 1.5-1.11 fail, 1.2 in error
    (row,) = [r for r in card.rows if r.control == "1.9"]
    assert (row.rule, row.compliance, row.annotation) == (
        "IAM_PASSWORD_POLICY",
        "NON_COMPLIANT",
        "Password policy lacks symbols.",
    )


def test_rules_by_name_pages_through_resources(ledger, monkeypatch):
    monkeypatch.setattr(sources, "DETAILS_PAGE", 3)
    users = [evaluation(f"AIDA{n:03}", "COMPLIANT", resource_type="AWS::IAM::User") for n in range(10)]
    users[7]["ComplianceType"] = "NON_COMPLIANT"
    ledger.record("IAM_USER_NO_POLICIES_CHECK", users)
    with observe("config", "GetComplianceDetailsByConfigRule") as calls:
        compliance = read_account(clients, REGION)
    assert len([c for c in calls if c["ConfigRuleName"] == "IAM_USER_NO_POLICIES_CHECK"]) == 4
    (deployment,) = compliance.deployments
    assert len(deployment.evaluations) == 10
    result = {r.control.id: r for r in scorecard(compliance).controls}["1.16"]
    assert (result.verdict, result.non_compliant) == (Verdict.NON_COMPLIANT, 1)


def test_conformance_pack(ledger):
    config = boto3.client("config")
    config.put_conformance_pack(
        ConformancePackName="cis-aws-foundations-v1-2-0",
        TemplateBody=(ROOT / "conformance-pack.yaml").read_text(),
        ConformancePackInputParameters=[{"ParameterName": "ProfileLevel", "ParameterValue": "2"}],
    )
    suffix = pack_rule_suffix("cis-aws-foundations-v1-2-0")
    ledger.record("IAM_PASSWORD_POLICY" + suffix, [evaluation(ACCOUNT, "COMPLIANT")])
    ledger.record(
        "INCOMING_SSH_DISABLED" + suffix,
        [evaluation("sg-1", "NOT_APPLICABLE", resource_type="AWS::EC2::SecurityGroup")],
    )
    ledger.record(
        "ACCOUNT_CONTACT_DETAILS_CURRENT" + suffix,
        [evaluation(ACCOUNT, "COMPLIANT", "Reviewed by J. Doe: billing alias and on-call hunt group.")],
    )
    ledger.record("METRIC_FILTER_ALARM_VPC_CHANGES" + suffix, [evaluation(ACCOUNT, "NON_COMPLIANT", "No alarm.")])
    # Older results of a periodic custom rule that has recorded nothing for three days.
    ledger.record(
        "METRIC_FILTER_ALARM_ROUTE_TABLE_CHANGES" + suffix,
        [evaluation(ACCOUNT, "COMPLIANT")],
        at=datetime.now(UTC) - timedelta(days=3),
    )
    card = scorecard(read_account(clients, REGION, conformance_pack="cis-aws-foundations-v1-2-0"))
    got = verdicts(card)
    assert got["1.5"] == got["1.11"] == Verdict.COMPLIANT
    assert got["4.1"] == Verdict.NOT_APPLICABLE
    assert got["1.17"] == Verdict.COMPLIANT  # a reviewer's recorded evaluation
    assert got["1.15"] == Verdict.AWAITING_REVIEW
    assert got["3.14"] == Verdict.NON_COMPLIANT
    assert got["3.13"] == Verdict.ERROR
    assert got["2.9"] == Verdict.NO_DATA  # deployed at Level 2, never evaluated
    assert {r.rule for r in card.rows if r.control == "1.5"} == {"IAM_PASSWORD_POLICY" + suffix}
    assert "3.13" in {r.control.id for r in card.controls if "recorded since" in r.reason}


def test_conformance_pack_missing(ledger):
    with pytest.raises(SourceError, match="No conformance pack named nope in account 123456789012, region us-east-1"):
        read_account(clients, REGION, conformance_pack="nope")


@pytest.fixture
def org(aws):
    org = AggregatorLedger().install()
    boto3.client("config").put_configuration_aggregator(
        ConfigurationAggregatorName="cis-aws-foundations-organization",
        OrganizationAggregationSource={"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/aggregator", "AllAwsRegions": True},
    )
    yield org
    org.uninstall()


def test_aggregator_every_account_and_region(org, monkeypatch):
    monkeypatch.setattr(sources, "AGGREGATE_PAGE", 3)
    monkeypatch.setattr(sources, "DETAILS_PAGE", 2)
    suffix = pack_rule_suffix("cis-aws-foundations-v1-2-0")
    good, bad, quiet = "111111111111", "222222222222", "333333333333"
    for account in (good, bad):
        home = org.member(account, "us-east-1")
        home.record("IAM_PASSWORD_POLICY" + suffix, [evaluation(account, "COMPLIANT")])
        for region in ("us-east-1", "eu-west-1"):
            groups = [evaluation(f"sg-{n}", "COMPLIANT", resource_type="AWS::EC2::SecurityGroup") for n in range(5)]
            org.member(account, region).record("INCOMING_SSH_DISABLED" + suffix, groups)
    org.member(bad, "eu-west-1").record(
        "INCOMING_SSH_DISABLED" + suffix,
        [
            evaluation(
                "sg-open",
                "NON_COMPLIANT",
                "Security group sg-open allows 0.0.0.0/0 to port 22.",
                "AWS::EC2::SecurityGroup",
            )
        ],
    )
    org.member(quiet, "us-east-1").deploy("SOME_OTHER_RULE")  # an account where the pack is not deployed
    org.member(quiet, "us-east-1").deploy("IAM_PASSWORD_POLICY" + suffix)  # and a rule never evaluated
    with observe("config", "DescribeAggregateComplianceByConfigRules") as listing_calls:
        compliance = read_aggregator(clients, REGION, "cis-aws-foundations-organization")
    assert len(listing_calls) == 3  # 8 entries, 3 per page
    assert compliance.accounts == [good, bad, quiet]
    card = scorecard(compliance)
    ssh = {r.control.id: r for r in card.controls}["4.1"]
    assert ssh.cells[good].verdict == Verdict.COMPLIANT
    assert (ssh.cells[bad].verdict, ssh.cells[bad].non_compliant) == (Verdict.NON_COMPLIANT, 1)
    assert ssh.cells[quiet].verdict == Verdict.NO_DATA
    assert ssh.verdict == Verdict.NON_COMPLIANT
    policy = {r.control.id: r for r in card.controls}["1.9"]
    assert [policy.cells[a].verdict for a in (good, bad, quiet)] == [
        Verdict.COMPLIANT,
        Verdict.COMPLIANT,
        Verdict.NO_DATA,
    ]
    assert policy.verdict == Verdict.NO_DATA  # never compliant while one account has no evaluation
    rows = [r for r in card.rows if r.control == "4.1" and r.account == bad]
    assert len(rows) == 11 and {r.region for r in rows} == {"us-east-1", "eu-west-1"}
    assert any("no evaluation status" in note for note in card.notes)


def test_aggregator_non_compliant_evidence_only(org):
    suffix = pack_rule_suffix("p")
    org.member("111111111111", "us-east-1").record("ROOT_ACCOUNT_MFA_ENABLED" + suffix, [evaluation("a", "COMPLIANT")])
    org.member("111111111111", "us-east-1").record("ACCESS_KEYS_ROTATED" + suffix, [evaluation("u", "NON_COMPLIANT")])
    with observe("config", "GetAggregateComplianceDetailsByConfigRule") as calls:
        compliance = read_aggregator(clients, REGION, "cis-aws-foundations-organization", evidence="non-compliant")
    assert [c["ComplianceType"] for c in calls] == ["NON_COMPLIANT"]
    got = verdicts(scorecard(compliance))
    assert got["1.13"] == Verdict.COMPLIANT  # by Config's own summary
    assert got["1.4"] == Verdict.NON_COMPLIANT


def test_aggregator_missing(org):
    with pytest.raises(SourceError, match="No configuration aggregator named nope in us-east-1"):
        read_aggregator(clients, REGION, "nope")


@pytest.mark.parametrize(
    ("argv", "operation"),
    [
        (["--conformance-pack", "cis"], "DescribeConformancePackCompliance"),
        ([], "DescribeConfigRuleEvaluationStatus"),
        (["--aggregator", "org"], "DescribeAggregateComplianceByConfigRules"),
    ],
    ids=["pack", "rules", "aggregator"],
)
def test_command_access_denied_is_one_sentence_and_no_report(aws, capsys, argv, operation):
    import argparse

    from cispack.cli.cmd_report import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["report", "--region", REGION, *argv])
    session = boto3.Session()
    with respond(
        "config", operation, error="AccessDeniedException", message="Not authorized.", status=403, session=session
    ):
        assert run(args, session) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"report: AWS refused {operation}: AccessDeniedException (Not authorized).\n"


def test_command_writes_each_format(aws, tmp_path, capsys):
    import argparse

    from cispack.cli.cmd_report import register

    session = boto3.Session()
    ledger = ComplianceLedger().install(session)
    ledger.record("IAM_ROOT_ACCOUNT_UNUSED", [evaluation(ACCOUNT, "NON_COMPLIANT", "Root used 2 days ago.")])
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    for fmt in ("text", "json", "csv", "html"):
        out = tmp_path / f"report.{fmt}"
        assert run(parser.parse_args(["report", "--region", REGION, "--format", fmt, "--out", str(out)]), session) == 0
    assert "Root used 2 days ago." in (tmp_path / "report.csv").read_text()
    assert json.loads((tmp_path / "report.json").read_text())["controls"][0]["verdict"] == "non-compliant"
    assert run(parser.parse_args(["report", "--region", REGION, "--level", "1"]), session) == 0
    text = capsys.readouterr().out
    assert "1.1     1   yes    non-compliant" in text and "\n1.14 " not in text
    assert io.StringIO(text).readline().startswith("CIS Amazon Web Services Foundations Benchmark v1.2.0")


def test_command_reads_several_regions_of_one_account_as_one(aws, capsys):
    import argparse

    from cispack.cli.cmd_report import register

    session = boto3.Session()
    ledger = ComplianceLedger().install(session)
    ledger.record("METRIC_FILTER_ALARM_VPC_CHANGES", [evaluation(ACCOUNT, "NON_COMPLIANT", "No alarm.")])
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["report", "--region", "us-east-1,eu-west-1", "--format", "json"])
    assert run(args, session) == 0
    document = json.loads(capsys.readouterr().out)
    rows = [r for r in document["evaluations"] if r["control"] == "3.14"]
    assert sorted(r["region"] for r in rows) == ["eu-west-1", "us-east-1"]
    (control,) = [c for c in document["controls"] if c["id"] == "3.14"]
    assert (control["verdict"], control["non_compliant_resources"]) == ("non-compliant", 1)
    assert document["accounts"] == [ACCOUNT]
    refused = parser.parse_args(["report", "--region", "us-east-1,eu-west-1", "--aggregator", "org"])
    assert run(refused, session) == 2
    assert capsys.readouterr().err == "report: --aggregator reads one region, the aggregator's home region.\n"
