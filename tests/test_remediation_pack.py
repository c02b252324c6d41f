"""Remediation as deployed: the conformance pack's RemediationConfigurations, the runbook
documents and the role in the templates, the rdk blocks, all against the catalogue
(:mod:`cispack.catalog.remediations`) and the public interface's Remediation table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cispack import RULES_DIR, TEMPLATES_DIR
from cispack.catalog import remediations as catalog
from cispack.catalog.contract import CONTRACT
from cispack.catalog.rules import import_rule_module, load_rules
from cispack.generate import runbooks
from cispack.generate.conformance import PACK_PATH, logical_id
from cispack.remediation.iam_policy import load_template


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    return yaml.safe_load(PACK_PATH.read_text())


def _cfn(path: Path) -> dict[str, Any]:
    return load_template(path)


def remediations_of(pack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["ConfigRuleName"]: resource
        for resource in pack["Resources"].values()
        if resource["Type"] == "AWS::Config::RemediationConfiguration"
    }


# --- the catalogue against the interface -------------------------------------------------------------


#: The interface's Remediation table (CONTROLS.md), as it states each row: rule -> (controls, mode).
#: What each row changes, in the table's words (the METRIC_FILTER_ALARM_* row for all fourteen).
CHANGES = {
    "IAM_USER_UNUSED_CREDENTIALS_CHECK": "deactivates access keys and removes console passwords unused for 90 days; "
    "never a password set or key created within the grace period",
    "ACCESS_KEYS_ROTATED": "deactivates access keys older than 90 days that were not used within the grace period "
    "(parameter); a key in use is reported for rotation, never deactivated",
    "IAM_PASSWORD_POLICY": "sets the account password policy to the benchmark's values, keeping stricter ones",
    "IAM_USER_NO_POLICIES_CHECK": "moves the user's managed and inline policies to a group created for that user and "
    "adds the user to it, recording them",
    "IAM_POLICY_IN_USE": "creates a support role (name as a parameter) with `AWSSupportAccess`, trusted by the account",
    "IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS": "deactivates never-used access keys created at the user's setup (as the "
    "benchmark defines it) and older than the grace period",
    "MULTI_REGION_CLOUD_TRAIL_ENABLED": "unless an organisation trail or another multi-region trail covers the "
    "account, creates a multi-region trail (all management events, log validation, KMS) to a bucket this account "
    "owns that passes 2.3 and 2.6",
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED": "enables log file validation on the trail",
    "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC": "turns on S3 Block Public Access for the trail bucket",
    "CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED": "delivers the trail to a CloudWatch Logs log group (created with its role "
    "if absent)",
    "CONFIG_ENABLED_ALL_REGIONS": "creates or starts a recorder of all resource types in each failing region not in "
    "the rule's `excludedRegions`, delivering to the given bucket (owner checked)",
    "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING": "enables server access logging to the target bucket given as a parameter",
    "CLOUD_TRAIL_ENCRYPTION_ENABLED": "encrypts the trail with the KMS key given as a parameter",
    "CMK_BACKING_KEY_ROTATION_ENABLED": "enables rotation of the key",
    "VPC_FLOW_LOGS_ENABLED": "enables REJECT flow logs for a VPC that has no REJECT or ALL flow log, to a log group "
    "with retention (created with its role if absent)",
    "METRIC_FILTER_ALARM_*": "creates the CIS metric filter on the trail's log group and an alarm on its metric, "
    "notifying the SNS topic given as a parameter (the pack's own encrypted topic by default)",
    "INCOMING_SSH_DISABLED": "removes port 22 from ingress rules open to 0.0.0.0/0 or ::/0, re-adding the rest of a "
    "wider range",
    "RESTRICTED_INCOMING_TRAFFIC": "removes port 3389 from ingress rules open to 0.0.0.0/0 or ::/0, re-adding the rest "
    "of a wider range",
    "VPC_DEFAULT_SECURITY_GROUP_CLOSED": "removes every rule of the VPC's default security group",
}
TABLE = {
    "IAM_USER_UNUSED_CREDENTIALS_CHECK": (("1.3",), "manual"),
    "ACCESS_KEYS_ROTATED": (("1.4",), "manual"),
    "IAM_PASSWORD_POLICY": (tuple(f"1.{n}" for n in range(5, 12)), "automatic allowed"),
    "IAM_USER_NO_POLICIES_CHECK": (("1.16",), "manual"),
    "IAM_POLICY_IN_USE": (("1.20",), "automatic allowed"),
    "IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS": (("1.21",), "manual"),
    "MULTI_REGION_CLOUD_TRAIL_ENABLED": (("2.1",), "manual"),
    "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED": (("2.2",), "automatic allowed"),
    "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC": (("2.3",), "automatic allowed"),
    "CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED": (("2.4",), "manual"),
    "CONFIG_ENABLED_ALL_REGIONS": (("2.5",), "manual"),
    "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING": (("2.6",), "manual"),
    "CLOUD_TRAIL_ENCRYPTION_ENABLED": (("2.7",), "manual"),
    "CMK_BACKING_KEY_ROTATION_ENABLED": (("2.8",), "automatic allowed"),
    "VPC_FLOW_LOGS_ENABLED": (("2.9",), "manual"),
    "INCOMING_SSH_DISABLED": (("4.1",), "manual"),
    "RESTRICTED_INCOMING_TRAFFIC": (("4.2",), "manual"),
    "VPC_DEFAULT_SECURITY_GROUP_CLOSED": (("4.3",), "manual"),
}


def test_the_catalogue_is_the_interfaces_remediation_table():
    ours = {r.rule: (r.controls, r.mode) for r in catalog.REMEDIATIONS if r.rule not in catalog.METRIC_RULES}
    assert ours == TABLE
    metric = {r.rule: (r.controls, r.mode) for r in catalog.REMEDIATIONS if r.rule in catalog.METRIC_RULES}
    assert sorted(c for controls, _ in metric.values() for c in controls) == sorted(f"3.{n}" for n in range(1, 15))
    assert {mode for _, mode in metric.values()} == {"automatic allowed"}


def test_each_row_changes_what_the_interface_says_in_its_words():
    for remediation in catalog.REMEDIATIONS:
        key = "METRIC_FILTER_ALARM_*" if remediation.rule in catalog.METRIC_RULES else remediation.rule
        assert remediation.changes == CHANGES[key], remediation.rule


def test_every_remediated_rule_is_a_rule_of_the_interface_for_its_controls():
    interface = {entry.name: entry.controls for entry in CONTRACT}
    for remediation in catalog.REMEDIATIONS:
        assert interface[remediation.rule] == remediation.controls, remediation.rule
    remediated = {c for r in catalog.REMEDIATIONS for c in r.controls}
    assert remediated.isdisjoint(catalog.NOT_REMEDIATED)
    assert len(remediated) + len(catalog.NOT_REMEDIATED) == 49


# --- the conformance pack ------------------------------------------------------------------------------


def test_one_remediation_per_rule_under_the_rules_own_condition(pack):
    remediations = remediations_of(pack)
    present = {rule.name for rule in load_rules()}
    assert set(remediations) == {r.rule for r in catalog.REMEDIATIONS} & present
    rules = {r["Properties"]["ConfigRuleName"]: (logical, r) for logical, r in pack["Resources"].items()}
    for name, resource in remediations.items():
        logical, rule = rules[name] if rules[name][1]["Type"] == "AWS::Config::ConfigRule" else (None, None)
        logical = logical_id(name)
        rule = pack["Resources"][logical]
        assert rule["Type"] == "AWS::Config::ConfigRule"
        assert resource.get("Condition") == rule.get("Condition"), name
        assert resource["DependsOn"] == logical, name
        assert resource["Properties"]["TargetType"] == "SSM_DOCUMENT"
        assert resource["Properties"]["TargetId"] == catalog.BY_RULE[name].runbook.document
        assert "TargetVersion" not in resource["Properties"], "AWS Config runs the default version"


def test_manual_rows_can_never_run_automatically(pack):
    """Only rows the table marks automatic allowed refer to the switch; a manual row carries no
    Automatic at all; the switch is off unless the user turns it on."""
    parameter = pack["Parameters"]["AutomaticRemediation"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("false", ["false", "true"])
    for name, resource in remediations_of(pack).items():
        properties = resource["Properties"]
        refers = "AutomaticRemediation" in json.dumps(properties)
        if catalog.BY_RULE[name].automatic_allowed:
            assert properties["Automatic"] == {"Ref": "AutomaticRemediation"}, name
            assert properties["MaximumAutomaticAttempts"] >= 1 and properties["RetryAttemptSeconds"] >= 1
        else:
            assert not refers and "Automatic" not in properties, f"{name} is manual only"
    text = json.dumps(pack["Resources"])
    manual = [r for r in catalog.REMEDIATIONS if not r.automatic_allowed]
    assert manual and text.count('"Ref": "AutomaticRemediation"') == sum(
        1 for r in catalog.REMEDIATIONS if r.automatic_allowed and r.rule in remediations_of(pack)
    )


def test_parameters_map_the_resource_id_and_the_settings(pack):
    for name, resource in remediations_of(pack).items():
        remediation = catalog.BY_RULE[name]
        parameters = resource["Properties"]["Parameters"]
        for item in remediation.runbook.inputs:
            if item.resource_id:
                assert parameters[item.name] == {"ResourceValue": {"Value": "RESOURCE_ID"}}, name
            elif item.name in remediation.constants:
                assert parameters[item.name] == {"StaticValue": {"Values": [remediation.constants[item.name]]}}
            elif item.setting or item.pack_parameter:
                given = item.setting or item.pack_parameter
                static = {"StaticValue": {"Values": [{"Ref": given}]}}
                optional = {"Fn::If": [f"{given}HasValue", static, {"Ref": "AWS::NoValue"}]}
                assert parameters[item.name] in (static, optional), name
                assert given in pack["Parameters"], name
            else:
                assert item.name not in parameters, "left to the document's default"
        assert set(parameters) <= {i.name for i in remediation.runbook.inputs}
        assert "AutomationAssumeRole" not in parameters, "the document's default: its own role"


def test_2_5_remediates_with_the_rules_excluded_regions(pack):
    parameters = remediations_of(pack)["CONFIG_ENABLED_ALL_REGIONS"]["Properties"]["Parameters"]
    rule = pack["Resources"][logical_id("CONFIG_ENABLED_ALL_REGIONS")]["Properties"]["InputParameters"]
    given = rule["excludedRegions"]["Fn::If"][1]["Ref"]
    assert parameters["ExcludedRegions"]["Fn::If"][1] == {"StaticValue": {"Values": [{"Ref": given}]}}


# --- the documents and the role --------------------------------------------------------------------------


def test_documents_run_the_runbooks_scripts():
    for runbook in catalog.own_runbooks():
        doc = runbooks.document(runbook, "arn:aws:iam::123456789012:role/r")
        assert doc["schemaVersion"] == "0.3" and doc["assumeRole"] == "{{ AutomationAssumeRole }}"
        (step,) = doc["mainSteps"]
        assert step["action"] == "aws:executeScript" and step["inputs"]["Runtime"] == "python3.11"
        assert set(step["inputs"]["InputPayload"]) == {i.name for i in runbook.inputs}
        assert set(doc["parameters"]) == {"AutomationAssumeRole", *step["inputs"]["InputPayload"]}
        script = step["inputs"]["Script"]
        compile(script, runbook.document, "exec")
        assert "\nfrom runbook_base import" not in script and script.count("\nfrom __future__") == 1
        assert "def handler(events" in script


def test_the_metric_runbook_carries_each_rules_cis_v120_pattern():
    namespace: dict[str, Any] = {}
    exec(compile(runbooks.script(catalog.METRIC_FILTER_ALARM), "s", "exec"), namespace)  # the pack's own script
    patterns = namespace["PATTERNS"]
    assert set(patterns) == {f"3.{n}" for n in range(1, 15)}
    for rule, control in catalog.METRIC_RULES.items():
        assert patterns[control]["pattern"] == getattr(import_rule_module(rule), rule).ACCEPTED_PATTERNS[0]


@pytest.mark.parametrize("name", ["member.yaml", "remediation.yaml"])
def test_templates_deploy_every_document_with_its_role_as_default(name):
    document = _cfn(TEMPLATES_DIR / name)
    docs = {
        r["Properties"]["Name"]: r["Properties"]
        for r in document["Resources"].values()
        if r["Type"] == "AWS::SSM::Document"
    }
    assert set(docs) == {runbook.document for runbook in catalog.own_runbooks()}
    for runbook in catalog.own_runbooks():
        properties = docs[runbook.document]
        assert properties["DocumentType"] == "Automation" and properties["UpdateMethod"] == "NewVersion"
        role = properties["Content"]["parameters"]["AutomationAssumeRole"]["default"]
        assert role == {"Fn::GetAtt": [runbooks.role_logical_id(runbook), "Arn"]}, "every document its own role"
        for parameter in properties["Content"]["parameters"].values():
            default = parameter["default"]
            assert isinstance(default, str) or set(default) in ({"Ref"}, {"Fn::GetAtt"})


def test_the_member_template_passes_the_settings_and_waits_for_the_documents():
    member = _cfn(TEMPLATES_DIR / "member.yaml")
    # The v1.2.0 pack; the later versions' packs carry no remediation (tests/test_member_template.py).
    pack = member["Resources"]["ConformancePack"]
    passed = {p["ParameterName"]: p["ParameterValue"] for p in pack["Properties"]["ConformancePackInputParameters"]}
    for setting in catalog.SETTINGS:
        assert passed[setting.name] == {"Ref": setting.name}
        assert member["Parameters"][setting.name]["Default"] == setting.default
    assert sorted(pack["DependsOn"]) == sorted(runbooks.document_resource_id(r) for r in catalog.own_runbooks())


# --- rdk -------------------------------------------------------------------------------------------------


def test_rdk_deploys_the_remediations_it_can_express_always_manual():
    for rule in load_rules():
        document = json.loads((RULES_DIR / rule.name / "parameters.json").read_text())["Parameters"]
        remediation = catalog.BY_RULE.get(rule.name)
        block = document.get("Remediation")
        if remediation is None:
            assert block is None, rule.name
            continue
        assert block == runbooks.rdk_remediation(remediation), f"{rule.name}: run ./pack generate"
        assert "AutomationAssumeRole" not in block["Parameters"], "the document's default: its own role"
        assert block["Automatic"] is False and block["ConfigRuleName"] == rule.name
        assert block["TargetId"] == remediation.runbook.document


# --- what the defaults need ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["member.yaml", "remediation.yaml"])
def test_the_defaults_key_and_encrypted_topic_are_created_while_the_settings_keep_them(name):
    document = _cfn(TEMPLATES_DIR / name)
    resources, conditions = document["Resources"], document["Conditions"]
    key, alias, topic = resources["TrailKey"], resources["TrailKeyAlias"], resources["AlarmTopicResource"]
    assert alias["Properties"]["AliasName"] == catalog.SETTING["TrailKmsKey"].default
    assert topic["Properties"]["TopicName"] == {"Ref": "AlarmTopic"}
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "TrailKey"}, "the alarm topic is encrypted"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    trail = statements["CloudTrailEncryptsThisAccountsTrails"]
    assert trail["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and trail["Action"] == "kms:GenerateDataKey"
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in trail["Condition"]["StringLike"]
    alarms = statements["CloudWatchAlarmsPublishToTheEncryptedTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert topic["Condition"] == "CreateAlarmTopic" and key["Condition"] == "CreateTrailKey"
    assert "AlarmTopic" in str(conditions["CreateAlarmTopic"]) and "TrailKmsKey" in str(conditions["CreateTrailKey"])
