"""CIS 2.5: a configuration recorder of every resource type, recording, in each region.

Region by region (the regions enabled for the account, in its partition, minus
``ExcludedRegions``, which the pack fills with the rule's ``excludedRegions``): no recorder -> one
is created (``default``, every supported resource type) and started; a recorder of some types
only -> it records every type (its role and name kept); a stopped recorder -> it is started. A
region without a delivery channel gets one to ``DeliveryBucket`` (only a bucket this account
owns: listed by it and answering to ``ExpectedBucketOwner``), or, when that is empty, to the
bucket of this account's delivery channel in another region (where this account already
delivers). A new recorder uses the role of this account's existing recorder, or AWS Config's
service-linked role (created when absent). One recorder records global (IAM) resource types: the
one in the region the runbook runs in, unless another already does. A region whose last delivery
failed needs a person (its bucket or role is wrong): the run reports it and fails after fixing
the rest. Nothing is deleted, no recording is narrowed.
"""

from __future__ import annotations

from typing import Any

from runbook_base import (
    THIS_ACCOUNTS_BUCKETS,
    Changes,
    ClientError,
    RemediationError,
    account_and_partition,
    client,
    error_code,
    owned_bucket,
)

ACTIONS = (
    "ec2:DescribeRegions",
    "config:DescribeConfigurationRecorders",
    "config:DescribeConfigurationRecorderStatus",
    "config:DescribeDeliveryChannels",
    "config:PutConfigurationRecorder",
    "config:PutDeliveryChannel",
    "config:StartConfigurationRecorder",
    "iam:GetRole",
    "iam:CreateServiceLinkedRole",
    "iam:PassRole",
    "s3:ListAllMyBuckets",
    "s3:ListBucket",
)
CONFIG_ROLE = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
)
SCOPE = {
    "iam:GetRole": (CONFIG_ROLE,),
    "iam:CreateServiceLinkedRole": (CONFIG_ROLE,),
    # A recorder keeps its own role (any of this account's): re-writing the recorder passes it.
    "iam:PassRole": ("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*",),
    "s3:ListBucket": ("arn:${AWS::Partition}:s3:::*",),
}
CONDITIONS = {
    "s3:ListBucket": THIS_ACCOUNTS_BUCKETS,
    "iam:CreateServiceLinkedRole": {"StringEquals": {"iam:AWSServiceName": "config.amazonaws.com"}},
    "iam:PassRole": {"StringEquals": {"iam:PassedToService": "config.amazonaws.com"}},
}
PARTITION_PREFIXES = {"aws": ("cn-", "us-gov-", "us-iso"), "aws-cn": (), "aws-us-gov": ()}


def _regions(partition: str, excluded: set[str]) -> list[str]:
    names = sorted(str(r["RegionName"]) for r in client("ec2").describe_regions()["Regions"])
    if partition == "aws":
        names = [n for n in names if not n.startswith(PARTITION_PREFIXES["aws"])]
    else:
        prefix = "cn-" if partition == "aws-cn" else "us-gov-"
        names = [n for n in names if n.startswith(prefix)]
    return [n for n in names if n not in excluded]


def _own_recorders(config: Any) -> list[dict[str, Any]]:
    recorders = config.describe_configuration_recorders().get("ConfigurationRecorders", [])
    # A service-linked recorder records only for the AWS service that created it.
    return [dict(r) for r in recorders if not r.get("servicePrincipal")]


def _records_all(recorder: dict[str, Any]) -> bool:
    group = recorder.get("recordingGroup") or {}
    return bool(group.get("allSupported")) and not (group.get("exclusionByResourceTypes") or {}).get("resourceTypes")


def _service_linked_role(changes: Changes, partition: str, account: str) -> str:
    iam = client("iam")
    try:
        return str(iam.get_role(RoleName="AWSServiceRoleForConfig")["Role"]["Arn"])
    except ClientError as err:
        if error_code(err) != "NoSuchEntity":
            raise
    iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")
    changes.change("created AWS Config's service-linked role", "iam role AWSServiceRoleForConfig")
    return f"arn:{partition}:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"


def enable_config(account_id: str, delivery_bucket: str, excluded: set[str]) -> Changes:
    changes = Changes("CisPack-EnableConfigAllRegions")
    account, partition = account_and_partition()
    if account_id and account_id != account:
        raise RemediationError(f"This runbook runs in account {account}, not in account {account_id} it was given.")
    home = str(client("ec2").meta.region_name)
    if delivery_bucket:
        owned_bucket(client("s3"), delivery_bucket, account, "DeliveryBucket")
    regions = _regions(partition, excluded)
    state = {region: _own_recorders(client("config", region)) for region in regions}
    channels = {
        region: client("config", region).describe_delivery_channels().get("DeliveryChannels", []) for region in regions
    }
    roles = [str(r["roleARN"]) for region in [home, *regions] for r in state.get(region, []) if r.get("roleARN")]
    buckets = [str(c["s3BucketName"]) for region in [home, *regions] for c in channels.get(region, [])]
    records_global = any(
        (r.get("recordingGroup") or {}).get("includeGlobalResourceTypes") for rs in state.values() for r in rs
    )
    needs_person: list[str] = []
    role: str | None = roles[0] if roles else None
    for region in regions:
        config = client("config", region)
        recorders = state[region]
        statuses = {
            s.get("name"): s
            for s in config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
        }
        if not recorders:
            role = role or _service_linked_role(changes, partition, account)
            group: dict[str, Any] = {
                "allSupported": True,
                "includeGlobalResourceTypes": not records_global and region == home,
            }
            recorder: dict[str, Any] = {"name": "default", "roleARN": role, "recordingGroup": group}
            config.put_configuration_recorder(ConfigurationRecorder=recorder)
            records_global = records_global or group["includeGlobalResourceTypes"]
            changes.change(f"created a recorder of every resource type in {region}", f"config {region}", after=recorder)
            recorders = [recorder]
        recorder = recorders[0]
        if not _records_all(recorder):
            group = {
                "allSupported": True,
                "includeGlobalResourceTypes": bool(
                    (recorder.get("recordingGroup") or {}).get("includeGlobalResourceTypes")
                ),
            }
            updated = {"name": recorder["name"], "roleARN": recorder["roleARN"], "recordingGroup": group}
            config.put_configuration_recorder(ConfigurationRecorder=updated)
            changes.change(
                f"recorder {recorder['name']} in {region} now records every resource type",
                f"config {region}",
                before=recorder.get("recordingGroup"),
                after=group,
            )
        status = statuses.get(recorder["name"], {})
        if status.get("recording"):
            if str(status.get("lastStatus", "")).upper() == "FAILURE":
                needs_person.append(region)
            else:
                changes.keep(f"recorder {recorder['name']} in {region} records every resource type")
            continue
        if not channels[region]:
            bucket = delivery_bucket or (buckets[0] if buckets else "")
            if not bucket:
                raise RemediationError(
                    f"Region {region} has no delivery channel and no DeliveryBucket was given: set the pack "
                    "parameter ConfigBucket."
                )
            config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
            channels[region] = [{"name": "default", "s3BucketName": bucket}]
            changes.change(f"created a delivery channel to bucket {bucket} in {region}", f"config {region}")
        config.start_configuration_recorder(ConfigurationRecorderName=recorder["name"])
        changes.change(f"started recorder {recorder['name']} in {region}", f"config {region}", before=False, after=True)
    if excluded:
        changes.keep(f"regions {', '.join(sorted(excluded))} are excluded (the rule's excludedRegions)")
    if not records_global and home in state:
        config = client("config", home)
        recorder = _own_recorders(config)[0]
        group = {**(recorder.get("recordingGroup") or {}), "includeGlobalResourceTypes": True}
        config.put_configuration_recorder(ConfigurationRecorder={**recorder, "recordingGroup": group})
        changes.change(f"recorder {recorder['name']} in {home} now records global resource types", f"config {home}")
    if needs_person:
        raise RemediationError(
            f"The recorder's last delivery failed in {', '.join(needs_person)}: check its delivery channel's bucket "
            f"and role there ({len(changes.changed)} other changes were made)."
        )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    excluded = {r.strip() for r in str(events.get("ExcludedRegions") or "").split(",") if r.strip()}
    account = str(events.get("AccountId") or "")
    return enable_config(account, str(events.get("DeliveryBucket") or ""), excluded).result(account or "account")
