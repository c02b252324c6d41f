"""Tests for bucket publicity and ownership (rulelib/cis_s3_public.py), against moto's S3."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cis_rule import EvaluationError
from cis_s3_public import (
    NO_BLOCK,
    BlockPublicAccess,
    account_block_public_access,
    bucket_public_access,
    bucket_region,
    condition_restricts,
    is_no_such_bucket,
    owned_buckets,
    public_acl_grants,
    public_policy_statements,
    statement_is_public,
)
from cispack.local.config import respond

ACCOUNT = "123456789012"


def s3(region: str = "us-east-1") -> Any:
    return boto3.client("s3", region_name=region)


def s3control() -> Any:
    return boto3.client("s3control", region_name="us-east-1")


def anyone(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", **extra}


# --- ACL -----------------------------------------------------------------------------------


def test_public_acl_grants_names_group_and_permission():
    acl = {
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"},
            {
                "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                "Permission": "READ",
            },
            {
                "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
                "Permission": "WRITE",
            },
            # The log-delivery group is not the public.
            {
                "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"},
                "Permission": "WRITE",
            },
        ]
    }
    assert public_acl_grants(acl) == ["READ to AllUsers", "WRITE to AuthenticatedUsers"]


# --- Policy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "statement", "public"),
    [
        ("star", anyone(), True),
        ("aws_star", anyone(Principal={"AWS": "*"}), True),
        ("aws_list_with_star", anyone(Principal={"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]}), True),
        ("named_account", anyone(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), False),
        ("service_principal", anyone(Principal={"Service": "cloudtrail.amazonaws.com"}), False),
        ("deny", anyone(Effect="Deny"), False),
        ("not_principal_allow", {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}}, True),
        ("secure_transport_only", anyone(Condition={"Bool": {"aws:SecureTransport": "true"}}), True),
        ("source_vpce", anyone(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}}), False),
        ("source_vpc_list", anyone(Condition={"StringEquals": {"aws:sourcevpc": ["vpc-1", "vpc-2"]}}), False),
        ("org_id", anyone(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}), False),
        ("principal_account", anyone(Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}), False),
        ("source_arn", anyone(Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:cloudtrail:x:1:trail/t"}}), False),
        ("source_arn_like_fixed", anyone(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:x:1:t"}}), False),
        ("source_arn_wildcard", anyone(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}}), True),
        ("source_account", anyone(Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}), False),
        ("source_account_negated", anyone(Condition={"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}), True),
        ("org_id_if_exists", anyone(Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}), True),
        ("for_all_values", anyone(Condition={"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-a"}}), True),
        ("for_any_value", anyone(Condition={"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-a"}}), False),
        ("policy_variable", anyone(Condition={"StringEquals": {"aws:PrincipalAccount": "${aws:username}"}}), True),
        (
            "source_ip_narrow",
            anyone(Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/48"]}}),
            False,
        ),
        ("source_ip_everything", anyone(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), True),
        ("source_ip_too_wide", anyone(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/7"}}), True),
        ("source_ip_negated", anyone(Condition={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), True),
        ("source_ip_garbage", anyone(Condition={"IpAddress": {"aws:SourceIp": "nope"}}), True),
        (
            "one_restricting_pair_is_enough",
            anyone(Condition={"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceVpce": "vpce-1"}}),
            False,
        ),
    ],
)
def test_statement_is_public(case, statement, public):
    assert statement_is_public(statement) is public, case


def test_policy_statement_labels_use_sid_or_position():
    policy = {"Statement": [anyone(Sid="Open"), anyone(Effect="Deny"), anyone()]}
    assert public_policy_statements(json.dumps(policy)) == ["Open", "#3"]


def test_policy_with_a_single_statement_object():
    assert public_policy_statements(json.dumps({"Statement": anyone(Sid="Solo")})) == ["Solo"]


@pytest.mark.parametrize("policy", ["{not json", "[]", '{"Statement": "x"}', '{"Statement": ["x"]}'])
def test_unreadable_policy_is_an_evaluation_error(policy):
    with pytest.raises(EvaluationError):
        public_policy_statements(policy)


def test_unreadable_condition_is_an_evaluation_error():
    with pytest.raises(EvaluationError, match="unreadable condition"):
        condition_restricts({"StringEquals": "aws:SourceVpce"})


# --- Block Public Access and the verdict ---------------------------------------------------


def make_bucket(name: str = "ct-logs", acl: str | None = None, policy: list[dict[str, Any]] | None = None) -> None:
    s3().create_bucket(Bucket=name)
    if acl:
        s3().put_bucket_acl(Bucket=name, ACL=acl)
    if policy:
        s3().put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": policy}))


def test_no_account_block_configuration_is_all_off(aws):
    assert account_block_public_access(s3control(), ACCOUNT) == NO_BLOCK


def test_account_block_configuration_is_read(aws):
    s3control().put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={"IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    )
    assert account_block_public_access(s3control(), ACCOUNT) == BlockPublicAccess(
        ignore_public_acls=True, restrict_public_buckets=True
    )


def test_account_block_access_denied_propagates(aws):
    with respond("s3control", "GetPublicAccessBlock", error="AccessDenied", status=403):
        with pytest.raises(ClientError, match="AccessDenied"):
            account_block_public_access(s3control(), ACCOUNT)


def test_private_bucket(aws):
    make_bucket()
    access = bucket_public_access(s3(), "ct-logs", NO_BLOCK)
    assert not access.is_public
    assert access.reason == (
        "is not public: no ACL grant to AllUsers or AuthenticatedUsers and no policy statement allowing any principal"
    )


def test_public_acl_and_policy(aws):
    make_bucket(acl="public-read", policy=[anyone(Sid="A", Resource="arn:aws:s3:::ct-logs/*"), anyone(Sid="B")])
    access = bucket_public_access(s3(), "ct-logs", NO_BLOCK)
    assert access.is_public and access.public_acl and access.public_policy
    assert access.reason == (
        "is public: its ACL grants READ to AllUsers and its bucket policy allows any principal without a "
        "restricting condition (statements A and B)"
    )


def test_bucket_level_ignore_public_acls_neutralises_acl_only(aws):
    make_bucket(acl="public-read", policy=[anyone(Sid="A")])
    s3().put_public_access_block(Bucket="ct-logs", PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    access = bucket_public_access(s3(), "ct-logs", NO_BLOCK)
    assert (access.acls_ignored_by, access.policy_restricted_by) == ("bucket", None)
    assert access.is_public and not access.public_acl
    assert access.reason == (
        "is public: its bucket policy allows any principal without a restricting condition (statement A)"
    )


def test_account_level_settings_neutralise_both(aws):
    make_bucket(acl="public-read", policy=[anyone(Sid="A")])
    account = BlockPublicAccess(ignore_public_acls=True, restrict_public_buckets=True)
    access = bucket_public_access(s3(), "ct-logs", account)
    assert not access.is_public
    assert access.reason == (
        "is not public: its ACL grants READ to AllUsers but IgnorePublicAcls is on (account level) and its bucket "
        "policy allows any principal without a restricting condition (statement A) but RestrictPublicBuckets is on "
        "(account level)"
    )


def test_block_settings_for_new_acls_and_policies_neutralise_nothing_existing(aws):
    make_bucket(acl="public-read")
    access = bucket_public_access(s3(), "ct-logs", BlockPublicAccess(block_public_acls=True, block_public_policy=True))
    assert access.is_public


@pytest.mark.parametrize("operation", ["GetBucketAcl", "GetBucketPolicy", "GetPublicAccessBlock"])
def test_no_such_bucket_propagates_and_is_recognised(aws, operation):
    make_bucket()
    with respond("s3", operation, error="NoSuchBucket", status=404):
        with pytest.raises(ClientError) as raised:
            bucket_public_access(s3(), "ct-logs", NO_BLOCK)
    assert is_no_such_bucket(raised.value)


@pytest.mark.parametrize("operation", ["GetBucketAcl", "GetBucketPolicy", "GetPublicAccessBlock"])
def test_access_denied_propagates(aws, operation):
    make_bucket()
    with respond("s3", operation, error="AccessDenied", status=403):
        with pytest.raises(ClientError) as raised:
            bucket_public_access(s3(), "ct-logs", NO_BLOCK)
    assert not is_no_such_bucket(raised.value)


# --- Ownership -----------------------------------------------------------------------------


def test_owned_buckets_over_two_pages_with_and_without_region(aws):
    with respond(
        "s3",
        "ListBuckets",
        [
            {"Buckets": [{"Name": "a", "BucketRegion": "eu-west-1"}], "ContinuationToken": "page-2"},
            {"Buckets": [{"Name": "b"}]},
        ],
    ) as calls:
        assert owned_buckets(s3()) == {"a": "eu-west-1", "b": None}
    assert calls == [{}, {"ContinuationToken": "page-2"}]


def test_owned_buckets_from_moto(aws):
    make_bucket("mine")
    assert owned_buckets(s3()) == {"mine": None}


@pytest.mark.parametrize(
    ("constraint", "region"), [(None, "us-east-1"), ("EU", "eu-west-1"), ("ap-south-1", "ap-south-1")]
)
def test_bucket_region(aws, constraint, region):
    answer = {"LocationConstraint": constraint} if constraint else {}
    with respond("s3", "GetBucketLocation", answer):
        assert bucket_region(s3(), "any") == region


def test_bucket_region_from_moto(aws):
    s3("eu-west-1").create_bucket(Bucket="eu-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert bucket_region(s3(), "eu-logs") == "eu-west-1"
