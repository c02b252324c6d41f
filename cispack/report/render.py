"""The scorecard as text (a terminal), JSON and CSV (audit evidence: one row per evaluated
resource and control) and HTML (one self-contained page: no network, no external asset).

The HTML page holds the score, a control x account matrix whose every cell says its verdict in
words (colour only helps), filters by level and verdict (a few lines of inline script; the state
sits in the address's ``#level=1&hide=...`` so a filtered view can be shared), the non-compliant
resources with their annotations and the controls in error. The matrix scrolls inside its own box
with the header row and the control columns sticky, so it stays readable at hundreds of accounts.
"""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import datetime
from typing import Any

from cispack.report.model import BENCHMARK, LABELS, Row, Score, Scorecard, Verdict

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
CSS_CLASS = {
    Verdict.NON_COMPLIANT: "v-fail",
    Verdict.ERROR: "v-error",
    Verdict.NO_DATA: "v-nodata",
    Verdict.AWAITING_REVIEW: "v-review",
    Verdict.COMPLIANT: "v-pass",
    Verdict.NOT_APPLICABLE: "v-na",
}


def _time(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _levels(card: Scorecard) -> tuple[int, ...]:
    return (1, 2) if card.level == 2 else (1,)


def _score_line(score: Score) -> str:
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
    if len(card.accounts) < 2:
        return ""
    scores = sorted(p for p in (card.account_score(a).percent for a in card.accounts) if p is not None)
    if not scores:
        return ""
    median = (
        scores[len(scores) // 2] if len(scores) % 2 else (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2
    )
    return f"Account scores: median {median:.0f}%, lowest {scores[0]:.0f}% ({len(card.accounts)} accounts)."


def _accounts(card: Scorecard) -> str:
    return f"{len(card.accounts)} account" + ("" if len(card.accounts) == 1 else "s")


def _profile(card: Scorecard) -> str:
    return "Level 1" if card.level == 1 else "Level 2 (includes Level 1)"


# Text.


def text(card: Scorecard) -> str:
    lines = [
        f"{BENCHMARK}: scorecard",
        f"Source: {card.source}; read {card.read_at:%Y-%m-%d %H:%M} UTC.",
        f"Profile: {_profile(card)}; {len(card.controls)} controls; {_accounts(card)}.",
        _score_line(card.score),
        *([account_spread(card)] if account_spread(card) else []),
        "",
        f"{'Control':<8}{'Lvl':<4}{'Verdict':<30}{'NC':>4}  Title (NC: non-compliant resources)",
    ]
    for result in card.controls:
        control = result.control
        nc = str(result.non_compliant) if result.non_compliant else ""
        lines.append(f"{control.id:<8}{control.level:<4}{result.verdict.value:<30}{nc:>4}  {control.title}")
        if result.verdict != Verdict.COMPLIANT:
            lines.append(f"{'':<46}{result.reason}")
    if len(card.accounts) > 1:
        scores = sorted((card.account_score(a).percent or 0.0, a) for a in card.accounts)
        lines += ["", "Lowest account scores (every account is in the HTML and JSON):"]
        lines += [f"  {account}  {card.account_score(account).text()}" for _, account in scores[:10]]
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


def to_json(card: Scorecard) -> str:
    document = {
        "benchmark": BENCHMARK,
        "source": card.source,
        "read_at": _time(card.read_at),
        "level": card.level,
        "accounts": list(card.accounts),
        "score": _score_json(card.score),
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


def to_csv(card: Scorecard) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_row_values(row) for row in card.rows)
    return out.getvalue()


# HTML.

STYLE = """
:root{--fail:#f4b6b0;--error:#f9c97c;--nodata:#dcdcdc;--review:#bcd4f6;--pass:#b9e3bd;--na:#f4f4f4;--line:#b8b8b8}
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  margin:0;padding:12px 16px;color:#1b1b1b;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 6px}
.source{margin:0;color:#444}
.summary{display:flex;flex-wrap:wrap;align-items:center;gap:8px 24px;margin:10px 0}
.score{font-size:15px}.score .big{font-size:34px;font-weight:700;margin-right:6px}
.counts{display:flex;flex-wrap:wrap;gap:6px;list-style:none;margin:0;padding:0}
.counts li{padding:3px 8px;border:1px solid var(--line);border-radius:4px}
#filters{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center;padding:6px 8px;
  border:1px solid var(--line);border-radius:4px;background:#fafafa}
#filters fieldset{border:0;margin:0;padding:0;display:flex;gap:10px;flex-wrap:wrap;align-items:center}
#filters legend{float:left;font-weight:600;margin-right:4px}
#shown{margin-left:auto;font-weight:600}
.matrix-wrap{overflow:auto;max-height:72vh;margin-top:8px;border:1px solid var(--line)}
table{border-collapse:separate;border-spacing:0}
#matrix th,#matrix td{border-right:1px solid var(--line);border-bottom:1px solid var(--line);
  padding:3px 6px;white-space:nowrap;font-size:12px}
#matrix thead th{position:sticky;top:0;z-index:2;background:#eef0f3;text-align:center;vertical-align:bottom}
#matrix .c-id,#matrix .c-title,#matrix .c-lvl,#matrix .c-all{position:sticky;z-index:1;background:#fff}
#matrix thead .c-id,#matrix thead .c-title,#matrix thead .c-lvl,#matrix thead .c-all{z-index:3;background:#eef0f3}
#matrix .c-id{left:0;width:4em;min-width:4em;text-align:left}
#matrix .c-title{left:4em;width:24em;min-width:24em;max-width:24em;overflow:hidden;text-overflow:ellipsis;
  text-align:left}
#matrix .c-lvl{left:28em;width:3em;min-width:3em;text-align:center}
#matrix .c-all{left:31em;width:7.5em;min-width:7.5em;text-align:center;font-weight:700;border-right:2px solid #666}
#matrix td.acct,#matrix th.acct{min-width:6.2em;text-align:center}
#matrix th.acct small{display:block;font-weight:400}
.v-fail{background:var(--fail)!important}.v-error{background:var(--error)!important}
.v-nodata{background:var(--nodata)!important}.v-review{background:var(--review)!important}
.v-pass{background:var(--pass)!important}.v-na{background:var(--na)!important}
.list{border:1px solid var(--line);max-height:60vh;overflow:auto}
.list table{width:100%}
.list th,.list td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top;font-size:12px}
.list thead th{position:sticky;top:0;background:#eef0f3}
.legend{color:#444;font-size:12px}
[hidden]{display:none!important}
"""

SCRIPT = """
(function () {
  var form = document.getElementById('filters');
  var score = document.getElementById('score');
  function state() {
    var level = form.querySelector('input[name=level]:checked').value;
    var hide = [];
    form.querySelectorAll('input[name=verdict]').forEach(function (box) { if (!box.checked) hide.push(box.value); });
    return {level: level, hide: hide};
  }
  function apply() {
    var s = state(), shown = 0, total = 0;
    document.querySelectorAll('#matrix tbody tr').forEach(function (tr) {
      total += 1;
      var ok = (s.level !== '1' || tr.dataset.level === '1') && s.hide.indexOf(tr.dataset.verdict) < 0;
      tr.hidden = !ok;
      if (ok) shown += 1;
    });
    document.querySelectorAll('.list tbody tr').forEach(function (tr) {
      tr.hidden = s.level === '1' && tr.dataset.level !== '1';
    });
    document.querySelectorAll('[data-score-1]').forEach(function (el) {
      el.textContent = el.getAttribute(s.level === '1' ? 'data-score-1' : 'data-score-all');
    });
    document.getElementById('shown').textContent = 'Showing ' + shown + ' of ' + total + ' controls';
    var hash = '#level=' + s.level + (s.hide.length ? '&hide=' + s.hide.map(encodeURIComponent).join(',') : '');
    try { history.replaceState(null, '', hash); } catch (e) { /* a page opened from disk may refuse it */ }
    document.body.setAttribute('data-filtered', s.level + '|' + s.hide.join(','));
  }
  var wanted = new URLSearchParams(location.hash.slice(1));
  var level = form.querySelector('input[name=level][value="' + (wanted.get('level') || '') + '"]');
  if (level) level.checked = true;
  (wanted.get('hide') || '').split(',').forEach(function (value) {
    form.querySelectorAll('input[name=verdict]').forEach(function (box) {
      if (box.value === decodeURIComponent(value)) box.checked = false;
    });
  });
  form.addEventListener('change', apply);
  apply();
  // The matrix scrolls in its own box; the page itself should never need to scroll sideways.
  var wrap = document.querySelector('.matrix-wrap');
  wrap.setAttribute('data-overflow', wrap.scrollWidth > wrap.clientWidth ? 'scrolls' : 'fits');
  document.body.setAttribute('data-page-width', String(document.documentElement.scrollWidth));
  score.setAttribute('data-ready', 'yes');
})();
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell_text(verdict: Verdict, non_compliant: int) -> str:
    label = LABELS[verdict]
    return f"{label} {non_compliant}" if verdict == Verdict.NON_COMPLIANT and non_compliant else label


def _score_attrs(card: Scorecard, account: str | None = None) -> str:
    """The score text for each level the page can filter to, for the script to switch between."""
    level1 = card.score_for(1, account).text()
    every = card.score_for(card.level, account).text()
    return f'data-score-1="{_e(level1)}" data-score-all="{_e(every)}"'


def _matrix(card: Scorecard) -> str:
    head = [
        '<th class="c-id" scope="col">Control</th>',
        '<th class="c-title" scope="col">Title</th>',
        '<th class="c-lvl" scope="col">Level</th>',
        '<th class="c-all" scope="col">All accounts</th>',
    ]
    for account in card.accounts:
        score = card.score_for(card.level, account).text()
        head.append(
            f'<th class="acct" scope="col">{_e(account)}<small {_score_attrs(card, account)}>{_e(score)}</small></th>'
        )
    rows = []
    for result in card.controls:
        control = result.control
        cells = [
            f'<th class="c-id" scope="row">{_e(control.id)}</th>',
            f'<td class="c-title" title="{_e(control.title)}">{_e(control.title)}</td>',
            f'<td class="c-lvl">{control.level}</td>',
            f'<td class="c-all {CSS_CLASS[result.verdict]}" title="{_e(result.verdict.value)}: {_e(result.reason)}">'
            f"{_e(_cell_text(result.verdict, result.non_compliant))}</td>",
        ]
        for account in card.accounts:
            cell = result.cells[account]
            cells.append(
                f'<td class="acct {CSS_CLASS[cell.verdict]}" title="{_e(cell.verdict.value)}: {_e(cell.reason)}">'
                f"{_e(_cell_text(cell.verdict, cell.non_compliant))}</td>"
            )
        rows.append(
            f'<tr data-level="{control.level}" data-verdict="{_e(result.verdict.value)}" id="control-{_e(control.id)}">'
            + "".join(cells)
            + "</tr>"
        )
    return (
        '<div class="matrix-wrap"><table id="matrix"><thead><tr>'
        + "".join(head)
        + "</tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )


def _resources(card: Scorecard) -> tuple[int, str]:
    """Non-compliant resources, one line per resource and rule with every control it fails."""
    levels = {c.control.id: c.control.level for c in card.controls}
    grouped: dict[tuple[str, str, str, str, str], list[Row]] = {}
    for row in card.rows:
        if row.compliance == "NON_COMPLIANT":
            grouped.setdefault((row.account, row.region, row.rule, row.resource_type, row.resource_id), []).append(row)
    lines = []
    for (account, region, rule, resource_type, resource_id), rows in grouped.items():
        controls = ", ".join(r.control for r in rows)
        level = min(levels[r.control] for r in rows)
        lines.append(
            f'<tr data-level="{level}"><td>{_e(account)}</td><td>{_e(region)}</td><td>{_e(controls)}</td>'
            f"<td>{_e(rule)}</td><td>{_e(resource_type)}</td><td>{_e(resource_id)}</td>"
            f"<td>{_e(rows[0].annotation)}</td><td>{_e(_time(rows[0].time))}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Account", "Region", "Controls", "Rule", "Resource type", "Resource ID", "Annotation", "Evaluated")
    )
    body = "\n".join(lines) or '<tr data-level="1"><td colspan="8">No non-compliant resource.</td></tr>'
    return len(
        lines
    ), f'<div class="list"><table id="resources"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>'


def _attention(card: Scorecard) -> tuple[int, str]:
    """Controls in error, per account, with the reason."""
    lines = [
        f'<tr data-level="{r.control.level}"><td>{_e(r.control.id)}</td><td>{_e(account)}</td>'
        f"<td>{_e(cell.reason)}</td></tr>"
        for r in card.controls
        for account, cell in r.cells.items()
        if cell.verdict == Verdict.ERROR
    ]
    head = "<th>Control</th><th>Account</th><th>Why</th>"
    body = "\n".join(lines) or '<tr data-level="1"><td colspan="3">No rule in error.</td></tr>'
    return len(
        lines
    ), f'<div class="list"><table id="errors"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>'


def _filters(card: Scorecard) -> str:
    levels = ['<label><input type="radio" name="level" value="all" checked> Level 1 and 2</label>']
    if card.level == 2:
        levels.append('<label><input type="radio" name="level" value="1"> Level 1 only</label>')
    verdicts = "".join(
        f'<label class="{CSS_CLASS[v]}"><input type="checkbox" name="verdict" value="{_e(v.value)}" checked> '
        f"{_e(_name(v))}</label>"
        for v in Verdict
    )
    return (
        '<form id="filters" onsubmit="return false">'
        f"<fieldset><legend>Level</legend>{''.join(levels)}</fieldset>"
        f"<fieldset><legend>Verdict</legend>{verdicts}</fieldset>"
        '<output id="shown"></output></form>'
    )


def _counts(card: Scorecard) -> str:
    """One chip per verdict with its number of controls, for the whole report and for Level 1 (the
    script shows the one the level filter asks for)."""
    every, level1 = card.score_for(card.level).counts, card.score_for(1).counts
    return "".join(
        f'<li class="{CSS_CLASS[v]}" data-score-1="{_e(_name(v))}: {level1[v]}" '
        f'data-score-all="{_e(_name(v))}: {every[v]}">{_e(_name(v))}: {every[v]}</li>'
        for v in Verdict
    )


def to_html(card: Scorecard) -> str:
    score = card.score
    failing, resources = _resources(card)
    errors, attention = _attention(card)
    notes = "".join(f"<li>{_e(n)}</li>" for n in card.notes)
    judged = score.passed + score.failed
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CIS v1.2.0 scorecard: {_e(card.source)}</title>
<style>{STYLE}</style></head>
<body>
<header><h1>{_e(BENCHMARK)}: scorecard</h1>
<p class="source">{_e(card.source)}; read {card.read_at:%Y-%m-%d %H:%M} UTC; {_e(_profile(card))};
{len(card.controls)} controls, {_accounts(card)}.</p></header>
<section class="summary">
<div class="score" id="score"><span class="big" {_score_attrs(card)}>{_e(score.text())}</span>
<span>of judged controls passed ({score.passed} passed, {score.failed} failed, {judged} judged; Security Hub-style:
passed / (passed + failed))</span>{f"<div>{_e(account_spread(card))}</div>" if account_spread(card) else ""}</div>
<ul class="counts">{_counts(card)}</ul>
</section>
{_filters(card)}
{_matrix(card)}
<p class="legend">Every cell names its verdict: PASS compliant, FAIL non-compliant (with the number of
non-compliant resources), ERROR a rule in error, NO DATA no evaluation or no rule deployed, REVIEW process
check awaiting a reviewer, N/A not applicable. Hover a cell for the reason. Account headers carry each
account's score.</p>
<h2>Non-compliant resources ({failing})</h2>
{resources}
<h2>Rules in error ({errors})</h2>
{attention}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<script>{SCRIPT}</script>
</body></html>
"""


def render(card: Scorecard, fmt: str) -> str:
    if fmt == "text":
        return text(card)
    if fmt == "json":
        return to_json(card)
    if fmt == "csv":
        return to_csv(card)
    if fmt == "html":
        return to_html(card)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
