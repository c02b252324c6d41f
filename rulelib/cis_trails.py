"""CloudTrail trail discovery: the trails a rule can see from its region, and how to read them.

Symlinked into the rule folders that look at trails (CIS 2.3, 2.6, 3.x). Stdlib, botocore and
rdklib only.

AWS behaviour this module relies on (CloudTrail API reference, DescribeTrails/GetTrailStatus):

* ``DescribeTrails`` with ``includeShadowTrails=True`` and no name list returns the trails homed in
  the caller's region, the *shadow* copies of multi-region trails homed in other regions, and the
  shadow copies of organisation trails (owned by the management account or a delegated
  administrator) in member accounts. Single-region trails homed in another region are not
  visible; that is why rules that judge "the account's trails" run in one region and rely on the
  multi-region trail the benchmark (CIS 2.1) asks for.
* ``DescribeTrails`` has **no pagination** in the API or in boto3 (no ``NextToken``, no
  paginator; the account limit is 5 trails per region). ``ListTrails`` is paginated, but gives
  only name, ARN and home region; :func:`describe_trails_by_arn` then describes the trails it
  lists in another region in **one** call per region (``trailNameList`` takes several names or
  ARNs; the answer holds only the named trails of that region, a deleted one is absent).
* Status and event selectors of a trail are read **in its home region** and by **ARN** (the
  name alone does not resolve a shadow trail or an organisation trail from a member account).
* An organisation trail owned by another account is listed, but reading it from a member account
  can fail with ``TrailNotFoundException`` ("Unknown trail ... for the user") or
  ``CloudTrailARNInvalidException`` ("AccountID in ARN is wrong"). Those two codes, on a trail whose
  ``IsOrganizationTrail`` is true, raise :class:`TrailUnreadableError` — an
  :class:`cis_rule.EvaluationError` carrying the trail and its owning account — so a caller that
  does nothing fails closed (error, no evaluation), and a caller that can judge without the trail
  catches it and reports, e.g., NOT_APPLICABLE naming ``err.trail.owner_account``. The same codes on
  the account's own trail (deleted between listing and reading) propagate as ``ClientError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cis_rule import EvaluationError

ACTIONS = ("cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus")
#: The action of :func:`visible_trails` alone, for rules that only need the trail descriptions.
DESCRIBE_ACTIONS = ("cloudtrail:DescribeTrails",)

BuildClient = Callable[[str, str], Any]

# Errors a member account gets when it reads an organisation trail it does not own.
FOREIGN_TRAIL_ERRORS = frozenset({"TrailNotFoundException", "CloudTrailARNInvalidException"})


def _arn_parts(arn: str, service: str) -> list[str]:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != service or not parts[3] or not parts[4]:
        raise EvaluationError(f"Unexpected {service} ARN {arn[:120]!r}.")
    return parts


@dataclass(frozen=True)
class Trail:
    """One trail as ``DescribeTrails`` describes it; owner and home region come from its ARN."""

    name: str
    arn: str
    home_region: str
    owner_account: str
    is_multi_region: bool
    is_organization_trail: bool
    s3_bucket: str | None
    log_group_arn: str | None
    #: ``S3KeyPrefix``, ``KmsKeyId`` and ``LogFileValidationEnabled``, for callers that need them.
    s3_key_prefix: str | None = None
    kms_key_id: str | None = None
    log_file_validation: bool = False

    @classmethod
    def from_description(cls, item: Mapping[str, Any]) -> Trail:
        arn = str(item.get("TrailARN") or "")
        parts = _arn_parts(arn, "cloudtrail")
        return cls(
            name=str(item.get("Name") or arn.rsplit("/", 1)[-1]),
            arn=arn,
            home_region=parts[3],
            owner_account=parts[4],
            is_multi_region=bool(item.get("IsMultiRegionTrail")),
            is_organization_trail=bool(item.get("IsOrganizationTrail")),
            s3_bucket=item.get("S3BucketName") or None,
            log_group_arn=item.get("CloudWatchLogsLogGroupArn") or None,
            s3_key_prefix=item.get("S3KeyPrefix") or None,
            kms_key_id=item.get("KmsKeyId") or None,
            log_file_validation=bool(item.get("LogFileValidationEnabled")),
        )

    @property
    def partition(self) -> str:
        return self.arn.split(":", 2)[1]

    def _log_group_part(self, index: int) -> str | None:
        # arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*  (log group names cannot contain ":")
        if self.log_group_arn is None:
            return None
        parts = self.log_group_arn.split(":")
        if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group" or not parts[6]:
            raise EvaluationError(f"Trail {self.name} has an unexpected log group ARN {self.log_group_arn[:120]!r}.")
        return parts[index]

    @property
    def log_group_name(self) -> str | None:
        return self._log_group_part(6)

    @property
    def log_group_region(self) -> str | None:
        return self._log_group_part(3)

    @property
    def log_group_account(self) -> str | None:
        return self._log_group_part(4)

    def is_owned_by(self, account_id: str) -> bool:
        return self.owner_account == account_id


class TrailUnreadableError(EvaluationError):
    """An organisation trail owned by another account could not be read from this one."""

    def __init__(self, trail: Trail, code: str) -> None:
        super().__init__(
            f"Trail {trail.name} is an organisation trail owned by account {trail.owner_account}; "
            f"this account cannot read it ({code})."
        )
        self.trail = trail
        self.code = code


def visible_trails(cloudtrail: Any) -> list[Trail]:
    """The trails visible in the client's region (own, shadow, organisation), one per ARN,
    sorted by ARN. ``DescribeTrails`` is not paginated (see the module docstring)."""
    response = cloudtrail.describe_trails(includeShadowTrails=True)
    trails: dict[str, Trail] = {}
    for item in response.get("trailList", []):
        trail = Trail.from_description(item)
        trails.setdefault(trail.arn, trail)
    return [trails[arn] for arn in sorted(trails)]


def arn_account(arn: str) -> str:
    """The account that owns a trail, from its ARN."""
    return _arn_parts(arn, "cloudtrail")[4]


def describe_trails_by_arn(cloudtrail: Any, arns: Iterable[str]) -> list[Trail]:
    """The trails named by ``arns``, all homed in the client's region, described in one
    ``DescribeTrails`` call, sorted by ARN. A trail deleted since it was listed is absent from the
    answer and from the result; a trail the answer adds unasked is left out."""
    wanted = set(arns)
    if not wanted:
        return []
    trails: dict[str, Trail] = {}
    for item in cloudtrail.describe_trails(trailNameList=sorted(wanted)).get("trailList", []):
        trail = Trail.from_description(item)
        if trail.arn in wanted:
            trails.setdefault(trail.arn, trail)
    return [trails[arn] for arn in sorted(trails)]


def _read(trail: Trail, call: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
    try:
        return call()
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if trail.is_organization_trail and code in FOREIGN_TRAIL_ERRORS:
            raise TrailUnreadableError(trail, code) from err
        raise


def trail_status(build_client: BuildClient, trail: Trail) -> Mapping[str, Any]:
    """``GetTrailStatus`` of the trail, asked in its home region by ARN.

    Raises :class:`TrailUnreadableError` for an organisation trail this account cannot read."""
    client = build_client("cloudtrail", trail.home_region)
    return _read(trail, lambda: client.get_trail_status(Name=trail.arn))


def event_selectors(build_client: BuildClient, trail: Trail) -> Mapping[str, Any]:
    """``GetEventSelectors`` of the trail, asked in its home region by ARN.

    Raises :class:`TrailUnreadableError` for an organisation trail this account cannot read."""
    client = build_client("cloudtrail", trail.home_region)
    return _read(trail, lambda: client.get_event_selectors(TrailName=trail.arn))


def _classic_selector_covers_all(selector: Mapping[str, Any]) -> bool:
    # ExcludeManagementEventSources drops KMS or RDS Data API events: then not *all* management
    # events are logged (CIS 3.7 watches KMS events), so such a selector does not count.
    return (
        selector.get("IncludeManagementEvents") is True
        and selector.get("ReadWriteType") == "All"
        and not selector.get("ExcludeManagementEventSources")
    )


def _advanced_selector_covers_all(selector: Mapping[str, Any]) -> bool:
    # An advanced selector logs all management events when it selects eventCategory = Management
    # and has no other field condition: a readOnly field (true or false) keeps only reads or only
    # writes, an eventSource NotEquals excludes sources.
    fields = selector.get("FieldSelectors") or []
    category = [f for f in fields if f.get("Field") == "eventCategory"]
    others = [f for f in fields if f.get("Field") != "eventCategory"]
    if others or len(category) != 1:
        return False
    only = category[0]
    restricted = ("NotEquals", "StartsWith", "NotStartsWith", "EndsWith", "NotEndsWith")
    return list(only.get("Equals") or []) == ["Management"] and not any(only.get(key) for key in restricted)


def selectors_log_all_management_events(selectors: Mapping[str, Any]) -> bool:
    """Whether a ``GetEventSelectors`` answer logs every management event, reads and writes.

    A trail uses either classic or advanced selectors. An answer with neither is taken as "no
    management events": AWS gives a new trail a default classic selector (All, management events
    included), but moto returns none until ``PutEventSelectors`` is called, so local setups must
    put one explicitly."""
    classic: Iterable[Mapping[str, Any]] = selectors.get("EventSelectors") or []
    advanced: Iterable[Mapping[str, Any]] = selectors.get("AdvancedEventSelectors") or []
    return any(_classic_selector_covers_all(s) for s in classic) or any(
        _advanced_selector_covers_all(s) for s in advanced
    )


def management_events_all(build_client: BuildClient, trail: Trail) -> bool:
    """Whether the trail logs all management events with read/write type All (classic selectors
    with ``IncludeManagementEvents`` and ``ReadWriteType`` ``All``, or an advanced selector on
    ``eventCategory`` = ``Management`` with no ``readOnly`` or other restriction).

    Raises :class:`TrailUnreadableError` for an organisation trail this account cannot read."""
    return selectors_log_all_management_events(event_selectors(build_client, trail))


def trails_by_bucket(trails: Iterable[Trail]) -> dict[str, tuple[Trail, ...]]:
    """The S3 buckets the trails deliver to, each with the trails that deliver there, by name."""
    buckets: dict[str, list[Trail]] = {}
    for trail in trails:
        if trail.s3_bucket:
            buckets.setdefault(trail.s3_bucket, []).append(trail)
    return {name: tuple(buckets[name]) for name in sorted(buckets)}
