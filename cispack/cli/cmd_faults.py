"""``./pack faults``."""

from __future__ import annotations

import argparse
from typing import Any

from cispack.cli.checks import CliError


def _run(args: argparse.Namespace) -> int:
    from cispack.catalog.rules import custom_rules
    from cispack.testing.faults import main

    names = [rule.name for rule in custom_rules()]
    unknown = [name for name in args.rules if name not in names]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], names, n=1)
        hint = (
            f"give {close[0]} if that is the one meant"
            if close
            else "ls rules/ shows them (managed rules have no faults to inject)"
        )
        raise CliError(f"{', '.join(unknown)} is not a custom rule of the pack: {hint}")
    return main(args.rules or None)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "faults",
        help="inject API faults below botocore's retries into every custom rule's calls; print the fault table",
        description="Inject AccessDenied, HTTP 500, connection errors, throttling, a failing second page and "
        "FailedEvaluations below botocore's retries into every custom rule's calls; print the table.",
    )
    parser.add_argument("rules", nargs="*", metavar="RULE", help="only these rules (default: every custom rule)")
    parser.set_defaults(func=_run)
