"""Where a reader goes from the scorecard: a resource in the AWS console of its partition, a
control's rule page (where AWS Config's Remediate button is), its remediation runbook and the
rule's documentation. Only addresses: the page fetches nothing."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from cispack.catalog.remediations import REMEDIATIONS, Remediation
from cispack.report.model import known_rules

#: The console's host in each partition (commercial, China, GovCloud).
CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
MANAGED_RULE_DOCS = "https://docs.aws.amazon.com/config/latest/developerguide/"


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _console(region: str, path: str) -> str:
    return f"https://{CONSOLE_HOSTS[partition(region)]}/{path}"


def rule_url(region: str, rule: str) -> str:
    """The AWS Config rule's page: its evaluations, and the Remediate action."""
    return _console(region, f"config/home?region={region}#/rules/details?configRuleName={quote(rule, safe='')}")


def resource_url(region: str, resource_type: str, resource_id: str, rule: str) -> str:
    """The resource in the console of its partition (an account's verdict: the rule's page)."""
    rid = quote(resource_id, safe="")
    pages = {
        "AWS::S3::Bucket": f"s3/buckets/{rid}?region={region}",
        "AWS::EC2::SecurityGroup": f"ec2/home?region={region}#SecurityGroup:groupId={rid}",
        "AWS::EC2::Instance": f"ec2/home?region={region}#InstanceDetails:instanceId={rid}",
        "AWS::EC2::RouteTable": f"vpc/home?region={region}#RouteTableDetails:RouteTableId={rid}",
        "AWS::EC2::VPC": f"vpc/home?region={region}#VpcDetails:VpcId={rid}",
        "AWS::KMS::Key": f"kms/home?region={region}#/kms/keys/{rid}",
    }
    if resource_type == "AWS::::Account":
        return rule_url(region, rule)
    if resource_type in pages:
        return _console(region, pages[resource_type])
    # Anything else (IAM users by unique ID, trails, policies): AWS Config's own resource page.
    return _console(
        region,
        f"config/home?region={region}#/resources/details?resourceType={quote(resource_type, safe='')}&resourceId={rid}",
    )


@dataclass(frozen=True)
class Link:
    text: str
    url: str


def remediation_of(control_id: str) -> Remediation | None:
    return next((r for r in REMEDIATIONS if control_id in r.controls), None)


def control_links(
    control_id: str, rules: tuple[str, ...], region: str | None, *, with_runbook: bool = True
) -> list[Link]:
    """The runbook's document in Systems Manager (every runbook is the pack's own) and each managed
    rule's documentation; the console link needs a region the scorecard read."""
    links = []
    remediation = remediation_of(control_id) if with_runbook else None
    if remediation and region:
        document = quote(remediation.runbook.document, safe="")
        links.append(
            Link(
                f"runbook {remediation.runbook.document} (Systems Manager console)",
                _console(region, f"systems-manager/documents/{document}/description?region={region}"),
            )
        )
    for rule in rules:
        if known_rules()[rule].kind == "managed":
            links.append(
                Link(f"{rule} (AWS Config documentation)", f"{MANAGED_RULE_DOCS}{rule.lower().replace('_', '-')}.html")
            )
    return links
