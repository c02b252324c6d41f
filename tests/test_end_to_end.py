"""End to end on a local AWS: moto_server, `rdk init` and `rdk deploy --all` from rules/, one Lambda
per custom rule, each invoked from the zip rdk uploaded, as `./pack demo` does."""

from __future__ import annotations

import json

import pytest

from cispack.catalog.rules import custom_rules
from cispack.local.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    lines: list[str] = []
    outcomes = run_demo(work, say=lines.append)
    return work, outcomes, "\n".join(lines)


def test_every_custom_rule_deployed_and_evaluated_without_error(demo):
    work, outcomes, _ = demo
    assert sorted(o.rule.name for o in outcomes) == sorted(r.name for r in custom_rules())
    errors = {o.rule.name: o.error for o in outcomes if o.error}
    assert errors == {}
    assert all(o.evaluations for o in outcomes), "every custom rule has something to judge in the demo account"
    assert json.loads((work / "results.json").read_text()).keys() == {o.rule.name for o in outcomes}


def test_lambdas_run_python312_from_the_uploaded_zip(demo):
    work, _, _ = demo
    log = (work / "rdk-deploy.log").read_text()
    for rule in custom_rules():
        assert (work / rule.name / f"{rule.name}.py").is_file()
        assert rule.name in log


def test_seeded_verdicts(demo):
    _, outcomes, text = demo
    by_rule = {o.rule.name: o for o in outcomes}
    root = by_rule["IAM_ROOT_ACCOUNT_UNUSED"].evaluations
    assert [e["ComplianceType"] for e in root] == ["NON_COMPLIANT"]
    users = by_rule["IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS"].evaluations
    assert sorted(e["ComplianceType"] for e in users) == ["COMPLIANT", "COMPLIANT", "NON_COMPLIANT"]
    assert "IAM user alice has a console password and an active access key 1 that has never been used." in text
    kinds = {e["ComplianceType"] for o in outcomes for e in o.evaluations}
    assert {"COMPLIANT", "NON_COMPLIANT"} <= kinds


def test_rdk_deployed_each_custom_rule_with_its_triggers(demo):
    """moto does not create AWS::Config::ConfigRule from CloudFormation: what rdk asked for is read
    from each rule's stack (its SourceEvents and SourcePeriodic parameters) and rdk's template
    resolved with them."""
    work, _, _ = demo
    deployed = json.loads((work / "changes.json").read_text())["deployed"]
    assert sorted(deployed) == sorted(r.name for r in custom_rules())
    for rule in custom_rules():
        triggers = deployed[rule.name]
        assert triggers["parameters"]["SourcePeriodic"] == rule.periodic == "TwentyFour_Hours", rule.name
        scheduled = {"EventSource": "aws.config", "MessageType": "ScheduledNotification"}
        scheduled["MaximumExecutionFrequency"] = "TwentyFour_Hours"
        if rule.source_events:
            assert triggers["parameters"]["SourceEvents"] == ",".join(rule.source_events), rule.name
            assert triggers["scope"] == list(rule.source_events), rule.name
            assert triggers["source_details"] == [
                {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
                {"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"},
                scheduled,
            ], rule.name
        else:
            assert triggers["scope"] == [] and triggers["source_details"] == [scheduled], rule.name
    assert {r.name for r in custom_rules() if r.source_events} == {
        "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC",
        "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING",
        "VPC_PEERING_ROUTES_LEAST_ACCESS",
    }


def test_a_public_trail_bucket_and_an_opened_route_table_are_detected_on_change(demo):
    work, _, text = demo
    flips = {(f["rule"], f["resource_type"]): f for f in json.loads((work / "changes.json").read_text())["flips"]}
    seen = {key: (f["before"]["ComplianceType"], f["after"]["ComplianceType"]) for key, f in flips.items()}
    assert seen == {
        ("CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC", "AWS::S3::Bucket"): ("COMPLIANT", "NON_COMPLIANT"),
        ("CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING", "AWS::S3::Bucket"): ("COMPLIANT", "COMPLIANT"),
        ("VPC_PEERING_ROUTES_LEAST_ACCESS", "AWS::EC2::RouteTable"): ("COMPLIANT", "NON_COMPLIANT"),
    }
    bucket = flips[("CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC", "AWS::S3::Bucket")]
    assert bucket["resource_id"] == "cis-demo-cloudtrail-logs"
    assert bucket["after"]["Annotation"].endswith("is public: its ACL grants READ to AllUsers.")
    table = flips[("VPC_PEERING_ROUTES_LEAST_ACCESS", "AWS::EC2::RouteTable")]
    assert "10.30.0.0/16 covers all of 10.30.0.0/16 of peer" in table["after"]["Annotation"]
    assert "Detection on change (no periodic run)" in text
    # The first evaluation's table and results are kept as they were.
    results = json.loads((work / "results.json").read_text())
    first = {
        e["ComplianceResourceId"]: e["ComplianceType"]
        for e in results["CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC"]["evaluations"]
    }
    assert first["cis-demo-cloudtrail-logs"] == "COMPLIANT"
