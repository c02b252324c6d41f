"""CIS 2.2: log file validation on a trail of this account.

A trail of another account (an organisation trail) is its owner's to change: the run stops and
says so. Validation already on is left as it is; nothing else of the trail changes.
"""

from __future__ import annotations

from typing import Any

from runbook_base import Changes, account_and_partition, client, own_trail

ACTIONS = ("cloudtrail:DescribeTrails", "cloudtrail:UpdateTrail")
SCOPE = {"cloudtrail:UpdateTrail": ("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*",)}


def enable_log_validation(trail_id: str) -> Changes:
    changes = Changes("CisPack-EnableTrailLogValidation")
    account, _ = account_and_partition()
    trail = own_trail(trail_id, account)
    name = str(trail["Name"])
    if trail.get("LogFileValidationEnabled"):
        changes.keep(f"trail {name} validates its log files")
        return changes
    client("cloudtrail", str(trail["HomeRegion"])).update_trail(Name=trail["TrailARN"], EnableLogFileValidation=True)
    changes.change(
        f"turned on log file validation for trail {name}", f"cloudtrail trail {name}", before=False, after=True
    )
    return changes


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    trail = str(events["TrailName"])
    return enable_log_validation(trail).result(trail)
