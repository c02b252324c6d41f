"""The monitoring chain of CIS 3.1 to 3.14, discovered once per evaluation and judged per control.

Symlinked into the fourteen ``METRIC_FILTER_ALARM_*`` rule folders, each of which only names its
control and its accepted filter patterns and subclasses :class:`MetricFilterAlarmRule`.

A control is satisfied (CONTROLS.md, "Monitoring rules"; the benchmark's audit steps) by a chain:

1. a **trail** that is multi-region, delivers to a CloudWatch Logs log group, is logging and logs
   every management event, reads and writes (classic or advanced event selectors). Trails are
   those ``DescribeTrails`` shows in the rule's region with shadow trails, so a multi-region
   trail homed elsewhere is found; its status and selectors are read in its home region;
2. on that log group (in the region of its ARN), a **metric filter** whose pattern covers one of
   the control's accepted patterns (:func:`cis_pattern_coverage.covers`). A filter whose pattern
   cannot be parsed never covers, and is named in the annotation when nothing else covers;
   otherwise the annotation names the filter sharing the most terms with the accepted patterns
   (if any does) and an event it misses, cut down to the fields the CIS pattern reads;
3. a **CloudWatch alarm** in that region on the filter's metric (same name and namespace) with
   actions enabled;
4. among the alarm's ``AlarmActions``, an **SNS topic** with at least one confirmed subscription
   (``ListSubscriptionsByTopic``: a pending subscription's ARN is ``PendingConfirmation``).

Verdicts. COMPLIANT as soon as one complete chain is found in this account (the annotation names
trail, filter, alarm and topic). Otherwise NOT_APPLICABLE when some candidate chain reaches a
link owned by another account (an organisation trail, a log group or a topic of another account:
this account cannot read it), naming that account. Otherwise NON_COMPLIANT, naming the first
missing link of the candidate chain that got furthest (ties: the first in trail-ARN, filter-name
and alarm-name order). Within a trail, the checks run in the order multi-region, log group
configured, owner, logging, management events, so that a trail that cannot qualify costs no call.

Cost. :class:`MonitoringChains` memoises every listing (trail status and selectors per trail,
metric filters per log group, alarms per metric, subscriptions per topic) and stops at the first
complete chain, so one evaluation costs about ``1 + 2·trails + pages(filters) + alarms lookups +
topics``: typically six calls. Alarms are read with ``DescribeAlarmsForMetric`` (one unpaginated
call per covering filter's metric) rather than by paging through every alarm of the region with
``DescribeAlarms`` (100 per page): an evaluation needs the alarms of one or two metrics, not all.
``DescribeAlarmsForMetric`` only returns alarms whose dimensions equal the ones asked for, so for
a filter whose metric has dimensions (values taken from the events, unknown here) the region's
alarms are paged through once with ``DescribeAlarms`` and matched on name and namespace.
Alarms on metric-math expressions are not counted: the benchmark's audit matches ``MetricName``.

Fail closed: every ``ClientError`` reaches rdklib (error, no evaluation) except the two that
describe a real state of the chain: ``ResourceNotFoundException`` on ``DescribeMetricFilters``
(the trail's log group no longer exists) and ``NotFound`` on ``ListSubscriptionsByTopic`` (the
alarm's topic no longer exists).

Flat module: standard library, botocore, rdklib and the pack's ``cis_*`` modules only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.exceptions import ClientError
from rdklib import Evaluation

from cis_filter_pattern import Check, Comparison, FilterPatternError, RegexValue, leaves, parse
from cis_pattern_coverage import Coverage, covers
from cis_rule import (
    ACCOUNT,
    CisRule,
    EvaluationError,
    account_id,
    compliant,
    event_region,
    join_names,
    non_compliant,
    not_applicable,
)
from cis_trails import ACTIONS as TRAIL_ACTIONS
from cis_trails import Trail, management_events_all, trail_status, visible_trails

ACTIONS: tuple[str, ...] = tuple(
    sorted(
        {
            *TRAIL_ACTIONS,
            "logs:DescribeMetricFilters",
            "cloudwatch:DescribeAlarmsForMetric",
            "cloudwatch:DescribeAlarms",
            "sns:ListSubscriptionsByTopic",
        }
    )
)

BuildClient = Callable[[str, str], Any]

COMPLIANT = "COMPLIANT"
NON_COMPLIANT = "NON_COMPLIANT"
NOT_APPLICABLE = "NOT_APPLICABLE"

# How far a candidate chain got: the link that is missing. Higher is further along.
NO_TRAIL = 0
NOT_MULTI_REGION = 1
NO_LOG_GROUP = 2
NOT_LOGGING = 3
NOT_ALL_MANAGEMENT_EVENTS = 4
LOG_GROUP_MISSING = 5
NO_COVERING_FILTER = 6
NO_ALARM = 7
ACTIONS_DISABLED = 8
NO_SNS_ACTION = 9
TOPIC_MISSING = 10
NO_CONFIRMED_SUBSCRIPTION = 11
COMPLETE = 12

# Page sizes: the largest each API accepts, so a listing takes the fewest calls.
METRIC_FILTERS_PAGE = 50
ALARMS_PAGE = 100


@dataclass(frozen=True)
class Outcome:
    """The verdict on one candidate chain (or on the account, once the best is chosen)."""

    compliance: str
    reached: int
    text: str

    @property
    def rank(self) -> tuple[int, int]:
        order = {NON_COMPLIANT: 0, NOT_APPLICABLE: 1, COMPLIANT: 2}
        return order[self.compliance], self.reached

    def evaluation(self, account: str) -> Evaluation:
        if self.compliance == COMPLIANT:
            return compliant(account, ACCOUNT, self.text)
        if self.compliance == NOT_APPLICABLE:
            return not_applicable(account, ACCOUNT, self.text)
        return non_compliant(account, ACCOUNT, self.text)


def _missing(reached: int, text: str) -> Outcome:
    return Outcome(NON_COMPLIANT, reached, text)


def _foreign(reached: int, owner: str, what: str, cannot: str) -> Outcome:
    return Outcome(NOT_APPLICABLE, reached, f"{what} is owned by account {owner}, so {cannot} from this account.")


@dataclass(frozen=True)
class Metric:
    """A metric a filter publishes to."""

    namespace: str
    name: str
    has_dimensions: bool = False

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class MetricFilter:
    name: str
    log_group: str
    region: str
    pattern: str
    metrics: tuple[Metric, ...]

    @classmethod
    def from_description(cls, item: Mapping[str, Any], region: str) -> MetricFilter:
        metrics = tuple(
            Metric(str(t.get("metricNamespace", "")), str(t.get("metricName", "")), bool(t.get("dimensions")))
            for t in item.get("metricTransformations") or ()
        )
        return cls(
            str(item.get("filterName", "")),
            str(item.get("logGroupName", "")),
            region,
            str(item.get("filterPattern") or ""),
            metrics,
        )


@dataclass(frozen=True)
class Alarm:
    name: str
    actions_enabled: bool
    alarm_actions: tuple[str, ...]

    @classmethod
    def from_description(cls, item: Mapping[str, Any]) -> Alarm:
        return cls(
            str(item.get("AlarmName", "")),
            bool(item.get("ActionsEnabled")),
            tuple(str(a) for a in item.get("AlarmActions") or ()),
        )

    @property
    def sns_topics(self) -> tuple[str, ...]:
        return tuple(action for action in self.alarm_actions if _arn_field(action, 2) == "sns")


def _arn_field(arn: str, index: int) -> str:
    parts = arn.split(":")
    return parts[index] if parts[0] == "arn" and len(parts) > index else ""


def _topic_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


@functools.lru_cache(maxsize=4096)
def filter_coverage(filter_pattern: str, accepted_patterns: tuple[str, ...]) -> Coverage | None:
    """Whether the filter pattern covers one of the accepted patterns; ``None`` when the filter
    cannot be parsed. Pure, so memoised across calls."""
    try:
        return covers(filter_pattern, accepted_patterns)
    except FilterPatternError:
        return None


def _term(leaf: Comparison | Check) -> tuple[tuple[str | int, ...], str, str]:
    if isinstance(leaf, Check):
        return leaf.selector.path, leaf.kind, ""
    value = leaf.value
    text = value.pattern if isinstance(value, RegexValue) else value.text
    return leaf.selector.path, leaf.operator, text


@functools.lru_cache(maxsize=4096)
def _terms(pattern: str) -> frozenset[tuple[tuple[str | int, ...], str, str]]:
    return frozenset(_term(leaf) for leaf in leaves(parse(pattern)))


def closest_miss(filters: Sequence[MetricFilter], accepted: tuple[str, ...]) -> tuple[str, str] | None:
    """For an annotation: the readable filter sharing the most terms with the accepted patterns
    (none when no filter shares any), and the event of the first accepted pattern it misses,
    cut down to the fields that pattern reads."""
    wanted = frozenset().union(*(_terms(pattern) for pattern in accepted))
    best: tuple[int, MetricFilter, Mapping[str, Any]] | None = None
    for metric_filter in filters:
        coverage = filter_coverage(metric_filter.pattern, accepted)
        if coverage is None or coverage.missed is None:
            continue
        shared = len(_terms(metric_filter.pattern) & wanted)
        if shared and (best is None or shared > best[0]):
            best = (shared, metric_filter, coverage.missed)
    if best is None:
        return None
    paths = [path for path, _, _ in sorted(_terms(accepted[0]), key=str)]
    return best[1].name, json.dumps(_project(best[2], paths))


def _project(event: Mapping[str, Any], paths: Sequence[tuple[str | int, ...]]) -> dict[str, Any]:
    """The event with only the given paths (those that exist), in the event's own key order."""
    keep: dict[str, Any] = {}
    firsts = {path[0] for path in paths if path}
    for key, value in event.items():
        if key not in firsts:
            continue
        rests = [path[1:] for path in paths if path and path[0] == key]
        if any(not rest for rest in rests) or not isinstance(value, Mapping):
            keep[key] = value
        else:
            inner = _project(value, [rest for rest in rests if rest and isinstance(rest[0], str)])
            if inner:
                keep[key] = inner
    return keep


class MonitoringChains:
    """The account's monitoring chains as seen from one region, discovered lazily and memoised.

    Create one per evaluation (state changes between evaluations); :meth:`judge` may then be
    called for any number of controls without listing anything twice."""

    def __init__(self, build_client: BuildClient, account: str, region: str) -> None:
        self._build_client = build_client
        self.account = account
        self.region = region
        self._clients: dict[tuple[str, str], Any] = {}
        self._trails: list[Trail] | None = None
        self._trail_checks: dict[str, Outcome | None] = {}
        self._filters: dict[tuple[str, str], tuple[MetricFilter, ...] | None] = {}
        self._alarms: dict[tuple[str, Metric], tuple[Alarm, ...]] = {}
        self._region_alarms: dict[str, tuple[Mapping[str, Any], ...]] = {}
        self._confirmed: dict[str, bool | None] = {}

    # ----------------------------------------------------------------------------- reading

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._build_client(service, region)
        return self._clients[key]

    def trails(self) -> list[Trail]:
        """Visible trails, this account's first (they can make the verdict COMPLIANT)."""
        if self._trails is None:
            found = visible_trails(self.client("cloudtrail", self.region))
            self._trails = sorted(found, key=lambda t: (not t.is_owned_by(self.account), t.arn))
        return self._trails

    def _trail_problem(self, trail: Trail) -> Outcome | None:
        """Logging and management events of one of this account's trails (two calls, once)."""
        if trail.arn not in self._trail_checks:
            problem: Outcome | None = None
            status = trail_status(self.client, trail)
            if status.get("IsLogging") is not True:
                problem = _missing(NOT_LOGGING, f"Multi-region trail {trail.name} is not logging.")
            elif not management_events_all(self.client, trail):
                problem = _missing(
                    NOT_ALL_MANAGEMENT_EVENTS,
                    f"Multi-region trail {trail.name} does not log all management events, read and write.",
                )
            self._trail_checks[trail.arn] = problem
        return self._trail_checks[trail.arn]

    def metric_filters(self, region: str, log_group: str) -> tuple[MetricFilter, ...] | None:
        """The log group's metric filters, or ``None`` when the log group does not exist."""
        key = (region, log_group)
        if key not in self._filters:
            paginator = self.client("logs", region).get_paginator("describe_metric_filters")
            found: list[MetricFilter] = []
            try:
                for page in paginator.paginate(
                    logGroupName=log_group, PaginationConfig={"PageSize": METRIC_FILTERS_PAGE}
                ):
                    found.extend(MetricFilter.from_description(item, region) for item in page.get("metricFilters", []))
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                self._filters[key] = None
                return None
            # describe_metric_filters filters by name prefix only when asked; keep exact matches.
            self._filters[key] = tuple(sorted((f for f in found if f.log_group == log_group), key=lambda f: f.name))
        return self._filters[key]

    def alarms(self, region: str, metric: Metric) -> tuple[Alarm, ...]:
        """Metric alarms on exactly this metric (name and namespace), sorted by name."""
        key = (region, metric)
        if key not in self._alarms:
            if metric.has_dimensions:
                items: Sequence[Mapping[str, Any]] = self._all_metric_alarms(region)
            else:
                response = self.client("cloudwatch", region).describe_alarms_for_metric(
                    MetricName=metric.name, Namespace=metric.namespace
                )
                items = response.get("MetricAlarms", [])
            matching = (
                Alarm.from_description(item)
                for item in items
                if item.get("MetricName") == metric.name and item.get("Namespace") == metric.namespace
            )
            self._alarms[key] = tuple(sorted(matching, key=lambda a: a.name))
        return self._alarms[key]

    def _all_metric_alarms(self, region: str) -> tuple[Mapping[str, Any], ...]:
        if region not in self._region_alarms:
            paginator = self.client("cloudwatch", region).get_paginator("describe_alarms")
            items: list[Mapping[str, Any]] = []
            for page in paginator.paginate(AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": ALARMS_PAGE}):
                items.extend(page.get("MetricAlarms", []))
            self._region_alarms[region] = tuple(items)
        return self._region_alarms[region]

    def has_confirmed_subscription(self, topic_arn: str) -> bool | None:
        """Whether the topic has a confirmed subscription; ``None`` when the topic does not exist.
        Stops paging at the first confirmed one."""
        if topic_arn not in self._confirmed:
            region = _arn_field(topic_arn, 3)
            if not region:
                raise EvaluationError(f"Alarm action {topic_arn[:120]!r} is not a valid SNS topic ARN.")
            paginator = self.client("sns", region).get_paginator("list_subscriptions_by_topic")
            confirmed: bool | None = False
            try:
                for page in paginator.paginate(TopicArn=topic_arn):
                    if any(
                        str(sub.get("SubscriptionArn", "")).startswith("arn:") for sub in page.get("Subscriptions", [])
                    ):
                        confirmed = True
                        break
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "NotFound":
                    raise
                confirmed = None
            self._confirmed[topic_arn] = confirmed
        return self._confirmed[topic_arn]

    # ----------------------------------------------------------------------------- judging

    def judge(self, control: str, accepted_patterns: Sequence[str]) -> Outcome:
        """The verdict for one control: the best outcome over every candidate chain."""
        accepted = tuple(accepted_patterns)
        if not accepted:
            raise EvaluationError(f"CIS {control} has no accepted filter pattern.")
        trails = self.trails()
        if not trails:
            return _missing(NO_TRAIL, "No CloudTrail trail exists in this account.")
        best: Outcome | None = None
        for trail in trails:
            for outcome in self._chains_of(trail, control, accepted):
                if best is None or outcome.rank > best.rank:
                    best = outcome
                if best.compliance == COMPLIANT:
                    return best
        assert best is not None  # every trail yields at least one outcome
        return best

    def _chains_of(self, trail: Trail, control: str, accepted: tuple[str, ...]) -> Iterator[Outcome]:
        if not trail.is_multi_region:
            yield _missing(NOT_MULTI_REGION, f"Trail {trail.name} is not a multi-region trail.")
            return
        if trail.log_group_arn is None:
            yield _missing(
                NO_LOG_GROUP, f"Multi-region trail {trail.name} does not deliver to a CloudWatch Logs log group."
            )
            return
        if not trail.is_owned_by(self.account):
            yield _foreign(
                NO_LOG_GROUP, trail.owner_account, f"Trail {trail.name}", "its monitoring chain cannot be verified"
            )
            return
        problem = self._trail_problem(trail)
        if problem is not None:
            yield problem
            return
        log_group = trail.log_group_name
        region = trail.log_group_region
        owner = trail.log_group_account
        assert log_group is not None and region is not None and owner is not None
        if owner != self.account:
            yield _foreign(
                NOT_ALL_MANAGEMENT_EVENTS,
                owner,
                f"Log group {log_group} of trail {trail.name}",
                "its metric filters cannot be verified",
            )
            return
        filters = self.metric_filters(region, log_group)
        if filters is None:
            yield _missing(
                LOG_GROUP_MISSING, f"Log group {log_group} of trail {trail.name} does not exist in {region}."
            )
            return
        covering: list[MetricFilter] = []
        unreadable: list[str] = []
        for metric_filter in filters:
            coverage = filter_coverage(metric_filter.pattern, accepted)
            if coverage is None:
                unreadable.append(metric_filter.name)
            elif coverage.covered:
                covering.append(metric_filter)
        if not covering:
            text = f"No metric filter on log group {log_group} of trail {trail.name} covers the CIS {control} pattern"
            if unreadable:
                noun = "filter" if len(unreadable) == 1 else "filters"
                text += f"; {noun} {join_names(unreadable, limit=3)} could not be read"
            else:
                miss = closest_miss(filters, accepted)
                if miss is not None:
                    text += f"; the closest, {miss[0]}, misses {miss[1]}"
            yield _missing(NO_COVERING_FILTER, text + ".")
            return
        for metric_filter in covering:
            yield from self._alarm_chains(trail, metric_filter)

    def _alarm_chains(self, trail: Trail, metric_filter: MetricFilter) -> Iterator[Outcome]:
        if not metric_filter.metrics:
            yield _missing(
                NO_ALARM, f"Filter {metric_filter.name} on log group {metric_filter.log_group} has no metric."
            )
        for metric in metric_filter.metrics:
            of_filter = f"metric {metric.label} of filter {metric_filter.name}"
            alarms = self.alarms(metric_filter.region, metric)
            if not alarms:
                yield _missing(NO_ALARM, f"No alarm on {of_filter} on log group {metric_filter.log_group}.")
                continue
            for alarm in alarms:
                if not alarm.actions_enabled:
                    yield _missing(ACTIONS_DISABLED, f"Alarm {alarm.name} on {of_filter} has its actions disabled.")
                    continue
                if not alarm.sns_topics:
                    yield _missing(NO_SNS_ACTION, f"Alarm {alarm.name} on {of_filter} notifies no SNS topic.")
                    continue
                for topic in alarm.sns_topics:
                    owner = _arn_field(topic, 4)
                    if owner != self.account:
                        yield _foreign(
                            NO_CONFIRMED_SUBSCRIPTION,
                            owner,
                            f"SNS topic {_topic_name(topic)} of alarm {alarm.name}",
                            "its subscriptions cannot be verified",
                        )
                        continue
                    confirmed = self.has_confirmed_subscription(topic)
                    if confirmed is None:
                        yield _missing(
                            TOPIC_MISSING, f"SNS topic {_topic_name(topic)} of alarm {alarm.name} does not exist."
                        )
                    elif not confirmed:
                        yield _missing(
                            NO_CONFIRMED_SUBSCRIPTION,
                            f"SNS topic {_topic_name(topic)} of alarm {alarm.name} has no confirmed subscription.",
                        )
                    else:
                        yield Outcome(
                            COMPLIANT,
                            COMPLETE,
                            f"Trail {trail.name} feeds filter {metric_filter.name} on log group "
                            f"{metric_filter.log_group}; alarm {alarm.name} notifies SNS topic {_topic_name(topic)}, "
                            "which has a confirmed subscription.",
                        )
                        return


class MetricFilterAlarmRule(CisRule):
    """Base of the fourteen monitoring rules: a subclass sets ``CONTROL`` and
    ``ACCEPTED_PATTERNS`` (the CIS v1.2.0 pattern first, then later versions' official ones)."""

    CONTROL: ClassVar[str] = ""
    ACCEPTED_PATTERNS: ClassVar[tuple[str, ...]] = ()
    ACTIONS = ACTIONS
    RESOURCE_TYPE = ACCOUNT

    def evaluate_periodic(
        self, event: Mapping[str, Any], client_factory: Any, valid_rule_parameters: Mapping[str, Any]
    ) -> list[Evaluation]:
        account = account_id(event)
        chains = MonitoringChains(client_factory.build_client, account, event_region(event))
        return [chains.judge(self.CONTROL, self.ACCEPTED_PATTERNS).evaluation(account)]
