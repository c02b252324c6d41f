"""How the pack reaches AWS Config and what operators are told (CONTROLS.md, "When a rule cannot
judge"): one ``StaleAfterHours`` pack parameter feeds every custom rule; a body over 51,200 bytes
goes by ``TemplateS3Uri``; every rule function has an ``Errors`` alarm and chosen
asynchronous-invocation settings."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import yaml

from cispack.catalog.rules import custom_rules
from cispack.generate import conformance, member_template
from cispack.generate.conformance import MAX_BODY_BYTES, MAX_PARAMETERS, MAX_S3_TEMPLATE_BYTES, template_argument
from cispack.generate.member_template import function_name
from cispack.local.config import ComplianceLedger, pack_rule_suffix

CUSTOM = custom_rules()  # the v1.2.0 pack's
FUNCTIONS = custom_rules(every_folder=True)  # the member template's functions


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    return conformance.build_pack()


@pytest.fixture(scope="module")
def member() -> dict[str, Any]:
    return member_template.generate()


def test_stale_after_hours_is_one_pack_parameter_feeding_every_custom_rule(pack):
    assert pack["Parameters"]["StaleAfterHours"]["Default"] == "48"
    assert [name for name in pack["Parameters"] if name.endswith("ParamStaleAfterHours")] == []
    custom = [
        r for r in pack["Resources"].values() if r["Properties"].get("Source", {}).get("Owner") == "CUSTOM_LAMBDA"
    ]
    assert len(custom) == len(CUSTOM) == 20
    assert [r["Properties"]["InputParameters"]["staleAfterHours"] for r in custom] == [{"Ref": "StaleAfterHours"}] * 20
    assert len(pack["Parameters"]) <= MAX_PARAMETERS


@pytest.mark.parametrize(
    ("case", "size", "expected"),
    [
        ("small_inline", 1_000, "TemplateBody"),
        ("at_the_inline_limit", MAX_BODY_BYTES, "TemplateBody"),
        ("one_byte_over_goes_by_s3", MAX_BODY_BYTES + 1, "TemplateS3Uri"),
        ("at_the_s3_limit", MAX_S3_TEMPLATE_BYTES, "TemplateS3Uri"),
    ],
)
def test_the_pack_goes_inline_up_to_51200_bytes_else_by_s3(case, size, expected):
    uploaded = []
    argument = template_argument("x" * size, lambda body: uploaded.append(body) or "s3://bucket/pack.yaml")
    assert list(argument) == [expected]
    assert uploaded == ([] if expected == "TemplateBody" else ["x" * size])


def test_a_pack_over_300_kb_is_refused():
    with pytest.raises(ValueError, match=r"over the 307200 a TemplateS3Uri template may hold"):
        template_argument("x" * (MAX_S3_TEMPLATE_BYTES + 1), lambda body: "s3://never")


def test_the_member_template_reads_a_large_pack_from_the_code_bucket(monkeypatch):
    """Merged branches grow the pack: past the inline limit the member template passes it by
    TemplateS3Uri, content-addressed in the region's code bucket, and the ARNs as parameters."""
    monkeypatch.setattr(conformance, "MAX_BODY_BYTES", 10_000)
    assert member_template.pack_goes_by_s3()
    properties = member_template.generate()["Resources"]["ConformancePack"]["Properties"]
    assert "TemplateBody" not in properties
    key = member_template.s3_pack_key()
    assert properties["TemplateS3Uri"] == {"Fn::Sub": f"s3://${{CodeBucketPrefix}}-${{AWS::Region}}/{key}"}
    passed = {p["ParameterName"] for p in properties["ConformancePackInputParameters"]}
    assert {conformance.lambda_arn_parameter(rule.name) for rule in CUSTOM} <= passed
    body = yaml.safe_load(member_template.s3_pack_body())
    assert passed <= set(body["Parameters"]), "every parameter passed is one the S3 body declares"


def test_today_the_pack_still_fits_inline(member):
    assert not member_template.pack_goes_by_s3()
    assert "TemplateBody" in member["Resources"]["ConformancePack"]["Properties"]


def test_the_local_config_reads_a_pack_from_s3(aws):
    ledger = ComplianceLedger().install()
    try:
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="code")
        body = member_template.s3_pack_body()
        s3.put_object(Bucket="code", Key="pack.yaml", Body=body.encode())
        config = boto3.client("config", region_name="us-east-1")
        config.put_conformance_pack(ConformancePackName="cis", TemplateS3Uri="s3://code/pack.yaml")
    finally:
        ledger.uninstall()
    assert "IAM_ROOT_ACCOUNT_UNUSED" + pack_rule_suffix("cis") in ledger.packs["cis"]


def test_every_rule_function_has_an_errors_alarm_notifying_the_operators(member):
    resources = member["Resources"]
    assert member["Parameters"]["AlarmTopicArn"]["Default"] == ""
    for rule in FUNCTIONS:
        logical = conformance.logical_id(rule.name)
        alarm = resources[f"{logical}ErrorsAlarm"]
        assert alarm["Type"] == "AWS::CloudWatch::Alarm"
        assert alarm.get("Condition") == resources[f"{logical}Function"].get("Condition")
        properties = alarm["Properties"]
        assert properties["AlarmName"] == f"{function_name(rule)}-errors"
        assert (properties["Namespace"], properties["MetricName"]) == ("AWS/Lambda", "Errors")
        assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": f"{logical}Function"}}]
        assert (properties["Threshold"], properties["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert properties["AlarmActions"] == {
            "Fn::If": ["AlarmTopicGiven", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
        }


def test_asynchronous_invocations_are_not_retried_and_failures_go_to_the_operators(member):
    resources = member["Resources"]
    for rule in FUNCTIONS:
        logical = conformance.logical_id(rule.name)
        config = resources[f"{logical}InvokeConfig"]
        assert config["Type"] == "AWS::Lambda::EventInvokeConfig"
        properties = config["Properties"]
        assert properties["MaximumRetryAttempts"] == member_template.ASYNC_RETRIES == 0
        assert properties["MaximumEventAgeInSeconds"] == 21600
        on_failure = properties["DestinationConfig"]["Fn::If"][1]["OnFailure"]["Destination"]
        assert on_failure["Fn::Select"][1][0] == {"Ref": "AlarmTopicArn"}
    policy = resources["OnFailureDestinationPolicy"]
    assert policy["Condition"] == "AlarmTopicGiven"
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"]) == (["sns:Publish"], {"Ref": "AlarmTopicArn"})
