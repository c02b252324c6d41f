"""Which control the pack remediates, how, and whether it may run automatically: the
"Remediation" table of the public interface (CONTROLS.md), pinned here with what each row needs
to deploy (``tests/test_remediation_pack.py`` holds it to the table's rows and modes).

Each :class:`Remediation` names its rule, its controls, its mode (``manual``: only when a person
presses Remediate; ``automatic allowed``: the user may switch the pack to run it automatically)
and its :class:`Runbook`, either

* one of the pack's own (``owner="pack"``): an SSM Automation document ``CisPack-<Name>`` whose
  one step runs ``runbooks/<module>.py`` (``cispack.generate.runbooks`` builds it), the IAM
  actions being that module's ``ACTIONS``; or
* an AWS-managed runbook (``owner="aws"``) that does exactly what the row says, with its name,
  parameters and required actions as the Systems Manager Automation runbook reference states
  them (``source``). No version is pinned: the reference documents none, and AWS Config runs a
  document's default version when ``TargetVersion`` is absent.

Rows with no runbook of AWS that does exactly that (checked in the reference, see ``REJECTED``)
use the pack's own. Every value a runbook takes comes from the resource AWS Config names
(``RESOURCE_ID``), a constant of the row (the control, the port), or a deployment
:class:`Setting`: a conformance pack parameter that the templates also take.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

from cispack import ROOT

RUNBOOKS_DIR = ROOT / "runbooks"
DOCUMENT_PREFIX = "CisPack-"
MANUAL: Final = "manual"
AUTOMATIC_ALLOWED: Final = "automatic allowed"
REFERENCE = "https://docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide/"


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
ROLE = Setting(
    "RemediationRoleArn",
    "",
    "Role of the AWS-managed runbooks (templates/remediation.yaml, output RoleArn).",
)
SETTINGS: Final[tuple[Setting, ...]] = (
    AUTOMATIC,
    ROLE,
    Setting("AlarmTopic", "cis-security-alarms", "SNS topic (name or ARN) of the CIS 3.x alarms."),
    Setting("SupportRoleName", "cis-aws-support", "Name of the CIS 1.20 support role."),
    Setting("TrailBucket", "", "Bucket of the CIS 2.1 trail (empty: a new one)."),
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


@dataclass(frozen=True)
class Runbook:
    document: str
    owner: str
    inputs: tuple[Input, ...]
    summary: str
    module: str | None = None
    """``runbooks/<module>.py`` (the pack's own)."""
    aws_actions: tuple[str, ...] = ()
    """The actions the reference lists (AWS-managed), the ``ssm:`` ones aside: those are for whoever
    starts the automation; the steps themselves call none."""
    source: str = ""

    @property
    def is_own(self) -> bool:
        return self.owner == "pack"

    @property
    def actions(self) -> tuple[str, ...]:
        return declared_actions(self.module) if self.module else self.aws_actions

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
    """``ACTIONS`` of ``runbooks/<module>.py``, read without running the module."""
    return _declared(RUNBOOKS_DIR / f"{module}.py")


@cache
def _declared(path: Path) -> tuple[str, ...]:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ACTIONS" for t in node.targets):
            value = ast.literal_eval(node.value)
            return tuple(str(action) for action in value)
    raise ValueError(f"{path} declares no ACTIONS")


def _own(name: str, module: str, summary: str, *inputs: Input) -> Runbook:
    return Runbook(f"{DOCUMENT_PREFIX}{name}", "pack", inputs, summary, module=module)


def _aws(name: str, page: str, summary: str, actions: tuple[str, ...], *inputs: Input) -> Runbook:
    return Runbook(name, "aws", inputs, summary, aws_actions=actions, source=REFERENCE + page)


USER = Input("ResourceId", "Unique ID (AIDA...) or name of the IAM user.", resource_id=True)
# Account rules report the account itself: the runbook acts where it runs, and refuses another
# account when given one (the pack leaves it out: its bytes are counted).
ACCOUNT = Input("AccountId", "The account to remediate (empty: the one the runbook runs in).")
TRAIL_BUCKET = Input("BucketName", "The CloudTrail log bucket.", resource_id=True)

DEACTIVATE_UNUSED = _own(
    "DeactivateUnusedCredentials",
    "deactivate_unused_credentials",
    "Deactivates access keys and removes console passwords unused for 90 days.",
    USER,
    Input("MaxCredentialUsageAge", "Days a credential may go unused.", default="90"),
)
DEACTIVATE_OLD = _own(
    "DeactivateOldAccessKeys",
    "deactivate_old_access_keys",
    "Deactivates access keys older than 90 days.",
    USER,
    Input("MaxAccessKeyAge", "Days an active access key may live.", default="90"),
)
PASSWORD_POLICY = _own(
    "SetPasswordPolicy",
    "set_password_policy",
    "Sets the password policy to CIS 1.5-1.11, stricter values kept.",
    ACCOUNT,
)
REMOVE_POLICIES = _own(
    "RemoveUserPolicies", "remove_user_policies", "Detaches and removes the user's own policies, recording them.", USER
)
SUPPORT_ROLE = _own(
    "CreateSupportRole",
    "create_support_role",
    "Creates the CIS 1.20 support role with AWSSupportAccess.",
    ACCOUNT,
    Input("SupportRoleName", "Name of the support role.", setting="SupportRoleName", default="cis-aws-support"),
)
SETUP_KEYS = _own(
    "DeactivateUnusedSetupKeys",
    "deactivate_unused_setup_keys",
    "Deactivates never-used access keys of users with a console password.",
    USER,
)
MULTI_REGION_TRAIL = _own(
    "CreateMultiRegionTrail",
    "create_multi_region_trail",
    "Creates a multi-region trail (all management events, validation) to a private bucket.",
    ACCOUNT,
    Input("TrailName", "Name of the trail to create.", default="cis-multi-region-trail"),
    Input("BucketName", "Bucket of the trail (empty: cis-cloudtrail-<account>-<region>).", setting="TrailBucket"),
)
BLOCK_PUBLIC = _own(
    "BlockTrailBucketPublicAccess",
    "block_trail_bucket_public_access",
    "Turns on S3 Block Public Access for a CloudTrail log bucket.",
    TRAIL_BUCKET,
)
TRAIL_LOGS = _own(
    "EnableTrailCloudWatchLogs",
    "enable_trail_cloudwatch_logs",
    "Delivers the trail to a CloudWatch Logs log group, created with its role if absent.",
    Input("TrailName", "Name or ARN of the trail.", resource_id=True),
    Input("LogGroupName", "Log group (empty: cis-cloudtrail/<trail>)."),
)
CONFIG_ALL_REGIONS = _own(
    "EnableConfigAllRegions",
    "enable_config_all_regions",
    "Creates or starts a recorder of every resource type in each region.",
    ACCOUNT,
    Input(
        "DeliveryBucket", "Bucket of new delivery channels (empty: the account's existing one).", setting="ConfigBucket"
    ),
    Input("ExcludedRegions", "Comma-separated regions to leave alone."),
)
BUCKET_LOGGING = _own(
    "EnableTrailBucketLogging",
    "enable_trail_bucket_logging",
    "Enables server access logging of a CloudTrail log bucket to the target bucket given.",
    TRAIL_BUCKET,
    Input("TargetBucket", "Bucket that receives the access logs.", setting="AccessLogsBucket"),
    Input("TargetPrefix", "Key prefix of the access logs (empty: <bucket>/)."),
)
FLOW_LOGS = _own(
    "EnableVpcRejectFlowLogs",
    "enable_vpc_reject_flow_logs",
    "Enables flow logs of rejected traffic for the VPC to a log group, created with its role if absent.",
    Input("VpcId", "The VPC.", resource_id=True),
    Input("LogGroupName", "Log group of the flow logs.", default="cis-vpc-flow-logs"),
)
METRIC_FILTER_ALARM = _own(
    "CreateMetricFilterAlarm",
    "create_metric_filter_alarm",
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
    "Revokes ingress from 0.0.0.0/0 and ::/0 to the port given.",
    Input("GroupId", "The security group.", resource_id=True),
    Input("Port", "The port: 22 (CIS 4.1) or 3389 (CIS 4.2)."),
)

LOG_VALIDATION = _aws(
    "AWSConfigRemediation-EnableCloudTrailLogFileValidation",
    "automation-aws-enable-ctrail-log-validation.html",
    "Enables log file validation for the trail.",
    ("cloudtrail:DescribeTrails", "cloudtrail:UpdateTrail"),
    Input("TrailName", "Name or ARN of the trail.", resource_id=True),
)
TRAIL_KMS = _aws(
    "AWSConfigRemediation-EnableCloudTrailEncryptionWithKMS",
    "automation-aws-ctrail-kms.html",
    "Encrypts the trail with the KMS key given.",
    ("cloudtrail:GetTrail", "cloudtrail:UpdateTrail"),
    Input("TrailName", "ARN or name of the trail.", resource_id=True),
    Input("KMSKeyId", "ARN, key ID or alias of the customer managed key.", setting="TrailKmsKey"),
)
KEY_ROTATION = _aws(
    "AWSConfigRemediation-EnableKeyRotation",
    "automation-aws-enable-key-rotation.html",
    "Enables automatic rotation of the key.",
    ("kms:EnableKeyRotation", "kms:GetKeyRotationStatus"),
    Input("KeyId", "ID of the customer managed key.", resource_id=True),
)
DEFAULT_GROUP = _aws(
    "AWSConfigRemediation-RemoveVPCDefaultSecurityGroupRules",
    "automation-aws-remove-default-secg-rules.html",
    "Removes every rule of the VPC's default security group.",
    ("ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"),
    Input("GroupId", "ID of the default security group.", resource_id=True),
)

#: AWS-managed runbooks checked for a row and not used, and why (the runbook reference).
REJECTED: Final[Mapping[str, str]] = {
    "1.3": "AWSConfigRemediation-RevokeUnusedIAMUserCredentials needs iam:DeleteAccessKey; the row deactivates keys.",
    "1.5-1.11": "AWSConfigRemediation-SetIAMPasswordPolicy sets the values given and does not keep stricter ones.",
    "1.16": "AWSConfigRemediation-RemoveUserPolicies deletes inline policies without recording their documents.",
    "2.1": "AWSConfigRemediation-CreateCloudTrailMultiRegionTrail turns on no log validation, makes no bucket.",
    "2.4": "AWS-EnableCloudTrailCloudWatchLogs needs an existing log group and role.",
    "2.6": "AWS-ConfigureS3BucketLogging requires an ACL grantee (GrantedPermission, GranteeType); buckets with ACLs "
    "disabled, S3's default, refuse ACL grants.",
    "4.1": "AWS-DisableIncomingSSHOnPort22 revokes only 0.0.0.0/0 to exactly port 22 (not ::/0, not wider ranges).",
}


def _metric(rule: str, control: str) -> Remediation:
    return Remediation(
        rule,
        (control,),
        AUTOMATIC_ALLOWED,
        METRIC_FILTER_ALARM,
        "creates the CIS metric filter on the trail's log group and an alarm on its metric, notifying the SNS topic "
        "given as a parameter",
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
        "deactivates access keys and removes console passwords unused for 90 days",
        "reactivate a key (aws iam update-access-key --status Active); give a console password back "
        "(aws iam create-login-profile)",
    ),
    Remediation(
        "ACCESS_KEYS_ROTATED",
        ("1.4",),
        MANUAL,
        DEACTIVATE_OLD,
        "deactivates access keys older than 90 days",
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
        REMOVE_POLICIES,
        "detaches managed and removes inline policies from the user, recording them",
        "aws iam attach-user-policy / put-user-policy with the ARNs and documents of the Record",
    ),
    Remediation(
        "IAM_POLICY_IN_USE",
        ("1.20",),
        AUTOMATIC_ALLOWED,
        SUPPORT_ROLE,
        "creates a support role (name as a parameter) with AWSSupportAccess, trusted by the account",
        "detach AWSSupportAccess from the role and delete it",
    ),
    Remediation(
        "IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS",
        ("1.21",),
        MANUAL,
        SETUP_KEYS,
        "deactivates the user's never-used access keys",
        "aws iam update-access-key --status Active",
    ),
    Remediation(
        "MULTI_REGION_CLOUD_TRAIL_ENABLED",
        ("2.1",),
        MANUAL,
        MULTI_REGION_TRAIL,
        "creates a multi-region trail (all management events, log validation) to a private bucket",
        "aws cloudtrail delete-trail (the bucket and its logs stay)",
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
        "creates or starts a recorder of all resource types in each failing region, delivering to the given bucket",
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
        "enables REJECT flow logs for the VPC to a log group (created with its role if absent)",
        "aws ec2 delete-flow-logs --flow-log-ids <FlowLogId of the Record> (the log group and its logs stay)",
    ),
    *(_metric(rule, control) for rule, control in METRIC_RULES.items()),
    Remediation(
        "INCOMING_SSH_DISABLED",
        ("4.1",),
        MANUAL,
        OPEN_INGRESS,
        "revokes ingress rules open to 0.0.0.0/0 or ::/0 on port 22",
        "aws ec2 authorize-security-group-ingress with the rule of the Record",
        {"Port": "22"},
    ),
    Remediation(
        "RESTRICTED_INCOMING_TRAFFIC",
        ("4.2",),
        MANUAL,
        OPEN_INGRESS,
        "revokes ingress rules open to 0.0.0.0/0 or ::/0 on port 3389",
        "aws ec2 authorize-security-group-ingress with the rule of the Record",
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
    """The pack's own runbooks, each once, in table order."""
    seen: dict[str, Runbook] = {}
    for remediation in REMEDIATIONS:
        if remediation.runbook.is_own:
            seen.setdefault(remediation.runbook.document, remediation.runbook)
    return list(seen.values())


def all_actions() -> list[str]:
    """Every action a runbook of any row needs: what the remediation role grants, exactly."""
    return sorted({action for remediation in REMEDIATIONS for action in remediation.runbook.actions})
