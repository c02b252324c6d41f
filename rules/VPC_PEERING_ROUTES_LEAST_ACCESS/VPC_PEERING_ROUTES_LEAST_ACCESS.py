"""CIS 4.4 — Ensure routing tables for VPC peering are "least access" (Level 2, not scored).

Trigger: periodic, and configuration changes of ``AWS::EC2::RouteTable``. Reports on: each
``AWS::EC2::RouteTable`` this account owns in the region, by its ID (``rtb-...``). Parameters:
``minPeeringPrefixLength`` (integer 0-32, default 0 = off); ``staleAfterHours`` (every rule).

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
11. A peering route through a connection this account cannot see, an active connection that
    names no peer CIDR block, or a prefix list it may not read: that table NON_COMPLIANT
    ``Could not evaluate: ...``.
12. AccessDenied on the listings: every table the rule last reported NON_COMPLIANT ``Could not
    evaluate: ...``, and the invocation fails. Throttling after retries: the tables judged are
    sent, no clean-up, the invocation fails naming the rest (stale ones: ``staleAfterHours``).
13. ``minPeeringPrefixLength`` outside 0-32 or not an integer: InvalidParametersError.
14. The Lambda's remaining time runs short between two pages of route tables: the tables judged
    are sent, no clean-up, and the invocation fails naming how many route tables were read.

On a configuration change of a route table, the rule judges that one table as the periodic run
would (the same function, the same annotation):
15. A route opened to a whole peer VPC, to 0.0.0.0/0 or ::/0 (or, with the parameter, to a short
    prefix): NON_COMPLIANT, as in 4-6; narrowed again: COMPLIANT, as in 2-3. The routes come from
    the configuration item (``configuration.routes``, ``DescribeRouteTables`` in camelCase); the
    peer's CIDR blocks and prefix-list entries, which the item does not hold, from the API, and
    only when the table has a route through a peering connection. An item without a readable
    route list falls back to ``DescribeRouteTables`` for that table.
16. A deleted route table (``ResourceDeleted``), or an item that left the rule's scope:
    NOT_APPLICABLE; a table deleted before the fallback read: NOT_APPLICABLE.
17. A route table owned by another account (a shared VPC), or an item that claims another account
    (``awsAccountId``): NOT_APPLICABLE, as the periodic run does not report it.
18. An oversized configuration item: read back with ``config:GetResourceConfigHistory``, then as 15.
19. AccessDenied on any call, or a peering route through a connection this account cannot see:
    that table NON_COMPLIANT ``Could not evaluate: ...``; throttling after retries: nothing sent,
    the invocation fails.
A change evaluation is never retired by the periodic run's clean-up (rdklib marks NOT_APPLICABLE
what a periodic run does not report): the periodic run reports every route table this account
owns in the region, so a table the change judged is reported again.
"""

from collections.abc import Mapping
from ipaddress import ip_network

from botocore.exceptions import ClientError

from cis_rule import (
    JUDGED_FAILURES,
    ROUTE_TABLE,
    CisRule,
    EvaluationError,
    IntParameter,
    PartialRun,
    account_id,
    check_deadline,
    compliant,
    could_not_evaluate,
    handle,
    is_transient,
    join_names,
    non_compliant,
    not_applicable,
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


def _peering_connections(ec2):
    connections = {}
    for page in ec2.get_paginator("describe_vpc_peering_connections").paginate():
        for connection in page["VpcPeeringConnections"]:
            connections[connection["VpcPeeringConnectionId"]] = connection
    return connections


class _TableJudge:
    """Judges route tables (``DescribeRouteTables`` items) for one run: the peering connections
    (read once, when first needed unless given) and the prefix lists it has read."""

    def __init__(self, ec2, min_prefix, connections=None):
        self.ec2 = ec2
        self.min_prefix = min_prefix
        self._connections = connections
        self._prefix_lists = {}

    def connection(self, pcx):
        if self._connections is None:
            self._connections = _peering_connections(self.ec2)
        return self._connections.get(pcx)

    def destinations(self, route):
        if route.get("DestinationCidrBlock"):
            return [route["DestinationCidrBlock"]]
        if route.get("DestinationIpv6CidrBlock"):
            return [route["DestinationIpv6CidrBlock"]]
        prefix_list = route.get("DestinationPrefixListId")
        if not prefix_list:
            raise EvaluationError(f"A route through {route['VpcPeeringConnectionId']} has no destination.")
        if prefix_list not in self._prefix_lists:
            paginator = self.ec2.get_paginator("get_managed_prefix_list_entries")
            self._prefix_lists[prefix_list] = [
                entry["Cidr"] for page in paginator.paginate(PrefixListId=prefix_list) for entry in page["Entries"]
            ]
        return self._prefix_lists[prefix_list]

    def __call__(self, table):
        table_id, vpc_id = table["RouteTableId"], table["VpcId"]
        peering_routes, problems, through = 0, [], []
        for route in table.get("Routes", ()):
            pcx = route.get("VpcPeeringConnectionId")
            if not pcx or route.get("State") == "blackhole":
                continue
            connection = self.connection(pcx)
            if connection is None:
                raise EvaluationError(
                    f"Route table {table_id} routes through {pcx}, which DescribeVpcPeeringConnections does not list."
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
            for text in self.destinations(route):
                found = _judge(text, pcx, peer.get("VpcId", "?"), blocks, self.min_prefix)
                problems.extend(found)
                if found and pcx not in through:
                    through.append(pcx)
        if problems:
            return non_compliant(
                table_id,
                ROUTE_TABLE,
                f"Route table {table_id} routes more than least access through "
                f"{join_names(through, limit=2)}: {join_names(problems, limit=3)}.",
            )
        if peering_routes:
            return compliant(
                table_id, ROUTE_TABLE, f"Route table {table_id} routes only part of each peer VPC through VPC peering."
            )
        return compliant(table_id, ROUTE_TABLE, f"Route table {table_id} has no active route through VPC peering.")


def _recorded_table(table_id, configuration):
    """A configuration item's route table as ``DescribeRouteTables`` describes it (AWS Config
    writes the same item in camelCase, absent fields as null), or None when it has no readable
    route list."""
    if not isinstance(configuration, Mapping):
        return None
    routes, vpc_id = configuration.get("routes"), configuration.get("vpcId")
    if not isinstance(routes, list) or not all(isinstance(r, Mapping) for r in routes) or not isinstance(vpc_id, str):
        return None
    table = {
        "RouteTableId": table_id,
        "VpcId": vpc_id,
        "Routes": [{key[:1].upper() + key[1:]: value for key, value in r.items() if value is not None} for r in routes],
    }
    if isinstance(configuration.get("ownerId"), str):
        table["OwnerId"] = configuration["ownerId"]
    return table


class VPC_PEERING_ROUTES_LEAST_ACCESS(CisRule):
    PARAMETERS = {"minPeeringPrefixLength": IntParameter(default=0, minimum=0, maximum=32)}
    ACTIONS = ("ec2:DescribeRouteTables", "ec2:DescribeVpcPeeringConnections", "ec2:GetManagedPrefixListEntries")
    RESOURCE_TYPE = ROUTE_TABLE
    CHANGE_TYPES = (ROUTE_TABLE,)

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        ec2 = client_factory.build_client("ec2")
        owner = account_id(event)
        judge = _TableJudge(ec2, valid_rule_parameters["minPeeringPrefixLength"], _peering_connections(ec2))
        evaluations = []
        read = 0
        try:
            for page in ec2.get_paginator("describe_route_tables").paginate():
                read += len(page["RouteTables"])
                for table in page["RouteTables"]:
                    if table.get("OwnerId", owner) == owner:
                        evaluations.append(_judge_or_could_not(judge, table))
                check_deadline(f"{read} route tables read", decided=len(evaluations))
        except JUDGED_FAILURES as error:
            if not evaluations or not is_transient(error):
                raise
            # The tables judged are sent; the rest wait for the next run.
            raise PartialRun(evaluations, [f"the route tables after the first {len(evaluations)}"], error) from error
        return evaluations

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        owner = account_id(event)
        table_id = str(configuration_item["resourceId"])
        recorded_owner = configuration_item.get("awsAccountId")
        if recorded_owner and str(recorded_owner) != owner:
            # An item that claims another account: that account's deployment judges it (as 2.3, 2.6).
            text = (
                f"Route table {table_id} belongs to account {recorded_owner}, whose own deployment of the rule "
                "judges it."
            )
            return [not_applicable(table_id, ROUTE_TABLE, text)]
        ec2 = client_factory.build_client("ec2")
        table = _recorded_table(table_id, configuration_item.get("configuration"))
        if table is None:
            try:
                found = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"]
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "InvalidRouteTableID.NotFound":
                    raise
                found = []
            if not found:
                text = f"Route table {table_id} was deleted while the rule ran."
                return [not_applicable(table_id, ROUTE_TABLE, text)]
            table = found[0]
        if table.get("OwnerId", owner) != owner:
            return [
                not_applicable(
                    table_id,
                    ROUTE_TABLE,
                    f"Route table {table_id} belongs to account {table['OwnerId']} (a shared VPC), whose own "
                    "deployment of the rule judges it.",
                )
            ]
        return [_TableJudge(ec2, valid_rule_parameters["minPeeringPrefixLength"])(table)]


def _judge_or_could_not(judge, table):
    """The table's verdict, or NON_COMPLIANT ``Could not evaluate`` when what it needs cannot be
    read for good (a prefix list denied, a connection not listed); transient failures propagate."""
    try:
        return judge(table)
    except JUDGED_FAILURES as error:
        if is_transient(error):
            raise
        return could_not_evaluate(table["RouteTableId"], ROUTE_TABLE, error)


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
