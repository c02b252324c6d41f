"""CPU time and peak memory of one coverage decision, for the adversarial filter families.

Run: ``.venv/bin/python benchmarks/adversarial_decisions.py`` (a script that prints figures, not a
test). Each row is one question "do these filters cover the control's patterns?", decided from
empty caches (as a new Lambda container would) under the rule's default budget
(``cis_pattern_coverage.DECISION_SECONDS`` and ``DECISION_STATES``). CPU is the process time of
a run without tracing; peak memory is ``tracemalloc``'s peak over a second, traced run (Python
allocations made during the decision). The goal: every row under 1 s of CPU and 64 MB, with the
expected verdict.

Families (docs/rules.md, "The bound"):

* ``keywords-one-filter N``: one filter with N ``$.eventName = "*Word*"`` terms, the last
  ``*Policy*``, against CIS 3.4 (covered: every IAM policy change contains "Policy");
* ``keywords-over-filters N``: the same N terms as N one-term filters publishing one metric;
* ``keywords-3.1 N``: N terms on ``$.errorCode`` against CIS 3.1, whose wildcards make the
  question infinite (covered when "Unauth" and "AccessD" are among them, missed otherwise);
* ``dot-stars K``: CIS 3.14 OR ``$.eventName = %.*.*...Q%`` (K times ``.*``), plus matching that
  regex against a 4,000-character event (Python's ``re`` takes exponential time on it);
* ``repeat N``: ``$.errorCode = %a.{1,N}n%`` OR ``AccessDenied*`` against CIS 3.1 (covered: every
  ``...UnauthorizedOperation`` has "ation"); N = 100 and 1000 are refused when the filter is
  read (bounded repeats above ``cis_regular.MAX_BOUNDED_REPEATS``);
* ``alternation N``: ``$.eventName = %^N000$|...|Policy%`` with N names against CIS 3.4;
* ``realistic 1000``: the 1,000-filter log group of ``benchmarks/coverage_decision.py``, every
  metric group of it decided for CIS 3.1 (the row is the whole rule's work, not one decision).
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rulelib"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import coverage_decision

import cis_filter_pattern
from cis_filter_pattern import FilterPatternError, parse
from cis_monitoring import closest_miss, group_coverage, metric_groups
from cis_pattern_coverage import covers
from cispack.catalog.rules import import_rule_module

# Short words, so that 50 terms fit in the 1,024 characters of a filter pattern.
WORDS = (
    "Usr Rol Grp Key Trl Bkt Vpc Rte Gwy Acl Alm Tpc Que Tbl Str Clu Ins Vol Snp Img Fnc Lyr Sec Prm Crt "
    "Dom Rec Zon Stk Pip Rep Bld Dep Prj Job Crw Wfl Rul Tgt Sch Flw Chn Brk Idx Grf Ldg Msh Svc Dev Tag"
).split()


def _accepted(control: str) -> tuple[str, ...]:
    for name in (
        "METRIC_FILTER_ALARM_UNAUTHORIZED_API_CALLS",
        "METRIC_FILTER_ALARM_IAM_POLICY_CHANGES",
        "METRIC_FILTER_ALARM_VPC_CHANGES",
    ):
        cls = getattr(import_rule_module(name), name)
        if cls.CONTROL == control:
            return tuple(cls.ACCEPTED_PATTERNS)
    raise KeyError(control)


def _terms(words: list[str], field: str = "eventName") -> list[str]:
    return [f"$.{field}=*{word}*" for word in words]


def _one(terms: list[str]) -> list[str]:
    return ["{" + "||".join(terms) + "}"]


def _cases() -> list[tuple[str, list[str], tuple[str, ...], bool]]:
    p31, p34, p314 = _accepted("3.1"), _accepted("3.4"), _accepted("3.14")
    cases: list[tuple[str, list[str], tuple[str, ...], bool]] = []
    for count in (1, 5, 9, 11, 13, 20, 30, 40, 50):
        words = [*WORDS[: count - 1], "Policy"]
        cases.append((f"keywords-one-filter {count}", _one(_terms(words)), p34, True))
    for count in (13, 50):
        words = [*WORDS[: count - 1], "Policy"]
        cases.append((f"keywords-over-filters {count}", ["{" + t + "}" for t in _terms(words)], p34, True))
    for count in (13, 30, 50):
        words = [*WORDS[: count - 2], "Unauth", "AccessD"]
        cases.append((f"keywords-3.1 {count}", _one(_terms(words, "errorCode")), p31, True))
    cases.append(("keywords-3.1 miss 50", _one(_terms([*WORDS[:49], "Unauth"], "errorCode")), p31, False))
    for count in (1, 5, 10, 15, 20):
        regex = "%" + ".*" * count + "Q%"
        cases.append((f"dot-stars {count}", ["{ (" + p314[0][1:-1] + f") || ($.eventName = {regex}) }}"], p314, True))
    for count in (10, 32, 64, 100, 1000):
        regex = f"%a.{{1,{count}}}n%"
        pattern = f'{{ ($.errorCode = {regex}) || ($.errorCode = "AccessDenied*") }}'
        cases.append((f"repeat {count}", [pattern], p31, True))
    for count in (20, 60, 100):
        names = "|".join(f"^N{index:03}$" for index in range(count))
        cases.append((f"alternation {count}", [f"{{ $.eventName = %{names}|Policy% }}"], p34, True))
    return cases


def _decide(filters: list[str], accepted: tuple[str, ...]) -> str:
    try:
        result = covers(filters, accepted)
    except FilterPatternError as error:
        return f"refused: {error.message}"
    if result.undecided is not None:
        return f"undecided {result.undecided}"
    return "covers" if result.covered else "misses"


def _measure(work: Callable[[], str]) -> tuple[float, float, str]:
    coverage_decision._clear_caches()
    start = time.process_time()
    verdict = work()
    cpu = time.process_time() - start
    coverage_decision._clear_caches()
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return cpu, peak / 2**20, verdict


def _realistic() -> str:
    filters = coverage_decision._filters(coverage_decision._controls())
    accepted = _accepted("3.1")

    def work() -> str:
        groups = metric_groups(filters)
        covering = [g for g in groups if group_coverage([f.pattern for f in g.filters], accepted).covered]
        if not covering:
            closest_miss(filters, accepted)
        return f"{len(covering)} groups cover"

    return work()


def main() -> None:
    print(f"{'family':28} {'CPU s':>7} {'peak MB':>8}  verdict (expected)")
    worst_cpu = worst_memory = 0.0
    wrong = 0
    for label, filters, accepted, expected in _cases():
        cpu, memory, verdict = _measure(lambda filters=filters, accepted=accepted: _decide(filters, accepted))
        refused = verdict.startswith("refused")
        ok = refused or verdict == ("covers" if expected else "misses")
        wrong += not ok
        worst_cpu, worst_memory = max(worst_cpu, cpu), max(worst_memory, memory)
        shown = verdict if refused else f"{verdict} ({'covers' if expected else 'misses'})"
        print(f"{label:28} {cpu:7.3f} {memory:8.1f}  {shown[:90]}{'' if ok else '  WRONG'}")
    cpu, memory, verdict = _measure(_realistic)
    worst_cpu, worst_memory = max(worst_cpu, cpu), max(worst_memory, memory)
    print(f"{'realistic 1000 (whole rule)':28} {cpu:7.3f} {memory:8.1f}  {verdict}")
    text = "Q" * 4000
    start = time.process_time()
    matched = cis_filter_pattern.matches(parse("{ $.x = %" + ".*" * 20 + "Q.Z% }"), {"x": text})
    print(f"{'match .* x20 on 4,000 chars':28} {time.process_time() - start:7.3f} {'':8}  {matched}")
    print(f"worst: {worst_cpu:.3f} s CPU, {worst_memory:.1f} MB peak; wrong verdicts: {wrong}")


if __name__ == "__main__":
    main()
