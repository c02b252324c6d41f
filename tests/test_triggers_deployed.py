"""Both deployment paths carry the triggers of each custom rule: its ``parameters.json`` (what
``rdk deploy`` reads: ``SourcePeriodic`` and ``SourceEvents``), the conformance pack and the
organisation member template (both generated), and the rule's own ``CHANGE_TYPES``, which must
agree with ``SourceEvents``. The pack's one frequency parameter, ``CustomRuleFrequency``, reaches
every custom rule's schedule, and ``./pack cost`` prices each choice and the change triggers.
(``rdk deploy --all`` on the local AWS is checked in tests/test_end_to_end.py.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from cispack import ROOT
from cispack.catalog.process_checks import PROCESS_CHECKS
from cispack.catalog.recommendations import BY_ID
from cispack.catalog.rules import FREQUENCIES, custom_rules, load_rules
from cispack.cli import main as cli
from cispack.generate import conformance, member_template
from cispack.rollout import stackset as rollout

HYBRID = {
    "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC": ("AWS::S3::Bucket",),
    "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING": ("AWS::S3::Bucket",),
    "VPC_PEERING_ROUTES_LEAST_ACCESS": ("AWS::EC2::RouteTable",),
}
SCHEDULED = {
    "EventSource": "aws.config",
    "MessageType": "ScheduledNotification",
    "MaximumExecutionFrequency": {"Ref": "CustomRuleFrequency"},
}
ON_CHANGE = [
    {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
    {"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"},
]


def test_source_events_and_change_types_agree():
    declared = {rule.name: rule.source_events for rule in custom_rules() if rule.source_events}
    coded = {
        rule.name: tuple(rule.rule_class().CHANGE_TYPES) for rule in custom_rules() if rule.rule_class().CHANGE_TYPES
    }
    assert declared == coded == HYBRID
    for rule in custom_rules():
        assert rule.periodic == "TwentyFour_Hours", f"{rule.name}: rdk deploys every custom rule daily"


def _custom_rules_of(pack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["ConfigRuleName"]: r["Properties"]
        for r in pack["Resources"].values()
        if r["Type"] == "AWS::Config::ConfigRule" and r["Properties"]["Source"]["Owner"] == "CUSTOM_LAMBDA"
    }


def _check_triggers(rules: dict[str, dict[str, Any]]) -> None:
    assert sorted(rules) == sorted(r.name for r in custom_rules())
    for name, properties in rules.items():
        details = properties["Source"]["SourceDetails"]
        if name in HYBRID:
            assert properties["Scope"] == {"ComplianceResourceTypes": list(HYBRID[name])}, name
            assert details == [SCHEDULED, *ON_CHANGE], name
        else:
            assert "Scope" not in properties and details == [SCHEDULED], name


def test_the_conformance_pack_carries_both_trigger_kinds_and_the_frequency_parameter():
    committed = yaml.safe_load(conformance.PACK_PATH.read_text())
    _check_triggers(_custom_rules_of(committed))
    parameter = committed["Parameters"]["CustomRuleFrequency"]
    assert parameter["AllowedValues"] == list(FREQUENCIES)
    assert parameter["Default"] == "TwentyFour_Hours"
    # Managed rules keep the frequency of their parameters.json.
    for rule in load_rules():
        if not rule.is_custom and rule.periodic:
            properties = committed["Resources"][conformance.logical_id(rule.name)]["Properties"]
            assert properties["MaximumExecutionFrequency"] == rule.periodic, rule.name


def test_the_member_template_passes_the_frequency_to_the_pack_it_embeds():
    template = yaml.safe_load(member_template.MEMBER_TEMPLATE.read_text())
    parameter = template["Parameters"]["CustomRuleFrequency"]
    assert (parameter["AllowedValues"], parameter["Default"]) == (list(FREQUENCIES), "TwentyFour_Hours")
    pack = template["Resources"]["ConformancePack"]["Properties"]
    assert {"ParameterName": "CustomRuleFrequency", "ParameterValue": {"Ref": "CustomRuleFrequency"}} in pack[
        "ConformancePackInputParameters"
    ]
    body, _variables = pack["TemplateBody"]["Fn::Sub"]
    embedded = yaml.safe_load(body)
    _check_triggers(_custom_rules_of(embedded))
    assert "CustomRuleFrequency" in embedded["Parameters"]


def test_the_rollout_sets_the_frequency(tmp_path):
    manifest = type("M", (), {"layer": type("L", (), {"key": "layer.zip"})(), "rule_key": staticmethod(str)})()
    values = member_template.parameter_values(manifest, "prefix", "1", "us-east-1", rules=[], frequency="One_Hour")
    assert values["CustomRuleFrequency"] == "One_Hour"
    assert member_template.parameter_values(manifest, "prefix", "1", "us-east-1", rules=[])["CustomRuleFrequency"] == (
        "TwentyFour_Hours"
    )


def test_every_frequency_costs_in_proportion_and_managed_rules_keep_theirs():
    rules = load_rules()
    runs = {f: rollout.estimate(rules, accounts=1, regions=1, level=1, frequency=f).runs for f in FREQUENCIES}
    custom = [r for r in rules if r.is_custom and r.controls and r.level <= 1]
    managed = sum(rollout.runs_per_month(r.periodic) for r in rules if not r.is_custom and r.periodic and r.level <= 1)
    for frequency, total in runs.items():
        assert total == pytest.approx(managed + len(custom) * rollout.runs_per_month(frequency)), frequency
    assert runs["TwentyFour_Hours"] == pytest.approx(rollout.estimate(rules, 1, 1, 1).runs)


def test_change_triggers_cost_one_evaluation_per_change_where_the_rule_runs():
    rules = load_rules()
    counts = {"AWS::S3::Bucket": 40, "AWS::EC2::RouteTable": 12}
    level1 = rollout.change_estimate(rules, accounts=10, regions=3, level=1, counts=counts, changes_per_month=5)
    # 2.3 and 2.6 run in the global-resources region only; 4.4 is Level 2.
    assert [(name, per_account) for name, _, per_account, _ in level1.rules] == [
        ("CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC", 40),
        ("CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING", 40),
    ]
    assert level1.evaluations == 2 * 40 * 5 * 10
    level2 = rollout.change_estimate(rules, accounts=10, regions=3, level=2, counts=counts, changes_per_month=5)
    assert level2.evaluations == 2 * 40 * 5 * 10 + 12 * 3 * 5 * 10


def test_the_cost_command_prints_every_frequency_and_the_change_triggers(capsys):
    code = cli.main(
        [
            *("cost", "--accounts", "10", "--region-count", "3", "--profile-level", "2", "--frequency", "Six_Hours"),
            *("--buckets", "40", "--route-tables", "12", "--changes", "5"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    for frequency in FREQUENCIES:
        assert frequency in out
    assert "Six_Hours" in out.split("<- chosen")[0].splitlines()[-1]
    assert "VPC_PEERING_ROUTES_LEAST_ACCESS      AWS::EC2::RouteTable     36 per account" in out
    assert "change-triggered evaluations a month: 5,800" in out


def _controls(cell: str) -> set[str]:
    """``1.2\u20131.14, 2.7\u20132.9`` -> every control named (a range is written with an en dash)."""
    found: set[str] = set()
    for part in cell.split(","):
        first, _, last = part.strip().partition("\u2013")
        section, start = first.split(".")
        end = last.split(".")[1] if last else start
        found |= {f"{section}.{n}" for n in range(int(start), int(end) + 1)}
    return found


def test_the_latency_table_matches_the_rules():
    text = (ROOT / "docs" / "detection.md").read_text(encoding="utf-8")
    section = text.split("## Per control", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if re.match(r"\| \d", line)]
    documented = [(_controls(cells[0]), cells[2].strip()) for cells in rows]

    def controls(rules: Any) -> set[str]:
        return {control.id for rule in rules for control in rule.controls}

    custom = [r for r in load_rules() if r.is_custom]
    managed = [r for r in load_rules() if not r.is_custom]
    assert documented == [
        (
            controls(r for r in custom if r.source_events == ("AWS::S3::Bucket",) and r.periodic),
            "a configuration change of an `AWS::S3::Bucket`, and the schedule",
        ),
        (
            controls(r for r in custom if r.source_events == ("AWS::EC2::RouteTable",) and r.periodic),
            "a configuration change of an `AWS::EC2::RouteTable`, and the schedule",
        ),
        (controls(r for r in custom if not r.source_events), "the schedule"),
        (controls(r for r in managed if r.source_events and not r.periodic), "a configuration change"),
        (controls(r for r in managed if r.periodic and not r.source_events), "the schedule"),
        ({check.control for check in PROCESS_CHECKS}, "a person"),
    ]
    assert set().union(*(found for found, _ in documented)) == set(BY_ID), "every control has its row"
