"""Made-up organisations for ``./pack report --sample 12|200``, the browser tests and the pictures
in docs/scorecard.md: every verdict occurs (rules not deployed, never run, in error, non-compliant
resources with annotations, passing evidence, reviewed and unreviewed process checks), with the
resource types and annotations the pack's rules report. Deterministic: the same seed gives the
same organisation, read at :data:`SAMPLE_TIME`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from cispack.report.model import Compliance, Deployment, Evaluation, PackRule, known_rules, pack_rules

SAMPLE_TIME = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SIZES = (12, 200)

# Resource type, ID pattern and annotations (failing, passing) by the words in a rule's name.
_USER = ("AWS::IAM::User", "AIDA{account}{n}", "User dev-{n} has a console password and no MFA device.", "")
_KINDS: tuple[tuple[str, tuple[str, str, str, str]], ...] = (
    (
        "CLOUDTRAIL_S3",
        (
            "AWS::S3::Bucket",
            "trail-logs-{account}",
            "Bucket trail-logs-{account} grants Read to AllUsers in its ACL.",
            "Bucket trail-logs-{account} grants nothing to AllUsers or AuthenticatedUsers; Block Public Access is on.",
        ),
    ),
    (
        "CLOUD_TRAIL",
        ("AWS::CloudTrail::Trail", "org-trail", "Trail org-trail is not configured as the rule requires.", ""),
    ),
    (
        "MULTI_REGION_CLOUD_TRAIL",
        ("AWS::::Account", "{account}", "No multi-region trail records all management events.", ""),
    ),
    ("CMK_", ("AWS::KMS::Key", "1234abcd-{account}-{n}", "Key rotation is not enabled.", "")),
    ("VPC_FLOW_LOGS", ("AWS::EC2::VPC", "vpc-{account}{n}", "VPC has no REJECT flow log.", "")),
    (
        "VPC_PEERING",
        (
            "AWS::EC2::RouteTable",
            "rtb-{account}{n}",
            "Route table rtb-{account}{n} sends 0.0.0.0/0 through peering connection pcx-0{n}.",
            "Route table rtb-{account}{n} has no peering route wider than its peer's CIDR.",
        ),
    ),
    ("INCOMING_SSH", ("AWS::EC2::SecurityGroup", "sg-{account}{n}", "", "")),
    ("RESTRICTED_INCOMING", ("AWS::EC2::SecurityGroup", "sg-{account}{n}", "", "")),
    ("DEFAULT_SECURITY_GROUP", ("AWS::EC2::SecurityGroup", "sg-{account}{n}", "", "")),
    ("INSTANCE_PROFILE", ("AWS::EC2::Instance", "i-0{account}{n}", "", "")),
    ("NO_STATEMENTS_WITH_ADMIN", ("AWS::IAM::Policy", "ANPA{account}{n}", "", "")),
    (
        "METRIC_FILTER_ALARM",
        (
            "AWS::::Account",
            "{account}",
            "No metric filter on log group cloudtrail-logs covers the CIS pattern for {topic}.",
            "Alarm CIS-{topic} notifies topic arn:aws:sns:us-east-1:{account}:security-alerts "
            "(a confirmed subscription).",
        ),
    ),
    (
        "CONFIG_ENABLED",
        (
            "AWS::::Account",
            "{account}",
            "No configuration recorder is recording in ap-south-1, sa-east-1.",
            "Every enabled region records all resource types; us-east-1 records global resource types.",
        ),
    ),
    ("IAM_USER", _USER),
    ("MFA_ENABLED_FOR_IAM", _USER),
    (
        "ACCESS_KEYS_ROTATED",
        ("AWS::IAM::User", "AIDA{account}{n}", "Access key AKIA...{n}7Q of user dev-{n} is 212 days old.", ""),
    ),
)
_ACCOUNT = ("AWS::::Account", "{account}", "", "")
_NETWORK_REGIONS = ("us-east-1", "eu-west-1")


def _kind(rule: PackRule) -> tuple[str, str, str, str]:
    return next((kind for words, kind in _KINDS if words in rule.name), _ACCOUNT)


def _deployments(rng: random.Random, account: str, number: int, rule: PackRule, failing: float) -> Iterator[Deployment]:
    """One rule in one account: a deployment per region it runs in (none when "not deployed")."""
    resource_type, pattern, fails, passes = _kind(rule)
    regional = resource_type.startswith("AWS::EC2::")
    topic = rule.name.removeprefix("METRIC_FILTER_ALARM_").replace("_", " ").lower()
    for region in _NETWORK_REGIONS if regional else _NETWORK_REGIONS[:1]:
        deployment = Deployment(account, region, rule.name, rule.name)
        roll = rng.random()
        if rule.kind == "process check":
            if number % 3 == 0:
                deployment.evaluations.append(
                    Evaluation(resource_type, account, "COMPLIANT", "Reviewed by J. Doe on 2026-11-02.", SAMPLE_TIME)
                )
        elif roll < 0.01:
            continue  # not deployed
        elif roll < 0.02:
            pass  # deployed, never evaluated
        elif roll < 0.03:
            deployment.error = "its last run failed with AccessDenied (not authorized)."
        else:
            bad = roll < 0.03 + failing
            for n in range(rng.randint(1, 3) if "{n}" in pattern else 1):
                resource = pattern.format(account=account[-4:] if pattern != "{account}" else account, n=n)
                if pattern == "{account}":
                    resource = account
                if bad:
                    note = (
                        fails or f"{resource_type.split('::')[-1]} {resource} allows ingress from 0.0.0.0/0 to port 22."
                    )
                    verdict = "NON_COMPLIANT"
                elif roll > 0.95:
                    note, verdict = "", "NOT_APPLICABLE"
                else:
                    note, verdict = passes, "COMPLIANT"
                text = note.format(account=account if pattern == "{account}" else account[-4:], n=n, topic=topic)
                deployment.evaluations.append(
                    Evaluation(resource_type, resource, verdict, text, SAMPLE_TIME - timedelta(hours=3))
                )
        yield deployment


def sample(accounts: int, seed: int = 13) -> Compliance:
    """An organisation of ``accounts`` made-up accounts; see the module's docstring. The rules only
    later CIS versions deploy follow the v1.2.0 pack's, drawn from a second generator, so the
    v1.2.0 organisation is the same with or without them."""
    rng = random.Random(seed)
    ids = [f"{100000000000 + n * 7919:012d}" for n in range(accounts)]
    # Some rules fail often, most rarely, as in a real organisation.
    failing = {rule: (0.25 if rng.random() < 0.3 else 0.01) for rule in pack_rules()}
    deployments: list[Deployment] = []
    for number, account in enumerate(ids):
        for rule in pack_rules().values():
            deployments += _deployments(rng, account, number, rule, failing[rule.name])
    later_rng = random.Random(seed + 1)
    later = [rule for name, rule in known_rules().items() if name not in pack_rules()]
    later_failing = {rule.name: (0.25 if later_rng.random() < 0.3 else 0.01) for rule in later}
    for number, account in enumerate(ids):
        for rule in later:
            deployments += _deployments(later_rng, account, number, rule, later_failing[rule.name])
    return Compliance(
        f"a sample organisation of {accounts} accounts (made-up data)",
        ids,
        deployments,
        SAMPLE_TIME,
        ["Sample data: every account, resource and annotation is made up."],
    )
