"""Two peered VPCs for CIS 4.4 (VPC_PEERING_ROUTES_LEAST_ACCESS): one route table that routes a
single peer subnet through the peering (COMPLIANT) and one that routes the peer's whole CIDR block
(NON_COMPLIANT)."""

from __future__ import annotations

from typing import Any


def seed(account: Any) -> None:
    ec2 = account.client("ec2")
    app = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    shared = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    for vpc, name in ((app, "app"), (shared, "shared-services")):
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": name}])
    pcx = ec2.create_vpc_peering_connection(VpcId=app, PeerVpcId=shared)["VpcPeeringConnection"]
    pcx_id = pcx["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)

    # Least access: the app tier reaches only the shared-services subnet it needs (COMPLIANT).
    least = ec2.create_route_table(VpcId=app)["RouteTable"]["RouteTableId"]
    ec2.create_tags(Resources=[least], Tags=[{"Key": "Name", "Value": "app-least-access"}])
    ec2.create_route(RouteTableId=least, DestinationCidrBlock="10.30.4.0/24", VpcPeeringConnectionId=pcx_id)

    # The shared-services side routes the whole app VPC back through the peering (NON_COMPLIANT).
    wide = ec2.create_route_table(VpcId=shared)["RouteTable"]["RouteTableId"]
    ec2.create_tags(Resources=[wide], Tags=[{"Key": "Name", "Value": "shared-whole-peer"}])
    ec2.create_route(RouteTableId=wide, DestinationCidrBlock="10.20.0.0/16", VpcPeeringConnectionId=pcx_id)
