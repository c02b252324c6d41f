"""The demo's scorecard: ``./pack demo`` ends by reading its rules' results back through AWS
Config's API, exactly as ``./pack report`` reads an account, and writes the report beside them.

The demo runs each custom rule in a process of its own, so this process's local Config seam
(:class:`cispack.local.config.ComplianceLedger`) is handed what each invocation did, as AWS Config
records it: the evaluations a successful run sent, or the failure of a run. Managed rules are
deployed but the local AWS cannot evaluate them: they show as "no data". The local AWS has stopped
by then; every call the report makes is answered by the seam, and any other would go to that
stopped local endpoint and fail, never elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import boto3

from cispack import ROOT
from cispack.local.aws import FAKE_CREDENTIALS
from cispack.local.config import ComplianceLedger
from cispack.report.model import Compliance, Scorecard, scorecard
from cispack.report.page import to_html
from cispack.report.render import score_line, text, to_json
from cispack.report.sources import read_account
from cispack.report.versions import VERSIONS, label, version_scorecard

#: A stable place for the demo's scorecard, whether or not the demo keeps its work folder.
DEMO_REPORT_DIR = ROOT / "build" / "demo"


class Named(Protocol):
    @property
    def name(self) -> str: ...


class Outcome(Protocol):
    """What the demo knows of one custom rule's invocation (``cispack.local.demo.RuleOutcome``)."""

    @property
    def rule(self) -> Named: ...
    @property
    def evaluations(self) -> list[dict[str, Any]]: ...
    @property
    def error(self) -> str | None: ...


def write_files(card: Scorecard, folders: Iterable[Path]) -> list[Path]:
    written = []
    for folder in dict.fromkeys(Path(f).resolve() for f in folders):
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in (("scorecard.html", to_html(card)), ("scorecard.json", to_json(card))):
            (folder / name).write_text(body, encoding="utf-8")
            written.append(folder / name)
    return written


def version_lines(compliance: Compliance, level: int = 2) -> list[str]:
    """The score of every CIS version from the same evaluations, one line each (``./pack report
    --benchmark`` shows each one whole)."""
    lines = ["Score per CIS version, from the same evaluations (./pack report --benchmark cis-X.Y.Z):"]
    for name in VERSIONS:
        card = version_scorecard(compliance, name, level)
        lines.append(f"  {label(name):<7}{len(card.controls):>3} recommendations: {score_line(card.score)}")
    return lines


def ledger_of(outcomes: Iterable[Outcome], managed: Iterable[Named], account_id: str) -> ComplianceLedger:
    ledger = ComplianceLedger(account_id=account_id)
    for rule in managed:
        ledger.deploy(rule.name)
    for outcome in outcomes:
        if outcome.error:
            ledger.record_failure(outcome.rule.name, "InvocationFailed", outcome.error)
        else:
            ledger.record(outcome.rule.name, outcome.evaluations)
    return ledger


def demo_scorecard(
    outcomes: Sequence[Outcome],
    managed: Sequence[Named],
    account_id: str,
    aws: Any,
    work: Path,
    say: Callable[[str], None] = print,
) -> Scorecard:
    """Read the demo account back as ``./pack report`` does, print the scorecard and write its HTML
    and JSON into ``work`` (beside ``results.json``) and :data:`DEMO_REPORT_DIR`."""
    ledger = ledger_of(outcomes, managed, account_id)
    session = boto3.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=aws.region,
    )
    ledger.install(session)
    try:
        compliance = read_account(
            lambda service, region: session.client(service, region_name=region, endpoint_url=aws.endpoint_url),
            aws.region,
            account_id=account_id,
            source=f"the local demo account {account_id}, {aws.region} (the pack's rules by name)",
            benchmarks=VERSIONS,
        )
    finally:
        ledger.uninstall(session)
    compliance.notes.append(
        "The local AWS cannot evaluate AWS Config's managed rules: their controls show no data here, "
        "and AWS Config evaluates them in an account."
    )
    card = scorecard(compliance)
    say("\n" + text(card).rstrip())
    say("\n" + "\n".join(version_lines(compliance)))
    written = write_files(card, (work, DEMO_REPORT_DIR))
    say("Scorecard written: " + ", ".join(str(p) for p in written))
    return card
