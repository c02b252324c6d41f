"""The later CIS AWS Foundations Benchmark versions the pack deploys besides v1.2.0: v1.4.0, v3.0.0,
v5.0.0 and v6.0.0, each as data in ``cispack/catalog/benchmarks/cis-<version>.json``.

Per recommendation: its ID, title, profile level and assessment status (Automated or Manual) as the
benchmark states them, the rules of ``rules/`` that check it (none: the version's conformance pack
holds a process check for it, and ``unchecked`` says why no rule does), and the Security Hub
controls of that version's Security Hub standard that check it (absent for v6.0.0, which Security
Hub does not offer), each verified against the Security Hub user guide's list of the standard's
controls and each control's "Related requirements", with a note where those pages disagree. The
benchmark texts are not in the repository; each file's ``sources`` names where its facts come from.
``tests/test_versions.py`` holds each version's count, every mapping to a rule folder and the
Security Hub column against AWS's mapping of controls to CIS requirements.

A rule's input parameters live in its ``parameters.json``; where a later version asks for other
values than v1.2.0 (password policy length and reuse only, 45 days of unused credentials, remote
administration ports over every protocol and IP version, AWS-managed ``*:*`` policies), the later
version maps to a second rule folder with its own name and those values, and the v1.2.0 rule keeps
its own.

The v1.2.0 recommendations stay in :mod:`cispack.catalog.recommendations` (titles, scored status).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).parent / "benchmarks"
V120 = "cis-1.2.0"
#: The later versions, oldest first; each has a ``cis-<version>.json``.
LATER = ("cis-1.4.0", "cis-3.0.0", "cis-5.0.0", "cis-6.0.0")
#: Every version the pack checks, oldest first: ``./pack report --benchmark`` and ``./pack rollout
#: --benchmark`` take these names.
VERSIONS = (V120, *LATER)
AUTOMATED = "Automated"
MANUAL = "Manual"


@dataclass(frozen=True)
class Recommendation:
    id: str
    title: str
    level: int
    assessment: str
    rules: tuple[str, ...]
    #: Why no rule checks it (empty when a rule does).
    unchecked: str = ""
    #: Security Hub controls of this version's standard that check it; ``None`` when Security Hub
    #: offers no standard for the version.
    security_hub: tuple[str, ...] | None = None
    #: Where AWS's pages disagree or changed over time about this row's Security Hub controls: what
    #: each says and which the column follows (empty when they agree).
    security_hub_note: str = ""

    @property
    def sort_key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.id.split("."))


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    sources: dict[str, str]
    recommendations: tuple[Recommendation, ...]

    @property
    def version(self) -> str:
        return self.name.removeprefix("cis-")

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Every rule this version's pack deploys, in recommendation order, each once."""
        return tuple(dict.fromkeys(name for rec in self.recommendations for name in rec.rules))

    def by_id(self) -> dict[str, Recommendation]:
        return {rec.id: rec for rec in self.recommendations}

    def recommendations_of(self, rule_name: str) -> tuple[Recommendation, ...]:
        return tuple(rec for rec in self.recommendations if rule_name in rec.rules)

    def level_of(self, rule_name: str) -> int:
        """The lowest level among the recommendations the rule checks in this version."""
        return min(rec.level for rec in self.recommendations_of(rule_name))


def _recommendation(row: dict[str, object]) -> Recommendation:
    known = {"id", "title", "level", "assessment", "rules", "unchecked", "security_hub", "security_hub_note"}
    unknown = set(row) - known
    if unknown:
        raise ValueError(f"recommendation {row.get('id')}: unknown keys {sorted(unknown)}")
    hub = row.get("security_hub")
    return Recommendation(
        id=str(row["id"]),
        title=str(row["title"]),
        level=int(str(row["level"])),
        assessment=str(row["assessment"]),
        rules=tuple(str(name) for name in row["rules"]),  # type: ignore[attr-defined]
        unchecked=str(row.get("unchecked") or ""),
        security_hub=None if hub is None else tuple(str(c) for c in hub),  # type: ignore[attr-defined]
        security_hub_note=str(row.get("security_hub_note") or ""),
    )


@cache
def benchmark(name: str) -> Benchmark:
    """``cis-1.4.0``, ``cis-3.0.0``, ``cis-5.0.0`` or ``cis-6.0.0``, read from its data file."""
    if name not in LATER:
        raise ValueError(f"Unknown CIS version {name!r}: expected one of {', '.join(LATER)}.")
    document = json.loads((BENCHMARKS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    recommendations = tuple(_recommendation(row) for row in document["recommendations"])
    return Benchmark(document["benchmark"], document["title"], dict(document["sources"]), recommendations)


def later_benchmarks() -> tuple[Benchmark, ...]:
    return tuple(benchmark(name) for name in LATER)
