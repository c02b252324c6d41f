"""CIS 4.4 — Ensure routing tables for VPC peering are "least access" (Level 2, not scored).

Trigger: periodic. Reports on: each ``AWS::EC2::RouteTable`` this account owns in the region,
by its ID (``rtb-...``). Parameters: ``minPeeringPrefixLength`` (integer 0-32, default 0 = off).

The benchmark's audit reads each route table's routes whose target is a VPC peering connection
(``pcx-...``) and asks whether the destination is "as specific as desired". The rule judges what
can be judged without knowing the intent of the peering:

* a destination of ``0.0.0.0/0`` or ``::/0`` through a peering connection;
* a destination that contains a whole CIDR block of the *peer* VPC (any of its IPv4 or IPv6
  blocks: ``10.1.0.0/16`` when the peer has ``10.1.0.0/16``, or ``10.0.0.0/8`` when it has
  ``10.1.0.0/16`` and ``10.2.0.0/16``). The peer is the other side of the connection: the accepter
  when this table's VPC requested the peering, the requester when it accepted it;
* when ``minPeeringPrefixLength`` is set, an IPv4 destination with a shorter prefix (``/16`` when
  the minimum is 24). The parameter is an IPv4 prefix length (0-32) and does not apply to IPv6
  routes: IPv6 VPC blocks are /56 and subnets /64, so an IPv4 length has no meaningful IPv6
  counterpart; IPv6 routes are judged by the first two checks.

The peer's CIDR blocks come from the peering connection (``RequesterVpcInfo`` /
``AccepterVpcInfo``: ``CidrBlockSet``, ``Ipv6CidrBlockSet`` and ``CidrBlock``), which describes a
peer in another account or region as well as one in this account. A destination that is a
customer-managed prefix list (``pl-...``) is judged entry by entry.

Routes that carry no traffic are not judged: blackhole routes, and routes through a connection
that is deleted, rejected, failed or expired (AWS turns those routes into blackholes). A route
through a connection that is pending or provisioning is judged, as it carries traffic once active
(against the peer blocks the connection already names; an active one must name them).

Scenarios:
1. No route tables: no evaluations (rdklib retires earlier ones as NOT_APPLICABLE).
2. A route table without a route through a peering connection: COMPLIANT.
3. A peering route to part of the peer VPC (a subnet, a host): COMPLIANT.
4. A peering route to 0.0.0.0/0 or ::/0: NON_COMPLIANT.
5. A peering route that covers a whole CIDR block of the peer VPC (IPv4 or IPv6, primary or
   secondary block, peering in either direction, peer in another account): NON_COMPLIANT.
6. ``minPeeringPrefixLength`` set and an IPv4 peering route with a shorter prefix: NON_COMPLIANT.
7. A blackhole route, or a route through a deleted, rejected or failed connection: not judged.
8. A prefix-list destination: judged by its entries.
9. Many route tables and connections, listed over several pages: one evaluation per table.
10. A route table owned by another account (a shared VPC): not reported.
11. A peering route through a connection this account cannot see, or an active connection that
    names no peer CIDR block: error, no evaluation.
12. AccessDenied or throttling on any call: error, no evaluation.
13. ``minPeeringPrefixLength`` outside 0-32 or not an integer: InvalidParametersError.
14. The Lambda's remaining time runs short between two pages of route tables: error naming how
    many route tables were read, no evaluation.
"""

from ipaddress import ip_network

from cis_rule import (
    ROUTE_TABLE,
    CisRule,
    EvaluationError,
    IntParameter,
    account_id,
    check_deadline,
    compliant,
    handle,
    join_names,
    non_compliant,
)

# Connection states in which AWS carries no traffic through the connection's routes.
DEAD_STATES = frozenset({"deleted", "deleting", "rejected", "failed", "expired"})
DEFAULT_ROUTES = ("0.0.0.0/0", "::/0")


def _peer_blocks(info):
    """Every IPv4 and IPv6 CIDR block of one side of a peering connection."""
    blocks = {block["CidrBlock"] for block in info.get("CidrBlockSet") or () if block.get("CidrBlock")}
    blocks |= {block["Ipv6CidrBlock"] for block in info.get("Ipv6CidrBlockSet") or () if block.get("Ipv6CidrBlock")}
    if info.get("CidrBlock"):
        blocks.add(info["CidrBlock"])
    return sorted((ip_network(block, strict=False) for block in blocks), key=lambda n: (n.version, n))


class VPC_PEERING_ROUTES_LEAST_ACCESS(CisRule):
    PARAMETERS = {"minPeeringPrefixLength": IntParameter(default=0, minimum=0, maximum=32)}
    ACTIONS = ("ec2:DescribeRouteTables", "ec2:DescribeVpcPeeringConnections", "ec2:GetManagedPrefixListEntries")
    RESOURCE_TYPE = ROUTE_TABLE

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        ec2 = client_factory.build_client("ec2")
        min_prefix = valid_rule_parameters["minPeeringPrefixLength"]
        owner = account_id(event)
        connections = {}
        for page in ec2.get_paginator("describe_vpc_peering_connections").paginate():
            for connection in page["VpcPeeringConnections"]:
                connections[connection["VpcPeeringConnectionId"]] = connection
        prefix_lists = {}

        def destinations(route):
            if route.get("DestinationCidrBlock"):
                return [route["DestinationCidrBlock"]]
            if route.get("DestinationIpv6CidrBlock"):
                return [route["DestinationIpv6CidrBlock"]]
            prefix_list = route.get("DestinationPrefixListId")
            if not prefix_list:
                raise EvaluationError(f"A route through {route['VpcPeeringConnectionId']} has no destination.")
            if prefix_list not in prefix_lists:
                paginator = ec2.get_paginator("get_managed_prefix_list_entries")
                prefix_lists[prefix_list] = [
                    entry["Cidr"] for page in paginator.paginate(PrefixListId=prefix_list) for entry in page["Entries"]
                ]
            return prefix_lists[prefix_list]

        evaluations = []
        read = 0
        for page in ec2.get_paginator("describe_route_tables").paginate():
            read += len(page["RouteTables"])
            for table in page["RouteTables"]:
                if table.get("OwnerId", owner) != owner:
                    continue
                table_id, vpc_id = table["RouteTableId"], table["VpcId"]
                peering_routes, problems, through = 0, [], []
                for route in table.get("Routes", ()):
                    pcx = route.get("VpcPeeringConnectionId")
                    if not pcx or route.get("State") == "blackhole":
                        continue
                    connection = connections.get(pcx)
                    if connection is None:
                        raise EvaluationError(
                            f"Route table {table_id} routes through {pcx}, which DescribeVpcPeeringConnections "
                            "does not list."
                        )
                    status = connection.get("Status", {}).get("Code")
                    if status in DEAD_STATES:
                        continue
                    peering_routes += 1
                    requester = connection.get("RequesterVpcInfo") or {}
                    accepter = connection.get("AccepterVpcInfo") or {}
                    peer = accepter if requester.get("VpcId") == vpc_id else requester
                    blocks = _peer_blocks(peer)
                    if status == "active" and not blocks:
                        raise EvaluationError(f"Active peering connection {pcx} names no CIDR block of the peer VPC.")
                    for text in destinations(route):
                        found = _judge(text, pcx, peer.get("VpcId", "?"), blocks, min_prefix)
                        problems.extend(found)
                        if found and pcx not in through:
                            through.append(pcx)
                if problems:
                    evaluations.append(
                        non_compliant(
                            table_id,
                            ROUTE_TABLE,
                            f"Route table {table_id} routes more than least access through "
                            f"{join_names(through, limit=2)}: {join_names(problems, limit=3)}.",
                        )
                    )
                elif peering_routes:
                    evaluations.append(
                        compliant(
                            table_id,
                            ROUTE_TABLE,
                            f"Route table {table_id} routes only part of each peer VPC through VPC peering.",
                        )
                    )
                else:
                    evaluations.append(
                        compliant(
                            table_id, ROUTE_TABLE, f"Route table {table_id} has no active route through VPC peering."
                        )
                    )
            check_deadline(f"{read} route tables read")
        return evaluations


def _judge(text, pcx, peer_vpc, blocks, min_prefix):
    """What is wrong with one destination routed through ``pcx`` (an empty list when nothing)."""
    try:
        destination = ip_network(text, strict=False)
    except ValueError:
        raise EvaluationError(f"A route through {pcx} has an unreadable destination {text[:50]!r}.") from None
    if str(destination) in DEFAULT_ROUTES:
        return [f"{destination} is a default route"]
    covered = [block for block in blocks if block.version == destination.version and block.subnet_of(destination)]
    if covered:
        return [f"{destination} covers all of {join_names(map(str, covered), limit=2)} of peer {peer_vpc}"]
    if min_prefix and destination.version == 4 and destination.prefixlen < min_prefix:
        return [f"{destination} is shorter than /{min_prefix}"]
    return []


def lambda_handler(event, context):
    return handle(VPC_PEERING_ROUTES_LEAST_ACCESS(), event, context)
