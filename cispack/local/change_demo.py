"""The demo's "detection on change" section: after the first evaluation, one trail bucket is made
public and one route table is opened to the whole peer VPC; the demo builds the configuration
items AWS Config would record for them (:mod:`cispack.local.config_items`), sends the rules whose
scope holds their resource type the ``ConfigurationItemChangeNotification`` AWS Config would send,
and prints each verdict before and after: no periodic run is involved.

It also reads back what ``rdk deploy --rulesets cis-1.2.0`` created for each custom rule with change triggers:
the parameters of the rule's CloudFormation stack (``SourceEvents``, ``SourcePeriodic``) and the
``AWS::Config::ConfigRule`` of rdk's template resolved with them (:func:`rdk_rule_triggers`),
since the local AWS (moto) does not create Config rules from CloudFormation.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
import yaml

from cispack.local.config_items import bucket_item, route_table_item
from cispack.local.events import change_event
from cispack.local.seeds import logging as logging_seed

#: The demo's compliant trail bucket and least-access route table (cispack/local/seeds/).
TRAIL_BUCKET = logging_seed.MAIN_BUCKET
ROUTE_TABLE_NAME = "app-least-access"
#: The Name tag of the VPC the route table's peer is.
PEER_VPC_NAME = "shared-services"


@dataclass
class Flip:
    """One rule's verdict on one resource before and after the change."""

    rule: str
    controls: str
    resource_type: str
    resource_id: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    error: str | None = None


@dataclass
class ChangeDetection:
    changes: list[str] = field(default_factory=list)
    flips: list[Flip] = field(default_factory=list)
    #: Per custom rule with change triggers: what rdk deployed (see :func:`rdk_rule_triggers`).
    deployed: dict[str, dict[str, Any]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = ["", "Detection on change (no periodic run): AWS Config notifies the rules scoped to a changed resource."]
        for name, triggers in sorted(self.deployed.items()):
            if triggers["scope"]:
                details = ", ".join(triggers["message_types"])
                out.append(f"  rdk deployed {name} on {', '.join(triggers['scope'])}: {details}")
        out += [f"  changed: {text}" for text in self.changes]
        for flip in self.flips:
            out.append(f"\nCIS {flip.controls}  {flip.rule}  {flip.resource_type} {flip.resource_id}")
            for when, evaluation in (("before", flip.before), ("after", flip.after)):
                if when == "after" and flip.error:
                    out.append(f"  {when:<7} ERROR          {flip.error}")
                    continue
                compliance = evaluation["ComplianceType"] if evaluation else "(not reported)"
                out.append(f"  {when:<7} {compliance:<14} {(evaluation or {}).get('Annotation', '')}".rstrip())
        return out


# --- what rdk deployed ------------------------------------------------------------------------------


_NO_VALUE = object()


def _resolve(node: Any, values: Mapping[str, Any], conditions: Mapping[str, Any]) -> Any:
    """A CloudFormation value of rdk's template, as CloudFormation resolves it (the functions
    rdk's ``configRule.yaml`` uses; ``Fn::GetAtt`` stays a placeholder)."""

    def condition(name: str) -> bool:
        return bool(_resolve(conditions[name], values, conditions))

    if isinstance(node, list):
        items = [_resolve(item, values, conditions) for item in node]
        return [item for item in items if item is not _NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref":
            return _NO_VALUE if arg == "AWS::NoValue" else values[arg]
        if key == "Condition":
            return condition(arg)
        if key == "Fn::If":
            name, then, otherwise = arg
            return _resolve(then if condition(name) else otherwise, values, conditions)
        if key == "Fn::Equals":
            left, right = (_resolve(a, values, conditions) for a in arg)
            return left == right
        if key == "Fn::Not":
            return not _resolve(arg[0], values, conditions)
        if key == "Fn::Or":
            return any(_resolve(a, values, conditions) for a in arg)
        if key == "Fn::And":
            return all(_resolve(a, values, conditions) for a in arg)
        if key == "Fn::Join":
            separator, items = arg
            return separator.join(str(i) for i in _resolve(items, values, conditions))
        if key == "Fn::GetAtt":
            return "(" + ".".join(arg) + ")"
    resolved = {key: _resolve(value, values, conditions) for key, value in node.items()}
    return {key: value for key, value in resolved.items() if value is not _NO_VALUE}


def rdk_rule_triggers(stack_name: str, cloudformation: Any = None) -> dict[str, Any]:
    """What ``rdk deploy`` asked CloudFormation for in one rule's stack: the stack's
    ``SourceEvents`` and ``SourcePeriodic`` parameters, and the ``Scope`` and source details of
    the template's ``AWS::Config::ConfigRule`` resolved with them."""
    cloudformation = cloudformation or boto3.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    body = cloudformation.get_template(StackName=stack_name)["TemplateBody"]
    template = yaml.safe_load(body) if isinstance(body, str) else body
    passed = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    values: dict[str, Any] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        value = passed.get(name, spec.get("Default"))
        if spec.get("Type") == "CommaDelimitedList":
            # moto describes a list parameter as the Python repr of the list it parsed ("['a', 'b']").
            text = str(value)
            value = [str(v) for v in ast.literal_eval(text)] if text.startswith("[") else text.split(",")
            passed[name] = ",".join(value)
        values[name] = value
    [rule] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Config::ConfigRule"]
    properties = _resolve(rule["Properties"], values, template.get("Conditions") or {})
    details = properties["Source"].get("SourceDetails", [])
    return {
        "parameters": {key: passed.get(key) for key in ("SourceEvents", "SourcePeriodic")},
        "scope": list(properties.get("Scope", {}).get("ComplianceResourceTypes", [])),
        "message_types": [
            d["MessageType"] + (f" ({d['MaximumExecutionFrequency']})" if d.get("MaximumExecutionFrequency") else "")
            for d in details
        ],
        "source_details": details,
    }


# --- the changes ----------------------------------------------------------------------------------

#: ``invoke(rule_name, event)``: run the deployed rule's handler with ``event``; its evaluations
#: (a list) or its error (a string).
Invoke = Callable[[str, Mapping[str, Any]], "list[dict[str, Any]] | str"]


def _route_table(ec2: Any) -> dict[str, Any]:
    tables = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": [ROUTE_TABLE_NAME]}])["RouteTables"]
    return dict(tables[0])


def make_changes(account_id: str, region: str) -> tuple[list[str], str, str]:
    """Open the trail bucket to the world and the route table to the whole peer VPC, as a careless
    change would; the descriptions, the bucket and the route table."""
    s3 = boto3.client("s3", region_name=region)
    # A new public ACL is refused while BlockPublicAcls is on, so the change turns that off first.
    s3.delete_public_access_block(Bucket=TRAIL_BUCKET)
    s3.put_bucket_acl(Bucket=TRAIL_BUCKET, ACL="public-read")
    ec2 = boto3.client("ec2", region_name=region)
    table = _route_table(ec2)
    [route] = [r for r in table["Routes"] if r.get("VpcPeeringConnectionId")]
    peer = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [PEER_VPC_NAME]}])["Vpcs"][0]
    ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock=route["DestinationCidrBlock"])
    ec2.create_route(
        RouteTableId=table["RouteTableId"],
        DestinationCidrBlock=peer["CidrBlock"],
        VpcPeeringConnectionId=route["VpcPeeringConnectionId"],
    )
    return (
        [
            f"S3 bucket {TRAIL_BUCKET} (CloudTrail logs): its Block Public Access removed, its ACL set to public-read",
            f"route table {table['RouteTableId']} ({ROUTE_TABLE_NAME}): the route to {route['DestinationCidrBlock']} "
            f"replaced by one to {peer['CidrBlock']}, all of peer VPC {peer['VpcId']}, through "
            f"{route['VpcPeeringConnectionId']}",
        ],
        TRAIL_BUCKET,
        str(table["RouteTableId"]),
    )


def detect_on_change(
    rules: Sequence[Any],
    first: Mapping[str, Sequence[Mapping[str, Any]]],
    invoke: Invoke,
    account_id: str,
    region: str,
    now: datetime,
) -> ChangeDetection:
    """Make the changes, build their configuration items, send each rule with a change trigger on
    their resource type the change notification, and collect the verdicts before (``first``: the
    first evaluation's, by rule) and after."""
    detection = ChangeDetection()
    detection.changes, bucket, table = make_changes(account_id, region)
    captured = now + timedelta(minutes=5)
    items = [
        bucket_item(bucket, account_id=account_id, captured=captured),
        route_table_item(table, account_id=account_id, region=region, captured=captured),
    ]
    for item in items:
        for rule in rules:
            if item["resourceType"] not in rule.source_events:
                continue
            event = change_event(
                rule.name, item, rule.input_parameters, account=account_id, region=region, now=captured
            )
            earlier = first.get(rule.name, ())
            before = next((e for e in earlier if e["ComplianceResourceId"] == item["resourceId"]), None)
            answer = invoke(rule.name, event)
            flip = Flip(
                rule.name,
                ", ".join(c.id for c in rule.controls),
                item["resourceType"],
                item["resourceId"],
                before,
                None,
            )
            if isinstance(answer, str):
                flip.error = answer
            else:
                flip.after = next((e for e in answer if e["ComplianceResourceId"] == item["resourceId"]), None)
            detection.flips.append(flip)
    return detection


def merged(evaluations: Sequence[Mapping[str, Any]], flips: Sequence[Flip], rule: str) -> list[dict[str, Any]]:
    """A rule's evaluations as AWS Config then holds them: the latest per resource."""
    latest = {(e["ComplianceResourceType"], e["ComplianceResourceId"]): dict(e) for e in evaluations}
    for flip in flips:
        if flip.rule == rule and flip.after is not None:
            latest[(flip.resource_type, flip.resource_id)] = dict(flip.after)
    return list(latest.values())
