"""Command line of the pack: ``./pack <command>`` (``python -m cispack <command>``)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cispack import ROOT, RULES_DIR, TEMPLATES_DIR
from cispack.cli import errors, output
from cispack.cli.checks import CliError, Parser, say_error

Command = Callable[[argparse.Namespace], int]
# checkov's own venv, built by ./pack (its pins conflict with the project's boto3 and moto).
CHECKOV = ROOT / "build" / "tools-venv" / "bin" / "checkov"


RDK_LOG = ROOT / "build" / "rdk-test-local.log"


@dataclass(frozen=True)
class Step:
    """One check of ``./pack test``: a command, run from ``cwd`` (the repository by default)."""

    title: str
    argv: tuple[str, ...]
    cwd: Path = ROOT


@dataclass(frozen=True)
class Outcome:
    step: Step
    passed: bool
    seconds: float
    text: str


def _run(step: Step) -> Outcome:
    """Run one step, its output captured (steps run side by side and print one after the other)."""
    started = time.perf_counter()
    done = subprocess.run(
        step.argv, cwd=step.cwd, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    text = done.stdout
    if step.title.startswith("rdk test-local"):
        # rdk's "Debug!" lines and one line per passing test bury the result: keep the whole
        # output in a log and print what matters.
        RDK_LOG.parent.mkdir(parents=True, exist_ok=True)
        RDK_LOG.write_text(done.stdout, encoding="utf-8")
        text = "\n".join([*output.rdk_test_summary(done.stdout), f"(full output: {RDK_LOG.relative_to(ROOT)})"])
    return Outcome(step, done.returncode == 0, time.perf_counter() - started, text)


def run_steps(side_by_side: Sequence[Step], spread: Sequence[Step], workers: int) -> list[Outcome]:
    """``side_by_side`` at most ``workers`` at a time (each is one process on one core) while the
    ``spread`` steps (pytest, which spreads itself over every core) run from the start beside them,
    so no core waits for the longest one-process step. Each step's output is printed whole, in the
    order given (``side_by_side`` first), with the seconds it took."""

    def report(outcome: Outcome) -> Outcome:
        step = outcome.step
        print(f"\n=== {step.title}: {' '.join(step.argv)}", flush=True)
        if outcome.text.strip():
            print(outcome.text.rstrip("\n"))
        verdict = "passed" if outcome.passed else "FAILED"
        print(f"--- {step.title}: {verdict} in {outcome.seconds:.0f} s", flush=True)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, len(spread))) as spread_pool:
        spreading = [spread_pool.submit(_run, step) for step in spread]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            outcomes = [report(outcome) for outcome in pool.map(_run, side_by_side)]
        outcomes += [report(future.result()) for future in spreading]
    return outcomes


def cores() -> int:
    """The cores this process may use (a container's limit, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cmd_test(args: argparse.Namespace) -> int:
    """Every check CI runs; exits non-zero when any fails (pytest's "no tests" included). The
    checks that are one process each run side by side, one per core, and pytest beside them on
    every core (pytest-xdist, each test file on one worker, so a file's module fixtures run once):
    the machine stays busy until the last test ends."""
    started = time.perf_counter()
    py = sys.executable
    bin_dir = Path(py).parent
    templates = sorted(str(p) for p in TEMPLATES_DIR.glob("*.yaml"))
    pack = ROOT / "conformance-pack.yaml"
    if pack.exists():
        templates.append(str(pack))
    # The later CIS versions' packs (docs/versions.md).
    templates += sorted(str(p) for p in (ROOT / "conformance-packs").glob("*.yaml"))
    side_by_side = [
        Step("ruff lint", (py, "-m", "ruff", "check", ".")),
        Step("ruff format", (py, "-m", "ruff", "format", "--check", ".")),
        Step("mypy (shared code)", (py, "-m", "mypy")),
    ]
    if templates:
        # cfn-lint 1.x has no ``python -m cfnlint`` entry point; its console script sits beside python.
        side_by_side.append(Step("cfn-lint", (str(bin_dir / "cfn-lint"), *templates)))
    missing = []
    cfn_templates = sorted(str(p) for p in TEMPLATES_DIR.glob("*.yaml"))
    if cfn_templates and not CHECKOV.exists():
        print(f"checkov is missing: ./pack test builds it in {CHECKOV.parent.parent}")
        missing.append("checkov")
    elif cfn_templates:
        # --skip-download: no calls to the vendor's platform; skips live in each template.
        files = [arg for path in cfn_templates for arg in ("-f", path)]
        checkov = [str(CHECKOV), "--framework", "cloudformation", "--skip-download", "--compact", "--quiet"]
        side_by_side.append(Step("checkov", (*checkov, *files)))
    side_by_side.append(Step("rdk test-local --all", (str(bin_dir / "rdk"), "test-local", "--all"), RULES_DIR))
    workers = cores()
    pytest = Step("pytest", (py, "-m", "pytest", "-n", str(workers), "--dist", "loadfile", *args.pytest_args))
    outcomes = run_steps(side_by_side, [pytest], workers)
    failed = missing + [o.step.title for o in outcomes if not o.passed]
    print()
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print(f"all {len(outcomes)} checks passed in {time.perf_counter() - started:.0f} s")
    return 0


def _with_debug(sub: Any) -> None:
    """``--debug`` after the command too (``./pack rollout ... --debug``), not only before it."""
    for parser in {id(p): p for p in sub.choices.values()}.values():
        parser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="on an error, show the Python traceback"
        )


def build_parser() -> Parser:
    """``./pack`` and every subcommand's arguments."""
    parser = Parser(
        prog="./pack",
        description="The CIS AWS Foundations v1.2.0 Config rules pack. Commands, one line each:",
        # Wide enough that every subcommand's help stays on one line.
        formatter_class=lambda prog: argparse.HelpFormatter(prog, max_help_position=28, width=160),
    )
    parser.add_argument("--debug", action="store_true", help="on an error, show the Python traceback")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("test", help="lint, type-check, cfn-lint, checkov, pytest and rdk test-local --all")
    p.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")
    p.set_defaults(func=cmd_test)
    from cispack.cli import commands

    commands.register(sub)
    _with_debug(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stopped:  # argparse's exit: --help (0) or a refused argument (2)
        return stopped.code if isinstance(stopped.code, int) else 2
    func: Command = args.func
    command = f"./pack {args.command}"
    if args.debug:
        return func(args)
    try:
        return func(args)
    except KeyboardInterrupt:
        print(f"\n{command}: interrupted.", file=sys.stderr)
        return 130
    except CliError as refused:
        say_error(command, str(refused))
        return 2
    except errors.EXPLAINED as error:
        say_error(command, f"{errors.explain(error, args)} (--debug shows the traceback)")
        return 1
