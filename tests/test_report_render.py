"""The scorecard's formats: text, JSON, CSV (audit evidence) and the self-contained HTML page,
which a real headless Chromium (Debian's package) opens at 1 and at 200 accounts: its screenshot
is checked for the matrix's cells, and its DOM, after the page's script ran, for the matrix, the
score and the filters."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cispack.report.model import Compliance, Deployment, Evaluation, Verdict, pack_rules, scorecard
from cispack.report.render import CSV_COLUMNS, render, text, to_csv, to_html, to_json

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = (1400, 900)


def sample(accounts: int, seed: int = 13) -> Compliance:
    """A made-up organisation with every verdict: some rules not deployed, some never run, some in
    error, non-compliant resources with annotations, reviewed and unreviewed process checks."""
    rng = random.Random(seed)
    ids = [f"{100000000000 + n * 7919:012d}" for n in range(accounts)]
    # Some rules fail often, most rarely, as in a real organisation.
    failing = {rule: (0.25 if rng.random() < 0.3 else 0.01) for rule in pack_rules()}
    deployments = []
    for number, account in enumerate(ids):
        for rule in pack_rules().values():
            region = "us-east-1"
            deployment = Deployment(account, region, rule.name, rule.name)
            roll = rng.random()
            if rule.kind == "process check":
                if number % 3 == 0:
                    deployment.evaluations.append(
                        Evaluation("AWS::::Account", account, "COMPLIANT", "Reviewed by J. Doe on 2026-11-02.", NOW)
                    )
            elif roll < 0.01:
                continue
            elif roll < 0.02:
                pass  # deployed, never evaluated
            elif roll < 0.03:
                deployment.error = "its last run failed with AccessDenied (not authorized)."
            elif roll < 0.03 + failing[rule.name]:
                for n in range(rng.randint(1, 3)):
                    deployment.evaluations.append(
                        Evaluation(
                            "AWS::EC2::SecurityGroup",
                            f"sg-{account[-4:]}{n:02}",
                            "NON_COMPLIANT",
                            f'Security group sg-{account[-4:]}{n:02} allows 0.0.0.0/0 <to> "port" 22.',
                            NOW - timedelta(hours=3),
                        )
                    )
            elif roll > 0.95:
                deployment.evaluations.append(Evaluation("AWS::::Account", account, "NOT_APPLICABLE", "", NOW))
            else:
                deployment.evaluations.append(Evaluation("AWS::::Account", account, "COMPLIANT", "", NOW))
            deployments.append(deployment)
    return Compliance(f"a sample organisation of {accounts} accounts", ids, deployments, NOW, ["A sample note."])


@pytest.fixture(scope="module")
def one():
    return scorecard(sample(1))


@pytest.fixture(scope="module")
def many():
    return scorecard(sample(200))


def test_text(one, many):
    lines = text(one).splitlines()
    assert lines[0] == "CIS Amazon Web Services Foundations Benchmark v1.2.0: scorecard"
    assert lines[3].startswith(f"Score {one.score.text()}: {one.score.passed} passed of ")
    for result in one.controls:
        assert any(
            line.startswith(f"{result.control.id:<8}{result.control.level:<4}{result.verdict.value}") for line in lines
        )
    assert "Lowest account scores" in text(many) and "Lowest account scores" not in text(one)
    assert "  - A sample note." in lines


def test_json_carries_every_evaluation_and_cell(many):
    document = json.loads(to_json(many))
    assert len(document["evaluations"]) == len(many.rows) > 0
    assert set(document["evaluations"][0]) == set(CSV_COLUMNS)
    assert len(document["accounts"]) == 200 and len(document["account_scores"]) == 200
    control = document["controls"][0]
    assert control["id"] == "1.1" and set(control["accounts"]) == set(many.accounts)
    assert document["score"]["passed"] == many.score.passed


def test_csv_is_one_row_per_evaluated_resource_and_control(one):
    rows = list(csv.reader(io.StringIO(to_csv(one))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == len(one.rows)
    failing = [r for r in rows[1:] if r[6] == "NON_COMPLIANT"]
    assert failing and all(r[7].startswith("Security group sg-") and '"port"' in r[7] for r in failing)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r[8]) for r in rows[1:])


def test_html_is_self_contained_and_escaped(one):
    page = to_html(one)
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=", page)
    assert "<to>" not in page and "&lt;to&gt;" in page
    cells = re.findall(r'<td class="(?:acct|c-all) v-[a-z]+"[^>]*>([^<]*)</td>', page)
    assert len(cells) == 2 * len(one.controls)
    assert all(cell.strip() for cell in cells)  # every cell says its verdict in words


def test_render_refuses_an_unknown_format(one):
    with pytest.raises(ValueError, match="format must be one of"):
        render(one, "pdf")


# The page in a real browser.


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def browse(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def png_pixels(path: Path) -> tuple[int, int, list[bytes], int]:
    """Width, height, unfiltered rows and bytes per pixel of an 8-bit, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows, bpp


def colour_count(rows: list[bytes], bpp: int, rgb: str) -> int:
    wanted = bytes.fromhex(rgb)
    return sum(1 for row in rows for x in range(0, len(row), bpp) if row[x : x + 3] == wanted)


@pytest.mark.parametrize("accounts", [1, 200])
def test_page_in_headless_chromium(accounts, tmp_path):
    card = scorecard(sample(accounts))
    page = tmp_path / "scorecard.html"
    page.write_text(to_html(card), encoding="utf-8")
    shot = tmp_path / "scorecard.png"
    browse(page, tmp_path, f"--screenshot={shot}", page.as_uri())
    width, height, rows, bpp = png_pixels(shot)
    assert (width, height) == WINDOW
    # The matrix is on screen: cells of each colour the sample has, above a few rows' worth each.
    for verdict, rgb in ((Verdict.NON_COMPLIANT, "f4b6b0"), (Verdict.COMPLIANT, "b9e3bd")):
        assert colour_count(rows, bpp, rgb) > 2000, f"no {verdict.value} cells in the screenshot"

    dom = browse(page, tmp_path, "--dump-dom", page.as_uri() + "#level=1&hide=compliant").stdout
    assert 'data-ready="yes"' in dom, "the page's script did not run"
    matrix = dom[dom.index('<table id="matrix">') : dom.index("</table>", dom.index('<table id="matrix">'))]
    assert matrix.count('<th class="acct"') == accounts
    assert matrix.count("<tr data-level=") == 49
    level1 = [r for r in card.controls if r.control.level == 1]
    visible = [r for r in level1 if r.verdict != Verdict.COMPLIANT]
    assert f"Showing {len(visible)} of 49 controls" in dom
    assert len(re.findall(r"<tr data-level=\"\d\"[^>]*hidden", matrix)) == 49 - len(visible)
    big = re.search(r'<span class="big"[^>]*>([^<]*)</span>', dom)
    assert big and big.group(1) == card.score_for(1).text()
    fit = re.search(r'data-overflow="(\w+)"', dom)
    assert fit and fit.group(1) == ("scrolls" if accounts == 200 else "fits")
    page_width = re.search(r'data-page-width="(\d+)"', dom)
    assert page_width and int(page_width.group(1)) <= WINDOW[0], "the page itself must not scroll sideways"
