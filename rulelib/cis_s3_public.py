"""Whether an S3 bucket is public, and which buckets this account owns.

Symlinked into the rule folders that judge CloudTrail's buckets (CIS 2.3, 2.6). Stdlib, botocore
and rdklib only.

**Public** follows the benchmark's audit (CIS 2.3) and S3's own definition where the benchmark is
silent:

* **ACL.** A grant of any permission to the ``AllUsers`` or ``AuthenticatedUsers`` group (any AWS
  account at all) is public. Object ACLs are not read: the benchmark audits the bucket ACL.
* **Policy.** An ``Allow`` statement whose ``Principal`` is ``*`` or ``{"AWS": "*"}`` (or a list
  holding ``*``), or that uses ``NotPrincipal`` (everyone but a few), is public unless one of its
  conditions pins the request to a fixed, non-wildcard value of a key that identifies *who* or
  *from where*: ``aws:SourceArn``, ``aws:SourceAccount``, ``aws:SourceOwner`` (a named resource or
  account of an AWS service calling), ``aws:SourceVpc``, ``aws:SourceVpce`` (a named network
  path), ``aws:PrincipalOrgID``, ``aws:PrincipalAccount``, ``aws:PrincipalArn``, ``aws:userid``
  (named principals), ``s3:x-amz-server-side-encryption-aws-kms-key-id``, or ``aws:SourceIp`` with
  ``IpAddress`` and CIDRs no wider than /8 (IPv4) or /32 (IPv6). This is the list S3 itself uses
  for "public" (Block Public Access, PublicAccessBlockConfiguration in the S3 API reference), plus
  the principal keys IAM Access Analyzer treats the same way. A condition counts only with an
  equality operator (``StringEquals``, ``StringEqualsIgnoreCase``, ``StringLike``/``ArnLike``
  without wildcards, ``ArnEquals``, ``IpAddress``) and may carry ``ForAnyValue:``; negated
  operators, ``ForAllValues:`` (true for a request without the key) and ``...IfExists`` do not
  restrict. Keys such as ``aws:SecureTransport`` or ``aws:CurrentTime`` say nothing about who
  asks, so they do not restrict. Every action counts: the benchmark flags any ``Allow`` to ``*``.
* **Block Public Access** (bucket and account settings combine, the more restrictive wins):
  ``IgnorePublicAcls`` neutralises public ACL grants; ``RestrictPublicBuckets`` neutralises a
  public policy (only AWS service principals and the owner account's users get through).
  ``BlockPublicAcls`` and ``BlockPublicPolicy`` only refuse *new* public ACLs and policies and leave
  existing ones in force, so they neutralise nothing already there.

Missing configurations are states: ``NoSuchBucketPolicy`` (no policy),
``NoSuchPublicAccessBlockConfiguration`` (no Block Public Access setting). Every other error
propagates. ``NoSuchBucket`` (deleted while the rule ran) also propagates; the rules catch it with
:func:`is_no_such_bucket`.

**From a configuration item** (the change-triggered evaluations of CIS 2.3):
:func:`recorded_public_access` reads the ACL, the policy and the bucket's Block Public Access from
the item's ``supplementaryConfiguration`` and asks the API only for what the item does not record
readably, so that the verdict is the one the periodic run reaches from the API. AWS Config
spells ACL grants its own way (``{"grantee": "AllUsers", "permission": "Read"}``, in a JSON
*string* in a change notification and an object once rdklib has read an oversized item back);
they are translated to ``GetBucketAcl``'s words (``READ to AllUsers``). An item without
``PublicAccessBlockConfiguration`` may mean "none set" or "not recorded", and the account's
setting is never in the item: both are read from the API, and only when the ACL or the policy is
public, the one case in which they can change the verdict or its annotation.

**Ownership.** ``ListBuckets`` returns exactly the buckets owned by the caller's account, so a
trail bucket absent from it is another account's (an organisation's central log bucket) or no
longer exists: either way, not this account's to judge. (Comparing ``GetBucketAcl``'s owner with
``ListBuckets``' owner needs a readable ACL on a foreign bucket, and ``HeadBucket`` with
``ExpectedBucketOwner`` answers a mismatch with a bare 403 that cannot be told from AccessDenied.)
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cis_rule import EvaluationError

ACTIONS = (
    "s3:GetAccountPublicAccessBlock",
    "s3:GetBucketAcl",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
)
OWNERSHIP_ACTIONS = ("s3:GetBucketLocation", "s3:ListAllMyBuckets")

GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}

RESTRICTING_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:principalorgid",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:userid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    }
)
EQUALITY_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
SOURCE_IP = "aws:sourceip"
MIN_PREFIX = {4: 8, 6: 32}


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def is_no_such_bucket(err: ClientError) -> bool:
    return error_code(err) == "NoSuchBucket"


# --- Block Public Access -------------------------------------------------------------------


@dataclass(frozen=True)
class BlockPublicAccess:
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    @classmethod
    def from_configuration(cls, config: Mapping[str, Any]) -> BlockPublicAccess:
        return cls(
            block_public_acls=config.get("BlockPublicAcls") is True,
            ignore_public_acls=config.get("IgnorePublicAcls") is True,
            block_public_policy=config.get("BlockPublicPolicy") is True,
            restrict_public_buckets=config.get("RestrictPublicBuckets") is True,
        )


NO_BLOCK = BlockPublicAccess()


def account_block_public_access(s3control: Any, account_id: str) -> BlockPublicAccess:
    """The account-level S3 Block Public Access settings (none configured: all off)."""
    try:
        response = s3control.get_public_access_block(AccountId=account_id)
    except ClientError as err:
        if error_code(err) == "NoSuchPublicAccessBlockConfiguration":
            return NO_BLOCK
        raise
    return BlockPublicAccess.from_configuration(response.get("PublicAccessBlockConfiguration", {}))


def bucket_block_public_access(s3: Any, bucket: str) -> BlockPublicAccess:
    """The bucket-level S3 Block Public Access settings (none configured: all off)."""
    try:
        response = s3.get_public_access_block(Bucket=bucket)
    except ClientError as err:
        if error_code(err) == "NoSuchPublicAccessBlockConfiguration":
            return NO_BLOCK
        raise
    return BlockPublicAccess.from_configuration(response.get("PublicAccessBlockConfiguration", {}))


# --- ACL and policy ------------------------------------------------------------------------


def public_acl_grants(acl: Mapping[str, Any]) -> list[str]:
    """``"READ to AllUsers"``... for each grant of a ``GetBucketAcl`` answer to a public group."""
    grants = []
    for grant in acl.get("Grants", []):
        grantee = grant.get("Grantee", {})
        group = GROUPS.get(str(grantee.get("URI", ""))) if grantee.get("Type") == "Group" else None
        if group:
            grants.append(f"{grant.get('Permission', 'access')} to {group}")
    return sorted(set(grants))


def _values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _is_fixed(value: str) -> bool:
    return bool(value) and not any(mark in value for mark in ("*", "?", "${"))


def _cidr_is_narrow(value: str) -> bool:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return network.prefixlen >= MIN_PREFIX[network.version]


def _pair_restricts(operator: str, key: str, value: Any) -> bool:
    op = operator.lower()
    if op.startswith("forallvalues:") or op.endswith("ifexists"):
        return False
    op = op.removeprefix("foranyvalue:")
    values = _values(value)
    if not values:
        return False
    key = key.lower()
    if key == SOURCE_IP:
        return op == "ipaddress" and all(_cidr_is_narrow(v) for v in values)
    return key in RESTRICTING_KEYS and op in EQUALITY_OPERATORS and all(_is_fixed(v) for v in values)


def condition_restricts(condition: Mapping[str, Any] | None) -> bool:
    """Whether a statement's ``Condition`` pins the caller or its path (see the module docstring).
    Conditions are ANDed, so one restricting pair is enough."""
    for operator, pairs in (condition or {}).items():
        if not isinstance(pairs, Mapping):
            raise EvaluationError(f"The bucket policy has an unreadable condition under {str(operator)[:40]!r}.")
        if any(_pair_restricts(str(operator), str(key), value) for key, value in pairs.items()):
            return True
    return False


def _principal_is_anyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in _values(principal.get("AWS", []))
    return False


def statement_is_public(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    anyone = "NotPrincipal" in statement or _principal_is_anyone(statement.get("Principal"))
    return anyone and not condition_restricts(statement.get("Condition"))


def public_policy_statements(policy: str) -> list[str]:
    """Labels (``Sid``, else ``#n``) of the statements of a bucket policy that make it public."""
    try:
        document = json.loads(policy)
    except ValueError:
        raise EvaluationError("The bucket policy is not valid JSON.") from None
    statements = document.get("Statement", []) if isinstance(document, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, Mapping) for s in statements):
        raise EvaluationError("The bucket policy has no readable Statement list.")
    return [str(s.get("Sid") or f"#{n}") for n, s in enumerate(statements, start=1) if statement_is_public(s)]


def _bucket_policy(s3: Any, bucket: str) -> str | None:
    try:
        return str(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as err:
        if error_code(err) == "NoSuchBucketPolicy":
            return None
        raise


# --- Verdict -------------------------------------------------------------------------------


def _join(items: Iterable[str]) -> str:
    names = list(items)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class PublicAccess:
    """What makes a bucket public, and what neutralises it. ``reason`` completes a sentence that
    starts with the bucket's name."""

    bucket: str
    acl_grants: tuple[str, ...]
    policy_statements: tuple[str, ...]
    #: Which Block Public Access level ("bucket", "account") neutralises each source, if any.
    acls_ignored_by: str | None
    policy_restricted_by: str | None

    @property
    def public_acl(self) -> bool:
        return bool(self.acl_grants) and self.acls_ignored_by is None

    @property
    def public_policy(self) -> bool:
        return bool(self.policy_statements) and self.policy_restricted_by is None

    @property
    def is_public(self) -> bool:
        return self.public_acl or self.public_policy

    @property
    def reason(self) -> str:
        acl = f"its ACL grants {_join(self.acl_grants)}"
        label = "statement" if len(self.policy_statements) == 1 else "statements"
        policy = (
            f"its bucket policy allows any principal without a restricting condition "
            f"({label} {_join(self.policy_statements)})"
        )
        if self.is_public:
            found = [text for text, on in ((acl, self.public_acl), (policy, self.public_policy)) if on]
            return "is public: " + " and ".join(found)
        neutralised = []
        if self.acl_grants:
            neutralised.append(f"{acl} but IgnorePublicAcls is on ({self.acls_ignored_by} level)")
        if self.policy_statements:
            neutralised.append(f"{policy} but RestrictPublicBuckets is on ({self.policy_restricted_by} level)")
        if neutralised:
            return "is not public: " + " and ".join(neutralised)
        return (
            "is not public: no ACL grant to AllUsers or AuthenticatedUsers "
            "and no policy statement allowing any principal"
        )


def _level(bucket_on: bool, account_on: bool) -> str | None:
    if account_on:
        return "account"
    if bucket_on:
        return "bucket"
    return None


def public_access(
    bucket: str,
    grants: Iterable[str],
    statements: Iterable[str],
    block: BlockPublicAccess,
    account_block: BlockPublicAccess,
) -> PublicAccess:
    """The verdict on what was read, wherever it was read from (the API or a configuration item)."""
    return PublicAccess(
        bucket=bucket,
        acl_grants=tuple(grants),
        policy_statements=tuple(statements),
        acls_ignored_by=_level(block.ignore_public_acls, account_block.ignore_public_acls),
        policy_restricted_by=_level(block.restrict_public_buckets, account_block.restrict_public_buckets),
    )


def bucket_public_access(s3: Any, bucket: str, account_block: BlockPublicAccess) -> PublicAccess:
    """Read the bucket's ACL, policy and Block Public Access settings and judge them together
    with the account's settings (read once per run with :func:`account_block_public_access`)."""
    grants = public_acl_grants(s3.get_bucket_acl(Bucket=bucket))
    policy = _bucket_policy(s3, bucket)
    statements = public_policy_statements(policy) if policy is not None else []
    block = bucket_block_public_access(s3, bucket)
    return public_access(bucket, grants, statements, block, account_block)


# --- From a configuration item ---------------------------------------------------------------

#: AWS Config's names of ACL permissions, as ``GetBucketAcl`` names them.
RECORDED_PERMISSIONS = {
    "FullControl": "FULL_CONTROL",
    "Read": "READ",
    "Write": "WRITE",
    "ReadAcp": "READ_ACP",
    "WriteAcp": "WRITE_ACP",
}
#: How AWS Config writes a group grantee; only the first two are public.
RECORDED_GROUPS = frozenset({"AllUsers", "AuthenticatedUsers", "LogDelivery"})


@dataclass(frozen=True)
class RecordedAccess:
    """A bucket's access settings as its configuration item records them: ``None`` (and
    ``policy_recorded`` false) where the item records nothing this module can read."""

    acl_grants: tuple[str, ...] | None
    policy_recorded: bool
    policy: str | None
    block: BlockPublicAccess | None


def _json_value(value: Any) -> Any:
    """A supplementary configuration value: a JSON string in a change notification for some keys
    (``AccessControlList``), already an object for others and after rdklib reads an oversized item."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def recorded_acl_grants(value: Any) -> tuple[str, ...] | None:
    """``READ to AllUsers``... from an item's ``AccessControlList``; None when it is absent or not
    in the shape AWS Config writes (a ``grantList`` of ``{grantee, permission}``, no ``grantSet``)."""
    acl = _json_value(value)
    if not isinstance(acl, Mapping) or acl.get("grantSet") is not None or not isinstance(acl.get("grantList"), list):
        return None
    grants = set()
    for grant in acl["grantList"]:
        if not isinstance(grant, Mapping) or grant.get("permission") not in RECORDED_PERMISSIONS:
            return None
        grantee = grant.get("grantee")
        if isinstance(grantee, str):
            if grantee not in RECORDED_GROUPS:
                return None
            if grantee in GROUPS.values():
                grants.add(f"{RECORDED_PERMISSIONS[grant['permission']]} to {grantee}")
        elif not isinstance(grantee, Mapping):
            return None
    return tuple(sorted(grants))


def recorded_access(supplementary: Any) -> RecordedAccess:
    """What an item's ``supplementaryConfiguration`` says about the bucket's access settings."""
    items = supplementary if isinstance(supplementary, Mapping) else {}
    policy = _json_value(items.get("BucketPolicy"))
    text = policy.get("policyText") if isinstance(policy, Mapping) else None
    policy_recorded = isinstance(policy, Mapping) and "policyText" in policy and (text is None or isinstance(text, str))
    block = _json_value(items.get("PublicAccessBlockConfiguration"))
    names = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")
    recorded_block = None
    if isinstance(block, Mapping) and all(isinstance(block.get(name), bool) for name in names):
        recorded_block = BlockPublicAccess(*(block[name] for name in names))
    return RecordedAccess(
        acl_grants=recorded_acl_grants(items.get("AccessControlList")),
        policy_recorded=policy_recorded,
        policy=text if policy_recorded else None,
        block=recorded_block,
    )


def recorded_public_access(
    s3: Any, bucket: str, supplementary: Any, read_account_block: Callable[[], BlockPublicAccess]
) -> PublicAccess:
    """The verdict :func:`bucket_public_access` would give, from a configuration item's
    ``supplementaryConfiguration`` where it records a setting and from the API (``s3``, a client
    in the bucket's region) where it does not. Block Public Access, the bucket's when the item
    has none and the account's (``read_account_block``), is read only when something is public."""
    recorded = recorded_access(supplementary)
    grants = recorded.acl_grants
    if grants is None:
        grants = tuple(public_acl_grants(s3.get_bucket_acl(Bucket=bucket)))
    policy = recorded.policy if recorded.policy_recorded else _bucket_policy(s3, bucket)
    statements = public_policy_statements(policy) if policy is not None else []
    if not grants and not statements:
        return public_access(bucket, grants, statements, NO_BLOCK, NO_BLOCK)
    block = recorded.block if recorded.block is not None else bucket_block_public_access(s3, bucket)
    return public_access(bucket, grants, statements, block, read_account_block())


# --- Ownership -----------------------------------------------------------------------------


def owned_buckets(s3: Any) -> dict[str, str | None]:
    """The buckets this account owns (``ListBuckets``, paginated), with their region when
    ``ListBuckets`` gives it (``BucketRegion``; older endpoints and moto do not)."""
    buckets: dict[str, str | None] = {}
    for page in s3.get_paginator("list_buckets").paginate():
        for item in page.get("Buckets", []):
            buckets[str(item["Name"])] = item.get("BucketRegion") or None
    return buckets


def bucket_region(s3: Any, bucket: str) -> str:
    """``GetBucketLocation``: no constraint means us-east-1, and the legacy ``EU`` eu-west-1."""
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if location == "EU" else str(location)
