"""Scenarios of VPC_PEERING_ROUTES_LEAST_ACCESS (CIS 4.4), against moto's EC2.

moto gives peering connections no ``CidrBlockSet``/``Ipv6CidrBlockSet`` and leaves routes through a
deleted connection ``active``; peers with several blocks, peers in other accounts, failed
connections and blackhole routes are therefore recorded responses, validated against the model.
"""

import VPC_PEERING_ROUTES_LEAST_ACCESS as rule

from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, data_driven
from cispack.testing.trails import LambdaContext, run_with_context

RTB = "AWS::EC2::RouteTable"
OTHER_ACCOUNT = "210987654321"
NO_ROUTE = "has no active route through VPC peering."
PART_ONLY = "routes only part of each peer VPC through VPC peering."
TOO_MUCH = "routes more than least access through"


def network(test, accept=True, ipv6=False):
    """VPC a (10.0.0.0/16) peered with VPC b (10.1.0.0/16); a's and b's main route tables."""
    ec2 = test.client("ec2")
    for name, cidr in (("a", "10.0.0.0/16"), ("b", "10.1.0.0/16")):
        vpc = ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=ipv6)["Vpc"]
        test.ids[f"vpc-{name}"] = vpc["VpcId"]
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["RouteTables"]
        test.ids[name] = tables[0]["RouteTableId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=test.ids["vpc-a"], PeerVpcId=test.ids["vpc-b"])
    test.ids["pcx"] = pcx["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    if accept:
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=test.ids["pcx"])


def add_route(test, table, destination, pcx="pcx"):
    ec2 = test.client("ec2")
    target = {"VpcPeeringConnectionId": test.ids.get(pcx, pcx), "RouteTableId": test.ids[table]}
    if destination.startswith("pl:"):
        entries = [{"Cidr": cidr} for cidr in destination[3:].split(",")]
        pl = ec2.create_managed_prefix_list(PrefixListName="peers", MaxEntries=5, AddressFamily="IPv4", Entries=entries)
        ec2.create_route(DestinationPrefixListId=pl["PrefixList"]["PrefixListId"], **target)
    elif ":" in destination:
        ec2.create_route(DestinationIpv6CidrBlock=destination, **target)
    else:
        ec2.create_route(DestinationCidrBlock=destination, **target)


def given(*routes, accept=True, ipv6=False, after=None):
    """The network, then (table, destination[, pcx]) routes, then ``after(test)``."""

    def build(test):
        network(test, accept=accept, ipv6=ipv6)
        for spec in routes:
            add_route(test, *spec)
        if after:
            after(test)

    return build


def could_not_evaluate(name, text):
    """Every table as :func:`verdicts` gives them, table ``name`` NON_COMPLIANT ``Could not evaluate``
    (``text`` as a function of the test, for moto's IDs)."""

    def expect(test):
        rtb = test.ids[name]
        found = text(test) if callable(text) else text
        others = [v for v in verdicts()(test) if v.resource_id != rtb]
        return [*others, Verdict(RTB, rtb, "NON_COMPLIANT", f"Could not evaluate: {found}")]

    return expect


def verdicts(**rows):
    """Every route table moto holds is reported; ``rows`` names the ones not "no peering route".
    Annotations use {a}, {b}, {pcx}, {vpc-a}, {vpc-b} for the IDs moto assigned."""

    def expect(test):
        tables = test.client("ec2").describe_route_tables()["RouteTables"]
        names = {rtb: name for name, rtb in test.ids.items()}
        result = []
        for table in tables:
            rtb = table["RouteTableId"]
            name = names.get(rtb)
            if name in rows:
                compliance, text = rows[name]
                ids = {k.replace("-", "_"): v for k, v in test.ids.items()}
                text = text.replace("{vpc-", "{vpc_").format(**ids)
                result.append(Verdict(RTB, rtb, compliance, f"Route table {rtb} {text}"))
            else:
                result.append(Verdict(RTB, rtb, "COMPLIANT", f"Route table {rtb} {NO_ROUTE}"))
        return result

    return expect


def bad(text):
    return ("NON_COMPLIANT", f"{TOO_MUCH} {{pcx}}: {text}.")


def side(vpc_id, cidr):
    return {"VpcId": vpc_id, "OwnerId": ACCOUNT_ID, "CidrBlock": cidr}


def recorded_connection(test, status="active", requester=None, accepter=None):
    """DescribeVpcPeeringConnections answers with moto's connection as AWS describes it."""
    connection = {
        "VpcPeeringConnectionId": test.ids["pcx"],
        "Status": {"Code": status, "Message": status},
        "RequesterVpcInfo": requester or side(test.ids["vpc-a"], "10.0.0.0/16"),
        "AccepterVpcInfo": accepter or side(test.ids["vpc-b"], "10.1.0.0/16"),
    }
    test.respond("ec2", "DescribeVpcPeeringConnections", {"VpcPeeringConnections": [connection]})


def cross_account(test):
    """VPC a requested a peering with vpc-0peer in another account, which has two IPv4 blocks and an IPv6 block."""
    test.ids["peer"] = "vpc-0peer"
    recorded_connection(
        test,
        accepter={
            "VpcId": "vpc-0peer",
            "OwnerId": OTHER_ACCOUNT,
            "Region": "eu-west-1",
            "CidrBlock": "172.16.0.0/16",
            "CidrBlockSet": [{"CidrBlock": "172.16.0.0/16"}, {"CidrBlock": "172.17.0.0/16"}],
            "Ipv6CidrBlockSet": [{"Ipv6CidrBlock": "2600:1f18:abcd:ef00::/56"}],
        },
    )


CASES = [
    Case(
        "zero_route_tables",
        lambda test: test.respond("ec2", "DescribeRouteTables", {"RouteTables": []}),
        expect=[],
    ),
    Case("no_peering_routes", given(), expect=verdicts()),
    Case(
        "route_to_a_peer_subnet",
        given(("a", "10.1.2.0/24")),
        expect=verdicts(a=("COMPLIANT", PART_ONLY)),
    ),
    Case(
        "route_to_a_single_peer_host",
        given(("a", "10.1.2.3/32"), ("b", "10.0.9.0/24")),
        expect=verdicts(a=("COMPLIANT", PART_ONLY), b=("COMPLIANT", PART_ONLY)),
    ),
    Case(
        "requester_routes_the_whole_peer_vpc",
        given(("a", "10.1.0.0/16")),
        expect=verdicts(a=bad("10.1.0.0/16 covers all of 10.1.0.0/16 of peer {vpc-b}")),
    ),
    Case(
        "accepter_routes_the_whole_requester_vpc",
        given(("b", "10.0.0.0/16")),
        expect=verdicts(b=bad("10.0.0.0/16 covers all of 10.0.0.0/16 of peer {vpc-a}")),
    ),
    Case(
        "supernet_of_the_peer_vpc",
        given(("a", "10.0.0.0/8")),
        expect=verdicts(a=bad("10.0.0.0/8 covers all of 10.1.0.0/16 of peer {vpc-b}")),
    ),
    Case(
        "ipv4_default_route",
        given(("a", "0.0.0.0/0")),
        expect=verdicts(a=bad("0.0.0.0/0 is a default route")),
    ),
    Case(
        "ipv6_default_route",
        given(("b", "::/0"), ipv6=True),
        expect=verdicts(b=bad("::/0 is a default route")),
    ),
    Case(
        "several_problems_in_one_table",
        given(("a", "0.0.0.0/0"), ("a", "10.1.0.0/16"), ("a", "::/0"), ipv6=True),
        expect=verdicts(
            a=bad(
                "0.0.0.0/0 is a default route, 10.1.0.0/16 covers all of 10.1.0.0/16 "
                "of peer {vpc-b} and ::/0 is a default route"
            )
        ),
    ),
    Case(
        "prefix_shorter_than_minimum",
        given(("a", "10.1.0.0/20")),
        parameters={"minPeeringPrefixLength": "24"},
        expect=verdicts(a=bad("10.1.0.0/20 is shorter than /24")),
    ),
    Case(
        "prefix_at_minimum",
        given(("a", "10.1.0.0/24")),
        parameters={"minPeeringPrefixLength": "24"},
        expect=verdicts(a=("COMPLIANT", PART_ONLY)),
    ),
    Case(
        "minimum_off_by_default",
        given(("a", "10.1.0.0/20")),
        expect=verdicts(a=("COMPLIANT", PART_ONLY)),
    ),
    Case(
        "minimum_does_not_apply_to_ipv6",
        given(("a", "2600:1f18:abcd:ef01::/64"), after=cross_account),
        parameters={"minPeeringPrefixLength": "28"},
        expect=verdicts(a=("COMPLIANT", PART_ONLY)),
    ),
    Case(
        "pending_connection_is_judged",
        given(("a", "10.1.0.0/16"), accept=False),
        expect=verdicts(a=bad("10.1.0.0/16 covers all of 10.1.0.0/16 of peer {vpc-b}")),
    ),
    Case(
        "peer_in_another_account_second_block",
        given(
            (
                "a",
                "172.17.0.0/16",
            ),
            ("a", "172.16.5.0/24"),
            after=cross_account,
        ),
        expect=verdicts(a=bad("172.17.0.0/16 covers all of 172.17.0.0/16 of peer vpc-0peer")),
    ),
    Case(
        "peer_in_another_account_ipv6_block",
        given(("a", "2600:1f18:abcd:ef00::/56"), after=cross_account),
        expect=verdicts(a=bad("2600:1f18:abcd:ef00::/56 covers all of 2600:1f18:abcd:ef00::/56 of peer vpc-0peer")),
    ),
    Case(
        "peer_in_another_account_requested_the_peering",
        given(
            ("b", "192.168.0.0/16"),
            after=lambda test: recorded_connection(
                test,
                requester={"VpcId": "vpc-0peer", "OwnerId": OTHER_ACCOUNT, "CidrBlock": "192.168.0.0/16"},
                accepter=side(test.ids["vpc-b"], "10.1.0.0/16"),
            ),
        ),
        expect=verdicts(b=bad("192.168.0.0/16 covers all of 192.168.0.0/16 of peer vpc-0peer")),
    ),
    Case(
        "supernet_of_two_peer_blocks",
        given(("a", "172.16.0.0/12"), after=cross_account),
        expect=verdicts(a=bad("172.16.0.0/12 covers all of 172.16.0.0/16 and 172.17.0.0/16 of peer vpc-0peer")),
    ),
    Case(
        "deleted_connection_is_not_judged",
        given(
            ("a", "10.1.0.0/16"),
            after=lambda test: test.client("ec2").delete_vpc_peering_connection(VpcPeeringConnectionId=test.ids["pcx"]),
        ),
        expect=verdicts(),
    ),
    Case(
        "failed_connection_is_not_judged",
        given(("a", "10.1.0.0/16"), after=lambda test: recorded_connection(test, status="failed")),
        expect=verdicts(),
    ),
    Case(
        "prefix_list_covering_the_peer",
        given(("a", "pl:10.1.0.0/16,10.1.0.0/24")),
        expect=verdicts(a=bad("10.1.0.0/16 covers all of 10.1.0.0/16 of peer {vpc-b}")),
    ),
    Case(
        "prefix_list_of_peer_subnets",
        given(("a", "pl:10.1.0.0/24,10.1.1.0/24")),
        expect=verdicts(a=("COMPLIANT", PART_ONLY)),
    ),
    Case(
        "route_through_an_unlisted_connection",
        given(
            ("a", "10.1.2.0/24"),
            after=lambda test: test.respond("ec2", "DescribeVpcPeeringConnections", {"VpcPeeringConnections": []}),
        ),
        # CONTROLS.md, "When a rule cannot judge": the table it cannot judge shows as NON_COMPLIANT.
        expect=could_not_evaluate(
            "a",
            lambda test: (
                f"Route table {test.ids['a']} routes through {test.ids['pcx']}, which "
                "DescribeVpcPeeringConnections does not list."
            ),
        ),
    ),
    Case(
        "active_connection_without_peer_blocks",
        given(("a", "10.1.2.0/24"), after=lambda test: recorded_connection(test, accepter={"VpcId": "vpc-0bare"})),
        expect=could_not_evaluate(
            "a", lambda test: f"Active peering connection {test.ids['pcx']} names no CIDR block of the peer VPC."
        ),
    ),
    Case(
        "route_tables_access_denied",
        lambda test: test.respond("ec2", "DescribeRouteTables", error="UnauthorizedOperation", status=403),
        error="UnauthorizedOperation",
    ),
    Case(
        "peering_connections_access_denied",
        lambda test: test.respond("ec2", "DescribeVpcPeeringConnections", error="UnauthorizedOperation", status=403),
        error="UnauthorizedOperation",
    ),
    Case(
        "prefix_list_access_denied",
        given(
            ("a", "pl:10.1.0.0/24"),
            after=lambda test: test.respond("ec2", "GetManagedPrefixListEntries", error="AccessDenied", status=403),
        ),
        expect=could_not_evaluate("a", "ec2:GetManagedPrefixListEntries was denied (AccessDenied)."),
    ),
    Case("minimum_above_32", parameters={"minPeeringPrefixLength": "33"}, error="from 0 to 32, not 33"),
    Case("minimum_negative", parameters={"minPeeringPrefixLength": "-1"}, error="from 0 to 32, not -1"),
    Case("minimum_not_an_integer", parameters={"minPeeringPrefixLength": "/24"}, error="minPeeringPrefixLength must"),
    Case("unknown_parameter", parameters={"minPrefix": "24"}, error="Unknown rule parameter minPrefix"),
]


@data_driven(CASES)
class VpcPeeringRoutesLeastAccessTest(RuleTestCase):
    rule_module = rule
    rule_name = "VPC_PEERING_ROUTES_LEAST_ACCESS"

    def setUp(self):
        super().setUp()
        self.ids = {}

    def test_blackhole_route_is_not_judged(self):
        network(self)
        self.respond(
            "ec2",
            "DescribeRouteTables",
            {
                "RouteTables": [
                    {
                        "RouteTableId": "rtb-0hole",
                        "VpcId": self.ids["vpc-a"],
                        "OwnerId": ACCOUNT_ID,
                        "Routes": [
                            {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                            {
                                "DestinationCidrBlock": "0.0.0.0/0",
                                "VpcPeeringConnectionId": "pcx-0gone",
                                "State": "blackhole",
                            },
                        ],
                    }
                ]
            },
        )
        expected = [Verdict(RTB, "rtb-0hole", "COMPLIANT", f"Route table rtb-0hole {NO_ROUTE}")]
        self.assertEqual(expected, self.run_rule().verdicts)

    def test_table_of_a_shared_vpc_owned_elsewhere_is_not_reported(self):
        network(self)
        add_route(self, "a", "10.1.0.0/16")
        tables = self.client("ec2").describe_route_tables()["RouteTables"]
        for table in tables:
            if table["RouteTableId"] == self.ids["a"]:
                table["OwnerId"] = OTHER_ACCOUNT
        self.respond("ec2", "DescribeRouteTables", {"RouteTables": tables})
        reported = [v.resource_id for v in self.run_rule().verdicts]
        self.assertNotIn(self.ids["a"], reported)
        self.assertIn(self.ids["b"], reported)

    def test_tables_and_connections_over_two_pages(self):
        # moto answers both calls in one page; the pages are recorded from moto's own answers.
        network(self)
        add_route(self, "a", "10.1.0.0/16")
        add_route(self, "b", "10.0.4.0/22")
        ec2 = self.client("ec2")
        tables = ec2.describe_route_tables()["RouteTables"]
        connections = ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
        other = dict(connections[0], VpcPeeringConnectionId="pcx-0other")
        half = len(tables) // 2
        self.respond(
            "ec2",
            "DescribeRouteTables",
            [{"RouteTables": tables[:half], "NextToken": "tables-2"}, {"RouteTables": tables[half:]}],
        )
        self.respond(
            "ec2",
            "DescribeVpcPeeringConnections",
            [{"VpcPeeringConnections": [other], "NextToken": "pcx-2"}, {"VpcPeeringConnections": connections}],
        )
        calls = self.count_calls("ec2", "DescribeRouteTables")
        result = self.run_rule().verdicts
        self.assertEqual([{}, {"NextToken": "tables-2"}], calls)
        self.assertEqual(sorted(t["RouteTableId"] for t in tables), [v.resource_id for v in result])
        by_id = {v.resource_id: v for v in result}
        self.assertEqual("NON_COMPLIANT", by_id[self.ids["a"]].compliance)
        self.assertEqual(f"Route table {self.ids['b']} {PART_ONLY}", by_id[self.ids["b"]].annotation)

    def test_deadline_between_two_pages_names_how_many_tables_were_read(self):
        network(self)
        tables = self.client("ec2").describe_route_tables()["RouteTables"]
        self.respond(
            "ec2",
            "DescribeRouteTables",
            [{"RouteTables": tables[:1], "NextToken": "tables-2"}, {"RouteTables": tables[1:]}],
        )
        calls = self.count_calls("ec2", "DescribeRouteTables")
        error = run_with_context(self, LambdaContext(runs_short=lambda: len(calls) >= 1))
        self.assertIn("Lambda timeout after 1 route tables read,", error["internalErrorMessage"])
        self.assertIn("Sent the 1 verdicts decided, no clean-up", error["customerErrorMessage"])
        self.assertEqual([{}], calls, "the second page is not read")
        self.assertEqual([tables[0]["RouteTableId"]], [e["ComplianceResourceId"] for e in self.ledger.sent])

    def test_long_annotation_stays_within_256_characters(self):
        network(self)
        for n in range(8):
            add_route(self, "a", f"10.{n + 2}.0.0/16")
        add_route(self, "a", "10.1.0.0/16")
        add_route(self, "a", "10.0.0.0/8")
        run = self.run_rule({"minPeeringPrefixLength": "20"})
        (verdict,) = [v for v in run.verdicts if v.resource_id == self.ids["a"]]
        self.assertEqual("NON_COMPLIANT", verdict.compliance)
        self.assertLessEqual(len(verdict.annotation), 256)
        self.assertTrue(verdict.annotation.endswith("."))

    def test_demo_seed_has_one_compliant_and_one_non_compliant_peering_table(self):
        from types import SimpleNamespace

        from cispack.local.seeds import network as seed_module

        seed_module.seed(SimpleNamespace(client=lambda service, region=None: self.client(service)))
        tables = self.client("ec2").describe_route_tables()["RouteTables"]
        names = {t["RouteTableId"]: tag["Value"] for t in tables for tag in t.get("Tags", ()) if tag["Key"] == "Name"}
        verdicts = {names[v.resource_id]: v.compliance for v in self.run_rule().verdicts if v.resource_id in names}
        self.assertEqual({"app-least-access": "COMPLIANT", "shared-whole-peer": "NON_COMPLIANT"}, verdicts)
