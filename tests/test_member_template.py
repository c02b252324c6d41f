"""The member template deploys any set of the CIS versions' conformance packs (``./pack rollout
--benchmark``), sharing one Lambda function per custom rule: one switch and one condition per
version, the v1.2.0 pack inline, every later pack by ``TemplateS3Uri`` from the region's code
bucket with this stack's function ARNs, and each rule function only where a selected version's
pack uses it. The generated document is checked, as CloudFormation would resolve its conditions;
moto skips conformance packs, so no rollout is needed here (cfn-lint: ``./pack test``)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import yaml

from cispack.catalog.rules import custom_rules
from cispack.catalog.versions import LATER, V120, VERSIONS, benchmark
from cispack.dist.distribution import KEY_ROOT
from cispack.generate import conformance, member_template
from cispack.generate.conformance import lambda_arn_parameter, logical_id
from cispack.generate.versions import pack_path

FUNCTIONS = custom_rules(every_folder=True)
BY_NAME = {rule.name: rule for rule in FUNCTIONS}
LATER_ONLY = ("IAM_USER_ONE_ACTIVE_ACCESS_KEY", "METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES")
SWITCHES = {
    "cis-1.2.0": "DeployCis120",
    "cis-1.4.0": "DeployCis140",
    "cis-3.0.0": "DeployCis300",
    "cis-5.0.0": "DeployCis500",
    "cis-6.0.0": "DeployCis600",
}
NAMES = {
    "cis-1.2.0": "cis-aws-foundations-v1-2-0",
    "cis-1.4.0": "cis-aws-foundations-v1-4-0",
    "cis-3.0.0": "cis-aws-foundations-v3-0-0",
    "cis-5.0.0": "cis-aws-foundations-v5-0-0",
    "cis-6.0.0": "cis-aws-foundations-v6-0-0",
}


@pytest.fixture(scope="module")
def member() -> dict[str, Any]:
    # The committed file: tests/test_conformance_pack.py holds it equal to what ./pack generate writes.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document: dict[str, Any] = yaml.load(member_template.MEMBER_TEMPLATE.read_text(), Loader=loader)
    return document


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    return member_template.pack_bodies()


def _packs(member: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in member["Resources"].items()
        if resource["Type"] == "AWS::Config::ConformancePack"
    }


def _custom_rules_of(version: str) -> list[str]:
    if version == V120:
        return [rule.name for rule in custom_rules()]
    return [name for name in benchmark(version).rule_names if BY_NAME.get(name) is not None]


def test_one_switch_and_one_condition_per_version(member: dict[str, Any]) -> None:
    assert [member_template.deploy_parameter(version) for version in VERSIONS] == list(SWITCHES.values())
    for version, switch in SWITCHES.items():
        parameter = member["Parameters"][switch]
        assert parameter["AllowedValues"] == ["true", "false"]
        assert parameter["Default"] == ("true" if version == V120 else "false"), "v1.2.0 alone unless chosen"
        condition = member_template.version_condition(version)
        assert member["Conditions"][condition] == {"Fn::Equals": [{"Ref": switch}, "true"]}


def test_one_pack_per_version_under_its_condition(member: dict[str, Any]) -> None:
    packs = _packs(member)
    assert sorted(pack["Properties"]["ConformancePackName"] for pack in packs.values()) == sorted(NAMES.values())
    for version, name in NAMES.items():
        (pack,) = [p for p in packs.values() if p["Properties"]["ConformancePackName"] == name]
        assert pack["Condition"] == member_template.version_condition(version)
    v120 = member["Resources"]["ConformancePack"]["Properties"]
    assert v120["ConformancePackName"] == "cis-aws-foundations-v1-2-0"
    assert "TemplateBody" in v120, "the v1.2.0 pack stays inline, its remediation with it"


@pytest.mark.parametrize("version", LATER)
def test_each_later_pack_is_read_from_the_code_bucket_with_this_stacks_function_arns(
    member: dict[str, Any], bodies: dict[str, str], version: str
) -> None:
    properties = member["Resources"][member_template.pack_resource_id(version)]["Properties"]
    assert "TemplateBody" not in properties
    # Content-addressed: the committed conformance-packs/cis-<version>.yaml, as ./pack upload stores it.
    committed = pack_path(benchmark(version)).read_bytes()
    key = f"{KEY_ROOT}/templates/{version}/{hashlib.sha256(committed).hexdigest()[:20]}.yaml"
    assert properties["TemplateS3Uri"] == {"Fn::Sub": f"s3://${{CodeBucketPrefix}}-${{AWS::Region}}/{key}"}
    assert bodies[version].encode() == committed, "what ./pack upload stores"

    passed = {p["ParameterName"]: p["ParameterValue"] for p in properties["ConformancePackInputParameters"]}
    assert len(properties["ConformancePackInputParameters"]) <= conformance.MAX_PARAMETERS
    declared = yaml.safe_load(committed)["Parameters"]
    assert set(passed) <= set(declared), "AWS Config refuses a parameter the pack does not declare"
    custom = _custom_rules_of(version)
    assert {name for name in declared if name.endswith("LambdaArn")} == {lambda_arn_parameter(n) for n in custom}
    for name in custom:
        rule, logical = BY_NAME[name], logical_id(name)
        arn = {"Fn::Select": [0, [{"Fn::GetAtt": [f"{logical}Function", "Arn"]}, {"Ref": f"{logical}Permission"}]]}
        expected = (
            {"Fn::If": [member_template.rule_condition(rule), arn, "not-deployed-in-this-region"]}
            if rule.is_global
            else arn
        )
        assert passed[lambda_arn_parameter(name)] == expected, name
    # The profile, the global-resources answer, the schedule and the shared rule parameters: as the
    # v1.2.0 pack gets them.
    v120 = {
        p["ParameterName"]: p["ParameterValue"]
        for p in member["Resources"]["ConformancePack"]["Properties"]["ConformancePackInputParameters"]
    }
    shared = ["ProfileLevel", "GlobalResourcesProfile", "CustomRuleFrequency", "StaleAfterHours"]
    for name in shared:
        assert passed[name] == v120[name], name
    assert passed["GlobalResourcesProfile"] == {"Fn::If": ["IsGlobalResourcesRegion", {"Ref": "ProfileLevel"}, "none"]}
    assert not {"AutomaticRemediation", "TrailBucket"} & set(passed), "the later packs carry no remediation"


def _holds(name: str, conditions: dict[str, Any], values: dict[str, str]) -> bool:
    def evaluate(node: Any) -> Any:
        if isinstance(node, str):
            return node
        ((function, argument),) = node.items()
        if function == "Ref":
            return values[argument]
        if function == "Condition":
            return evaluate(conditions[argument])
        if function == "Fn::Equals":
            return evaluate(argument[0]) == evaluate(argument[1])
        if function == "Fn::Not":
            return not evaluate(argument[0])
        if function == "Fn::Or":
            return any(evaluate(item) for item in argument)
        if function == "Fn::And":
            return all(evaluate(item) for item in argument)
        raise AssertionError(f"unexpected {function} in a condition")

    return bool(evaluate(conditions[name]))


SELECTIONS = [
    ("v1.2.0 alone, the default", (V120,)),
    ("v3.0.0 alone", ("cis-3.0.0",)),
    ("v1.2.0 and v3.0.0", (V120, "cis-3.0.0")),
    ("every version", VERSIONS),
    ("none", ()),
]


@pytest.mark.parametrize(("case", "selected"), SELECTIONS, ids=[case for case, _ in SELECTIONS])
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"], ids=["global-resources region", "other region"])
def test_a_rule_function_exists_only_where_a_selected_version_uses_it(
    member: dict[str, Any], case: str, selected: tuple[str, ...], region: str
) -> None:
    values = {
        **{name: str(spec.get("Default", "")) for name, spec in member["Parameters"].items()},
        "AWS::Region": region,
        "GlobalResourcesRegion": "us-east-1",
        **member_template.benchmark_parameters(selected),
    }
    conditions = member["Conditions"]
    created = {
        name
        for name, resource in member["Resources"].items()
        if "Condition" not in resource or _holds(resource["Condition"], conditions, values)
    }
    packs = {member["Resources"][p]["Properties"]["ConformancePackName"] for p in _packs(member) if p in created}
    assert packs == {NAMES[version] for version in selected}
    needed = {name for version in selected for name in _custom_rules_of(version)}
    expected = {name for name in needed if region == "us-east-1" or not BY_NAME[name].is_global}
    for rule in FUNCTIONS:
        logical = logical_id(rule.name)
        parts = {f"{logical}{part}" for part in ("LogGroup", "Function", "Permission", "InvokeConfig", "ErrorsAlarm")}
        assert parts <= created if rule.name in expected else not parts & created, (case, region, rule.name)
    if selected == (V120,):
        assert not {f"{logical_id(name)}Function" for name in LATER_ONLY} & created
    assert "RulesExecutionRole" in created and "RdklibLayer" in created


def test_the_execution_role_grants_the_union_of_every_custom_rules_actions(member: dict[str, Any]) -> None:
    (statement,) = next(
        p["PolicyDocument"]["Statement"]
        for p in member["Resources"]["RulesExecutionRole"]["Properties"]["Policies"]
        if p["PolicyName"] == "declared-rule-actions"
    )
    assert statement["Action"] == sorted({action for rule in FUNCTIONS for action in rule.required_actions()})
    for name in LATER_ONLY:
        assert set(BY_NAME[name].required_actions()) <= set(statement["Action"])


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        (("cis-1.2.0", "cis-3.0.0"), ("true", "false", "true", "false", "false")),
        (("cis-6.0.0",), ("false", "false", "false", "false", "true")),
        ((), ("false",) * 5),
    ],
)
def test_benchmark_parameters_set_every_switch(selected: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert member_template.benchmark_parameters(selected) == dict(zip(SWITCHES.values(), expected, strict=True))


def test_an_unknown_version_has_no_switch() -> None:
    with pytest.raises(ValueError, match=r"^Unknown CIS version 'cis-2\.0\.0': expected one of cis-1\.2\.0, "):
        member_template.benchmark_parameters(["cis-2.0.0"])
