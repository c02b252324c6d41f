"""Which control the pack remediates, how, and whether it may run automatically: the
"Remediation" table of the public interface (CONTROLS.md), pinned here with what each row needs
to deploy (``tests/test_remediation_pack.py`` holds it to the table's rows and modes).

Each :class:`Remediation` names its rule, its controls, its mode (``manual``: only when a person
presses Remediate; ``automatic allowed``: the user may switch the pack to run it automatically)
and its :class:`Runbook`: an SSM Automation document ``CisPack-<Name>`` whose one step runs
``runbooks/<module>.py`` (``cispack.generate.runbooks`` builds it) under a role of its own,
``cis-config-pack-remediation-<role>-<region>``, that grants exactly the module's ``ACTIONS``
(and the announcement every runbook makes) on the resources its ``SCOPE`` names, with the IAM
conditions of its ``CONDITIONS``.

Every row runs one of the pack's own runbooks, the four that AWS-managed runbooks could do too
included (see ``REJECTED``): only a document of the pack can carry its role as the default of
``AutomationAssumeRole`` (a conformance pack cannot build a role ARN: it has no ``Fn::Sub``), check
the owner of what it touches, and announce its record. Every value a runbook takes comes from the
resource AWS Config names (``RESOURCE_ID``), a constant of the row (the control, the port), a
deployment :class:`Setting` (a conformance pack parameter that the templates also take), a rule
parameter of the pack (``pack_parameter``), or the document's own default.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any, Final

from cispack import ROOT

RUNBOOKS_DIR = ROOT / "runbooks"
DOCUMENT_PREFIX = "CisPack-"
MANUAL: Final = "manual"
AUTOMATIC_ALLOWED: Final = "automatic allowed"
REFERENCE = "https://docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide/"
#: The names of the roles the pack deploys (the rules' execution role, the runbooks' roles) and of
#: its managed policies: no runbook role may write them (an explicit deny in each).
PACK_ROLE_PATTERNS: Final = ("cis-config-pack-rules-*", "cis-config-pack-remediation-*")
PACK_POLICY_PATTERN: Final = "cis-config-pack-*"
RUNBOOK_ROLE_PREFIX: Final = "cis-config-pack-remediation-"


@dataclass(frozen=True)
class Setting:
    """A value the user chooses once per deployment: a pack parameter of the same name."""

    name: str
    default: str
    description: str
    allowed: tuple[str, ...] = ()


AUTOMATIC = Setting(
    "AutomaticRemediation",
    "false",
    "true: Config runs the remediations marked automatic allowed by itself.",
    ("false", "true"),
)
SETTINGS: Final[tuple[Setting, ...]] = (
    AUTOMATIC,
    Setting("AlarmTopic", "cis-security-alarms", "SNS topic (name or ARN) of the CIS 3.x alarms."),
    Setting("SupportRoleName", "cis-aws-support", "Name of the CIS 1.20 support role."),
    Setting("TrailBucket", "", "Bucket of the CIS 2.1 trail, this account's (empty: a new one)."),
    Setting("ConfigBucket", "", "Bucket of new Config delivery channels (CIS 2.5)."),
    Setting("AccessLogsBucket", "", "Bucket of the CIS 2.6 access logs."),
    Setting("TrailKmsKey", "alias/cis-cloudtrail", "KMS key (ARN, ID or alias) of CIS 2.7."),
)
SETTING: Final[Mapping[str, Setting]] = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Input:
    """A parameter of a runbook (``AutomationAssumeRole`` aside)."""

    name: str
    description: str
    resource_id: bool = False
    """AWS Config passes the non-compliant resource's ID (``RESOURCE_ID``)."""
    setting: str | None = None
    """The deployment :class:`Setting` that gives it."""
    default: str = ""
    """The pack document's default, used when neither of the above gives a value."""
    pack_parameter: str | None = None
    """A rule parameter of the conformance pack that gives it (left out when empty)."""


@dataclass(frozen=True)
class Runbook:
    document: str
    module: str
    """``runbooks/<module>.py``."""
    role: str
    """Its role's name part: ``cis-config-pack-remediation-<role>-<region>`` (at most 64 characters)."""
    summary: str
    inputs: tuple[Input, ...]

    @property
    def actions(self) -> tuple[str, ...]:
        """Every IAM action its calls need: its module's ``ACTIONS`` and the announcement."""
        base = _module("runbook_base")
        return (*base.BASE_ACTIONS, *_module(self.module).ACTIONS)

    @property
    def scope(self) -> dict[str, tuple[str, ...]]:
        """Action -> the resources (``Fn::Sub`` text) it may act on; ``("*",)`` when IAM cannot scope it."""
        declared = {**_module("runbook_base").BASE_SCOPE, **_module(self.module).SCOPE}
        return {action: tuple(declared.get(action, ("*",))) for action in self.actions}

    @property
    def conditions(self) -> dict[str, dict[str, Any]]:
        """Action -> the IAM condition block it is granted under (``Fn::Sub`` text)."""
        return dict(getattr(_module(self.module), "CONDITIONS", {}))

    def input(self, name: str) -> Input:
        return next(i for i in self.inputs if i.name == name)


@dataclass(frozen=True)
class Remediation:
    rule: str
    controls: tuple[str, ...]
    mode: str
    runbook: Runbook
    changes: str
    undo: str
    constants: Mapping[str, str] = field(default_factory=dict)

    @property
    def automatic_allowed(self) -> bool:
        return self.mode == AUTOMATIC_ALLOWED

    @property
    def label(self) -> str:
        ids = self.controls
        return ids[0] if len(ids) == 1 else f"{ids[0]}-{ids[-1]}"


def declared_actions(module: str) -> tuple[str, ...]:
    """``ACTIONS`` of ``runbooks/<module>.py``."""
    return tuple(_module(module).ACTIONS)


@cache
def _module(name: str) -> ModuleType:
    """``runbooks/<name>.py`` loaded as the generated script would see it (``runbook_base`` importable)."""
    if str(RUNBOOKS_DIR) not in sys.path:
        sys.path.insert(0, str(RUNBOOKS_DIR))
    if name == "runbook_base":
        import runbook_base

        return runbook_base
    spec = importlib.util.spec_from_file_location(f"cispack_runbooks_{name}", RUNBOOKS_DIR / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ValueError(f"runbooks/{name}.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _own(name: str, module: str, role: str, summary: str, *inputs: Input) -> Runbook:
    return Runbook(f"{DOCUMENT_PREFIX}{name}", module, role, summary, inputs)


USER = Input("ResourceId", "Unique ID (AIDA...) or name of the IAM user.", resource_id=True)
# Account rules report the account itself: the runbook acts where it runs, and refuses another
# account when given one (the pack leaves it out: its bytes are counted).
ACCOUNT = Input("AccountId", "The account to remediate (empty: the one the runbook runs in).")
TRAIL_BUCKET = Input("BucketName", "The CloudTrail log bucket.", resource_id=True)
TRAIL = Input("TrailName", "Name or ARN of the trail.", resource_id=True)
RETENTION = Input("LogRetentionDays", "Days a log group the runbook creates keeps its events.", default="365")


def _grace(days: str, what: str) -> Input:
    return Input("GraceDays", f"Days within which {what} is never touched.", default=days)


DEACTIVATE_UNUSED = _own(
    "DeactivateUnusedCredentials",
    "deactivate_unused_credentials",
    "unused-creds",
    "Deactivates access keys and removes console passwords unused for 90 days, none set within the grace.",
    USER,
    Input("MaxCredentialUsageAge", "Days a credential may go unused.", default="90"),
    _grace("7", "a key created or a password set"),
)
DEACTIVATE_OLD = _own(
    "DeactivateOldAccessKeys",
    "deactivate_old_access_keys",
    "old-keys",
    "Deactivates access keys older than 90 days not used within the grace; reports keys in use.",
    USER,
    Input("MaxAccessKeyAge", "Days an active access key may live.", default="90"),
    _grace("30", "a key used"),
)
PASSWORD_POLICY = _own(
    "SetPasswordPolicy",
    "set_password_policy",
    "password-policy",
    "Sets the password policy to CIS 1.5-1.11, stricter values kept.",
    ACCOUNT,
)
MOVE_POLICIES = _own(
    "MoveUserPoliciesToGroup",
    "move_user_policies_to_group",
    "user-policies",
    "Moves the user's own policies to a group created for the user, recording them.",
    USER,
)
SUPPORT_ROLE = _own(
    "CreateSupportRole",
    "create_support_role",
    "support-role",
    "Creates the CIS 1.20 support role with AWSSupportAccess.",
    ACCOUNT,
    Input("SupportRoleName", "Name of the support role.", setting="SupportRoleName", default="cis-aws-support"),
)
SETUP_KEYS = _own(
    "DeactivateUnusedSetupKeys",
    "deactivate_unused_setup_keys",
    "setup-keys",
    "Deactivates never-used access keys created at a console user's setup, older than the grace.",
    USER,
    _grace("7", "a key created"),
)
MULTI_REGION_TRAIL = _own(
    "CreateMultiRegionTrail",
    "create_multi_region_trail",
    "trail",
    "Unless a multi-region trail covers the account, creates one (validated, KMS) to a private bucket.",
    ACCOUNT,
    Input("TrailName", "Name of the trail to create.", default="cis-multi-region-trail"),
    Input("BucketName", "This account's bucket for the trail (empty: a new private one).", setting="TrailBucket"),
    Input("AccessLogsBucket", "Bucket of the new bucket's access logs (empty: a new one).", setting="AccessLogsBucket"),
    Input(
        "KmsKeyId", "KMS key (ARN, ID or alias) of the trail.", setting="TrailKmsKey", default="alias/cis-cloudtrail"
    ),
)
LOG_VALIDATION = _own(
    "EnableTrailLogValidation",
    "enable_trail_log_validation",
    "log-validation",
    "Enables log file validation for the trail.",
    TRAIL,
)
BLOCK_PUBLIC = _own(
    "BlockTrailBucketPublicAccess",
    "block_trail_bucket_public_access",
    "bucket-public",
    "Turns on S3 Block Public Access for a CloudTrail log bucket.",
    TRAIL_BUCKET,
)
TRAIL_LOGS = _own(
    "EnableTrailCloudWatchLogs",
    "enable_trail_cloudwatch_logs",
    "trail-logs",
    "Delivers the trail to a CloudWatch Logs log group, created with its role if absent.",
    TRAIL,
    Input("LogGroupName", "Log group, starting with cis-cloudtrail/ (empty: cis-cloudtrail/<trail>)."),
    RETENTION,
)
CONFIG_ALL_REGIONS = _own(
    "EnableConfigAllRegions",
    "enable_config_all_regions",
    "config",
    "Creates or starts a recorder of every resource type in each region not excluded.",
    ACCOUNT,
    Input(
        "DeliveryBucket", "Bucket of new delivery channels (empty: the account's existing one).", setting="ConfigBucket"
    ),
    Input(
        "ExcludedRegions",
        "Comma-separated regions to leave alone (the rule's excludedRegions).",
        pack_parameter="ConfigEnabledAllRegionsParamExcludedRegions",
    ),
)
BUCKET_LOGGING = _own(
    "EnableTrailBucketLogging",
    "enable_trail_bucket_logging",
    "bucket-logging",
    "Enables server access logging of a CloudTrail log bucket to the target bucket given.",
    TRAIL_BUCKET,
    Input("TargetBucket", "Bucket that receives the access logs.", setting="AccessLogsBucket"),
    Input("TargetPrefix", "Key prefix of the access logs (empty: <bucket>/)."),
)
TRAIL_KMS = _own(
    "EncryptTrail",
    "encrypt_trail",
    "trail-kms",
    "Encrypts the trail with the KMS key given.",
    TRAIL,
    Input(
        "KmsKeyId", "KMS key (ARN, ID or alias) of the trail.", setting="TrailKmsKey", default="alias/cis-cloudtrail"
    ),
)
KEY_ROTATION = _own(
    "EnableKeyRotation",
    "enable_key_rotation",
    "key-rotation",
    "Enables automatic rotation of the customer managed key.",
    Input("KeyId", "ID of the customer managed key.", resource_id=True),
)
FLOW_LOGS = _own(
    "EnableVpcRejectFlowLogs",
    "enable_vpc_reject_flow_logs",
    "flow-logs",
    "Enables flow logs of rejected traffic for a VPC without REJECT or ALL ones, to a log group.",
    Input("VpcId", "The VPC.", resource_id=True),
    Input("LogGroupName", "Log group of the flow logs, starting with cis-vpc-flow-logs.", default="cis-vpc-flow-logs"),
    RETENTION,
)
METRIC_FILTER_ALARM = _own(
    "CreateMetricFilterAlarm",
    "create_metric_filter_alarm",
    "metric-alarm",
    "Creates the CIS metric filter on the trail's log group and an alarm notifying the topic given.",
    ACCOUNT,
    Input("Control", "The CIS control, 3.1 to 3.14."),
    Input(
        "AlarmTopic", "SNS topic (name or ARN) the alarm notifies.", setting="AlarmTopic", default="cis-security-alarms"
    ),
)
OPEN_INGRESS = _own(
    "RevokeOpenIngress",
    "revoke_open_ingress",
    "open-ingress",
    "Takes the port out of ingress rules open to 0.0.0.0/0 and ::/0, re-adding the rest of each range.",
    Input("GroupId", "The security group.", resource_id=True),
    Input("Port", "The port: 22 (CIS 4.1) or 3389 (CIS 4.2)."),
)
DEFAULT_GROUP = _own(
    "CloseDefaultSecurityGroup",
    "close_default_security_group",
    "default-sg",
    "Removes every rule of the VPC's default security group.",
    Input("GroupId", "ID of the default security group.", resource_id=True),
)

#: AWS-managed runbooks checked for a row and not used, and why (the runbook reference).
REJECTED: Final[Mapping[str, str]] = {
    "1.3": "AWSConfigRemediation-RevokeUnusedIAMUserCredentials needs iam:DeleteAccessKey; the row deactivates keys.",
    "1.5-1.11": "AWSConfigRemediation-SetIAMPasswordPolicy sets the values given and does not keep stricter ones.",
    "1.16": "AWSConfigRemediation-RemoveUserPolicies deletes the user's policies; the row moves them to a group.",
    "2.1": "AWSConfigRemediation-CreateCloudTrailMultiRegionTrail turns on no log validation, makes no bucket.",
    "2.2": "AWSConfigRemediation-EnableCloudTrailLogFileValidation has no default AutomationAssumeRole, which a "
    "conformance pack cannot build, and announces nothing.",
    "2.4": "AWS-EnableCloudTrailCloudWatchLogs needs an existing log group and role.",
    "2.6": "AWS-ConfigureS3BucketLogging requires an ACL grantee (GrantedPermission, GranteeType); buckets with ACLs "
    "disabled, S3's default, refuse ACL grants.",
    "2.7": "AWSConfigRemediation-EnableCloudTrailEncryptionWithKMS: as 2.2.",
    "2.8": "AWSConfigRemediation-EnableKeyRotation: as 2.2.",
    "4.1": "AWS-DisableIncomingSSHOnPort22 revokes only 0.0.0.0/0 to exactly port 22 (not ::/0, not wider ranges).",
    "4.3": "AWSConfigRemediation-RemoveVPCDefaultSecurityGroupRules: as 2.2.",
}


def _metric(rule: str, control: str) -> Remediation:
    return Remediation(
        rule,
        (control,),
        AUTOMATIC_ALLOWED,
        METRIC_FILTER_ALARM,
        "creates the CIS metric filter on the trail's log group and an alarm on its metric, notifying the SNS topic "
        "given as a parameter (the pack's own encrypted topic by default)",
        "delete the alarm and the metric filter named CIS-<control>-...",
        {"Control": control},
    )


METRIC_RULES: Final[Mapping[str, str]] = {
    "METRIC_FILTER_ALARM_UNAUTHORIZED_API_CALLS": "3.1",
    "METRIC_FILTER_ALARM_CONSOLE_SIGNIN_WITHOUT_MFA": "3.2",
    "METRIC_FILTER_ALARM_ROOT_ACCOUNT_USAGE": "3.3",
    "METRIC_FILTER_ALARM_IAM_POLICY_CHANGES": "3.4",
    "METRIC_FILTER_ALARM_CLOUDTRAIL_CONFIG_CHANGES": "3.5",
    "METRIC_FILTER_ALARM_CONSOLE_AUTH_FAILURES": "3.6",
    "METRIC_FILTER_ALARM_CMK_DISABLE_OR_DELETION": "3.7",
    "METRIC_FILTER_ALARM_S3_BUCKET_POLICY_CHANGES": "3.8",
    "METRIC_FILTER_ALARM_CONFIG_CHANGES": "3.9",
    "METRIC_FILTER_ALARM_SECURITY_GROUP_CHANGES": "3.10",
    "METRIC_FILTER_ALARM_NACL_CHANGES": "3.11",
    "METRIC_FILTER_ALARM_NETWORK_GATEWAY_CHANGES": "3.12",
    "METRIC_FILTER_ALARM_ROUTE_TABLE_CHANGES": "3.13",
    "METRIC_FILTER_ALARM_VPC_CHANGES": "3.14",
}

REMEDIATIONS: Final[tuple[Remediation, ...]] = (
    Remediation(
        "IAM_USER_UNUSED_CREDENTIALS_CHECK",
        ("1.3",),
        MANUAL,
        DEACTIVATE_UNUSED,
        "deactivates access keys and removes console passwords unused for 90 days; never a password set or key created "
        "within the grace period",
        "reactivate a key (aws iam update-access-key --status Active); give a console password back "
        "(aws iam create-login-profile)",
    ),
    Remediation(
        "ACCESS_KEYS_ROTATED",
        ("1.4",),
        MANUAL,
        DEACTIVATE_OLD,
        "deactivates access keys older than 90 days that were not used within the grace period (parameter); a key in "
        "use is reported for rotation, never deactivated",
        "aws iam update-access-key --status Active",
    ),
    Remediation(
        "IAM_PASSWORD_POLICY",
        tuple(f"1.{n}" for n in range(5, 12)),
        AUTOMATIC_ALLOWED,
        PASSWORD_POLICY,
        "sets the account password policy to the benchmark's values, keeping stricter ones",
        "aws iam update-account-password-policy with the Record's before values (or delete-account-password-policy "
        "when there was none)",
    ),
    Remediation(
        "IAM_USER_NO_POLICIES_CHECK",
        ("1.16",),
        MANUAL,
        MOVE_POLICIES,
        "moves the user's managed and inline policies to a group created for that user and adds the user to it, "
        "recording them",
        "aws iam attach-user-policy / put-user-policy with the Record's ARNs and documents, then remove them from the "
        "group",
    ),
    Remediation(
        "IAM_POLICY_IN_USE",
        ("1.20",),
        AUTOMATIC_ALLOWED,
        SUPPORT_ROLE,
        "creates a support role (name as a parameter) with `AWSSupportAccess`, trusted by the account",
        "detach AWSSupportAccess from the role and delete it",
    ),
    Remediation(
        "IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS",
        ("1.21",),
        MANUAL,
        SETUP_KEYS,
        "deactivates never-used access keys created at the user's setup (as the benchmark defines it) and older than "
        "the grace period",
        "aws iam update-access-key --status Active",
    ),
    Remediation(
        "MULTI_REGION_CLOUD_TRAIL_ENABLED",
        ("2.1",),
        MANUAL,
        MULTI_REGION_TRAIL,
        "unless an organisation trail or another multi-region trail covers the account, creates a multi-region trail "
        "(all management events, log validation, KMS) to a bucket this account owns that passes 2.3 and 2.6",
        "aws cloudtrail delete-trail (the buckets and their logs stay)",
    ),
    Remediation(
        "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
        ("2.2",),
        AUTOMATIC_ALLOWED,
        LOG_VALIDATION,
        "enables log file validation on the trail",
        "aws cloudtrail update-trail --no-enable-log-file-validation",
    ),
    Remediation(
        "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC",
        ("2.3",),
        AUTOMATIC_ALLOWED,
        BLOCK_PUBLIC,
        "turns on S3 Block Public Access for the trail bucket",
        "aws s3api put-public-access-block with the Record's before values",
    ),
    Remediation(
        "CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED",
        ("2.4",),
        MANUAL,
        TRAIL_LOGS,
        "delivers the trail to a CloudWatch Logs log group (created with its role if absent)",
        "aws cloudtrail update-trail --cloud-watch-logs-log-group-arn '' --cloud-watch-logs-role-arn ''",
    ),
    Remediation(
        "CONFIG_ENABLED_ALL_REGIONS",
        ("2.5",),
        MANUAL,
        CONFIG_ALL_REGIONS,
        "creates or starts a recorder of all resource types in each failing region not in the rule's "
        "`excludedRegions`, delivering to the given bucket (owner checked)",
        "aws configservice stop-configuration-recorder in each region the Record names",
    ),
    Remediation(
        "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING",
        ("2.6",),
        MANUAL,
        BUCKET_LOGGING,
        "enables server access logging to the target bucket given as a parameter",
        "aws s3api put-bucket-logging --bucket-logging-status '{}'",
    ),
    Remediation(
        "CLOUD_TRAIL_ENCRYPTION_ENABLED",
        ("2.7",),
        MANUAL,
        TRAIL_KMS,
        "encrypts the trail with the KMS key given as a parameter",
        "aws cloudtrail update-trail --kms-key-id ''",
    ),
    Remediation(
        "CMK_BACKING_KEY_ROTATION_ENABLED",
        ("2.8",),
        AUTOMATIC_ALLOWED,
        KEY_ROTATION,
        "enables rotation of the key",
        "aws kms disable-key-rotation",
    ),
    Remediation(
        "VPC_FLOW_LOGS_ENABLED",
        ("2.9",),
        MANUAL,
        FLOW_LOGS,
        "enables REJECT flow logs for a VPC that has no REJECT or ALL flow log, to a log group with retention "
        "(created with its role if absent)",
        "aws ec2 delete-flow-logs --flow-log-ids <FlowLogId of the Record> (the log group and its logs stay)",
    ),
    *(_metric(rule, control) for rule, control in METRIC_RULES.items()),
    Remediation(
        "INCOMING_SSH_DISABLED",
        ("4.1",),
        MANUAL,
        OPEN_INGRESS,
        "removes port 22 from ingress rules open to 0.0.0.0/0 or ::/0, re-adding the rest of a wider range",
        "aws ec2 authorize-security-group-ingress with the Record's before rule, then revoke its after rules",
        {"Port": "22"},
    ),
    Remediation(
        "RESTRICTED_INCOMING_TRAFFIC",
        ("4.2",),
        MANUAL,
        OPEN_INGRESS,
        "removes port 3389 from ingress rules open to 0.0.0.0/0 or ::/0, re-adding the rest of a wider range",
        "aws ec2 authorize-security-group-ingress with the Record's before rule, then revoke its after rules",
        {"Port": "3389"},
    ),
    Remediation(
        "VPC_DEFAULT_SECURITY_GROUP_CLOSED",
        ("4.3",),
        MANUAL,
        DEFAULT_GROUP,
        "removes every rule of the VPC's default security group",
        "aws ec2 authorize-security-group-ingress / -egress with the rules you need (AWS's default: all traffic from "
        "the group itself, all outbound)",
    ),
)
BY_RULE: Final[Mapping[str, Remediation]] = {r.rule: r for r in REMEDIATIONS}

#: Controls the contract leaves to a person's decision.
NOT_REMEDIATED: Final[tuple[str, ...]] = (
    "1.1", "1.2", "1.12", "1.13", "1.14", "1.15", "1.17", "1.18", "1.19", "1.22", "4.4",
)  # fmt: skip


def own_runbooks() -> list[Runbook]:
    """The pack's runbooks, each once, in table order."""
    seen: dict[str, Runbook] = {}
    for remediation in REMEDIATIONS:
        seen.setdefault(remediation.runbook.document, remediation.runbook)
    return list(seen.values())


def role_name(runbook: Runbook, region: str = "${AWS::Region}") -> str:
    """The name of the runbook's role in ``region`` (``Fn::Sub`` text by default)."""
    return f"{RUNBOOK_ROLE_PREFIX}{runbook.role}-{region}"
