"""The later CIS versions' catalogues (cispack/catalog/benchmarks/): each version's count, every
mapping to a rule folder, the differences from v1.2.0 the pack respects, and the v1.2.0 pack left
as it is (no rule of a later version only in it)."""

from __future__ import annotations

import json
import re

import pytest

from cispack.catalog import contract
from cispack.catalog.rules import load_rules
from cispack.catalog.versions import AUTOMATED, LATER, MANUAL, benchmark, later_benchmarks

# Recommendations per version and section, as the sources name them (file "sources").
COUNTS = {
    "cis-1.4.0": {1: 21, 2: 7, 3: 11, 4: 15, 5: 4},
    "cis-3.0.0": {1: 22, 2: 9, 3: 9, 4: 16, 5: 6},
    "cis-5.0.0": {1: 21, 2: 9, 3: 9, 4: 16, 5: 8},
    "cis-6.0.0": {2: 21, 3: 9, 4: 9, 5: 16, 6: 8},
}
EVERY = {rule.name: rule for rule in load_rules(every_folder=True)}
V120 = {rule.name for rule in load_rules()}


@pytest.mark.parametrize("name", LATER)
def test_each_version_has_its_count_of_recommendations_in_order(name):
    bench = benchmark(name)
    sections: dict[int, int] = {}
    for rec in bench.recommendations:
        sections[rec.sort_key[0]] = sections.get(rec.sort_key[0], 0) + 1
    assert sections == COUNTS[name]
    assert [r.sort_key for r in bench.recommendations] == sorted({r.sort_key for r in bench.recommendations})
    assert {r.assessment for r in bench.recommendations} <= {AUTOMATED, MANUAL}
    assert {r.level for r in bench.recommendations} == {1, 2}
    assert bench.sources["recommendations"] and bench.sources["security_hub"]


@pytest.mark.parametrize("name", LATER)
def test_every_recommendation_maps_to_rule_folders_or_says_why_not(name):
    for rec in benchmark(name).recommendations:
        assert all(rule in EVERY for rule in rec.rules), (rec.id, rec.rules)
        assert bool(rec.rules) != bool(rec.unchecked), f"{name} {rec.id}: a rule, or the reason there is none"


def test_rule_sets_of_the_later_rules_name_exactly_their_recommendations():
    """A rule that only later versions use states its recommendations in RuleSets, as the v1.2.0
    rules do; the catalogue and the folder agree."""
    for rule in EVERY.values():
        if rule.in_v120_pack:
            assert not [r for r in rule.rulesets if r.startswith("cis-") and ":" in r and "1.2.0" not in r]
            continue
        mapped = {f"{b.name}:{rec.id}" for b in later_benchmarks() for rec in b.recommendations_of(rule.name)}
        assert {r for r in rule.rulesets if ":" in r} == mapped, rule.name


def test_the_v120_pack_holds_no_rule_of_a_later_version_only():
    later_only = set(EVERY) - V120
    assert {"IAM_USER_ONE_ACTIVE_ACCESS_KEY", "METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES"} <= later_only
    assert len(V120) == 41 and all(EVERY[name].controls for name in V120)
    used_later = {name for b in later_benchmarks() for name in b.rule_names}
    assert later_only <= used_later, "every rule folder is some version's"


@pytest.mark.parametrize(
    ("name", "rec", "rules"),
    [
        ("cis-1.4.0", "1.13", ("IAM_USER_ONE_ACTIVE_ACCESS_KEY",)),
        ("cis-3.0.0", "1.13", ("IAM_USER_ONE_ACTIVE_ACCESS_KEY",)),
        ("cis-5.0.0", "1.12", ("IAM_USER_ONE_ACTIVE_ACCESS_KEY",)),
        ("cis-6.0.0", "2.12", ("IAM_USER_ONE_ACTIVE_ACCESS_KEY",)),
        ("cis-1.4.0", "4.15", ("METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES",)),
        ("cis-5.0.0", "4.15", ("METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES",)),
        ("cis-6.0.0", "5.15", ("METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES",)),
        # From v1.4.0 the password policy asks length 14 and reuse 24 only: a second instance.
        ("cis-1.4.0", "1.8", ("IAM_PASSWORD_POLICY_LENGTH_AND_REUSE",)),
        ("cis-3.0.0", "1.9", ("IAM_PASSWORD_POLICY_LENGTH_AND_REUSE",)),
        ("cis-1.4.0", "1.12", ("IAM_USER_UNUSED_CREDENTIALS_45_DAYS",)),
        # *:* policies attached, AWS-managed ones included.
        (
            "cis-3.0.0",
            "1.16",
            ("IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS", "IAM_POLICY_ADMINISTRATOR_ACCESS_NOT_ATTACHED"),
        ),
        # Remote administration ports: TCP, UDP and all protocols, IPv4 and IPv6 apart.
        ("cis-3.0.0", "5.2", ("VPC_SG_REMOTE_ADMIN_PORTS_IPV4",)),
        ("cis-3.0.0", "5.3", ("VPC_SG_REMOTE_ADMIN_PORTS_IPV6",)),
        ("cis-6.0.0", "6.4", ("VPC_SG_REMOTE_ADMIN_PORTS_IPV6",)),
        ("cis-1.4.0", "3.3", ("CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC",)),
        ("cis-1.4.0", "5.4", ("VPC_PEERING_ROUTES_LEAST_ACCESS",)),
    ],
)
def test_mappings_the_issue_names(name, rec, rules):
    assert benchmark(name).by_id()[rec].rules == rules


def test_later_parameters_never_weaken_the_v120_rules():
    password = EVERY["IAM_PASSWORD_POLICY_LENGTH_AND_REUSE"]
    assert password.source_identifier == "IAM_PASSWORD_POLICY"
    values = password.input_parameters
    assert (values["MinimumPasswordLength"], values["PasswordReusePrevention"]) == ("14", "24")
    assert {values[k] for k in ("RequireUppercaseCharacters", "RequireLowercaseCharacters", "RequireSymbols")} == {
        "false"
    }
    assert EVERY["IAM_USER_UNUSED_CREDENTIALS_45_DAYS"].input_parameters == {"maxCredentialUsageAge": "45"}
    for ip in ("IPv4", "IPv6"):
        rule = EVERY[f"VPC_SG_REMOTE_ADMIN_PORTS_{ip.upper()}"]
        assert rule.source_identifier == "VPC_SG_PORT_RESTRICTION_CHECK"
        assert rule.input_parameters == {"restrictPorts": "22,3389", "protocolType": "ALL", "ipType": ip}
    # The v1.2.0 rules keep the contract's values.
    for entry in contract.CONTRACT:
        if entry.kind == contract.MANAGED:
            assert EVERY[entry.name].input_parameters == contract.deployed_parameters(entry)


def test_the_differences_between_versions():
    v14, v3, v5, v6 = later_benchmarks()
    titles = {b.name: " | ".join(r.title for r in b.recommendations) for b in (v14, v3, v5, v6)}
    # v3.0.0 drops "CloudTrail bucket not public" and "CloudTrail -> CloudWatch Logs".
    assert (
        "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC" in v14.rule_names and "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC" not in v3.rule_names
    )
    assert "CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED" not in v3.rule_names
    # v5.0.0 drops the security questions.
    assert "security questions" in titles["cis-3.0.0"] and "security questions" not in titles["cis-5.0.0"]
    # From v2.0.0 the monitoring recommendations are Manual (a SIEM may stand in), still checked by the rules.
    for bench, section in ((v3, 4), (v5, 4), (v6, 5)):
        monitoring = [r for r in bench.recommendations if r.sort_key[0] == section and r.sort_key[1] <= 15]
        assert len(monitoring) == 15
        assert all(r.rules[0].startswith("METRIC_FILTER_ALARM_") for r in monitoring)
    assert {r.assessment for r in v14.recommendations if r.sort_key[0] == 4} == {AUTOMATED}
    assert {r.assessment for r in v3.recommendations if r.sort_key[0] == 4 and 2 <= r.sort_key[1] <= 15} == {MANUAL}
    # v6.0.0 renumbers: IAM moves from section 1 to 2.
    assert v5.by_id()["1.12"].rules == v6.by_id()["2.12"].rules


# AWS's Security Hub user guide, "CIS AWS Foundations Benchmark in Security Hub CSPM"
# (https://docs.aws.amazon.com/securityhub/latest/userguide/cis-aws-foundations-benchmark.html): the
# "Mapping of controls to CIS requirements in each version" table, transcribed per control as
# (v5.0.0, v3.0.0, v1.4.0) requirements, "" where the table says "Not supported". Two rows come from
# the controls' own pages instead, the table having no row for them: S3.22 and S3.23 (s3-controls.html).
HUB_MAPPING = {
    "Account.1": ("1.2", "1.2", ""),  # the table says 1.2 for v1.4.0 too; see HUB_NOT_IN_STANDARD
    "CloudTrail.1": ("3.1", "3.1", "3.1"),
    "CloudTrail.2": ("3.5", "3.5", "3.7"),
    "CloudTrail.4": ("3.2", "3.2", "3.2"),
    "CloudTrail.5": ("", "", "3.4"),
    "CloudTrail.6": ("", "", "3.3"),
    "CloudTrail.7": ("3.4", "3.4", "3.6"),
    "CloudWatch.1": ("", "", "1.7 4.3"),  # 1.7 from cloudwatch-controls.html: v1.4.0/1.7 and v1.4.0/4.3
    **{f"CloudWatch.{n}": ("", "", f"4.{n}") for n in range(4, 15)},
    "Config.1": ("3.3", "3.3", "3.5"),
    "EC2.2": ("5.5", "5.4", "5.3"),
    "EC2.6": ("3.7", "3.7", "3.9"),
    "EC2.7": ("5.1.1", "2.2.1", "2.2.1"),
    "EC2.8": ("5.7", "5.6", ""),
    "EC2.21": ("5.2", "5.1", "5.1"),
    "EC2.53": ("5.3", "5.2", ""),
    "EC2.54": ("5.4", "5.3", ""),
    "EFS.1": ("2.3.1", "2.4.1", ""),
    "EFS.8": ("2.3.1", "", ""),
    "IAM.1": ("", "", "1.16"),
    "IAM.2": ("1.14", "1.15", ""),
    "IAM.3": ("1.13", "1.14", "1.14"),
    "IAM.4": ("1.3", "1.4", "1.4"),
    "IAM.5": ("1.9", "1.10", "1.10"),
    "IAM.6": ("1.5", "1.6", "1.6"),
    "IAM.9": ("1.4", "1.5", "1.5"),
    "IAM.15": ("1.7", "1.8", "1.8"),
    "IAM.16": ("1.8", "1.9", "1.9"),
    "IAM.18": ("1.16", "1.17", "1.17"),
    "IAM.22": ("1.11", "1.12", "1.12"),
    "IAM.26": ("1.18", "1.19", ""),
    "IAM.27": ("1.21", "1.22", ""),
    "IAM.28": ("1.19", "1.20", ""),
    "KMS.4": ("3.6", "3.6", "3.8"),
    "RDS.2": ("2.2.3", "2.3.3", ""),
    "RDS.3": ("2.2.1", "2.3.1", "2.3.1"),
    "RDS.5": ("2.2.4", "", ""),
    "RDS.13": ("2.2.2", "2.3.2", ""),
    "RDS.15": ("2.2.4", "", ""),
    "S3.1": ("2.1.4", "2.1.4", "2.1.5"),
    "S3.5": ("2.1.1", "2.1.1", "2.1.2"),
    "S3.8": ("2.1.4", "2.1.4", "2.1.5"),
    "S3.20": ("2.1.2", "2.1.2", "2.1.3"),
    "S3.22": ("3.8", "3.8", ""),
    "S3.23": ("3.9", "3.9", ""),
}
HUB_COLUMN = {"cis-5.0.0": 0, "cis-3.0.0": 1, "cis-1.4.0": 2}
# The same page's list of the controls that apply to each version's standard: as many controls as
# the mapping gives that version, save Account.1, which the v1.4.0 list does not hold (its own page
# relates it to v5.0.0/1.2 only), so the catalogue leaves v1.4.0 1.2 without a control and says why.
HUB_STANDARD_SIZE = {"cis-5.0.0": 40, "cis-3.0.0": 37, "cis-1.4.0": 39}
HUB_NOT_IN_STANDARD = {("cis-1.4.0", "Account.1")}


@pytest.mark.parametrize("name", sorted(HUB_COLUMN))
def test_security_hub_column_is_aws_mapping_of_controls_to_requirements(name):
    """Each Security Hub-checked recommendation names the controls AWS maps to it, and no other."""
    column = HUB_COLUMN[name]
    expected = {
        control: set(reqs[column].split())
        for control, reqs in HUB_MAPPING.items()
        if reqs[column] and (name, control) not in HUB_NOT_IN_STANDARD
    }
    found: dict[str, set[str]] = {}
    for rec in benchmark(name).recommendations:
        for control in rec.security_hub or ():
            found.setdefault(control, set()).add(rec.id)
    assert found == expected
    assert len(found) == HUB_STANDARD_SIZE[name]


def test_security_hub_columns():
    v14, v3, v5, v6 = later_benchmarks()
    assert v6.recommendations[0].security_hub is None, "Security Hub offers no CIS v6.0.0 standard"
    assert all(rec.security_hub is None and not rec.security_hub_note for rec in v6.recommendations)
    for bench in (v14, v3, v5):
        assert all(rec.security_hub is not None for rec in bench.recommendations)
        assert "docs.aws.amazon.com/securityhub/" in bench.sources["security_hub"]
        for rec in bench.recommendations:
            assert all(re.fullmatch(r"[A-Za-z0-9]+\.[1-9][0-9]*", c) for c in rec.security_hub or ()), rec.id
            # A note is a clause the tables end with a period; it names the control it is about.
            assert not rec.security_hub_note.endswith("."), (bench.name, rec.id)
    # Where AWS's pages disagree, or changed since June 2023, the row says so.
    noted = {(b.name, r.id) for b in (v14, v3, v5) for r in b.recommendations if r.security_hub_note}
    assert noted == {
        ("cis-1.4.0", "1.2"),
        ("cis-1.4.0", "1.15"),
        ("cis-1.4.0", "2.1.1"),
        ("cis-1.4.0", "2.1.3"),
        ("cis-1.4.0", "4.3"),
        ("cis-3.0.0", "1.2"),
    }
    assert v14.by_id()["1.15"].security_hub == () and v3.by_id()["1.15"].security_hub == ("IAM.2",)


def test_catalogue_files_are_the_data_the_loader_reads():
    for bench in later_benchmarks():
        path = f"cispack/catalog/benchmarks/{bench.name}.json"
        from cispack import ROOT

        document = json.loads((ROOT / path).read_text())
        assert document["benchmark"] == bench.name
        assert len(document["recommendations"]) == len(bench.recommendations)
    with pytest.raises(ValueError, match=r"Unknown CIS version 'cis-9\.9\.9'"):
        benchmark("cis-9.9.9")


@pytest.mark.parametrize("entry", contract.LATER_CONTRACT, ids=lambda e: e.name)
def test_the_later_custom_rules_keep_the_contract(entry):
    rule = EVERY[entry.name]
    assert rule.is_custom and not rule.in_v120_pack
    assert {r for r in rule.rulesets if ":" in r} == set(entry.controls)
    evaluator = rule.rule_class()
    assert evaluator.RESOURCE_TYPE == entry.resource_type
    assert set(evaluator.PARAMETERS) == set(entry.parameter_names)
    assert "config:PutEvaluations" in rule.required_actions()


def test_no_later_rule_leaks_into_the_v120_pack_scorecard_or_member_template():
    import yaml

    from cispack.generate import conformance, member_template
    from cispack.report.model import pack_rules

    later_only = set(EVERY) - V120
    v120_pack = yaml.safe_load(conformance.PACK_PATH.read_text())
    names = {
        r["Properties"]["ConfigRuleName"]
        for r in v120_pack["Resources"].values()
        if "ConfigRuleName" in r["Properties"]
    }
    assert not names & later_only
    assert not set(pack_rules()) & later_only
    # The member template holds the later rules' functions, each under the condition that a later
    # version's pack is chosen (tests/test_member_template.py); the v1.2.0 pack itself never names them.
    member = yaml.safe_load(member_template.MEMBER_TEMPLATE.read_text())
    v120_body = member["Resources"]["ConformancePack"]["Properties"]["TemplateBody"]
    assert not [name for name in later_only if name in json.dumps(v120_body)]
