"""The monitoring chain of CIS 3.1 to 3.14, discovered once per evaluation and judged per control.

Symlinked into the fourteen ``METRIC_FILTER_ALARM_*`` rule folders, each of which only names its
control and its accepted filter patterns and subclasses :class:`MetricFilterAlarmRule`.

A control is satisfied (CONTROLS.md, "Monitoring rules"; the benchmark's audit steps) by a chain:

1. a **trail** that is multi-region, delivers to a CloudWatch Logs log group, is logging and logs
   every management event, reads and writes (classic or advanced event selectors). Trails are
   those ``DescribeTrails`` shows in the rule's region with shadow trails, so a multi-region
   trail homed elsewhere is found; its status and selectors are read in its home region;
2. on that log group (in the region of its ARN), **metric filters** writing one series (metric
   name, namespace and dimension names) whose union covers one of the control's accepted
   patterns (:func:`cis_pattern_coverage.covers`; CloudWatch counts an event once per filter that
   matches it, so an alarm on the metric fires for any of them). A filter whose pattern cannot be
   parsed never covers; one that cannot be decided within the budget gives "Could not evaluate"
   unless another chain is complete. When nothing covers, the annotation names the most relevant
   filter (:func:`closest_miss`) and, when it can be read, an event the CIS pattern matches and it
   misses;
3. a **CloudWatch alarm** in that region with actions enabled that watches the series the filters
   write: same name, namespace and dimension names (an alarm without dimensions sees nothing of a
   filter that writes some); each dimension value the alarm names is one more condition on the
   events it counts, so coverage is decided again for "filters and field = value" (:func:`watched`);
4. among the alarm's ``AlarmActions``, an **SNS topic** with at least one confirmed subscription
   (``ListSubscriptionsByTopic``: a pending subscription's ARN is ``PendingConfirmation``).

Verdicts. COMPLIANT as soon as one complete chain is found in this account (the annotation names
trail, filter, alarm and topic). Otherwise NOT_APPLICABLE when some candidate chain reaches a
link owned by another account (an organisation trail, a log group, or a topic of an account the
rule parameter ``trustedTopicAccounts`` lists: this account cannot read it), naming that account;
a topic of an account it does not list is a missing link. Otherwise NON_COMPLIANT, naming the first
missing link of the candidate chain that got furthest (ties: the first in trail-ARN, filter-name
and alarm-name order). Within a trail, the checks run in the order multi-region, log group
configured, owner, logging, management events, so that a trail that cannot qualify costs no call.

Cost. :class:`MonitoringChains` memoises every listing (trail status and selectors per trail,
metric filters per log group, alarms per metric, subscriptions per topic) and every coverage
decision (undecided ones too, so an annotation never repeats a search), decides metric groups one
at a time, checks the Lambda deadline between trails and between metric groups, and stops at the
first complete chain, so one evaluation costs about ``1 + 2·trails + pages(filters) + alarms lookups +
topics``: typically six calls. Alarms are read with ``DescribeAlarmsForMetric`` (one unpaginated
call per covering metric) rather than by paging through every alarm of the region with
``DescribeAlarms`` (100 per page): an evaluation needs the alarms of one or two metrics, not all.
``DescribeAlarmsForMetric`` only returns alarms whose dimensions equal the ones asked for, so for
a filter whose metric has dimensions (values taken from the events, unknown here) the region's
alarms are paged through once with ``DescribeAlarms``; every alarm either call returns is matched
on name, namespace and dimension names here.
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.exceptions import ClientError
from rdklib import Evaluation

from cis_filter_pattern import (
    And,
    Check,
    Comparison,
    FilterPatternError,
    Node,
    RegexValue,
    Selector,
    StringValue,
    evaluate,
    leaves,
    parse,
)
from cis_pattern_coverage import DECISION_SECONDS, Coverage, covers, sample_events
from cis_rule import (
    ACCOUNT,
    CisRule,
    EvaluationError,
    ListParameter,
    Parameter,
    account_id,
    check_deadline,
    compliant,
    event_region,
    join_names,
    non_compliant,
    not_applicable,
    seconds_left,
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
COVERAGE_UNDECIDED = 7
NO_ALARM = 8
ACTIONS_DISABLED = 9
NO_SNS_ACTION = 10
TOPIC_MISSING = 11
NO_CONFIRMED_SUBSCRIPTION = 12
COMPLETE = 13

#: Seconds a coverage decision leaves in hand for the rest of the run (the alarms and topics of
#: the chain, and sending the evaluation) when the invocation's time is what bounds it.
DECISION_RESERVE_S = 5.0

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
    """A metric a filter publishes to, with the dimensions it writes (name -> selector of the
    field whose value becomes the dimension's value)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def dimension_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.dimensions)


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
            Metric(
                str(t.get("metricNamespace", "")),
                str(t.get("metricName", "")),
                tuple(sorted((str(k), str(v)) for k, v in (t.get("dimensions") or {}).items())),
            )
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
    dimensions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_description(cls, item: Mapping[str, Any]) -> Alarm:
        return cls(
            str(item.get("AlarmName", "")),
            bool(item.get("ActionsEnabled")),
            tuple(str(a) for a in item.get("AlarmActions") or ()),
            tuple(sorted((str(d.get("Name", "")), str(d.get("Value", ""))) for d in item.get("Dimensions") or ())),
        )

    @property
    def sns_topics(self) -> tuple[str, ...]:
        return tuple(action for action in self.alarm_actions if _arn_field(action, 2) == "sns")

    @property
    def dimension_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.dimensions)

    @property
    def dimension_text(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.dimensions)


def _arn_field(arn: str, index: int) -> str:
    parts = arn.split(":")
    return parts[index] if parts[0] == "arn" and len(parts) > index else ""


def _topic_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


@functools.lru_cache(maxsize=4096)
def unreadable_reason(filter_pattern: str) -> str | None:
    """Why a filter pattern cannot be read, or ``None`` when it can. Pure, so memoised."""
    try:
        parse(filter_pattern)
    except FilterPatternError as error:
        return error.message
    return None


def group_coverage(patterns: Sequence[str], accepted: tuple[str, ...]) -> Coverage:
    """Whether filters publishing one metric (their union) cover one of the accepted patterns.
    A decision beyond its budget is undecided (``Coverage.undecided``) and never covers."""
    return covers(tuple(sorted(set(patterns))), accepted, seconds=decision_seconds())


def decision_seconds() -> float:
    """Seconds one coverage decision may take: :data:`DECISION_SECONDS`, less when what is left
    of the invocation (less :data:`DECISION_RESERVE_S`) is shorter."""
    left = seconds_left()
    if left is None:
        return DECISION_SECONDS
    return round(max(0.0, min(DECISION_SECONDS, left - DECISION_RESERVE_S)), 1)


@functools.lru_cache(maxsize=1024)
def _selector(text: str) -> Selector | None:
    """The field a dimension takes its value from (``$.eventName``), or ``None`` if unreadable."""
    try:
        node = parse(f"{{ {text} NOT EXISTS }}")
    except FilterPatternError:
        return None
    return node.selector if isinstance(node, Check) else None


def watched(metric_filter: MetricFilter, metric: Metric, alarm: Alarm) -> Node | None:
    """The events of ``metric_filter`` that ``alarm`` counts: the filter's pattern and, for each
    dimension the alarm names, the field that dimension is read from holding that value.
    ``None`` when a dimension's field cannot be read."""
    node = parse(metric_filter.pattern)
    selectors = dict(metric.dimensions)
    conditions: list[Node] = []
    for name, value in alarm.dimensions:
        selector = _selector(selectors.get(name, ""))
        if selector is None:
            return None
        conditions.append(Comparison(selector, "=", StringValue(value, literal=True)))
    return And((node, *conditions)) if conditions else node


@functools.lru_cache(maxsize=64)
def _constants(accepted: tuple[str, ...]) -> frozenset[str]:
    """The values the accepted patterns test (event names, error codes, ...): what makes a
    filter relevant to this control rather than to another."""
    found: set[str] = set()
    for pattern in accepted:
        for leaf in leaves(parse(pattern)):
            if isinstance(leaf, Comparison):
                value = leaf.value
                text = value.pattern if isinstance(value, RegexValue) else value.text
                found.add(text.strip("*"))
    return frozenset(text for text in found if text)


def relevance(filter_pattern: str, accepted: tuple[str, ...]) -> int:
    """How many of the control's values the filter's text names (readable or not)."""
    return sum(1 for constant in _constants(accepted) if constant in filter_pattern)


@dataclass(frozen=True)
class MetricGroup:
    """The readable filters of one log group that write one set of series: one metric (name and
    namespace) with one set of dimension names. CloudWatch counts an event once per filter
    matching it, so an alarm on those series sees their union."""

    metric: Metric | None
    filters: tuple[MetricFilter, ...]

    @property
    def names(self) -> str:
        return join_names([f.name for f in self.filters], limit=2)

    def metric_of(self, metric_filter: MetricFilter) -> Metric:
        assert self.metric is not None
        found = next(
            m
            for m in metric_filter.metrics
            if (m.namespace, m.name, m.dimension_names)
            == (self.metric.namespace, self.metric.name, self.metric.dimension_names)
        )
        return found


def metric_groups(filters: Sequence[MetricFilter]) -> list[MetricGroup]:
    """Readable filters grouped by the series they write (metric and dimension names); a filter
    without a metric alone."""
    by_series: dict[tuple[str, str, frozenset[str]], list[MetricFilter]] = {}
    metrics: dict[tuple[str, str, frozenset[str]], Metric] = {}
    groups: list[MetricGroup] = []
    for metric_filter in filters:
        if unreadable_reason(metric_filter.pattern) is not None:
            continue
        if not metric_filter.metrics:
            groups.append(MetricGroup(None, (metric_filter,)))
        for metric in metric_filter.metrics:
            key = (metric.namespace, metric.name, metric.dimension_names)
            if metric_filter not in by_series.setdefault(key, []):
                by_series[key].append(metric_filter)
            metrics.setdefault(key, metric)
    groups += [MetricGroup(metrics[key], tuple(members)) for key, members in by_series.items()]
    return sorted(groups, key=lambda group: [f.name for f in group.filters])


Decide = Callable[[tuple[Node, ...]], Coverage]


def _group_nodes(group: MetricGroup) -> tuple[Node, ...]:
    return tuple(parse(pattern) for pattern in sorted({f.pattern for f in group.filters}))


def closest_miss(filters: Sequence[MetricFilter], accepted: tuple[str, ...], decide: Decide | None = None) -> str:
    """For a NON_COMPLIANT annotation: the filter most relevant to the control and, when it can
    be read, an event the first accepted pattern matches and it (with the filters sharing its
    metric) misses, cut down to the fields that decide. ``decide`` answers coverage questions
    (the judge's memo, so no search is run twice).

    Relevance: how many of the control's sample events a group of filters matches, then how many
    of the control's values its text names. An unreadable filter is named only when it names
    more of them than any readable group that matches nothing, so a broken filter for another
    control is never blamed."""
    if not filters:
        return "; the log group has no metric filter"
    samples = sample_events(accepted[0])

    def score(group: MetricGroup) -> tuple[int, int]:
        nodes = [parse(f.pattern) for f in group.filters]
        matched = sum(1 for event in samples if any(evaluate(node, event) for node in nodes))
        return matched, max(relevance(f.pattern, accepted) for f in group.filters)

    ranked = sorted(metric_groups(filters), key=score, reverse=True)
    best = ranked[0] if ranked else None
    best_score = score(best) if best is not None else (0, 0)
    unreadable = [f for f in filters if unreadable_reason(f.pattern) is not None]
    worst = max(unreadable, key=lambda f: relevance(f.pattern, accepted), default=None)
    if worst is not None and best_score[0] == 0 and relevance(worst.pattern, accepted) > best_score[1]:
        return f"; the closest, {_short(worst.name)}, could not be read ({unreadable_reason(worst.pattern)})"
    if best is None:
        return f"; {join_names([_short(f.name) for f in unreadable], limit=2)} could not be read"
    nodes = _group_nodes(best)
    result = decide(nodes) if decide is not None else covers(nodes, accepted, seconds=decision_seconds())
    if result.missed is None:
        return f"; the closest, {_short(best.names)}, could not be decided, so it is not credited"
    event = _fit(result.missed, 110)
    if best_score != (0, 0):
        return f"; the closest, {_short(best.names)}, misses {event}"
    return f"; no filter tests this control's events, e.g. {event}"


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fit(event: Mapping[str, Any], budget: int) -> str:
    """The witness as compact JSON within ``budget`` characters: long values are shortened first."""
    text = json.dumps(event, separators=(", ", ": "), ensure_ascii=False)
    for limit in (40, 24, 12):
        if len(text) <= budget:
            break
        text = json.dumps(_shorten(event, limit), separators=(", ", ": "), ensure_ascii=False)
    return text if len(text) <= budget else text[: budget - 4] + "...}"


def _shorten(value: Any, limit: int) -> Any:
    if isinstance(value, Mapping):
        return {key: _shorten(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [_shorten(item, limit) for item in value]
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 3] + "..."
    return value


class MonitoringChains:
    """The account's monitoring chains as seen from one region, discovered lazily and memoised.

    Create one per evaluation (state changes between evaluations); :meth:`judge` may then be
    called for any number of controls without listing anything twice."""

    def __init__(
        self, build_client: BuildClient, account: str, region: str, trusted_topic_accounts: Iterable[str] = ()
    ) -> None:
        self._build_client = build_client
        self.account = account
        self.region = region
        self.trusted_topic_accounts = frozenset(trusted_topic_accounts)
        self._decided: dict[tuple[tuple[Node, ...], tuple[str, ...]], Coverage] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._trails: list[Trail] | None = None
        self._trail_checks: dict[str, Outcome | None] = {}
        self._filters: dict[tuple[str, str], tuple[MetricFilter, ...] | None] = {}
        self._alarms: dict[tuple[str, str, str, bool], tuple[Alarm, ...]] = {}
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
        """Metric alarms on this metric's name and namespace, sorted by name, with whatever
        dimensions they name: the caller matches them against the series the filters write.
        ``DescribeAlarmsForMetric`` finds an alarm only when asked for its exact dimension values,
        which come from the events and are unknown here, so for a metric written with dimensions
        the region's alarms are paged through once instead."""
        key = (region, metric.namespace, metric.name, bool(metric.dimensions))
        if key not in self._alarms:
            if metric.dimensions:
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

    def coverage(self, nodes: tuple[Node, ...], accepted: tuple[str, ...]) -> Coverage:
        """Whether ``nodes`` (their union) cover an accepted pattern, decided once per evaluation
        (undecided answers included, so an annotation never runs a failed search again)."""
        key = (nodes, accepted)
        if key not in self._decided:
            self._decided[key] = covers(nodes, accepted, seconds=decision_seconds())
        return self._decided[key]

    def judge(self, control: str, accepted_patterns: Sequence[str]) -> Outcome:
        """The verdict for one control: the best outcome over every candidate chain, stopping at
        the first complete one."""
        accepted = tuple(accepted_patterns)
        if not accepted:
            raise EvaluationError(f"CIS {control} has no accepted filter pattern.")
        trails = self.trails()
        if not trails:
            return _missing(NO_TRAIL, "No CloudTrail trail exists in this account.")
        best: Outcome | None = None
        for index, trail in enumerate(trails):
            check_deadline(f"CIS {control}: {index} of {len(trails)} trails judged")
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
        # Lazily, group by group: the first complete chain ends the search (judge stops asking).
        groups = metric_groups(filters)
        covering = False
        undecided: Outcome | None = None
        for index, group in enumerate(groups):
            check_deadline(f"CIS {control}: {index} of {len(groups)} metric filter groups on {log_group} judged")
            result = self.coverage(_group_nodes(group), accepted)
            if result.undecided is not None:
                undecided = undecided or _undecided(group, log_group, control, result.undecided)
            elif result.covered:
                covering = True
                yield from self._alarm_chains(trail, group, control, accepted)
        if covering:
            return
        if undecided is not None:
            yield undecided
            return
        text = f"No metric filter on log group {log_group} of trail {trail.name} covers the CIS {control} pattern"
        yield _missing(NO_COVERING_FILTER, text + closest_miss(filters, accepted, self._decide_for(accepted)) + ".")

    def _decide_for(self, accepted: tuple[str, ...]) -> Decide:
        return lambda nodes: self.coverage(nodes, accepted)

    def _alarm_chains(
        self, trail: Trail, group: MetricGroup, control: str, accepted: tuple[str, ...]
    ) -> Iterator[Outcome]:
        log_group = group.filters[0].log_group
        if group.metric is None:
            yield _missing(NO_ALARM, f"Filter {group.names} on log group {log_group} has no metric.")
            return
        metric = group.metric
        noun = "filter" if len(group.filters) == 1 else "filters"
        of_filter = f"metric {metric.label} of {noun} {group.names}"
        on_metric = self.alarms(group.filters[0].region, metric)
        # An alarm watches one series: same dimension names as the filters write, or it sees none.
        alarms = [alarm for alarm in on_metric if alarm.dimension_names == metric.dimension_names]
        if not alarms:
            yield _missing(NO_ALARM, _no_alarm_text(of_filter, log_group, metric, on_metric))
            return
        for alarm in alarms:
            if alarm.dimensions:
                outcome = self._dimension_gap(group, alarm, of_filter, control, accepted)
                if outcome is not None:
                    yield outcome
                    continue
            if not alarm.actions_enabled:
                yield _missing(ACTIONS_DISABLED, f"Alarm {alarm.name} on {of_filter} has its actions disabled.")
                continue
            if not alarm.sns_topics:
                yield _missing(NO_SNS_ACTION, f"Alarm {alarm.name} on {of_filter} notifies no SNS topic.")
                continue
            for topic in alarm.sns_topics:
                owner = _arn_field(topic, 4)
                if owner != self.account:
                    yield self._foreign_topic(topic, owner, alarm)
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
                        f"Trail {trail.name} feeds {noun} {group.names} on log group "
                        f"{log_group}; alarm {alarm.name} notifies SNS topic {_topic_name(topic)}, "
                        "which has a confirmed subscription.",
                    )
                    return

    def _dimension_gap(
        self, group: MetricGroup, alarm: Alarm, of_filter: str, control: str, accepted: tuple[str, ...]
    ) -> Outcome | None:
        """Why an alarm naming dimension values does not count every event the control needs
        (each value is one more condition on the events), or ``None`` when it does."""
        assert group.metric is not None
        nodes = [watched(f, group.metric_of(f), alarm) for f in group.filters]
        if any(node is None for node in nodes):
            return _missing(
                NO_ALARM, f"Alarm {alarm.name} on {of_filter} names a dimension whose field cannot be read."
            )
        result = self.coverage(tuple(node for node in nodes if node is not None), accepted)
        if result.undecided is not None:
            return _missing(
                NO_ALARM,
                f"Could not evaluate: could not decide whether alarm {alarm.name} ({alarm.dimension_text}) "
                f"counts every event of the CIS {control} pattern {result.undecided}.",
            )
        if result.covered:
            return None
        missed = f", e.g. {_fit(result.missed, 90)}" if result.missed is not None else ""
        return _missing(
            NO_ALARM,
            f"Alarm {alarm.name} on {of_filter} counts only events with {alarm.dimension_text}, "
            f"which miss events of the CIS {control} pattern{missed}.",
        )

    def _foreign_topic(self, topic: str, owner: str, alarm: Alarm) -> Outcome:
        what = f"SNS topic {_topic_name(topic)} of alarm {alarm.name}"
        if owner in self.trusted_topic_accounts:
            return _foreign(NO_CONFIRMED_SUBSCRIPTION, owner, what, "its subscriptions cannot be verified")
        return _missing(
            NO_CONFIRMED_SUBSCRIPTION,
            f"{what} is owned by account {owner or 'unknown'}, which the rule parameter trustedTopicAccounts "
            "does not list.",
        )


def _undecided(group: MetricGroup, log_group: str, control: str, reason: str) -> Outcome:
    noun = "filter" if len(group.filters) == 1 else "filters"
    return _missing(
        COVERAGE_UNDECIDED,
        f"Could not evaluate: could not decide whether {noun} {_short(group.names)} on log group {log_group} "
        f"covers the CIS {control} pattern {reason}.",
    )


def _no_alarm_text(of_filter: str, log_group: str, metric: Metric, on_metric: Sequence[Alarm]) -> str:
    if not on_metric:
        return f"No alarm on {of_filter} on log group {log_group}."
    other = on_metric[0]
    written = ", ".join(sorted(metric.dimension_names)) or "no dimensions"
    named = ", ".join(sorted(other.dimension_names)) or "no dimensions"
    return (
        f"No alarm watches the series of {of_filter} (written with {written}): alarm {other.name} names "
        f"{named}, so it sees none of them."
    )


class MetricFilterAlarmRule(CisRule):
    """Base of the fourteen monitoring rules: a subclass sets ``CONTROL`` and
    ``ACCEPTED_PATTERNS`` (the CIS v1.2.0 pattern first, then later versions' official ones)."""

    CONTROL: ClassVar[str] = ""
    ACCEPTED_PATTERNS: ClassVar[tuple[str, ...]] = ()
    ACTIONS = ACTIONS
    RESOURCE_TYPE = ACCOUNT
    PARAMETERS: ClassVar[Mapping[str, Parameter]] = {
        **CisRule.PARAMETERS,
        "trustedTopicAccounts": ListParameter(item_pattern=r"\d{12}", item_description="12-digit account IDs"),
    }

    def evaluate_periodic(
        self, event: Mapping[str, Any], client_factory: Any, valid_rule_parameters: Mapping[str, Any]
    ) -> list[Evaluation]:
        account = account_id(event)
        trusted = valid_rule_parameters["trustedTopicAccounts"]
        chains = MonitoringChains(client_factory.build_client, account, event_region(event), trusted)
        return [chains.judge(self.CONTROL, self.ACCEPTED_PATTERNS).evaluation(account)]
