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


def test_a_deleted_user_stops_the_run(aws):
    fails_with(catalog.DEACTIVATE_UNUSED, {"ResourceId": "AIDANOSUCHUSER"}, "No IAM user has the ID AIDANOSUCHUSER")


def test_old_access_keys_are_deactivated_not_deleted(aws):
    user_id = user("carol", keys=2)
    assert changed(run(catalog.DEACTIVATE_OLD, {"ResourceId": user_id}, {"Now": SOON})) == []
    result = run(catalog.DEACTIVATE_OLD, {"ResourceId": user_id}, {"Now": LATER})
    assert len(changed(result)) == 2 and key_statuses("carol") == ["Inactive", "Inactive"]
    assert changed(run(catalog.DEACTIVATE_OLD, {"ResourceId": user_id}, {"Now": LATER})) == []


def test_unused_setup_keys_of_console_users_are_deactivated(aws):
    console = user("dave", password=True)
    api_only = user("erin")
    result = run(catalog.SETUP_KEYS, {"ResourceId": console})
    assert key_statuses("dave") == ["Inactive"] and len(changed(result)) == 1
    assert changed(run(catalog.SETUP_KEYS, {"ResourceId": console})) == []
    assert changed(run(catalog.SETUP_KEYS, {"ResourceId": api_only})) == [] and key_statuses("erin") == ["Active"]


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


def test_user_policies_are_removed_and_recorded(aws):
    user_id = user("frank", keys=0, policies=True)
    result = run(catalog.REMOVE_POLICIES, {"ResourceId": user_id})
    iam = boto3.client("iam")
    assert iam.list_attached_user_policies(UserName="frank")["AttachedPolicies"] == []
    assert iam.list_user_policies(UserName="frank")["PolicyNames"] == []
    record = json.loads(result["Record"])
    assert {entry["before"].get("PolicyName") for entry in record} == {None, "inline"}
    inline = next(e for e in record if e["before"].get("PolicyName") == "inline")
    assert inline["before"]["PolicyDocument"] == POLICY, "the inline policy's document is kept in the record"
    assert changed(run(catalog.REMOVE_POLICIES, {"ResourceId": user_id})) == []


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


def test_a_multi_region_trail_is_created_to_a_private_bucket(aws):
    result = run(catalog.MULTI_REGION_TRAIL, {})
    cloudtrail = boto3.client("cloudtrail")
    (created,) = cloudtrail.describe_trails()["trailList"]
    assert created["Name"] == "cis-multi-region-trail" and created["IsMultiRegionTrail"]
    assert created["LogFileValidationEnabled"] and cloudtrail.get_trail_status(Name=created["Name"])["IsLogging"]
    bucket = created["S3BucketName"]
    assert bucket == f"cis-cloudtrail-{ACCOUNT}-{REGION}"
    block = boto3.client("s3").get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert len(changed(result)) == 3
    assert changed(run(catalog.MULTI_REGION_TRAIL, {})) == []


def test_an_existing_single_region_trail_of_that_name_is_made_multi_region(aws):
    trail("cis-multi-region-trail", multi=False)
    result = run(catalog.MULTI_REGION_TRAIL, {})
    (found,) = boto3.client("cloudtrail").describe_trails()["trailList"]
    assert found["IsMultiRegionTrail"] and found["S3BucketName"] == "trail-logs", "its bucket is kept"
    assert any("IsMultiRegionTrail" in c for c in changed(result))


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
    assert [g["logGroupName"] for g in groups] == ["cis-cloudtrail/cis-t1"] and "retentionInDays" not in groups[0]
    assert len(changed(result)) == 3
    assert changed(run(catalog.TRAIL_LOGS, {"TrailName": "cis-t1"})) == []


def test_config_records_everything_in_every_region(aws):
    boto3.client("s3").create_bucket(Bucket="config-bucket")
    fails_with(catalog.CONFIG_ALL_REGIONS, {}, "set the pack parameter ConfigBucket")
    result = run(catalog.CONFIG_ALL_REGIONS, {"DeliveryBucket": "config-bucket"})
    regions = [r["RegionName"] for r in boto3.client("ec2").describe_regions()["Regions"]]
    commercial = [r for r in regions if not r.startswith(("cn-", "us-gov-", "us-iso"))]
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
    assert changed(run(catalog.CONFIG_ALL_REGIONS, {"DeliveryBucket": "config-bucket"})) == []


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
    assert len(changed(result)) == 3
    assert changed(run(catalog.FLOW_LOGS, {"VpcId": vpc})) == []
    fails_with(catalog.FLOW_LOGS, {"VpcId": "vpc-00000000"}, "No VPC vpc-00000000")


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


def test_only_world_sources_to_the_port_are_revoked(aws):
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.0.0.0/8"}],
            },
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        ],
    )
    result = run(catalog.OPEN_INGRESS, {"GroupId": group, "Port": "22"})
    (remaining_group,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
    rules = {(p["IpProtocol"], p.get("FromPort")): p for p in remaining_group["IpPermissions"]}
    assert [r["CidrIp"] for r in rules[("tcp", 22)]["IpRanges"]] == ["10.0.0.0/8"]
    assert [r["CidrIp"] for r in rules[("tcp", 3389)]["IpRanges"]] == ["0.0.0.0/0"], "CIS 4.1 leaves port 3389"
    assert ("-1", None) not in rules, "all traffic from ::/0 reaches port 22"
    assert len(changed(result)) == 2
    assert changed(run(catalog.OPEN_INGRESS, {"GroupId": group, "Port": "22"})) == []
    run(catalog.OPEN_INGRESS, {"GroupId": group, "Port": "3389"})
    (remaining_group,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
    assert [(p["IpProtocol"], p.get("FromPort")) for p in remaining_group["IpPermissions"]] == [("tcp", 22)]


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
        # iam:CreateServiceLinkedRole: the recorder reuses the account's role in these tests.
        unused = declared - called - IMPLICIT - {"iam:CreateServiceLinkedRole"}
        assert not unused, f"{runbook.document} declares {sorted(unused)} and never calls it"
