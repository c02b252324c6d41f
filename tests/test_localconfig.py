"""The seam between the rules and moto: each gap it fills, tested on its own."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError

from cispack.local.config import (
    AggregatorLedger,
    ComplianceLedger,
    ConfigHistory,
    MotoCredentialReport,
    observe,
    pack_rule_suffix,
    respond,
)


def evaluation(resource_id, compliance="COMPLIANT"):
    return {
        "ComplianceResourceType": "AWS::IAM::User",
        "ComplianceResourceId": resource_id,
        "ComplianceType": compliance,
        "OrderingTimestamp": "2026-01-01T00:00:00Z",
    }


def test_moto_itself_lacks_what_the_ledger_supplies(aws):
    config = boto3.client("config")
    with pytest.raises(ClientError):
        config.put_evaluations(Evaluations=[], ResultToken="TESTMODE", TestMode=True)


def test_ledger_answers_empty_put_and_pages_details(aws):
    ledger = ComplianceLedger(current_rule="RULE").install()
    try:
        config = boto3.client("config")
        assert config.put_evaluations(Evaluations=[], ResultToken="TESTMODE", TestMode=True)["FailedEvaluations"] == []
        ids = [f"AIDA{n:04}" for n in range(5)]
        config.put_evaluations(Evaluations=[evaluation(i) for i in ids[:3]], ResultToken="TESTMODE", TestMode=True)
        config.put_evaluations(
            Evaluations=[evaluation(i, "NON_COMPLIANT") for i in ids[3:]], ResultToken="TESTMODE", TestMode=True
        )
        pages = list(
            config.get_paginator("get_compliance_details_by_config_rule").paginate(
                ConfigRuleName="RULE", ComplianceTypes=["COMPLIANT", "NON_COMPLIANT"], PaginationConfig={"PageSize": 2}
            )
        )
        seen = [
            r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
            for p in pages
            for r in p["EvaluationResults"]
        ]
        assert seen == ids and len(pages) == 3
        only_bad = config.get_compliance_details_by_config_rule(
            ConfigRuleName="RULE", ComplianceTypes=["NON_COMPLIANT"]
        )
        assert len(only_bad["EvaluationResults"]) == 2
        assert config.get_compliance_details_by_config_rule(ConfigRuleName="OTHER")["EvaluationResults"] == []
    finally:
        ledger.uninstall()


def test_respond_validates_recorded_responses_against_the_model(aws):
    with respond("iam", "GenerateCredentialReport", {"State": 7}), pytest.raises(AssertionError, match="does not fit"):
        boto3.client("iam").generate_credential_report()


def test_respond_errors_and_pages(aws):
    with respond("iam", "ListUsers", error="AccessDenied", status=403), pytest.raises(ClientError) as err:
        boto3.client("iam").list_users()
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    pages = [{"Users": [], "IsTruncated": True, "Marker": "m"}, {"Users": [], "IsTruncated": False}]
    with respond("iam", "ListUsers", pages) as seen:
        assert len(list(boto3.client("iam").get_paginator("list_users").paginate())) == 2
    assert seen == [{}, {"Marker": "m"}]


def test_observe_lets_calls_through(aws):
    iam = boto3.client("iam")
    iam.create_user(UserName="a")
    with observe("iam", "ListUsers") as seen:
        assert [u["UserName"] for u in boto3.client("iam").list_users()["Users"]] == ["a"]
    assert seen == [{}]


def test_hooks_reach_clients_built_after_them_only(aws):
    # botocore copies the session's event hooks into each client it builds; rules build theirs
    # inside evaluate_*, after the harness installed its hooks.
    early = boto3.client("iam")
    with respond("iam", "ListUsers", error="AccessDenied", status=403):
        early.list_users()


def test_credential_report_fix_adds_root_row_and_fresh_time(aws):
    fix = MotoCredentialReport(
        root_row={
            "arn": "arn:aws:iam::123456789012:root",
            "password_enabled": "not_supported",
            "password_last_used": "2026-11-20T10:00:00+00:00",
        }
    ).install()
    try:
        iam = boto3.client("iam")
        iam.create_user(UserName="alice")
        iam.generate_credential_report()
        report = iam.get_credential_report()
        rows = list(csv.DictReader(io.StringIO(report["Content"].decode())))
        assert [r["user"] for r in rows] == ["<root_account>", "alice"]
        assert rows[0]["password_last_used"] == "2026-11-20T10:00:00+00:00"
        assert report["GeneratedTime"].year >= 2026
    finally:
        fix.uninstall()


# The reading side of AWS Config that moto lacks, for the compliance report.


def test_evaluation_status_follows_recorded_runs_and_put_config_rule(aws):
    ledger = ComplianceLedger(current_rule="CUSTOM").install()
    try:
        config = boto3.client("config")
        with pytest.raises(ClientError) as missing:
            config.describe_config_rule_evaluation_status(ConfigRuleNames=["IAM_PASSWORD_POLICY"])
        assert missing.value.response["Error"]["Code"] == "NoSuchConfigRuleException"
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": "IAM_PASSWORD_POLICY",
                "Source": {"Owner": "AWS", "SourceIdentifier": "IAM_PASSWORD_POLICY"},
            }
        )
        config.put_evaluations(Evaluations=[evaluation("AIDA1")], ResultToken="TESTMODE", TestMode=True)
        ledger.record_failure("FAILING", "AccessDenied", "Not allowed.")
        statuses = {
            s["ConfigRuleName"]: s
            for page in config.get_paginator("describe_config_rule_evaluation_status").paginate(
                PaginationConfig={"PageSize": 1}
            )
            for s in page["ConfigRulesEvaluationStatus"]
        }
        assert sorted(statuses) == ["CUSTOM", "FAILING", "IAM_PASSWORD_POLICY"]
        assert statuses["IAM_PASSWORD_POLICY"]["FirstEvaluationStarted"] is False
        assert "LastSuccessfulInvocationTime" in statuses["CUSTOM"]
        assert statuses["FAILING"]["LastErrorCode"] == "AccessDenied"
        assert "LastSuccessfulInvocationTime" not in statuses["FAILING"]
    finally:
        ledger.uninstall()


def test_details_carry_annotation_and_times(aws):
    ledger = ComplianceLedger().install()
    try:
        ledger.record("RULE", [{**evaluation("AIDA1", "NON_COMPLIANT"), "Annotation": "User AIDA1 has no MFA."}])
        (row,) = boto3.client("config").get_compliance_details_by_config_rule(ConfigRuleName="RULE")[
            "EvaluationResults"
        ]
        assert row["Annotation"] == "User AIDA1 has no MFA."
        assert row["ResultRecordedTime"].tzinfo is not None
        assert row["EvaluationResultIdentifier"]["OrderingTimestamp"].year == 2026
    finally:
        ledger.uninstall()


def test_conformance_pack_rules_follow_its_conditions_and_suffix(aws):
    from pathlib import Path

    ledger = ComplianceLedger().install()
    try:
        config = boto3.client("config")
        body = (Path(__file__).parent.parent / "conformance-pack.yaml").read_text()
        config.put_conformance_pack(
            ConformancePackName="cis",
            TemplateBody=body,
            ConformancePackInputParameters=[{"ParameterName": "ProfileLevel", "ParameterValue": "1"}],
        )
        level1 = ledger.packs["cis"]
        suffix = pack_rule_suffix("cis")
        assert all(name.endswith(suffix) for name in level1)
        assert "IAM_PASSWORD_POLICY" + suffix in level1
        assert "VPC_FLOW_LOGS_ENABLED" + suffix not in level1  # Level 2 regional rule
        ledger.record("IAM_PASSWORD_POLICY" + suffix, [evaluation("acct", "NON_COMPLIANT")])
        pages = list(
            config.get_paginator("describe_conformance_pack_compliance").paginate(
                ConformancePackName="cis", PaginationConfig={"PageSize": 10}
            )
        )
        rows = {r["ConfigRuleName"]: r["ComplianceType"] for p in pages for r in p["ConformancePackRuleComplianceList"]}
        assert len(pages) > 1 and sorted(rows) == sorted(level1)
        assert rows["IAM_PASSWORD_POLICY" + suffix] == "NON_COMPLIANT"
        assert rows["ROOT_ACCOUNT_MFA_ENABLED" + suffix] == "INSUFFICIENT_DATA"
        config.put_conformance_pack(
            ConformancePackName="cis",
            TemplateBody=body,
            ConformancePackInputParameters=[{"ParameterName": "GlobalResourcesProfile", "ParameterValue": "none"}],
        )
        assert "IAM_PASSWORD_POLICY" + suffix not in ledger.packs["cis"]
        assert "IAM_PASSWORD_POLICY" + suffix not in ledger.known_rules()
        with pytest.raises(ClientError) as missing:
            config.describe_conformance_pack_compliance(ConformancePackName="other")
        assert missing.value.response["Error"]["Code"] == "NoSuchConformancePackException"
        with pytest.raises(ClientError) as bad:
            config.put_conformance_pack(ConformancePackName="bad", TemplateBody="Resources: [")
        assert bad.value.response["Error"]["Code"] == "ConformancePackTemplateValidationException"
    finally:
        ledger.uninstall()


def test_aggregator_answers_for_aggregators_moto_created_only(aws):
    org = AggregatorLedger().install()
    try:
        config = boto3.client("config")
        with pytest.raises(ClientError) as missing:
            config.describe_aggregate_compliance_by_config_rules(ConfigurationAggregatorName="org")
        assert missing.value.response["Error"]["Code"] == "NoSuchConfigurationAggregatorException"
        config.put_configuration_aggregator(
            ConfigurationAggregatorName="org",
            OrganizationAggregationSource={"RoleArn": "arn:aws:iam::123456789012:role/agg", "AllAwsRegions": True},
        )
        for account in ("111111111111", "222222222222"):
            for region in ("us-east-1", "eu-west-1"):
                org.member(account, region).record(
                    "RULE",
                    [evaluation("a", "COMPLIANT"), evaluation("b", "NON_COMPLIANT"), evaluation("c", "NOT_APPLICABLE")],
                )
        org.member("222222222222", "eu-west-1").deploy("SILENT")
        listing = [
            (i["AccountId"], i["AwsRegion"], i["ConfigRuleName"], i["Compliance"]["ComplianceType"])
            for page in config.get_paginator("describe_aggregate_compliance_by_config_rules").paginate(
                ConfigurationAggregatorName="org", PaginationConfig={"PageSize": 2}
            )
            for i in page["AggregateComplianceByConfigRules"]
        ]
        assert len(listing) == 5
        assert ("222222222222", "eu-west-1", "SILENT", "INSUFFICIENT_DATA") in listing
        assert ("111111111111", "us-east-1", "RULE", "NON_COMPLIANT") in listing
        details = config.get_aggregate_compliance_details_by_config_rule(
            ConfigurationAggregatorName="org", ConfigRuleName="RULE", AccountId="111111111111", AwsRegion="eu-west-1"
        )["AggregateEvaluationResults"]
        ids = [d["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for d in details]
        assert ids == ["a", "b"] and {d["AccountId"] for d in details} == {"111111111111"}
        with pytest.raises(ClientError) as refused:
            config.get_aggregate_compliance_details_by_config_rule(
                ConfigurationAggregatorName="org",
                ConfigRuleName="RULE",
                AccountId="111111111111",
                AwsRegion="eu-west-1",
                ComplianceType="NOT_APPLICABLE",
            )
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    finally:
        org.uninstall()


def test_seam_answers_are_checked_against_the_model(aws):
    ledger = ComplianceLedger().install()
    try:
        ledger.record("RULE", [{**evaluation("x"), "ComplianceResourceId": 5}])
        with pytest.raises(AssertionError, match="outside the model"):
            boto3.client("config").get_compliance_details_by_config_rule(ConfigRuleName="RULE")
    finally:
        ledger.uninstall()


def _history_row(resource_id, captured, resource_type="AWS::EC2::RouteTable"):
    return {
        "version": "1.3",
        "accountId": "123456789012",
        "configurationItemCaptureTime": captured,
        "configurationItemStatus": "OK",
        "configurationStateId": str(int(captured.timestamp() * 1000)),
        "arn": f"arn:aws:ec2:us-east-1:123456789012:route-table/{resource_id}",
        "resourceType": resource_type,
        "resourceId": resource_id,
        "awsRegion": "us-east-1",
        "configuration": json.dumps({"routeTableId": resource_id, "captured": captured.isoformat()}),
        "supplementaryConfiguration": {},
    }


def test_config_history_answers_newest_first_and_pages(aws):
    times = [datetime(2026, 1, day, tzinfo=UTC) for day in (1, 2, 3)]
    history = ConfigHistory().install()
    try:
        for when in times:
            history.record(_history_row("rtb-1", when))
        config = boto3.client("config")
        [latest] = config.get_resource_config_history(resourceType="AWS::EC2::RouteTable", resourceId="rtb-1", limit=1)[
            "configurationItems"
        ]
        assert latest["configurationItemCaptureTime"] == times[-1]
        pages = list(
            config.get_paginator("get_resource_config_history").paginate(
                resourceType="AWS::EC2::RouteTable",
                resourceId="rtb-1",
                chronologicalOrder="Forward",
                PaginationConfig={"PageSize": 2},
            )
        )
        assert [i["configurationItemCaptureTime"] for p in pages for i in p["configurationItems"]] == times
        assert len(pages) == 2
        with pytest.raises(ClientError) as err:
            config.get_resource_config_history(resourceType="AWS::EC2::RouteTable", resourceId="rtb-2")
        assert err.value.response["Error"]["Code"] == "ResourceNotDiscoveredException"
        assert len(history.calls) == 4
    finally:
        history.uninstall()


def test_config_history_refuses_an_item_outside_the_model(aws):
    history = ConfigHistory().install()
    try:
        history.record({**_history_row("rtb-1", datetime(2026, 1, 1, tzinfo=UTC)), "configuration": {"not": "text"}})
        with pytest.raises(AssertionError, match="outside the model"):
            boto3.client("config").get_resource_config_history(resourceType="AWS::EC2::RouteTable", resourceId="rtb-1")
    finally:
        history.uninstall()
