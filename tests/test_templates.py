"""The rollout templates: member.yaml grants exactly what the rules declare (its freshness is
tests/test_conformance_pack.py::test_generated_files_are_fresh, with the other generated files); every
Lambda permission carries SourceAccount; no IAM statement uses an action wildcard; every
checkov skip is justified in the template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cispack import TEMPLATES_DIR
from cispack.catalog.process_checks import PROCESS_CHECKS
from cispack.catalog.remediations import own_runbooks
from cispack.catalog.rules import custom_rules, load_rules
from cispack.catalog.versions import VERSIONS
from cispack.generate import conformance, member_template
from cispack.generate.conformance import logical_id
from cispack.generate.member_template import declared_actions, function_name

CUSTOM = custom_rules()  # the v1.2.0 pack's
#: Every custom rule folder: the member template has a function for each (tests/test_member_template.py).
FUNCTIONS = custom_rules(every_folder=True)
TEMPLATES = sorted(TEMPLATES_DIR.glob("*.yaml"))


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Sub x) as their long form ({"Fn::Sub": x})."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)
    return document


@pytest.fixture(scope="module")
def member() -> dict[str, Any]:
    return load(member_template.MEMBER_TEMPLATE)


def resources_of(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in document["Resources"].items() if r["Type"] == kind}


def statements(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM statement in a template: role policies, trust policies and bucket policies."""
    found = []
    for name, resource in document["Resources"].items():
        properties = resource.get("Properties", {})
        for policy in properties.get("Policies", []):
            found += [(f"{name}/{policy['PolicyName']}", s) for s in policy["PolicyDocument"]["Statement"]]
        if "AssumeRolePolicyDocument" in properties:
            found += [(f"{name}/trust", s) for s in properties["AssumeRolePolicyDocument"]["Statement"]]
        if "PolicyDocument" in properties:
            found += [(name, s) for s in properties["PolicyDocument"]["Statement"]]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def runbook_role_id(runbook: Any) -> str:
    from cispack.generate.runbooks import role_logical_id

    return role_logical_id(runbook)


def test_the_templates_are_the_expected_ones() -> None:
    assert [p.name for p in TEMPLATES] == [
        "code-bucket.yaml",
        "member.yaml",
        "rdk-role.yaml",
        "remediation.yaml",
        "review.yaml",
    ]


def test_execution_role_grants_exactly_the_declared_actions(member: dict[str, Any]) -> None:
    roles = resources_of(member, "AWS::IAM::Role")
    # The runbooks' roles, one each: tests/test_remediation_roles.py.
    assert list(roles) == ["RulesExecutionRole", *(runbook_role_id(r) for r in own_runbooks())]
    policies = {
        p["PolicyName"]: p["PolicyDocument"]["Statement"] for p in roles["RulesExecutionRole"]["Properties"]["Policies"]
    }
    assert list(policies) == ["declared-rule-actions", "own-log-groups"]
    (declared,) = policies["declared-rule-actions"]
    assert declared["Effect"] == "Allow"
    assert declared["Action"] == declared_actions(FUNCTIONS)
    assert set(declared["Action"]) == {a for rule in FUNCTIONS for a in rule.required_actions()}
    assert "config:PutEvaluations" in declared["Action"]
    assert declared["Resource"] == "*"
    (logs,) = policies["own-log-groups"]
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
            f"/aws/lambda/{function_name(rule)}:*"
        }
        for rule in FUNCTIONS
    ]


def test_execution_role_is_named_per_region_and_trusts_only_lambda(member: dict[str, Any]) -> None:
    role = member["Resources"]["RulesExecutionRole"]["Properties"]
    assert role["RoleName"] == {"Fn::Sub": "cis-config-pack-rules-${AWS::Region}"}
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert "ManagedPolicyArns" not in role


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_every_statement_names_its_actions(path: Path) -> None:
    for where, statement in statements(load(path)):
        actions = as_list(statement["Action"])
        assert "NotAction" not in statement, where
        if statement["Effect"] == "Allow":
            assert all("*" not in action for action in actions), (where, actions)
        elif where.endswith("/calls-of-this-runbook"):
            # Each runbook role's deny of every write to the pack's roles (tests/test_remediation_roles.py).
            assert statement["Sid"] == "NeverThePacksOwnRolesOrPolicies" and all("*" not in a for a in actions)
        else:
            # The code bucket's two denies: TLS-only, which must cover every S3 action, and
            # writes by anyone but the writer principal, which names each write action.
            assert (path.name, where) == ("code-bucket.yaml", "CodeBucketPolicy")
            tls_only = statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            assert actions == ["s3:*"] if tls_only else all("*" not in action for action in actions), actions
        if "sts:AssumeRole" in actions and "Principal" not in statement:
            raise AssertionError(f"{where}: sts:AssumeRole granted as a permission")


def test_functions_one_per_custom_rule(member: dict[str, Any]) -> None:
    functions = resources_of(member, "AWS::Lambda::Function")
    assert list(functions) == [f"{logical_id(rule.name)}Function" for rule in FUNCTIONS]
    for rule in FUNCTIONS:
        function = functions[f"{logical_id(rule.name)}Function"]
        properties = function["Properties"]
        assert properties["FunctionName"] == function_name(rule)
        assert properties["Runtime"] == "python3.12"
        assert properties["Handler"] == f"{rule.name}.lambda_handler"
        assert properties["Role"] == {"Fn::GetAtt": ["RulesExecutionRole", "Arn"]}
        assert properties["Layers"] == [{"Ref": "RdklibLayer"}]
        assert properties["Code"] == {
            "S3Bucket": {"Fn::Sub": "${CodeBucketPrefix}-${AWS::Region}"},
            "S3Key": {"Ref": f"{logical_id(rule.name)}CodeKey"},
        }
        assert function["Condition"] == member_template.rule_condition(rule)


def test_functions_carry_each_rules_timeout_and_memory(member: dict[str, Any]) -> None:
    # The figures of docs/reliability.md "Timeouts and memory", from each rule's parameters.json.
    functions = resources_of(member, "AWS::Lambda::Function")
    for rule in FUNCTIONS:
        properties = functions[f"{logical_id(rule.name)}Function"]["Properties"]
        assert (properties["Timeout"], properties["MemorySize"]) == (
            rule.parameters["LambdaTimeout"],
            rule.parameters["LambdaMemorySize"],
        ), rule.name
    timeouts = {rule.name: rule.parameters["LambdaTimeout"] for rule in FUNCTIONS}
    # The rules that walk every trail bucket get the longest timeout (benchmarks/large_accounts.py).
    assert timeouts["CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC"] == max(timeouts.values())


def test_layer_is_built_for_the_runtime(member: dict[str, Any]) -> None:
    layer = member["Resources"]["RdklibLayer"]
    assert layer["Type"] == "AWS::Lambda::LayerVersion"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["Content"]["S3Key"] == {"Ref": "RdklibLayerKey"}


def test_lambda_permissions_carry_source_account(member: dict[str, Any]) -> None:
    permissions = resources_of(member, "AWS::Lambda::Permission")
    assert list(permissions) == [f"{logical_id(rule.name)}Permission" for rule in FUNCTIONS]
    for rule in FUNCTIONS:
        permission = permissions[f"{logical_id(rule.name)}Permission"]
        assert permission["Properties"] == {
            "FunctionName": {"Fn::GetAtt": [f"{logical_id(rule.name)}Function", "Arn"]},
            "Action": "lambda:InvokeFunction",
            "Principal": "config.amazonaws.com",
            "SourceAccount": {"Ref": "AWS::AccountId"},
        }
        assert permission["Condition"] == member_template.rule_condition(rule)


def test_conformance_pack_is_wired_to_this_stack(member: dict[str, Any]) -> None:
    pack = member["Resources"]["ConformancePack"]
    assert pack["Condition"] == "Cis120Selected"
    properties = pack["Properties"]
    # Then the remediation settings: tests/test_remediation_pack.py.
    assert properties["ConformancePackInputParameters"][:2] == [
        {"ParameterName": "ProfileLevel", "ParameterValue": {"Ref": "ProfileLevel"}},
        {
            "ParameterName": "GlobalResourcesProfile",
            "ParameterValue": {"Fn::If": ["IsGlobalResourcesRegion", {"Ref": "ProfileLevel"}, "none"]},
        },
    ]
    frequency = {"ParameterName": "CustomRuleFrequency", "ParameterValue": {"Ref": "CustomRuleFrequency"}}
    assert frequency in properties["ConformancePackInputParameters"], "every custom rule's schedule"
    pack_parameters = yaml.safe_load(properties["TemplateBody"]["Fn::Sub"][0])["Parameters"]
    for passed in properties["ConformancePackInputParameters"]:
        assert passed["ParameterName"] in pack_parameters
    body, variables = properties["TemplateBody"]["Fn::Sub"]
    assert len(body.encode()) <= conformance.MAX_BODY_BYTES, "AWS Config's limit for a conformance pack body"
    # The pack names no partition; this stack's Fn::Sub writes its own (aws-cn, aws-us-gov, ...).
    assert body == conformance.render(
        conformance.build_pack(lambda_arn_for=lambda name: "${" + f"{logical_id(name)}FunctionArn" + "}")
    ).replace("arn:aws:", "arn:${AWS::Partition}:")
    assert "arn:aws:" not in body
    pack_rules = yaml.safe_load(body)["Resources"]
    for rule in CUSTOM:
        source = pack_rules[logical_id(rule.name)]["Properties"]["Source"]
        assert (source["Owner"], source["SourceIdentifier"]) == (
            "CUSTOM_LAMBDA",
            "${" + f"{logical_id(rule.name)}FunctionArn}}",
        )
        arn = {
            "Fn::Select": [
                0,
                [
                    {"Fn::GetAtt": [f"{logical_id(rule.name)}Function", "Arn"]},
                    {"Ref": f"{logical_id(rule.name)}Permission"},
                ],
            ]
        }
        expected = (
            {"Fn::If": [member_template.rule_condition(rule), arn, "not-deployed-in-this-region"]}
            if rule.is_global
            else arn
        )
        assert variables[f"{logical_id(rule.name)}FunctionArn"] == expected
    assert list(variables) == [f"{logical_id(rule.name)}FunctionArn" for rule in CUSTOM]
    for rule in CUSTOM:
        assert "${" + f"{logical_id(rule.name)}FunctionArn" + "}" in body
    assert member["Parameters"]["ProfileLevel"]["AllowedValues"] == ["1", "2"]
    assert member["Conditions"]["IsGlobalResourcesRegion"] == {
        "Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "GlobalResourcesRegion"}]
    }
    assert member["Conditions"]["HasCodeSigning"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SigningProfileVersionArn"}, ""]}]
    }
    # The others: whether the operators' topic is given, where the remediation defaults' key and
    # topic are made (tests/test_remediation_pack.py), which versions' packs are chosen and which
    # rule functions they need (tests/test_member_template.py).
    assert set(member["Conditions"]) == {
        "IsGlobalResourcesRegion",
        "HasCodeSigning",
        member_template.ALARM_TOPIC_GIVEN,
        "CreateAlarmTopic",
        "CreateTrailKey",
        *(member_template.version_condition(version) for version in VERSIONS),
        *(member_template.rule_condition(rule) for rule in FUNCTIONS),
    }


def test_member_parameters_match_what_the_rollout_passes(member: dict[str, Any]) -> None:
    expected = {"CodeBucketPrefix", "ProfileLevel", "GlobalResourcesRegion", "RdklibLayerKey", "CustomRuleFrequency"}
    expected |= {f"{logical_id(rule.name)}CodeKey" for rule in FUNCTIONS}
    expected |= {member_template.deploy_parameter(version) for version in VERSIONS}
    # The remediation settings, the code signing profile and the operators' topic have defaults; the
    # rollout passes the topic when given (parameter_values(alarm_topic=...)).
    remediation = {*member_template.REMEDIATION_SETTINGS, member_template.SIGNING_PARAMETER, "AlarmTopicArn"}
    assert all("Default" in member["Parameters"][name] for name in remediation)
    # So have the rule parameters several rules share (one pack parameter each).
    shared = set(conformance.SHARED_RULE_PARAMETERS.values())
    assert all("Default" in member["Parameters"][name] for name in shared)
    assert set(member["Parameters"]) == expected | remediation | shared


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_every_checkov_skip_is_justified(path: Path) -> None:
    for name, resource in load(path)["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert set(skip) == {"id", "comment"}, name
            assert skip["id"].startswith(("CKV_AWS_", "CKV2_AWS_")), name
            assert len(skip["comment"]) >= 40, (name, skip["id"])


def test_code_bucket_is_private_encrypted_tls_only_and_org_readable() -> None:
    document = load(TEMPLATES_DIR / "code-bucket.yaml")
    bucket = document["Resources"]["CodeBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert bucket["BucketName"] == {"Fn::Sub": "${BucketPrefix}-${AWS::Region}"}
    read, writer, tls = document["Resources"]["CodeBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (writer["Effect"], writer["Condition"]) == (
        "Deny",
        {"ArnNotEquals": {"aws:PrincipalArn": {"Ref": "WriterPrincipalArn"}}},
    )
    assert {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(writer["Action"])
    assert read["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    assert (tls["Effect"], tls["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_review_aggregates_the_whole_organisation_with_named_actions() -> None:
    document = load(TEMPLATES_DIR / "review.yaml")
    aggregator = document["Resources"]["Aggregator"]["Properties"]
    assert aggregator["OrganizationAggregationSource"] == {
        "RoleArn": {"Fn::GetAtt": ["AggregatorRole", "Arn"]},
        "AllAwsRegions": True,
    }
    role = document["Resources"]["AggregatorRole"]["Properties"]
    (statement,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == [
        "organizations:DescribeOrganization",
        "organizations:ListAWSServiceAccessForOrganization",
        "organizations:ListAccounts",
        "organizations:ListDelegatedAdministrators",
    ]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "config.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


@pytest.mark.parametrize("profile", ["1", "2"])
def test_member_passes_the_profile_only_in_the_global_resources_region(member: dict[str, Any], profile: str) -> None:
    """Resolve the member template's pack parameters as CloudFormation would, per region, and
    check that the pack then creates the global rules in that region only, at the chosen profile."""
    properties = member["Resources"]["ConformancePack"]["Properties"]
    body = yaml.safe_load(properties["TemplateBody"]["Fn::Sub"][0])
    name = member_template.GLOBAL_CONDITION
    condition = member["Conditions"][name]
    assert condition == {"Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "GlobalResourcesRegion"}]}
    global_names = {rule.name for rule in load_rules() if rule.is_global}
    global_names |= {check.name for check in PROCESS_CHECKS}
    for region, is_global_region in (("us-east-1", True), ("eu-west-1", False)):
        values = {"ProfileLevel": profile, "GlobalResourcesRegion": "us-east-1", "AWS::Region": region}

        # The member's one condition, evaluated from the same values.
        holds = {
            name: _resolve(condition["Fn::Equals"][0], values, {}) == _resolve(condition["Fn::Equals"][1], values, {})
        }
        assert holds[name] == is_global_region
        passed = {
            p["ParameterName"]: _resolve(p["ParameterValue"], values, holds)
            for p in properties["ConformancePackInputParameters"]
            if p["ParameterName"] in ("ProfileLevel", "GlobalResourcesProfile")
        }
        assert passed == {"ProfileLevel": profile, "GlobalResourcesProfile": profile if is_global_region else "none"}
        rules = set(_created(body, passed))
        expected_global = {n for n in global_names if is_global_region and _level(n) <= int(profile)}
        assert rules & global_names == expected_global, region


def _resolve(node: Any, values: dict[str, str], conditions: dict[str, bool]) -> Any:
    """A member-template value made of Ref, Fn::If and literals, as CloudFormation resolves it."""
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return values[node["Ref"]]
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        test, then, otherwise = node["Fn::If"]
        return _resolve(then if conditions[test] else otherwise, values, conditions)
    assert isinstance(node, str), node
    return node


def _level(name: str) -> int:
    levels = {rule.name: rule.level for rule in load_rules()}
    return levels.get(name, 1)  # the process checks (1.15, 1.17) are Level 1


def _created(body: dict[str, Any], passed: dict[str, str]) -> list[str]:
    def value(node: Any) -> Any:
        if isinstance(node, dict):
            return passed.get(node["Ref"], body["Parameters"][node["Ref"]].get("Default"))
        return node

    def holds(condition: dict[str, Any]) -> bool:
        ((fn, arg),) = condition.items()
        if fn == "Fn::Not":
            return not holds(arg[0])
        assert fn == "Fn::Equals", fn
        return bool(value(arg[0]) == value(arg[1]))

    return [
        resource["Properties"]["ConfigRuleName"]
        for resource in body["Resources"].values()
        if resource["Type"] == "AWS::Config::ConfigRule"
        and ("Condition" not in resource or holds(body["Conditions"][resource["Condition"]]))
    ]
