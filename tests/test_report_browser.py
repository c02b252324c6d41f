"""The scorecard page in a real headless Chromium (Debian's package): screenshots at 1366 and 400
pixels, the Level 1 view's figures against ``./pack report --level 1``, verdicts in view and no
sideways page scroll at 360 pixels, axe-core's WCAG 2.1 A/AA check (contrast, names, keyboard
reach of scrolling boxes), the page with JavaScript off (its CSS level switch), and print to PDF of
the demo's scorecard and of the 200-account sample with every control and account counted in the
PDF's text. ``./pack test`` installs what these need; elsewhere they skip, saying what is missing
(in CI they fail)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from cispack.catalog.recommendations import CONTROLS
from cispack.cli.main import main
from cispack.report.export import sha256
from cispack.report.model import Verdict, scorecard
from cispack.report.page import PRINT_COLUMNS, to_html
from cispack.report.render import from_json
from cispack.report.samples import sample
from cispack.testing import browser
from cispack.testing.browser import Browser, pdf_pages, pdf_text

DEMO = Path(__file__).parent / "data" / "demo-scorecard.json"
#: Set to a folder to keep the screenshots and PDFs for a person to look at (docs/ holds the ones judged).
KEEP = os.environ.get("SCORECARD_PICTURES")


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    lacking = browser.missing()
    if lacking:
        if os.environ.get("CI"):
            pytest.fail(lacking)
        pytest.skip(lacking)
    return Browser(tmp_path_factory.mktemp("chromium"))


@pytest.fixture(scope="module")
def twelve():
    return scorecard(sample(12))


def keep(path: Path) -> None:
    if KEEP:
        Path(KEEP).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(KEEP) / path.name)


def write(tmp_path: Path, name: str, html: str) -> Path:
    page = tmp_path / name
    page.write_text(html, encoding="utf-8")
    return page


def cli(capsys, *argv: str) -> str:
    assert main(["report", *argv]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("width", [1366, 400])
def test_screenshot(chrome, twelve, tmp_path, width):
    page = write(tmp_path, "scorecard.html", to_html(twelve))
    shot = tmp_path / f"scorecard-{width}.png"
    chrome.screenshot(page, shot, width, height=900 if width > 1000 else 1700)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep(shot)


PROBE = """
function shown(el) { return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length); }
var figures = {};
document.querySelectorAll('[data-fig]').forEach(function (el) {
  if (shown(el)) figures[el.getAttribute('data-fig')] = el.textContent;
});
var heads = {};
document.querySelectorAll('#matrix th.acct').forEach(function (th) {
  var spans = Array.prototype.filter.call(th.querySelectorAll('small span'), shown);
  heads[th.getAttribute('data-account')] = spans.map(function (s) { return s.textContent; });
});
var rows = Array.prototype.filter.call(document.querySelectorAll('#matrix tbody tr'), shown);
var result = {
  figures: figures, heads: heads, rows: rows.map(function (tr) { return tr.id; }),
  unlabelled: Array.prototype.filter.call(document.querySelectorAll('table'), function (t) {
    return !t.querySelector('caption') || !t.querySelector('caption').textContent.trim();
  }).length
};
// The account filter: that account's figures and column only; the search: matching resources only.
var account = document.getElementById('account'), search = document.getElementById('search');
account.value = ACCOUNT;
account.dispatchEvent(new Event('change', {bubbles: true}));
function figure(name) {
  return Array.prototype.filter.call(document.querySelectorAll('[data-fig="' + name + '"]'), shown)[0].textContent;
}
result.account = {score: figure('score'), scope: figure('scope'),
  cells: Array.prototype.filter.call(document.querySelectorAll('#matrix td[data-account]'), shown).length};
account.value = '';
search.value = RESOURCE;
search.dispatchEvent(new Event('input', {bubbles: true}));
result.search = Array.prototype.filter.call(document.querySelectorAll('#resources tbody tr'), shown).map(function (tr) {
  return tr.cells[5].textContent;
});
search.value = '';
search.dispatchEvent(new Event('input', {bubbles: true}));
// The same page in a frame 360 pixels wide (Chromium's window is at least 500): no sideways
// scroll, and the first control's verdicts in view.
var frame = document.createElement('iframe');
frame.style.cssText = 'width:360px;height:800px;border:0';
var narrow = new Promise(function (done) {
  frame.onload = function () {
    try {
    var doc = frame.contentDocument, win = frame.contentWindow;
    var first = doc.querySelector('#matrix tbody tr');
    var all = first.querySelector('.c-all').getBoundingClientRect();
    var cell = first.querySelector('td[data-account]').getBoundingClientRect();
    done({width: win.innerWidth, pageWidth: doc.documentElement.scrollWidth,
          verdictInView: all.left >= 0 && all.right <= win.innerWidth,
          cellInView: cell.left >= 0 && cell.right <= win.innerWidth});
    } catch (error) { done({error: String(error)}); }
  };
});
frame.srcdoc = PAGE;
document.body.appendChild(frame);
return narrow.then(function (geometry) {
  result.narrow = geometry;
  frame.remove();
  return axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
}).then(function (report) {
  result.violations = report.violations.map(function (v) {
    return v.id + ': ' + v.nodes.length + ' (' + v.nodes[0].target.join(' ') + ')';
  });
  return result;
});
"""


def test_level_1_view_says_what_the_command_prints_and_passes_axe_at_360px(chrome, twelve, tmp_path, capsys):
    html = to_html(twelve)
    page = write(tmp_path, "scorecard.html", html)
    worst, _ = twelve.at_level(1).ranking()[0]
    failing = next(
        r for r in twelve.at_level(1).rows if r.compliance == "NON_COMPLIANT" and r.resource_type != "AWS::::Account"
    )
    probe = (
        f"var PAGE = {json.dumps(html).replace('</', '<\\/')}; var ACCOUNT = {json.dumps(worst)}; "
        f"var RESOURCE = {json.dumps(failing.resource_id)};" + PROBE
    )
    got = chrome.probe(page, probe, "#level=1", axe=True)
    printed = cli(capsys, "--sample", "12", "--level", "1").splitlines()
    level1 = twelve.at_level(1)
    figures = got["figures"]
    assert figures["score"] == level1.score.text()
    # Every sentence of the summary is the command's line, word for word.
    for key, start in (
        ("sentence", "Score "),
        ("scored", "Scored-only"),
        ("spread", "Account scores"),
        ("subtitle", "Profile"),
    ):
        assert figures[key] in printed, (key, figures[key])
        assert figures[key].startswith(start)
    for verdict in Verdict:
        assert figures[f"count-{verdict.value.replace(' ', '-')}"].endswith(f": {level1.score.counts[verdict]}")
    lowest = [line.split() for line in printed if re.fullmatch(r"  \d{12}  \d+%", line)]
    assert len(lowest) == 10 and all(got["heads"][account] == [score] for account, score in lowest)
    assert {a: h[0] for a, h in got["heads"].items()} == {a: level1.account_score(a).text() for a in twelve.accounts}
    assert got["rows"] == [f"control-{c.id}" for c in CONTROLS if c.level == 1]
    # At 360 px the page does not scroll sideways and a verdict and an account's cell are in view.
    assert got["narrow"] == {"width": 360, "pageWidth": 360, "verdictInView": True, "cellInView": True}
    assert got["unlabelled"] == 0, "every table has a caption"
    # An account chosen: its own Level 1 figures, its column only.
    assert got["account"] == {
        "score": level1.account_score(worst).text(),
        "scope": f"Figures for account {worst} only.",
        "cells": len(level1.controls),
    }
    assert got["search"] and all(failing.resource_id in shown for shown in got["search"])
    assert got["violations"] == []


def test_without_javascript_the_level_switch_and_every_section_work(chrome, twelve, tmp_path):
    # The level radio button checked by the reader (here in the markup) and the page's script taken
    # out (Chromium does not print with scripts disabled): style sheets alone show the Level 1
    # figures and hide the Level 2 ones.
    html = to_html(twelve).replace('value="all" checked ', 'value="all" ').replace('value="1" ', 'value="1" checked ')
    html, scripts = re.subn(r"<script>.*?</script>", "", html, flags=re.S)
    assert scripts == 1 and "<script>" not in html
    page = write(tmp_path, "scorecard-no-js.html", html)
    pdf = tmp_path / "scorecard-no-js.pdf"
    chrome.pdf(page, pdf)
    words = " ".join(pdf_text(pdf).split())
    level1, every = twelve.at_level(1), twelve
    assert level1.score_for().text() != every.score.text()
    assert f"Score {level1.score.text()}: {level1.score.passed} passed" in words
    assert f"Score {every.score.text()}: {every.score.passed} passed" not in words
    assert "Controls \u00d7 accounts" in words and "Non-compliant resources" in words and "Evidence by control" in words
    assert "Alarm CIS-" in words, "passing evidence is printed"


def test_demo_evidence_pack_prints_every_control(chrome, tmp_path, capsys):
    card = from_json(DEMO.read_text(encoding="utf-8"))
    folder = tmp_path / "pack"
    assert main(["report", "--from", str(DEMO), "--evidence-pack", str(folder)]) == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "SHA256SUMS",
        "manifest.json",
        "scorecard.csv",
        "scorecard.html",
        "scorecard.json",
        "scorecard.pdf",
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    for item in manifest["files"]:
        assert (
            item["sha256"] == sha256(folder / item["name"]) and item["bytes"] == (folder / item["name"]).stat().st_size
        )
    assert f"{sha256(folder / 'manifest.json')}  manifest.json" in (folder / "SHA256SUMS").read_text()
    text = pdf_text(folder / "scorecard.pdf")
    for control in CONTROLS:
        assert re.search(rf"^\s*{re.escape(control.id)}\s", text, re.M), f"{control.id} is not in the PDF"
    assert card.accounts[0] in text
    for row in card.rows:
        assert row.resource_id in text, f"{row.resource_id} is not in the PDF"
    keep(folder / "scorecard.pdf")


def test_200_accounts_print_every_control_and_account(chrome, tmp_path):
    card = scorecard(sample(200))
    page = write(tmp_path, "scorecard-200.html", to_html(card))
    pdf = tmp_path / "scorecard-200.pdf"
    chrome.pdf(page, pdf)
    text = pdf_text(pdf)
    # Each printed slice of the matrix holds every control; every account heads a column of one.
    slices = text.count("Controls \u00d7 accounts ")
    assert slices == -(-200 // PRINT_COLUMNS)
    for control in CONTROLS:
        assert len(re.findall(rf"^\s*{re.escape(control.id)}\s", text, re.M)) >= slices
    for account in card.accounts:
        assert account in text
    failing = {(r.account, r.resource_id) for r in card.rows if r.compliance == "NON_COMPLIANT"}
    assert all(resource in text for _, resource in failing)
    assert pdf_pages(pdf) > slices
    keep(pdf)
