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


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    return yaml.safe_load(PACK_PATH.read_text())


def _cfn(path: Path) -> dict[str, Any]:
    class Loader(yaml.SafeLoader):
        pass

    def tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {("Ref" if suffix == "Ref" else f"Fn::{suffix}"): value}

    Loader.add_multi_constructor("!", tag)
    return dict(yaml.load(path.read_text(), Loader=Loader))  # a SafeLoader subclass


def remediations_of(pack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["ConfigRuleName"]: resource
        for resource in pack["Resources"].values()
        if resource["Type"] == "AWS::Config::RemediationConfiguration"
    }


# --- the catalogue against the interface -------------------------------------------------------------


#: The interface's Remediation table (CONTROLS.md), as it states each row: rule -> (controls, mode).
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
            elif item.setting:
                static = {"StaticValue": {"Values": [{"Ref": item.setting}]}}
                optional = {"Fn::If": [f"{item.setting}HasValue", static, {"Ref": "AWS::NoValue"}]}
                assert parameters[item.name] in (static, optional), name
            else:
                assert item.name not in parameters, "left to the document's default"
        known = {i.name for i in remediation.runbook.inputs} | {"AutomationAssumeRole"}
        assert set(parameters) <= known
        assert ("AutomationAssumeRole" in parameters) == (not remediation.runbook.is_own)


# The AWS-managed runbooks, as the Systems Manager Automation runbook reference documents them
# (read for this pack; URLs in cispack/catalog/remediations.py): name -> (parameters, the one
# Config fills with the resource ID, actions besides ssm:StartAutomationExecution/GetAutomationExecution).
REFERENCE = {
    "AWSConfigRemediation-EnableCloudTrailLogFileValidation": (
        {"AutomationAssumeRole", "TrailName"},
        "TrailName",
        {"cloudtrail:DescribeTrails", "cloudtrail:UpdateTrail"},
    ),
    "AWSConfigRemediation-EnableCloudTrailEncryptionWithKMS": (
        {"AutomationAssumeRole", "KMSKeyId", "TrailName"},
        "TrailName",
        {"cloudtrail:GetTrail", "cloudtrail:UpdateTrail"},
    ),
    "AWSConfigRemediation-EnableKeyRotation": (
        {"AutomationAssumeRole", "KeyId"},
        "KeyId",
        {"kms:EnableKeyRotation", "kms:GetKeyRotationStatus"},
    ),
    "AWSConfigRemediation-RemoveVPCDefaultSecurityGroupRules": (
        {"AutomationAssumeRole", "GroupId"},
        "GroupId",
        {"ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"},
    ),
}


def test_aws_managed_runbooks_are_configured_as_the_reference_documents_them(pack):
    used = {r.runbook.document: r for r in catalog.REMEDIATIONS if not r.runbook.is_own}
    assert set(used) == set(REFERENCE)
    for document, (parameters, resource_parameter, actions) in REFERENCE.items():
        runbook = used[document].runbook
        assert {"AutomationAssumeRole", *(i.name for i in runbook.inputs)} == parameters, document
        assert [i.name for i in runbook.inputs if i.resource_id] == [resource_parameter]
        assert set(runbook.actions) == actions
        assert runbook.source.startswith(catalog.REFERENCE), document
        configured = remediations_of(pack)[used[document].rule]["Properties"]["Parameters"]
        assert configured[resource_parameter] == {"ResourceValue": {"Value": "RESOURCE_ID"}}
        assert set(configured) == parameters, document


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


def _role_actions(document: dict[str, Any]) -> list[str]:
    role = document["Resources"]["RemediationRole"]["Properties"]
    (policy,) = role["Policies"]
    actions = []
    for statement in policy["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        actions += statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return actions


@pytest.mark.parametrize("name", ["member.yaml", "remediation.yaml"])
def test_the_role_grants_exactly_what_the_runbooks_declare(name):
    document = _cfn(TEMPLATES_DIR / name)
    actions = _role_actions(document)
    assert sorted(actions) == catalog.all_actions(), "every action once, and none but the runbooks'"
    declared = {a for r in catalog.REMEDIATIONS for a in r.runbook.actions}
    assert set(actions) == declared
    role = document["Resources"]["RemediationRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    assert statements["ActionsTheRunbooksDeclare"]["Resource"] == "*"
    for sid in ("RolesTheRunbooksCreate", "SupportAccessOnTheSupportRole", "PassOnlyThePacksServiceRoles"):
        assert statements[sid]["Resource"] != "*", sid
    assert "iam:PassRole" not in statements["ActionsTheRunbooksDeclare"]["Action"]


@pytest.mark.parametrize("name", ["member.yaml", "remediation.yaml"])
def test_templates_deploy_every_document_with_its_role_as_default(name):
    document = _cfn(TEMPLATES_DIR / name)
    docs = {
        r["Properties"]["Name"]: r["Properties"]
        for r in document["Resources"].values()
        if r["Type"] == "AWS::SSM::Document"
    }
    assert set(docs) == {runbook.document for runbook in catalog.own_runbooks()}
    for properties in docs.values():
        assert properties["DocumentType"] == "Automation" and properties["UpdateMethod"] == "NewVersion"
        role = properties["Content"]["parameters"]["AutomationAssumeRole"]["default"]
        assert role == {"Fn::GetAtt": ["RemediationRole", "Arn"]}
        for parameter in properties["Content"]["parameters"].values():
            default = parameter["default"]
            assert isinstance(default, str) or set(default) in ({"Ref"}, {"Fn::GetAtt"})


def test_the_member_template_passes_the_settings_and_waits_for_the_documents():
    member = _cfn(TEMPLATES_DIR / "member.yaml")
    (pack,) = [r for r in member["Resources"].values() if r["Type"] == "AWS::Config::ConformancePack"]
    passed = {p["ParameterName"]: p["ParameterValue"] for p in pack["Properties"]["ConformancePackInputParameters"]}
    assert passed["RemediationRoleArn"] == {"Fn::GetAtt": ["RemediationRole", "Arn"]}
    for setting in catalog.SETTINGS:
        if setting is not catalog.ROLE:
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
        if block is None:
            assert remediation.rule == "CLOUD_TRAIL_ENCRYPTION_ENABLED", "only CIS 2.7 needs a value rdk cannot give"
            continue
        assert block["Automatic"] is False and block["ConfigRuleName"] == rule.name
        assert block["TargetId"] == remediation.runbook.document
