"""The configuration item builder (cispack/local/config_items.py): items in AWS Config's shape
(FACTS.md, "Configuration items"), read from the moto resources they describe, and their
``GetResourceConfigHistory`` form, which rdklib turns back into the notification's item."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from rdklib.util.service import convert_into_notification_config_item

from cispack.local.config_items import ROUTE_FIELDS, bucket_item, deleted_item, history_item, route_table_item
from cispack.local.events import change_event, oversized_change_event
from cispack.testing.cases import ACCOUNT_ID, REGION

NOW = datetime(2026, 3, 2, 12, 0, 0, 250_000, tzinfo=UTC)


def test_a_bucket_item_holds_its_access_settings_as_aws_config_writes_them(aws):
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="ct-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_acl(Bucket="ct-eu", ACL="public-read")
    s3.put_bucket_policy(Bucket="ct-eu", Policy='{"Version": "2012-10-17", "Statement": []}')
    s3.put_public_access_block(Bucket="ct-eu", PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    s3.put_bucket_tagging(Bucket="ct-eu", Tagging={"TagSet": [{"Key": "team", "Value": "audit"}]})
    item = bucket_item("ct-eu", account_id=ACCOUNT_ID, captured=NOW)
    assert (item["resourceType"], item["resourceId"], item["awsRegion"], item["ARN"]) == (
        "AWS::S3::Bucket",
        "ct-eu",
        "eu-west-1",
        "arn:aws:s3:::ct-eu",
    )
    assert item["configurationItemCaptureTime"] == "2026-03-02T12:00:00.250Z"
    assert item["configurationItemStatus"] == "OK" and item["awsAccountId"] == ACCOUNT_ID
    assert set(item["configuration"]) == {"name", "owner", "creationDate"}
    assert item["tags"] == {"team": "audit"}
    supplementary = item["supplementaryConfiguration"]
    acl = supplementary["AccessControlList"]
    assert isinstance(acl, str), "AWS Config writes the ACL as a JSON string"
    grants = json.loads(acl)["grantList"]
    assert {"grantee": "AllUsers", "permission": "Read"} in grants
    assert any(isinstance(g["grantee"], dict) and g["permission"] == "FullControl" for g in grants)
    assert json.loads(acl)["grantSet"] is None
    assert supplementary["BucketPolicy"] == {"policyText": '{"Version": "2012-10-17", "Statement": []}'}
    assert supplementary["PublicAccessBlockConfiguration"] == {
        "blockPublicAcls": False,
        "ignorePublicAcls": True,
        "blockPublicPolicy": False,
        "restrictPublicBuckets": False,
    }
    assert supplementary["BucketLoggingConfiguration"] == {"destinationBucketName": None, "logFilePrefix": None}


def test_a_bucket_without_settings_has_no_block_public_access_and_a_null_policy(aws):
    boto3.client("s3").create_bucket(Bucket="plain")
    supplementary = bucket_item("plain", account_id=ACCOUNT_ID, captured=NOW)["supplementaryConfiguration"]
    assert "PublicAccessBlockConfiguration" not in supplementary
    assert supplementary["BucketPolicy"] == {"policyText": None}
    assert supplementary["BucketVersioningConfiguration"] == {"status": "Off", "isMfaDeleteEnabled": None}


def test_an_unknown_bucket_is_refused(aws):
    with pytest.raises(LookupError, match="owns no bucket nowhere"):
        bucket_item("nowhere", account_id=ACCOUNT_ID)


def test_a_route_table_item_is_the_described_table_in_camel_case(aws):
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    item = route_table_item(table, account_id=ACCOUNT_ID, captured=NOW)
    configuration = item["configuration"]
    assert (configuration["routeTableId"], configuration["vpcId"], configuration["ownerId"]) == (table, vpc, ACCOUNT_ID)
    for route in configuration["routes"]:
        assert tuple(route) == ROUTE_FIELDS, "every route field, null when unused"
    assert {"destinationCidrBlock": "10.1.0.0/16", "gatewayId": "local"}.items() <= configuration["routes"][0].items()
    assert configuration["routes"][1]["vpcPeeringConnectionId"] is None
    assert item["relationships"] == [
        {"resourceType": "AWS::EC2::VPC", "resourceId": vpc, "relationshipName": "Is contained in Vpc"}
    ]
    assert item["ARN"] == f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:route-table/{table}"


def test_a_deleted_item_keeps_the_identity_and_drops_the_configuration(aws):
    boto3.client("s3").create_bucket(Bucket="gone")
    gone = deleted_item(bucket_item("gone", account_id=ACCOUNT_ID, captured=NOW), NOW)
    assert (gone["resourceId"], gone["configurationItemStatus"]) == ("gone", "ResourceDeleted")
    assert gone["configuration"] is None and gone["supplementaryConfiguration"] == {}


def test_the_history_form_reads_back_into_the_notification_item(aws):
    ec2 = boto3.client("ec2")
    table = ec2.create_route_table(VpcId=ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"])["RouteTable"]
    boto3.client("s3").create_bucket(Bucket="ct-logs")
    for item in (
        route_table_item(table["RouteTableId"], account_id=ACCOUNT_ID, captured=NOW),
        bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW),
    ):
        answer = history_item(item)
        assert isinstance(answer["configuration"], str)
        assert all(isinstance(v, str) for v in answer["supplementaryConfiguration"].values())
        back = convert_into_notification_config_item(answer)
        assert back["configuration"] == item["configuration"]
        for key, value in item["supplementaryConfiguration"].items():
            # The ACL, a JSON string in the notification, comes back as the object it holds.
            assert back["supplementaryConfiguration"][key] == (json.loads(value) if isinstance(value, str) else value)
        assert back["configurationItemCaptureTime"] == NOW.replace(microsecond=250_000)
        assert (back["resourceId"], back["ARN"], back["awsAccountId"]) == (
            item["resourceId"],
            item["ARN"],
            item["awsAccountId"],
        )


def test_change_events_carry_the_item_or_its_summary(aws):
    boto3.client("s3").create_bucket(Bucket="ct-logs")
    item = bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW)
    event = change_event("RULE", item, account=ACCOUNT_ID, region=REGION, now=NOW)
    invoking = json.loads(event["invokingEvent"])
    assert invoking["messageType"] == "ConfigurationItemChangeNotification"
    assert invoking["configurationItem"] == item and event["eventLeftScope"] is False
    oversized = json.loads(oversized_change_event("RULE", item, account=ACCOUNT_ID, region=REGION)["invokingEvent"])
    assert oversized["messageType"] == "OversizedConfigurationItemChangeNotification"
    assert "configurationItem" not in oversized
    assert oversized["configurationItemSummary"]["resourceId"] == "ct-logs"
    assert oversized["configurationItemSummary"]["changeType"] == "UPDATE"
