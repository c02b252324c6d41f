"""The pack's own remediation runbooks against moto, run as their SSM documents' step runs them
(:func:`cispack.remediation.local.run` executes the generated script).

For each runbook: it fixes what its control needs, a second run changes nothing, stricter
settings and everything else stay, bad input stops it with one sentence, and every API call it
makes is an action it declares (the last test: and every action declared is called by some run).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from cispack.catalog import remediations as catalog
from cispack.catalog.rules import import_rule_module
from cispack.remediation.local import CALLS, RunbookStopped, run

ACCOUNT = "123456789012"
REGION = "us-east-1"
LATER = (datetime.now(UTC) + timedelta(days=100)).isoformat()
SOON = (datetime.now(UTC) + timedelta(days=10)).isoformat()


def changed(result: dict[str, Any]) -> list[str]:
    return list(result["Changes"])


def fails_with(runbook: catalog.Runbook, values: dict[str, str], text: str) -> None:
    with pytest.raises(RunbookStopped) as raised:
        run(runbook, values)
    assert type(raised.value.__cause__).__name__ == "RemediationError"
    assert text in str(raised.value)


def user(name: str, *, password: bool = False, keys: int = 1, policies: bool = False) -> str:
    iam = boto3.client("iam")
    user_id = iam.create_user(UserName=name)["User"]["UserId"]
    if password:
        iam.create_login_profile(UserName=name, Password="Xx1!" * 5)
    for _ in range(keys):
        iam.create_access_key(UserName=name)
    if policies:
        arn = iam.create_policy(PolicyName=f"{name}-policy", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(POLICY))
    return str(user_id)


POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}


def key_statuses(name: str) -> list[str]:
    return [k["Status"] for k in boto3.client("iam").list_access_keys(UserName=name)["AccessKeyMetadata"]]


def _moto_key(name: str) -> Any:
    from moto.backends import get_backend

    (key,) = get_backend("iam")[ACCOUNT]["global"].users[name].access_keys
    return key


def mark_key_used(name: str, when: str) -> None:
    """moto records no use of a key; IAM would, as GetAccessKeyLastUsed's LastUsedDate."""
    from moto.iam.models import AccessKeyLastUsed

    _moto_key(name).last_used = AccessKeyLastUsed(datetime.fromisoformat(when), "iam", REGION)


def move_key_creation(name: str, delta: timedelta) -> None:
    key = _moto_key(name)
    key.create_date = key.create_date + delta


# --- CIS 1.3, 1.4, 1.21: credentials ------------------------------------------------------------


def test_unused_credentials_are_deactivated_and_the_password_removed(aws):
    user_id = user("alice", password=True, keys=2)
    result = run(catalog.DEACTIVATE_UNUSED, {"ResourceId": user_id}, {"Now": LATER})
    assert key_statuses("alice") == ["Inactive", "Inactive"]
    assert any("removed the console password of user alice" in c for c in changed(result))
    with pytest.raises(boto3.client("iam").exceptions.NoSuchEntityException):
        boto3.client("iam").get_login_profile(UserName="alice")
    again = run(catalog.DEACTIVATE_UNUSED, {"ResourceId": user_id}, {"Now": LATER})
    assert changed(again) == []
    assert boto3.client("iam").get_user(UserName="alice")["User"]["UserId"] == user_id, "the user is never deleted"


def test_recently_created_credentials_are_kept(aws):
    user_id = user("bob", password=True)
    result = run(catalog.DEACTIVATE_UNUSED, {"ResourceId": user_id}, {"Now": SOON})
    assert changed(result) == [] and key_statuses("bob") == ["Active"]
    assert boto3.client("iam").get_login_profile(UserName="bob")


@pytest.mark.parametrize(("grace", "kept"), [("30", True), ("0", False)], ids=["within the grace", "no grace"])
def test_credentials_set_within_the_grace_period_are_never_touched(aws, grace, kept):
    """Unused for longer than the maximum age, but set more recently than the grace period."""
    user_id = user("bea", password=True)
    values = {"ResourceId": user_id, "MaxCredentialUsageAge": "5", "GraceDays": grace}
    result = run(catalog.DEACTIVATE_UNUSED, values, {"Now": SOON})
    assert (changed(result) == []) is kept
    assert key_statuses("bea") == (["Active"] if kept else ["Inactive"])


def test_a_deleted_user_stops_the_run(aws):
    fails_with(catalog.DEACTIVATE_UNUSED, {"ResourceId": "AIDANOSUCHUSER"}, "No IAM user has the ID AIDANOSUCHUSER")


def test_old_access_keys_are_deactivated_not_deleted(aws):
    user_id = user("carol", keys=2)
    assert changed(run(catalog.DEACTIVATE_OLD, {"ResourceId": user_id}, {"Now": SOON})) == []
    result = run(catalog.DEACTIVATE_OLD, {"ResourceId": user_id}, {"Now": LATER})
    assert len(changed(result)) == 2 and key_statuses("carol") == ["Inactive", "Inactive"]
    assert changed(run(catalog.DEACTIVATE_OLD, {"ResourceId": user_id}, {"Now": LATER})) == []


@pytest.mark.parametrize(
    ("case", "used_days_before", "deactivated"),
    [
        ("used yesterday: in use, reported for rotation", 1, False),
        ("used 29 days ago: within the 30-day grace", 29, False),
        ("used 40 days ago: past the grace", 40, True),
    ],
)
def test_an_old_key_in_use_is_reported_for_rotation_not_deactivated(aws, case, used_days_before, deactivated):
    user_id = user("cory")
    now = datetime.now(UTC) + timedelta(days=200)
    mark_key_used("cory", (now - timedelta(days=used_days_before)).isoformat())
    result = run(catalog.DEACTIVATE_OLD, {"ResourceId": user_id}, {"Now": now.isoformat()})
    assert key_statuses("cory") == (["Inactive"] if deactivated else ["Active"]), case
    if not deactivated:
        assert any("rotate it" in text for text in result["Unchanged"]), case


SETUP_KEY_CASES = [
    ("setup key of a console user, never used, past the grace", True, timedelta(0), False, SOON, True),
    ("setup key created seconds ago: within the grace", True, timedelta(0), False, None, False),
    ("key created 200 days after the user: not a setup key", True, timedelta(days=200), False, None, False),
    ("setup key that was used", True, timedelta(0), True, SOON, False),
    ("user without a console password", False, timedelta(0), False, SOON, False),
]


# Named by the case alone: SOON is a time, which would name the test differently in each process.
@pytest.mark.parametrize(
    ("case", "password", "created_after_user", "used", "now", "deactivated"),
    SETUP_KEY_CASES,
    ids=[case[0] for case in SETUP_KEY_CASES],
)
def test_only_setup_keys_never_used_and_past_the_grace_are_deactivated(
    aws, case, password, created_after_user, used, now, deactivated
):
    user_id = user("dave", password=password)
    if created_after_user:
        move_key_creation("dave", created_after_user)
        now = (datetime.now(UTC) + created_after_user + timedelta(days=30)).isoformat()
    if used:
        mark_key_used("dave", datetime.now(UTC).isoformat())
    result = run(catalog.SETUP_KEYS, {"ResourceId": user_id}, {"Now": now} if now else None)
    assert key_statuses("dave") == (["Inactive"] if deactivated else ["Active"]), case
    assert len(changed(result)) == int(deactivated)
    assert changed(run(catalog.SETUP_KEYS, {"ResourceId": user_id}, {"Now": now} if now else None)) == []


# --- CIS 1.5-1.11: password policy ------------------------------------------------------------------


def policy() -> dict[str, Any]:
    return dict(boto3.client("iam").get_account_password_policy()["PasswordPolicy"])


def test_no_password_policy_gets_the_benchmarks(aws):
    result = run(catalog.PASSWORD_POLICY, {})
    assert changed(result) == ["created the account password policy"]
    current = policy()
    assert current["MinimumPasswordLength"] == 14 and current["PasswordReusePrevention"] == 24
    assert current["MaxPasswordAge"] == 90 and current["AllowUsersToChangePassword"] is True
    assert all(current[k] for k in ("RequireUppercaseCharacters", "RequireLowercaseCharacters", "RequireSymbols"))
    assert current["RequireNumbers"]
    assert changed(run(catalog.PASSWORD_POLICY, {})) == []


def test_stricter_settings_stay_stricter_and_weaker_ones_are_raised(aws):
    boto3.client("iam").update_account_password_policy(
        MinimumPasswordLength=20, MaxPasswordAge=30, RequireSymbols=True, AllowUsersToChangePassword=False
    )
    result = run(catalog.PASSWORD_POLICY, {})
    current = policy()
    assert (current["MinimumPasswordLength"], current["MaxPasswordAge"]) == (20, 30)
    assert current["PasswordReusePrevention"] == 24 and current["RequireNumbers"] is True
    assert current["AllowUsersToChangePassword"] is False
    record = json.loads(result["Record"])
    assert record[0]["before"]["MinimumPasswordLength"] == 20
    assert changed(run(catalog.PASSWORD_POLICY, {})) == []


def test_a_policy_in_another_account_is_refused(aws):
    fails_with(catalog.PASSWORD_POLICY, {"AccountId": "999999999999"}, "not in account 999999999999")


# --- CIS 1.16, 1.20: policies and the support role ----------------------------------------------------


def test_user_policies_move_to_a_group_of_the_user_who_keeps_them(aws):
    user_id = user("frank", keys=0, policies=True)
    result = run(catalog.MOVE_POLICIES, {"ResourceId": user_id})
    iam = boto3.client("iam")
    assert iam.list_attached_user_policies(UserName="frank")["AttachedPolicies"] == []
    assert iam.list_user_policies(UserName="frank")["PolicyNames"] == []
    groups = [g["GroupName"] for g in iam.list_groups_for_user(UserName="frank")["Groups"]]
    assert groups == ["cis-policies-frank"], "the user is in the group made for it"
    attached = iam.list_attached_group_policies(GroupName="cis-policies-frank")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["frank-policy"]
    moved = iam.get_group_policy(GroupName="cis-policies-frank", PolicyName="inline")["PolicyDocument"]
    assert moved == POLICY, "the inline policy keeps its document"
    record = json.loads(result["Record"])
    inline = next(e for e in record if e["before"] and e["before"].get("PolicyName") == "inline")
    assert inline["before"]["PolicyDocument"] == POLICY and inline["after"]["Group"] == "cis-policies-frank"
    assert changed(run(catalog.MOVE_POLICIES, {"ResourceId": user_id})) == []


@pytest.fixture
def managed_policies(monkeypatch):
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


def test_support_role_is_created_once(managed_policies, aws):
    result = run(catalog.SUPPORT_ROLE, {"SupportRoleName": "incident-support"})
    iam = boto3.client("iam")
    attached = iam.list_attached_role_policies(RoleName="incident-support")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSSupportAccess"]
    trust = iam.get_role(RoleName="incident-support")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert len(changed(result)) == 2
    assert changed(run(catalog.SUPPORT_ROLE, {"SupportRoleName": "incident-support"})) == []


def test_a_role_the_pack_did_not_create_is_left_alone(managed_policies, aws):
    boto3.client("iam").create_role(RoleName="theirs", AssumeRolePolicyDocument=json.dumps(POLICY))
    fails_with(catalog.SUPPORT_ROLE, {"SupportRoleName": "theirs"}, "the pack did not create it")
    assert boto3.client("iam").list_attached_role_policies(RoleName="theirs")["AttachedPolicies"] == []


# --- CIS 2.x: trails, buckets, Config, flow logs ----------------------------------------------------


def trail(name: str = "cis-t1", bucket: str = "trail-logs", multi: bool = True) -> None:
    boto3.client("s3").create_bucket(Bucket=bucket)
    cloudtrail = boto3.client("cloudtrail")
    cloudtrail.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi)
    # AWS gives a new trail this selector; moto gives none.
    cloudtrail.put_event_selectors(
        TrailName=name, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    cloudtrail.start_logging(Name=name)


def trail_key() -> str:
    """The key the pack's template creates for CloudTrail (alias/cis-cloudtrail)."""
    kms = boto3.client("kms")
    key = kms.create_key(Description="trails")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/cis-cloudtrail", TargetKeyId=key)
    return str(key)


def test_a_multi_region_trail_is_created_to_a_bucket_that_passes_2_3_2_6_2_7(aws):
    key = trail_key()
    result = run(catalog.MULTI_REGION_TRAIL, {})
    cloudtrail = boto3.client("cloudtrail")
    (created,) = cloudtrail.describe_trails()["trailList"]
    assert created["Name"] == "cis-multi-region-trail" and created["IsMultiRegionTrail"]
    assert created["LogFileValidationEnabled"] and cloudtrail.get_trail_status(Name=created["Name"])["IsLogging"]
    assert created["KmsKeyId"] == key, "CIS 2.7"
    selectors = cloudtrail.get_event_selectors(TrailName=created["Name"])["EventSelectors"]
    assert [{k: s[k] for k in ("ReadWriteType", "IncludeManagementEvents")} for s in selectors] == [
        {"ReadWriteType": "All", "IncludeManagementEvents": True}
    ]
    bucket = created["S3BucketName"]
    prefix = f"cis-cloudtrail-logs-{ACCOUNT}-"
    assert bucket.startswith(prefix) and len(bucket) == len(prefix) + 12, "a name no other account can take first"
    s3 = boto3.client("s3")
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()), "CIS 2.3"
    logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert logging["TargetBucket"].startswith(f"cis-cloudtrail-access-{ACCOUNT}-"), "CIS 2.6"
    assert all(s3.get_public_access_block(Bucket=logging["TargetBucket"])["PublicAccessBlockConfiguration"].values())
    assert len(changed(result)) == 4
    assert changed(run(catalog.MULTI_REGION_TRAIL, {})) == []


def test_a_covering_multi_region_trail_means_no_second_trail(aws):
    trail("theirs", multi=True)
    result = run(catalog.MULTI_REGION_TRAIL, {})
    assert changed(result) == [] and len(boto3.client("cloudtrail").describe_trails()["trailList"]) == 1
    assert [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]] == ["trail-logs"]


def test_a_write_only_multi_region_trail_is_named_for_a_person_not_doubled(aws):
    trail("writes", multi=True)
    boto3.client("cloudtrail").put_event_selectors(
        TrailName="writes", EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    )
    fails_with(catalog.MULTI_REGION_TRAIL, {}, "Multi-region trail writes does not log every management event")
    assert len(boto3.client("cloudtrail").describe_trails()["trailList"]) == 1


@pytest.mark.parametrize(
    ("case", "values", "message"),
    [
        ("no key for the trail", {}, "KMS key alias/cis-cloudtrail (TrailKmsKey) does not exist"),
        ("a bucket this account does not own", {"BucketName": "someone-elses"}, "is not a bucket of account"),
        ("an access-log bucket it does not own", {"AccessLogsBucket": "someone-elses"}, "is not a bucket of account"),
    ],
)
def test_the_trail_runbook_stops_before_changing_anything(aws, case, values, message):
    if "KMS" not in message:
        trail_key()
    fails_with(catalog.MULTI_REGION_TRAIL, values, message)
    assert boto3.client("cloudtrail").describe_trails()["trailList"] == [], case
    assert boto3.client("s3").list_buckets()["Buckets"] == [], case


def test_a_given_bucket_this_account_owns_is_used_as_it_is(aws):
    key = trail_key()
    boto3.client("s3").create_bucket(Bucket="our-trail-logs")
    run(catalog.MULTI_REGION_TRAIL, {"BucketName": "our-trail-logs"})
    (created,) = boto3.client("cloudtrail").describe_trails()["trailList"]
    assert (created["S3BucketName"], created["KmsKeyId"]) == ("our-trail-logs", key)
    assert [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]] == ["our-trail-logs"]


def test_a_single_region_trail_of_that_name_stops_the_run(aws):
    trail("cis-multi-region-trail", multi=False)
    trail_key()
    fails_with(catalog.MULTI_REGION_TRAIL, {}, "exists and is not multi-region")


def test_trail_bucket_gets_block_public_access(aws):
    trail()
    boto3.client("s3").put_public_access_block(
        Bucket="trail-logs", PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": False}
    )
    result = run(catalog.BLOCK_PUBLIC, {"BucketName": "trail-logs"})
    block = boto3.client("s3").get_public_access_block(Bucket="trail-logs")["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert json.loads(result["Record"])[0]["before"]["BlockPublicAcls"] is True
    assert changed(run(catalog.BLOCK_PUBLIC, {"BucketName": "trail-logs"})) == []


def test_a_bucket_no_trail_uses_is_left_alone(aws):
    trail()
    boto3.client("s3").create_bucket(Bucket="website")
    fails_with(catalog.BLOCK_PUBLIC, {"BucketName": "website"}, "not the log bucket of a trail")
    fails_with(catalog.BUCKET_LOGGING, {"BucketName": "website", "TargetBucket": "logs"}, "not the log bucket")


def log_delivery_policy(bucket: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_trail_bucket_logs_its_accesses_to_the_target_bucket(aws):
    trail()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="closed")
    fails_with(
        catalog.BUCKET_LOGGING, {"BucketName": "trail-logs", "TargetBucket": "closed"}, "give it a bucket policy"
    )
    s3.create_bucket(Bucket="access-logs")
    s3.put_bucket_policy(Bucket="access-logs", Policy=log_delivery_policy("access-logs"))
    fails_with(catalog.BUCKET_LOGGING, {"BucketName": "trail-logs"}, "TargetBucket (pack parameter AccessLogsBucket)")
    fails_with(catalog.BUCKET_LOGGING, {"BucketName": "trail-logs", "TargetBucket": "trail-logs"}, "its own")
    fails_with(
        catalog.BUCKET_LOGGING,
        {"BucketName": "trail-logs", "TargetBucket": "someone-elses"},
        "someone-elses (TargetBucket) is not a bucket of account",
    )
    result = run(catalog.BUCKET_LOGGING, {"BucketName": "trail-logs", "TargetBucket": "access-logs"})
    logging = boto3.client("s3").get_bucket_logging(Bucket="trail-logs")["LoggingEnabled"]
    assert logging == {"TargetBucket": "access-logs", "TargetPrefix": "trail-logs/"}
    assert len(changed(result)) == 1
    assert changed(run(catalog.BUCKET_LOGGING, {"BucketName": "trail-logs", "TargetBucket": "other"})) == []


def test_trail_is_delivered_to_cloudwatch_logs(aws):
    trail()
    result = run(catalog.TRAIL_LOGS, {"TrailName": "cis-t1"})
    found = boto3.client("cloudtrail").get_trail(Name="cis-t1")["Trail"]
    assert found["CloudWatchLogsLogGroupArn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:cis-cloudtrail/cis-t1:*"
    assert found["CloudWatchLogsRoleArn"].endswith(":role/cis-config-pack-cloudtrail-logs")
    groups = boto3.client("logs").describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["cis-cloudtrail/cis-t1"] and groups[0]["retentionInDays"] == 365
    role = boto3.client("iam").get_role(RoleName="cis-config-pack-cloudtrail-logs")["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(
        ":policy/cis-config-pack-log-delivery-boundary-us-east-1"
    )
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"},
    }
    assert len(changed(result)) == 3
    assert changed(run(catalog.TRAIL_LOGS, {"TrailName": "cis-t1"})) == []


@pytest.mark.parametrize(
    ("case", "values", "message"),
    [
        ("a log group the roles may not write", {"LogGroupName": "audit"}, "does not start with cis-cloudtrail/"),
        ("a retention CloudWatch Logs refuses", {"LogRetentionDays": "42"}, "LogRetentionDays '42' is not"),
    ],
)
def test_the_log_group_must_be_the_packs_with_a_valid_retention(aws, case, values, message):
    trail()
    fails_with(catalog.TRAIL_LOGS, {"TrailName": "cis-t1", **values}, message)
    assert boto3.client("logs").describe_log_groups()["logGroups"] == [], case


def test_config_records_everything_in_every_region(aws):
    boto3.client("s3").create_bucket(Bucket="config-bucket")
    fails_with(catalog.CONFIG_ALL_REGIONS, {}, "set the pack parameter ConfigBucket")
    excluded = {"DeliveryBucket": "config-bucket", "ExcludedRegions": "eu-west-1, ap-south-1"}
    result = run(catalog.CONFIG_ALL_REGIONS, excluded)
    for region in ("eu-west-1", "ap-south-1"):
        recorders = boto3.client("config", region_name=region).describe_configuration_recorders()
        assert recorders["ConfigurationRecorders"] == [], f"{region} is excluded"
    regions = [r["RegionName"] for r in boto3.client("ec2").describe_regions()["Regions"]]
    commercial = [
        r for r in regions if not r.startswith(("cn-", "us-gov-", "us-iso")) and r not in ("eu-west-1", "ap-south-1")
    ]
    global_types = []
    for region in commercial:
        config = boto3.client("config", region_name=region)
        (recorder,) = config.describe_configuration_recorders()["ConfigurationRecorders"]
        assert recorder["recordingGroup"]["allSupported"], region
        global_types.append(recorder["recordingGroup"]["includeGlobalResourceTypes"])
        (status,) = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
        assert status["recording"], region
    assert global_types.count(True) == 1, "one region records IAM"
    assert len(changed(result)) > len(commercial)
    assert changed(run(catalog.CONFIG_ALL_REGIONS, excluded)) == []


def test_a_delivery_bucket_of_another_account_is_refused(aws):
    fails_with(catalog.CONFIG_ALL_REGIONS, {"DeliveryBucket": "not-ours"}, "not-ours (DeliveryBucket) is not a bucket")
    assert boto3.client("config").describe_configuration_recorders()["ConfigurationRecorders"] == []


def test_a_partial_recorder_records_everything_and_keeps_its_role(aws):
    config = boto3.client("config")
    role = f"arn:aws:iam::{ACCOUNT}:role/my-config-role"
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "mine",
            "roleARN": role,
            "recordingGroup": {"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]},
        }
    )
    boto3.client("s3").create_bucket(Bucket="config-bucket")
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-bucket"})
    run(catalog.CONFIG_ALL_REGIONS, {"ExcludedRegions": ""})
    (recorder,) = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert (recorder["name"], recorder["roleARN"], recorder["recordingGroup"]["allSupported"]) == ("mine", role, True)
    other = boto3.client("config", region_name="eu-west-1").describe_configuration_recorders()
    assert other["ConfigurationRecorders"][0]["roleARN"] == role, "new recorders reuse the account's role"


def test_vpc_gets_reject_flow_logs(aws):
    vpc = boto3.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    result = run(catalog.FLOW_LOGS, {"VpcId": vpc})
    (flow_log,) = boto3.client("ec2").describe_flow_logs()["FlowLogs"]
    assert (flow_log["ResourceId"], flow_log["TrafficType"], flow_log["LogGroupName"]) == (
        vpc,
        "REJECT",
        "cis-vpc-flow-logs",
    )
    assert boto3.client("logs").describe_log_groups()["logGroups"][0]["retentionInDays"] == 365
    role = boto3.client("iam").get_role(RoleName="cis-config-pack-vpc-flow-logs")["Role"]
    assert "PermissionsBoundary" in role
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:ec2:*:{ACCOUNT}:vpc-flow-log/*"
    }
    assert len(changed(result)) == 3
    assert changed(run(catalog.FLOW_LOGS, {"VpcId": vpc})) == []
    fails_with(catalog.FLOW_LOGS, {"VpcId": "vpc-00000000"}, "No VPC vpc-00000000")


def test_a_vpc_with_an_all_traffic_flow_log_gets_no_second_one(aws):
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    boto3.client("s3").create_bucket(Bucket="flow-logs")
    ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::flow-logs",
    )
    result = run(catalog.FLOW_LOGS, {"VpcId": vpc})
    assert changed(result) == [] and len(ec2.describe_flow_logs()["FlowLogs"]) == 1
    assert boto3.client("logs").describe_log_groups()["logGroups"] == []


# --- CIS 3.1-3.14: metric filter and alarm ------------------------------------------------------------


def monitored_trail(topic: str = "alerts", subscribed: bool = True) -> str:
    trail()
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName="trail-group")
    group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail-group:*"
    role = boto3.client("iam").create_role(RoleName="ct", AssumeRolePolicyDocument=json.dumps(POLICY))["Role"]["Arn"]
    boto3.client("cloudtrail").update_trail(
        Name="cis-t1", CloudWatchLogsLogGroupArn=group_arn, CloudWatchLogsRoleArn=role
    )
    sns = boto3.client("sns")
    arn = str(sns.create_topic(Name=topic)["TopicArn"])
    if subscribed:
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="security@example.com")
    return arn


def verdict(control: str, rule: str) -> str:
    module = import_rule_module(rule)
    import cis_monitoring  # on sys.path once a rule module is imported

    chains = cis_monitoring.MonitoringChains(lambda s, r: boto3.client(s, region_name=r), ACCOUNT, REGION)
    return str(chains.judge(control, getattr(module, rule).ACCEPTED_PATTERNS).compliance)


def test_metric_filter_and_alarm_make_the_control_compliant(aws):
    topic = monitored_trail()
    rule = "METRIC_FILTER_ALARM_IAM_POLICY_CHANGES"
    assert verdict("3.4", rule) == "NON_COMPLIANT"
    result = run(catalog.METRIC_FILTER_ALARM, {"Control": "3.4", "AlarmTopic": "alerts"})
    assert verdict("3.4", rule) == "COMPLIANT"
    (metric_filter,) = boto3.client("logs").describe_metric_filters(logGroupName="trail-group")["metricFilters"]
    assert metric_filter["filterName"] == "CIS-3.4-IamPolicyChanges"
    assert metric_filter["filterPattern"] == getattr(import_rule_module(rule), rule).ACCEPTED_PATTERNS[0]
    (alarm,) = boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert alarm["ActionsEnabled"] and alarm["AlarmActions"] == [topic]
    assert len(changed(result)) == 2
    assert changed(run(catalog.METRIC_FILTER_ALARM, {"Control": "3.4", "AlarmTopic": topic})) == []


def test_an_existing_alarm_of_the_pack_keeps_its_other_actions(aws):
    topic = monitored_trail()
    run(catalog.METRIC_FILTER_ALARM, {"Control": "3.1", "AlarmTopic": topic})
    cloudwatch = boto3.client("cloudwatch")
    (alarm,) = cloudwatch.describe_alarms()["MetricAlarms"]
    other = f"arn:aws:sns:{REGION}:{ACCOUNT}:pager"
    cloudwatch.put_metric_alarm(
        **{k: alarm[k] for k in ("AlarmName", "MetricName", "Namespace", "Statistic", "Period", "EvaluationPeriods")},
        Threshold=alarm["Threshold"],
        ComparisonOperator=alarm["ComparisonOperator"],
        ActionsEnabled=False,
        AlarmActions=[other],
    )
    run(catalog.METRIC_FILTER_ALARM, {"Control": "3.1", "AlarmTopic": topic})
    (alarm,) = cloudwatch.describe_alarms()["MetricAlarms"]
    assert alarm["ActionsEnabled"] and alarm["AlarmActions"] == [other, topic]


def test_without_a_monitored_trail_or_topic_the_run_says_what_is_missing(aws):
    fails_with(catalog.METRIC_FILTER_ALARM, {"Control": "3.1"}, "remediate CIS 2.1 and 2.4 first")
    monitored_trail()
    fails_with(catalog.METRIC_FILTER_ALARM, {"Control": "3.1", "AlarmTopic": "nope"}, "nope does not exist")
    fails_with(catalog.METRIC_FILTER_ALARM, {"Control": "3.15", "AlarmTopic": "alerts"}, "not one of CIS 3.1-3.14")


def test_a_topic_without_a_confirmed_subscription_is_reported(aws):
    monitored_trail(topic="quiet", subscribed=False)
    result = run(catalog.METRIC_FILTER_ALARM, {"Control": "3.3", "AlarmTopic": "quiet"})
    assert any("no confirmed subscription" in text for text in result["Unchanged"])


# --- CIS 4.1, 4.2: open ingress ---------------------------------------------------------------------------


def security_group(*permissions: dict[str, Any]) -> str:
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = str(ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"])
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=list(permissions))
    return group


def ingress(group: str) -> set[tuple[str, int | None, int | None, str]]:
    (found,) = boto3.client("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"]
    rules = set()
    for p in found["IpPermissions"]:
        for r in p.get("IpRanges", []):
            rules.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"]))
        for r in p.get("Ipv6Ranges", []):
            rules.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIpv6"]))
    return rules


WORLD = [{"CidrIp": "0.0.0.0/0"}]


@pytest.mark.parametrize(
    ("case", "port", "permission", "after"),
    [
        (
            "exact port: only the world source goes",
            "22",
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [*WORLD, {"CidrIp": "10.0.0.0/8"}]},
            {("tcp", 22, 22, "10.0.0.0/8")},
        ),
        (
            "a wide range is split around the port: 443 stays open",
            "22",
            {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": WORLD},
            {("tcp", 0, 21, "0.0.0.0/0"), ("tcp", 23, 65535, "0.0.0.0/0")},
        ),
        (
            "a range starting at the port keeps the rest",
            "3389",
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3400, "IpRanges": WORLD},
            {("tcp", 3390, 3400, "0.0.0.0/0")},
        ),
        (
            "UDP 3389 counts (the benchmark: any rule whose range includes the port)",
            "3389",
            {"IpProtocol": "udp", "FromPort": 3000, "ToPort": 4000, "IpRanges": WORLD},
            {("udp", 3000, 3388, "0.0.0.0/0"), ("udp", 3390, 4000, "0.0.0.0/0")},
        ),
        (
            "all traffic from ::/0 becomes TCP and UDP without the port, and ICMPv6",
            "3389",
            {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {
                ("tcp", 0, 3388, "::/0"),
                ("tcp", 3390, 65535, "::/0"),
                ("udp", 0, 3388, "::/0"),
                ("udp", 3390, 65535, "::/0"),
                ("58", -1, -1, "::/0"),
            },
        ),
        (
            "a rule that does not reach the port stays",
            "22",
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": WORLD},
            {("tcp", 443, 443, "0.0.0.0/0")},
        ),
    ],
)
def test_the_port_is_taken_out_of_world_open_rules_and_nothing_else(aws, case, port, permission, after):
    group = security_group(permission)
    result = run(catalog.OPEN_INGRESS, {"GroupId": group, "Port": port})
    assert ingress(group) == after, case
    record = json.loads(result["Record"])
    assert all(entry["before"] and entry["after"] is not None for entry in record), "before and after recorded"
    assert changed(run(catalog.OPEN_INGRESS, {"GroupId": group, "Port": port})) == []


def test_4_1_leaves_port_3389_and_4_2_leaves_port_22(aws):
    group = security_group(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": WORLD},
        {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": WORLD},
    )
    run(catalog.OPEN_INGRESS, {"GroupId": group, "Port": "22"})
    assert ingress(group) == {("tcp", 3389, 3389, "0.0.0.0/0")}
    fails_with(catalog.OPEN_INGRESS, {"GroupId": group, "Port": "rdp"}, "not a port number")


# --- CIS 2.2, 2.7, 2.8, 4.3 -------------------------------------------------------------------------


def test_log_file_validation_is_turned_on(aws):
    trail()
    result = run(catalog.LOG_VALIDATION, {"TrailName": "cis-t1"})
    assert boto3.client("cloudtrail").get_trail(Name="cis-t1")["Trail"]["LogFileValidationEnabled"]
    assert len(changed(result)) == 1
    assert changed(run(catalog.LOG_VALIDATION, {"TrailName": "cis-t1"})) == []
    fails_with(catalog.LOG_VALIDATION, {"TrailName": "gone"}, "No trail gone exists")


def test_the_trail_is_encrypted_with_the_packs_key(aws):
    trail()
    fails_with(catalog.TRAIL_KMS, {"TrailName": "cis-t1"}, "alias/cis-cloudtrail (TrailKmsKey) does not exist")
    key = trail_key()
    result = run(catalog.TRAIL_KMS, {"TrailName": "cis-t1"})
    assert boto3.client("cloudtrail").get_trail(Name="cis-t1")["Trail"]["KmsKeyId"] == key
    assert json.loads(result["Record"])[0]["after"] == {"KmsKeyId": key}
    assert changed(run(catalog.TRAIL_KMS, {"TrailName": "cis-t1"})) == []


def test_key_rotation_is_turned_on_for_customer_keys_only(aws):
    kms = boto3.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    result = run(catalog.KEY_ROTATION, {"KeyId": key})
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] and len(changed(result)) == 1
    assert changed(run(catalog.KEY_ROTATION, {"KeyId": key})) == []
    asymmetric = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    fails_with(catalog.KEY_ROTATION, {"KeyId": asymmetric}, "cannot rotate")


def test_the_default_security_group_loses_every_rule_and_the_record_keeps_them(aws):
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    (default,) = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    # AWS's default: all traffic from the group itself in, everything out.
    ec2.authorize_security_group_ingress(
        GroupId=default["GroupId"],
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default["GroupId"]}]}],
    )
    result = run(catalog.DEFAULT_GROUP, {"GroupId": default["GroupId"]})
    (after,) = ec2.describe_security_groups(GroupIds=[default["GroupId"]])["SecurityGroups"]
    assert after["IpPermissions"] == [] and after["IpPermissionsEgress"] == []
    assert json.loads(result["Record"])[0]["before"], "the rules removed are recorded"
    assert changed(run(catalog.DEFAULT_GROUP, {"GroupId": default["GroupId"]})) == []
    other = security_group({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": WORLD})
    fails_with(catalog.DEFAULT_GROUP, {"GroupId": other}, "is not a VPC's default security group")


# --- the announcement ---------------------------------------------------------------------------------


def test_each_execution_announces_its_record_on_eventbridge(aws):
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="records")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events")
    events.put_rule(Name="records", EventPattern=json.dumps({"source": ["cis-config-pack.remediation"]}))
    events.put_targets(Rule="records", Targets=[{"Id": "q", "Arn": queue_arn}])
    run(catalog.PASSWORD_POLICY, {})
    run(catalog.PASSWORD_POLICY, {})
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["detail-type"] for b in bodies] == ["CIS remediation record"] * 2, "one event per execution"
    first, second = (b["detail"] for b in bodies)
    assert first["runbook"] == "CisPack-SetPasswordPolicy" and first["changed"] is True
    assert first["record"][0]["after"]["MinimumPasswordLength"] == 14 and first["record"][0]["before"] is None
    assert second["changed"] is False and second["unchanged"]


# --- least privilege ---------------------------------------------------------------------------------------

#: Declared, never an API call of its own: passing a role to CloudTrail, VPC Flow Logs or Config,
#: and tagging a role as CreateRole creates it (IAM checks iam:TagRole for CreateRole's Tags).
IMPLICIT = {"iam:PassRole", "iam:TagRole"}


def test_every_call_is_declared_and_every_declared_action_is_called():
    """Runs last (file order): the calls the runs above made, against each runbook's ACTIONS."""
    own = catalog.own_runbooks()
    if set(CALLS.by_runbook) != {runbook.document for runbook in own}:
        pytest.skip("run the whole module: some runbooks did not run")
    for runbook in own:
        called = CALLS.by_runbook[runbook.document]
        declared = set(runbook.actions)
        assert called <= declared, f"{runbook.document} calls undeclared {sorted(called - declared)}"
        # iam:CreateServiceLinkedRole: the recorder reuses the account's role in these tests;
        # iam:GenerateCredentialReport/GetCredentialReport: 1.3 reads the report only for a password.
        unused = declared - called - IMPLICIT - {"iam:CreateServiceLinkedRole"}
        assert not unused, f"{runbook.document} declares {sorted(unused)} and never calls it"
