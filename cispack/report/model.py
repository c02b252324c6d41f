"""From AWS Config's per-rule, per-resource compliance to one verdict per CIS recommendation.

Pure: :mod:`cispack.report.sources` reads AWS Config into a :class:`Compliance`, and
:func:`scorecard` decides. The rules it applies (docs/scorecard.md lists them):

- A control's verdict in one account combines every deployment (rule x region) of every rule
  that covers it. In order of precedence: **non-compliant** when any resource is NON_COMPLIANT;
  **error** when any of those rules is in error (its last run failed, or a periodic rule has
  recorded nothing for twice its period); **no data** when any deployment has no evaluation, or no
  rule of the control is deployed; **compliant** when at least one resource is COMPLIANT; else
  **not applicable** (every evaluation NOT_APPLICABLE). So COMPLIANT is never shown for a control
  with a rule in error or a rule without evaluations.
- A process check (1.15, 1.17) is **process check awaiting review** until a reviewer's recorded
  evaluation says otherwise, deployed or not.
- A control is counted once whatever the number of rules (1.5-1.11 share ``IAM_PASSWORD_POLICY``;
  a rule deployed in several regions counts once); a resource is counted once per control.
- Across accounts the same precedence applies: a control passes in the organisation only when it
  passes (or does not apply) in every account, as Security Hub's administrator view has it.
- Score: passed controls / (passed + failed), failed being non-compliant or in error; no data,
  awaiting review and not applicable stay out of it, as Security Hub leaves out controls without
  data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from cispack.catalog.process_checks import PROCESS_CHECKS
from cispack.catalog.recommendations import CONTROLS, Control
from cispack.catalog.rules import load_rules

BENCHMARK = "CIS Amazon Web Services Foundations Benchmark v1.2.0"
V120 = "cis-1.2.0"
# AWS Config names a conformance pack's rules after the template's name plus this and a few
# characters of its own (organisation conformance packs too).
PACK_SUFFIX = re.compile(r"-conformance-pack-[a-z0-9]+$")
FREQUENCY_HOURS = {"One_Hour": 1, "Three_Hours": 3, "Six_Hours": 6, "Twelve_Hours": 12, "TwentyFour_Hours": 24}


class Verdict(StrEnum):
    NON_COMPLIANT = "non-compliant"
    ERROR = "error"
    NO_DATA = "no data"
    AWAITING_REVIEW = "process check awaiting review"
    COMPLIANT = "compliant"
    NOT_APPLICABLE = "not applicable"


#: Precedence when verdicts combine (first wins).
PRECEDENCE = tuple(Verdict)
#: Short text for a matrix cell; the verdict is always written out, colour only helps.
LABELS = {
    Verdict.NON_COMPLIANT: "FAIL",
    Verdict.ERROR: "ERROR",
    Verdict.NO_DATA: "NO DATA",
    Verdict.AWAITING_REVIEW: "REVIEW",
    Verdict.COMPLIANT: "PASS",
    Verdict.NOT_APPLICABLE: "N/A",
}
PASSED = frozenset({Verdict.COMPLIANT})
FAILED = frozenset({Verdict.NON_COMPLIANT, Verdict.ERROR})


# The catalogue: which rule covers which control.


@dataclass(frozen=True)
class PackRule:
    name: str
    controls: tuple[str, ...]
    kind: str  # "custom", "managed" or "process check"
    #: Hours between scheduled runs (None when only configuration changes trigger it).
    period_hours: int | None = None


@cache
def pack_rules() -> Mapping[str, PackRule]:
    """Every rule of the pack by name: ``rules/*/parameters.json`` and the process checks."""
    rules: dict[str, PackRule] = {}
    for rule in load_rules():
        # Custom rules always carry a schedule in the pack (TwentyFour_Hours unless they say otherwise).
        frequency = rule.periodic or ("TwentyFour_Hours" if rule.is_custom else None)
        rules[rule.name] = PackRule(
            rule.name,
            tuple(c.id for c in rule.controls),
            "custom" if rule.is_custom else "managed",
            FREQUENCY_HOURS[frequency] if frequency else None,
        )
    for check in PROCESS_CHECKS:
        rules[check.name] = PackRule(check.name, (check.control,), "process check")
    return rules


@cache
def known_rules() -> Mapping[str, PackRule]:
    """:func:`pack_rules` and the rules only later CIS versions deploy (``rules/*`` folders mapped to
    no v1.2.0 control): a v1.2.0 scorecard reads none of them, a later version's maps them."""
    rules = dict(pack_rules())
    for rule in load_rules(every_folder=True):
        if rule.name not in rules:
            frequency = rule.periodic or ("TwentyFour_Hours" if rule.is_custom else None)
            rules[rule.name] = PackRule(
                rule.name,
                (),
                "custom" if rule.is_custom else "managed",
                FREQUENCY_HOURS[frequency] if frequency else None,
            )
    return rules


def rules_of(control_id: str) -> tuple[str, ...]:
    return tuple(rule.name for rule in pack_rules().values() if control_id in rule.controls)


def pack_rule_for(config_rule_name: str, rules: Collection[str] | None = None) -> str | None:
    """The pack's rule behind an AWS Config rule name (the same, or with a conformance pack's suffix),
    among ``rules`` (default: the v1.2.0 pack's)."""
    rules = pack_rules() if rules is None else rules
    if config_rule_name in rules:
        return config_rule_name
    base = PACK_SUFFIX.sub("", config_rule_name)
    return base if base != config_rule_name and base in rules else None


# What a source read.


@dataclass(frozen=True)
class Evaluation:
    """One resource's latest evaluation by one rule."""

    resource_type: str
    resource_id: str
    compliance: str  # COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE (AWS Config's words)
    annotation: str = ""
    time: datetime | None = None


@dataclass
class Deployment:
    """One rule of the pack in one account and region, as AWS Config reported it."""

    account: str
    region: str
    rule: str  # the name in AWS Config (a conformance pack's suffix included)
    pack_rule: str
    evaluations: list[Evaluation] = field(default_factory=list)
    #: Why the rule is in error (its evaluation status); None when it is not, or nothing says.
    error: str | None = None
    #: The rule's compliance as Config sums it up, when its compliant resources were not read.
    summary: str | None = None


@dataclass
class Compliance:
    """Everything one source read: the accounts it covers and each deployment it found."""

    source: str
    accounts: list[str]
    deployments: list[Deployment]
    read_at: datetime
    notes: list[str] = field(default_factory=list)


# What the report shows.


@dataclass(frozen=True)
class Cell:
    verdict: Verdict
    non_compliant: int
    reason: str


@dataclass(frozen=True)
class ControlResult:
    control: Control
    rules: tuple[str, ...]
    verdict: Verdict
    non_compliant: int
    reason: str
    cells: Mapping[str, Cell]  # by account


@dataclass(frozen=True)
class Row:
    """One evaluated resource for one control: a line of audit evidence."""

    account: str
    region: str
    control: str
    rule: str
    resource_type: str
    resource_id: str
    compliance: str
    annotation: str
    time: datetime | None


@dataclass(frozen=True)
class Score:
    passed: int
    failed: int
    counts: Mapping[Verdict, int]

    @property
    def percent(self) -> float | None:
        judged = self.passed + self.failed
        return None if judged == 0 else 100.0 * self.passed / judged

    def text(self) -> str:
        return "n/a" if self.percent is None else f"{self.percent:.0f}%"


@dataclass(frozen=True)
class Scorecard:
    source: str
    read_at: datetime
    accounts: tuple[str, ...]
    level: int
    controls: tuple[ControlResult, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    #: The CIS version whose recommendations these are (``cis-1.2.0``, ``cis-3.0.0``, ...).
    benchmark: str = V120

    def score_for(self, level: int | None = None, account: str | None = None, scored_only: bool = False) -> Score:
        """The score over the controls up to profile ``level``, overall or in one account; with
        ``scored_only``, over the benchmark's Scored recommendations only."""
        controls = [
            c
            for c in self.controls
            if (level is None or c.control.level <= level) and (c.control.scored or not scored_only)
        ]
        return _score(c.cells[account].verdict if account else c.verdict for c in controls)

    @property
    def score(self) -> Score:
        return self.score_for()

    @property
    def scored_score(self) -> Score:
        """The score over the Scored recommendations only (CIS leaves Not Scored ones out)."""
        return self.score_for(scored_only=True)

    def account_score(self, account: str) -> Score:
        return self.score_for(account=account)

    def at_level(self, level: int) -> Scorecard:
        """This scorecard narrowed to profile ``level``: equal to ``scorecard(compliance, level)``."""
        if level not in (1, 2) or level > self.level:
            raise ValueError(f"this scorecard holds Level {self.level} controls: it cannot show Level {level}")
        if level == self.level:
            return self
        keep = {c.control.id for c in self.controls if c.control.level <= level}
        return replace(
            self,
            level=level,
            controls=tuple(c for c in self.controls if c.control.id in keep),
            rows=tuple(r for r in self.rows if r.control in keep),
        )

    def failing_accounts(self, result: ControlResult) -> int:
        """In how many accounts the control fails (non-compliant or in error)."""
        return sum(1 for cell in result.cells.values() if cell.verdict in FAILED)

    def ranking(self) -> list[tuple[str, Score]]:
        """Every account with its score, lowest first (accounts with nothing judged last)."""
        scores = [(account, self.account_score(account)) for account in self.accounts]
        return sorted(scores, key=lambda item: (item[1].percent is None, item[1].percent or 0.0, item[0]))

    def spread(self) -> tuple[float, float] | None:
        """Median and lowest account score of an organisation (None for one account or no judged one)."""
        if len(self.accounts) < 2:
            return None
        scores = sorted(p for p in (self.account_score(a).percent for a in self.accounts) if p is not None)
        if not scores:
            return None
        middle = len(scores) // 2
        median = scores[middle] if len(scores) % 2 else (scores[middle - 1] + scores[middle]) / 2
        return median, scores[0]

    def resources(self) -> tuple[int, int]:
        """Distinct evaluated resources and, of them, the non-compliant ones (account, region, type, id)."""
        seen = {(r.account, r.region, r.resource_type, r.resource_id) for r in self.rows}
        failing = {
            (r.account, r.region, r.resource_type, r.resource_id) for r in self.rows if r.compliance == "NON_COMPLIANT"
        }
        return len(seen), len(failing)


def _score(verdicts: Iterable[Verdict]) -> Score:
    counts = {v: 0 for v in Verdict}
    for verdict in verdicts:
        counts[verdict] += 1
    return Score(sum(counts[v] for v in PASSED), sum(counts[v] for v in FAILED), counts)


def first(verdicts: Iterable[Verdict]) -> Verdict | None:
    present = set(verdicts)
    return next((v for v in PRECEDENCE if v in present), None)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _newest(deployment: Deployment) -> datetime | None:
    times = [e.time for e in deployment.evaluations if e.time is not None]
    return max(times) if times else None


def deployment_error(deployment: Deployment, read_at: datetime, stale_factor: float = 2.0) -> str | None:
    """Why a deployment is in error: its evaluation status says so, or (for periodic rules, whose
    errors AWS Config does not show for custom Lambda rules nor through an aggregator) it has
    recorded nothing for ``stale_factor`` times its period."""
    if deployment.error:
        return deployment.error
    rule = known_rules()[deployment.pack_rule]
    newest = _newest(deployment)
    if (
        rule.period_hours
        and newest is not None
        and read_at - newest > timedelta(hours=rule.period_hours * stale_factor)
    ):
        return (
            f"no evaluation recorded since {newest:%Y-%m-%d %H:%M} UTC although it runs every "
            f"{rule.period_hours} hours: its recent runs failed."
        )
    return None


def _deployment_verdict(deployment: Deployment, error: str | None, process: bool) -> Verdict:
    kinds = {e.compliance for e in deployment.evaluations}
    if deployment.summary:
        kinds.add(deployment.summary)
    if "NON_COMPLIANT" in kinds:
        return Verdict.NON_COMPLIANT
    if error and not process:
        return Verdict.ERROR
    if "COMPLIANT" in kinds:
        return Verdict.COMPLIANT
    if "NOT_APPLICABLE" in kinds:
        return Verdict.NOT_APPLICABLE
    return Verdict.AWAITING_REVIEW if process else Verdict.NO_DATA


def _cell(control: Control, rules: Sequence[str], deployments: Sequence[Deployment], read_at: datetime) -> Cell:
    process = bool(rules) and all(known_rules()[r].kind == "process check" for r in rules)
    if not deployments:
        if process:
            return Cell(Verdict.AWAITING_REVIEW, 0, f"{rules[0]} is not deployed here: review {control.id} by hand.")
        names = ", ".join(rules) or "No rule"
        return Cell(Verdict.NO_DATA, 0, f"{names} not deployed in this account.")
    judged = []
    for deployment in deployments:
        error = deployment_error(deployment, read_at)
        judged.append((deployment, error, _deployment_verdict(deployment, error, process)))
    # A control checked by several rules (later CIS versions) has no verdict while one of them is missing.
    missing = [r for r in rules if all(d.pack_rule != r for d in deployments)]
    verdict = first([*(v for _, _, v in judged), *([Verdict.NO_DATA] if missing else [])]) or Verdict.NO_DATA
    # A resource counts once per control, whichever rules and regions report it.
    failing = {
        (e.resource_type, e.resource_id) for d in deployments for e in d.evaluations if e.compliance == "NON_COMPLIANT"
    }
    # A rule whose resources were not read counts once, by its own summary.
    count = len(failing) + sum(1 for d in deployments if d.summary == "NON_COMPLIANT" and not d.evaluations)
    where = [(d, error) for d, error, v in judged if v == verdict]
    places = ", ".join(sorted({f"{d.rule} ({d.region})" for d, _ in where}))
    if verdict == Verdict.NON_COMPLIANT:
        reason = f"{_plural(count, 'non-compliant resource')}: {places}."
    elif verdict == Verdict.ERROR:
        d, error = where[0]
        reason = f"{d.rule} ({d.region}) is in error: {error}"
    elif verdict == Verdict.AWAITING_REVIEW:
        reason = f"No reviewer's evaluation recorded for {places}."
    elif verdict == Verdict.NO_DATA and missing:
        reason = f"{', '.join(missing)} not deployed in this account."
    elif verdict == Verdict.NO_DATA:
        reason = f"No evaluation yet from {places}."
    elif verdict == Verdict.COMPLIANT:
        passing = {
            (e.resource_type, e.resource_id) for d in deployments for e in d.evaluations if e.compliance == "COMPLIANT"
        }
        reason = f"{_plural(len(passing), 'compliant resource')}, none non-compliant."
    else:
        reason = "Every evaluated resource is out of scope (NOT_APPLICABLE)."
    return Cell(verdict, count, reason)


def _overall(cells: Mapping[str, Cell]) -> tuple[Verdict, int, str]:
    if not cells:
        return Verdict.NO_DATA, 0, "No account was read."
    verdict = first(c.verdict for c in cells.values()) or Verdict.NO_DATA
    count = sum(c.non_compliant for c in cells.values())
    if len(cells) == 1:
        return verdict, count, next(iter(cells.values())).reason
    tally = [(v, sum(1 for c in cells.values() if c.verdict == v)) for v in PRECEDENCE]
    spread = ", ".join(f"{v.value} in {n}" for v, n in tally if n)
    return verdict, count, f"{spread} of {_plural(len(cells), 'account')}."


def scorecard(compliance: Compliance, level: int = 2) -> Scorecard:
    """The verdict of every control of profile ``level`` (Level 2 includes Level 1)."""
    return catalogue_scorecard(
        compliance,
        level,
        controls=CONTROLS,
        rules_for=rules_of,
        controls_of_rule=lambda rule: pack_rules()[rule].controls if rule in pack_rules() else (),
    )


def catalogue_scorecard(
    compliance: Compliance,
    level: int,
    *,
    controls: Sequence[Control],
    rules_for: Callable[[str], tuple[str, ...]],
    controls_of_rule: Callable[[str], tuple[str, ...]],
    unchecked: Mapping[str, str] | None = None,
    benchmark: str = V120,
) -> Scorecard:
    """The verdict of every recommendation of one CIS version's catalogue (``controls``, the rules
    checking each, the recommendations each rule checks); one of ``unchecked`` (by ID: why no rule
    checks it) is a process check awaiting review whatever was read."""
    if level not in (1, 2):
        raise ValueError(f"level must be 1 or 2, not {level}")
    unchecked = unchecked or {}
    accounts = tuple(sorted(set(compliance.accounts) | {d.account for d in compliance.deployments}))
    by_rule_account: dict[tuple[str, str], list[Deployment]] = {}
    for deployment in compliance.deployments:
        by_rule_account.setdefault((deployment.pack_rule, deployment.account), []).append(deployment)
    results = []
    for control in controls:
        if control.level > level:
            continue
        rules = rules_for(control.id)
        if control.id in unchecked:
            review = Cell(
                Verdict.AWAITING_REVIEW, 0, f"No rule checks {control.id} ({unchecked[control.id]}): review it by hand."
            )
            cells = {account: review for account in accounts}
        else:
            cells = {
                account: _cell(
                    control,
                    rules,
                    [d for r in rules for d in by_rule_account.get((r, account), [])],
                    compliance.read_at,
                )
                for account in accounts
            }
        verdict, count, reason = _overall(cells)
        results.append(ControlResult(control, rules, verdict, count, reason, cells))
    in_scope = {r.control.id for r in results}
    rows = [
        Row(d.account, d.region, cid, d.rule, e.resource_type, e.resource_id, e.compliance, e.annotation, e.time)
        for d in compliance.deployments
        for e in d.evaluations
        for cid in controls_of_rule(d.pack_rule)
        if cid in in_scope
    ]
    order = {c.id: c.sort_key for c in controls}
    rows.sort(key=lambda r: (r.account, r.region, order[r.control], r.rule, r.resource_type, r.resource_id))
    return Scorecard(
        compliance.source,
        compliance.read_at,
        accounts,
        level,
        tuple(results),
        tuple(rows),
        tuple(compliance.notes),
        benchmark,
    )
