"""The scorecard as one self-contained HTML page (inline style and script, nothing fetched).

Every figure comes from :mod:`cispack.report.model` through the sentences the text report prints
(:mod:`cispack.report.render`): the page holds them for each profile level, and for each account,
so the Level 1 view says exactly what ``./pack report --level 1`` says. Without JavaScript the page
is whole: the level and verdict filters are inputs placed before what they filter, which style sheets obey, the
drill-down per control is a ``<details>`` element, and every reason is written out (no tooltip).
The script adds the search, the account filter (the figures then become that account's), sorting
accounts by score and keeping the view in the address (``#level=1&hide=compliant&account=...``).
In print, the page is landscape with repeated table headers and nothing clipped: the matrix is
printed in slices of :data:`PRINT_COLUMNS` accounts, every control in each.
"""

from __future__ import annotations

import html
import json
from typing import Any

from cispack.report.links import control_links, remediation_of, resource_url
from cispack.report.model import FAILED, LABELS, Cell, ControlResult, Row, Scorecard, Verdict
from cispack.report.render import (
    _name,
    _time,
    account_spread,
    score_line,
    scored_line,
    subtitle,
)
from cispack.report.versions import V120, status_words, title
from cispack.report.versions import label as version_label

#: Account columns per printed slice of the matrix (landscape A4 / Letter).
PRINT_COLUMNS = 15
#: Up to this many accounts, the printed page opens every control's evidence.
PRINT_EVIDENCE_ACCOUNTS = 20
CSS_CLASS = {
    Verdict.NON_COMPLIANT: "v-fail",
    Verdict.ERROR: "v-error",
    Verdict.NO_DATA: "v-nodata",
    Verdict.AWAITING_REVIEW: "v-review",
    Verdict.COMPLIANT: "v-pass",
    Verdict.NOT_APPLICABLE: "v-na",
}
#: AWS Config's words for a resource's evaluation, as verdicts of the page.
EVALUATION = {
    "COMPLIANT": Verdict.COMPLIANT,
    "NON_COMPLIANT": Verdict.NON_COMPLIANT,
    "NOT_APPLICABLE": Verdict.NOT_APPLICABLE,
}

STYLE = """
:root{--fail:#f7c4bf;--error:#f9d49a;--nodata:#e2e2e2;--review:#c9dcf8;--pass:#c3e8c6;--na:#f4f4f4;--line:#8a8a8a;
  --head:#eef0f3}
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;padding:12px 16px;
  color:#1b1b1b;background:#fff}
a{color:#0b4f9c}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 6px}h3{font-size:15px;margin:10px 0 4px}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px;z-index:9}
.source,.subtitle{margin:0;color:#333}
.top{display:flex;flex-wrap:wrap;gap:8px 32px;align-items:flex-start}
.summary{flex:1 1 34em;margin:10px 0}
.worst h2{margin-top:10px}.worst ol{margin:0;padding-left:2.2em;columns:2;column-gap:2.5em}
.score .big{font-size:34px;font-weight:700;margin-right:6px}
.score p{margin:2px 0}
.counts{display:flex;flex-wrap:wrap;gap:6px;list-style:none;margin:0;padding:0}
.counts li{padding:3px 8px;border:1px solid var(--line);border-radius:4px}
#view{display:flex;flex-wrap:wrap;align-items:center;gap:4px 6px;padding:6px 0 0}
#view>.rest,#view>#tools,#view>noscript{flex:1 1 100%;min-width:0}
#view>label{padding:1px 6px 1px 4px;border-radius:3px;margin-right:4px;cursor:pointer;white-space:nowrap}
#view>input{position:absolute;opacity:0;width:1px;height:1px;margin:0}
#view>input[type=checkbox]+label::before{content:"\\2610  "}
#view>input[type=checkbox]:checked+label::before{content:"\\2611  "}
#view>input[type=radio]+label::before{content:"\\25CB  "}
#view>input[type=radio]:checked+label::before{content:"\\25C9  "}
#view>input:focus-visible+label{outline:3px solid #0b4f9c;outline-offset:1px}
.bar-label{font-weight:600;margin-left:4px}
#tools{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:center}
#shown{font-weight:600}
.wrap{overflow:auto;max-height:75vh;border:1px solid var(--line)}
.wrap:focus{outline:3px solid #0b4f9c}
table{border-collapse:separate;border-spacing:0}
caption{text-align:left;font-weight:600;padding:4px 6px;caption-side:top}
th,td{border-right:1px solid var(--line);border-bottom:1px solid var(--line);padding:3px 6px;font-size:12px;
  text-align:left;vertical-align:top}
thead th{position:sticky;top:0;z-index:2;background:var(--head)}
.matrix td,.matrix th{white-space:nowrap;text-align:center}
.matrix .c-id,.matrix .c-all{position:sticky;z-index:1;background:#fff;text-align:left}
.matrix thead .c-id,.matrix thead .c-all{z-index:3;background:var(--head)}
.matrix .c-id{left:0;min-width:4em;width:4em}
.matrix .c-title{min-width:16em;max-width:22em;white-space:normal;text-align:left}
.matrix .c-all{left:4em;min-width:7.5em;font-weight:700;border-right:2px solid #555}
.matrix th.acct small{display:block;font-weight:400}
.v-fail{background:var(--fail)!important}.v-error{background:var(--error)!important}
.v-nodata{background:var(--nodata)!important}.v-review{background:var(--review)!important}
.v-pass{background:var(--pass)!important}.v-na{background:var(--na)!important}
.list table{width:100%}
.legend{color:#333;font-size:12px}
details.control{border:1px solid var(--line);border-radius:4px;margin:4px 0;padding:0 8px}
details.control>summary{cursor:pointer;padding:4px 0}
details.control dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:4px 0}
details.control dt{font-weight:600}details.control dd{margin:0}
.ev th.acct,td.id,td a{white-space:nowrap}
.print-only{display:none}
.accounts button{font:inherit;font-weight:600;border:0;background:none;padding:0;cursor:pointer;
  text-decoration:underline}
#level-1:checked~.rest .lv-2,#level-1:checked~.rest .view-2,#level-all:checked~.rest .view-1{display:none}
#show-non-compliant:not(:checked)~.rest [data-verdict="non-compliant"]{display:none}
#show-error:not(:checked)~.rest [data-verdict="error"]{display:none}
#show-no-data:not(:checked)~.rest [data-verdict="no data"]{display:none}
#show-process-check-awaiting-review:not(:checked)~.rest [data-verdict="process check awaiting review"]{display:none}
#show-compliant:not(:checked)~.rest [data-verdict="compliant"]{display:none}
#show-not-applicable:not(:checked)~.rest [data-verdict="not applicable"]{display:none}
[hidden]{display:none!important}
@media (max-width:700px){
  body{padding:8px}
  .matrix .c-title,.matrix .c-lvl,.matrix .c-scored,.matrix .c-failing{display:none}
  .matrix .c-id{min-width:3.2em;width:3.2em}
  .matrix .c-all{left:3.2em;min-width:5.5em}
  .score .big{font-size:28px}
}
@media print{
  @page{size:landscape;margin:9mm}
  body{padding:0;font-size:11px}
  #view>input,#view>label,.bar-label,#tools,.skip,.screen-only{display:none!important}
  .print-only{display:block}
  table.print-only{display:table}
  .wrap{overflow:visible;max-height:none;border:0}
  thead{display:table-header-group}
  thead th,.matrix .c-id,.matrix .c-all{position:static}
  tr{break-inside:avoid}
  th,td{font-size:9px;padding:2px 3px}
  .matrix td,.matrix th{white-space:normal}
  table.print-only td,table.print-only th{font-size:8px;padding:1px 2px;white-space:nowrap}
  table.print-only+table.print-only,h2.slices{break-before:page}
  .ev td:not(.id),.list td:not(.id){overflow-wrap:break-word}
  h2{break-after:avoid}
  table{break-inside:auto;width:100%;margin-bottom:8px}
  a{color:inherit;text-decoration:none}
  .print-evidence details.control::details-content{content-visibility:visible;display:block}
  .print-evidence details.control>summary{display:none}
}
"""

SCRIPT = """
(function () {
  var figures = JSON.parse(document.getElementById('figures').textContent);
  var form = document.getElementById('view');
  var search = document.getElementById('search'), account = document.getElementById('account');
  var order = document.getElementById('order');
  document.querySelectorAll('[data-js]').forEach(function (el) { el.hidden = false; });
  var one = document.getElementById('level-1');
  function level() { return one && one.checked ? '1' : 'all'; }
  function visible(el) { return el.offsetParent !== null || el.getClientRects().length > 0; }
  function matches(el, q) { return !q || el.textContent.toLowerCase().indexOf(q) >= 0; }
  function apply() {
    var q = search.value.trim().toLowerCase(), acct = account ? account.value : '';
    // Figures: the organisation's, or the chosen account's, for each level the page shows.
    document.querySelectorAll('[data-view]').forEach(function (view) {
      var set = figures[view.getAttribute('data-view')][acct || ''];
      view.querySelectorAll('[data-fig]').forEach(function (el) {
        var value = set[el.getAttribute('data-fig')];
        el.textContent = value || '';
        el.hidden = !value;
      });
    });
    document.querySelectorAll('[data-account]').forEach(function (el) {
      el.hidden = !!acct && el.getAttribute('data-account') !== acct;
    });
    // Every change first, then every measure: reading layout between changes would lay the whole
    // page out again for each row.
    var matrixRows = document.querySelectorAll('#matrix tbody tr');
    matrixRows.forEach(function (tr) {
      tr.hidden = !!q && !matches(tr.querySelector('.c-title'), q) && !matches(tr.querySelector('.c-id'), q);
    });
    document.querySelectorAll('table.matrix.print-only tbody tr').forEach(function (tr) {
      var twin = document.getElementById('control-' + tr.getAttribute('data-control'));
      tr.hidden = !!(twin && twin.hidden);
    });
    var resourceRows = document.querySelectorAll('#resources tbody tr[data-account]');
    if (q) resourceRows.forEach(function (tr) { if (!tr.hidden) tr.hidden = !matches(tr, q); });
    document.querySelectorAll('details.control').forEach(function (d) {
      var named = !q || matches(d.querySelector('summary'), q), any = named;
      d.querySelectorAll('tbody tr').forEach(function (tr) {
        if (tr.hidden) return;
        if (!named && !matches(tr, q)) tr.hidden = true; else any = true;
      });
      d.hidden = !any;
    });
    var shown = 0, rowsShown = 0;
    matrixRows.forEach(function (tr) { if (visible(tr)) shown += 1; });
    resourceRows.forEach(function (tr) { if (visible(tr)) rowsShown += 1; });
    var total = matrixRows.length, rows = resourceRows.length;
    document.getElementById('shown').textContent = 'Showing ' + shown + ' of ' + total + ' controls, '
      + rowsShown + ' of ' + rows + ' non-compliant resources';
    var hide = [];
    form.querySelectorAll('input[name=verdict]').forEach(function (box) { if (!box.checked) hide.push(box.value); });
    var parts = ['level=' + level()];
    if (hide.length) parts.push('hide=' + hide.map(encodeURIComponent).join(','));
    if (q) parts.push('q=' + encodeURIComponent(q));
    if (acct) parts.push('account=' + acct);
    if (order && sorted) parts.push('order=' + order.value);
    // A page opened from disk may refuse it.
    try { history.replaceState(null, '', '#' + parts.join('&')); } catch (e) { /* kept as it was */ }
  }
  var sorted = false;
  function sortAccounts() {
    sorted = true;
    var byScore = order && order.value === 'score';
    var rank = byScore ? figures.order.score[level()] : figures.order.id;
    document.querySelectorAll('#matrix tr').forEach(function (tr) {
      var cells = {};
      tr.querySelectorAll('[data-account]').forEach(function (c) { cells[c.getAttribute('data-account')] = c; });
      rank.forEach(function (a) { if (cells[a]) tr.appendChild(cells[a]); });
    });
    var body = document.querySelector('#accounts tbody');
    if (body) {
      var rows = {};
      body.querySelectorAll('tr').forEach(function (tr) { rows[tr.getAttribute('data-account')] = tr; });
      rank.forEach(function (a) { if (rows[a]) body.appendChild(rows[a]); });
    }
  }
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    var details = target && target.closest('details');
    if (details) { details.open = true; target.scrollIntoView(); }
  }
  var wanted = new URLSearchParams(location.hash.slice(1));
  if (wanted.get('level') === '1' && one) one.checked = true;
  (wanted.get('hide') || '').split(',').forEach(function (value) {
    form.querySelectorAll('input[name=verdict]').forEach(function (box) {
      if (box.value === decodeURIComponent(value)) box.checked = false;
    });
  });
  if (wanted.get('q')) search.value = wanted.get('q');
  if (account && wanted.get('account')) account.value = wanted.get('account');
  if (order && wanted.get('order')) order.value = wanted.get('order') === 'score' ? 'score' : 'id';
  form.addEventListener('change', function (event) {
    if (event.target === order || (sorted && event.target.name === 'level')) sortAccounts();
    apply();
  });
  search.addEventListener('input', apply);
  document.querySelectorAll('[data-sort]').forEach(function (button) {
    button.addEventListener('click', function () {
      order.value = button.getAttribute('data-sort'); sortAccounts(); apply();
    });
  });
  document.getElementById('expand').addEventListener('click', function () {
    var open = this.getAttribute('aria-pressed') !== 'true';
    document.querySelectorAll('details.control').forEach(function (d) { d.open = open; });
    this.setAttribute('aria-pressed', open ? 'true' : 'false');
  });
  window.addEventListener('hashchange', openTarget);
  if (wanted.get('order')) sortAccounts();
  apply();
  openTarget();
  document.body.setAttribute('data-ready', 'yes');
})();
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _slug(verdict: Verdict) -> str:
    return verdict.value.replace(" ", "-")


def _cell_text(verdict: Verdict, non_compliant: int) -> str:
    label = LABELS[verdict]
    return f"{label} {non_compliant}" if verdict == Verdict.NON_COMPLIANT and non_compliant else label


def _status(card: Scorecard, scored: bool) -> str:
    """Scored / Not Scored (v1.2.0), Automated / Manual (later versions)."""
    return status_words(card.benchmark)[0 if scored else 1]


def _figures(card: Scorecard, account: str | None, rows: list[Row] | None = None) -> dict[str, str]:
    """Every figure of the summary, for the whole scorecard or one of its accounts (``rows``: that
    account's evaluations)."""
    score = card.score_for(account=account)
    scored = card.score_for(account=account, scored_only=True)
    figures = {
        "score": score.text(),
        "sentence": score_line(score),
        "scored": scored_line(card)
        if account is None
        else f"{status_words(card.benchmark)[0]}-only score {scored.text()}.",
        "spread": account_spread(card) if account is None else "",
        "scope": "Figures for the organisation." if account is None and len(card.accounts) > 1 else "",
        "subtitle": subtitle(card) if account is None else "",
    }
    if account is not None:
        figures["scope"] = f"Figures for account {account} only."
        rows = rows or []
        resources = {(r.region, r.resource_type, r.resource_id) for r in rows}
        failing = {(r.region, r.resource_type, r.resource_id) for r in rows if r.compliance == "NON_COMPLIANT"}
        figures["subtitle"] = (
            f"Account {account}; {len(card.controls)} controls; {len(resources)} evaluated resources, "
            f"{len(failing)} non-compliant."
        )
    for verdict in Verdict:
        figures[f"count-{_slug(verdict)}"] = f"{_name(verdict)}: {score.counts[verdict]}"
    return figures


def _views(card: Scorecard) -> list[Scorecard]:
    """The views the level filter switches between: the whole scorecard, and Level 1 within Level 2."""
    return [card] + ([card.at_level(1)] if card.level == 2 else [])


def _view_key(view: Scorecard, card: Scorecard) -> str:
    return "1" if view.level == 1 and card.level == 2 else "all"


def _summary(card: Scorecard) -> str:
    blocks = []
    for view in _views(card):
        fig = _figures(view, None)
        counts = "".join(
            f'<li class="{CSS_CLASS[v]}" data-fig="count-{_slug(v)}">{_e(fig["count-" + _slug(v)])}</li>'
            for v in Verdict
        )
        css = _view_class(view, card)
        blocks.append(
            f'<section class="summary {css}" data-view="{_view_key(view, card)}" '
            f'aria-label="Score, {_e(_level_name(view))}">'
            f'<div class="score"><p><span class="big" data-fig="score">{_e(fig["score"])}</span>'
            f"of judged controls passed (Security Hub-style: passed / (passed + failed)).</p>"
            f'<p data-fig="sentence">{_e(fig["sentence"])}</p>'
            f'<p data-fig="scored">{_e(fig["scored"])}</p>'
            f'<p data-fig="spread"{"" if fig["spread"] else " hidden"}>{_e(fig["spread"])}</p>'
            f'<p data-fig="subtitle" class="subtitle">{_e(fig["subtitle"])}</p>'
            f'<p data-fig="scope"{"" if fig["scope"] else " hidden"}>{_e(fig["scope"])}</p></div>'
            f'<ul class="counts" aria-label="Controls by verdict">{counts}</ul></section>'
        )
    return "\n".join(blocks)


def _view_class(view: Scorecard, card: Scorecard) -> str:
    return "view-1" if _view_key(view, card) == "1" else "view-2"


def _level_name(view: Scorecard) -> str:
    return "Level 1" if view.level == 1 else "Level 1 and 2"


def _filters(card: Scorecard) -> str:
    """The level and verdict switches: inputs placed before the content they filter (siblings of
    ``.rest``), so that style sheets alone apply them, without JavaScript; and the script's tools."""
    bar = ['<span class="bar-label" id="level-label">Level</span>']
    bar.append('<input type="radio" name="level" id="level-all" value="all" checked aria-describedby="level-label">')
    bar.append(f'<label for="level-all">{"Level 1 and 2" if card.level == 2 else "Level 1"}</label>')
    if card.level == 2:
        bar.append('<input type="radio" name="level" id="level-1" value="1" aria-describedby="level-label">')
        bar.append('<label for="level-1">Level 1 only</label>')
    bar.append('<span class="bar-label" id="verdict-label">Show</span>')
    for v in Verdict:
        bar.append(
            f'<input type="checkbox" name="verdict" id="show-{_slug(v)}" value="{_e(v.value)}" checked '
            'aria-describedby="verdict-label">'
            f'<label for="show-{_slug(v)}" class="{CSS_CLASS[v]}">{_e(_name(v))}</label>'
        )
    accounts = ""
    if len(card.accounts) > 1:
        options = "".join(f'<option value="{_e(a)}">{_e(a)}</option>' for a in card.accounts)
        accounts = (
            '<label>Account <select id="account"><option value="">every account</option>'
            f"{options}</select></label>"
            '<label>Order accounts <select id="order"><option value="id">by ID</option>'
            '<option value="score">by score, lowest first</option></select></label>'
        )
    tools = (
        '<div id="tools" data-js hidden><label>Search control, account, resource or annotation '
        '<input type="search" id="search"></label>'
        f"{accounts}"
        '<button type="button" id="expand" aria-pressed="false">Open every control</button>'
        '<output id="shown"></output></div>'
        "<noscript><p>Search, the account filter and sorting need JavaScript; the level and verdict switches "
        "and everything else work without it.</p></noscript>"
    )
    return "".join(bar) + tools


def _account_head(card: Scorecard, account: str, views: list[Scorecard]) -> str:
    scores = "".join(
        f'<span class="{_view_class(v, card)}">{_e(v.account_score(account).text())}</span>' for v in views
    )
    return f'<th class="acct" scope="col" data-account="{_e(account)}">{_e(account)}<small>{scores}</small></th>'


def _matrix(card: Scorecard) -> str:
    views = _views(card)
    org = len(card.accounts) > 1
    head = [
        '<th class="c-id" scope="col">Control</th>',
        '<th class="c-all" scope="col">All accounts</th>',
        '<th class="c-title" scope="col">Title</th>',
        '<th class="c-lvl" scope="col">Level</th>',
        '<th class="c-scored" scope="col">CIS status</th>',
    ]
    if org:
        head.append('<th class="c-failing" scope="col">Failing in</th>')
    head += [_account_head(card, a, views) for a in card.accounts]
    rows = []
    for result in card.controls:
        control = result.control
        cells = [
            f'<th class="c-id" scope="row"><a href="#evidence-{_e(control.id)}">{_e(control.id)}</a></th>',
            f'<td class="c-all {CSS_CLASS[result.verdict]}">{_e(_cell_text(result.verdict, result.non_compliant))}'
            "</td>",
            f'<td class="c-title">{_e(control.title)}</td>',
            f'<td class="c-lvl">{control.level}</td>',
            f'<td class="c-scored">{_status(card, control.scored)}</td>',
        ]
        if org:
            cells.append(f'<td class="c-failing">{card.failing_accounts(result)} of {len(card.accounts)} accounts</td>')
        for account in card.accounts:
            cell = result.cells[account]
            cells.append(
                f'<td class="{CSS_CLASS[cell.verdict]}" data-account="{_e(account)}">'
                f"{_e(_cell_text(cell.verdict, cell.non_compliant))}</td>"
            )
        rows.append(
            f'<tr class="lv-{control.level}" data-verdict="{_e(result.verdict.value)}" id="control-{_e(control.id)}">'
            + "".join(cells)
            + "</tr>"
        )
    many = len(card.accounts) > PRINT_COLUMNS
    caption = (
        f"Every control in {'each of ' if org else ''}{len(card.accounts)} account{'s' if org else ''}: the verdict "
        "in words (colour only helps); account headers carry each account's score."
    )
    screen = (
        f'<div class="wrap{" screen-only" if many else ""}" tabindex="0" role="region" aria-labelledby="matrix-title">'
        f'<table id="matrix" class="matrix"><caption>{_e(caption)}</caption><thead><tr>'
        + "".join(head)
        + "</tr></thead><tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )
    return screen + (_print_slices(card) if many else "")


def _print_slices(card: Scorecard) -> str:
    """The matrix for paper: every control, :data:`PRINT_COLUMNS` accounts at a time."""
    views = _views(card)
    tables = []
    total = len(card.accounts)
    for start in range(0, total, PRINT_COLUMNS):
        accounts = card.accounts[start : start + PRINT_COLUMNS]
        head = '<th class="c-id" scope="col">Control</th><th class="c-all" scope="col">All accounts</th>' + "".join(
            _account_head(card, a, views) for a in accounts
        )
        body = "\n".join(
            f'<tr class="lv-{r.control.level}" data-verdict="{_e(r.verdict.value)}" data-control="{_e(r.control.id)}">'
            f'<th class="c-id" scope="row">{_e(r.control.id)}</th>'
            f'<td class="c-all {CSS_CLASS[r.verdict]}">{_e(_cell_text(r.verdict, r.non_compliant))}</td>'
            + "".join(
                f'<td class="{CSS_CLASS[r.cells[a].verdict]}" data-account="{_e(a)}">'
                f"{_e(_cell_text(r.cells[a].verdict, r.cells[a].non_compliant))}</td>"
                for a in accounts
            )
            + "</tr>"
            for r in card.controls
        )
        tables.append(
            '<table class="matrix print-only">'
            f"<caption>Controls \u00d7 accounts {start + 1}\u2013{start + len(accounts)} of "
            f"{total}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
    return "\n".join(tables)


def _breakable(name: str) -> str:
    """A rule name or resource type that may wrap after its underscores and colons, not inside words."""
    return _e(name).replace("_", "_<wbr>").replace("::", "::<wbr>")


def _link(url: str, text: str) -> str:
    return f'<a href="{_e(url)}">{_e(text)}</a>'


def _accounts_table(card: Scorecard) -> str:
    """Every account with its score for each level, lowest first (the script re-sorts on demand)."""
    views = _views(card)
    head = ['<th scope="col">Account</th>']
    for v in views:
        css = _view_class(v, card)
        head.append(
            f'<th scope="col" class="{css}"><button type="button" data-sort="score">Score</button> '
            f"({_e(_level_name(v))})</th>"
        )
    head += [
        f'<th scope="col">{status_words(card.benchmark)[0]}-only</th>',
        '<th scope="col">Passed</th>',
        '<th scope="col">Failed</th>',
        '<th scope="col">No data</th>',
    ]
    head[0] = '<th scope="col"><button type="button" data-sort="id">Account</button></th>'
    rows = []
    for account, score in card.ranking():
        cells = [f'<th scope="row" id="account-{_e(account)}">{_e(account)}</th>']
        for v in views:
            css = _view_class(v, card)
            cells.append(f'<td class="{css}">{_e(v.account_score(account).text())}</td>')
        cells += [
            f"<td>{_e(card.score_for(account=account, scored_only=True).text())}</td>",
            f"<td>{score.passed}</td><td>{score.failed}</td><td>{score.counts[Verdict.NO_DATA]}</td>",
        ]
        rows.append(f'<tr data-account="{_e(account)}">' + "".join(cells) + "</tr>")
    body = "\n".join(rows)
    return (
        '<h2 id="accounts-title">Accounts</h2>'
        '<div class="wrap list" tabindex="0" role="region" aria-labelledby="accounts-title">'
        '<table id="accounts"><caption>Every account\'s score, lowest first (the Score and Account buttons sort '
        "this table and the matrix's columns)</caption>"
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>\n{body}\n</tbody></table></div>"
    )


def _worst(card: Scorecard) -> str:
    """The ten lowest account scores, for each level the page shows."""
    worst = []
    for view in _views(card):
        css = _view_class(view, card)
        items = "".join(
            f'<li><a href="#account-{_e(a)}">{_e(a)}</a> {_e(s.text())}</li>' for a, s in view.ranking()[:10]
        )
        worst.append(f'<ol class="{css}" aria-label="Lowest account scores, {_e(_level_name(view))}">{items}</ol>')
    return '<div class="worst"><h2 id="worst-title">Lowest account scores</h2>' + "".join(worst) + "</div>"


def _resource_link(row: Row) -> str:
    return _link(resource_url(row.region, row.resource_type, row.resource_id, row.rule), row.resource_id)


def _resources(card: Scorecard) -> str:
    """Non-compliant resources, one line per resource and rule with every control it fails."""
    grouped: dict[tuple[str, str, str, str, str], list[Row]] = {}
    for row in card.rows:
        if row.compliance == "NON_COMPLIANT":
            grouped.setdefault((row.account, row.region, row.rule, row.resource_type, row.resource_id), []).append(row)
    levels = {c.control.id: c.control.level for c in card.controls}
    lines = []
    for (account, region, rule, resource_type, _), rows in grouped.items():
        controls = ", ".join(f'<a href="#evidence-{_e(r.control)}">{_e(r.control)}</a>' for r in rows)
        level = min(levels[r.control] for r in rows)
        lines.append(
            f'<tr class="lv-{level}" data-account="{_e(account)}"><td class="id">{_e(account)}</td>'
            f'<td class="id">{_e(region)}</td><td>{controls}</td><td>{_breakable(rule)}</td>'
            f"<td>{_breakable(resource_type)}</td>"
            f'<td class="id">{_resource_link(rows[0])}</td><td>{_e(rows[0].annotation)}</td>'
            f'<td class="id">{_e(_time(rows[0].time))}</td></tr>'
        )
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("Account", "Region", "Controls", "Rule", "Resource type", "Resource ID", "Annotation", "Evaluated")
    )
    body = "\n".join(lines) or '<tr><td colspan="8">No non-compliant resource.</td></tr>'
    return (
        f'<h2 id="resources-title">Non-compliant resources ({len(lines)})</h2>'
        '<div class="wrap list" tabindex="0" role="region" aria-labelledby="resources-title">'
        '<table id="resources"><caption>Each non-compliant resource with the controls it fails, its annotation and '
        "a link to it in the AWS console</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>"
    )


def _errors(card: Scorecard) -> str:
    lines = [
        f'<tr class="lv-{r.control.level}" data-account="{_e(account)}"><td>{_e(r.control.id)}</td>'
        f"<td>{_e(account)}</td><td>{_e(cell.reason)}</td></tr>"
        for r in card.controls
        for account, cell in r.cells.items()
        if cell.verdict == Verdict.ERROR
    ]
    body = "\n".join(lines) or '<tr><td colspan="3">No rule in error.</td></tr>'
    return (
        f'<h2 id="errors-title">Rules in error ({len(lines)})</h2>'
        '<div class="wrap list" tabindex="0" role="region" aria-labelledby="errors-title">'
        '<table id="errors"><caption>Controls whose rule is in error, per account, with the reason</caption>'
        '<thead><tr><th scope="col">Control</th><th scope="col">Account</th><th scope="col">Why</th></tr></thead>'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _control_facts(card: Scorecard, result: ControlResult, rows: list[Row]) -> str:
    control = result.control
    region = rows[0].region if rows else (card.rows[0].region if card.rows else None)
    # The later versions' packs carry no remediation: the Remediate actions are the v1.2.0 pack's.
    remediation = remediation_of(control.id) if card.benchmark == V120 else None
    if remediation:
        fix = (
            f"{_e(remediation.changes)} ({_e(remediation.mode)}; runbook {_e(remediation.runbook.document)}; "
            f"in AWS Config, the rule's Remediate action)."
        )
    elif card.benchmark != V120:
        fix = "None in this version's pack: the Remediate actions are the v1.2.0 pack's (docs/remediation.md)."
    else:
        fix = "No remediation action: it needs a person's decision (docs/remediation.md of the pack)."
    links = " · ".join(
        _link(link.url, link.text)
        for link in control_links(control.id, result.rules, region, with_runbook=card.benchmark == V120)
    )
    facts = [
        ("Profile", f"Level {control.level}"),
        (
            "CIS status",
            _status(card, control.scored)
            + ("" if control.scored else f" (left out of the {status_words(card.benchmark)[0].lower()}-only score)"),
        ),
        ("Rules", _e(", ".join(result.rules) or "none")),
        ("Verdict", f"{_e(result.verdict.value)}: {_e(result.reason)}"),
        ("Remediation", fix),
    ]
    if len(card.accounts) > 1:
        facts.insert(3, ("Failing in", f"{card.failing_accounts(result)} of {len(card.accounts)} accounts"))
    if links:
        facts.append(("Links", links))
    return "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def _evidence(card: Scorecard) -> str:
    by_control: dict[str, list[Row]] = {}
    for row in card.rows:
        by_control.setdefault(row.control, []).append(row)
    sections = []
    for result in card.controls:
        control = result.control
        rows = by_control.get(control.id, [])
        by_account: dict[str, list[Row]] = {}
        for row in rows:
            by_account.setdefault(row.account, []).append(row)
        lines = []
        # Failing accounts first, then the others, each with every resource and its annotation.
        order = sorted(card.accounts, key=lambda a: (result.cells[a].verdict not in FAILED, a))
        for account in order:
            cell = result.cells[account]
            evaluated = by_account.get(account, [])

            def head(span: int, cell: Cell = cell, account: str = account) -> str:
                return (
                    f'<th scope="row" rowspan="{span}" class="acct {CSS_CLASS[cell.verdict]}">{_e(account)}<br>'
                    f"{_e(_cell_text(cell.verdict, cell.non_compliant))}</th>"
                    f'<td rowspan="{span}">{_e(cell.reason)}</td>'
                )

            if not evaluated:
                lines.append(
                    f'<tr data-account="{_e(account)}">{head(1)}<td colspan="4">No resource evaluated.</td></tr>'
                )
                continue
            # Each non-compliant or annotated resource on a line of its own; resources that pass
            # without a word from the rule, listed together.
            lines_of_account = []
            quiet: dict[tuple[str, str], list[str]] = {}
            for row in evaluated:
                verdict = EVALUATION.get(row.compliance, Verdict.NO_DATA)
                if verdict != Verdict.NON_COMPLIANT and not row.annotation:
                    quiet.setdefault((row.region, LABELS[verdict]), []).append(row.resource_id)
                    continue
                lines_of_account.append(
                    f'<td class="id">{_e(row.region)}</td><td>{_e(row.resource_type)} {_resource_link(row)}</td>'
                    f'<td class="{CSS_CLASS[verdict]}">{_e(LABELS[verdict])}: '
                    f"{_e(row.annotation or 'no annotation')}</td>"
                    f'<td class="id">{_e(_time(row.time))}</td>'
                )
            for (region, label), ids in quiet.items():
                lines_of_account.append(
                    f"<td>{_e(region)}</td><td>{_e(', '.join(ids))}</td><td>{_e(label)}: no annotation</td><td></td>"
                )
            first_cells = head(len(lines_of_account))
            for n, line in enumerate(lines_of_account):
                lines.append(f'<tr data-account="{_e(account)}">{first_cells if n == 0 else ""}{line}</tr>')
        org = len(card.accounts) > 1
        failing = f", failing in {card.failing_accounts(result)} of {len(card.accounts)} accounts" if org else ""
        status = _status(card, control.scored)
        sections.append(
            f'<details class="control lv-{control.level}" data-verdict="{_e(result.verdict.value)}">'
            f"<summary>{_e(control.id)} {_e(control.title)}: "
            f"<strong>{_e(_cell_text(result.verdict, result.non_compliant))}"
            f"</strong> ({_e(result.verdict.value)}{failing}; Level {control.level}, {status})</summary>"
            f'<h3 id="evidence-{_e(control.id)}">{_e(control.id)} {_e(control.title)}</h3>'
            + _control_facts(card, result, rows)
            + '<table class="ev"><caption>Accounts and resources for '
            f"{_e(control.id)}: each account's verdict and reason, every evaluated resource with its annotation"
            '</caption><thead><tr><th scope="col">Account</th><th scope="col">Reason</th>'
            '<th scope="col">Region</th><th scope="col">Resource</th><th scope="col">Evaluation and annotation</th>'
            '<th scope="col">Evaluated</th></tr></thead><tbody>' + "".join(lines) + "</tbody></table></details>"
        )
    return (
        '<h2 id="evidence-title">Evidence by control</h2>'
        '<p class="legend">Open a control for its accounts and every evaluated resource, passing ones included, '
        "with AWS Config's annotation, links to the resource in the AWS console and to the remediation.</p>"
        + "\n".join(sections)
    )


def _figures_json(card: Scorecard) -> str:
    table: dict[str, Any] = {}
    for view in _views(card):
        scopes: dict[str, dict[str, str]] = {"": _figures(view, None)}
        if len(card.accounts) > 1:
            by_account: dict[str, list[Row]] = {}
            for row in view.rows:
                by_account.setdefault(row.account, []).append(row)
            scopes.update({a: _figures(view, a, by_account.get(a)) for a in card.accounts})
        table[_view_key(view, card)] = scopes
    table["order"] = {
        "id": list(card.accounts),
        "score": {_view_key(v, card): [a for a, _ in v.ranking()] for v in _views(card)},
    }
    # "</" never closes the script element early: JSON allows "<\/".
    return json.dumps(table, separators=(",", ":")).replace("</", "<\\/")


def to_html(card: Scorecard) -> str:
    notes = "".join(f"<li>{_e(n)}</li>" for n in card.notes)
    org = len(card.accounts) > 1
    body_class = ' class="print-evidence"' if len(card.accounts) <= PRINT_EVIDENCE_ACCOUNTS else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CIS {version_label(card.benchmark)} scorecard: {_e(card.source)}</title>
<style>{STYLE}</style></head>
<body{body_class}>
<a class="skip" href="#matrix-title">Skip to the control matrix</a>
<header><h1>{_e(title(card.benchmark))}: scorecard</h1>
<p class="source">{_e(card.source)}; read {card.read_at:%Y-%m-%d %H:%M} UTC.</p></header>
<main id="view">
{_filters(card)}
<div class="rest">
<div class="top">{_summary(card)}{_worst(card) if org else ""}</div>
<h2 id="matrix-title"{' class="slices"' if len(card.accounts) > PRINT_COLUMNS else ""}>Controls \u00d7 accounts</h2>
{_matrix(card)}
<p class="legend">PASS compliant, FAIL non-compliant (with the number of non-compliant resources), ERROR a rule in
error, NO DATA no evaluation or no rule deployed, REVIEW process check awaiting a reviewer, N/A not applicable.
A control's link opens its evidence.</p>
{_accounts_table(card) if org else ""}
{_resources(card)}
{_errors(card)}
{_evidence(card)}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</div>
</main>
<script type="application/json" id="figures">{_figures_json(card)}</script>
<script>{SCRIPT}</script>
</body></html>
"""
