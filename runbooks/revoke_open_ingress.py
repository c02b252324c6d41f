"""CIS 4.1 (port 22) and 4.2 (port 3389): revoke the ingress rules that open the port to the world.

Of the security group's inbound rules that reach ``Port`` over TCP (a port range that includes
it, or all protocols), only the ``0.0.0.0/0`` and ``::/0`` sources are revoked; other sources of
the same rule (an office range, another security group) and every other rule stay. Each revoked
rule is in the change record, to authorise it again if needed.
"""

from __future__ import annotations

from typing import Any

from runbook_base import Changes, RemediationError, client

ACTIONS = ("ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress")
WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"


def _reaches(permission: dict[str, Any], port: int) -> bool:
    protocol = str(permission.get("IpProtocol"))
    if protocol == "-1":
        return True
    return protocol in ("tcp", "6") and int(permission.get("FromPort", -1)) <= port <= int(permission.get("ToPort", -1))


def revoke_open_ingress(group_id: str, port: int) -> Changes:
    changes = Changes("CisPack-RevokeOpenIngress")
    ec2 = client("ec2")
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroups"]
    if not groups:
        raise RemediationError(f"No security group {group_id} exists (deleted since AWS Config evaluated it?).")
    for permission in groups[0].get("IpPermissions", []):
        if not _reaches(permission, port):
            continue
        v4 = [r for r in permission.get("IpRanges", []) if r.get("CidrIp") == WORLD_V4]
        v6 = [r for r in permission.get("Ipv6Ranges", []) if r.get("CidrIpv6") == WORLD_V6]
        if not v4 and not v6:
            continue
        revoke: dict[str, Any] = {"IpProtocol": permission["IpProtocol"], "IpRanges": v4, "Ipv6Ranges": v6}
        for bound in ("FromPort", "ToPort"):
            if bound in permission:
                revoke[bound] = permission[bound]
        ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[revoke])
        ports = "all traffic" if permission["IpProtocol"] == "-1" else f"ports {revoke['FromPort']}-{revoke['ToPort']}"
        sources = ", ".join([WORLD_V4] * bool(v4) + [WORLD_V6] * bool(v6))
        changes.change(
            f"revoked ingress from {sources} to {ports} of security group {group_id}",
            f"ec2 security group {group_id}",
            before=revoke,
        )
    if not changes.changed:
        changes.keep(f"security group {group_id} opens port {port} to no one")
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    return revoke_open_ingress(str(events["GroupId"]), int(str(events["Port"]))).result()
