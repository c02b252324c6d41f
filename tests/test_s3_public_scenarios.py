"""Bucket policies, ACLs and configuration items that decide whether a CloudTrail bucket is public
(rulelib/cis_s3_public.py): the cases a careless change would get wrong, one scenario a row.

Pure functions, no AWS: the configuration-item readers are given the item's
``supplementaryConfiguration`` as AWS Config writes it, and :func:`recorded_public_access` a
client that refuses every call (botocore's ``Stubber`` with nothing queued) wherever the item
records enough to judge, or that answers exactly the calls the item leaves open.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from cis_rule import EvaluationError
from cis_s3_public import (
    NO_BLOCK,
    BlockPublicAccess,
    PublicAccess,
    account_block_public_access,
    bucket_block_public_access,
    bucket_public_access,
    condition_restricts,
    error_code,
    owned_buckets,
    public_access,
    public_acl_grants,
    public_policy_statements,
    recorded_access,
    recorded_acl_grants,
    recorded_public_access,
    statement_is_public,
)

ACCOUNT = "123456789012"
BUCKET = "ct-logs"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def anyone(condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    if condition is not None:
        statement["Condition"] = condition
    return {**statement, **extra}


# --- Who may ask: a statement open to anyone, and the conditions that pin it -----------------

POLICY_SCENARIOS = [
    # Every value of a condition must be narrow: one wide value opens the statement to anyone.
    ("source_ip_one_narrow_one_everything", {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}}, True),
    ("source_ip_every_value_narrow", {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7/32"]}}, False),
    (
        "source_arn_one_fixed_one_wildcard",
        {"StringLike": {"aws:SourceArn": ["arn:aws:sns:us-east-1:111122223333:t", "arn:aws:*"]}},
        True,
    ),
    ("vpce_one_fixed_one_question_mark", {"StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-?"]}}, True),
    ("vpce_empty_string", {"StringEquals": {"aws:SourceVpce": ""}}, True),
    ("vpce_empty_list", {"StringEquals": {"aws:SourceVpce": []}}, True),
    # The widest networks that still count as a fixed origin: /8 for IPv4, /32 for IPv6.
    ("ipv4_slash_8_is_narrow_enough", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, False),
    ("ipv4_slash_7_is_too_wide", {"IpAddress": {"aws:SourceIp": "10.0.0.0/7"}}, True),
    ("ipv6_slash_32_is_narrow_enough", {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, False),
    ("ipv6_slash_31_is_too_wide", {"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}, True),
    ("ipv6_slash_9_is_too_wide", {"IpAddress": {"aws:SourceIp": "2000::/9"}}, True),
    ("source_ip_host_address", {"IpAddress": {"aws:SourceIp": "203.0.113.9"}}, False),
    # A network written with its host bits set is the network it names (IAM accepts it so).
    ("source_ip_with_host_bits", {"IpAddress": {"aws:SourceIp": "203.0.113.9/24"}}, False),
    # The source IP only restricts with IpAddress; another operator or key says nothing.
    ("source_ip_with_string_equals", {"StringEquals": {"aws:SourceIp": "203.0.113.0/24"}}, True),
    ("vpc_source_ip_is_not_source_ip", {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/16"}}, True),
    ("source_ip_for_any_value", {"ForAnyValue:IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),
    ("source_ip_if_exists", {"IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}}, True),
    ("source_ip_for_all_values", {"ForAllValues:IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, True),
    # Each key that names who (or which service resource) asks, with an equality operator.
    ("source_owner", {"StringEquals": {"aws:SourceOwner": ACCOUNT}}, False),
    ("principal_arn", {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/r"}}, False),
    ("principal_arn_string_like_fixed", {"StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/r"}}, False),
    ("principal_arn_string_like_wildcard", {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/r"}}, True),
    ("userid", {"StringEquals": {"aws:userid": "AIDAEXAMPLEUSERID"}}, False),
    ("userid_variable", {"StringEquals": {"aws:userid": "${aws:userid}"}}, True),
    ("kms_key", {"StringEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:x:1:key/k"}}, False),
    ("vpce_equals_ignore_case", {"StringEqualsIgnoreCase": {"aws:SourceVpce": "VPCE-1"}}, False),
    ("operator_and_key_in_any_case", {"FORANYVALUE:STRINGEQUALS": {"AWS:SOURCEVPCE": "vpce-1"}}, False),
    # Keys that say nothing about who asks, and operators that compare nothing to a fixed value.
    ("current_time", {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, True),
    ("referer", {"StringEquals": {"aws:Referer": "https://example.com"}}, True),
    ("source_owner_numeric", {"NumericEquals": {"aws:SourceOwner": ACCOUNT}}, True),
    ("principal_arn_not_like", {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/r"}}, True),
    ("no_condition", None, True),
    ("empty_condition", {}, True),
]


@pytest.mark.parametrize(("case", "condition", "public"), POLICY_SCENARIOS, ids=[s[0] for s in POLICY_SCENARIOS])
def test_statement_to_anyone_with_condition(case, condition, public):
    assert statement_is_public(anyone(condition)) is public


@pytest.mark.parametrize(
    ("case", "statement", "public"),
    [
        ("principal_aws_list_without_star", anyone(Principal={"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}), False),
        ("canonical_user_star_is_not_aws_star", anyone(Principal={"CanonicalUser": "*"}), False),
        ("no_principal", {"Effect": "Allow", "Action": "s3:GetObject"}, False),
        ("no_effect", {"Principal": "*", "Action": "s3:GetObject"}, False),
        (
            "not_principal_with_restricting_condition",
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
            },
            False,
        ),
    ],
)
def test_who_a_statement_allows(case, statement, public):
    assert statement_is_public(statement) is public, case


def test_policy_labels_in_order_with_sid_else_position():
    policy = {"Statement": [anyone(), anyone(Sid=""), anyone(Effect="Deny"), anyone(Sid="Open")]}
    assert public_policy_statements(json.dumps(policy)) == ["#1", "#2", "Open"]


def test_policy_without_statements_opens_nothing():
    assert public_policy_statements(json.dumps({"Version": "2012-10-17"})) == []


@pytest.mark.parametrize(
    ("case", "policy", "message"),
    [
        ("not_json", "{", "The bucket policy is not valid JSON."),
        ("statement_a_string", '{"Statement": "Allow"}', "The bucket policy has no readable Statement list."),
        ("a_statement_not_an_object", '{"Statement": [{}, 7]}', "The bucket policy has no readable Statement list."),
    ],
)
def test_unreadable_policy_says_what_is_wrong(case, policy, message):
    with pytest.raises(EvaluationError) as caught:
        public_policy_statements(policy)
    assert str(caught.value) == message


def test_unreadable_condition_names_its_operator_in_at_most_40_characters():
    operator = "StringEquals" + "X" * 40
    with pytest.raises(EvaluationError) as caught:
        condition_restricts({operator: ["aws:SourceVpce"]})
    assert str(caught.value) == f"The bucket policy has an unreadable condition under {operator[:40]!r}."


# --- ACL grants as GetBucketAcl answers them --------------------------------------------------


def test_acl_grant_needs_a_group_grantee_and_names_its_permission():
    acl = {
        "Grants": [
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}},
            # A grant without a grantee, or a group grantee without a URI, names nobody.
            {"Permission": "READ"},
            {"Grantee": {"Type": "Group"}, "Permission": "READ_ACP"},
            # Only a Group grantee is a group, whatever its URI says.
            {"Grantee": {"Type": "CanonicalUser", "URI": ALL_USERS}, "Permission": "WRITE"},
            {
                "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
                "Permission": "FULL_CONTROL",
            },
        ]
    }
    assert public_acl_grants(acl) == ["FULL_CONTROL to AuthenticatedUsers", "READ to AllUsers", "access to AllUsers"]


def test_acl_without_grants():
    assert public_acl_grants({}) == []


# --- Block Public Access and the sentence of the verdict ---------------------------------------


@pytest.mark.parametrize(
    ("case", "bucket", "account", "ignored_by", "restricted_by"),
    [
        ("none", NO_BLOCK, NO_BLOCK, None, None),
        ("bucket_only", BlockPublicAccess(True, True, True, True), NO_BLOCK, "bucket", "bucket"),
        ("account_only", NO_BLOCK, BlockPublicAccess(True, True, True, True), "account", "account"),
        (
            "both_name_the_account",
            BlockPublicAccess(True, True, True, True),
            BlockPublicAccess(True, True, True, True),
            "account",
            "account",
        ),
        # BlockPublicAcls and BlockPublicPolicy refuse new grants only: what exists stays in force.
        (
            "block_settings_neutralise_nothing",
            BlockPublicAccess(block_public_acls=True, block_public_policy=True),
            BlockPublicAccess(block_public_acls=True, block_public_policy=True),
            None,
            None,
        ),
        (
            "acls_at_bucket_policy_at_account",
            BlockPublicAccess(ignore_public_acls=True),
            BlockPublicAccess(restrict_public_buckets=True),
            "bucket",
            "account",
        ),
    ],
)
def test_which_level_neutralises(case, bucket, account, ignored_by, restricted_by):
    access = public_access(BUCKET, ["READ to AllUsers"], ["A"], bucket, account)
    assert access.bucket == BUCKET
    assert (access.acls_ignored_by, access.policy_restricted_by) == (ignored_by, restricted_by)
    assert access.is_public is (ignored_by is None or restricted_by is None)


def test_reason_names_every_statement_and_what_neutralises_each():
    both = BlockPublicAccess(ignore_public_acls=True, restrict_public_buckets=True)
    access = public_access(BUCKET, ["READ to AllUsers", "WRITE to AllUsers"], ["A", "B", "C"], both, NO_BLOCK)
    assert not access.is_public
    assert access.reason == (
        "is not public: its ACL grants READ to AllUsers and WRITE to AllUsers but IgnorePublicAcls is on "
        "(bucket level) and its bucket policy allows any principal without a restricting condition "
        "(statements A, B and C) but RestrictPublicBuckets is on (bucket level)"
    )


def test_reason_of_a_public_acl_beside_a_neutralised_policy():
    access = public_access(
        BUCKET, ["READ to AllUsers"], ["A"], NO_BLOCK, BlockPublicAccess(restrict_public_buckets=True)
    )
    assert access.is_public and access.public_acl and not access.public_policy
    assert access.reason == "is public: its ACL grants READ to AllUsers"


def test_reason_of_a_neutralised_policy_alone():
    access = public_access(BUCKET, [], ["A"], NO_BLOCK, BlockPublicAccess(restrict_public_buckets=True))
    assert access.reason == (
        "is not public: its bucket policy allows any principal without a restricting condition (statement A) "
        "but RestrictPublicBuckets is on (account level)"
    )


def test_block_settings_all_on():
    settings = dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    assert BlockPublicAccess.from_configuration(settings) == BlockPublicAccess(True, True, True, True)


def test_block_settings_read_only_true_as_on():
    settings = {
        "BlockPublicAcls": "true",
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": 1,
        "RestrictPublicBuckets": True,
    }
    assert BlockPublicAccess.from_configuration(settings) == BlockPublicAccess(
        block_public_acls=False, ignore_public_acls=True, block_public_policy=False, restrict_public_buckets=True
    )


# --- What a configuration item records --------------------------------------------------------

RECORDED_ACLS = [
    ("owner_only", {"grantList": [{"grantee": {"id": "abc", "displayName": "me"}, "permission": "FullControl"}]}, ()),
    ("all_users_read", {"grantList": [{"grantee": "AllUsers", "permission": "Read"}]}, ("READ to AllUsers",)),
    (
        "every_permission_name",
        {
            "grantList": [
                {"grantee": "AuthenticatedUsers", "permission": name}
                for name in ("FullControl", "Read", "Write", "ReadAcp", "WriteAcp")
            ]
        },
        tuple(f"{p} to AuthenticatedUsers" for p in sorted(("FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP"))),
    ),
    ("log_delivery_is_not_public", {"grantList": [{"grantee": "LogDelivery", "permission": "Write"}]}, ()),
    (
        "duplicates_once_sorted",
        {
            "grantList": [
                {"grantee": "AllUsers", "permission": "Write"},
                {"grantee": "AllUsers", "permission": "Read"},
                {"grantee": "AllUsers", "permission": "Write"},
            ]
        },
        ("READ to AllUsers", "WRITE to AllUsers"),
    ),
    ("grant_set_null_is_fine", {"grantSet": None, "grantList": []}, ()),
    # Shapes the rule cannot read: the API answers instead.
    ("grant_set_in_use", {"grantSet": [], "grantList": []}, None),
    ("no_grant_list", {"owner": {"id": "abc"}}, None),
    ("grant_list_not_a_list", {"grantList": {"grantee": "AllUsers"}}, None),
    ("unknown_permission", {"grantList": [{"grantee": "AllUsers", "permission": "READ"}]}, None),
    ("unknown_group", {"grantList": [{"grantee": "Everyone", "permission": "Read"}]}, None),
    ("grantee_a_number", {"grantList": [{"grantee": 7, "permission": "Read"}]}, None),
    ("grant_not_an_object", {"grantList": ["AllUsers"]}, None),
    ("not_an_object", ["AllUsers"], None),
]


@pytest.mark.parametrize(("case", "acl", "grants"), RECORDED_ACLS, ids=[s[0] for s in RECORDED_ACLS])
def test_recorded_acl_read_from_an_object_or_its_json_string(case, acl, grants):
    assert recorded_acl_grants(acl) == grants
    assert recorded_acl_grants(json.dumps(acl)) == grants


@pytest.mark.parametrize("value", [None, "", "{not json", 42])
def test_recorded_acl_absent_or_unreadable(value):
    assert recorded_acl_grants(value) is None


BLOCK_ON = {
    "blockPublicAcls": True,
    "ignorePublicAcls": True,
    "blockPublicPolicy": False,
    "restrictPublicBuckets": True,
}
POLICY = json.dumps({"Statement": [anyone(Sid="Open")]})


def test_recorded_access_of_a_change_notification():
    supplementary = {
        "AccessControlList": json.dumps({"grantList": [{"grantee": "AllUsers", "permission": "Read"}]}),
        "BucketPolicy": {"policyText": POLICY},
        "PublicAccessBlockConfiguration": BLOCK_ON,
    }
    recorded = recorded_access(supplementary)
    assert recorded.acl_grants == ("READ to AllUsers",)
    assert (recorded.policy_recorded, recorded.policy) == (True, POLICY)
    assert recorded.block == BlockPublicAccess(
        block_public_acls=True, ignore_public_acls=True, block_public_policy=False, restrict_public_buckets=True
    )


@pytest.mark.parametrize(
    ("case", "bucket_policy", "recorded", "policy"),
    [
        ("no_policy_recorded_as_null_text", {"policyText": None}, True, None),
        ("policy_as_json_string", json.dumps({"policyText": POLICY}), True, POLICY),
        ("no_policy_key", None, False, None),
        ("policy_text_absent", {}, False, None),
        ("policy_text_not_a_string", {"policyText": {"Statement": []}}, False, None),
        ("policy_unreadable_json", "{oops", False, None),
    ],
)
def test_recorded_bucket_policy(case, bucket_policy, recorded, policy):
    supplementary = {} if bucket_policy is None else {"BucketPolicy": bucket_policy}
    found = recorded_access(supplementary)
    assert (found.policy_recorded, found.policy) == (recorded, policy)


@pytest.mark.parametrize(
    ("case", "block", "expected"),
    [
        ("json_string", json.dumps(BLOCK_ON), BlockPublicAccess(True, True, False, True)),
        ("all_off", dict.fromkeys(BLOCK_ON, False), NO_BLOCK),
        ("absent", None, None),
        ("one_setting_missing", {k: v for k, v in BLOCK_ON.items() if k != "restrictPublicBuckets"}, None),
        ("a_setting_not_boolean", {**BLOCK_ON, "ignorePublicAcls": "true"}, None),
    ],
)
def test_recorded_block_public_access(case, block, expected):
    supplementary = {} if block is None else {"PublicAccessBlockConfiguration": block}
    assert recorded_access(supplementary).block == expected


@pytest.mark.parametrize("supplementary", [None, "x", []])
def test_an_item_without_supplementary_configuration_records_nothing(supplementary):
    recorded = recorded_access(supplementary)
    assert (recorded.acl_grants, recorded.policy_recorded, recorded.policy, recorded.block) == (None, False, None, None)


# --- The verdict from an item: what is read from the API, and only when it matters -------------


class Api:
    """An S3 client that answers only the calls queued on it (botocore's Stubber validates each),
    and a reader of the account's Block Public Access that counts its calls."""

    def __init__(self, account_block: BlockPublicAccess = NO_BLOCK) -> None:
        self.s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        self.stubber = Stubber(self.s3)
        self.account_block = account_block
        self.account_reads = 0

    def read_account_block(self) -> BlockPublicAccess:
        self.account_reads += 1
        return self.account_block

    def answers(self, operation: str, response: dict[str, Any]) -> Api:
        self.stubber.add_response(operation, response, {"Bucket": BUCKET})
        return self

    def fails(self, operation: str, code: str) -> Api:
        self.stubber.add_client_error(operation, code, expected_params={"Bucket": BUCKET})
        return self

    def judge(self, supplementary: Any) -> PublicAccess:
        with self.stubber:
            access = recorded_public_access(self.s3, BUCKET, supplementary, self.read_account_block)
        self.stubber.assert_no_pending_responses()
        return access


PRIVATE_ACL = {"grantList": [{"grantee": {"id": "abc", "displayName": "me"}, "permission": "FullControl"}]}
PUBLIC_ACL = {"grantList": [{"grantee": "AllUsers", "permission": "Read"}]}
OWNER = {"ID": "abc", "DisplayName": "me"}


def test_item_recording_a_private_bucket_is_judged_without_any_call():
    api = Api()
    access = api.judge({"AccessControlList": json.dumps(PRIVATE_ACL), "BucketPolicy": {"policyText": None}})
    assert (access.bucket, access.is_public) == (BUCKET, False)
    assert (access.acls_ignored_by, access.policy_restricted_by, api.account_reads) == (None, None, 0)


def test_item_recording_a_public_bucket_and_its_block_settings_reads_only_the_account_setting():
    api = Api(account_block=BlockPublicAccess(restrict_public_buckets=True))
    access = api.judge(
        {
            "AccessControlList": PUBLIC_ACL,
            "BucketPolicy": {"policyText": POLICY},
            "PublicAccessBlockConfiguration": {**BLOCK_ON, "restrictPublicBuckets": False},
        }
    )
    assert (access.bucket, access.acl_grants, access.policy_statements) == (BUCKET, ("READ to AllUsers",), ("Open",))
    assert (access.acls_ignored_by, access.policy_restricted_by, api.account_reads) == ("bucket", "account", 1)
    assert not access.is_public


def test_item_without_block_settings_reads_the_buckets_from_the_api_when_something_is_public():
    api = Api().answers(
        "get_public_access_block",
        {"PublicAccessBlockConfiguration": {"IgnorePublicAcls": True, "RestrictPublicBuckets": False}},
    )
    access = api.judge({"AccessControlList": PUBLIC_ACL, "BucketPolicy": {"policyText": None}})
    assert (access.acls_ignored_by, access.is_public, api.account_reads) == ("bucket", False, 1)


def test_item_without_a_readable_acl_or_policy_asks_the_api_for_both():
    api = (
        Api()
        .answers(
            "get_bucket_acl",
            {"Owner": OWNER, "Grants": [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]},
        )
        .answers("get_bucket_policy", {"Policy": POLICY})
    )
    access = api.judge({"PublicAccessBlockConfiguration": dict.fromkeys(BLOCK_ON, False)})
    assert access.is_public
    assert access.reason == (
        "is public: its ACL grants READ to AllUsers and its bucket policy allows any principal without a "
        "restricting condition (statement Open)"
    )


def test_item_without_a_policy_and_an_api_without_one_either():
    api = Api().fails("get_bucket_policy", "NoSuchBucketPolicy")
    access = api.judge({"AccessControlList": PRIVATE_ACL})
    assert not access.is_public and access.policy_statements == ()


# --- What the API answers ------------------------------------------------------------------------


def test_error_code_of_an_error_without_a_code():
    assert error_code(ClientError({"Error": {"Code": "NoSuchBucket"}}, "GetBucketAcl")) == "NoSuchBucket"
    assert error_code(ClientError({"Error": {"Message": "?"}}, "GetBucketAcl")) == ""
    assert error_code(ClientError({}, "GetBucketAcl")) == ""


def test_block_settings_answer_without_a_configuration_is_all_off():
    s3control = boto3.client("s3control", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    api = Api()
    with Stubber(s3control) as control, api.stubber:
        control.add_response("get_public_access_block", {}, {"AccountId": ACCOUNT})
        api.stubber.add_response("get_public_access_block", {}, {"Bucket": BUCKET})
        assert account_block_public_access(s3control, ACCOUNT) == NO_BLOCK
        assert bucket_block_public_access(api.s3, BUCKET) == NO_BLOCK


def test_bucket_read_from_the_api_is_named_in_the_verdict():
    api = (
        Api()
        .answers("get_bucket_acl", {"Owner": OWNER, "Grants": []})
        .fails("get_bucket_policy", "NoSuchBucketPolicy")
        .fails("get_public_access_block", "NoSuchPublicAccessBlockConfiguration")
    )
    with api.stubber:
        access = bucket_public_access(api.s3, BUCKET, NO_BLOCK)
    assert (access.bucket, access.is_public, access.acl_grants, access.policy_statements) == (BUCKET, False, (), ())


def test_owned_buckets_over_pages_one_without_buckets():
    api = Api()
    api.stubber.add_response(
        "list_buckets",
        {"Buckets": [{"Name": "a", "BucketRegion": "eu-west-1"}, {"Name": "b"}], "ContinuationToken": "t"},
        {},
    )
    api.stubber.add_response("list_buckets", {"Owner": OWNER}, {"ContinuationToken": "t"})
    with api.stubber:
        assert owned_buckets(api.s3) == {"a": "eu-west-1", "b": None}
