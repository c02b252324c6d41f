"""The pack's public interface: each CIS v1.2.0 control's rule name, kind, resource type and
parameters, as the project's contract (CONTROLS.md of the pack's specification) states them.

Users type these names into conformance packs, dashboards and runbooks, and outside test suites
call them, so they are pinned here, in the repository, and the tests hold ``rules/`` and the
conformance pack to them (``tests/test_rule_folders.py``, ``tests/test_conformance_pack.py``).

One documented addition: CIS 4.2 concerns port 3389 alone, and the managed rule
RESTRICTED_INCOMING_TRAFFIC defaults ``blockedPort1``-``blockedPort5`` to 20, 21, 3389, 3306 and
4333, so the contract's ``blockedPort1 3389`` alone would also fail security groups open on
ports 21, 3306 and 4333. The pack sets all five to 3389 (the benchmark wins over the contract):
:data:`PARAMETER_ADDITIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

CUSTOM: Final = "custom"
MANAGED: Final = "managed"


@dataclass(frozen=True)
class Entry:
    """One rule of the interface."""

    name: str
    kind: str
    controls: tuple[str, ...]
    resource_type: str | None = None
    """What a custom rule reports on (managed rules: AWS's own)."""
    parameter_names: tuple[str, ...] = ()
    """A custom rule's optional parameters."""
    input_parameters: Mapping[str, str] = field(default_factory=dict)
    """A managed rule's input parameters, as the contract states them."""


# Every monitoring rule takes it; the conformance pack feeds all of them from one parameter.
TOPICS: Final = ("trustedTopicAccounts",)

CONTRACT: Final[tuple[Entry, ...]] = (
    Entry("IAM_ROOT_ACCOUNT_UNUSED", CUSTOM, ("1.1",), "AWS::::Account", parameter_names=("rootUseLookbackDays",)),
    Entry("IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS", CUSTOM, ("1.21",), "AWS::IAM::User", parameter_names=()),
    Entry("CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC", CUSTOM, ("2.3",), "AWS::S3::Bucket", parameter_names=()),
    Entry("CONFIG_ENABLED_ALL_REGIONS", CUSTOM, ("2.5",), "AWS::::Account", parameter_names=("excludedRegions",)),
    Entry("CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING", CUSTOM, ("2.6",), "AWS::S3::Bucket", parameter_names=()),
    Entry(
        "VPC_PEERING_ROUTES_LEAST_ACCESS",
        CUSTOM,
        ("4.4",),
        "AWS::EC2::RouteTable",
        parameter_names=("minPeeringPrefixLength",),
    ),
    Entry("METRIC_FILTER_ALARM_UNAUTHORIZED_API_CALLS", CUSTOM, ("3.1",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_CONSOLE_SIGNIN_WITHOUT_MFA", CUSTOM, ("3.2",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_ROOT_ACCOUNT_USAGE", CUSTOM, ("3.3",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_IAM_POLICY_CHANGES", CUSTOM, ("3.4",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_CLOUDTRAIL_CONFIG_CHANGES", CUSTOM, ("3.5",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_CONSOLE_AUTH_FAILURES", CUSTOM, ("3.6",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_CMK_DISABLE_OR_DELETION", CUSTOM, ("3.7",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_S3_BUCKET_POLICY_CHANGES", CUSTOM, ("3.8",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_CONFIG_CHANGES", CUSTOM, ("3.9",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_SECURITY_GROUP_CHANGES", CUSTOM, ("3.10",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_NACL_CHANGES", CUSTOM, ("3.11",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_NETWORK_GATEWAY_CHANGES", CUSTOM, ("3.12",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_ROUTE_TABLE_CHANGES", CUSTOM, ("3.13",), "AWS::::Account", parameter_names=TOPICS),
    Entry("METRIC_FILTER_ALARM_VPC_CHANGES", CUSTOM, ("3.14",), "AWS::::Account", parameter_names=TOPICS),
    Entry("MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS", MANAGED, ("1.2",), input_parameters={}),
    Entry("IAM_USER_UNUSED_CREDENTIALS_CHECK", MANAGED, ("1.3",), input_parameters={"maxCredentialUsageAge": "90"}),
    Entry("ACCESS_KEYS_ROTATED", MANAGED, ("1.4",), input_parameters={"maxAccessKeyAge": "90"}),
    Entry(
        "IAM_PASSWORD_POLICY",
        MANAGED,
        ("1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11"),
        input_parameters={
            "RequireUppercaseCharacters": "true",
            "RequireLowercaseCharacters": "true",
            "RequireSymbols": "true",
            "RequireNumbers": "true",
            "MinimumPasswordLength": "14",
            "PasswordReusePrevention": "24",
            "MaxPasswordAge": "90",
        },
    ),
    Entry("IAM_ROOT_ACCESS_KEY_CHECK", MANAGED, ("1.12",), input_parameters={}),
    Entry("ROOT_ACCOUNT_MFA_ENABLED", MANAGED, ("1.13",), input_parameters={}),
    Entry("ROOT_ACCOUNT_HARDWARE_MFA_ENABLED", MANAGED, ("1.14",), input_parameters={}),
    Entry("IAM_USER_NO_POLICIES_CHECK", MANAGED, ("1.16",), input_parameters={}),
    Entry("SECURITY_ACCOUNT_INFORMATION_PROVIDED", MANAGED, ("1.18",), input_parameters={}),
    Entry("EC2_INSTANCE_PROFILE_ATTACHED", MANAGED, ("1.19",), input_parameters={}),
    Entry(
        "IAM_POLICY_IN_USE",
        MANAGED,
        ("1.20",),
        input_parameters={"policyARN": "arn:aws:iam::aws:policy/AWSSupportAccess", "policyUsageType": "ANY"},
    ),
    Entry("IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS", MANAGED, ("1.22",), input_parameters={}),
    Entry(
        "MULTI_REGION_CLOUD_TRAIL_ENABLED",
        MANAGED,
        ("2.1",),
        input_parameters={"readWriteType": "ALL", "includeManagementEvents": "true"},
    ),
    Entry("CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED", MANAGED, ("2.2",), input_parameters={}),
    Entry("CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED", MANAGED, ("2.4",), input_parameters={}),
    Entry("CLOUD_TRAIL_ENCRYPTION_ENABLED", MANAGED, ("2.7",), input_parameters={}),
    Entry("CMK_BACKING_KEY_ROTATION_ENABLED", MANAGED, ("2.8",), input_parameters={}),
    Entry("VPC_FLOW_LOGS_ENABLED", MANAGED, ("2.9",), input_parameters={"trafficType": "REJECT"}),
    Entry("INCOMING_SSH_DISABLED", MANAGED, ("4.1",), input_parameters={}),
    Entry("RESTRICTED_INCOMING_TRAFFIC", MANAGED, ("4.2",), input_parameters={"blockedPort1": "3389"}),
    Entry("VPC_DEFAULT_SECURITY_GROUP_CLOSED", MANAGED, ("4.3",), input_parameters={}),
)

PROCESS_CHECK_CONTROLS: Final = frozenset({"1.15", "1.17"})

#: The optional parameter every custom rule takes besides its own (CONTROLS.md, "When a rule
#: cannot judge"); the conformance pack feeds it from one pack parameter.
COMMON_PARAMETER_NAMES: Final = ("staleAfterHours",)

# Input parameters the pack adds to those the contract names, by managed rule.
PARAMETER_ADDITIONS: Final[dict[str, dict[str, str]]] = {
    "RESTRICTED_INCOMING_TRAFFIC": {f"blockedPort{n}": "3389" for n in range(2, 6)},
}

BY_NAME: Final = {entry.name: entry for entry in CONTRACT}


def deployed_parameters(entry: Entry) -> dict[str, str]:
    """The input parameters the pack deploys for a managed rule: the contract's plus additions."""
    return {**entry.input_parameters, **PARAMETER_ADDITIONS.get(entry.name, {})}


# CONTROLS.md, "Later CIS versions": the two custom rules that later versions need and v1.2.0 does
# not. Their recommendations are ``cis-<version>:<id>`` (cispack/catalog/benchmarks/).
LATER_CONTRACT: Final[tuple[Entry, ...]] = (
    Entry(
        "IAM_USER_ONE_ACTIVE_ACCESS_KEY",
        CUSTOM,
        ("cis-1.4.0:1.13", "cis-3.0.0:1.13", "cis-5.0.0:1.12", "cis-6.0.0:2.12"),
        "AWS::IAM::User",
        parameter_names=(),
    ),
    Entry(
        "METRIC_FILTER_ALARM_ORGANIZATIONS_CHANGES",
        CUSTOM,
        ("cis-1.4.0:4.15", "cis-3.0.0:4.15", "cis-5.0.0:4.15", "cis-6.0.0:5.15"),
        "AWS::::Account",
        parameter_names=TOPICS,
    ),
)
