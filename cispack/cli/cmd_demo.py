"""``./pack demo``."""

from __future__ import annotations

import argparse
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from cispack.local.demo import main
    from cispack.report.demo import demo_scorecard

    return main(args.keep, finish=demo_scorecard)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "demo", help="deploy the pack to an embedded local AWS (moto server) and print every rule's verdicts"
    )
    parser.add_argument("--keep", metavar="DIR", help="keep logs, zips and results.json in DIR")
    parser.set_defaults(func=_run)
