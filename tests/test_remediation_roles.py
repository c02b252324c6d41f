"""The runbooks' roles, evaluated as IAM evaluates them (:mod:`cispack.remediation.iam_policy`):
no role can write its own or another role or policy of the pack, whatever the request's
conditions; each grants exactly its runbook's calls; every write is scoped to the resources the
runbook touches; the roles a runbook creates need the boundary; only this account's automations
can assume a role."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from cispack import TEMPLATES_DIR
from cispack.catalog import remediations as catalog
from cispack.generate import runbooks
from cispack.remediation.iam_policy import (
    ALLOW,
    DENY,
    IMPLICIT_DENY,
    Request,
    condition_holds,
    decide,
    granted_actions,
    load_template,
    names_action,
    resolve,
)

ACCOUNT = "123456789012"
REGION = "eu-west-1"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/cis-config-pack-log-delivery-boundary-{REGION}"
SUPPORT_ACCESS = "arn:aws:iam::aws:policy/AWSSupportAccess"
NAMES = {
    "AWS::Partition": "aws",
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "SupportRoleName": "cis-aws-support",
    "LogDeliveryBoundary": BOUNDARY,
}


def _cfn(name: str) -> dict[str, Any]:
    return load_template(TEMPLATES_DIR / name)


@cache
def _template_resources(name: str) -> dict[str, Any]:
    """The template's resources without the documents' scripts (only the roles matter here)."""
    return dict(_cfn(name)["Resources"])


@pytest.fixture(scope="module")
def roles() -> dict[str, list[dict[str, Any]]]:
    """Runbook document -> its role's statements, resolved for one account and region."""
    return _roles("remediation.yaml")


def test_the_member_template_deploys_the_same_roles(roles):
    assert _roles("member.yaml") == roles


def _roles(template: str) -> dict[str, list[dict[str, Any]]]:
    resources = _template_resources(template)
    found = {}
    for runbook in catalog.own_runbooks():
        role = resources[runbooks.role_logical_id(runbook)]["Properties"]
        assert resolve(role["RoleName"], NAMES) == catalog.role_name(runbook, REGION)
        statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
        found[runbook.document] = resolve(statements, NAMES)
    return found


def pack_role_arns() -> list[str]:
    names = [catalog.role_name(r, REGION) for r in catalog.own_runbooks()]
    names += [f"cis-config-pack-rules-{REGION}"]
    return [f"arn:aws:iam::{ACCOUNT}:role/{name}" for name in names]


#: Contexts a caller could bring: each condition the roles grant under, satisfied.
CONTEXTS = [
    {},
    *(
        {
            "iam:PermissionsBoundary": boundary,
            "iam:PolicyARN": SUPPORT_ACCESS,
            "iam:PassedToService": service,
            "iam:AWSServiceName": "config.amazonaws.com",
        }
        for boundary in (BOUNDARY, SUPPORT_ACCESS)
        for service in ("cloudtrail.amazonaws.com", "vpc-flow-logs.amazonaws.com", "config.amazonaws.com")
    ),
]
#: Actions no runbook needs that would hurt in the wrong hands.
DANGEROUS = (
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:CreatePolicy",
    "sts:AssumeRole",
    "s3:PutObject",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "cloudtrail:DeleteTrail",
    "cloudtrail:StopLogging",
    "config:StopConfigurationRecorder",
    "config:DeleteConfigurationRecorder",
    "kms:ScheduleKeyDeletion",
    "kms:PutKeyPolicy",
    "kms:DisableKeyRotation",
    "logs:DeleteLogGroup",
    "ec2:DeleteFlowLogs",
    "ssm:UpdateDocument",
    "ssm:StartAutomationExecution",
)


def test_no_role_can_write_its_own_or_another_pack_role_or_policy(roles):
    writes = (*runbooks.ROLE_WRITES, *runbooks.POLICY_WRITES)
    targets = [*pack_role_arns(), BOUNDARY, f"arn:aws:iam::{ACCOUNT}:policy/cis-config-pack-anything"]
    for document, every in roles.items():
        for action in writes:
            statements = [s for s in every if names_action(s, action)]  # the others cannot decide it
            for target in targets:
                for context in CONTEXTS:
                    verdict = decide(statements, Request(action, target, context))
                    assert verdict != ALLOW, f"{document} may {action} {target} with {context}"
                assert decide(statements, Request(action, target, {})) == DENY, "the deny is explicit"


def test_each_role_grants_exactly_its_runbooks_calls(roles):
    universe = {a for r in catalog.own_runbooks() for a in r.actions}
    universe |= {*runbooks.ROLE_WRITES, *runbooks.POLICY_WRITES, *DANGEROUS}
    for runbook in catalog.own_runbooks():
        granted = granted_actions(roles[runbook.document], universe)
        assert granted == set(runbook.actions), runbook.document


#: The only actions a role holds on ``*``: IAM gives them no resource type (or the runbook acts on
#: whatever AWS Config names among resources that have none, such as the account's password policy).
UNSCOPED = {
    "cloudtrail:DescribeTrails",
    "cloudtrail:ListTrails",
    "cloudwatch:DescribeAlarms",
    "config:DescribeConfigurationRecorderStatus",
    "config:DescribeConfigurationRecorders",
    "config:DescribeDeliveryChannels",
    "config:PutConfigurationRecorder",
    "config:PutDeliveryChannel",
    "config:StartConfigurationRecorder",
    "ec2:DescribeFlowLogs",
    "ec2:DescribeRegions",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "iam:GenerateCredentialReport",
    "iam:GetAccountPasswordPolicy",
    "iam:GetCredentialReport",
    "iam:ListUsers",
    "iam:UpdateAccountPasswordPolicy",
    "logs:DescribeLogGroups",
    "logs:DescribeMetricFilters",
    "s3:ListAllMyBuckets",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
}


def test_every_other_action_is_scoped_to_the_resources_the_runbook_touches(roles):
    for document, statements in roles.items():
        for statement in statements:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if statement["Effect"] == ALLOW and "*" in resources:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert set(actions) <= UNSCOPED, f"{document} holds {sorted(set(actions) - UNSCOPED)} on *"


@pytest.mark.parametrize(
    ("document", "action", "created"),
    [
        ("CisPack-EnableTrailCloudWatchLogs", "iam:CreateRole", "cis-config-pack-cloudtrail-logs"),
        ("CisPack-EnableTrailCloudWatchLogs", "iam:PutRolePolicy", "cis-config-pack-cloudtrail-logs"),
        ("CisPack-EnableVpcRejectFlowLogs", "iam:CreateRole", "cis-config-pack-vpc-flow-logs"),
        ("CisPack-EnableVpcRejectFlowLogs", "iam:PutRolePolicy", "cis-config-pack-vpc-flow-logs"),
        ("CisPack-CreateSupportRole", "iam:CreateRole", "cis-aws-support"),
    ],
)
def test_a_role_a_runbook_creates_needs_its_boundary(roles, document, action, created):
    statements = roles[document]
    arn = f"arn:aws:iam::{ACCOUNT}:role/{created}"
    boundary = SUPPORT_ACCESS if created == "cis-aws-support" else BOUNDARY
    assert decide(statements, Request(action, arn, {"iam:PermissionsBoundary": boundary})) == ALLOW
    assert decide(statements, Request(action, arn, {})) == IMPLICIT_DENY
    other = f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"
    assert decide(statements, Request(action, arn, {"iam:PermissionsBoundary": other})) == IMPLICIT_DENY
    # The same grant never reaches a role of another name.
    elsewhere = f"arn:aws:iam::{ACCOUNT}:role/someone-elses"
    assert decide(statements, Request(action, elsewhere, {"iam:PermissionsBoundary": boundary})) == IMPLICIT_DENY


def test_the_support_role_gets_only_aws_support_access(roles):
    statements = roles["CisPack-CreateSupportRole"]
    arn = f"arn:aws:iam::{ACCOUNT}:role/cis-aws-support"
    assert decide(statements, Request("iam:AttachRolePolicy", arn, {"iam:PolicyARN": SUPPORT_ACCESS})) == ALLOW
    admin = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert decide(statements, Request("iam:AttachRolePolicy", arn, admin)) == IMPLICIT_DENY


@pytest.mark.parametrize(
    ("document", "action", "service"),
    [
        ("CisPack-EnableTrailCloudWatchLogs", "cis-config-pack-cloudtrail-logs", "cloudtrail.amazonaws.com"),
        ("CisPack-EnableVpcRejectFlowLogs", "cis-config-pack-vpc-flow-logs", "vpc-flow-logs.amazonaws.com"),
    ],
)
def test_a_created_role_is_passed_only_to_its_service(roles, document, action, service):
    arn = f"arn:aws:iam::{ACCOUNT}:role/{action}"
    assert decide(roles[document], Request("iam:PassRole", arn, {"iam:PassedToService": service})) == ALLOW
    other = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert decide(roles[document], Request("iam:PassRole", arn, other)) == IMPLICIT_DENY


def test_only_this_accounts_automations_assume_a_role():
    resources = _template_resources("remediation.yaml")
    for runbook in catalog.own_runbooks():
        (trust,) = resources[runbooks.role_logical_id(runbook)]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        trust = resolve(trust, NAMES)
        assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
        execution = f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/0123abcd"
        mine = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": execution}
        assert decide([trust], Request("sts:AssumeRole", "*", mine)) == ALLOW
        theirs = {"aws:SourceAccount": "999999999999", "aws:SourceArn": execution.replace(ACCOUNT, "999999999999")}
        assert decide([trust], Request("sts:AssumeRole", "*", theirs)) == IMPLICIT_DENY
        assert decide([trust], Request("sts:AssumeRole", "*", {})) == IMPLICIT_DENY


def test_role_names_fit_iam_in_every_region():
    for runbook in catalog.own_runbooks():
        assert len(catalog.role_name(runbook, "ap-southeast-2")) <= 64, runbook.document
    assert len({r.role for r in catalog.own_runbooks()}) == len(catalog.own_runbooks())


# --- the evaluator itself -------------------------------------------------------------------------

ALLOW_S3 = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::logs-*"}


@pytest.mark.parametrize(
    ("case", "statements", "request_", "expected"),
    [
        ("wildcard action, any case", [ALLOW_S3], Request("S3:getobject", "arn:aws:s3:::logs-1", {}), ALLOW),
        ("resource outside the wildcard", [ALLOW_S3], Request("s3:GetObject", "arn:aws:s3:::web", {}), IMPLICIT_DENY),
        (
            "explicit deny wins",
            [ALLOW_S3, {"Effect": "Deny", "Action": "*", "Resource": "*"}],
            Request("s3:GetObject", "arn:aws:s3:::logs-1", {}),
            DENY,
        ),
        (
            "NotAction allows everything else",
            [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
            Request("iam:CreateRole", "arn:aws:iam::1:role/x", {}),
            IMPLICIT_DENY,
        ),
        (
            "NotAction grants outside its list",
            [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
            Request("s3:GetObject", "x", {}),
            ALLOW,
        ),
        (
            "NotResource",
            [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:iam::*:role/pack-*"}],
            Request("iam:PutRolePolicy", "arn:aws:iam::1:role/pack-x", {}),
            IMPLICIT_DENY,
        ),
        (
            "a missing condition key fails the condition",
            [{**ALLOW_S3, "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}}],
            Request("s3:GetObject", "arn:aws:s3:::logs-1", {}),
            IMPLICIT_DENY,
        ),
        (
            "IfExists holds on a missing key",
            [{**ALLOW_S3, "Condition": {"StringEqualsIfExists": {"aws:SourceAccount": "1"}}}],
            Request("s3:GetObject", "arn:aws:s3:::logs-1", {}),
            ALLOW,
        ),
        (
            "a conditioned deny does not apply when its condition fails",
            [ALLOW_S3, {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"k": "true"}}}],
            Request("s3:GetObject", "arn:aws:s3:::logs-1", {"k": "false"}),
            ALLOW,
        ),
    ],
)
def test_the_evaluator_decides_as_iam(case, statements, request_, expected):
    assert decide(statements, request_) == expected, case


def test_the_evaluator_refuses_an_operator_it_does_not_know():
    with pytest.raises(ValueError, match="NumericLessThan"):
        condition_holds("NumericLessThan", "k", "1", {"k": "0"})


def test_no_role_acts_on_a_bucket_of_another_account(roles):
    """S3 bucket ARNs name no account: aws:ResourceAccount is IAM's owner check on each bucket call."""
    for runbook in catalog.own_runbooks():
        for action in runbook.actions:
            if not action.startswith("s3:") or action in ("s3:ListAllMyBuckets", "s3:CreateBucket"):
                continue
            bucket = "arn:aws:s3:::cis-cloudtrail-logs-x"
            theirs = decide(roles[runbook.document], Request(action, bucket, {"aws:ResourceAccount": "999999999999"}))
            ours = decide(roles[runbook.document], Request(action, bucket, {"aws:ResourceAccount": ACCOUNT}))
            assert (theirs, ours) == (IMPLICIT_DENY, ALLOW), f"{runbook.document} {action}"


def test_no_role_carries_a_checkov_skip():
    """checkov passes the roles as they are (./pack test runs it): a skip could only hide something."""
    for runbook in catalog.own_runbooks():
        assert "Metadata" not in runbooks.runbook_role(runbook), runbook.document
