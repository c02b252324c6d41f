"""``./pack demo``: the pack's main job on an embedded local AWS (moto server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

DEMO_REGION = "us-east-1"
OTHER_REGION = "eu-west-1"


@dataclass(frozen=True)
class DemoAccount:
    """The local account a seed module fills: boto3 clients against the moto server."""

    endpoint_url: str
    account_id: str
    region: str = DEMO_REGION
    other_region: str = OTHER_REGION

    def client(self, service: str, region: str | None = None) -> Any:
        return boto3.client(service, region_name=region or self.region, endpoint_url=self.endpoint_url)
