"""The scorecard as text (a terminal), JSON and CSV (audit evidence: one row per evaluated
resource and control), and the sentences every format shares; the HTML page is
:mod:`cispack.report.page`, PDF and the evidence pack :mod:`cispack.report.export`. A JSON
scorecard reads back (:func:`from_json`) to render any format again without AWS.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from cispack.report.model import BENCHMARK, LABELS, Cell, ControlResult, Row, Score, Scorecard, Verdict
from cispack.report.versions import V120, controls_of, label, status_words, title, version_of_title

FORMATS = ("text", "json", "csv", "html")
CSV_COLUMNS = (
    "account",
    "region",
    "control",
    "rule",
    "resource_type",
    "resource_id",
    "verdict",
    "annotation",
    "evaluation_time",
)


def _time(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def score_line(score: Score) -> str:
    """The score's sentence: passed of judged, failed, and what stayed out of it."""
    others = ", ".join(
        f"{score.counts[v]} {v.value}"
        for v in (Verdict.NO_DATA, Verdict.AWAITING_REVIEW, Verdict.NOT_APPLICABLE)
        if score.counts[v]
    )
    errors = f", {score.counts[Verdict.ERROR]} of them in error" if score.counts[Verdict.ERROR] else ""
    judged = score.passed + score.failed
    line = f"Score {score.text()}: {score.passed} passed of {judged} judged ({score.failed} failed{errors})"
    return f"{line}; {others}." if others else f"{line}."


def _name(verdict: Verdict) -> str:
    """The cell label with the verdict's words when they differ: "FAIL (non-compliant)", "ERROR"."""
    label = LABELS[verdict]
    return label if label.lower() == verdict.value else f"{label} ({verdict.value})"


def account_spread(card: Scorecard) -> str:
    """Median and lowest account score, for an organisation (empty for one account)."""
    spread = card.spread()
    if spread is None:
        return ""
    median, lowest = spread
    return (
        f"Account scores: median {median:.0f}%, lowest {lowest:.0f}% ({len(card.accounts)} accounts); "
        "a control passes in the organisation only when it passes in every account."
    )


def scored_line(card: Scorecard) -> str:
    """The score over the benchmark's Scored recommendations, naming the Not Scored ones left out
    (Automated and Manual from v1.4.0)."""
    score = card.scored_score
    left_out = [r.control.id for r in card.controls if not r.control.scored]
    judged = score.passed + score.failed
    kept, out = status_words(card.benchmark)
    return (
        f"{kept}-only score {score.text()}: {score.passed} passed of {judged} judged"
        f" ({out} left out: {', '.join(left_out) or 'none'})."
    )


def _accounts(card: Scorecard) -> str:
    return f"{len(card.accounts)} account" + ("" if len(card.accounts) == 1 else "s")


def _profile(card: Scorecard) -> str:
    return "Level 1" if card.level == 1 else "Level 2 (includes Level 1)"


def subtitle(card: Scorecard) -> str:
    """What the report covers: profile, controls, accounts and evaluated resources."""
    resources, failing = card.resources()
    return (
        f"Profile: {_profile(card)}; {len(card.controls)} controls; {_accounts(card)}; "
        f"{resources} evaluated resources, {failing} non-compliant."
    )


def failing_in(card: Scorecard, result: ControlResult) -> str:
    return f"{card.failing_accounts(result)}/{len(card.accounts)}"


# Text.


def text(card: Scorecard) -> str:
    org = len(card.accounts) > 1
    lines = [
        f"{title(card.benchmark)}: scorecard",
        f"Source: {card.source}; read {card.read_at:%Y-%m-%d %H:%M} UTC.",
        subtitle(card),
        score_line(card.score),
        scored_line(card),
        *([account_spread(card)] if account_spread(card) else []),
        "",
        f"{'Control':<8}{'Lvl':<4}{'Scored' if card.benchmark == V120 else 'Auto':<7}{'Verdict':<30}{'NC':>4}"
        + (f"{'Failing':>9}" if org else "")
        + "  Title (NC: non-compliant resources"
        + ("; Failing: in how many accounts)" if org else ")"),
    ]
    for result in card.controls:
        control = result.control
        nc = str(result.non_compliant) if result.non_compliant else ""
        failing = f"{failing_in(card, result):>9}" if org else ""
        scored = "yes" if control.scored else "no"
        lines.append(
            f"{control.id:<8}{control.level:<4}{scored:<7}{result.verdict.value:<30}{nc:>4}{failing}  {control.title}"
        )
        if result.verdict != Verdict.COMPLIANT:
            lines.append(f"{'':<53}{result.reason}")
    if org:
        lines += ["", "Lowest account scores (every account is in the HTML and JSON):"]
        lines += [f"  {account}  {score.text()}" for account, score in card.ranking()[:10]]
    if card.notes:
        lines += ["", "Notes:"] + [f"  - {note}" for note in card.notes]
    return "\n".join(lines) + "\n"


# JSON and CSV.


def _score_json(score: Score) -> dict[str, Any]:
    return {
        "percent": None if score.percent is None else round(score.percent, 1),
        "passed": score.passed,
        "failed": score.failed,
        "counts": {v.value: n for v, n in score.counts.items()},
    }


def _row_json(row: Row) -> dict[str, Any]:
    values = dict(zip(CSV_COLUMNS, _row_values(row), strict=True))
    return values


def _row_values(row: Row) -> list[str]:
    return [
        row.account,
        row.region,
        row.control,
        row.rule,
        row.resource_type,
        row.resource_id,
        row.compliance,
        row.annotation,
        _time(row.time),
    ]


#: Written in the JSON so that ``--from`` knows what it reads.
JSON_FORMAT = "cispack-scorecard/1"


def to_json(card: Scorecard) -> str:
    document = {
        "format": JSON_FORMAT,
        "benchmark": title(card.benchmark),
        "source": card.source,
        "read_at": _time(card.read_at),
        "level": card.level,
        "accounts": list(card.accounts),
        "score": _score_json(card.score),
        "scored_score": _score_json(card.scored_score),
        "account_scores": {a: _score_json(card.account_score(a)) for a in card.accounts},
        "controls": [
            {
                "id": r.control.id,
                "title": r.control.title,
                "level": r.control.level,
                "scored": r.control.scored,
                "rules": list(r.rules),
                "verdict": r.verdict.value,
                "non_compliant_resources": r.non_compliant,
                "failing_accounts": card.failing_accounts(r),
                "reason": r.reason,
                "accounts": {
                    a: {"verdict": c.verdict.value, "non_compliant_resources": c.non_compliant, "reason": c.reason}
                    for a, c in r.cells.items()
                },
            }
            for r in card.controls
        ],
        "evaluations": [_row_json(row) for row in card.rows],
        "notes": list(card.notes),
    }
    return json.dumps(document, indent=1) + "\n"


class ScorecardFileError(ValueError):
    """A scorecard JSON that cannot be read back; the message is one sentence naming what is wrong."""


def _parse_time(value: str, where: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise ScorecardFileError(f"{where} is not a time like 2026-11-30T12:00:00Z: {value!r}.") from None


def from_json(body: str) -> Scorecard:
    """The scorecard a :func:`to_json` document holds, for rendering it again without AWS."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as bad:
        raise ScorecardFileError(f"the file is not JSON (line {bad.lineno}, column {bad.colno}).") from None
    version = version_of_title(str(document.get("benchmark"))) if isinstance(document, dict) else None
    if version is None:
        raise ScorecardFileError(f'the file is not a scorecard of ./pack report (no "benchmark": {BENCHMARK!r}).')
    catalogue = {c.id: c for c in controls_of(version)}
    try:
        accounts = tuple(str(a) for a in document["accounts"])
        controls = []
        for item in document["controls"]:
            if item["id"] not in catalogue:
                raise ScorecardFileError(f"control {item['id']!r} is not a CIS {label(version)} recommendation.")
            cells = {
                account: Cell(Verdict(cell["verdict"]), int(cell["non_compliant_resources"]), str(cell["reason"]))
                for account, cell in item["accounts"].items()
            }
            if set(cells) != set(accounts):
                raise ScorecardFileError(f"control {item['id']} does not have a verdict for every account.")
            controls.append(
                ControlResult(
                    catalogue[item["id"]],
                    tuple(item["rules"]),
                    Verdict(item["verdict"]),
                    int(item["non_compliant_resources"]),
                    str(item["reason"]),
                    cells,
                )
            )
        rows = [
            Row(
                e["account"],
                e["region"],
                e["control"],
                e["rule"],
                e["resource_type"],
                e["resource_id"],
                e["verdict"],
                e["annotation"],
                _parse_time(e["evaluation_time"], "an evaluation_time") if e["evaluation_time"] else None,
            )
            for e in document["evaluations"]
        ]
        level = int(document["level"])
        read_at = _parse_time(document["read_at"], "read_at")
        card = Scorecard(
            str(document["source"]),
            read_at,
            accounts,
            level,
            tuple(controls),
            tuple(rows),
            tuple(document["notes"]),
            version,
        )
    except KeyError as missing:
        raise ScorecardFileError(f"the scorecard has no {missing.args[0]!r} where one is expected.") from None
    except (TypeError, AttributeError):
        raise ScorecardFileError("the scorecard's structure is not the one ./pack report writes.") from None
    except ValueError as bad:
        if isinstance(bad, ScorecardFileError):
            raise
        raise ScorecardFileError(f"the scorecard holds a value ./pack report never writes ({bad}).") from None
    if level not in (1, 2):
        raise ScorecardFileError(f"the scorecard's level is {level}, not 1 or 2.")
    return card


def to_csv(card: Scorecard) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_row_values(row) for row in card.rows)
    return out.getvalue()


def render(card: Scorecard, fmt: str) -> str:
    if fmt == "text":
        return text(card)
    if fmt == "json":
        return to_json(card)
    if fmt == "csv":
        return to_csv(card)
    if fmt == "html":
        from cispack.report.page import to_html  # the page builds on this module's sentences

        return to_html(card)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
