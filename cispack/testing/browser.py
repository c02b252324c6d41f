"""Headless Chromium for the scorecard's browser tests: screenshots, the DOM after the page's
script ran (with a probe script the test adds), print to PDF, the PDF's text (poppler's
pdftotext) and axe-core's accessibility check. Each helper says what is missing instead of
failing obscurely; ``./pack test`` installs Chromium, poppler-utils and axe-core."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from cispack import ROOT
from cispack.report.export import chromium_command, find_chromium

#: Where ``./pack test`` puts the axe-core npm package.
AXE_JS = ROOT / "build" / "node" / "node_modules" / "axe-core" / "axe.min.js"


def missing() -> str | None:
    """What the browser tests lack, in one sentence; None when everything is there."""
    if find_chromium() is None:
        return "Chromium is not installed (Debian: apt-get install chromium; ./pack test installs it)."
    if shutil.which("pdftotext") is None:
        return "pdftotext is not installed (Debian: apt-get install poppler-utils; ./pack test installs it)."
    if not axe_path().is_file():
        return f"axe-core is not at {axe_path()} (npm install axe-core; ./pack test installs it)."
    return None


def axe_path() -> Path:
    return Path(os.environ.get("AXE_CORE_JS") or AXE_JS)


class Browser:
    def __init__(self, work: Path) -> None:
        browser = find_chromium()
        if browser is None:
            raise RuntimeError("Chromium is not installed.")
        self.browser = browser
        self.work = work

    def run(self, uri: str, *args: str, width: int = 1366, height: int = 900, js: bool = True) -> str:
        command = [*chromium_command(self.browser, self.work / "profile"), f"--window-size={width},{height}"]
        if not js:
            command.append("--blink-settings=scriptEnabled=false")
        done = subprocess.run([*command, *args, uri], capture_output=True, text=True, timeout=180, check=True)
        return done.stdout

    def screenshot(self, page: Path, shot: Path, width: int, height: int = 900, js: bool = True) -> None:
        self.run(page.as_uri(), f"--screenshot={shot}", width=width, height=height, js=js)

    def pdf(self, page: Path, pdf: Path, js: bool = True) -> None:
        self.run(page.as_uri(), "--no-pdf-header-footer", f"--print-to-pdf={pdf}", js=js)

    def probe(self, page: Path, script: str, fragment: str = "", width: int = 1366, axe: bool = False) -> Any:
        """Run ``script`` (a function body returning a JSON-able value, or a promise of one) after
        the page's own script; with ``axe``, axe-core is loaded first. Returns what it returned."""
        body = page.read_text(encoding="utf-8")
        library = f"<script>{axe_path().read_text(encoding='utf-8')}</script>" if axe else ""
        runner = (
            "<script>Promise.resolve().then(function () {" + script + "}).then(null, function (error) {"
            "return {probeError: String(error && error.stack || error)}; }).then(function (value) {"
            "var out = document.createElement('pre'); out.id = 'probe-result';"
            "out.textContent = JSON.stringify(value); document.body.appendChild(out); });</script>"
        )
        probed = page.with_name(page.stem + "-probe.html")
        probed.write_text(body.replace("</body>", library + runner + "</body>"), encoding="utf-8")
        dom = self.run(probed.as_uri() + fragment, "--dump-dom", "--virtual-time-budget=20000", width=width)
        found = re.search(r'<pre id="probe-result">(.*?)</pre>', dom, re.S)
        if not found:
            raise AssertionError("the probe script did not finish")
        value = json.loads(html.unescape(found.group(1)))
        if isinstance(value, dict) and "probeError" in value:
            raise AssertionError(f"the probe script failed: {value['probeError']}")
        return value


def pdf_text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def pdf_pages(pdf: Path) -> int:
    done = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    found = re.search(r"^Pages:\s+(\d+)", done.stdout, re.M)
    return int(found.group(1)) if found else 0
