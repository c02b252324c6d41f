"""CIS 4.1 (port 22) and 4.2 (port 3389): take the port out of ingress rules open to the world.

The benchmark counts every inbound rule "that has a port range that includes" the port with a
source of ``0.0.0.0/0`` (``::/0`` too, as later versions say), whatever the protocol: TCP, UDP
(RDP answers on UDP 3389 as well) and all traffic. Of such a rule only the world sources go, and
only for the port: the rest of its range is authorised again for the same sources first (a rule
for TCP 0-65535 becomes TCP 0-21 and 23-65535), then the world sources of the rule are revoked,
so nothing but the port closes at any moment. An all-traffic rule becomes TCP and UDP without
the port, plus all ICMP (ICMPv6 for ``::/0``); other IP protocols it let in (GRE, ESP, ...) are
named in the record, to authorise again by hand if needed. Other sources of the same rule (an
office range, another security group) and every other rule stay. The record holds each rule
before and the rules after.
"""

from __future__ import annotations

from typing import Any

from runbook_base import Changes, ClientError, RemediationError, client, error_code

ACTIONS = ("ec2:DescribeSecurityGroups", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress")
GROUPS = ("arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:security-group/*",)
SCOPE = {"ec2:AuthorizeSecurityGroupIngress": GROUPS, "ec2:RevokeSecurityGroupIngress": GROUPS}
WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"
PORTED = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}


def _reaches(permission: dict[str, Any], port: int) -> bool:
    protocol = str(permission.get("IpProtocol"))
    if protocol == "-1":
        return True
    return protocol in PORTED and int(permission.get("FromPort", -1)) <= port <= int(permission.get("ToPort", -1))


def _around(low: int, high: int, port: int) -> list[tuple[int, int]]:
    return [(a, b) for a, b in ((low, port - 1), (port + 1, high)) if a <= b]


def _rest(permission: dict[str, Any], port: int, v4: list[Any], v6: list[Any]) -> list[dict[str, Any]]:
    """The rules that give the world sources everything the permission gave them but the port."""
    sources = {"IpRanges": v4, "Ipv6Ranges": v6}
    protocol = str(permission["IpProtocol"])
    if protocol != "-1":
        low, high = int(permission["FromPort"]), int(permission["ToPort"])
        return [{"IpProtocol": protocol, "FromPort": a, "ToPort": b, **sources} for a, b in _around(low, high, port)]
    rest = [
        {"IpProtocol": name, "FromPort": a, "ToPort": b, **sources}
        for name in ("tcp", "udp")
        for a, b in _around(0, 65535, port)
    ]
    if v4:
        rest.append({"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": v4})
    if v6:
        rest.append({"IpProtocol": "58", "FromPort": -1, "ToPort": -1, "Ipv6Ranges": v6})
    return rest


def _describe(rule: dict[str, Any]) -> str:
    if str(rule["IpProtocol"]) == "-1":
        return "all traffic"
    name = PORTED.get(str(rule["IpProtocol"]), str(rule["IpProtocol"]))
    return f"{name} {rule['FromPort']}-{rule['ToPort']}"


def revoke_open_ingress(group_id: str, port: int) -> Changes:
    changes = Changes("CisPack-RevokeOpenIngress")
    if not 0 <= port <= 65535:
        raise RemediationError(f"Port {port} is not a TCP or UDP port.")
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
        rest = _rest(permission, port, v4, v6)
        for rule in rest:
            try:
                ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
            except ClientError as err:
                # A rule the group already has: the sources keep that access either way.
                if error_code(err) != "InvalidPermission.Duplicate":
                    raise
        ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[revoke])
        sources = ", ".join([WORLD_V4] * bool(v4) + [WORLD_V6] * bool(v6))
        kept = "; ".join(_describe(rule) for rule in rest if rule["IpProtocol"] in ("tcp", "udp")) or "nothing else"
        note = " (other IP protocols than TCP, UDP and ICMP were not re-added)" if revoke["IpProtocol"] == "-1" else ""
        changes.change(
            f"took port {port} out of ingress from {sources} to {_describe(revoke)} of security group {group_id}, "
            f"keeping {kept}{note}",
            f"ec2 security group {group_id}",
            before=revoke,
            after=rest,
        )
    if not changes.changed:
        changes.keep(f"security group {group_id} opens port {port} to no one")
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    group_id = str(events["GroupId"])
    port = str(events["Port"]).strip()
    if not port.isdigit():
        raise RemediationError(f"The runbook parameter Port is {port!r}, not a port number.")
    return revoke_open_ingress(group_id, int(port)).result(f"ec2 security group {group_id}")
