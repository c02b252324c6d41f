"""CPU time of the CIS 3.x coverage decision: 1,000 realistic filters on one log group, per rule.

Run: ``.venv/bin/python benchmarks/coverage_decision.py`` (a script that prints figures, not a test).

The log group holds, for each of the fourteen controls, every accepted pattern (CIS v1.2.0 and
later versions), a rewrite, a broader filter, a narrowed one (a regular-expression exclusion of
10.x callers), a filter missing an OR term and two filters that cover only together (one metric);
plus application and operations filters: exact, wildcard, regex and numeric JSON filters on
CloudTrail fields, term patterns, the empty pattern and one unreadable filter, up to 1,000 in all,
each publishing its own metric unless said otherwise.

For each rule it starts from empty caches, as a new Lambda container does, and measures the
process CPU time of what the rule computes about filters: grouping by metric, the union's
coverage for every group, and the annotation's closest filter and witness when nothing covers.
It also prints how long importing the monitoring module takes in a fresh interpreter (nothing is
computed at import time).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rulelib"))

import cis_filter_pattern
import cis_monitoring
import cis_pattern_coverage
import cis_regular
from cis_filter_pattern import normalize, parse, render
from cis_monitoring import MetricFilter, closest_miss, group_coverage, metric_groups
from cispack.catalog.rules import custom_rules, import_rule_module
from cispack.testing.caches import forget_remembered_answers
from cispack.testing.monitoring import superset

ROOT = Path(__file__).resolve().parent.parent
FILTERS = 1_000
NAMES = (
    "CreateUser DeleteUser PutObject GetObject RunInstances TerminateInstances AssumeRole ListBuckets "
    "CreateBucket DescribeInstances UpdateFunctionCode Invoke Decrypt GenerateDataKey CreateSnapshot"
).split()


def _controls() -> dict[str, tuple[str, ...]]:
    found = {}
    for rule in custom_rules():
        if rule.name.startswith("METRIC_FILTER_ALARM_"):
            cls = getattr(import_rule_module(rule.name), rule.name)
            found[cls.CONTROL] = tuple(cls.ACCEPTED_PATTERNS)
    return dict(sorted(found.items(), key=lambda item: int(item[0].split(".")[1])))


def _narrowed(pattern: str) -> str:
    return pattern.rstrip()[:-1] + " && ($.sourceIPAddress != %^10\\.%) }"


def _filters(controls: dict[str, tuple[str, ...]]) -> list[MetricFilter]:
    rng = random.Random(7)
    patterns: list[tuple[str, str, str]] = []  # name, pattern, metric
    for control, accepted in controls.items():
        for index, pattern in enumerate(accepted):
            patterns.append((f"cis-{control}-v{index}", pattern, f"cis-{control}-v{index}"))
        first = accepted[0]
        patterns += [
            (f"cis-{control}-rewrite", render(normalize(parse(first))), f"cis-{control}-rewrite"),
            (f"cis-{control}-broader", superset(first), f"cis-{control}-broader"),
            (f"cis-{control}-narrowed", _narrowed(first), f"cis-{control}-narrowed"),
        ]
        node = parse(first)
        if isinstance(node, cis_filter_pattern.Or) and len(node.operands) > 1:
            head, *rest = node.operands
            patterns.append((f"cis-{control}-missing-term", render(cis_filter_pattern.Or(tuple(rest))), "miss"))
            patterns.append((f"cis-{control}-half-1", render(head), f"cis-{control}-halves"))
            tail = rest[0] if len(rest) == 1 else cis_filter_pattern.Or(tuple(rest))
            patterns.append((f"cis-{control}-half-2", render(tail), f"cis-{control}-halves"))
    patterns += [
        ("everything", "", "everything"),
        ("errors", "ERROR", "errors"),
        ("warnings", "?WARN ?ERROR", "warnings"),
        ("broken", '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication" }', "broken"),
    ]
    while len(patterns) < FILTERS:
        name = rng.choice(NAMES)
        shape = rng.randrange(6)
        pattern = [
            f'{{ $.eventName = "{name}" }}',
            f'{{ $.eventName = "{name[:4]}*" && $.errorCode NOT EXISTS }}',
            f"{{ $.eventSource = %^{name[:3].lower()}% || $.eventName = {name} }}",
            f"{{ $.requestParameters.maxResults > {rng.randrange(1000)} }}",
            f'{{ $.userIdentity.type = "AssumedRole" && $.eventName != "{name}" }}',
            f"{name} -Describe",
        ][shape]
        patterns.append((f"app-{len(patterns)}", pattern, f"app-{len(patterns)}"))
    return [
        MetricFilter(name, "CloudTrail/cis", "us-east-1", pattern, (cis_monitoring.Metric("CIS", metric),))
        for name, pattern, metric in patterns[:FILTERS]
    ]


def _clear_caches() -> None:
    forget_remembered_answers([cis_pattern_coverage, cis_filter_pattern, cis_monitoring, cis_regular])


def main() -> None:
    controls = _controls()
    filters = _filters(controls)
    print(f"{len(filters)} filters on one log group, {len(metric_groups(filters))} metrics")
    print(f"{'control':8} {'CPU ms':>8} {'covered by':40}")
    worst = 0.0
    for control, accepted in controls.items():
        _clear_caches()
        start = time.process_time()
        groups = metric_groups(filters)
        covering = [g for g in groups if group_coverage([f.pattern for f in g.filters], accepted).covered]
        note = closest_miss(filters, accepted) if not covering else ""
        elapsed = (time.process_time() - start) * 1000
        worst = max(worst, elapsed)
        names = ", ".join(g.names for g in covering[:3]) + (" ..." if len(covering) > 3 else "")
        print(f"{control:8} {elapsed:8.1f} {names or note[:60]}")
    print(f"slowest rule: {worst:.1f} ms of CPU for {len(filters)} filters")
    print(
        f"import cis_monitoring in a fresh interpreter: {_import_ms('cis_monitoring'):.1f} ms "
        f"(of which rdklib and botocore: {_import_ms('rdklib, botocore.session'):.1f} ms; best of 3)"
    )


def _import_ms(modules: str) -> float:
    code = f"import time; t=time.perf_counter(); import {modules}; print((time.perf_counter()-t)*1000)"
    env = {"PYTHONPATH": str(ROOT / "rulelib")}
    return min(
        float(subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout)
        for _ in range(3)
    )


if __name__ == "__main__":
    main()
