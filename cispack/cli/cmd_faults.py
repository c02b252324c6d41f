"""``./pack faults``."""

from __future__ import annotations

import argparse
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from cispack.testing.faults import main

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
