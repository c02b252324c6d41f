"""Change triggers of CIS 2.3, 2.6 (``AWS::S3::Bucket``) and 4.4 (``AWS::EC2::RouteTable``): each
rule is fed configuration items built from the moto resources they describe
(:mod:`cispack.local.config_items`), as a change notification and as an oversized one (read back
through the local Config seam's ``GetResourceConfigHistory``), and its verdict on the one resource
must be the periodic run's verdict for that resource, annotation included. A resource the periodic
run does not report (not a trail bucket, another account's table, deleted) is NOT_APPLICABLE on
change. Every scenario also names the verdict it expects, so that two equally wrong runs fail."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from cis_rule import RuleFailed
from cispack.catalog.rules import import_rule_module
from cispack.local.builders import add_bucket, set_account_block
from cispack.local.config import ComplianceLedger, ConfigHistory, observe, respond
from cispack.local.config_items import bucket_item, deleted_item, history_item, route_table_item
from cispack.local.events import change_event, oversized_change_event, scheduled_event
from cispack.testing.cases import ACCOUNT_ID, REGION, Verdict
from cispack.testing.trails import listed_elsewhere, trail

NOT_PUBLIC = "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC"
LOGGING = "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING"
ROUTES = "VPC_PEERING_ROUTES_LEAST_ACCESS"
BUCKET = "AWS::S3::Bucket"
TABLE = "AWS::EC2::RouteTable"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class World:
    """One moto account with the local Config seam (evaluations and configuration history)."""

    ledger: ComplianceLedger
    history: ConfigHistory
    stack: ExitStack
    ids: dict[str, str] = field(default_factory=dict)

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(service, region_name=region)

    def respond(self, service: str, operation: str, response: Mapping[str, Any] | None = None, **kw: Any) -> None:
        self.stack.enter_context(respond(service, operation, response, **kw))

    def _run(self, rule: str, event: dict[str, Any]) -> Any:
        self.ledger.current_rule = rule
        try:
            return import_rule_module(rule).lambda_handler(event, None)
        except RuleFailed as failed:
            return failed.response

    def periodic(self, rule: str, parameters: Mapping[str, Any] | None = None) -> dict[str, Verdict]:
        answer = self._run(rule, scheduled_event(rule, parameters, account=ACCOUNT_ID, region=REGION, now=NOW))
        assert isinstance(answer, list), answer
        return {e["ComplianceResourceId"]: Verdict.from_json(e) for e in answer}

    def change(
        self,
        rule: str,
        item: Mapping[str, Any],
        *,
        oversized: bool = False,
        left_scope: bool = False,
        parameters: Mapping[str, Any] | None = None,
    ) -> Any:
        """The rule's answer to a change of ``item``: its one evaluation as a Verdict, or its error."""
        build = oversized_change_event if oversized else change_event
        if oversized:
            self.history.record(history_item(item))
        event = build(rule, item, parameters, account=ACCOUNT_ID, region=REGION, now=NOW, left_scope=left_scope)
        answer = self._run(rule, event)
        if isinstance(answer, dict):
            return answer
        [evaluation] = answer
        assert evaluation["OrderingTimestamp"], "a change evaluation is ordered by the item's capture time"
        return Verdict.from_json(evaluation)

    def same_as_periodic(self, rule: str, item: Mapping[str, Any], **kw: Any) -> Verdict:
        """The change verdict on ``item``, after checking it equals the periodic run's (in both
        notification forms); NOT_APPLICABLE where the periodic run does not report the resource."""
        periodic = self.periodic(rule, kw.get("parameters")).get(item["resourceId"])
        verdicts = [self.change(rule, item, oversized=oversized, **kw) for oversized in (False, True)]
        assert verdicts[0] == verdicts[1], "an oversized item gives the verdict of the item itself"
        verdict = verdicts[0]
        assert isinstance(verdict, Verdict), verdict
        if periodic is None:
            assert verdict.compliance == "NOT_APPLICABLE", verdict
        else:
            assert verdict == periodic
        return verdict


@pytest.fixture
def world(aws):
    with ExitStack() as stack:
        ledger = ComplianceLedger().install()
        stack.callback(ledger.uninstall)
        history = ConfigHistory().install()
        stack.callback(history.uninstall)
        yield World(ledger, history, stack)


# --- AWS::S3::Bucket: CIS 2.3 and 2.6 --------------------------------------------------------------


def bucket(
    name: str, region: str = REGION, acl: str | None = None, policy: list[Any] | None = None, block=(), log=None
):
    return lambda world: add_bucket(world, name, region, acl=acl, policy=policy, block=block, log_to=log)


def account_block(*settings: str) -> Callable[[World], Any]:
    return lambda world: set_account_block(world, *settings)


def anyone(name: str, sid: str = "PublicRead", condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*",
    }
    if condition:
        statement["Condition"] = condition
    return statement


def without(*keys: str) -> Callable[[dict[str, Any]], None]:
    """An item whose supplementary configuration lacks ``keys`` (not recorded): the API is asked."""

    def edit(item: dict[str, Any]) -> None:
        for key in keys:
            item["supplementaryConfiguration"].pop(key, None)

    return edit


def as_objects(item: dict[str, Any]) -> None:
    """Every supplementary value an object, the ACL included (as rdklib reads an oversized item back)."""
    supplementary = item["supplementaryConfiguration"]
    supplementary["AccessControlList"] = json.loads(supplementary["AccessControlList"])


PRIVATE = (
    "is not public: no ACL grant to AllUsers or AuthenticatedUsers and no policy statement allowing any principal."
)

# (case, account state, bucket judged, an edit of its item, 2.3 expected, 2.6 expected)
BUCKET_CASES = [
    (
        "private_and_logged",
        [bucket("ct-logs", block=("BlockPublicAcls", "IgnorePublicAcls"), log="access-logs"), trail("main", "ct-logs")],
        "ct-logs",
        None,
        ("COMPLIANT", f"S3 bucket ct-logs (CloudTrail logs of main) {PRIVATE}"),
        (
            "COMPLIANT",
            "S3 bucket ct-logs (CloudTrail logs of main) has server access logging on, to bucket access-logs.",
        ),
    ),
    (
        "acl_grants_all_users",
        [bucket("ct-logs", acl="public-read"), trail("main", "ct-logs")],
        "ct-logs",
        None,
        ("NON_COMPLIANT", "S3 bucket ct-logs (CloudTrail logs of main) is public: its ACL grants READ to AllUsers."),
        ("NON_COMPLIANT", "S3 bucket ct-logs (CloudTrail logs of main) has server access logging off."),
    ),
    (
        "acl_grants_authenticated_users_as_objects",
        [bucket("ct-logs", acl="authenticated-read"), trail("main", "ct-logs")],
        "ct-logs",
        as_objects,
        (
            "NON_COMPLIANT",
            "S3 bucket ct-logs (CloudTrail logs of main) is public: its ACL grants READ to AuthenticatedUsers.",
        ),
        ("NON_COMPLIANT", "S3 bucket ct-logs (CloudTrail logs of main) has server access logging off."),
    ),
    (
        "policy_allows_anyone",
        [bucket("ct-logs", policy=[anyone("ct-logs")]), trail("main", "ct-logs")],
        "ct-logs",
        None,
        (
            "NON_COMPLIANT",
            "S3 bucket ct-logs (CloudTrail logs of main) is public: its bucket policy allows any principal "
            "without a restricting condition (statement PublicRead).",
        ),
        ("NON_COMPLIANT", "S3 bucket ct-logs (CloudTrail logs of main) has server access logging off."),
    ),
    (
        "policy_through_one_vpc_endpoint",
        [
            bucket("ct-logs", policy=[anyone("ct-logs", condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b"}})]),
            trail("main", "ct-logs"),
        ],
        "ct-logs",
        None,
        ("COMPLIANT", f"S3 bucket ct-logs (CloudTrail logs of main) {PRIVATE}"),
        ("NON_COMPLIANT", "S3 bucket ct-logs (CloudTrail logs of main) has server access logging off."),
    ),
    (
        "public_acl_ignored_at_bucket_level",
        [bucket("ct-logs", acl="public-read", block=("IgnorePublicAcls",)), trail("main", "ct-logs")],
        "ct-logs",
        None,
        (
            "COMPLIANT",
            "S3 bucket ct-logs (CloudTrail logs of main) is not public: its ACL grants READ to AllUsers but "
            "IgnorePublicAcls is on (bucket level).",
        ),
        ("NON_COMPLIANT", "S3 bucket ct-logs (CloudTrail logs of main) has server access logging off."),
    ),
    (
        "block_public_access_not_recorded_but_set",
        [bucket("ct-logs", acl="public-read", block=("IgnorePublicAcls",)), trail("main", "ct-logs")],
        "ct-logs",
        without("PublicAccessBlockConfiguration"),
        (
            "COMPLIANT",
            "S3 bucket ct-logs (CloudTrail logs of main) is not public: its ACL grants READ to AllUsers but "
            "IgnorePublicAcls is on (bucket level).",
        ),
        ("NON_COMPLIANT", "S3 bucket ct-logs (CloudTrail logs of main) has server access logging off."),
    ),
    (
        "public_policy_restricted_at_account_level",
        [
            bucket("ct-logs", policy=[anyone("ct-logs")]),
            trail("main", "ct-logs"),
            account_block("RestrictPublicBuckets"),
        ],
        "ct-logs",
        None,
        (
            "COMPLIANT",
            "S3 bucket ct-logs (CloudTrail logs of main) is not public: its bucket policy allows any principal "
            "without a restricting condition (statement PublicRead) but RestrictPublicBuckets is on (account level).",
        ),
        ("NON_COMPLIANT", "S3 bucket ct-logs (CloudTrail logs of main) has server access logging off."),
    ),
    (
        "item_records_none_of_the_settings",
        [bucket("ct-logs", acl="public-read", log="access-logs"), trail("main", "ct-logs")],
        "ct-logs",
        without("AccessControlList", "BucketPolicy", "PublicAccessBlockConfiguration", "BucketLoggingConfiguration"),
        ("NON_COMPLIANT", "S3 bucket ct-logs (CloudTrail logs of main) is public: its ACL grants READ to AllUsers."),
        (
            "COMPLIANT",
            "S3 bucket ct-logs (CloudTrail logs of main) has server access logging on, to bucket access-logs.",
        ),
    ),
    (
        "two_trails_one_bucket_in_another_region",
        [
            bucket("ct-eu", region="eu-west-1", acl="public-read"),
            trail("eu-main", "ct-eu", "eu-west-1", multi=True),
            trail("eu-only", "ct-eu", "eu-west-1"),
            listed_elsewhere(("eu-only", "eu-west-1")),
        ],
        "ct-eu",
        None,
        (
            "NON_COMPLIANT",
            "S3 bucket ct-eu (CloudTrail logs of eu-main and eu-only) is public: its ACL grants READ to AllUsers.",
        ),
        ("NON_COMPLIANT", "S3 bucket ct-eu (CloudTrail logs of eu-main and eu-only) has server access logging off."),
    ),
    (
        "not_a_trail_bucket",
        [bucket("ct-logs"), trail("main", "ct-logs"), bucket("website", acl="public-read")],
        "website",
        None,
        ("NOT_APPLICABLE", "S3 bucket website is not the log bucket of any trail of this account."),
        ("NOT_APPLICABLE", "S3 bucket website is not the log bucket of any trail of this account."),
    ),
]


@pytest.mark.parametrize(
    ("case", "given", "name", "edit", "not_public", "logging"), BUCKET_CASES, ids=[c[0] for c in BUCKET_CASES]
)
def test_a_bucket_change_gets_the_periodic_verdict(world, case, given, name, edit, not_public, logging):
    for step in given:
        step(world)
    item = bucket_item(name, account_id=ACCOUNT_ID, captured=NOW)
    if edit:
        edit(item)
    for rule, expected in ((NOT_PUBLIC, not_public), (LOGGING, logging)):
        verdict = world.same_as_periodic(rule, item)
        assert (verdict.resource_type, verdict.resource_id) == (BUCKET, name)
        assert (verdict.compliance, verdict.annotation) == expected, rule


def test_a_complete_item_of_a_private_bucket_needs_no_s3_call(world):
    bucket("ct-logs", policy=[anyone("ct-logs", condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b"}})])(world)
    trail("main", "ct-logs")(world)
    item = bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW)
    item["supplementaryConfiguration"]["BucketLoggingConfiguration"]["destinationBucketName"] = "access-logs"
    calls: list[str] = []
    session = boto3._get_default_session()
    session.events.register("before-call.s3", lambda model, **_: calls.append(model.name), unique_id="count-s3")
    session.events.register("before-call.s3-control", lambda model, **_: calls.append(model.name), unique_id="count")
    try:
        assert world.change(NOT_PUBLIC, item).compliance == "COMPLIANT"
        assert world.change(LOGGING, item).annotation.endswith("logging on, to bucket access-logs.")
    finally:
        session.events.unregister("before-call.s3", unique_id="count-s3")
        session.events.unregister("before-call.s3-control", unique_id="count")
    assert calls == [], "the item records every setting: nothing is read from S3"


@pytest.mark.parametrize("rule", [NOT_PUBLIC, LOGGING])
def test_a_deleted_bucket_is_not_applicable(world, rule):
    bucket("ct-logs", acl="public-read")(world)
    trail("main", "ct-logs")(world)
    item = bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW - timedelta(hours=1))
    world.client("s3").delete_bucket(Bucket="ct-logs")
    gone = deleted_item(item, NOW)
    assert gone["configurationItemStatus"] == "ResourceDeleted" and gone["configuration"] is None
    verdict = world.same_as_periodic(rule, gone)
    assert (verdict.resource_id, verdict.compliance) == ("ct-logs", "NOT_APPLICABLE")


def test_a_bucket_deleted_before_the_api_is_asked_is_not_applicable(world):
    bucket("ct-logs", acl="public-read")(world)
    trail("main", "ct-logs")(world)
    item = bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW)
    world.client("s3").delete_bucket(Bucket="ct-logs")
    # The ACL is public and the item has no Block Public Access: the bucket's is read, and is gone.
    verdict = world.change(NOT_PUBLIC, item)
    assert verdict == Verdict(
        BUCKET,
        "ct-logs",
        "NOT_APPLICABLE",
        "S3 bucket ct-logs (CloudTrail logs of main) was deleted while the rule ran.",
    )


@pytest.mark.parametrize("rule", [NOT_PUBLIC, LOGGING])
def test_an_item_that_left_the_scope_is_not_applicable(world, rule):
    bucket("ct-logs", acl="public-read")(world)
    trail("main", "ct-logs")(world)
    item = bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW)
    for oversized in (False, True):
        verdict = world.change(rule, item, oversized=oversized, left_scope=True)
        assert (verdict.resource_id, verdict.compliance) == ("ct-logs", "NOT_APPLICABLE")


def test_a_bucket_of_another_account_is_not_applicable(world):
    bucket("ct-logs", acl="public-read")(world)
    trail("main", "ct-logs")(world)
    item = bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW)
    item["awsAccountId"] = "999988887777"
    assert world.change(NOT_PUBLIC, item) == Verdict(
        BUCKET,
        "ct-logs",
        "NOT_APPLICABLE",
        "S3 bucket ct-logs belongs to account 999988887777, whose own deployment of the rule judges it.",
    )


@pytest.mark.parametrize(
    ("case", "service", "operation", "status", "what"),
    [
        ("account_block_public_access", "s3control", "GetPublicAccessBlock", 403, "s3:GetAccountPublicAccessBlock was denied (AccessDenied)"),  # noqa: E501
        ("trails", "cloudtrail", "DescribeTrails", 400, "cloudtrail:DescribeTrails was denied (AccessDeniedException)"),
        ("configuration_history", "config", "GetResourceConfigHistory", 400, "config:GetResourceConfigHistory was denied (AccessDeniedException)"),  # noqa: E501
    ],
)  # fmt: skip
def test_access_denied_on_change_makes_the_resource_could_not_evaluate(world, case, service, operation, status, what):
    # CONTROLS.md, "When a rule cannot judge": the bucket's old verdict must not stand.
    bucket("ct-logs", acl="public-read")(world)
    trail("main", "ct-logs")(world)
    item = bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW)
    item["supplementaryConfiguration"]["PublicAccessBlockConfiguration"] = {
        "blockPublicAcls": False,
        "ignorePublicAcls": False,
        "blockPublicPolicy": False,
        "restrictPublicBuckets": False,
    }
    if case == "configuration_history":
        world.history.uninstall()  # so that the recorded error answers, not the history
    world.respond(service, operation, error="AccessDeniedException" if status == 400 else "AccessDenied", status=status)
    verdict = world.change(NOT_PUBLIC, item, oversized=case == "configuration_history")
    assert verdict == Verdict(BUCKET, "ct-logs", "NON_COMPLIANT", f"Could not evaluate: {what}.")


def test_throttling_after_retries_on_change_sends_nothing_and_fails(world):
    bucket("ct-logs", acl="public-read")(world)
    trail("main", "ct-logs")(world)
    item = bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW)
    world.respond("cloudtrail", "DescribeTrails", error="ThrottlingException", status=400)
    calls = len(world.ledger.calls)
    error = world.change(NOT_PUBLIC, item)
    assert isinstance(error, dict) and error["customerErrorCode"] == "ThrottlingException"
    assert "PutEvaluations" not in world.ledger.calls[calls:]


def test_an_oversized_item_missing_from_the_history_could_not_be_evaluated(world):
    bucket("ct-logs")(world)
    trail("main", "ct-logs")(world)
    item = bucket_item("ct-logs", account_id=ACCOUNT_ID, captured=NOW)
    event = oversized_change_event(NOT_PUBLIC, item, account=ACCOUNT_ID, region=REGION, now=NOW)
    [evaluation] = world._run(NOT_PUBLIC, event)
    assert (evaluation["ComplianceResourceId"], evaluation["ComplianceType"]) == ("ct-logs", "NON_COMPLIANT")
    assert evaluation["Annotation"].startswith(
        "Could not evaluate: config:GetResourceConfigHistory failed (ResourceNotDiscoveredException)"
    )


# --- AWS::EC2::RouteTable: CIS 4.4 -------------------------------------------------------------------


def peered(world: World) -> None:
    """The demo's two peered VPCs: app 10.20.0.0/16 and shared 10.30.0.0/16 (and a ::/56 on shared)."""
    ec2 = world.client("ec2")
    app = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    shared = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=app, PeerVpcId=shared)["VpcPeeringConnection"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
    world.ids.update(app=app, shared=shared, pcx=pcx["VpcPeeringConnectionId"])
    world.ids["table"] = ec2.create_route_table(VpcId=app)["RouteTable"]["RouteTableId"]


def route(**destination: str) -> Callable[[World], None]:
    def step(world: World) -> None:
        world.client("ec2").create_route(
            RouteTableId=world.ids["table"], VpcPeeringConnectionId=world.ids["pcx"], **destination
        )

    return step


def prefix_list(*cidrs: str) -> Callable[[World], None]:
    def step(world: World) -> None:
        ec2 = world.client("ec2")
        entries = [{"Cidr": cidr} for cidr in cidrs]
        pl = ec2.create_managed_prefix_list(PrefixListName="peer", MaxEntries=5, AddressFamily="IPv4", Entries=entries)
        route(DestinationPrefixListId=pl["PrefixList"]["PrefixListId"])(world)

    return step


def connection_deleted(world: World) -> None:
    world.client("ec2").delete_vpc_peering_connection(VpcPeeringConnectionId=world.ids["pcx"])


def no_routes(item: dict[str, Any]) -> None:
    del item["configuration"]["routes"]


# (case, steps after the peered VPCs, parameters, an edit of the item, expected compliance, annotation)
TABLE_CASES = [
    ("no_peering_route", [], {}, None, "COMPLIANT", "Route table {table} has no active route through VPC peering."),
    (
        "route_to_one_peer_subnet",
        [route(DestinationCidrBlock="10.30.4.0/24")],
        {},
        None,
        "COMPLIANT",
        "Route table {table} routes only part of each peer VPC through VPC peering.",
    ),
    (
        "route_to_the_whole_peer_vpc",
        [route(DestinationCidrBlock="10.30.0.0/16")],
        {},
        None,
        "NON_COMPLIANT",
        "Route table {table} routes more than least access through {pcx}: 10.30.0.0/16 covers all of 10.30.0.0/16 "
        "of peer {shared}.",
    ),
    (
        "default_route_through_peering",
        [route(DestinationCidrBlock="0.0.0.0/0")],
        {},
        None,
        "NON_COMPLIANT",
        "Route table {table} routes more than least access through {pcx}: 0.0.0.0/0 is a default route.",
    ),
    (
        "prefix_list_covering_the_peer",
        [prefix_list("10.30.1.0/24", "10.0.0.0/8")],
        {},
        None,
        "NON_COMPLIANT",
        "Route table {table} routes more than least access through {pcx}: 10.0.0.0/8 covers all of 10.30.0.0/16 "
        "of peer {shared}.",
    ),
    (
        "shorter_than_the_minimum_prefix",
        [route(DestinationCidrBlock="10.30.0.0/20")],
        {"minPeeringPrefixLength": "24"},
        None,
        "NON_COMPLIANT",
        "Route table {table} routes more than least access through {pcx}: 10.30.0.0/20 is shorter than /24.",
    ),
    (
        "route_through_a_deleted_connection",
        [route(DestinationCidrBlock="10.30.0.0/16"), connection_deleted],
        {},
        None,
        "COMPLIANT",
        "Route table {table} has no active route through VPC peering.",
    ),
    (
        "item_without_a_route_list",
        [route(DestinationCidrBlock="10.30.0.0/16")],
        {},
        no_routes,
        "NON_COMPLIANT",
        "Route table {table} routes more than least access through {pcx}: 10.30.0.0/16 covers all of 10.30.0.0/16 "
        "of peer {shared}.",
    ),
]


@pytest.mark.parametrize(
    ("case", "given", "parameters", "edit", "compliance", "annotation"), TABLE_CASES, ids=[c[0] for c in TABLE_CASES]
)
def test_a_route_table_change_gets_the_periodic_verdict(world, case, given, parameters, edit, compliance, annotation):
    peered(world)
    for step in given:
        step(world)
    item = route_table_item(world.ids["table"], account_id=ACCOUNT_ID, captured=NOW)
    if edit:
        edit(item)
    verdict = world.same_as_periodic(ROUTES, item, parameters=parameters)
    assert verdict == Verdict(TABLE, world.ids["table"], compliance, annotation.format(**world.ids))


def test_a_deleted_route_table_is_not_applicable(world):
    peered(world)
    item = route_table_item(world.ids["table"], account_id=ACCOUNT_ID, captured=NOW - timedelta(hours=1))
    world.client("ec2").delete_route_table(RouteTableId=world.ids["table"])
    verdict = world.same_as_periodic(ROUTES, deleted_item(item, NOW))
    assert (verdict.resource_id, verdict.compliance) == (world.ids["table"], "NOT_APPLICABLE")


def test_a_route_table_deleted_before_the_fallback_read_is_not_applicable(world):
    peered(world)
    item = route_table_item(world.ids["table"], account_id=ACCOUNT_ID, captured=NOW)
    no_routes(item)
    world.client("ec2").delete_route_table(RouteTableId=world.ids["table"])
    table = world.ids["table"]
    assert world.change(ROUTES, item) == Verdict(
        TABLE, table, "NOT_APPLICABLE", f"Route table {table} was deleted while the rule ran."
    )


def test_a_route_table_that_left_the_scope_is_not_applicable(world):
    peered(world)
    route(DestinationCidrBlock="0.0.0.0/0")(world)
    item = route_table_item(world.ids["table"], account_id=ACCOUNT_ID, captured=NOW)
    for oversized in (False, True):
        assert world.change(ROUTES, item, oversized=oversized, left_scope=True).compliance == "NOT_APPLICABLE"


def test_a_route_table_of_another_account_is_not_applicable(world):
    # moto cannot share a VPC from another account: the item of a real table, its owner changed.
    peered(world)
    item = route_table_item(world.ids["table"], account_id=ACCOUNT_ID, captured=NOW)
    item["configuration"]["ownerId"] = "999988887777"
    table = world.ids["table"]
    assert world.change(ROUTES, item) == Verdict(
        TABLE,
        table,
        "NOT_APPLICABLE",
        f"Route table {table} belongs to account 999988887777 (a shared VPC), whose own deployment of the rule "
        "judges it.",
    )


def test_a_route_table_item_that_claims_another_account_is_not_applicable(world):
    # As 2.3 and 2.6 answer a bucket item of another account: that account's deployment judges it.
    peered(world)
    item = route_table_item(world.ids["table"], account_id="999988887777", captured=NOW)
    table = world.ids["table"]
    with observe("ec2", "DescribeVpcPeeringConnections") as connections:
        verdict = world.change(ROUTES, item)
    assert verdict == Verdict(
        TABLE,
        table,
        "NOT_APPLICABLE",
        f"Route table {table} belongs to account 999988887777, whose own deployment of the rule judges it.",
    )
    assert connections == [], "judged without a look at this account's connections"


def test_a_route_through_an_unknown_connection_could_not_be_evaluated(world):
    peered(world)
    route(DestinationCidrBlock="10.30.0.0/16")(world)
    item = route_table_item(world.ids["table"], account_id=ACCOUNT_ID, captured=NOW)
    item["configuration"]["routes"][-1]["vpcPeeringConnectionId"] = "pcx-0000000000000000f"
    verdict = world.change(ROUTES, item)
    assert verdict.compliance == "NON_COMPLIANT"
    assert verdict.annotation.startswith("Could not evaluate: Route table ")
    assert verdict.annotation.endswith("which DescribeVpcPeeringConnections does not list.")


def test_a_route_table_item_without_peering_routes_needs_no_ec2_call(world):
    peered(world)
    item = route_table_item(world.ids["table"], account_id=ACCOUNT_ID, captured=NOW)
    with observe("ec2", "DescribeVpcPeeringConnections") as connections, observe("ec2", "DescribeRouteTables") as read:
        assert world.change(ROUTES, item).compliance == "COMPLIANT"
    assert (connections, read) == ([], [])


# --- The periodic run's clean-up and change evaluations --------------------------------------------


def _recorded(world: World, rule: str) -> dict[str, str]:
    return {key[1]: e["ComplianceType"] for key, e in world.ledger.results.get(rule, {}).items()}


def test_the_periodic_clean_up_reports_again_what_a_change_judged(world):
    """rdklib's clean-up after a periodic run marks NOT_APPLICABLE every COMPLIANT or NON_COMPLIANT
    resource of the rule that the run did not report. A change judges only what the periodic run
    reports (trail buckets this account owns; every route table it owns), so the next periodic run
    reports it again rather than retiring it; NOT_APPLICABLE change verdicts are not asked for."""
    bucket("ct-logs")(world)
    trail("main", "ct-logs")(world)
    bucket("website")(world)
    assert world.periodic(NOT_PUBLIC)["ct-logs"].compliance == "COMPLIANT"
    world.client("s3").put_bucket_acl(Bucket="ct-logs", ACL="public-read")
    world.client("s3").put_bucket_acl(Bucket="website", ACL="public-read")
    for name in ("ct-logs", "website"):
        world.change(NOT_PUBLIC, bucket_item(name, account_id=ACCOUNT_ID, captured=NOW))
    assert _recorded(world, NOT_PUBLIC) == {"ct-logs": "NON_COMPLIANT", "website": "NOT_APPLICABLE"}
    calls = len(world.ledger.calls)
    world.periodic(NOT_PUBLIC)
    assert "GetComplianceDetailsByConfigRule" in world.ledger.calls[calls:]
    assert _recorded(world, NOT_PUBLIC) == {"ct-logs": "NON_COMPLIANT", "website": "NOT_APPLICABLE"}
    # Once the bucket receives no trail's logs, retiring its verdict is right.
    world.client("cloudtrail").delete_trail(Name="main")
    world.periodic(NOT_PUBLIC)
    assert _recorded(world, NOT_PUBLIC) == {"ct-logs": "NOT_APPLICABLE", "website": "NOT_APPLICABLE"}

    peered(world)
    route(DestinationCidrBlock="10.30.0.0/16")(world)
    table = world.ids["table"]
    world.change(ROUTES, route_table_item(table, account_id=ACCOUNT_ID, captured=NOW))
    assert _recorded(world, ROUTES)[table] == "NON_COMPLIANT"
    world.periodic(ROUTES)
    assert _recorded(world, ROUTES)[table] == "NON_COMPLIANT"
