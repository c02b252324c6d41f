"""The AWS Config conformance pack of CIS v1.2.0, generated from ``rules/*/parameters.json`` and
the process checks below: one source of truth for ``conformance-pack.yaml``, the README's
control table (in ``README.md``) and the pack inside ``templates/member.yaml``. ``./pack
generate`` (:mod:`cispack.cli.cmd_generate`) writes all three; a test fails when a committed copy is
stale.

What the pack holds
    Every managed rule with its CIS input parameters (``MaximumExecutionFrequency`` when periodic,
    ``Scope.ComplianceResourceTypes`` when change-triggered); every custom rule as
    ``CUSTOM_LAMBDA`` with a ``ScheduledNotification`` source detail at the ``CustomRuleFrequency``
    parameter's frequency (plus ``ConfigurationItemChangeNotification`` and
    ``OversizedConfigurationItemChangeNotification`` details and ``Scope.ComplianceResourceTypes``
    when its ``parameters.json`` declares ``SourceEvents``: 2.3, 2.6 and 4.4); the process checks
    of CIS 1.15 and 1.17. Config rule names are the rule
    folder names of the public interface (:mod:`cispack.catalog.contract`) (AWS Config appends the pack's suffix).

Pack parameters (the names are an interface: the StackSet member template passes them)
    ``ProfileLevel``
        ``1`` or ``2`` (default ``1``): the CIS profile of the regional rules. Level 2 includes
        Level 1: a regional rule whose controls are all Level 2 is created only when this is ``2``.
    ``GlobalResourcesProfile``
        ``none``, ``1`` or ``2`` (default ``1``): the profile of the rules in the
        ``global-resources`` rule set (IAM and account-wide state) and of the two process checks in
        this deployment. Global resources must be evaluated in one region only, so the deployer
        sets it to the profile in that one region and to ``none`` in every other region, where
        those rules are then not created and each global finding is reported once.

        Why the default is ``1`` and not ``none``: a ``put-conformance-pack`` with no parameters
        (one account, one region, the common first try) then evaluates the whole Level 1 profile,
        IAM and root-account controls included. With ``none`` the same call would quietly leave
        out most of section 1, 2.3, 2.5, 2.6, section 3 and the process checks, and still show a
        compliance score: a silent gap. Forgetting ``none`` in a second region costs duplicate
        findings and evaluations, which are visible in the pack's rule list; forgetting it never
        hides a control. The StackSet
        member template passes the value explicitly in every region.

    Conformance packs document no pseudo parameters (``AWS::Region``) and the conditions must stay
    single ``Fn::Equals`` (or ``Fn::Not`` of one) over parameters, so the pack cannot compare the
    region it runs in with a "global region" or combine two conditions: the deployer, who knows
    the region, folds "is this the global region" and "which profile there" into one value.

    ``CustomRuleFrequency``
        ``One_Hour``, ``Three_Hours``, ``Six_Hours``, ``Twelve_Hours`` or ``TwentyFour_Hours``
        (default): the ``MaximumExecutionFrequency`` of every custom rule's periodic trigger. It is
        the detection latency of the periodic-only custom rules (1.1, 1.21, 2.5, 3.1-3.14) and the
        safety net of the three that also run on configuration changes (2.3, 2.6, 4.4: a lost
        notification, or a trail bucket in another region than the rule's). Managed rules keep
        their own frequency. ``./pack cost`` prices each choice. The rdk path deploys each rule's
        ``SourcePeriodic`` instead.

    ``<Rule>LambdaArn``
        One per custom rule, e.g. ``VpcPeeringRoutesLeastAccessLambdaArn`` (see
        :func:`lambda_arn_parameter`): the ARN of the Lambda function that evaluates it in this
        account and region. Conformance packs document neither ``Fn::Sub`` nor ``Fn::Join``, so an
        ARN cannot be assembled from a prefix; the full ARN is a parameter. Default empty: only
        the rules that the chosen profile and region create need one.
    ``<Rule>Param<Name>``
        One per optional parameter of a custom rule, e.g.
        ``VpcPeeringRoutesLeastAccessParamMinPeeringPrefixLength``, defaulting to the rule's
        ``OptionalParameters``. An empty value is left out of the rule's input parameters.
    ``StaleAfterHours``
        The one parameter feeding ``staleAfterHours`` of every custom rule (default 48;
        :data:`SHARED_RULE_PARAMETERS`): a result older than that becomes NON_COMPLIANT.

    Managed rules carry the CIS values of ``CONTROLS.md`` as literals, not parameters: they are
    the benchmark's requirements, and the 60-parameter limit is kept for the custom rules.

Conditions
    ``ProfileIsLevel2``
        ``Fn::Equals [ProfileLevel, "2"]``: Level 2 regional rules.
    ``GlobalResourcesHere``
        ``Fn::Not [Fn::Equals [GlobalResourcesProfile, "none"]]``: Level 1 global rules and the
        process checks (1.15 and 1.17 are Level 1).
    ``GlobalResourcesLevel2``
        ``Fn::Equals [GlobalResourcesProfile, "2"]``: Level 2 global rules.
    Level 1 regional rules carry no condition. Each optional custom-rule parameter with an empty
    default has a ``<Parameter>HasValue`` condition (``Fn::Not`` of ``Fn::Equals`` to ``""``).

Template features
    Only ``AWS::Config::ConfigRule`` resources and, for the remediated rules, their
    ``AWS::Config::RemediationConfiguration`` with its settings as parameters
    (:mod:`cispack.generate.runbooks`, README "Remediation"); ``Ref`` (to parameters and ``AWS::NoValue``),
    ``Fn::If``, ``Fn::Equals`` and ``Fn::Not``, the functions AWS's own packs use, and nothing else:
    no ``Fn::And``/``Fn::Or``, no ``Condition`` function, no pseudo parameter but ``AWS::NoValue``.
    Every condition is one ``Fn::Equals`` or ``Fn::Not`` of one ``Fn::Equals`` over a parameter;
    ``Fn::If`` appears only in resource properties. :data:`ALLOWED_FUNCTIONS` is what the tests
    enforce.

For the StackSet member template
    :func:`build_pack` returns the template as a dict; with ``lambda_arn_for`` it writes each
    custom rule's ``SourceIdentifier`` from ``lambda_arn_for(rule_name)`` and drops the ARN
    parameters. :func:`pack_parameters` returns the parameters section, :func:`render` the YAML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from cispack import ROOT
from cispack.catalog.process_checks import PROCESS_CHECKS
from cispack.catalog.recommendations import CONTROLS, Control
from cispack.catalog.rules import FREQUENCIES, Rule, load_rules
from cispack.generate import runbooks

PACK_PATH = ROOT / "conformance-pack.yaml"
CONTROLS_TABLE_PATH = ROOT / "README.md"
# The README's control table stands between these markers; the rest of the README is prose.
TABLE_START = "<!-- controls:start -->"
TABLE_END = "<!-- controls:end -->"

MAX_BODY_BYTES = 51_200
#: A pack template read from S3 (``TemplateS3Uri``) may be up to 300 KB.
MAX_S3_TEMPLATE_BYTES = 300 * 1024
MAX_PARAMETERS = 60
MAX_DESCRIPTION = 256
ALLOWED_RESOURCE_TYPES = frozenset({"AWS::Config::ConfigRule", "AWS::Config::RemediationConfiguration"})
ALLOWED_FUNCTIONS = frozenset({"Ref", "Fn::If", "Fn::Equals", "Fn::Not"})

PROFILE_LEVEL = "ProfileLevel"
GLOBAL_RESOURCES_PROFILE = "GlobalResourcesProfile"
NO_GLOBAL_RESOURCES = "none"
CUSTOM_RULE_FREQUENCY = "CustomRuleFrequency"
DEFAULT_FREQUENCY = "TwentyFour_Hours"

# Conditions, by what a rule needs to be created; each is one Fn::Equals (or Fn::Not of one).
LEVEL2 = "ProfileIsLevel2"
GLOBAL_HERE = "GlobalResourcesHere"
GLOBAL_LEVEL2 = "GlobalResourcesLevel2"
CONDITIONS: dict[str, dict[str, Any]] = {
    LEVEL2: {"Fn::Equals": [{"Ref": PROFILE_LEVEL}, "2"]},
    GLOBAL_HERE: {"Fn::Not": [{"Fn::Equals": [{"Ref": GLOBAL_RESOURCES_PROFILE}, NO_GLOBAL_RESOURCES]}]},
    GLOBAL_LEVEL2: {"Fn::Equals": [{"Ref": GLOBAL_RESOURCES_PROFILE}, "2"]},
}

HEADER = (
    "# CIS Amazon Web Services Foundations Benchmark v1.2.0: AWS Config conformance pack.\n"
    "# Generated by `./pack generate` from rules/*/parameters.json and cispack/generate/conformance.py; do not edit.\n"
    "# Parameters and deployment: docs/conformance-pack.md.\n"
)


def logical_id(rule_name: str) -> str:
    """``VPC_PEERING_ROUTES_LEAST_ACCESS`` -> ``VpcPeeringRoutesLeastAccess`` (CloudFormation IDs
    are alphanumeric)."""
    return "".join(part.capitalize() for part in rule_name.split("_") if part)


def lambda_arn_parameter(rule_name: str) -> str:
    """The pack parameter that carries the Lambda ARN of custom rule ``rule_name``."""
    return f"{logical_id(rule_name)}LambdaArn"


#: Rule parameters that several custom rules take: one pack parameter feeds all of them (CONTROLS.md,
#: "When a rule cannot judge"; a pack allows 60 parameters), named here.
SHARED_RULE_PARAMETERS: dict[str, str] = {
    "staleAfterHours": "StaleAfterHours",
    "trustedTopicAccounts": "TrustedTopicAccounts",
}


def rule_parameter(rule_name: str, name: str) -> str:
    """The pack parameter that carries optional parameter ``name`` of custom rule ``rule_name``
    (the one shared pack parameter for a parameter of :data:`SHARED_RULE_PARAMETERS`)."""
    if name in SHARED_RULE_PARAMETERS:
        return SHARED_RULE_PARAMETERS[name]
    return f"{logical_id(rule_name)}Param{name[:1].upper()}{name[1:]}"


def _has_value_condition(parameter: str) -> str:
    return f"{parameter}HasValue"


def _optional_parameters(rule: Rule) -> dict[str, str]:
    return {str(k): str(v) for k, v in json.loads(rule.parameters.get("OptionalParameters") or "{}").items()}


def _condition_for(level: int, is_global: bool) -> str | None:
    """The condition a rule of profile ``level`` needs: global rules follow
    ``GlobalResourcesProfile``, regional ones ``ProfileLevel``; Level 1 regional rules need none."""
    if is_global:
        return GLOBAL_LEVEL2 if level >= 2 else GLOBAL_HERE
    return LEVEL2 if level >= 2 else None


def _control_label(controls: Sequence[Control]) -> str:
    ids = [c.id for c in controls]
    if len(ids) > 2:
        return f"{ids[0]}-{ids[-1]}"
    return " and ".join(ids)


def _description(rule: Rule) -> str:
    controls = rule.controls
    if rule.is_custom or len(controls) != 1:
        text = rule.description
        if not text.startswith("CIS"):
            text = f"CIS {_control_label(controls)}: {text}"
    else:
        control = controls[0]
        text = f"CIS {control.id} (Level {control.level}): {control.title}."
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 3].rstrip() + "..."
    return text


def pack_parameters(rules: Iterable[Rule] | None = None, *, lambda_arns: bool = True) -> dict[str, Any]:
    """The ``Parameters`` section: the two profiles, then per custom rule its ARN and options."""
    params: dict[str, Any] = {
        PROFILE_LEVEL: {
            "Type": "String",
            "Default": "1",
            "AllowedValues": ["1", "2"],
            "Description": "CIS profile of the regional rules: 1, or 2 (Level 2 includes Level 1).",
        },
        GLOBAL_RESOURCES_PROFILE: {
            "Type": "String",
            "Default": "1",
            "AllowedValues": [NO_GLOBAL_RESOURCES, "1", "2"],
            "Description": (
                "CIS profile of the IAM and account-wide rules and the process checks: 1 or 2 in the one region "
                "that evaluates global resources, none in every other region."
            ),
        },
        CUSTOM_RULE_FREQUENCY: {
            "Type": "String",
            "Default": DEFAULT_FREQUENCY,
            "AllowedValues": list(FREQUENCIES),
            "Description": "How often every custom rule runs on its schedule (MaximumExecutionFrequency).",
        },
    }
    for rule in load_rules() if rules is None else rules:
        if not rule.is_custom:
            continue
        if lambda_arns:
            params[lambda_arn_parameter(rule.name)] = {
                "Type": "String",
                "Default": "",
                "Description": f"Lambda function ARN of rule {rule.name}.",
            }
        for name, default in _optional_parameters(rule).items():
            owner = "every rule that takes it" if name in SHARED_RULE_PARAMETERS else rule.name
            params.setdefault(
                rule_parameter(rule.name, name),
                {"Type": "String", "Default": default, "Description": f"Rule parameter {name} of {owner}."},
            )
    return params


def _managed_resource(rule: Rule) -> dict[str, Any]:
    properties: dict[str, Any] = {"ConfigRuleName": rule.name, "Description": _description(rule)}
    if rule.input_parameters:
        properties["InputParameters"] = dict(rule.input_parameters)
    if rule.periodic:
        properties["MaximumExecutionFrequency"] = rule.periodic
    if rule.source_events:
        properties["Scope"] = {"ComplianceResourceTypes": list(rule.source_events)}
    properties["Source"] = {"Owner": "AWS", "SourceIdentifier": rule.source_identifier}
    return properties


def _custom_resource(rule: Rule, lambda_arn: Any, conditions: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"ConfigRuleName": rule.name, "Description": _description(rule)}
    inputs: dict[str, Any] = {}
    for name, default in _optional_parameters(rule).items():
        parameter = rule_parameter(rule.name, name)
        if default:
            inputs[name] = {"Ref": parameter}
        else:
            # An empty value means "the rule's default": leave the key out rather than send "".
            condition = _has_value_condition(parameter)
            conditions[condition] = {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]}
            inputs[name] = {"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}
    if inputs:
        properties["InputParameters"] = inputs
    # Every custom rule's schedule is the pack's one frequency parameter (rdk deploys SourcePeriodic),
    # in the scheduled source detail only, as rdk's own template writes it: the rule-level
    # MaximumExecutionFrequency is documented for managed rules and snapshot-triggered custom rules.
    details: list[dict[str, Any]] = [
        {
            "EventSource": "aws.config",
            "MessageType": "ScheduledNotification",
            "MaximumExecutionFrequency": {"Ref": CUSTOM_RULE_FREQUENCY},
        }
    ]
    if rule.source_events:
        properties["Scope"] = {"ComplianceResourceTypes": list(rule.source_events)}
        details += [
            {"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"},
            {"EventSource": "aws.config", "MessageType": "OversizedConfigurationItemChangeNotification"},
        ]
    properties["Source"] = {"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": lambda_arn, "SourceDetails": details}
    return properties


def build_pack(
    lambda_arn_for: Callable[[str], Any] | None = None, rules: Sequence[Rule] | None = None
) -> dict[str, Any]:
    """The conformance pack template as a dict.

    ``lambda_arn_for(rule_name)``, when given, supplies each custom rule's ``SourceIdentifier``
    (a string, or an expression the caller's own template resolves) instead of a
    ``<Rule>LambdaArn`` pack parameter. ``rules`` defaults to every folder in ``rules/``.
    """
    rules = list(load_rules() if rules is None else rules)
    conditions: dict[str, Any] = {}
    resources: dict[str, Any] = {}
    used: set[str] = set()
    condition_of: dict[str, str | None] = {}
    for rule in rules:
        if rule.is_custom:
            arn = lambda_arn_for(rule.name) if lambda_arn_for else {"Ref": lambda_arn_parameter(rule.name)}
            properties = _custom_resource(rule, arn, conditions)
        else:
            properties = _managed_resource(rule)
        resource: dict[str, Any] = {"Type": "AWS::Config::ConfigRule"}
        condition = _condition_for(rule.level, rule.is_global)
        if condition:
            resource["Condition"] = condition
            used.add(condition)
        resource["Properties"] = properties
        resources[logical_id(rule.name)] = resource
        condition_of[rule.name] = condition
    for check in PROCESS_CHECKS:
        level = min(c.level for c in check.controls)
        condition = _condition_for(level, is_global=True)
        resource = {"Type": "AWS::Config::ConfigRule"}
        if condition:
            resource["Condition"] = condition
            used.add(condition)
        resource["Properties"] = {
            "ConfigRuleName": check.name,
            "Description": check.description,
            "Source": {"Owner": "AWS", "SourceIdentifier": "AWS_CONFIG_PROCESS_CHECK"},
        }
        resources[logical_id(check.name)] = resource
    # Remediation (cispack.generate.runbooks): one per remediated rule, under the rule's condition.
    rule_parameters = pack_parameters(rules, lambda_arns=lambda_arn_for is None)
    resources.update(runbooks.pack_resources(rules, logical_id, condition_of, conditions, frozenset(rule_parameters)))
    # Only the conditions some rule uses (cfn-lint flags an unused one); GlobalResourcesHere always
    # is (the process checks), so GlobalResourcesProfile is always referenced.
    base = {name: definition for name, definition in CONDITIONS.items() if name in used}
    return {
        "Parameters": {**rule_parameters, **runbooks.pack_parameters()},
        "Conditions": {**base, **dict(sorted(conditions.items()))},
        "Resources": resources,
    }


def render(pack: dict[str, Any], header: str = HEADER) -> str:
    """The template as YAML, block style; long descriptions stay on one line so diffs stay readable.
    ``header`` (comment lines) names the benchmark version (the later versions' packs:
    :mod:`cispack.generate.versions`)."""
    body = yaml.dump(
        pack, Dumper=_PackDumper, sort_keys=False, default_flow_style=False, width=10_000, allow_unicode=True
    )
    return header + str(body)


def template_argument(body: str, upload: Callable[[str], str]) -> dict[str, str]:
    """How ``PutConformancePack`` (or an ``AWS::Config::ConformancePack``) takes ``body``: inline
    (``TemplateBody``) up to :data:`MAX_BODY_BYTES`, else uploaded (``upload(body)`` stores it and
    returns its ``s3://bucket/key``) and passed as ``TemplateS3Uri``, up to
    :data:`MAX_S3_TEMPLATE_BYTES`. Merged rules and remediations grow the pack past the inline limit."""
    size = len(body.encode())
    if size <= MAX_BODY_BYTES:
        return {"TemplateBody": body}
    if size > MAX_S3_TEMPLATE_BYTES:
        raise ValueError(
            f"the conformance pack is {size} bytes, over the {MAX_S3_TEMPLATE_BYTES} a TemplateS3Uri template may hold"
        )
    return {"TemplateS3Uri": upload(body)}


class _PackDumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no types here
    """Block style, but a remediation's ``Parameters`` on one line: every byte of the 51,200 counts."""


def _flow(dumper: yaml.SafeDumper, value: runbooks.Flow) -> Any:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


_PackDumper.add_representer(runbooks.Flow, _flow)


def controls_table(rules: Sequence[Rule] | None = None) -> str:
    """The README's control table: every control with its rule and the rule's kind."""
    rules = list(load_rules() if rules is None else rules)
    by_control: dict[str, list[tuple[str, str]]] = {}
    for rule in rules:
        for control in rule.controls:
            kind = "custom" if rule.is_custom else "managed"
            by_control.setdefault(control.id, []).append((rule.name, kind))
    for check in PROCESS_CHECKS:
        by_control.setdefault(check.control, []).append((check.name, "process check"))
    lines = [
        "<!-- Generated by `./pack generate` from rules/*/parameters.json and cispack/generate/conformance.py; "
        "do not edit. -->",
        "",
        "| Control | Title | Level | Scored | Rule | Kind |",
        "|---|---|---|---|---|---|",
    ]
    for control in CONTROLS:
        entries = by_control.get(control.id) or [("(not yet in rules/)", "—")]
        rule_names = ", ".join(f"`{name}`" if name.isupper() else name for name, _ in entries)
        kinds = ", ".join(sorted({kind for _, kind in entries}))
        title = control.title.replace("|", "\\|")
        scored = "yes" if control.scored else "no"
        lines.append(f"| {control.id} | {title} | {control.level} | {scored} | {rule_names} | {kinds} |")
    return "\n".join(lines) + "\n"


def generated_files(rules: Sequence[Rule]) -> dict[Path, str]:
    """The files this module generates from ``rules`` and the text each must hold (the member
    template is :mod:`cispack.generate.member_template`'s; :func:`cispack.generate.generated_files`
    lists every generated file)."""
    return {
        PACK_PATH: render(build_pack(rules=rules)),
        CONTROLS_TABLE_PATH: with_controls_table(CONTROLS_TABLE_PATH, controls_table(rules)),
    }


def with_controls_table(readme: Path, table: str) -> str:
    """``readme``'s text with ``table`` between the control-table markers (the table alone when
    the file does not exist yet)."""
    block = f"{TABLE_START}\n{table}{TABLE_END}"
    if not readme.exists():
        return block + "\n"
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"{readme} has no {TABLE_START} ... {TABLE_END} block for the control table")
    return text[:start] + block + text[end + len(TABLE_END) :]


def intrinsic_functions(node: Any) -> set[str]:
    """Every intrinsic function name used: ``Ref``, ``Fn::...``, and ``Condition`` where it is the
    condition function (a one-key mapping, as inside ``Fn::And``), not a resource's attribute."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" or re.fullmatch(r"Fn::\w+", str(key)) or (key == "Condition" and len(node) == 1):
                found.add(str(key))
            found |= intrinsic_functions(value)
    elif isinstance(node, list):
        for item in node:
            found |= intrinsic_functions(item)
    return found
