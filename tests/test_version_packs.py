"""The later CIS versions' conformance packs (conformance-packs/cis-<version>.yaml): within AWS
Config's limits, every recommendation of the version in the pack (a rule, or a process check
awaiting review), the same Lambda parameters as the v1.2.0 pack, and cfn-lint clean."""

from __future__ import annotations

import functools

import pytest
import yaml

from cispack.catalog.versions import LATER, benchmark
from cispack.generate import conformance
from cispack.generate.versions import MAX_RULES, PROCESS_CHECK, pack_path, process_check_name

GLOBAL = {"ProfileLevel": "2", "GlobalResourcesProfile": "2"}
# Rules and process checks per pack: counts a change must update deliberately.
SIZES = {"cis-1.4.0": (54, 5), "cis-3.0.0": (58, 5), "cis-5.0.0": (59, 5), "cis-6.0.0": (59, 5)}


@functools.cache
def load(name):
    return yaml.safe_load(pack_path(benchmark(name)).read_text())


@functools.cache
def v120_parameters():
    return yaml.safe_load(conformance.PACK_PATH.read_text())["Parameters"]


def created(pack, params):
    """ConfigRuleName -> properties of what a deployment with ``params`` creates."""
    defaults = {name: spec.get("Default") for name, spec in pack["Parameters"].items()}
    values = {**defaults, **params}

    def holds(node):
        ((fn, arg),) = node.items()
        if fn == "Fn::Not":
            return not holds(arg[0])
        left, right = (values[v["Ref"]] if isinstance(v, dict) else v for v in arg)
        return left == right

    return {
        r["Properties"]["ConfigRuleName"]: r["Properties"]
        for r in pack["Resources"].values()
        if "Condition" not in r or holds(pack["Conditions"][r["Condition"]])
    }


@pytest.mark.parametrize("name", LATER)
def test_pack_within_aws_config_limits(name):
    path = pack_path(benchmark(name))
    pack = load(name)
    size = len(path.read_bytes())
    rules = [r for r in pack["Resources"].values() if r["Type"] == "AWS::Config::ConfigRule"]
    print(f"{path.name}: {size} bytes, {len(rules)} rules, {len(pack['Parameters'])} parameters")
    assert size <= conformance.MAX_BODY_BYTES
    assert len(rules) <= MAX_RULES
    assert len(pack["Parameters"]) <= conformance.MAX_PARAMETERS
    assert {r["Type"] for r in pack["Resources"].values()} == {"AWS::Config::ConfigRule"}
    assert conformance.intrinsic_functions(pack) <= conformance.ALLOWED_FUNCTIONS
    assert all(len(r["Properties"]["Description"]) <= conformance.MAX_DESCRIPTION for r in rules)


@pytest.mark.parametrize("name", LATER)
def test_every_recommendation_is_a_rule_or_a_process_check(name):
    bench, pack = benchmark(name), load(name)
    deployed = created(pack, GLOBAL)
    process = {n for n, p in deployed.items() if p["Source"].get("SourceIdentifier") == PROCESS_CHECK}
    assert (len(deployed) - len(process), len(process)) == SIZES[name]
    for rec in bench.recommendations:
        if rec.rules:
            assert set(rec.rules) <= set(deployed), (name, rec.id)
            for rule in rec.rules:
                assert f"CIS v{bench.version} " in deployed[rule]["Description"]
                assert rec.id in deployed[rule]["Description"]
        else:
            check = deployed[process_check_name(rec)]
            assert check["Description"].startswith(f"CIS v{bench.version} {rec.id} (Level {rec.level}, ")
            assert "put-external-evaluation" in check["Description"]


@pytest.mark.parametrize("name", LATER)
def test_levels_follow_the_version(name):
    bench, pack = benchmark(name), load(name)
    level1 = created(pack, {"ProfileLevel": "1", "GlobalResourcesProfile": "1"})
    for rec in bench.recommendations:
        names = rec.rules or (process_check_name(rec),)
        if rec.level == 1:
            assert set(names) <= set(level1), (name, rec.id)
    level2_only = [n for n in bench.rule_names if bench.level_of(n) == 2]
    assert level2_only and not set(level2_only) & set(level1)
    elsewhere = created(pack, {"ProfileLevel": "2", "GlobalResourcesProfile": "none"})
    assert "IAM_USER_ONE_ACTIVE_ACCESS_KEY" not in elsewhere and "S3_BUCKET_SSL_REQUESTS_ONLY" in elsewhere


@pytest.mark.parametrize("name", LATER)
def test_custom_rules_share_the_v120_lambda_parameters(name):
    v120 = v120_parameters()
    pack = load(name)
    arns = {p for p in pack["Parameters"] if p.endswith("LambdaArn")}
    assert arns - set(v120) <= {"IamUserOneActiveAccessKeyLambdaArn", "MetricFilterAlarmOrganizationsChangesLambdaArn"}
    for common in ("ProfileLevel", "GlobalResourcesProfile", "CustomRuleFrequency"):
        assert pack["Parameters"][common] == v120[common]
    one_key = created(pack, GLOBAL)["IAM_USER_ONE_ACTIVE_ACCESS_KEY"]
    assert one_key["Source"]["SourceIdentifier"] == {"Ref": "IamUserOneActiveAccessKeyLambdaArn"}


def test_one_version_pack_is_cfn_lint_clean():
    # ./pack test lints every pack in one cfn-lint process (conformance-packs/*.yaml); one here.
    from cfnlint.api import lint

    assert lint(pack_path(benchmark("cis-5.0.0")).read_text()) == []
