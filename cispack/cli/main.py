"""Command line of the pack: ``./pack <command>`` (``python -m cispack <command>``)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cispack import ROOT, RULES_DIR, TEMPLATES_DIR
from cispack.cli import errors, output
from cispack.cli.checks import CliError, Parser, say_error

Command = Callable[[argparse.Namespace], int]
# checkov's own venv, built by ./pack (its pins conflict with the project's boto3 and moto).
CHECKOV = ROOT / "build" / "tools-venv" / "bin" / "checkov"


RDK_LOG = ROOT / "build" / "rdk-test-local.log"


def _run(title: str, argv: Sequence[str], cwd: str | None = None) -> bool:
    print(f"\n=== {title}: {' '.join(argv)}", flush=True)
    if title.startswith("rdk test-local"):
        # rdk's "Debug!" lines and one line per passing test bury the result: keep the whole
        # output in a log and print what matters.
        done = subprocess.run(
            argv, cwd=cwd or ROOT, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        RDK_LOG.parent.mkdir(parents=True, exist_ok=True)
        RDK_LOG.write_text(done.stdout, encoding="utf-8")
        for line in output.rdk_test_summary(done.stdout):
            print(line)
        print(f"(full output: {RDK_LOG.relative_to(ROOT)})", flush=True)
        return done.returncode == 0
    return subprocess.run(argv, cwd=cwd or ROOT, check=False).returncode == 0


def cmd_test(args: argparse.Namespace) -> int:
    """Every check CI runs; exits non-zero when any fails (pytest's "no tests" included)."""
    py = sys.executable
    templates = sorted(str(p) for p in TEMPLATES_DIR.glob("*.yaml"))
    pack = ROOT / "conformance-pack.yaml"
    if pack.exists():
        templates.append(str(pack))
    # The later CIS versions' packs (docs/versions.md).
    templates += sorted(str(p) for p in (ROOT / "conformance-packs").glob("*.yaml"))
    steps: list[tuple[str, list[str], str | None]] = [
        ("ruff lint", [py, "-m", "ruff", "check", "."], None),
        ("ruff format", [py, "-m", "ruff", "format", "--check", "."], None),
        ("mypy (shared code)", [py, "-m", "mypy"], None),
    ]
    if templates:
        # cfn-lint 1.x has no ``python -m cfnlint`` entry point; its console script sits beside python.
        steps.append(("cfn-lint", [str(Path(py).parent / "cfn-lint"), *templates], None))
    missing = []
    cfn_templates = sorted(str(p) for p in TEMPLATES_DIR.glob("*.yaml"))
    if cfn_templates and not CHECKOV.exists():
        print(f"checkov is missing: ./pack test builds it in {CHECKOV.parent.parent}")
        missing.append("checkov")
    elif cfn_templates:
        # --skip-download: no calls to the vendor's platform; skips live in each template.
        files = [arg for path in cfn_templates for arg in ("-f", path)]
        checkov = [str(CHECKOV), "--framework", "cloudformation", "--skip-download", "--compact", "--quiet"]
        steps.append(("checkov", [*checkov, *files], None))
    steps += [
        ("pytest", [py, "-m", "pytest", *args.pytest_args], None),
        ("rdk test-local --all", [str(Path(py).parent / "rdk"), "test-local", "--all"], str(RULES_DIR)),
    ]
    failed = missing + [title for title, argv, cwd in steps if not _run(title, argv, cwd)]
    print()
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print(f"all {len(steps)} checks passed")
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
