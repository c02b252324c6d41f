"""Organisation rollout: create or update the member StackSet and wait for its operations.

The StackSet is service-managed (AWS Organizations): StackSets creates its own execution roles
in the member accounts, deploys to every account of the target OUs in the chosen regions and,
with automatic deployment on, to accounts that join those OUs later (and removes the stacks of
accounts that leave, unless ``RetainStacksOnAccountRemoval``).

:func:`plan` turns the settings into the exact API calls, :func:`run` makes them (``dry_run``
prints them instead and makes none). The plan of an existing StackSet first updates every
instance (new template, new code keys), then creates instances for the requested OUs and
regions: CreateStackInstances skips an account and region the StackSet already covers (the usual
pattern; moto follows AWS here since getmoto/moto#10171), so this also adds new OUs and regions.

An update keeps every parameter the rollout does not set: UpdateStackSet replaces the whole
parameter list, and a parameter left out falls back to the template's default, so the plan passes
``UsePreviousValue`` for each parameter the StackSet has and the rollout does not set (a user's
``AlarmTopic``, ``AutomaticRemediation``, ``AccessLogsBucket``...). ``initial_parameters`` are set
only when the StackSet is created (the global-resources region defaults to the first region).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from cispack.dist.distribution import KEY_ROOT, Manifest, bucket_name, upload, writer_principal_arn
from cispack.generate import member_template

# StackSets take an inline TemplateBody of at most 51,200 bytes; the rollout always passes the
# member template by URL from the code bucket, which has no such limit (up to 1 MB).
STACK_SET_NAME = "cis-aws-foundations-config-pack"
CAPABILITIES = ("CAPABILITY_NAMED_IAM",)
RUNNING = frozenset({"RUNNING", "QUEUED", "STOPPING"})
STACK_SET_ABSENT = "stack set does not exist"
STACK_SET_PRESENT = "stack set exists"
GLOBAL_REGION_PARAMETER = "GlobalResourcesRegion"


class RolloutError(RuntimeError):
    """A StackSet operation ended in a state other than SUCCEEDED."""


@dataclass(frozen=True)
class Settings:
    """What ``./pack rollout`` deploys where. ``parameters`` are the member template's."""

    organizational_unit_ids: tuple[str, ...]
    regions: tuple[str, ...]
    home_region: str
    bucket_prefix: str
    parameters: Mapping[str, str]
    initial_parameters: Mapping[str, str] = field(default_factory=dict)
    stack_set_name: str = STACK_SET_NAME
    call_as: str = "SELF"
    retain_stacks_on_account_removal: bool = False
    max_concurrent_percentage: int | None = 100
    max_concurrent_count: int | None = None
    failure_tolerance_percentage: int | None = 0
    failure_tolerance_count: int | None = None
    region_concurrency: str = "PARALLEL"
    description: str = "CIS AWS Foundations Benchmark v1.2.0 - AWS Config rules pack (member accounts)"

    def __post_init__(self) -> None:
        if not self.organizational_unit_ids:
            raise ValueError("name at least one target OU (ou-... or the root r-...)")
        if not self.regions:
            raise ValueError("name at least one region")
        if (self.max_concurrent_percentage is None) == (self.max_concurrent_count is None):
            raise ValueError("give exactly one of max concurrent percentage or count")
        if (self.failure_tolerance_percentage is None) == (self.failure_tolerance_count is None):
            raise ValueError("give exactly one of failure tolerance percentage or count")
        if self.call_as not in ("SELF", "DELEGATED_ADMIN"):
            raise ValueError("call_as is SELF (management account) or DELEGATED_ADMIN")
        if self.region_concurrency not in ("PARALLEL", "SEQUENTIAL"):
            raise ValueError("region concurrency is PARALLEL or SEQUENTIAL")

    def operation_preferences(self) -> dict[str, Any]:
        preferences: dict[str, Any] = {"RegionConcurrencyType": self.region_concurrency}
        if self.max_concurrent_percentage is not None:
            preferences["MaxConcurrentPercentage"] = self.max_concurrent_percentage
        else:
            preferences["MaxConcurrentCount"] = self.max_concurrent_count
        if self.failure_tolerance_percentage is not None:
            preferences["FailureTolerancePercentage"] = self.failure_tolerance_percentage
        else:
            preferences["FailureToleranceCount"] = self.failure_tolerance_count
        return preferences

    def stack_set_parameters(self) -> list[dict[str, str]]:
        """CreateStackSet's parameters: the initial ones, overridden by those set every time."""
        values = {**self.initial_parameters, **self.parameters}
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(values.items())]

    def update_parameters(self, previous: Sequence[str]) -> list[dict[str, Any]]:
        """UpdateStackSet's parameters: those set every time, and ``UsePreviousValue`` for every
        other parameter the StackSet has (``previous``, its parameter names)."""
        kept = [{"ParameterKey": k, "UsePreviousValue": True} for k in previous if k not in self.parameters]
        given = [{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()]
        return sorted([*given, *kept], key=lambda p: str(p["ParameterKey"]))


@dataclass(frozen=True)
class Current:
    """The StackSet as DescribeStackSet shows it: whether it exists, its parameter values."""

    exists: bool
    parameters: Mapping[str, str] = field(default_factory=dict)

    def effective(self, settings: Settings, defaults: Mapping[str, str]) -> dict[str, str]:
        """The parameter values the StackSet will have after the rollout."""
        if not self.exists:
            return {**defaults, **settings.initial_parameters, **settings.parameters}
        return {**self.parameters, **settings.parameters}


def read_current(cfn: Any, settings: Settings) -> Current:
    """DescribeStackSet (read-only): the StackSet's state and parameter values."""
    try:
        described = cfn.describe_stack_set(StackSetName=settings.stack_set_name, CallAs=settings.call_as)
    except ClientError as error:
        if error.response["Error"]["Code"] == "StackSetNotFoundException":
            return Current(False)
        raise
    return Current(
        True,
        {str(p["ParameterKey"]): str(p.get("ParameterValue", "")) for p in described["StackSet"].get("Parameters", [])},
    )


@cache
def template_parameters(body: str) -> dict[str, Any]:
    """The template's ``Parameters`` section (libyaml's loader where installed: the member
    template is 400 KB, which the pure-Python loader takes seconds to read)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return dict((yaml.load(body, Loader=loader) or {}).get("Parameters") or {})


def template_defaults(body: str) -> dict[str, str]:
    """The template's parameters and their defaults (an empty string where it has none)."""
    return {str(name): str(spec.get("Default", "")) for name, spec in template_parameters(body).items()}


@dataclass(frozen=True)
class Change:
    """One parameter of the StackSet: its value before and after the rollout."""

    name: str
    before: str | None  # None: the StackSet (or this parameter) does not exist yet
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def parameter_changes(current: Current, settings: Settings, defaults: Mapping[str, str]) -> list[Change]:
    """Every parameter, before and after: kept, changed or new."""
    after = current.effective(settings, defaults)
    before = current.parameters if current.exists else {}
    return [Change(name, before.get(name), value) for name, value in sorted(after.items())]


@dataclass(frozen=True)
class Call:
    """One API call of the rollout; ``when`` says on which branch of the plan it is made."""

    service: str
    operation: str
    params: dict[str, Any]
    when: str = "always"
    waits: bool = False  # then the rollout waits for the StackSet operation it starts

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "when": self.when,
            "waits_for_operation": self.waits,
            "params": self.params,
        }


@dataclass(frozen=True)
class Template:
    """The member template and where the rollout puts it."""

    body: str
    bucket: str
    key: str
    region: str

    @classmethod
    def in_code_bucket(cls, body: str, settings: Settings) -> Template:
        digest = hashlib.sha256(body.encode()).hexdigest()[:20]
        return cls(
            body,
            bucket_name(settings.bucket_prefix, settings.home_region),
            f"{KEY_ROOT}/templates/member/{digest}.yaml",
            settings.home_region,
        )

    @property
    def url(self) -> str:
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{self.key}"


def plan(settings: Settings, template: Template, current: Current | None = None) -> list[Call]:
    """Every call the rollout makes, in order. ``current``: the StackSet as read (None when not
    read: then the update keeps every template parameter the rollout does not set)."""
    name = settings.stack_set_name
    common = {"StackSetName": name, "CallAs": settings.call_as}
    stack_set = {
        **common,
        "Description": settings.description,
        "TemplateURL": template.url,
        "Parameters": settings.stack_set_parameters(),
        "Capabilities": list(CAPABILITIES),
        "PermissionModel": "SERVICE_MANAGED",
        "AutoDeployment": {
            "Enabled": True,
            "RetainStacksOnAccountRemoval": settings.retain_stacks_on_account_removal,
        },
        # Lets StackSets queue operations on the same StackSet instead of refusing them.
        "ManagedExecution": {"Active": True},
    }
    instances = {
        **common,
        "DeploymentTargets": {"OrganizationalUnitIds": list(settings.organizational_unit_ids)},
        "Regions": list(settings.regions),
        "OperationPreferences": settings.operation_preferences(),
    }
    absent, present = STACK_SET_ABSENT, STACK_SET_PRESENT
    return [
        Call(
            "s3",
            "put_object",
            {"Bucket": template.bucket, "Key": template.key, "Body": template.body, "ContentType": "text/yaml"},
        ),
        Call("cloudformation", "describe_stack_set", dict(common)),
        Call("cloudformation", "create_stack_set", stack_set, when=absent),
        Call(
            "cloudformation",
            "update_stack_set",
            {
                **stack_set,
                "Parameters": settings.update_parameters(
                    list(current.parameters) if current is not None else list(template_defaults(template.body))
                ),
                "OperationPreferences": settings.operation_preferences(),
            },
            when=present,
            waits=True,
        ),
        Call("cloudformation", "create_stack_instances", instances, waits=True),
    ]


def printable(calls: Sequence[Call]) -> list[dict[str, Any]]:
    """The plan as JSON, template bodies shortened to their size."""
    out = []
    for call in calls:
        document = call.to_json()
        body = document["params"].get("Body")
        if isinstance(body, str):
            document["params"] = {**document["params"], "Body": f"<member template, {len(body.encode())} bytes>"}
        out.append(document)
    return out


@dataclass
class Result:
    stack_set_id: str = ""
    created: bool = False
    operations: list[dict[str, str]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


def check_global_region(settings: Settings, current: Current) -> None:
    """The global-resources region the StackSet will have must be one of the rollout's regions,
    or every rule on IAM, the account and the monitoring chain would be created nowhere."""
    chosen = current.effective(settings, {}).get(GLOBAL_REGION_PARAMETER)
    if chosen is not None and chosen not in settings.regions:
        kept = "" if GLOBAL_REGION_PARAMETER in settings.parameters else " (kept from the StackSet)"
        raise RolloutError(
            f"the global-resources region {chosen}{kept} is not among the regions {','.join(settings.regions)}: "
            "add it to --regions or pass --global-resources-region with one of them"
        )


def wait_for_operation(
    cfn: Any,
    stack_set_name: str,
    operation_id: str,
    call_as: str,
    poll_seconds: float = 15.0,
    timeout_seconds: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Poll DescribeStackSetOperation until the operation ends; raise unless it SUCCEEDED."""
    polls = math.ceil(timeout_seconds / poll_seconds) if poll_seconds > 0 else 1000
    for _ in range(polls + 1):
        operation = cfn.describe_stack_set_operation(
            StackSetName=stack_set_name, OperationId=operation_id, CallAs=call_as
        )["StackSetOperation"]
        status = str(operation["Status"])
        if status not in RUNNING:
            break
        sleep(poll_seconds)
    else:
        raise RolloutError(f"operation {operation_id} still {status} after {timeout_seconds:.0f} s")
    if status != "SUCCEEDED":
        pages = cfn.get_paginator("list_stack_set_operation_results").paginate(
            StackSetName=stack_set_name, OperationId=operation_id, CallAs=call_as
        )
        failures = [
            f"{r['Account']}/{r['Region']}: {r['Status']} {r.get('StatusReason', '')}".strip()
            for page in pages
            for r in page["Summaries"]
            if r["Status"] != "SUCCEEDED"
        ]
        raise RolloutError(f"operation {operation_id} {status}: " + ("; ".join(failures) or "no details"))
    return status


def run(
    settings: Settings,
    template: Template,
    session: Any,
    poll_seconds: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    """Make the planned calls with ``session`` (a boto3 Session of the management or
    delegated-administrator account); wait for each StackSet operation."""
    cfn = session.client("cloudformation", region_name=settings.home_region)
    s3 = session.client("s3", region_name=template.region)
    current = read_current(cfn, settings)
    check_global_region(settings, current)
    result = Result(changes=parameter_changes(current, settings, template_defaults(template.body)))
    for call in plan(settings, template, current):
        if call.operation == "describe_stack_set":
            continue
        if call.when != "always" and (call.when == STACK_SET_PRESENT) != current.exists:
            continue
        client = s3 if call.service == "s3" else cfn
        response = getattr(client, call.operation)(**call.params)
        if call.operation == "create_stack_set":
            result.stack_set_id = str(response["StackSetId"])
            result.created = True
        if call.waits:
            operation_id = str(response["OperationId"])
            status = wait_for_operation(
                cfn, settings.stack_set_name, operation_id, settings.call_as, poll_seconds, sleep=sleep
            )
            result.operations.append({"operation": call.operation, "id": operation_id, "status": status})
    if not result.stack_set_id:
        described = cfn.describe_stack_set(StackSetName=settings.stack_set_name, CallAs=settings.call_as)
        result.stack_set_id = str(described["StackSet"]["StackSetId"])
    return result


def code_parameters(manifest: Manifest, bucket_prefix: str) -> dict[str, str]:
    """What every rollout sets: where the code is (the bucket prefix, the layer's and each
    function's key from the build). Everything else is the user's, kept on update unless given."""
    values = member_template.parameter_values(manifest, bucket_prefix, "1", "us-east-1")
    own = {"CodeBucketPrefix", member_template.LAYER_KEY_PARAMETER}
    return {k: v for k, v in values.items() if k in own or k.endswith("CodeKey")}


def _change_lines(changes: Sequence[Change], creating: bool) -> list[str]:
    lines = []
    code = [c for c in changes if c.name.endswith("CodeKey") or c.name == member_template.LAYER_KEY_PARAMETER]
    for change in changes:
        if change in code:
            continue
        if change.before is None:
            lines.append(f"  {change.name} = {change.after!r}{'' if creating else '  (new)'}")
        elif change.changed:
            lines.append(f"  {change.name}: {change.before!r} -> {change.after!r}")
        else:
            lines.append(f"  {change.name} = {change.after!r}  (kept)")
    new_code = sum(c.changed for c in code)
    lines.append(f"  code keys: {len(code)}, {new_code} {'set' if creating else 'changed'} (new or changed code)")
    return lines


def dry_run_summary(
    settings: Settings, template: Template, current: Current | None, defaults: Mapping[str, str]
) -> list[str]:
    """What ``./pack rollout --dry-run`` prints: where, how, and every parameter before and after."""
    targets = ", ".join(settings.organizational_unit_ids)
    lines = [
        f"dry run: nothing is changed. StackSet {settings.stack_set_name} ({settings.call_as}) in "
        f"{settings.home_region}, OUs {targets}, regions {','.join(settings.regions)}",
        f"  template: {template.url} ({len(template.body.encode())} bytes)",
        f"  operation preferences: {json.dumps(settings.operation_preferences(), sort_keys=True)}",
    ]
    if current is None:
        lines.append(
            "  the StackSet was not read (no AWS credentials): if it exists, the update keeps every parameter "
            "not shown as set below; pass --profile to see the diff"
        )
        current = Current(False)
    creating = not current.exists
    lines.append(
        "  creates the StackSet; parameters:"
        if creating
        else "  updates the StackSet (parameters not set here keep their value):"
    )
    lines += _change_lines(parameter_changes(current, settings, defaults), creating)
    lines.append("  then create_stack_instances for the OUs and regions (existing instances are skipped)")
    lines.append("--json prints the exact API calls")
    return lines


def run_summary(settings: Settings, result: Result) -> list[str]:
    """What ``./pack rollout`` prints when it is done."""
    verb = "created" if result.created else "updated"
    lines = [f"StackSet {settings.stack_set_name} {verb} ({result.stack_set_id})"]
    for operation in result.operations:
        lines.append(f"  {operation['operation']}: {operation['status']} (operation {operation['id']})")
    lines += _change_lines(result.changes, result.created)
    return lines


def local_summary(record: Mapping[str, Any]) -> list[str]:
    """What ``./pack rollout --local`` prints: what it created, in a few lines (--json: all)."""
    accounts = record["accounts"]
    regions = record["regions"]
    functions = {r: len(accounts[0]["regions"][r]["functions"]) if accounts else 0 for r in regions}
    lines = [
        f"local rollout done: organization {record['organization']}, OU {record['ou']}, management account "
        f"{record['management_account']}",
        f"  code buckets: {', '.join(record['code_buckets'])} ({len(record['uploaded_keys'])} zips and "
        f"{len(record['uploaded_templates'])} conformance pack templates uploaded)",
        f"  StackSet {record['stack_set']['id']}: create "
        + ", ".join(f"{o['operation']} {o['status']}" for o in record["stack_set"]["create"])
        + "; update "
        + ", ".join(f"{o['operation']} {o['status']}" for o in record["stack_set"]["update"]),
        f"  {len(record['stack_instances'])} stack instances: {len(accounts)} member accounts x {len(regions)} regions",
    ]
    for entry in accounts:
        lines.append(
            f"  account {entry['account']}: "
            + ", ".join(f"{r} {functions[r]} function{'' if functions[r] == 1 else 's'}" for r in regions)
            + f", role {member_template.ROLE_NAME_PREFIX}<region> in each"
        )
    lines.append("--json prints the whole record (roles, policies, layers, functions, permissions, log groups)")
    return lines


# AWS Config's periodic frequencies, as rule runs per month (AWS prices a month as 730 hours).
HOURS_PER_MONTH = 730
FREQUENCY_HOURS = {"One_Hour": 1, "Three_Hours": 3, "Six_Hours": 6, "Twelve_Hours": 12, "TwentyFour_Hours": 24}
# Price per conformance pack evaluation, public regions (aws.amazon.com/config/pricing, see
# docs/rollout.md for the date): first 100,000, next 400,000, then each.
PRICE_TIERS = ((100_000, 0.001), (400_000, 0.0008), (None, 0.0005))


@dataclass(frozen=True)
class Estimate:
    """Periodic rule runs per month for ``accounts`` x ``regions`` at ``level``. Each run of a
    rule on the account is one evaluation; a per-resource rule makes one per resource."""

    accounts: int
    regions: int
    level: int
    global_rules: tuple[str, ...]
    regional_rules: tuple[str, ...]
    change_triggered: tuple[str, ...]
    runs_per_account: float

    @property
    def runs(self) -> float:
        return self.runs_per_account * self.accounts

    def cost(self, evaluations: float | None = None, flat: bool = False) -> float:
        """USD per month at the tiered price (consolidated billing adds all accounts up), or at
        the first tier's price for every evaluation when ``flat`` (an upper bound)."""
        remaining = self.runs if evaluations is None else evaluations
        if flat:
            return remaining * PRICE_TIERS[0][1]
        total = 0.0
        for size, price in PRICE_TIERS:
            band = remaining if size is None else min(remaining, size)
            total += band * price
            remaining -= band
            if remaining <= 0:
                break
        return total


def runs_per_month(frequency: str) -> float:
    return HOURS_PER_MONTH / FREQUENCY_HOURS[frequency]


def estimate(rules: Sequence[Any], accounts: int, regions: int, level: int, frequency: str | None = None) -> Estimate:
    """The pack's periodic evaluations per month: global rules run in the global-resources
    region only, every other periodic rule in each of ``regions``; rules above ``level`` are not
    created. ``frequency``, when given, is the conformance pack's ``CustomRuleFrequency``: every
    custom rule runs at it (managed rules keep their own). Change-triggered rules (those with
    ``SourceEvents``, periodic or not) are listed: they cost one evaluation per change
    (:func:`change_estimate`)."""
    created = [r for r in rules if r.controls and r.level <= level]
    periodic = [r for r in created if r.periodic]
    global_rules = tuple(r.name for r in periodic if r.is_global)
    regional_rules = tuple(r.name for r in periodic if not r.is_global)

    def schedule(rule: Any) -> str:
        return str(frequency if frequency and rule.is_custom else rule.periodic)

    per_account = sum(runs_per_month(schedule(r)) * (1 if r.is_global else regions) for r in periodic)
    return Estimate(
        accounts,
        regions,
        level,
        global_rules,
        regional_rules,
        tuple(r.name for r in created if r.source_events),
        per_account,
    )


@dataclass(frozen=True)
class ChangeEstimate:
    """Evaluations per month that configuration changes cause: one per change of a resource in a
    rule's scope (AWS Config invokes the rule for every change of a recorded resource of the type,
    whatever the verdict, NOT_APPLICABLE included)."""

    #: Per rule and resource type: (rule name, resource type, resources per account in the regions
    #: the rule runs in, evaluations per month for all accounts).
    rules: tuple[tuple[str, str, int, float], ...]

    @property
    def evaluations(self) -> float:
        return sum(evaluations for *_, evaluations in self.rules)


def change_estimate(
    rules: Sequence[Any],
    accounts: int,
    regions: int,
    level: int,
    counts: Mapping[str, int],
    changes_per_month: float,
) -> ChangeEstimate:
    """The change-triggered evaluations of the created custom rules for ``counts`` resources of
    each type per account and region (``AWS::S3::Bucket``, ``AWS::EC2::RouteTable``), each
    changing ``changes_per_month`` times. A global rule hears of changes in the global-resources
    region only (AWS Config records a bucket in its own region), a regional rule in each of
    ``regions``. Managed rules' change triggers are not counted (no resource counts for them)."""
    rows = []
    for rule in rules:
        if not (rule.controls and rule.level <= level and rule.is_custom and rule.source_events):
            continue
        for resource_type in rule.source_events:
            per_account = counts.get(resource_type, 0) * (1 if rule.is_global else regions)
            rows.append((rule.name, resource_type, per_account, per_account * changes_per_month * accounts))
    return ChangeEstimate(tuple(rows))


# The rollout end to end on a local AWS (moto, in process): `./pack rollout --local` and
# tests/test_stackset_rollout.py. An organization with one OU and member accounts, the code
# buckets from templates/code-bucket.yaml, the upload, the rollout (create path), more accounts
# joining the OU and a second rollout (update path). moto deploys service-managed instances into
# the member accounts; each is read back through OrganizationAccountAccessRole.

LOCAL_BUCKET_PREFIX = "cis-pack-code-local"
CODE_BUCKET_STACK = "cis-config-pack-code"


def create_local_organization(session: Any, accounts: int, ou_name: str = "workloads") -> tuple[str, str, list[str]]:
    """An organization (this session's account manages it), one OU and ``accounts`` members in it."""
    org = session.client("organizations")
    org_id = str(org.create_organization(FeatureSet="ALL")["Organization"]["Id"])
    root = org.list_roots()["Roots"][0]["Id"]
    ou = str(org.create_organizational_unit(ParentId=root, Name=ou_name)["OrganizationalUnit"]["Id"])
    return org_id, ou, [join_local_account(session, ou, index) for index in range(accounts)]


def join_local_account(session: Any, ou: str, index: int) -> str:
    org = session.client("organizations")
    status = org.create_account(Email=f"member{index}@example.com", AccountName=f"member-{index}")
    account = str(status["CreateAccountStatus"]["AccountId"])
    root = org.list_roots()["Roots"][0]["Id"]
    org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
    return account


def deploy_code_buckets(
    session: Any, regions: Sequence[str], bucket_prefix: str, organization_id: str, template_body: str
) -> None:
    writer = writer_principal_arn(session.client("sts").get_caller_identity()["Arn"])
    for region in regions:
        session.client("cloudformation", region_name=region).create_stack(
            StackName=CODE_BUCKET_STACK,
            TemplateBody=template_body,
            Parameters=[
                {"ParameterKey": "BucketPrefix", "ParameterValue": bucket_prefix},
                {"ParameterKey": "OrganizationId", "ParameterValue": organization_id},
                {"ParameterKey": "WriterPrincipalArn", "ParameterValue": writer},
            ],
        )


def member_session(session: Any, account: str, region: str) -> Any:
    """A session in ``account`` through the role AWS Organizations creates in new accounts."""
    import boto3

    credentials = session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="cis-pack-rollout"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def inventory(member: Any, account: str, regions: Sequence[str]) -> dict[str, Any]:
    """What the StackSet put into one account: per region its role and policies, the layer, the
    functions and each function's resource policy."""
    iam = member.client("iam")
    found: dict[str, Any] = {"account": account, "regions": {}}
    for region in regions:
        role_name = f"{member_template.ROLE_NAME_PREFIX}{region}"
        role = iam.get_role(RoleName=role_name)["Role"]
        lam = member.client("lambda", region_name=region)
        functions = sorted(
            f["FunctionName"] for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]
        )
        found["regions"][region] = {
            "role": role["Arn"],
            "role_policies": iam.list_role_policies(RoleName=role_name)["PolicyNames"],
            "layers": [layer["LatestMatchingVersion"]["LayerVersionArn"] for layer in lam.list_layers()["Layers"]],
            "functions": functions,
            "permissions": {name: _permission_summary(lam, name) for name in functions},
            "log_groups": sorted(
                group["logGroupName"]
                for page in member.client("logs", region_name=region)
                .get_paginator("describe_log_groups")
                .paginate(logGroupNamePrefix="/aws/lambda/" + member_template.FUNCTION_PREFIX)
                for group in page["logGroups"]
            ),
        }
    return found


def _permission_summary(lam: Any, function: str) -> list[str]:
    """Each statement of a function's resource policy as ``principal action SourceAccount``."""
    policy = json.loads(lam.get_policy(FunctionName=function)["Policy"])
    summary = []
    for statement in policy["Statement"]:
        principal = statement["Principal"].get("Service", statement["Principal"])
        account = statement.get("Condition", {}).get("StringEquals", {}).get("AWS:SourceAccount", "any account")
        summary.append(f"{principal} {statement['Action']} SourceAccount={account}")
    return summary


def local_rollout(
    session: Any,
    manifest: Manifest,
    template_body: str,
    code_bucket_template: str,
    regions: Sequence[str],
    profile_level: str = "1",
    accounts: int = 3,
    joining: int = 1,
    seed: int | None = 42,
    benchmarks: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The whole rollout on the local AWS of ``session`` (moto must be active), the first region
    being the global-resources and home region; the record of what it created. ``seed`` seeds
    moto's random IDs (moto's documented seed endpoint), so account IDs repeat from run to run.
    ``benchmarks``: the CIS versions whose packs to deploy (None: the template's defaults)."""
    if seed is not None:
        import requests  # moto intercepts this call inside mock_aws

        requests.post(f"http://motoapi.amazonaws.com/moto-api/seed?a={seed}", timeout=5).raise_for_status()
    org_id, ou, members = create_local_organization(session, accounts)
    deploy_code_buckets(session, regions, LOCAL_BUCKET_PREFIX, org_id, code_bucket_template)
    uploads = upload(manifest, regions, LOCAL_BUCKET_PREFIX, session)
    templates = member_template.upload_pack_bodies(regions, LOCAL_BUCKET_PREFIX, session)
    chosen = member_template.benchmark_parameters(benchmarks) if benchmarks is not None else {}
    settings = Settings(
        organizational_unit_ids=(ou,),
        regions=tuple(regions),
        home_region=regions[0],
        bucket_prefix=LOCAL_BUCKET_PREFIX,
        parameters={
            **member_template.parameter_values(manifest, LOCAL_BUCKET_PREFIX, profile_level, regions[0]),
            **chosen,
        },
        max_concurrent_percentage=50,
        failure_tolerance_percentage=10,
    )
    template = Template.in_code_bucket(template_body, settings)
    first = run(settings, template, session, poll_seconds=0, sleep=lambda _: None)
    members += [join_local_account(session, ou, accounts + i) for i in range(joining)]
    second = run(settings, template, session, poll_seconds=0, sleep=lambda _: None)
    cfn = session.client("cloudformation", region_name=settings.home_region)
    instances = sorted(
        (s["Account"], s["Region"]) for s in cfn.list_stack_instances(StackSetName=settings.stack_set_name)["Summaries"]
    )
    return {
        "organization": org_id,
        "ou": ou,
        "management_account": session.client("sts").get_caller_identity()["Account"],
        "regions": list(regions),
        "code_buckets": [bucket_name(LOCAL_BUCKET_PREFIX, r) for r in regions],
        "uploaded_keys": sorted({u.key for u in uploads}),
        "uploaded_templates": sorted({u.key for u in templates}),
        "stack_set": {"id": first.stack_set_id, "create": first.operations, "update": second.operations},
        "stack_instances": [list(i) for i in instances],
        "accounts": [inventory(member_session(session, a, regions[0]), a, regions) for a in members],
    }
