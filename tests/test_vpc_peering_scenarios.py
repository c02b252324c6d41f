"""Route tables of VPC ``vpc-0a`` (10.0.0.0/16), peered through ``pcx-0ab`` with VPC ``vpc-0b``
(10.1.0.0/16 and 10.2.0.0/16, and 2600:1f18:ab::/56), as a configuration change of the table
reaches CIS 4.4 (rules/VPC_PEERING_ROUTES_LEAST_ACCESS): which routes are judged, against which
side of the connection, and what the rule does when the item cannot be read.

EC2 is botocore's ``Stubber``: each scenario queues exactly the answers of its state (a connection
in each lifecycle state, a prefix list, a table gone or unreadable), and a call the scenario did
not queue fails the test, so "read once" and "not read at all" are checked too.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from cis_rule import EvaluationError
from cispack import RULES_DIR

NAME = "VPC_PEERING_ROUTES_LEAST_ACCESS"
# Appended, not prepended: a module of this name found earlier on the path (or already imported) wins.
sys.path.append(str(RULES_DIR / NAME))
rule_module = importlib.import_module(NAME)

ACCOUNT = "123456789012"
OTHER = "210987654321"
TABLE = "rtb-0a"
PCX = "pcx-0ab"
PEER = {
    "VpcId": "vpc-0b",
    "OwnerId": ACCOUNT,
    "CidrBlock": "10.1.0.0/16",
    "CidrBlockSet": [{"CidrBlock": "10.1.0.0/16"}, {"CidrBlock": "10.2.0.0/16"}],
    "Ipv6CidrBlockSet": [{"Ipv6CidrBlock": "2600:1f18:ab::/56"}],
}
HOME = {"VpcId": "vpc-0a", "OwnerId": ACCOUNT, "CidrBlock": "10.0.0.0/16"}
NO_ROUTE = f"Route table {TABLE} has no active route through VPC peering."
PART_ONLY = f"Route table {TABLE} routes only part of each peer VPC through VPC peering."


def too_much(*problems: str, through: str = PCX) -> str:
    listed = problems[0] if len(problems) == 1 else ", ".join(problems[:-1]) + " and " + problems[-1]
    return f"Route table {TABLE} routes more than least access through {through}: {listed}."


def connection(status: str = "active", pcx: str = PCX, requester: Any = HOME, accepter: Any = PEER) -> dict[str, Any]:
    return {
        "VpcPeeringConnectionId": pcx,
        "Status": {"Code": status, "Message": status},
        "RequesterVpcInfo": requester,
        "AccepterVpcInfo": accepter,
    }


def peering_route(destination: str, pcx: str = PCX, **extra: Any) -> dict[str, Any]:
    """A route of the item, as AWS Config records it: every field present, unused ones null."""
    route = {
        "destinationCidrBlock": None,
        "destinationIpv6CidrBlock": None,
        "destinationPrefixListId": None,
        "gatewayId": None,
        "vpcPeeringConnectionId": pcx,
        "state": "active",
        "origin": "CreateRoute",
    }
    if destination.startswith("pl-"):
        route["destinationPrefixListId"] = destination
    elif ":" in destination:
        route["destinationIpv6CidrBlock"] = destination
    else:
        route["destinationCidrBlock"] = destination
    return {**route, **extra}


LOCAL = {"destinationCidrBlock": "10.0.0.0/16", "gatewayId": "local", "state": "active", "origin": "CreateRouteTable"}


def item(*routes: dict[str, Any], owner: str = ACCOUNT, vpc: str = "vpc-0a") -> dict[str, Any]:
    return {
        "resourceId": TABLE,
        "resourceType": "AWS::EC2::RouteTable",
        "configurationItemStatus": "OK",
        "configuration": {"routeTableId": TABLE, "vpcId": vpc, "ownerId": owner, "routes": [LOCAL, *routes]},
    }


class Ec2:
    """The EC2 of one scenario: the answers it queues, in order, and nothing else."""

    def __init__(self) -> None:
        self.client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        self.stubber = Stubber(self.client)

    def connections(self, *found: dict[str, Any]) -> Ec2:
        self.stubber.add_response("describe_vpc_peering_connections", {"VpcPeeringConnections": list(found)}, {})
        return self

    def prefix_list(self, pl: str, *cidrs: str) -> Ec2:
        entries = [{"Cidr": cidr} for cidr in cidrs]
        self.stubber.add_response("get_managed_prefix_list_entries", {"Entries": entries}, {"PrefixListId": pl})
        return self

    def tables(self, *found: dict[str, Any]) -> Ec2:
        self.stubber.add_response("describe_route_tables", {"RouteTables": list(found)}, {"RouteTableIds": [TABLE]})
        return self

    def tables_fail(self, code: str, status: int) -> Ec2:
        self.stubber.add_client_error(
            "describe_route_tables", code, http_status_code=status, expected_params={"RouteTableIds": [TABLE]}
        )
        return self

    def build_client(self, service: str, *args: Any, **kwargs: Any) -> Any:
        assert service == "ec2"
        return self.client

    def change(self, configuration_item: dict[str, Any], minimum: int = 0) -> tuple[str, str]:
        event = {"accountId": ACCOUNT}
        with self.stubber:
            (evaluation,) = rule_module.VPC_PEERING_ROUTES_LEAST_ACCESS().evaluate_change(
                event, self, configuration_item, {"minPeeringPrefixLength": minimum}
            )
        self.stubber.assert_no_pending_responses()
        assert (evaluation.complianceResourceId, evaluation.complianceResourceType) == (TABLE, "AWS::EC2::RouteTable")
        return evaluation.complianceType, evaluation.annotation


# --- Which connections carry traffic ----------------------------------------------------------


@pytest.mark.parametrize("state", ["deleted", "deleting", "rejected", "failed", "expired"])
def test_route_through_a_connection_that_carries_no_traffic_is_not_judged(state):
    """AWS turns these routes into blackholes: even a default route through them routes nothing."""
    ec2 = Ec2().connections(connection(state))
    assert ec2.change(item(peering_route("0.0.0.0/0"))) == ("COMPLIANT", NO_ROUTE)


@pytest.mark.parametrize("state", ["active", "pending-acceptance", "provisioning", "initiating-request"])
def test_route_through_a_live_or_coming_connection_is_judged(state):
    ec2 = Ec2().connections(connection(state))
    assert ec2.change(item(peering_route("10.1.0.0/16"))) == (
        "NON_COMPLIANT",
        too_much("10.1.0.0/16 covers all of 10.1.0.0/16 of peer vpc-0b"),
    )


def test_blackhole_route_and_routes_without_peering_are_not_judged():
    ec2 = Ec2()  # nothing is asked: no route to judge
    routes = [
        peering_route("0.0.0.0/0", state="blackhole"),
        {"destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"},
    ]
    assert ec2.change(item(*routes)) == ("COMPLIANT", NO_ROUTE)


def test_route_listed_after_one_through_a_dead_connection_is_still_judged():
    """A rejected connection's route comes first in the table; the live, too-wide route after it counts."""
    ec2 = Ec2().connections(connection("rejected", pcx="pcx-0dead"), connection())
    routes = [peering_route("0.0.0.0/0", pcx="pcx-0dead"), peering_route("10.1.0.0/16")]
    assert ec2.change(item(*routes)) == (
        "NON_COMPLIANT",
        too_much("10.1.0.0/16 covers all of 10.1.0.0/16 of peer vpc-0b"),
    )


def test_connections_are_read_once_for_every_route():
    ec2 = Ec2().connections(connection())
    assert ec2.change(item(peering_route("10.1.4.0/24"), peering_route("10.2.4.0/24"))) == ("COMPLIANT", PART_ONLY)


# --- Which side is the peer ---------------------------------------------------------------------


def test_table_of_the_accepter_is_judged_against_the_requester():
    ec2 = Ec2().connections(connection(requester=PEER, accepter=HOME))
    assert ec2.change(item(peering_route("10.0.0.0/8"))) == (
        "NON_COMPLIANT",
        too_much("10.0.0.0/8 covers all of 10.1.0.0/16 and 10.2.0.0/16 of peer vpc-0b"),
    )


def test_own_vpc_block_is_not_the_peer():
    """A route to this table's own VPC block through the connection covers no block of the peer."""
    ec2 = Ec2().connections(connection())
    assert ec2.change(item(peering_route("10.0.0.0/16"))) == ("COMPLIANT", PART_ONLY)


@pytest.mark.parametrize(
    ("case", "destination", "expected"),
    [
        (
            "secondary_block",
            "10.2.0.0/16",
            ("NON_COMPLIANT", too_much("10.2.0.0/16 covers all of 10.2.0.0/16 of peer vpc-0b")),
        ),
        (
            "ipv6_block",
            "2600:1f18:ab::/56",
            ("NON_COMPLIANT", too_much("2600:1f18:ab::/56 covers all of 2600:1f18:ab::/56 of peer vpc-0b")),
        ),
        ("ipv6_subnet", "2600:1f18:ab:1::/64", ("COMPLIANT", PART_ONLY)),
        ("ipv6_default", "::/0", ("NON_COMPLIANT", too_much("::/0 is a default route"))),
        ("ipv6_wide_but_not_covering", "2600:1f18:ac::/48", ("COMPLIANT", PART_ONLY)),
    ],
)
def test_every_block_of_the_peer_counts(case, destination, expected):
    ec2 = Ec2().connections(connection())
    assert ec2.change(item(peering_route(destination))) == expected


def test_peer_described_by_its_primary_block_only():
    ec2 = Ec2().connections(connection(accepter={"VpcId": "vpc-0b", "CidrBlock": "10.1.0.0/16"}))
    assert ec2.change(item(peering_route("10.1.0.0/16"))) == (
        "NON_COMPLIANT",
        too_much("10.1.0.0/16 covers all of 10.1.0.0/16 of peer vpc-0b"),
    )


def test_peer_described_by_its_block_sets_only():
    accepter = {"VpcId": "vpc-0b", "CidrBlockSet": [{"CidrBlock": "10.2.0.0/16"}, {}], "Ipv6CidrBlockSet": [{}]}
    ec2 = Ec2().connections(connection(accepter=accepter))
    assert ec2.change(item(peering_route("10.2.0.0/16"))) == (
        "NON_COMPLIANT",
        too_much("10.2.0.0/16 covers all of 10.2.0.0/16 of peer vpc-0b"),
    )


def test_pending_connection_that_names_no_peer_block_yet_is_judged_on_default_routes():
    ec2 = Ec2().connections(connection("pending-acceptance", accepter={"VpcId": "vpc-0b"}))
    assert ec2.change(item(peering_route("10.9.0.0/16"), peering_route("0.0.0.0/0"))) == (
        "NON_COMPLIANT",
        too_much("0.0.0.0/0 is a default route"),
    )


def test_two_connections_each_too_wide_are_both_named():
    other = connection(pcx="pcx-0ac", accepter={"VpcId": "vpc-0c", "CidrBlock": "10.3.0.0/16"})
    ec2 = Ec2().connections(connection(), other)
    routes = [peering_route("10.1.0.0/16"), peering_route("10.3.0.0/16", pcx="pcx-0ac"), peering_route("10.2.0.0/16")]
    assert ec2.change(item(*routes)) == (
        "NON_COMPLIANT",
        too_much(
            "10.1.0.0/16 covers all of 10.1.0.0/16 of peer vpc-0b",
            "10.3.0.0/16 covers all of 10.3.0.0/16 of peer vpc-0c",
            "10.2.0.0/16 covers all of 10.2.0.0/16 of peer vpc-0b",
            through=f"{PCX} and pcx-0ac",
        ),
    )


# --- The minimum prefix length ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "destination", "minimum", "expected"),
    [
        ("one_shorter", "10.1.0.0/23", 24, ("NON_COMPLIANT", too_much("10.1.0.0/23 is shorter than /24"))),
        ("at_the_minimum", "10.1.0.0/24", 24, ("COMPLIANT", PART_ONLY)),
        ("off", "10.1.0.0/17", 0, ("COMPLIANT", PART_ONLY)),
        ("ipv6_not_measured", "2600:1f18:ab:1::/64", 32, ("COMPLIANT", PART_ONLY)),
    ],
)
def test_minimum_prefix_length(case, destination, minimum, expected):
    ec2 = Ec2().connections(connection())
    assert ec2.change(item(peering_route(destination)), minimum=minimum) == expected


# --- Prefix lists -------------------------------------------------------------------------------


def test_prefix_list_read_once_and_judged_entry_by_entry():
    ec2 = Ec2().connections(connection()).prefix_list("pl-0peers", "10.1.4.0/24", "10.2.0.0/16")
    routes = [peering_route("pl-0peers"), peering_route("pl-0peers")]
    assert ec2.change(item(*routes)) == (
        "NON_COMPLIANT",
        too_much(
            "10.2.0.0/16 covers all of 10.2.0.0/16 of peer vpc-0b",
            "10.2.0.0/16 covers all of 10.2.0.0/16 of peer vpc-0b",
        ),
    )


# --- The item, the fallback read, and tables that are not this rule's -----------------------------


def test_table_of_another_account_is_not_applicable():
    ec2 = Ec2()
    assert ec2.change(item(peering_route("0.0.0.0/0"), owner=OTHER)) == (
        "NOT_APPLICABLE",
        f"Route table {TABLE} belongs to account {OTHER} (a shared VPC), whose own deployment of the rule judges it.",
    )


def test_item_recorded_for_another_account_is_not_applicable_and_reads_nothing():
    ec2 = Ec2()  # nothing is asked: another account's deployment judges the table
    recorded = {**item(peering_route("0.0.0.0/0")), "awsAccountId": OTHER}
    assert ec2.change(recorded) == (
        "NOT_APPLICABLE",
        f"Route table {TABLE} belongs to account {OTHER}, whose own deployment of the rule judges it.",
    )


def test_item_recorded_for_this_account_is_judged():
    ec2 = Ec2().connections(connection())
    recorded = {**item(peering_route("10.1.0.0/16")), "awsAccountId": ACCOUNT}
    assert ec2.change(recorded) == ("NON_COMPLIANT", too_much("10.1.0.0/16 covers all of 10.1.0.0/16 of peer vpc-0b"))


def test_item_without_a_route_list_is_judged_from_describe_route_tables():
    table = {
        "RouteTableId": TABLE,
        "VpcId": "vpc-0a",
        "OwnerId": ACCOUNT,
        "Routes": [{"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": PCX, "State": "active"}],
    }
    ec2 = Ec2().tables(table).connections(connection())
    broken = item()
    broken["configuration"]["routes"] = None
    assert ec2.change(broken) == ("NON_COMPLIANT", too_much("10.1.0.0/16 covers all of 10.1.0.0/16 of peer vpc-0b"))


@pytest.mark.parametrize(
    ("case", "edit"),
    [
        ("routes_not_a_list", lambda c: c.update(routes="none")),
        ("a_route_not_an_object", lambda c: c.update(routes=["0.0.0.0/0"])),
        ("no_vpc", lambda c: c.pop("vpcId")),
        ("configuration_not_an_object", None),
    ],
)
def test_unreadable_item_falls_back_to_the_api(case, edit):
    broken = item(peering_route("10.1.0.0/16"))
    if edit is None:
        broken["configuration"] = "oversized"
    else:
        edit(broken["configuration"])
    table = {"RouteTableId": TABLE, "VpcId": "vpc-0a", "Routes": []}
    assert Ec2().tables(table).change(broken) == ("COMPLIANT", NO_ROUTE)


def test_table_gone_before_the_fallback_read_is_not_applicable():
    ec2 = Ec2().tables_fail("InvalidRouteTableID.NotFound", 400)
    assert ec2.change({"resourceId": TABLE, "configuration": None}) == (
        "NOT_APPLICABLE",
        f"Route table {TABLE} was deleted while the rule ran.",
    )


def test_table_missing_from_the_fallback_answer_is_not_applicable():
    assert Ec2().tables().change({"resourceId": TABLE, "configuration": None})[0] == "NOT_APPLICABLE"


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("UnauthorizedOperation", 403),
        ("RequestLimitExceeded", 503),
        ("InternalError", 500),
        ("InvalidRouteTableID.Malformed", 400),
    ],
)
def test_failed_fallback_read_never_reads_as_a_deleted_table(code, status):
    """Only EC2's "no such route table" means deleted: any other failure of the fallback read must
    not retire the table's verdict as NOT_APPLICABLE (that would hide a non-compliant table)."""
    ec2 = Ec2().tables_fail(code, status)
    try:
        outcome = ec2.change({"resourceId": TABLE, "configuration": None})
    except (ClientError, EvaluationError):
        return
    assert outcome[0] != "NOT_APPLICABLE", outcome
    assert "deleted" not in outcome[1]


def test_many_problems_through_many_connections_are_counted_not_listed():
    others = [
        connection(pcx=f"pcx-0a{n}", accepter={"VpcId": f"vpc-0{n}", "CidrBlock": f"10.{n}.0.0/16"}) for n in (3, 4)
    ]
    ec2 = Ec2().connections(connection(), *others)
    routes = [
        peering_route("0.0.0.0/0"),
        peering_route("::/0", pcx="pcx-0a3"),
        peering_route("0.0.0.0/0", pcx="pcx-0a4"),
        peering_route("10.1.0.0/16"),
    ]
    assert ec2.change(item(*routes)) == (
        "NON_COMPLIANT",
        f"Route table {TABLE} routes more than least access through {PCX}, pcx-0a3 and 1 more: "
        "0.0.0.0/0 is a default route, ::/0 is a default route, 0.0.0.0/0 is a default route and 1 more.",
    )


def test_peer_without_a_vpc_id_is_named_by_a_question_mark():
    ec2 = Ec2().connections(connection(accepter={"CidrBlock": "10.1.0.0/16"}))
    assert ec2.change(item(peering_route("10.1.0.0/16"))) == (
        "NON_COMPLIANT",
        too_much("10.1.0.0/16 covers all of 10.1.0.0/16 of peer ?"),
    )


def test_connection_described_without_a_status_is_judged():
    described = connection()
    del described["Status"]
    ec2 = Ec2().connections(described)
    assert ec2.change(item(peering_route("10.1.0.0/16")))[0] == "NON_COMPLIANT"


def test_connection_without_side_information_is_judged_on_default_routes():
    described = connection("pending-acceptance")
    del described["RequesterVpcInfo"], described["AccepterVpcInfo"]
    ec2 = Ec2().connections(described)
    assert ec2.change(item(peering_route("0.0.0.0/0"))) == ("NON_COMPLIANT", too_much("0.0.0.0/0 is a default route"))


# --- Items the rule cannot read: one sentence naming what is wrong ---------------------------------


@pytest.mark.parametrize(
    ("case", "routes", "connections", "message"),
    [
        (
            "route_without_destination",
            [peering_route("10.1.0.0/16", destinationCidrBlock=None)],
            [connection()],
            f"A route through {PCX} has no destination.",
        ),
        (
            "unreadable_destination",
            [peering_route("10.1.0.0/16", destinationCidrBlock="10.1.0.0/" + "9" * 60)],
            [connection()],
            f"A route through {PCX} has an unreadable destination {('10.1.0.0/' + '9' * 60)[:50]!r}.",
        ),
        (
            "connection_not_listed",
            [peering_route("10.1.4.0/24")],
            [],
            f"Route table {TABLE} routes through {PCX}, which DescribeVpcPeeringConnections does not list.",
        ),
        (
            "active_connection_naming_no_peer_block",
            [peering_route("10.1.4.0/24")],
            [connection(accepter={"VpcId": "vpc-0b"})],
            f"Active peering connection {PCX} names no CIDR block of the peer VPC.",
        ),
    ],
)
def test_unreadable_route_says_what_is_wrong(case, routes, connections, message):
    ec2 = Ec2().connections(*connections)
    with pytest.raises(EvaluationError) as caught:
        ec2.change(item(*routes))
    assert str(caught.value) == message


def test_destination_written_with_host_bits_is_the_network_it_names():
    ec2 = Ec2().connections(connection())
    assert ec2.change(item(peering_route("10.1.0.9/16"))) == (
        "NON_COMPLIANT",
        too_much("10.1.0.0/16 covers all of 10.1.0.0/16 of peer vpc-0b"),
    )


def test_supernet_of_many_peer_blocks_names_two_and_counts_the_rest():
    blocks = [{"CidrBlock": f"10.{n}.0.0/16"} for n in (1, 2, 3, 4)]
    ec2 = Ec2().connections(connection(accepter={"VpcId": "vpc-0b", "CidrBlockSet": blocks}))
    assert ec2.change(item(peering_route("10.0.0.0/8"))) == (
        "NON_COMPLIANT",
        too_much("10.0.0.0/8 covers all of 10.1.0.0/16, 10.2.0.0/16 and 2 more of peer vpc-0b"),
    )
