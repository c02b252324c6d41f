"""``./pack report``: the thin command-line adapter of :mod:`cispack.report`."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any, TextIO

from cispack.cli.checks import argparse_error, benchmark, known_regions, region
from cispack.report.export import PdfError, to_pdf, write_pack
from cispack.report.model import Scorecard
from cispack.report.render import FORMATS, ScorecardFileError, from_json, render
from cispack.report.samples import SIZES, sample
from cispack.report.sources import SourceError, merge, read_account, read_aggregator
from cispack.report.versions import VERSIONS, mismatch, version_scorecard

DESCRIPTION = """The CIS AWS Foundations v1.2.0 scorecard, read from AWS Config: per recommendation its
verdict (compliant, non-compliant, error, no data, process check awaiting review, not applicable), its
non-compliant resources and a Security Hub-style score. Sources: the pack's rules by name in one account and
region (default), --conformance-pack NAME in one account and region, or --aggregator NAME (every account and
region of the organisation). Credentials and region come from the usual AWS settings (--profile, --region).
Offline: --from scorecard.json renders a scorecard written before in any format, --sample 12|200 a made-up
organisation. --format pdf and --evidence-pack need Chromium."""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="the CIS v1.2.0 scorecard from AWS Config (one account, or the organisation)",
        description=DESCRIPTION,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--conformance-pack", metavar="NAME", help="read the rules of this conformance pack")
    source.add_argument("--aggregator", metavar="NAME", help="read every account and region of this aggregator")
    source.add_argument(
        "--from", dest="from_file", metavar="FILE", help="render a scorecard JSON written before (no AWS call)"
    )
    source.add_argument(
        "--sample", type=int, choices=SIZES, help="render a made-up organisation of 12 or 200 accounts (no AWS call)"
    )
    parser.add_argument(
        "--region",
        help="the region to read, or several separated by commas for one account (the aggregator's home region "
        "with --aggregator)",
    )
    parser.add_argument("--profile", help="the AWS named profile to use")
    parser.add_argument(
        "--level", type=int, choices=(1, 2), help="CIS profile (2 includes 1; default 2, or the --from file's)"
    )
    parser.add_argument(
        "--benchmark",
        type=benchmark,
        metavar="VERSION",
        help=f"the CIS version to map the evaluations to: {', '.join(VERSIONS)} (default cis-1.2.0)",
    )
    parser.add_argument("--format", choices=(*FORMATS, "pdf"), default="text", help="output format (default text)")
    parser.add_argument("--out", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument(
        "--evidence-pack",
        metavar="DIR",
        help="write HTML, PDF, CSV and JSON into DIR with manifest.json and SHA256SUMS (SHA-256 of each file)",
    )
    parser.add_argument(
        "--evidence",
        choices=("all", "non-compliant"),
        default="all",
        help="with --aggregator: read compliant resources too (default) or only non-compliant ones (fewer calls)",
    )
    parser.set_defaults(func=run)


def terminal_progress(stream: TextIO) -> Any:
    """Progress on one rewritten line of a terminal; nothing when the stream is not one."""
    if not stream.isatty():
        return lambda done, total, what: None
    width = shutil.get_terminal_size().columns

    def show(done: int, total: int, what: str) -> None:
        if what == "done":
            stream.write("\r" + " " * (width - 1) + "\r")
        else:
            stream.write(("\r" + f"reading {done + 1}/{total}: {what}")[:width].ljust(width - 1))
        stream.flush()

    return show


def run(args: argparse.Namespace, session: Any = None) -> int:
    """``session``: a boto3 session to use instead of one built from ``--profile`` (for tests)."""
    if args.from_file:
        card = _from_file(Path(args.from_file), args.level)
    elif args.sample:
        card = version_scorecard(sample(args.sample), args.benchmark or VERSIONS[0], args.level or 2)
    else:
        card = _from_aws(args, session)
    if isinstance(card, int):
        return card
    if mismatch(card, args.benchmark):
        print(f"report: {mismatch(card, args.benchmark)}", file=sys.stderr)
        return 2
    return write(card, args)


def _from_file(path: Path, level: int | None) -> Scorecard | int:
    try:
        card = from_json(path.read_text(encoding="utf-8"))
    except OSError as failed:
        print(f"report: cannot read {path}: {failed.strerror or failed}.", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"report: {path} is not UTF-8 text, so not a scorecard JSON.", file=sys.stderr)
        return 2
    except ScorecardFileError as bad:
        print(f"report: {path}: {bad}", file=sys.stderr)
        return 2
    if level is not None and level > card.level:
        print(f"report: {path} holds Level {card.level} controls only: it cannot show Level {level}.", file=sys.stderr)
        return 2
    return card.at_level(level or card.level)


def write(card: Scorecard, args: argparse.Namespace) -> int:
    """Write ``card`` as ``--format`` (to ``--out`` or standard output) or as an evidence pack."""
    try:
        if args.evidence_pack:
            written = write_pack(card, Path(args.evidence_pack))
            print(
                f"report: {card.score.text()} score; wrote {len(written)} files in {args.evidence_pack} "
                "(manifest.json and SHA256SUMS list each file's SHA-256)",
                file=sys.stderr,
            )
            return 0
        if args.format == "pdf":
            if not args.out:
                print("report: --format pdf writes a file: pass --out FILE.", file=sys.stderr)
                return 2
            body = to_pdf(card)
            Path(args.out).write_bytes(body)
        else:
            output = render(card, args.format)
            if not args.out:
                sys.stdout.write(output)
                return 0
            Path(args.out).write_text(output, encoding="utf-8")
    except PdfError as failed:
        print(f"report: {failed}", file=sys.stderr)
        return 2
    except OSError as failed:
        print(f"report: cannot write {failed.filename or args.out}: {failed.strerror or failed}.", file=sys.stderr)
        return 2
    print(f"report: {card.score.text()} score; wrote {args.out}", file=sys.stderr)
    return 0


def _from_aws(args: argparse.Namespace, session: Any) -> Scorecard | int:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        session = session or boto3.Session(profile_name=args.profile)
        regions = [r.strip() for r in (args.region or session.region_name or "").split(",") if r.strip()]
        if not regions:
            print("report: no region: pass --region or set AWS_REGION.", file=sys.stderr)
            return 2
        unknown = [r for r in regions if r not in known_regions()]
        if unknown:  # answered at once, before any call to an endpoint that cannot exist
            print(f"report: --region {argparse_error(region, unknown[0])}.", file=sys.stderr)
            return 2
        if args.aggregator and len(regions) > 1:
            print("report: --aggregator reads one region, the aggregator's home region.", file=sys.stderr)
            return 2
        # Large organisations: standard retries ride out Config's throttling.
        config = Config(retries={"mode": "standard", "max_attempts": 10})

        def clients(service: str, where: str) -> Any:
            return session.client(service, region_name=where, config=config)

        progress = terminal_progress(sys.stderr)
        benchmarks = (args.benchmark or VERSIONS[0],)
        if args.aggregator:
            compliance = read_aggregator(
                clients, regions[0], args.aggregator, evidence=args.evidence, progress=progress, benchmarks=benchmarks
            )
        else:
            # One account's regions read as one: its global rules live in one region only.
            compliance = merge(
                [
                    read_account(
                        clients, r, conformance_pack=args.conformance_pack, progress=progress, benchmarks=benchmarks
                    )
                    for r in regions
                ]
            )
    except SourceError as missing:
        print(f"report: {missing}", file=sys.stderr)
        return 2
    except ClientError as refused:
        error = refused.response.get("Error", {})
        message = str(error.get("Message") or "no message").rstrip(".")
        print(f"report: AWS refused {refused.operation_name}: {error.get('Code')} ({message}).", file=sys.stderr)
        return 2
    except BotoCoreError as failed:
        print(f"report: {str(failed).rstrip('.')}.", file=sys.stderr)
        return 2
    return version_scorecard(compliance, args.benchmark or VERSIONS[0], args.level or 2)
