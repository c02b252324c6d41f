"""The conformance pack: fresh, within AWS Config's limits, and holding all 49 controls of CIS v1.2.0
as the public interface (:mod:`cispack.catalog.contract`) states them, with the profile levels of
the benchmark (:mod:`cispack.catalog.recommendations`, pinned by ``tests/test_catalog.py``).

Expectations come from the catalogue, never from a list of rule folders: a control whose rule
folder is not in ``rules/`` yet is reported as missing (skipped), not assumed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from cispack import ROOT, RULES_DIR
from cispack.catalog.contract import CONTRACT, PROCESS_CHECK_CONTROLS, deployed_parameters
from cispack.catalog.process_checks import PROCESS_CHECKS
from cispack.catalog.recommendations import BY_ID
from cispack.catalog.rules import GLOBAL_RULESET, load_rules
from cispack.generate.conformance import (
    ALLOWED_FUNCTIONS,
    ALLOWED_RESOURCE_TYPES,
    CUSTOM_RULE_FREQUENCY,
    MAX_BODY_BYTES,
    MAX_DESCRIPTION,
    MAX_PARAMETERS,
    PACK_PATH,
    build_pack,
    controls_table,
    intrinsic_functions,
    lambda_arn_parameter,
    render,
)

# Deployments: the global-resources region at Level 2, and another region of the same deployment.
GLOBAL = {"ProfileLevel": "2", "GlobalResourcesProfile": "2"}
ELSEWHERE = dict(GLOBAL, GlobalResourcesProfile="none")
COMBINATIONS = [(level, profile) for level in ("1", "2") for profile in ("none", "1", "2")]


# --- the contract and the benchmark's levels ----------------------------------------------------


def contract() -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The pinned interface as {rule name: {kind, controls, parameters}} and the process-check controls."""
    rules = {
        entry.name: {
            "kind": entry.kind,
            "controls": list(entry.controls),
            "parameters": deployed_parameters(entry) if entry.kind == "managed" else {},
        }
        for entry in CONTRACT
    }
    return rules, set(PROCESS_CHECK_CONTROLS)


def missing_folders() -> list[str]:
    rules, _ = contract()
    return sorted(name for name in rules if not (RULES_DIR / name / "parameters.json").is_file())


# --- evaluating the pack as CloudFormation would ------------------------------------------------


def _value(pack: dict[str, Any], node: Any, params: dict[str, str]) -> Any:
    """A literal, or a Ref to a parameter: what the pack's conditions may compare."""
    if isinstance(node, dict):
        ((fn, arg),) = node.items()
        assert fn == "Ref", f"a condition compares {fn}: only parameters and literals"
        parameter = pack["Parameters"][arg]
        value = params.get(arg, parameter.get("Default"))
        assert value is not None, f"{arg} has no default and no value"
        assert value in parameter.get("AllowedValues", [value]), (arg, value)
        return value
    assert isinstance(node, str), node
    return node


def _condition(pack: dict[str, Any], node: Any, params: dict[str, str]) -> bool:
    """A condition as CloudFormation evaluates it; only ``Fn::Equals`` and ``Fn::Not`` of one
    ``Fn::Equals`` are accepted (no ``Fn::And``, no ``Condition`` references, no ``Fn::If``)."""
    ((fn, arg),) = node.items()
    if fn == "Fn::Not":
        ((inner,),) = [arg]
        assert set(inner) == {"Fn::Equals"}, f"Fn::Not of {set(inner)}"
        return not _condition(pack, inner, params)
    assert fn == "Fn::Equals", f"unexpected function {fn} in a condition"
    left, right = arg
    return bool(_value(pack, left, params) == _value(pack, right, params))


def created(pack: dict[str, Any], params: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The rules a deployment with ``params`` creates, by ConfigRuleName."""
    result = {}
    for resource in pack["Resources"].values():
        if resource["Type"] != "AWS::Config::ConfigRule":
            continue  # remediations: tests/test_remediation_pack.py
        condition = resource.get("Condition")
        if condition is None or _condition(pack, pack["Conditions"][condition], params):
            result[resource["Properties"]["ConfigRuleName"]] = resource["Properties"]
    return result


def controls_of(rules: dict[str, dict[str, Any]], names: set[str]) -> set[str]:
    covered = {c for name in names if name in rules for c in rules[name]["controls"]}
    covered |= {check.control for check in PROCESS_CHECKS if check.name in names}
    return covered


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    return yaml.safe_load(PACK_PATH.read_text())


# --- freshness and limits ------------------------------------------------------------------------


def test_generated_files_are_fresh():
    """conformance-pack.yaml, the README's control table and templates/member.yaml: one command writes them."""
    from cispack.catalog.remediations import REMEDIATIONS
    from cispack.generate import generated_files, stale_files

    # The rdk Remediation block of each rule's parameters.json: tests/test_remediation_pack.py.
    rdk = {f"rules/{rule.name}/parameters.json" for rule in load_rules()}
    assert {str(path.relative_to(ROOT)) for path in generated_files()} == {
        "conformance-pack.yaml",
        "README.md",
        "templates/member.yaml",
        "templates/rdk-role.yaml",
        "templates/remediation.yaml",
        "docs/remediation.md",
        # The later CIS versions (tests/test_version_packs.py).
        "docs/versions.md",
        *(f"conformance-packs/cis-{v}.yaml" for v in ("1.4.0", "3.0.0", "5.0.0", "6.0.0")),
    } | rdk
    assert {r.rule for r in REMEDIATIONS} <= {rule.name for rule in load_rules()} | set(missing_folders())
    stale = [str(path.relative_to(ROOT)) for path in stale_files()]
    assert not stale, f"{', '.join(stale)} stale: run ./pack generate and commit the result"


def test_pack_within_conformance_pack_limits(pack):
    size = len(PACK_PATH.read_bytes())
    print(f"conformance-pack.yaml: {size} bytes, {len(pack['Parameters'])} parameters")
    assert size <= MAX_BODY_BYTES
    assert len(pack["Parameters"]) <= MAX_PARAMETERS
    # Every custom rule of the interface needs a Lambda ARN parameter: the design must fit them all.
    custom = [name for name, rule in contract()[0].items() if rule["kind"] == "custom"]
    projected = 2 + max(len(custom), 20) + sum(1 for name in pack["Parameters"] if "Param" in name)
    assert projected <= MAX_PARAMETERS


def test_only_config_rules_and_supported_functions(pack):
    assert set(pack) <= {"Parameters", "Conditions", "Resources"}
    assert {r["Type"] for r in pack["Resources"].values()} <= ALLOWED_RESOURCE_TYPES
    # The functions AWS's own conformance packs use, and no others (FACTS.md).
    assert ALLOWED_FUNCTIONS == {"Ref", "Fn::If", "Fn::Equals", "Fn::Not"}
    assert intrinsic_functions(pack) <= ALLOWED_FUNCTIONS
    assert "Fn::And" not in json.dumps(pack) and "Condition" not in intrinsic_functions(pack)
    # Resources use Ref, Fn::If and AWS::NoValue; each condition is one Fn::Equals, or Fn::Not of
    # one, over parameters and literals (no Fn::If in Conditions, which CloudFormation refuses).
    assert intrinsic_functions(pack["Resources"]) <= {"Ref", "Fn::If"}
    for name, condition in pack["Conditions"].items():
        ((fn, arg),) = condition.items()
        assert fn in ("Fn::Equals", "Fn::Not"), name
        equals = arg[0]["Fn::Equals"] if fn == "Fn::Not" else arg
        assert len(arg) == (1 if fn == "Fn::Not" else 2), name
        assert intrinsic_functions(equals) <= {"Ref"}, name

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    assert set(refs(pack)) <= set(pack["Parameters"]) | {"AWS::NoValue"}, "no pseudo parameter but AWS::NoValue"
    for resource in pack["Resources"].values():
        assert resource.get("Condition", next(iter(pack["Conditions"]))) in pack["Conditions"]
        if resource["Type"] == "AWS::Config::ConfigRule":
            assert len(resource["Properties"]["Description"]) <= MAX_DESCRIPTION


def test_every_parameter_and_condition_is_used(pack):
    text = json.dumps(pack["Resources"]) + json.dumps(pack["Conditions"])
    for name in pack["Parameters"]:
        assert f'"Ref": "{name}"' in text, name
    used = {r.get("Condition") for r in pack["Resources"].values()}
    used |= set(re.findall(r'"Condition": "(\w+)"', text)) | set(re.findall(r'"Fn::If": \["(\w+)"', text))
    assert set(pack["Conditions"]) <= used


# --- the 49 controls -------------------------------------------------------------------------------


def _check_rule(name: str, spec: dict[str, Any], properties: dict[str, Any]) -> None:
    source = properties["Source"]
    document = json.loads((RULES_DIR / name / "parameters.json").read_text())["Parameters"]
    if spec["kind"] == "managed":
        assert source == {"Owner": "AWS", "SourceIdentifier": name}, name
        assert properties.get("InputParameters", {}) == spec["parameters"], name
        if document.get("SourcePeriodic"):
            assert properties["MaximumExecutionFrequency"] == document["SourcePeriodic"], name
        else:
            assert properties["Scope"]["ComplianceResourceTypes"] == document["SourceEvents"].split(","), name
    else:
        assert source["Owner"] == "CUSTOM_LAMBDA", name
        assert source["SourceIdentifier"] == {"Ref": lambda_arn_parameter(name)}, name
        # Every custom rule runs on the pack's one schedule parameter, in its scheduled source
        # detail (as rdk writes a custom rule), and on configuration changes when it has SourceEvents.
        details = [
            {
                "EventSource": "aws.config",
                "MessageType": "ScheduledNotification",
                "MaximumExecutionFrequency": {"Ref": CUSTOM_RULE_FREQUENCY},
            }
        ]
        if document.get("SourceEvents"):
            assert properties["Scope"] == {"ComplianceResourceTypes": document["SourceEvents"].split(",")}, name
            details += [
                {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
                {"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"},
            ]
        else:
            assert "Scope" not in properties, name
        assert source["SourceDetails"] == details, name
        assert "MaximumExecutionFrequency" not in properties, name
        optional = json.loads(document["OptionalParameters"])
        assert set(properties.get("InputParameters", {})) == set(optional), name


def test_present_rules_match_the_contract(pack):
    rules, _ = contract()
    kinds = [spec["kind"] for spec in rules.values()]
    # 6 custom rules and 14 monitoring rules; 21 managed rules for 27 controls.
    assert (kinds.count("custom"), kinds.count("managed")) == (20, 21), (
        "the interface lists 20 custom and 21 managed rules"
    )
    deployed = created(pack, GLOBAL)
    for name, spec in rules.items():
        if name in missing_folders():
            assert name not in deployed
            continue
        assert name in deployed, f"{name} (CIS {', '.join(spec['controls'])}) is not in the pack"
        _check_rule(name, spec, deployed[name])


def test_all_49_controls_are_in_the_pack(pack):
    missing = missing_folders()
    if missing:
        pytest.skip(f"rule folders not in rules/ yet: {', '.join(missing)}")
    rules, process = contract()
    assert process == {"1.15", "1.17"}
    covered = controls_of(rules, set(created(pack, GLOBAL)))
    assert covered == set(BY_ID), f"not covered: {sorted(set(BY_ID) - covered)}"
    assert len(covered) == 49


def test_process_checks_for_1_15_and_1_17(pack):
    _, process = contract()
    deployed = created(pack, GLOBAL)
    assert {check.control for check in PROCESS_CHECKS} == process
    for check in PROCESS_CHECKS:
        properties = deployed[check.name]
        assert properties["Source"] == {"Owner": "AWS", "SourceIdentifier": "AWS_CONFIG_PROCESS_CHECK"}
        description = properties["Description"]
        assert description.startswith(f"CIS {check.control} manual check: ")
        assert "Edit compliance" in description and "put-external-evaluation" in description
        assert len(description) <= MAX_DESCRIPTION


def test_level_1_profile_holds_exactly_the_level_1_controls_of_the_benchmark(pack):
    levels = {control.id: control.level for control in BY_ID.values()}
    assert len(levels) == 49
    rules, _ = contract()
    present = set(BY_ID) - {c for name in missing_folders() for c in rules[name]["controls"]}
    for profile, expected in (("1", {c for c, level in levels.items() if level == 1} & present), ("2", present)):
        # A deployment of one profile: its global-resources region, and any other region.
        home = set(created(pack, {"ProfileLevel": profile, "GlobalResourcesProfile": profile}))
        other = set(created(pack, {"ProfileLevel": profile, "GlobalResourcesProfile": "none"}))
        assert other <= home
        assert controls_of(rules, home) == expected, f"Level {profile}"
    level1 = controls_of(rules, set(created(pack, {"ProfileLevel": "1", "GlobalResourcesProfile": "1"})))
    level2 = controls_of(rules, set(created(pack, GLOBAL)))
    # Level 2 includes Level 1, and a rule mapped to Level 1 controls is never held back.
    assert level1 <= level2


def test_global_rules_are_created_only_in_the_global_resources_region(pack):
    here = created(pack, GLOBAL)
    elsewhere = created(pack, ELSEWHERE)
    global_rules = {rule.name for rule in load_rules() if GLOBAL_RULESET in rule.rulesets}
    process = {check.name for check in PROCESS_CHECKS}
    assert global_rules and global_rules <= set(here)
    assert not (global_rules | process) & set(elsewhere)
    assert set(elsewhere) == set(here) - global_rules - process
    assert "VPC_PEERING_ROUTES_LEAST_ACCESS" not in global_rules


@pytest.mark.parametrize(("level", "global_profile"), COMBINATIONS)
def test_each_profile_combination_creates_its_rules(pack, level, global_profile):
    """ProfileLevel decides the regional rules, GlobalResourcesProfile the global ones and the
    process checks: none -> not created, 1 -> Level 1 ones, 2 -> all."""
    rules = load_rules()
    deployed = set(created(pack, {"ProfileLevel": level, "GlobalResourcesProfile": global_profile}))
    regional = {rule.name for rule in rules if not rule.is_global and rule.level <= int(level)}
    if global_profile == "none":
        global_rules: set[str] = set()
        process: set[str] = set()
    else:
        global_rules = {rule.name for rule in rules if rule.is_global and rule.level <= int(global_profile)}
        process = {check.name for check in PROCESS_CHECKS}
    assert deployed == regional | global_rules | process
    # A Level 2 global rule exists only where GlobalResourcesProfile is 2; a global rule of any
    # level only where it is not none.
    level2_global = {rule.name for rule in rules if rule.is_global and rule.level >= 2}
    assert level2_global, "no Level 2 rule on global resources: the GlobalResourcesLevel2 case is untested"
    assert bool(level2_global & deployed) == (global_profile == "2")
    assert bool({rule.name for rule in rules if rule.is_global} & deployed) == (global_profile != "none")


def test_profile_parameters_and_conditions(pack):
    parameters = pack["Parameters"]
    assert parameters["ProfileLevel"]["AllowedValues"] == ["1", "2"]
    assert parameters["ProfileLevel"]["Default"] == "1"
    assert parameters["GlobalResourcesProfile"]["AllowedValues"] == ["none", "1", "2"]
    # With no parameters, one account in one region gets the whole Level 1 profile, global rules included.
    assert parameters["GlobalResourcesProfile"]["Default"] == "1"
    assert not {"DeploymentRegion", "GlobalResourcesRegion"} & set(parameters)
    conditions = pack["Conditions"]
    assert conditions["ProfileIsLevel2"] == {"Fn::Equals": [{"Ref": "ProfileLevel"}, "2"]}
    assert conditions["GlobalResourcesHere"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "GlobalResourcesProfile"}, "none"]}]
    }
    assert conditions["GlobalResourcesLevel2"] == {"Fn::Equals": [{"Ref": "GlobalResourcesProfile"}, "2"]}
    by_condition: dict[str | None, set[tuple[bool, int]]] = {}
    names = {logical: resource["Properties"]["ConfigRuleName"] for logical, resource in pack["Resources"].items()}
    rules = {rule.name: rule for rule in load_rules()}
    for logical, resource in pack["Resources"].items():
        name = names[logical]
        kind = (True, 1) if name not in rules else (rules[name].is_global, rules[name].level)
        by_condition.setdefault(resource.get("Condition"), set()).add(kind)
    assert by_condition[None] == {(False, 1)}
    assert by_condition["ProfileIsLevel2"] == {(False, 2)}
    assert by_condition["GlobalResourcesHere"] == {(True, 1)}
    assert by_condition["GlobalResourcesLevel2"] == {(True, 2)}


def test_defaults_deploy_the_level_1_profile_everywhere(pack):
    """A put-conformance-pack with no parameters in a single-region account."""
    assert set(created(pack, {})) == set(created(pack, {"ProfileLevel": "1", "GlobalResourcesProfile": "1"}))
    assert {check.name for check in PROCESS_CHECKS} <= set(created(pack, {}))


# --- the interface for the StackSet member template --------------------------------------------


def test_build_pack_with_lambda_arns_from_the_caller():
    arn = "arn:aws:lambda:eu-west-1:111122223333:function:{}".format
    template = build_pack(lambda_arn_for=arn)
    assert not [name for name in template["Parameters"] if name.endswith("LambdaArn")]
    rules = [r for r in template["Resources"].values() if r["Type"] == "AWS::Config::ConfigRule"]
    custom = [r for r in rules if r["Properties"]["Source"]["Owner"] == "CUSTOM_LAMBDA"]
    assert custom
    for resource in custom:
        assert resource["Properties"]["Source"]["SourceIdentifier"] == arn(resource["Properties"]["ConfigRuleName"])
    assert yaml.safe_load(render(template)) == template
    from cfnlint.api import lint

    assert lint(render(template)) == []


def test_empty_optional_parameters_are_left_out_with_no_value():
    template = build_pack()
    for resource in template["Resources"].values():
        for value in resource["Properties"].get("InputParameters", {}).values():
            if isinstance(value, dict) and "Fn::If" in value:
                condition, _, otherwise = value["Fn::If"]
                assert otherwise == {"Ref": "AWS::NoValue"}
                assert "Fn::Not" in template["Conditions"][condition]


# --- the README's control table -------------------------------------------------------------------


def test_control_table_lists_every_control_with_its_kind():
    table = controls_table()
    rows = [line for line in table.splitlines() if re.match(r"\| \d\.\d+ \|", line)]
    assert [row.split("|")[1].strip() for row in rows] == list(BY_ID)
    kinds = {row.split("|")[1].strip(): row.split("|")[6].strip() for row in rows}
    assert kinds["1.15"] == kinds["1.17"] == "process check"
    assert kinds["4.4"] in ("custom", "—")
    assert kinds["1.2"] in ("managed", "—")


def test_generated_files_are_written_by_the_generate_command(tmp_path, monkeypatch):
    from cispack.cli import cmd_generate
    from cispack.generate import conformance, member_template, runbooks

    pack_path, table_path = tmp_path / "conformance-pack.yaml", tmp_path / "README.md"
    member_path = tmp_path / "templates" / "member.yaml"
    committed_member = member_template.MEMBER_TEMPLATE
    monkeypatch.setattr(conformance, "PACK_PATH", pack_path)
    monkeypatch.setattr(conformance, "CONTROLS_TABLE_PATH", table_path)
    monkeypatch.setattr(member_template, "MEMBER_TEMPLATE", member_path)
    monkeypatch.setattr(runbooks, "SETUP_TEMPLATE", tmp_path / "templates" / "remediation.yaml")
    monkeypatch.setattr(cmd_generate, "ROOT", tmp_path)
    args = type("Args", (), {"check": True, "rules_dir": None})()
    assert cmd_generate.cmd_generate(args) == 1
    args.check = False
    assert cmd_generate.cmd_generate(args) == 0
    assert pack_path.read_text() == PACK_PATH.read_text()
    assert member_path.read_text() == committed_member.read_text()
    args.check = True
    assert cmd_generate.cmd_generate(args) == 0
    # --check covers the member template too.
    member_path.write_text(member_path.read_text() + "# edited\n")
    assert cmd_generate.cmd_generate(args) == 1


def test_generate_templates_is_an_alias_of_generate():
    import argparse

    from cispack.cli import cmd_generate, commands

    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers(dest="command"))
    for name in ("generate", "generate-templates"):
        assert parser.parse_args([name, "--check"]).func is cmd_generate.cmd_generate
