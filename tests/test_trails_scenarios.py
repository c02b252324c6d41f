"""The trails a rule sees and what it reads of them (rulelib/cis_trails.py): descriptions as
``DescribeTrails`` gives them (an organisation trail, a GovCloud trail, a trail without a bucket),
the ARNs CloudTrail and CloudWatch Logs write, the reads made in a trail's home region by ARN, the
organisation trail a member account may not read, and event selectors that do or do not log every
management event.

No moto: descriptions and selectors are given as the API answers them, and every client is
botocore's ``Stubber`` expecting exactly the request the scenario names.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from cis_rule import EvaluationError
from cis_trails import (
    Trail,
    TrailUnreadableError,
    arn_account,
    describe_trails_by_arn,
    event_selectors,
    management_events_all,
    selectors_log_all_management_events,
    trail_status,
    trails_by_bucket,
    visible_trails,
)

ACCOUNT = "123456789012"
MANAGEMENT = "999988887777"


def arn(name: str, region: str = "us-east-1", account: str = ACCOUNT, partition: str = "aws") -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{name}"


def description(name: str, bucket: str | None = "logs", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"Name": name, "TrailARN": arn(name), **extra}
    if bucket is not None:
        item["S3BucketName"] = bucket
    return item


def org_trail(name: str = "org") -> Trail:
    return Trail.from_description(
        {"Name": name, "TrailARN": arn(name, "eu-west-1", MANAGEMENT), "IsOrganizationTrail": True, "S3BucketName": "o"}
    )


def stubbed(service: str = "cloudtrail", region: str = "us-east-1") -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


class Regions:
    """A client factory over one stubbed CloudTrail client, recording the regions asked for."""

    def __init__(self) -> None:
        self.client, self.stubber = stubbed(region="eu-west-1")
        self.asked: list[tuple[str, str]] = []

    def __call__(self, service: str, region: str) -> Any:
        self.asked.append((service, region))
        return self.client


# --- A trail as DescribeTrails describes it ------------------------------------------------------


def test_a_full_description_is_read_field_by_field():
    trail = Trail.from_description(
        {
            "Name": "main",
            "TrailARN": arn("main", "eu-west-1"),
            "S3BucketName": "main-logs",
            "S3KeyPrefix": "cloudtrail",
            "KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd",
            "LogFileValidationEnabled": True,
            "IsMultiRegionTrail": True,
            "IsOrganizationTrail": False,
            "CloudWatchLogsLogGroupArn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:CloudTrail/Main:*",
        }
    )
    assert trail == Trail(
        name="main",
        arn=arn("main", "eu-west-1"),
        home_region="eu-west-1",
        owner_account=ACCOUNT,
        is_multi_region=True,
        is_organization_trail=False,
        s3_bucket="main-logs",
        log_group_arn=f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:CloudTrail/Main:*",
        s3_key_prefix="cloudtrail",
        kms_key_id="arn:aws:kms:eu-west-1:123456789012:key/1234abcd",
        log_file_validation=True,
    )
    assert trail.is_owned_by(ACCOUNT) and not trail.is_owned_by(MANAGEMENT)


def test_a_bare_description_gives_a_single_region_trail_without_bucket_logs_or_encryption():
    trail = Trail.from_description(
        {"Name": "t", "TrailARN": arn("t"), "S3BucketName": "", "S3KeyPrefix": "", "KmsKeyId": ""}
    )
    assert (trail.is_multi_region, trail.is_organization_trail, trail.log_file_validation) == (False, False, False)
    assert (trail.s3_bucket, trail.s3_key_prefix, trail.kms_key_id, trail.log_group_arn) == (None, None, None, None)
    assert (trail.log_group_name, trail.log_group_region, trail.log_group_account) == (None, None, None)


def test_a_description_without_a_name_takes_it_from_the_arn():
    assert Trail.from_description({"TrailARN": arn("from-arn")}).name == "from-arn"


def test_an_organisation_trail_is_owned_by_the_account_in_its_arn():
    trail = org_trail()
    assert (trail.owner_account, trail.home_region, trail.is_organization_trail) == (MANAGEMENT, "eu-west-1", True)
    assert not trail.is_owned_by(ACCOUNT)


def test_a_govcloud_trail_names_its_partition():
    trail = Trail.from_description({"Name": "gov", "TrailARN": arn("gov", "us-gov-west-1", partition="aws-us-gov")})
    assert (trail.partition, trail.home_region) == ("aws-us-gov", "us-gov-west-1")


@pytest.mark.parametrize(
    "trail_arn",
    [
        pytest.param("", id="no_arn"),
        pytest.param(f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}", id="too_few_parts"),
        pytest.param(f"urn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/t", id="not_an_arn"),
        pytest.param(f"arn:aws:s3:us-east-1:{ACCOUNT}:trail/t", id="another_service"),
        pytest.param(f"arn:aws:cloudtrail::{ACCOUNT}:trail/t", id="no_region"),
        pytest.param("arn:aws:cloudtrail:us-east-1::trail/t", id="no_account"),
    ],
)
def test_a_malformed_trail_arn_cannot_be_judged(trail_arn):
    with pytest.raises(EvaluationError) as raised:
        Trail.from_description({"Name": "t", "TrailARN": trail_arn})
    assert str(raised.value) == f"Unexpected cloudtrail ARN {trail_arn!r}."


def test_a_description_without_an_arn_cannot_be_judged():
    with pytest.raises(EvaluationError) as raised:
        Trail.from_description({"Name": "t"})
    assert str(raised.value) == "Unexpected cloudtrail ARN ''."


def test_the_account_of_a_listed_trail_is_read_from_its_arn():
    # ListTrails gives only name, ARN and home region: the owner comes from the ARN.
    assert arn_account(arn("org", "eu-west-1", MANAGEMENT)) == MANAGEMENT
    with pytest.raises(EvaluationError) as raised:
        arn_account(f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:main")
    assert str(raised.value) == f"Unexpected cloudtrail ARN 'arn:aws:logs:us-east-1:{ACCOUNT}:log-group:main'."


def test_a_long_malformed_arn_is_cut_to_120_characters_in_the_message():
    long_arn = "arn:aws:s3:::" + "b" * 200
    with pytest.raises(EvaluationError) as raised:
        Trail.from_description({"Name": "t", "TrailARN": long_arn})
    assert str(raised.value) == f"Unexpected cloudtrail ARN {long_arn[:120]!r}."


# --- The log group a trail delivers to ------------------------------------------------------------


@pytest.mark.parametrize(
    "log_group",
    [
        pytest.param(f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:CloudTrail/Main:*", id="with_stream_wildcard"),
        pytest.param(f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:CloudTrail/Main", id="without_stream_wildcard"),
    ],
)
def test_the_log_group_is_named_with_its_region_and_account(log_group):
    trail = Trail.from_description(description("main", CloudWatchLogsLogGroupArn=log_group))
    assert (trail.log_group_name, trail.log_group_region, trail.log_group_account) == (
        "CloudTrail/Main",
        "eu-west-1",
        ACCOUNT,
    )


@pytest.mark.parametrize(
    "log_group",
    [
        pytest.param(f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group", id="too_few_parts"),
        pytest.param(f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:log-group:main:*", id="another_service"),
        pytest.param(f"arn:aws:logs:eu-west-1:{ACCOUNT}:destination:main:*", id="not_a_log_group"),
        pytest.param(f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group::*", id="no_name"),
        pytest.param(f"arn:aws:logs:eu-west-1:{ACCOUNT}:destination:" + "x" * 200, id="long"),
    ],
)
def test_a_malformed_log_group_arn_cannot_be_judged(log_group):
    trail = Trail.from_description(description("main", CloudWatchLogsLogGroupArn=log_group))
    message = f"Trail main has an unexpected log group ARN {log_group[:120]!r}."
    for part in ("log_group_name", "log_group_region", "log_group_account"):
        with pytest.raises(EvaluationError) as raised:
            getattr(trail, part)
        assert str(raised.value) == message


# --- Which trails the rule sees -------------------------------------------------------------------


def org_trail_description(name: str) -> dict[str, Any]:
    return {
        "Name": name,
        "TrailARN": arn(name, "eu-west-1", MANAGEMENT),
        "S3BucketName": "org-logs",
        "IsOrganizationTrail": True,
        "IsMultiRegionTrail": True,
    }


def test_the_visible_trails_include_shadow_trails_one_per_arn_sorted_by_arn():
    client, stubber = stubbed()
    answer = [
        description("zeta", "first-bucket"),
        org_trail_description("org"),
        description("alpha"),
        description("zeta", "second-bucket"),
    ]
    stubber.add_response("describe_trails", {"trailList": answer}, {"includeShadowTrails": True})
    trails = visible_trails(client)
    stubber.assert_no_pending_responses()
    assert [(t.arn, t.s3_bucket) for t in trails] == [
        (arn("org", "eu-west-1", MANAGEMENT), "org-logs"),
        (arn("alpha"), "logs"),
        (arn("zeta"), "first-bucket"),
    ]


def test_an_answer_without_a_trail_list_is_no_trail():
    client, stubber = stubbed()
    stubber.add_response("describe_trails", {}, {"includeShadowTrails": True})
    assert visible_trails(client) == []


def test_trails_listed_elsewhere_are_described_in_one_call_with_their_arns_sorted():
    client, stubber = stubbed(region="eu-west-1")
    b, a = arn("b", "eu-west-1"), arn("a", "eu-west-1")
    answer = [
        {"Name": "b", "TrailARN": b, "S3BucketName": "b-first"},
        {"Name": "unasked", "TrailARN": arn("unasked", "eu-west-1")},
        {"Name": "a", "TrailARN": a},
        {"Name": "b", "TrailARN": b, "S3BucketName": "b-second"},
    ]
    # "gone" was deleted since it was listed: the answer leaves it out.
    gone = arn("gone", "eu-west-1")
    stubber.add_response("describe_trails", {"trailList": answer}, {"trailNameList": sorted([a, b, gone])})
    trails = describe_trails_by_arn(client, [b, gone, a, b])
    assert [(t.name, t.s3_bucket) for t in trails] == [("a", None), ("b", "b-first")]


def test_no_trail_to_describe_asks_nothing():
    client, stubber = stubbed(region="eu-west-1")
    assert describe_trails_by_arn(client, []) == []
    stubber.assert_no_pending_responses()


def test_an_answer_naming_no_trail_describes_none():
    client, stubber = stubbed(region="eu-west-1")
    stubber.add_response("describe_trails", {}, {"trailNameList": [arn("a", "eu-west-1")]})
    assert describe_trails_by_arn(client, [arn("a", "eu-west-1")]) == []


def test_buckets_are_named_with_the_trails_that_deliver_to_them():
    main = Trail.from_description(description("main", "shared-logs"))
    audit = Trail.from_description(description("audit", "shared-logs"))
    alone = Trail.from_description(description("alone", "a-logs"))
    none = Trail.from_description(description("no-bucket", None))
    assert trails_by_bucket([main, none, alone, audit]) == {"a-logs": (alone,), "shared-logs": (main, audit)}


# --- Reading a trail: in its home region, by ARN ---------------------------------------------------


def test_the_status_is_read_in_the_home_region_by_arn():
    regions = Regions()
    trail = Trail.from_description({"Name": "main", "TrailARN": arn("main", "eu-west-1")})
    regions.stubber.add_response("get_trail_status", {"IsLogging": True}, {"Name": trail.arn})
    assert trail_status(regions, trail) == {"IsLogging": True}
    assert regions.asked == [("cloudtrail", "eu-west-1")]


def test_the_event_selectors_are_read_in_the_home_region_by_arn():
    regions = Regions()
    trail = Trail.from_description({"Name": "main", "TrailARN": arn("main", "eu-west-1")})
    answer = {"TrailARN": trail.arn, "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}
    regions.stubber.add_response("get_event_selectors", answer, {"TrailName": trail.arn})
    assert event_selectors(regions, trail) == answer
    assert regions.asked == [("cloudtrail", "eu-west-1")]
    regions.stubber.add_response("get_event_selectors", answer, {"TrailName": trail.arn})
    assert management_events_all(regions, trail) is True


@pytest.mark.parametrize("code", ["TrailNotFoundException", "CloudTrailARNInvalidException"])
def test_an_organisation_trail_a_member_may_not_read_names_its_owner(code):
    regions = Regions()
    trail = org_trail()
    regions.stubber.add_client_error("get_trail_status", code, expected_params={"Name": trail.arn})
    regions.stubber.add_client_error("get_event_selectors", code, expected_params={"TrailName": trail.arn})
    for read in (trail_status, event_selectors):
        with pytest.raises(TrailUnreadableError) as raised:
            read(regions, trail)
        assert (raised.value.trail, raised.value.code) == (trail, code)
        assert isinstance(raised.value.__cause__, ClientError)
        assert str(raised.value) == (
            f"Trail org is an organisation trail owned by account {MANAGEMENT}; this account cannot read it ({code})."
        )


def test_the_accounts_own_trail_deleted_since_it_was_listed_fails_as_the_api_said():
    regions = Regions()
    trail = Trail.from_description({"Name": "main", "TrailARN": arn("main", "eu-west-1")})
    regions.stubber.add_client_error("get_trail_status", "TrailNotFoundException")
    with pytest.raises(ClientError) as raised:
        trail_status(regions, trail)
    assert not isinstance(raised.value, TrailUnreadableError)


def test_an_organisation_trail_denied_for_another_reason_fails_as_the_api_said():
    regions = Regions()
    regions.stubber.add_client_error("get_event_selectors", "AccessDeniedException")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        event_selectors(regions, org_trail())


# --- Whether a trail logs every management event ---------------------------------------------------

MANAGEMENT_EVENTS = {"Field": "eventCategory", "Equals": ["Management"]}


def advanced(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"AdvancedEventSelectors": [{"Name": "s", "FieldSelectors": list(fields)}]}


@pytest.mark.parametrize(
    ("selectors", "logs_all"),
    [
        pytest.param({"EventSelectors": None, "AdvancedEventSelectors": None}, False, id="null_selectors"),
        pytest.param(
            {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}, True, id="classic_all"
        ),
        pytest.param(
            {
                "EventSelectors": [
                    {"ReadWriteType": "All", "IncludeManagementEvents": True, "ExcludeManagementEventSources": []}
                ]
            },
            True,
            id="classic_excluding_no_source",
        ),
        pytest.param(
            {"EventSelectors": [{"ReadWriteType": "All"}]}, False, id="classic_without_management_events_flag"
        ),
        pytest.param(
            {
                "EventSelectors": [
                    {
                        "ReadWriteType": "All",
                        "IncludeManagementEvents": True,
                        "ExcludeManagementEventSources": ["kms.amazonaws.com"],
                    }
                ]
            },
            False,
            id="classic_excluding_kms_events",
        ),
        pytest.param(advanced(MANAGEMENT_EVENTS), True, id="advanced_management"),
        pytest.param({"AdvancedEventSelectors": [{"Name": "s"}]}, False, id="advanced_without_fields"),
        pytest.param(
            advanced(MANAGEMENT_EVENTS, {"Field": "readOnly", "Equals": ["false"]}), False, id="advanced_writes_only"
        ),
        pytest.param(
            advanced(MANAGEMENT_EVENTS, {"Field": "eventCategory", "Equals": ["Data"]}),
            False,
            id="advanced_two_category_conditions",
        ),
        pytest.param(
            advanced({"Field": "eventCategory", "Equals": ["Management", "Data"]}), False, id="advanced_two_categories"
        ),
        pytest.param(advanced({"Field": "eventCategory"}), False, id="advanced_category_without_value"),
        *(
            pytest.param(advanced({**MANAGEMENT_EVENTS, key: ["kms"]}), False, id=f"advanced_management_{key}_narrowed")
            for key in ("NotEquals", "StartsWith", "NotStartsWith", "EndsWith", "NotEndsWith")
        ),
    ],
)
def test_which_selectors_log_every_management_event(selectors, logs_all):
    assert selectors_log_all_management_events(selectors) is logs_all
