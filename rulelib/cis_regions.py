"""The regions of the account: which are enabled, and which exist in the rule's partition.

Symlinked into the rule folders that look at every region (CIS 2.5). Stdlib, botocore and rdklib
only.

* ``DescribeRegions`` without ``AllRegions`` returns the regions enabled for the account: those
  whose ``OptInStatus`` is ``opt-in-not-required`` or ``opted-in``. With ``AllRegions=True`` it
  adds the opt-in regions the account has not enabled (``not-opted-in``). The call has no
  pagination (no ``NextToken``, no boto3 paginator).
* moto answers both calls with every region it knows, opt-in regions marked ``not-opted-in``
  included, and with GovCloud and China regions, which a commercial account never sees. So the
  answer is filtered on ``OptInStatus`` and on the partition of the region the rule runs in;
  against AWS both filters change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import botocore.session
from botocore.exceptions import UnknownRegionError

ACTIONS = ("ec2:DescribeRegions",)

#: A region name as AWS spells them (us-east-1, us-gov-west-1, ap-southeast-5, eu-central-2...).
REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-\d{1,2}"
REGION_DESCRIPTION = "region names such as eu-west-1"

NOT_ENABLED = "not-opted-in"


@cache
def _endpoint_data() -> Any:
    # botocore's bundled partition data (regions and their partitions); read once, and only
    # when asked, not at import.
    return botocore.session.get_session()


def is_region_name(text: str) -> bool:
    return re.fullmatch(REGION_PATTERN, text) is not None


def partition_of(region: str) -> str | None:
    """The partition (aws, aws-us-gov, aws-cn...) of a region, from botocore's endpoint data;
    None for a region newer than that data."""
    try:
        return str(_endpoint_data().get_partition_for_region(region))
    except UnknownRegionError:
        return None


def _in_partition(regions: Iterable[Mapping[str, Any]], rule_region: str) -> list[Mapping[str, Any]]:
    home = partition_of(rule_region)
    kept = []
    for region in regions:
        partition = partition_of(str(region["RegionName"]))
        # A region botocore does not know yet is kept: AWS returns only the caller's partition.
        if home is None or partition is None or partition == home:
            kept.append(region)
    return kept


def enabled_regions(ec2: Any, rule_region: str) -> list[str]:
    """Names of the regions enabled for the account in the rule's partition, sorted."""
    regions = _in_partition(ec2.describe_regions()["Regions"], rule_region)
    return sorted(str(r["RegionName"]) for r in regions if r.get("OptInStatus") != NOT_ENABLED)


def partition_regions(ec2: Any, rule_region: str) -> list[str]:
    """Names of every region of the rule's partition, enabled for the account or not, sorted."""
    regions = _in_partition(ec2.describe_regions(AllRegions=True)["Regions"], rule_region)
    return sorted(str(r["RegionName"]) for r in regions)
