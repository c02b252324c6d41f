"""What every runbook of the pack shares: the change record, clients, and the account it runs in.

Each runbook in this folder is one module with plain Python functions and an SSM entry point
``handler(events, context)``. ``./pack generate`` embeds this module's source, then the runbook's
(its ``from runbook_base import ...`` line dropped), as the script of an ``aws:executeScript`` step
of an Automation document (``cispack.generate.runbooks``); the tests and ``./pack demo
--remediate`` run that very script against the local AWS. Standard library, boto3 and botocore
only: the script must run as it is inside Systems Manager Automation.

Safety contract of every runbook: idempotent (a second run records no change), changes only what
its control needs, deletes no data, keeps stricter settings, checks the owner of every bucket it
touches, and returns what it changed. Each execution announces its record: one EventBridge event
(``announce``) on the default bus of the region it runs in, source ``cis-config-pack.remediation``,
detail type ``CIS remediation record`` (docs/remediation.md).

Each runbook module declares ``ACTIONS`` (every IAM action its calls need) and ``SCOPE`` (action ->
the resources IAM lets the role act on, CloudFormation ``Fn::Sub`` text; an action absent from it
is one IAM cannot scope to a resource). ``./pack generate`` makes one role per runbook from them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

# ClientError is re-exported: the runbooks catch it by the error codes that describe a real state.
__all__ = [
    "BASE_ACTIONS",
    "BASE_SCOPE",
    "THIS_ACCOUNTS_BUCKETS",
    "Changes",
    "ClientError",
    "RemediationError",
    "access_keys",
    "account_and_partition",
    "announce",
    "boundary_arn",
    "check_account",
    "client",
    "days_between",
    "deactivate_key",
    "ensure_log_group",
    "ensure_service_role",
    "error_code",
    "log_group_arn",
    "login_profile",
    "logs_all_management_events",
    "named_trails",
    "new_bucket_name",
    "now_of",
    "number",
    "own_trail",
    "owned_bucket",
    "pack_log_group",
    "required",
    "retention_days",
    "trail_bucket_of_this_account",
    "trail_buckets",
    "unguessable_bucket",
    "user_by_id",
    "users",
]


#: What every runbook calls besides its own ``ACTIONS``: the announcement of its record.
BASE_ACTIONS = ("events:PutEvents",)
BASE_SCOPE = {
    "events:PutEvents": ("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default",),
}
#: IAM's owner check on a bucket (S3 bucket ARNs name no account): only this account's buckets.
THIS_ACCOUNTS_BUCKETS = {"StringEquals": {"aws:ResourceAccount": "${AWS::AccountId}"}}
EVENT_SOURCE = "cis-config-pack.remediation"
EVENT_DETAIL_TYPE = "CIS remediation record"
#: Log groups the pack's runbooks create or deliver to start with one of these (their roles may
#: write no other).
LOG_GROUP_PREFIXES = ("cis-cloudtrail/", "cis-vpc-flow-logs")


class RemediationError(Exception):
    """Why the runbook stopped without changing anything more: one sentence for the person who
    pressed Remediate (the Automation execution shows it as the step's failure reason)."""


class Changes:
    """What a run changed, and what it found already as the control needs it.

    ``result()`` is the step's output: ``Changes`` (one sentence per change), ``Unchanged`` and
    ``Record`` (JSON with the settings before and after, enough to undo each change by hand)."""

    def __init__(self, runbook: str) -> None:
        self.runbook = runbook
        self.changed: list[str] = []
        self.unchanged: list[str] = []
        self.record: list[dict[str, Any]] = []

    def change(self, text: str, target: str, before: Any = None, after: Any = None) -> None:
        self.changed.append(text)
        self.record.append({"change": text, "target": target, "before": before, "after": after})
        print(f"{self.runbook}: changed: {text}")

    def keep(self, text: str) -> None:
        self.unchanged.append(text)
        print(f"{self.runbook}: unchanged: {text}")

    def result(self, target: str = "") -> dict[str, Any]:
        """The step's output, after announcing it (one event per execution)."""
        output = {
            "Changes": list(self.changed),
            "Unchanged": list(self.unchanged),
            "Record": json.dumps(self.record, default=str, sort_keys=True),
        }
        announce(self.runbook, target, output)
        return output


def announce(runbook: str, target: str, output: Mapping[str, Any]) -> None:
    """One EventBridge event with the execution's record: what changed, before and after."""
    detail = {
        "runbook": runbook,
        "target": target,
        "changed": bool(output["Changes"]),
        "changes": output["Changes"],
        "unchanged": output["Unchanged"],
        "record": json.loads(output["Record"]),
    }
    sent = client("events").put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": EVENT_DETAIL_TYPE,
                "Detail": json.dumps(detail, default=str, sort_keys=True),
                "Resources": [],
            }
        ]
    )
    if sent.get("FailedEntryCount"):
        reason = sent["Entries"][0].get("ErrorMessage", "no reason given")
        raise RemediationError(f"EventBridge refused the record of this execution ({reason}); the changes were made.")


def client(service: str, region: str | None = None) -> Any:
    """A client of the session the automation runs in (its AutomationAssumeRole)."""
    return boto3.client(service, region_name=region) if region else boto3.client(service)


def account_and_partition() -> tuple[str, str]:
    """The account the runbook acts in and its partition (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    identity = client("sts").get_caller_identity()
    return str(identity["Account"]), str(identity["Arn"]).split(":")[1]


def check_account(expected: str) -> str:
    """The account ID, after checking it is the one Config named (``RESOURCE_ID`` of an account rule)."""
    account, _ = account_and_partition()
    if expected and expected != account:
        raise RemediationError(f"This runbook runs in account {account}, not in account {expected} it was given.")
    return account


def now_of(events: Mapping[str, Any]) -> datetime:
    """The run's "now": the event's ``Now`` (ISO 8601; tests freeze time with it) or the clock."""
    given = str(events.get("Now") or "")
    if not given:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(given.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def required(events: Mapping[str, Any], name: str, setting: str = "") -> str:
    value = str(events.get(name) or "").strip()
    if not value:
        where = f" (pack parameter {setting})" if setting else ""
        raise RemediationError(f"The runbook parameter {name}{where} is empty: give it a value and run it again.")
    return value


def number(events: Mapping[str, Any], name: str, default: str) -> int:
    """A whole-number runbook parameter (days), ``default`` when empty."""
    value = str(events.get(name) or default).strip()
    if not value.isdigit():
        raise RemediationError(f"The runbook parameter {name} is {value!r}, not a whole number of days.")
    return int(value)


def users(iam: Any) -> Iterator[Mapping[str, Any]]:
    for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 1000}):
        yield from page.get("Users", [])


def user_by_id(iam: Any, user_id: str) -> Mapping[str, Any]:
    """The IAM user AWS Config names by its unique ID (``AIDA...``); a user name is accepted too."""
    for user in users(iam):
        if user_id in (user.get("UserId"), user.get("UserName")):
            return user
    raise RemediationError(f"No IAM user has the ID {user_id} (deleted since AWS Config evaluated it?).")


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def access_keys(iam: Any, user_name: str) -> list[Mapping[str, Any]]:
    keys: list[Mapping[str, Any]] = []
    for page in iam.get_paginator("list_access_keys").paginate(UserName=user_name):
        keys.extend(page.get("AccessKeyMetadata", []))
    return keys


def active_keys(iam: Any, changes: Changes, user_name: str) -> Iterator[Mapping[str, Any]]:
    """The user's active access keys; each inactive one is recorded as kept."""
    for key in access_keys(iam, user_name):
        if key.get("Status") == "Active":
            yield key
        else:
            changes.keep(f"access key {key['AccessKeyId']} of user {user_name} is already inactive")


def key_last_used(iam: Any, key_id: str) -> datetime | None:
    """When the access key was last used; ``None`` when never."""
    used: datetime | None = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"].get("LastUsedDate")
    return used


def deactivate_key(iam: Any, changes: Changes, user_name: str, key_id: str, why: str) -> None:
    iam.update_access_key(UserName=user_name, AccessKeyId=key_id, Status="Inactive")
    changes.change(
        f"deactivated access key {key_id} of user {user_name} ({why})",
        f"iam user {user_name} access key {key_id}",
        before="Active",
        after="Inactive",
    )


def login_profile(iam: Any, user_name: str) -> Mapping[str, Any] | None:
    try:
        return dict(iam.get_login_profile(UserName=user_name)["LoginProfile"])
    except ClientError as err:
        if error_code(err) == "NoSuchEntity":
            return None
        raise


def days_between(earlier: datetime, later: datetime) -> int:
    return (later - earlier).days


def trail_buckets(cloudtrail: Any) -> set[str]:
    """The S3 buckets trails of this account deliver to: those ``DescribeTrails`` shows here (shadow
    trails included) and the single-region trails homed in other regions (``ListTrails``)."""
    region = cloudtrail.meta.region_name
    buckets = {str(t["S3BucketName"]) for t in cloudtrail.describe_trails(includeShadowTrails=True)["trailList"]}
    for page in cloudtrail.get_paginator("list_trails").paginate():
        for trail in page.get("Trails", []):
            home = trail.get("HomeRegion")
            if home and home != region:
                found = client("cloudtrail", home).describe_trails(trailNameList=[trail["TrailARN"]])["trailList"]
                buckets |= {str(t["S3BucketName"]) for t in found}
    return buckets


def named_trails(cloudtrail: Any, trail_id: str, shadows: bool = True) -> list[Mapping[str, Any]]:
    """The trails whose name or ARN is ``trail_id`` (``trailNameList`` asks for them; the answer
    is filtered again, as a trail's name and ARN are both accepted)."""
    trails = cloudtrail.describe_trails(trailNameList=[trail_id], includeShadowTrails=shadows)["trailList"]
    return [t for t in trails if trail_id in (t.get("Name"), t.get("TrailARN"))]


def own_trail(trail_id: str, account: str) -> Mapping[str, Any]:
    """The trail AWS Config names (its name or ARN), which must be this account's: a trail of
    another account (an organisation trail) is its owner's to change."""
    cloudtrail = client("cloudtrail")
    found = named_trails(cloudtrail, trail_id)
    if not found:
        raise RemediationError(f"No trail {trail_id} exists (deleted since AWS Config evaluated it?).")
    trail = dict(found[0])
    if str(trail["TrailARN"]).split(":")[4] != account:
        raise RemediationError(f"Trail {trail['Name']} belongs to another account: its owner must change it.")
    trail.setdefault("HomeRegion", cloudtrail.meta.region_name)
    return trail


def trail_bucket_of_this_account(bucket: str) -> tuple[Any, str]:
    """(an S3 client, the account) after checking that a trail of this account delivers to
    ``bucket`` (the CIS 2.3 and 2.6 rules judge no other) and that this account owns it."""
    account, _ = account_and_partition()
    if bucket not in trail_buckets(client("cloudtrail")):
        raise RemediationError(f"Bucket {bucket} is not the log bucket of a trail of this account: left unchanged.")
    s3 = client("s3")
    owned_bucket(s3, bucket, account, "BucketName")
    return s3, account


def logs_all_management_events(cloudtrail: Any, trail_arn: str) -> bool:
    """Whether the trail logs every management event, reads and writes (classic or advanced)."""
    selectors = cloudtrail.get_event_selectors(TrailName=trail_arn)
    classic = selectors.get("EventSelectors") or []
    advanced = selectors.get("AdvancedEventSelectors") or []
    # AWS gives every new trail an "All, management events" selector; a trail with none logs no
    # management event (the rules judge it so too).
    if any(s.get("IncludeManagementEvents") and s.get("ReadWriteType") == "All" for s in classic):
        return True
    for selector in advanced:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
        if fields.get("eventCategory", {}).get("Equals") == ["Management"] and "readOnly" not in fields:
            return True
    return False


def ensure_service_role(
    changes: Changes,
    name: str,
    service: str,
    source_arn: str,
    boundary: str,
    policy_name: str,
    policy: Mapping[str, Any],
) -> str:
    """The ARN of role ``name`` that ``service`` may assume for this account's ``source_arn``
    (``aws:SourceArn`` and ``aws:SourceAccount`` on the trust: no other account's resource can
    use it), created with its one inline policy and the permissions boundary ``boundary`` when
    absent. An existing role of that name is used as it is."""
    account, _ = account_and_partition()
    iam = client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except ClientError as err:
        if error_code(err) != "NoSuchEntity":
            raise
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": source_arn},
                },
            }
        ],
    }
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Description=f"Lets {service} deliver logs for the CIS config pack's remediation.",
        PermissionsBoundary=boundary,
    )["Role"]
    iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
    changes.change(f"created role {name} for {service}", f"iam role {name}", after={"trust": trust, "policy": policy})
    return str(role["Arn"])


def pack_log_group(name: str, parameter: str) -> str:
    """``name``, after checking it is one of the log groups the runbooks' roles may write."""
    if not name.startswith(LOG_GROUP_PREFIXES):
        raise RemediationError(
            f"Log group {name} ({parameter}) does not start with {' or '.join(LOG_GROUP_PREFIXES)}, the log groups "
            "the pack's roles may write: choose such a name."
        )
    return name


def retention_days(value: str) -> int:
    """The ``LogRetentionDays`` parameter: one of the values CloudWatch Logs accepts."""
    allowed = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
    if not value.strip().isdigit() or int(value) not in allowed:
        raise RemediationError(
            f"LogRetentionDays {value!r} is not a retention CloudWatch Logs accepts (one of {allowed[0]} to "
            f"{allowed[-1]} days, e.g. 365)."
        )
    return int(value)


def ensure_log_group(changes: Changes, logs: Any, name: str, retention: int) -> None:
    """Log group ``name`` in the client's region, created when absent with ``retention`` days of
    retention. An existing group keeps its own retention (the pack drops no data it did not make)."""
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        if any(group.get("logGroupName") == name for group in page.get("logGroups", [])):
            changes.keep(f"log group {name} exists")
            return
    logs.create_log_group(logGroupName=name)
    logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
    changes.change(
        f"created log group {name} in {logs.meta.region_name}, kept {retention} days",
        f"logs log group {name}",
        after={"retentionInDays": retention},
    )


def owned_bucket(s3: Any, bucket: str, account: str, parameter: str) -> None:
    """Stops unless this account owns ``bucket``: it is in this account's bucket list and answers
    to ``ExpectedBucketOwner`` (every later call on it passes that too). A bucket of the same name
    that another account made first would otherwise receive this account's data."""
    listed = {str(b["Name"]) for page in s3.get_paginator("list_buckets").paginate() for b in page.get("Buckets", [])}
    if bucket not in listed:
        raise RemediationError(
            f"Bucket {bucket} ({parameter}) is not a bucket of account {account}: give one this account owns."
        )
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as err:
        raise RemediationError(
            f"Bucket {bucket} ({parameter}) does not answer as a bucket of account {account}: give one it owns."
        ) from err


def unguessable_bucket(s3: Any, prefix: str) -> str | None:
    """The bucket of this account whose name is ``prefix`` and a random suffix (made by an earlier
    run), or ``None``. Such names cannot be claimed in advance by another account."""
    for page in s3.get_paginator("list_buckets").paginate():
        for found in page.get("Buckets", []):
            name = str(found["Name"])
            if name.startswith(prefix) and len(name) == len(prefix) + 12:
                return name
    return None


def new_bucket_name(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


BOUNDARY_NAME = "cis-config-pack-log-delivery-boundary-"


def boundary_arn() -> str:
    """The permissions boundary of the log-delivery roles the runbooks create: the managed policy
    the pack's template deploys beside the runbooks in this region."""
    account, partition = account_and_partition()
    region = client("sts").meta.region_name
    return f"arn:{partition}:iam::{account}:policy/{BOUNDARY_NAME}{region}"


def log_group_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:logs:{region}:{account}:log-group:{name}:*"
