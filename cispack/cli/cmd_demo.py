"""``./pack demo``."""

from __future__ import annotations

import argparse
from typing import Any

from cispack.cli import checks


def _run(args: argparse.Namespace) -> int:
    from cispack.local.demo import main
    from cispack.report.demo import demo_scorecard

    if args.remediate:
        from cispack.remediation.demo import remediate

        return main(str(args.keep) if args.keep else None, finish=demo_scorecard, remediate=remediate)
    return main(str(args.keep) if args.keep else None, finish=demo_scorecard)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "demo", help="deploy the pack to an embedded local AWS (moto server) and print every rule's verdicts"
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        type=checks.writable_folder,
        help="keep logs, zips and results.json in DIR (default: build/demo/run, emptied first)",
    )
    parser.add_argument(
        "--remediate",
        action="store_true",
        help="then run the pack's own runbook on every non-compliant resource, evaluate again, print before and after",
    )
    parser.set_defaults(func=_run)
