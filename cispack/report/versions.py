"""The scorecard of each CIS version the pack checks: the same AWS Config evaluations mapped to
that version's recommendation IDs, titles, levels and score (``./pack report --benchmark``).

v1.2.0 is :func:`cispack.report.model.scorecard` unchanged. A later version (v1.4.0, v3.0.0, v5.0.0,
v6.0.0) takes its catalogue, :mod:`cispack.catalog.versions`: each recommendation's rules (the second
instances with that version's parameters included, e.g. ``IAM_PASSWORD_POLICY_LENGTH_AND_REUSE``)
decide it with the same verdict rules, a recommendation checked by several rules taking the worst;
a recommendation no rule checks (the version's process checks) is **process check awaiting
review**, never passed. The benchmark marks later recommendations Automated or Manual instead of
Scored or Not Scored: the scored-only score of a later version is over its Automated ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from cispack.catalog.recommendations import Control
from cispack.catalog.versions import AUTOMATED, LATER, V120, VERSIONS, Benchmark, benchmark
from cispack.report.model import BENCHMARK, Compliance, Scorecard, catalogue_scorecard, pack_rules, scorecard

__all__ = [
    "V120",
    "VERSIONS",
    "UnknownBenchmark",
    "controls_of",
    "label",
    "mismatch",
    "rules_read",
    "status_words",
    "title",
    "unchecked",
    "version_of_title",
    "version_scorecard",
]


class UnknownBenchmark(ValueError):
    """A version the pack has no catalogue for; the message is one sentence."""


def _later(name: str) -> Benchmark:
    if name not in LATER:
        raise UnknownBenchmark(f"Unknown CIS version {name!r}: expected one of {', '.join(VERSIONS)}.")
    return benchmark(name)


def title(name: str) -> str:
    """The benchmark's full title, e.g. "CIS Amazon Web Services Foundations Benchmark v3.0.0"."""
    return BENCHMARK if name == V120 else _later(name).title


def version_of_title(text: str) -> str | None:
    """The version a title names (as a scorecard JSON records it), or None."""
    return next((name for name in VERSIONS if title(name) == text), None)


def label(name: str) -> str:
    """``v3.0.0`` for ``cis-3.0.0``."""
    return "v" + name.removeprefix("cis-")


def status_words(name: str) -> tuple[str, str]:
    """How the version marks what its score leaves in and out: Scored / Not Scored (v1.2.0), then
    Automated / Manual."""
    return ("Scored", "Not Scored") if name == V120 else (AUTOMATED, "Manual")


@cache
def controls_of(name: str) -> tuple[Control, ...]:
    """The version's recommendations as the scorecard shows them (``scored``: Automated)."""
    if name == V120:
        from cispack.catalog.recommendations import CONTROLS

        return CONTROLS
    return tuple(
        Control(rec.id, rec.title, rec.level, rec.assessment == AUTOMATED) for rec in _later(name).recommendations
    )


@cache
def _rule_map(name: str) -> Mapping[str, tuple[str, ...]]:
    """Recommendation IDs by rule, in this later version."""
    found: dict[str, list[str]] = {}
    for rec in _later(name).recommendations:
        for rule in rec.rules:
            found.setdefault(rule, []).append(rec.id)
    return {rule: tuple(ids) for rule, ids in found.items()}


def rules_read(names: Sequence[str] = (V120,)) -> tuple[str, ...]:
    """The rules a scorecard of these versions reads from AWS Config, each once: the v1.2.0 pack's
    (process checks included), then each later version's (rules only later versions deploy too)."""
    found: dict[str, None] = {}
    for name in names:
        found.update(dict.fromkeys(pack_rules() if name == V120 else _later(name).rule_names))
    return tuple(found)


def unchecked(name: str) -> Mapping[str, str]:
    """The later version's recommendations no rule checks, by ID, with why (its process checks)."""
    return {rec.id: rec.unchecked or "no rule checks it" for rec in _later(name).recommendations if not rec.rules}


def version_scorecard(compliance: Compliance, name: str = V120, level: int = 2) -> Scorecard:
    """The scorecard of CIS version ``name`` from what a source read (Level 2 includes Level 1)."""
    if name == V120:
        return scorecard(compliance, level)
    bench = _later(name)
    by_id = bench.by_id()
    rule_map = _rule_map(name)
    return catalogue_scorecard(
        compliance,
        level,
        controls=controls_of(name),
        rules_for=lambda control_id: by_id[control_id].rules,
        controls_of_rule=lambda rule: rule_map.get(rule, ()),
        unchecked=unchecked(name),
        benchmark=name,
    )


def mismatch(card: Scorecard, wanted: str | None) -> str:
    """Why ``card`` cannot be shown as CIS version ``wanted`` (empty when it can): a scorecard read
    back from JSON keeps the version it was mapped to."""
    if wanted is None or wanted == card.benchmark:
        return ""
    return (
        f"the scorecard holds CIS {label(card.benchmark)} recommendations, not {label(wanted)}: "
        f"map the evaluations again with ./pack report --benchmark {wanted}."
    )
