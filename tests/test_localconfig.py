"""The seam between the rules and moto: each gap it fills, tested on its own."""

from __future__ import annotations

import csv
import io

import boto3
import pytest
from botocore.exceptions import ClientError

from cispack.localconfig import ComplianceLedger, MotoCredentialReport, observe, respond


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
