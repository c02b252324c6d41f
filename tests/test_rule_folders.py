"""Every rule folder is well formed, named like its rule, and matches the public contract."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from cispack import RULELIB_DIR, RULES_DIR
from cispack.catalog import contract as interface
from cispack.catalog.recommendations import BY_ID
from cispack.catalog.rules import CUSTOM_RUNTIME, load_rules
from cispack.catalog.versions import later_benchmarks

SCHEMA = json.loads((Path(__file__).parent.parent / "cispack" / "catalog" / "parameters.schema.json").read_text())
# Every folder: the CIS v1.2.0 pack's rules and those only later versions use.
RULES = load_rules(every_folder=True)
CUSTOM = [r for r in RULES if r.is_custom]
MANAGED = [r for r in RULES if not r.is_custom]


def ids(rules):
    return [r.name for r in rules]


def test_every_folder_in_rules_is_a_rule():
    # rdk treats any folder holding parameters.json or <name>/<name>.py as a rule; nothing else may live there.
    folders = sorted(p.name for p in RULES_DIR.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(r.name for r in RULES)
    assert not [p.name for p in RULES_DIR.iterdir() if p.is_file()]


@pytest.mark.parametrize("rule", RULES, ids=ids(RULES))
def test_parameters_json_is_valid_and_named_like_its_folder(rule):
    document = json.loads((rule.folder / "parameters.json").read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["Parameters"]["RuleName"] == rule.folder.name
    later = [(b, rec) for b in later_benchmarks() for rec in b.recommendations_of(rule.name)]
    assert rule.controls or later, "RuleSets must map the rule to its CIS control(s)"
    # The lowest level of the v1.2.0 controls it checks; for a rule only later versions use, of theirs.
    lowest = min(c.level for c in rule.controls) if rule.controls else min(rec.level for _, rec in later)
    level = f"cis-level{lowest}"
    assert level in rule.rulesets, f"{rule.name}: expected {level} from the benchmark's profile levels"
    assert not ({"cis-level1", "cis-level2"} - {level}) & set(rule.rulesets)
    scopes = {"global-resources", "regional"} & set(rule.rulesets)
    assert len(scopes) == 1, "each rule is deployed in one region (global-resources) or in every region (regional)"
    json.loads(document["Parameters"]["InputParameters"])
    json.loads(document["Parameters"]["OptionalParameters"])


@pytest.mark.parametrize("rule", MANAGED, ids=ids(MANAGED))
def test_managed_rule_folder_holds_only_parameters(rule):
    assert sorted(p.name for p in rule.folder.iterdir()) == ["parameters.json"]
    assert rule.parameters["SourceRuntime"] is None
    if rule.in_v120_pack:
        assert rule.source_identifier == rule.name
    else:
        # A second instance of a managed rule for later versions has a name of its own
        # (e.g. IAM_PASSWORD_POLICY_LENGTH_AND_REUSE); its description names the managed rule.
        assert rule.source_identifier in rule.description or rule.source_identifier == rule.name


@pytest.mark.parametrize("rule", CUSTOM, ids=ids(CUSTOM))
def test_custom_rule_folder_module_class_and_test_agree(rule):
    assert rule.parameters["SourceRuntime"] == CUSTOM_RUNTIME
    assert rule.periodic, "every custom rule is periodic"
    assert (rule.folder / f"{rule.name}.py").is_file()
    assert (rule.folder / f"{rule.name}_test.py").is_file()
    module = rule.module()
    assert callable(module.lambda_handler)
    cls = getattr(module, rule.name)
    assert module.__doc__ and "Scenarios:" in module.__doc__, "the module docstring is the rule's specification"
    optional = json.loads(rule.parameters["OptionalParameters"])
    accepted = cls.all_parameters()  # its own and staleAfterHours, which every custom rule takes
    assert set(optional) == set(accepted), "OptionalParameters lists exactly the parameters the rule accepts"
    for name, default in optional.items():
        assert accepted[name].parse(name, default) == accepted[name].default


@pytest.mark.parametrize("rule", CUSTOM, ids=ids(CUSTOM))
def test_custom_rule_declares_its_lambda_timeout_and_memory(rule):
    # The schema requires both for custom rules and forbids them for managed ones; the values are
    # those of README "Timeouts and memory" (benchmarks/large_accounts.py).
    assert 60 <= rule.parameters["LambdaTimeout"] <= 900
    assert rule.parameters["LambdaMemorySize"] >= 256, "the rule's CPU share: 256 MB is a seventh of a vCPU"


def test_schema_requires_timeout_and_memory_of_custom_rules_only():
    custom = json.loads((CUSTOM[0].folder / "parameters.json").read_text())
    del custom["Parameters"]["LambdaTimeout"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(custom, SCHEMA)
    managed = json.loads((MANAGED[0].folder / "parameters.json").read_text())
    managed["Parameters"]["LambdaMemorySize"] = 256
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(managed, SCHEMA)


def _rdk_package() -> Path | None:
    spec = importlib.util.find_spec("rdk")
    return Path(spec.origin).parent if spec and spec.origin else None


@pytest.mark.skipif(_rdk_package() is None, reason="rdk is not installed")
def test_the_rdk_deployment_path_gives_every_rule_its_timeout_and_memory():
    """rdk 1.0.0 reads neither key from parameters.json: it gives every function the one
    ``--lambda-timeout`` of the command (60 s by default) and 256 MB. So the documented rdk
    commands pass the largest timeout, and no rule may need more memory than rdk gives."""
    template = yaml.safe_load((_rdk_package() / "template" / "configRule.yaml").read_text())
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    rdk_memory = int(function["Properties"]["MemorySize"])
    assert all(rule.parameters["LambdaMemorySize"] <= rdk_memory for rule in CUSTOM)
    longest = max(rule.parameters["LambdaTimeout"] for rule in CUSTOM)
    root = RULES_DIR.parent
    readme = "\n".join(path.read_text() for path in [root / "README.md", *sorted((root / "docs").glob("*.md"))])
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    commands = [line for block in blocks for line in block.splitlines() if re.match(r"rdk\b.*\bdeploy\b", line)]
    inline = re.findall(r"`(rdk [^`]*\bdeploy\b[^`]*--functions-only[^`]*)`", readme)
    assert commands, "the documentation shows rdk deploy commands"
    assert inline, "the documentation shows the --functions-only deployment"
    for command in commands + inline:
        assert f"--lambda-timeout {longest}" in command, command


@pytest.mark.parametrize("rule", CUSTOM, ids=ids(CUSTOM))
def test_custom_rule_shares_code_only_through_symlinks_to_rulelib(rule):
    for path in rule.folder.iterdir():
        if path.name in (f"{rule.name}.py", f"{rule.name}_test.py", "parameters.json") or path.suffix == ".zip":
            continue
        assert path.is_symlink(), f"{path.name} must be a symlink into rulelib/ (shared logic lives once)"
        assert path.resolve().parent == RULELIB_DIR.resolve()
        assert path.resolve().is_file(), "rdk zips a symlinked directory as an empty one: link files only"


@pytest.mark.parametrize("rule", CUSTOM, ids=ids(CUSTOM))
def test_declared_actions_are_iam_actions(rule):
    actions = rule.required_actions()
    assert "config:PutEvaluations" in actions
    for action in actions:
        assert re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", action), f"{action}: no wildcards, one action each"


def test_rules_match_the_contract():
    managed = [entry for entry in interface.CONTRACT if entry.kind == interface.MANAGED]
    custom = [entry for entry in interface.CONTRACT if entry.kind == interface.CUSTOM]
    assert (len(managed), len(custom)) == (21, 20)
    deployed = {r.name: r for r in RULES}
    for entry in managed:
        assert entry.name in deployed and not deployed[entry.name].is_custom, f"managed rule {entry.name} missing"
        assert deployed[entry.name].input_parameters == interface.deployed_parameters(entry), entry.name
        assert {c.id for c in deployed[entry.name].controls} == set(entry.controls), entry.name
    password = deployed["IAM_PASSWORD_POLICY"].input_parameters
    for key in ("RequireUppercaseCharacters", "RequireLowercaseCharacters", "RequireSymbols", "RequireNumbers"):
        assert password[key] == "true"
    for entry in custom:
        rule = deployed.get(entry.name)
        assert rule is not None and rule.is_custom, f"custom rule {entry.name} missing"
        assert {c.id for c in rule.controls} == set(entry.controls), entry.name
        evaluator = rule.rule_class()
        assert evaluator.RESOURCE_TYPE == entry.resource_type, entry.name
        assert set(evaluator.PARAMETERS) == set(entry.parameter_names), entry.name
        assert set(evaluator.all_parameters()) == set(entry.parameter_names) | set(interface.COMMON_PARAMETER_NAMES)


def test_benchmark_has_49_controls():
    assert len(BY_ID) == 49
