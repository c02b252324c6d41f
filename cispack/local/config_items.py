"""Configuration items as AWS Config records them, built from the resources they describe on a
local AWS (moto): what a change-triggered rule receives (``ConfigurationItemChangeNotification``)
and what ``GetResourceConfigHistory`` answers for an oversized one. moto records neither for
route tables, and its S3 items are not in AWS Config's shape, so the tests and the demo build them
here, by reading each resource through the same APIs a user would, and feed them to the rules.

Shapes (AWS Config developer guide, "Example configuration items", and the change notifications a
rule's Lambda receives):

* Every item: ``configurationItemVersion`` 1.3, ``configurationItemCaptureTime`` (ISO 8601, UTC),
  ``configurationStateId`` (the capture time in milliseconds), ``awsAccountId``,
  ``configurationItemStatus`` (``OK``, ``ResourceDiscovered``, ``ResourceDeleted``...),
  ``resourceType``, ``resourceId``, ``resourceName``, ``ARN``, ``awsRegion``,
  ``availabilityZone``, ``resourceCreationTime``, ``tags`` (a key-value object),
  ``relationships``, ``relatedEvents``, ``configuration`` and ``supplementaryConfiguration``.
* ``AWS::S3::Bucket``: ``configuration`` is ``{name, owner {displayName, id}, creationDate}``;
  ``supplementaryConfiguration`` holds ``AccessControlList`` as a JSON *string* (``grantSet``
  null, ``grantList`` of ``{grantee, permission}``: a group as ``"AllUsers"``,
  ``"AuthenticatedUsers"`` or ``"LogDelivery"``, an account as ``{"id", "displayName"}``,
  permissions ``FullControl``, ``Read``, ``Write``, ``ReadAcp``, ``WriteAcp``), and as objects
  ``BucketAccelerateConfiguration``, ``BucketLoggingConfiguration`` (``destinationBucketName`` and
  ``logFilePrefix``, null when logging is off), ``BucketNotificationConfiguration``,
  ``BucketPolicy`` (``policyText``, null without a policy), ``BucketVersioningConfiguration``,
  ``IsRequesterPaysEnabled`` and, only when the bucket has one, ``PublicAccessBlockConfiguration``
  (camelCase booleans). Account-level Block Public Access is not in any bucket's item.
* ``AWS::EC2::RouteTable``: ``configuration`` is the ``DescribeRouteTables`` item in camelCase,
  with every route target field present (null when unused); the VPC is a relationship.
* A deleted resource: status ``ResourceDeleted``, ``configuration`` null, no supplementary
  configuration.
* ``GetResourceConfigHistory`` (:func:`history_item`): ``configuration`` and each supplementary
  value serialised as JSON text (``AccessControlList`` is already text), times as timestamps,
  ``accountId`` and ``arn`` where the notification says ``awsAccountId`` and ``ARN``.

Only what a faithful conversion allows is built: a bucket with event notifications raises
:class:`ValueError` rather than be given a guessed ``BucketNotificationConfiguration``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

S3_BUCKET = "AWS::S3::Bucket"
ROUTE_TABLE = "AWS::EC2::RouteTable"
ITEM_VERSION = "1.3"

#: GetBucketAcl's permissions as AWS Config writes them.
PERMISSIONS = {
    "FULL_CONTROL": "FullControl",
    "READ": "Read",
    "WRITE": "Write",
    "READ_ACP": "ReadAcp",
    "WRITE_ACP": "WriteAcp",
}
GROUP_PREFIXES = ("http://acs.amazonaws.com/groups/global/", "http://acs.amazonaws.com/groups/s3/")

#: The route fields AWS Config writes for every route of a route table, null when unused.
ROUTE_FIELDS = (
    "destinationCidrBlock",
    "destinationIpv6CidrBlock",
    "destinationPrefixListId",
    "egressOnlyInternetGatewayId",
    "gatewayId",
    "instanceId",
    "instanceOwnerId",
    "natGatewayId",
    "transitGatewayId",
    "localGatewayId",
    "carrierGatewayId",
    "networkInterfaceId",
    "origin",
    "state",
    "vpcPeeringConnectionId",
    "coreNetworkArn",
)


def _time(value: datetime) -> str:
    """AWS Config's time format: UTC, milliseconds, ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.astimezone(UTC).microsecond // 1000:03d}Z"


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _envelope(
    resource_type: str,
    resource_id: str,
    *,
    account_id: str,
    region: str,
    arn: str,
    zone: str,
    created: datetime | None,
    captured: datetime,
    status: str = "OK",
) -> dict[str, Any]:
    return {
        "relatedEvents": [],
        "relationships": [],
        "configuration": None,
        "supplementaryConfiguration": {},
        "tags": {},
        "configurationItemVersion": ITEM_VERSION,
        "configurationItemCaptureTime": _time(captured),
        "configurationStateId": int(captured.timestamp() * 1000),
        "awsAccountId": account_id,
        "configurationItemStatus": status,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": resource_id,
        "ARN": arn,
        "awsRegion": region,
        "availabilityZone": zone,
        "configurationStateMd5Hash": "",
        "resourceCreationTime": _time(created) if created else None,
    }


# --- AWS::S3::Bucket -------------------------------------------------------------------------


def _grantee(grantee: Mapping[str, Any]) -> Any:
    if grantee.get("Type") == "Group":
        uri = str(grantee.get("URI", ""))
        for prefix in GROUP_PREFIXES:
            if uri.startswith(prefix):
                return uri.removeprefix(prefix)
        raise ValueError(f"unknown group grantee {uri}")
    if grantee.get("Type") == "CanonicalUser":
        return {"id": grantee.get("ID"), "displayName": grantee.get("DisplayName")}
    raise ValueError(f"grantee type {grantee.get('Type')} is not converted")


def access_control_list(acl: Mapping[str, Any]) -> str:
    """A ``GetBucketAcl`` answer as AWS Config writes it into the item: JSON text."""
    owner = acl.get("Owner") or {}
    document = {
        "grantSet": None,
        "grantList": [
            {"grantee": _grantee(grant.get("Grantee") or {}), "permission": PERMISSIONS[grant["Permission"]]}
            for grant in acl.get("Grants", [])
        ],
        "owner": {"displayName": owner.get("DisplayName"), "id": owner.get("ID")},
        "isRequesterCharged": False,
    }
    return json.dumps(document, separators=(",", ":"))


def _optional(call: Any, missing: str, **kwargs: Any) -> dict[str, Any] | None:
    try:
        answer: dict[str, Any] = call(**kwargs)
    except ClientError as err:
        if _code(err) == missing:
            return None
        raise
    return answer


def bucket_item(name: str, *, account_id: str, captured: datetime | None = None, session: Any = None) -> dict[str, Any]:
    """The configuration item of bucket ``name`` as AWS Config records it now (status ``OK``)."""
    session = session or boto3._get_default_session()
    captured = captured or datetime.now(UTC)
    listing = session.client("s3").list_buckets()
    entry = next((b for b in listing.get("Buckets", []) if b["Name"] == name), None)
    if entry is None:
        raise LookupError(f"this account owns no bucket {name}")
    location = session.client("s3").get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
    region = "eu-west-1" if location == "EU" else str(location)
    s3 = session.client("s3", region_name=region)
    owner = listing.get("Owner") or {}
    item = _envelope(
        S3_BUCKET,
        name,
        account_id=account_id,
        region=region,
        arn=f"arn:aws:s3:::{name}",
        zone="Regional",
        created=entry.get("CreationDate"),
        captured=captured,
    )
    created = entry.get("CreationDate")
    item["configuration"] = {
        "name": name,
        "owner": {"displayName": owner.get("DisplayName"), "id": owner.get("ID")},
        "creationDate": _time(created) if created else None,
    }
    tagging = _optional(s3.get_bucket_tagging, "NoSuchTagSet", Bucket=name) or {}
    item["tags"] = {tag["Key"]: tag["Value"] for tag in tagging.get("TagSet", [])}
    logging = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled") or {}
    policy = _optional(s3.get_bucket_policy, "NoSuchBucketPolicy", Bucket=name)
    versioning = s3.get_bucket_versioning(Bucket=name)
    notifications = s3.get_bucket_notification_configuration(Bucket=name)
    notifications.pop("ResponseMetadata", None)
    if any(notifications.get(key) for key in notifications):
        raise ValueError(f"bucket {name} has event notifications, which this builder does not convert")
    supplementary: dict[str, Any] = {
        "AccessControlList": access_control_list(s3.get_bucket_acl(Bucket=name)),
        "BucketAccelerateConfiguration": {"status": s3.get_bucket_accelerate_configuration(Bucket=name).get("Status")},
        "BucketLoggingConfiguration": {
            "destinationBucketName": logging.get("TargetBucket"),
            "logFilePrefix": logging.get("TargetPrefix"),
        },
        "BucketNotificationConfiguration": {"configurations": {}},
        "BucketPolicy": {"policyText": policy["Policy"] if policy else None},
        "BucketVersioningConfiguration": {
            "status": versioning.get("Status") or "Off",
            "isMfaDeleteEnabled": {"Enabled": True, "Disabled": False}.get(str(versioning.get("MFADelete"))),
        },
        "IsRequesterPaysEnabled": s3.get_bucket_request_payment(Bucket=name).get("Payer") == "Requester",
    }
    block = _optional(s3.get_public_access_block, "NoSuchPublicAccessBlockConfiguration", Bucket=name)
    if block is not None:
        settings = block["PublicAccessBlockConfiguration"]
        supplementary["PublicAccessBlockConfiguration"] = {
            key[:1].lower() + key[1:]: bool(settings.get(key))
            for key in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        }
    item["supplementaryConfiguration"] = supplementary
    return item


# --- AWS::EC2::RouteTable --------------------------------------------------------------------


def _camel(value: Any) -> Any:
    """An EC2 answer in AWS Config's camelCase (``RouteTableId`` -> ``routeTableId``)."""
    if isinstance(value, Mapping):
        return {str(k)[:1].lower() + str(k)[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def route_table_item(
    table_id: str, *, account_id: str, region: str | None = None, captured: datetime | None = None, session: Any = None
) -> dict[str, Any]:
    """The configuration item of route table ``table_id`` as AWS Config records it now."""
    session = session or boto3._get_default_session()
    captured = captured or datetime.now(UTC)
    ec2 = session.client("ec2", region_name=region) if region else session.client("ec2")
    region = str(ec2.meta.region_name)
    [table] = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
    owner = str(table.get("OwnerId") or account_id)
    item = _envelope(
        ROUTE_TABLE,
        table_id,
        account_id=account_id,
        region=region,
        arn=f"arn:aws:ec2:{region}:{owner}:route-table/{table_id}",
        zone="Multiple Availability Zones",
        created=None,
        captured=captured,
    )
    configuration = _camel(table)
    configuration["routes"] = [{field: route.get(field) for field in ROUTE_FIELDS} for route in _camel(table["Routes"])]
    configuration.setdefault("associations", [])
    configuration.setdefault("propagatingVgws", [])
    configuration.setdefault("tags", [])
    item["configuration"] = configuration
    item["tags"] = {tag["Key"]: tag["Value"] for tag in table.get("Tags", [])}
    item["relationships"] = [
        {"resourceType": "AWS::EC2::VPC", "resourceId": table["VpcId"], "relationshipName": "Is contained in Vpc"}
    ]
    return item


# --- Deletion and the history API ------------------------------------------------------------


def deleted_item(item: Mapping[str, Any], captured: datetime | None = None) -> dict[str, Any]:
    """The item AWS Config records when the resource of ``item`` is deleted."""
    captured = captured or datetime.now(UTC)
    deleted = dict(item)
    deleted.update(
        configuration=None,
        supplementaryConfiguration={},
        relationships=[],
        tags={},
        configurationItemStatus="ResourceDeleted",
        configurationItemCaptureTime=_time(captured),
        configurationStateId=int(captured.timestamp() * 1000),
        resourceCreationTime=None,
    )
    return deleted


def _timestamp(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None


def history_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """``item`` as ``GetResourceConfigHistory`` answers it (a ``ConfigurationItem`` of the API)."""
    supplementary = item.get("supplementaryConfiguration") or {}
    answer: dict[str, Any] = {
        "version": item["configurationItemVersion"],
        "accountId": item["awsAccountId"],
        "configurationItemCaptureTime": _timestamp(item["configurationItemCaptureTime"]),
        "configurationItemStatus": item["configurationItemStatus"],
        "configurationStateId": str(item["configurationStateId"]),
        "configurationItemMD5Hash": item.get("configurationStateMd5Hash") or "",
        "arn": item["ARN"],
        "resourceType": item["resourceType"],
        "resourceId": item["resourceId"],
        "resourceName": item["resourceName"],
        "awsRegion": item["awsRegion"],
        "availabilityZone": item["availabilityZone"],
        "tags": dict(item.get("tags") or {}),
        "relatedEvents": list(item.get("relatedEvents") or []),
        "relationships": [
            {
                "resourceType": r["resourceType"],
                "resourceId": r["resourceId"],
                "relationshipName": r["relationshipName"],
            }
            for r in item.get("relationships") or []
        ],
        "configuration": json.dumps(item.get("configuration")),
        "supplementaryConfiguration": {
            key: value if isinstance(value, str) else json.dumps(value) for key, value in supplementary.items()
        },
    }
    created = _timestamp(item.get("resourceCreationTime"))
    if created:
        answer["resourceCreationTime"] = created
    return answer
