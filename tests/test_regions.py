"""Tests for the account's regions (rulelib/cis_regions.py), against moto's EC2."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cis_regions import ACTIONS, enabled_regions, is_region_name, partition_of, partition_regions
from cispack.local.config import respond


def ec2(region: str = "us-east-1") -> Any:
    return boto3.client("ec2", region_name=region)


def region(name: str, status: str = "opt-in-not-required") -> dict[str, str]:
    return {"RegionName": name, "OptInStatus": status, "Endpoint": f"ec2.{name}.amazonaws.com"}


@pytest.mark.parametrize("name", ["us-east-1", "eu-central-2", "ap-southeast-5", "us-gov-west-1", "cn-northwest-1"])
def test_region_names(name):
    assert is_region_name(name)


@pytest.mark.parametrize("name", ["", "us-east", "US-EAST-1", "useast1", "eu-west-1a", " eu-west-1", "*"])
def test_not_region_names(name):
    assert not is_region_name(name)


def test_partition_of():
    assert [partition_of(r) for r in ("eu-west-1", "us-gov-east-1", "cn-north-1", "xx-nowhere-9")] == [
        "aws",
        "aws-us-gov",
        "aws-cn",
        None,
    ]


def test_moto_regions_are_filtered_to_the_enabled_commercial_ones(aws):
    regions = enabled_regions(ec2(), "us-east-1")
    assert "us-east-1" in regions and "eu-west-1" in regions
    assert not [r for r in regions if r.startswith(("us-gov-", "cn-"))]
    # moto marks opt-in regions it does not consider enabled "not-opted-in", even without AllRegions.
    assert "ap-east-1" not in regions
    assert regions == sorted(regions)


def test_partition_regions_include_regions_not_enabled(aws):
    regions = partition_regions(ec2(), "us-east-1")
    assert "ap-east-1" in regions and "us-gov-west-1" not in regions
    assert set(enabled_regions(ec2(), "us-east-1")) < set(regions)


def test_enabled_regions_as_aws_answers():
    answer = {
        "Regions": [
            region("us-east-1"),
            region("af-south-1", "opted-in"),
            region("ap-east-1", "not-opted-in"),
            region("us-gov-west-1"),
            # A region newer than botocore's endpoint data is kept: AWS lists only the caller's partition.
            region("zz-future-1"),
        ]
    }
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    with respond("ec2", "DescribeRegions", answer, session=session) as calls:
        regions = enabled_regions(session.client("ec2"), "us-east-1")
    assert regions == ["af-south-1", "us-east-1", "zz-future-1"]
    assert calls == [{}]


def test_govcloud_rule_sees_only_govcloud(aws):
    assert enabled_regions(ec2("us-gov-west-1"), "us-gov-west-1") == ["us-gov-east-1", "us-gov-west-1"]


def test_describe_regions_error_propagates(aws):
    with respond("ec2", "DescribeRegions", error="UnauthorizedOperation", status=403):
        with pytest.raises(ClientError, match="UnauthorizedOperation"):
            enabled_regions(ec2(), "us-east-1")


def test_actions():
    assert ACTIONS == ("ec2:DescribeRegions",)
