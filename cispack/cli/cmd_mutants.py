"""``./pack mutants [--survivors] [MODULE...]``: mutation testing of the rules' code (cispack.testing.mutants)."""

from __future__ import annotations

import argparse
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from cispack.testing.mutants import main

    return main(args.modules, again=args.survivors)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "mutants",
        help="mutation-test rulelib/ and the custom rules against their own tests; print the score per module",
    )
    parser.add_argument("modules", nargs="*", metavar="MODULE", help="only these modules (default: every one)")
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="run again, against the current tests, only what each module's last pass did not kill (its kills stand)",
    )
    parser.set_defaults(func=_run)
