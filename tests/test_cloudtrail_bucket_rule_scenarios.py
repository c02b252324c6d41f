"""The CloudTrail log bucket of trail ``main`` in account 123456789012, as CIS 2.3
(rules/CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC) and CIS 2.6 (rules/CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING)
judge it: on the periodic run and on a configuration change of the bucket, public or private,
logged or not, and what each rule says when a read is denied (NON_COMPLIANT ``Could not
evaluate``, never COMPLIANT).

CloudTrail, S3 and S3 Control are botocore's ``Stubber`` on the pack's own clients
(``cis_rule.Clients``, which names the IAM action of a failed call): each scenario queues exactly
the answers of its state, and a call it did not queue, or a client in a region it did not expect,
fails the test, so "read only when needed" is checked too. The rules' RDK tables run the same
rules against moto; these scenarios are the fast ones.
"""

from __future__ import annotations

import importlib
import json
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

import cis_parallel
from cis_rule import Clients, RuleFailed
from cis_trail_buckets import TrailBucket
from cispack import RULES_DIR
from cispack.local.config import ComplianceLedger
from cispack.local.events import scheduled_event
from cispack.testing.cases import RunningOut

NOT_PUBLIC = "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC"
ACCESS_LOGGING = "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING"


def rule_module(name: str) -> Any:
    """The rule's module as Lambda finds it: imported by name from its folder."""
    folder = str(RULES_DIR / name)
    # Appended, not prepended: a module of this name found earlier on the path (or already imported) wins.
    if folder not in sys.path:
        sys.path.append(folder)
    return importlib.import_module(name)


not_public = rule_module(NOT_PUBLIC)
access_logging = rule_module(ACCESS_LOGGING)

ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "us-east-1"
BUCKET = "ct-logs"
S3_BUCKET = "AWS::S3::Bucket"
SUBJECT = f"S3 bucket {BUCKET} (CloudTrail logs of main)"
PRIVATE = (
    "is not public: no ACL grant to AllUsers or AuthenticatedUsers and no policy statement allowing any principal."
)
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
OWNER = {"DisplayName": "owner", "ID": "c" * 64}
PUBLIC_READ = {
    "Sid": "PublicRead",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
EVENT = {"accountId": ACCOUNT}


def trail(name: str = "main", bucket: str = BUCKET, region: str = REGION, account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "Name": name,
        "S3BucketName": bucket,
        "IsMultiRegionTrail": True,
        "IsOrganizationTrail": False,
        "HomeRegion": region,
        "TrailARN": f"arn:aws:cloudtrail:{region}:{account}:trail/{name}",
    }


def denied(operation: str) -> dict[str, Any]:
    return {"service_error_code": "AccessDenied", "service_message": f"{operation} denied", "http_status_code": 403}


#: The pack's clients, built once for every scenario (building them is most of a scenario's time);
#: each scenario stubs them afresh, and the fixture below unstubs them after it.
CLIENTS = Clients(None, REGION, False)
ACTIVE: list[Stubber] = []


class Account:
    """The account's AWS as the rule's client factory hands it out: one stubbed client per
    service and region, built ahead by the scenario (:meth:`stub`)."""

    def __init__(self) -> None:
        self.clients = CLIENTS
        self.stubs: dict[tuple[str, str], Stubber] = {}

    def stub(self, service: str, region: str = REGION) -> Stubber:
        if (service, region) not in self.stubs:
            stubber = Stubber(self.clients.build_client(service, region))
            stubber.activate()
            ACTIVE.append(stubber)
            self.stubs[(service, region)] = stubber
        return self.stubs[(service, region)]

    def build_client(self, service: str, region: str | None = None, assume_role_mode: bool = True) -> Any:
        if (service, region or REGION) not in self.stubs:
            raise AssertionError(f"the scenario expects no {service} client in {region or REGION}")
        return self.clients.build_client(service, region, assume_role_mode)

    # --- What the account holds ------------------------------------------------------------

    def trails(self, *described: dict[str, Any], listed: tuple[dict[str, Any], ...] | None = None) -> Account:
        """``DescribeTrails`` in the rule's region, and ``ListTrails`` (the described ones unless told)."""
        cloudtrail = self.stub("cloudtrail")
        cloudtrail.add_response("describe_trails", {"trailList": list(described)}, {"includeShadowTrails": True})
        names = described if listed is None else listed
        listing = [{"TrailARN": t["TrailARN"], "Name": t["Name"], "HomeRegion": t["HomeRegion"]} for t in names]
        cloudtrail.add_response("list_trails", {"Trails": listing}, {})
        return self

    def trail_homed_elsewhere(self, described: dict[str, Any]) -> Account:
        """A single-region trail of another region: listed here, described in its home region."""
        home = described["HomeRegion"]
        self.stub("cloudtrail", home).add_response(
            "describe_trails", {"trailList": [described]}, {"trailNameList": [described["TrailARN"]]}
        )
        return self

    def buckets(self, *names: str, region: str = REGION) -> Account:
        """``ListBuckets`` (one page), each bucket in ``region``."""
        created = datetime(2026, 1, 1, tzinfo=UTC)
        listed = [{"Name": name, "CreationDate": created, "BucketRegion": region} for name in names]
        self.stub("s3").add_response("list_buckets", {"Buckets": listed, "Owner": OWNER}, {})
        return self

    def account_block(self, **settings: bool) -> Account:
        """The account's Block Public Access: none when no setting is given."""
        stub = self.stub("s3control")
        params = {"AccountId": ACCOUNT}
        if settings:
            stub.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": settings}, params)
        else:
            stub.add_client_error(
                "get_public_access_block", "NoSuchPublicAccessBlockConfiguration", http_status_code=404,
                expected_params=params,
            )  # fmt: skip
        return self

    def bucket_acl(self, *public_grants: str, region: str = REGION) -> Account:
        grants = [{"Grantee": {"Type": "CanonicalUser", **OWNER}, "Permission": "FULL_CONTROL"}]
        grants += [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": p} for p in public_grants]
        self.stub("s3", region).add_response("get_bucket_acl", {"Owner": OWNER, "Grants": grants}, {"Bucket": BUCKET})
        return self

    def bucket_policy(self, *statements: dict[str, Any], region: str = REGION) -> Account:
        stub = self.stub("s3", region)
        if statements:
            policy = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
            stub.add_response("get_bucket_policy", {"Policy": policy}, {"Bucket": BUCKET})
        else:
            stub.add_client_error(
                "get_bucket_policy", "NoSuchBucketPolicy", http_status_code=404, expected_params={"Bucket": BUCKET}
            )
        return self

    def bucket_block(self, region: str = REGION) -> Account:
        """The bucket's Block Public Access: none."""
        self.stub("s3", region).add_client_error(
            "get_public_access_block", "NoSuchPublicAccessBlockConfiguration", http_status_code=404,
            expected_params={"Bucket": BUCKET},
        )  # fmt: skip
        return self

    def logging(self, target: str | None, region: str = REGION) -> Account:
        """``GetBucketLogging``: to ``target`` with prefix ``ct/``, or off."""
        answer = {"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "ct/"}} if target else {}
        self.stub("s3", region).add_response("get_bucket_logging", answer, {"Bucket": BUCKET})
        return self

    def bucket_unread(self) -> Account:
        """An S3 client in the bucket's region with nothing queued: any read of the bucket fails the test."""
        self.stub("s3")
        return self

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def verdicts(evaluations: list[Any]) -> list[tuple[str, str, str]]:
    """(bucket, compliance, annotation) of each evaluation, every one about an S3 bucket."""
    assert {e.complianceResourceType for e in evaluations} <= {S3_BUCKET}
    return [(e.complianceResourceId, e.complianceType, e.annotation) for e in evaluations]


@pytest.fixture(autouse=True)
def serial(monkeypatch):
    """Buckets judged one after another, so that one stubbed client answers them in order, and
    fake credentials, so that building a client looks for none."""
    monkeypatch.setattr(cis_parallel, "WORKERS", 1)
    for variable, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(variable, value)
    yield
    while ACTIVE:
        ACTIVE.pop().deactivate()


def periodic(rule: Any, aws: Account) -> list[tuple[str, str, str]]:
    result = verdicts(rule.evaluate_periodic(EVENT, aws, {}))
    aws.done()
    return result


def item(supplementary: dict[str, Any] | None = None, owner: str = ACCOUNT, name: str = BUCKET) -> dict[str, Any]:
    """The bucket's configuration item, as a change notification carries it."""
    return {
        "resourceType": S3_BUCKET,
        "resourceId": name,
        "awsAccountId": owner,
        "awsRegion": REGION,
        "configurationItemStatus": "OK",
        "configuration": {"name": name, "owner": {"id": "c" * 64}, "creationDate": "2026-01-01T00:00:00.000Z"},
        "supplementaryConfiguration": supplementary or {},
    }


def change(rule: Any, aws: Account, configuration_item: dict[str, Any]) -> list[tuple[str, str, str]]:
    result = verdicts(rule.evaluate_change(EVENT, aws, configuration_item, {}))
    aws.done()
    return result


# --- CIS 2.3, periodic: is the trail's bucket public? ---------------------------------------------


def test_private_trail_bucket_is_compliant():
    aws = Account().trails(trail()).buckets(BUCKET).account_block().bucket_acl().bucket_policy().bucket_block()
    assert periodic(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws) == [
        (BUCKET, "COMPLIANT", f"{SUBJECT} {PRIVATE}")
    ]


def test_trail_bucket_readable_by_everyone_is_non_compliant():
    aws = Account().trails(trail()).buckets(BUCKET).account_block()
    aws.bucket_acl("READ").bucket_policy().bucket_block()
    assert periodic(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws) == [
        (BUCKET, "NON_COMPLIANT", f"{SUBJECT} is public: its ACL grants READ to AllUsers.")
    ]


def test_public_policy_restricted_by_the_account_block_is_compliant_and_says_so():
    aws = Account().trails(trail()).buckets(BUCKET).account_block(RestrictPublicBuckets=True)
    aws.bucket_acl().bucket_policy(PUBLIC_READ).bucket_block()
    assert periodic(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws) == [
        (
            BUCKET,
            "COMPLIANT",
            f"{SUBJECT} is not public: its bucket policy allows any principal without a restricting condition "
            "(statement PublicRead) but RestrictPublicBuckets is on (account level).",
        )
    ]


def test_trail_bucket_in_another_region_is_read_there():
    aws = Account().trails(trail()).buckets(BUCKET, region="eu-west-1").account_block()
    aws.bucket_acl("READ", region="eu-west-1").bucket_policy(region="eu-west-1").bucket_block(region="eu-west-1")
    assert periodic(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws) == [
        (BUCKET, "NON_COMPLIANT", f"{SUBJECT} is public: its ACL grants READ to AllUsers.")
    ]


def test_bucket_of_a_single_region_trail_homed_in_another_region_is_judged():
    regional = {**trail("regional", region="eu-west-1"), "IsMultiRegionTrail": False}
    aws = Account().trails(listed=(regional,)).trail_homed_elsewhere(regional).buckets(BUCKET).account_block()
    aws.bucket_acl().bucket_policy().bucket_block()
    assert periodic(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws) == [
        (BUCKET, "COMPLIANT", f"S3 bucket {BUCKET} (CloudTrail logs of regional) {PRIVATE}")
    ]


def test_bucket_policy_denied_to_the_rule_is_could_not_evaluate_never_compliant():
    aws = Account().trails(trail()).buckets(BUCKET).account_block().bucket_acl()
    aws.stub("s3").add_client_error("get_bucket_policy", **denied("GetBucketPolicy"))
    assert periodic(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws) == [
        (BUCKET, "NON_COMPLIANT", f"Could not evaluate: s3:GetBucketPolicy was denied (AccessDenied) for {SUBJECT}.")
    ]


def test_no_owned_trail_bucket_reads_no_block_public_access():
    # The trail delivers to another account's central bucket: nothing to judge, and no s3control client.
    aws = Account().trails(trail(bucket="org-central-logs")).buckets("website")
    assert periodic(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws) == []


def test_account_block_public_access_denied_fails_the_whole_run():
    aws = Account().trails(trail()).buckets(BUCKET)
    aws.stub("s3control").add_client_error("get_public_access_block", **denied("GetPublicAccessBlock"))
    with pytest.raises(ClientError, match="AccessDenied"):
        not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC().evaluate_periodic(EVENT, aws, {})


# --- CIS 2.3, on a change of the bucket -----------------------------------------------------------

PUBLIC_ACL_ITEM = {"AccessControlList": json.dumps({"grantList": [{"grantee": "AllUsers", "permission": "Read"}]})}
NOTHING_PUBLIC_ITEM = {
    "AccessControlList": json.dumps({"grantList": [{"grantee": {"id": "c" * 64}, "permission": "FullControl"}]}),
    "BucketPolicy": {"policyText": None},
}


def test_bucket_made_public_on_change_is_non_compliant():
    aws = Account().trails(trail()).bucket_policy().bucket_block().account_block()
    assert change(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws, item(PUBLIC_ACL_ITEM)) == [
        (BUCKET, "NON_COMPLIANT", f"{SUBJECT} is public: its ACL grants READ to AllUsers.")
    ]


def test_bucket_made_private_on_change_is_compliant_without_reading_block_public_access():
    aws = Account().trails(trail()).bucket_unread()
    assert change(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws, item(NOTHING_PUBLIC_ITEM)) == [
        (BUCKET, "COMPLIANT", f"{SUBJECT} {PRIVATE}")
    ]


def test_public_acl_ignored_by_the_account_block_on_change_is_compliant():
    aws = Account().trails(trail()).bucket_policy().bucket_block().account_block(IgnorePublicAcls=True)
    assert change(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws, item(PUBLIC_ACL_ITEM)) == [
        (
            BUCKET,
            "COMPLIANT",
            f"{SUBJECT} is not public: its ACL grants READ to AllUsers but IgnorePublicAcls is on (account level).",
        )
    ]


def test_bucket_of_no_trail_is_not_applicable_on_change():
    aws = Account().trails(trail(bucket="other-logs"))
    assert change(not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC(), aws, item(PUBLIC_ACL_ITEM)) == [
        (BUCKET, "NOT_APPLICABLE", f"S3 bucket {BUCKET} is not the log bucket of any trail of this account.")
    ]


def test_account_block_public_access_denied_on_change_fails_the_run():
    aws = Account().trails(trail()).bucket_policy().bucket_block()
    aws.stub("s3control").add_client_error("get_public_access_block", **denied("GetPublicAccessBlock"))
    with pytest.raises(ClientError, match="AccessDenied"):
        not_public.CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC().evaluate_change(EVENT, aws, item(PUBLIC_ACL_ITEM), {})


# --- CIS 2.6, periodic: is the trail's bucket logged? ---------------------------------------------


def test_logged_trail_bucket_is_compliant_naming_the_target():
    aws = Account().trails(trail()).buckets(BUCKET).logging("access-logs")
    assert periodic(access_logging.CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), aws) == [
        (BUCKET, "COMPLIANT", f"{SUBJECT} has server access logging on, to bucket access-logs.")
    ]


def test_unlogged_trail_bucket_is_non_compliant():
    aws = Account().trails(trail()).buckets(BUCKET).logging(None)
    assert periodic(access_logging.CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), aws) == [
        (BUCKET, "NON_COMPLIANT", f"{SUBJECT} has server access logging off.")
    ]


def test_logging_of_the_bucket_of_a_single_region_trail_homed_in_another_region_is_judged():
    regional = {**trail("regional", region="eu-west-1"), "IsMultiRegionTrail": False}
    aws = Account().trails(listed=(regional,)).trail_homed_elsewhere(regional).buckets(BUCKET).logging(None)
    assert periodic(access_logging.CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), aws) == [
        (BUCKET, "NON_COMPLIANT", f"S3 bucket {BUCKET} (CloudTrail logs of regional) has server access logging off.")
    ]


def test_bucket_logging_denied_to_the_rule_is_could_not_evaluate_never_compliant():
    aws = Account().trails(trail()).buckets(BUCKET)
    aws.stub("s3").add_client_error("get_bucket_logging", **denied("GetBucketLogging"))
    assert periodic(access_logging.CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), aws) == [
        (BUCKET, "NON_COMPLIANT", f"Could not evaluate: s3:GetBucketLogging was denied (AccessDenied) for {SUBJECT}.")
    ]


class S3WithoutTarget:
    """An S3 answer that turns logging on without naming its target (the API model requires the
    name, so the Stubber cannot give it; an S3-compatible endpoint might)."""

    def get_bucket_logging(self, Bucket: str) -> dict[str, Any]:
        assert Bucket == BUCKET
        return {"LoggingEnabled": {"TargetPrefix": "ct/"}}


def test_logging_on_without_a_named_target_is_compliant_and_says_so():
    bucket = TrailBucket(BUCKET, (), S3WithoutTarget())
    assert access_logging._logging_target(bucket) == "an unnamed bucket"


# --- CIS 2.6, on a change of the bucket -----------------------------------------------------------

ON = {"destinationBucketName": "access-logs", "logFilePrefix": "ct/"}
OFF = {"destinationBucketName": None, "logFilePrefix": None}


@pytest.mark.parametrize(
    ("case", "recorded", "expected"),
    [
        ("recorded_on_as_object", ON, "on, to bucket access-logs"),
        ("recorded_on_as_json_string", json.dumps(ON), "on, to bucket access-logs"),
        ("recorded_off", OFF, "off"),
        ("recorded_off_as_json_string", json.dumps(OFF), "off"),
    ],
)
def test_logging_recorded_in_the_item_is_judged_without_reading_the_bucket(case, recorded, expected):
    aws = Account().trails(trail()).bucket_unread()
    compliance = "COMPLIANT" if expected.startswith("on") else "NON_COMPLIANT"
    configuration_item = item({"BucketLoggingConfiguration": recorded})
    assert change(access_logging.CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), aws, configuration_item) == [
        (BUCKET, compliance, f"{SUBJECT} has server access logging {expected}.")
    ]


@pytest.mark.parametrize(
    ("case", "supplementary"),
    [
        ("not_recorded", {}),
        ("not_json", {"BucketLoggingConfiguration": "{not json"}),
        ("no_destination_field", {"BucketLoggingConfiguration": {"logFilePrefix": "ct/"}}),
        ("empty_destination", {"BucketLoggingConfiguration": {"destinationBucketName": ""}}),
        ("destination_not_a_name", {"BucketLoggingConfiguration": {"destinationBucketName": 42}}),
        ("not_an_object", {"BucketLoggingConfiguration": ["access-logs"]}),
    ],
)
def test_logging_the_item_does_not_record_readably_is_read_from_the_bucket(case, supplementary):
    aws = Account().trails(trail()).logging("access-logs")
    assert change(access_logging.CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), aws, item(supplementary)) == [
        (BUCKET, "COMPLIANT", f"{SUBJECT} has server access logging on, to bucket access-logs.")
    ]


def test_logging_turned_off_read_from_the_bucket_is_non_compliant():
    aws = Account().trails(trail()).logging(None)
    assert change(access_logging.CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), aws, item()) == [
        (BUCKET, "NON_COMPLIANT", f"{SUBJECT} has server access logging off.")
    ]


def test_bucket_of_another_account_is_not_applicable_on_change_and_reads_nothing():
    aws = Account()
    assert change(access_logging.CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING(), aws, item(owner=OTHER)) == [
        (
            BUCKET,
            "NOT_APPLICABLE",
            f"S3 bucket {BUCKET} belongs to account {OTHER}, whose own deployment of the rule judges it.",
        )
    ]


# --- The handlers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [not_public, access_logging], ids=[NOT_PUBLIC, ACCESS_LOGGING])
def test_handler_out_of_time_stops_before_its_first_request(module, monkeypatch):
    # No AWS here: a request that did leave would meet a closed local port.
    for variable, value in (
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_MAX_ATTEMPTS", "1"),
    ):
        monkeypatch.setenv(variable, value)
    name = module.__name__
    ledger = ComplianceLedger(current_rule=name).install()
    try:
        with pytest.raises(RuleFailed, match=r"Stopped with 1\.0 s left"):
            module.lambda_handler(scheduled_event(name, account=ACCOUNT, region=REGION), RunningOut())
    finally:
        ledger.uninstall()
