"""What every runbook of the pack shares: the change record, clients, and the account it runs in.

Each runbook in this folder is one module with plain Python functions and an SSM entry point
``handler(events, context)``. ``./pack generate`` embeds this module's source, then the runbook's
(its ``from runbook_base import ...`` line dropped), as the script of an ``aws:executeScript`` step
of an Automation document (``cispack.generate.runbooks``); the tests and ``./pack demo
--remediate`` run that very script against the local AWS. Standard library, boto3 and botocore
only: the script must run as it is inside Systems Manager Automation.

Safety contract of every runbook: idempotent (a second run records no change), changes only what
its control needs, deletes no data, keeps stricter settings, and returns what it changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

# ClientError is re-exported: the runbooks catch it by the error codes that describe a real state.
__all__ = [
    "Changes",
    "ClientError",
    "RemediationError",
    "access_keys",
    "account_and_partition",
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
    "now_of",
    "required",
    "trail_buckets",
    "user_by_id",
    "users",
]


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

    def result(self) -> dict[str, Any]:
        return {
            "Changes": list(self.changed),
            "Unchanged": list(self.unchanged),
            "Record": json.dumps(self.record, default=str, sort_keys=True),
        }


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


def ensure_service_role(changes: Changes, name: str, service: str, policy_name: str, policy: Mapping[str, Any]) -> str:
    """The ARN of role ``name`` that ``service`` may assume for this account, created with its one
    inline policy when absent. An existing role of that name is used as it is."""
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
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Description=f"Lets {service} deliver logs for the CIS config pack's remediation.",
    )["Role"]
    iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
    changes.change(f"created role {name} for {service}", f"iam role {name}", after={"trust": trust, "policy": policy})
    return str(role["Arn"])


def ensure_log_group(changes: Changes, logs: Any, name: str) -> None:
    """Log group ``name`` in the client's region, created (without an expiry: no data is ever
    dropped by the pack) when absent."""
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        if any(group.get("logGroupName") == name for group in page.get("logGroups", [])):
            changes.keep(f"log group {name} exists")
            return
    logs.create_log_group(logGroupName=name)
    changes.change(f"created log group {name} in {logs.meta.region_name}", f"logs log group {name}")


def log_group_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:logs:{region}:{account}:log-group:{name}:*"
