"""Cold start of each 3.x rule: the import time of its handler module from its zip, with and
without the bytecode ``./pack build`` ships.

Lambda's /var/task is read-only, so without ``.pyc`` files in the zip Python compiles every module
of the rule at each cold start and cannot keep the result. This script unpacks each
``METRIC_FILTER_ALARM_*`` zip twice (built with and without bytecode), then, in a fresh
interpreter per run (``-I -S -B``: no site-packages, no bytecode written, as on Lambda), times
``import <RULE>`` with only the zip, boto3 and rdklib on the path (their own bytecode cached, as in
the Lambda runtime and the pack's layer). It counts the CPU time of the import (``process_time``),
which other load on the machine disturbs far less than wall time; runs alternate between the two
variants; the table gives medians in milliseconds.

    .venv/bin/python benchmarks/cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cispack.catalog.rules import custom_rules
from cispack.dist.packaging import lambda_like_path, rule_zip

PROBE = (
    "import sys, time; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import boto3, rdklib; "
    "t = time.process_time(); __import__(sys.argv[3]); print(time.process_time() - t)"
)


def import_seconds(task: Path, site: Path, module: str) -> float:
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", PROBE, str(task), str(site), module],
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per rule and variant (default: %(default)s)")
    args = parser.parse_args()
    rules = [r for r in custom_rules() if r.name.startswith("METRIC_FILTER_ALARM_")]
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        root = Path(tmp)
        site = lambda_like_path(root / "site")
        print(f"{'rule (CPU ms of the import)':<48} {'no .pyc':>10} {'.pyc':>8} {'saved':>9}")
        totals = {False: [], True: []}
        for rule in rules:
            tasks = {}
            for bytecode in (False, True):
                out = root / f"{rule.name}-{bytecode}"
                out.mkdir()
                task = out / "task"
                with zipfile.ZipFile(rule_zip(rule, out, bytecode=bytecode)) as zf:
                    zf.extractall(task)
                tasks[bytecode] = task
            times: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(args.runs):
                for bytecode in (False, True):
                    times[bytecode].append(import_seconds(tasks[bytecode], site, rule.name))
            without, with_pyc = (statistics.median(times[b]) * 1000 for b in (False, True))
            totals[False].append(without)
            totals[True].append(with_pyc)
            print(f"{rule.name:<48} {without:>10.1f} {with_pyc:>8.1f} {without - with_pyc:>9.1f}")
        without, with_pyc = (statistics.median(totals[b]) for b in (False, True))
        label = f"median of the {len(rules)} rules"
        print(f"{label:<48} {without:>10.1f} {with_pyc:>8.1f} {without - with_pyc:>9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
