"""The scorecard on paper and as an evidence pack.

PDF: the HTML page printed by headless Chromium (its print style sheet: landscape, repeated table
headers, every control and account). Evidence pack: HTML, PDF, CSV and JSON of one scorecard in
one folder, with ``manifest.json`` (what each file is, its size and SHA-256) and ``SHA256SUMS``
(``sha256sum -c SHA256SUMS`` checks them).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cispack.report.model import Scorecard
from cispack.report.page import to_html
from cispack.report.render import JSON_FORMAT, to_csv, to_json
from cispack.report.versions import title

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_CHROMIUM = (
    "PDF needs Chromium or Google Chrome, and none is installed (Debian: apt-get install chromium; "
    "or set CHROMIUM to its path)."
)
PACK_FILES = (
    ("scorecard.html", "the scorecard page (self-contained; opens offline)"),
    ("scorecard.pdf", "the scorecard page printed (landscape)"),
    ("scorecard.csv", "one row per evaluated resource and control"),
    ("scorecard.json", "the whole scorecard; ./pack report --from renders it again"),
)


class PdfError(RuntimeError):
    """Printing failed; the message is one sentence naming why."""


def find_chromium() -> str | None:
    wanted = os.environ.get("CHROMIUM")
    if wanted:
        return shutil.which(wanted)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def chromium_command(browser: str, profile: Path) -> list[str]:
    """Headless Chromium that stays off the network (a closed network refuses its background calls)."""
    command = [
        browser,
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
    return command


def to_pdf(card: Scorecard, timeout: float = 600) -> bytes:
    """The HTML page printed to PDF by headless Chromium."""
    browser = find_chromium()
    if browser is None:
        raise PdfError(NO_CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="cispack-pdf-") as work:
        folder = Path(work)
        page, pdf = folder / "scorecard.html", folder / "scorecard.pdf"
        page.write_text(to_html(card), encoding="utf-8")
        command = [
            *chromium_command(browser, folder / "profile"),
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not finish printing within {timeout:.0f} seconds.") from None
        except OSError as failed:
            raise PdfError(f"Chromium ({browser}) could not start: {failed.strerror}.") from None
        if done.returncode != 0 or not pdf.is_file() or not pdf.read_bytes().startswith(b"%PDF"):
            raise PdfError(f"Chromium ({browser}) did not print the scorecard (exit status {done.returncode}).")
        return pdf.read_bytes()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_pack(card: Scorecard, folder: Path, now: datetime | None = None) -> list[Path]:
    """HTML, PDF, CSV and JSON of ``card`` in ``folder``, with ``manifest.json`` and ``SHA256SUMS``.
    The PDF is printed first: when it cannot be, nothing is written."""
    pdf = to_pdf(card)
    folder.mkdir(parents=True, exist_ok=True)
    bodies: dict[str, bytes] = {
        "scorecard.html": to_html(card).encode(),
        "scorecard.pdf": pdf,
        "scorecard.csv": to_csv(card).encode(),
        "scorecard.json": to_json(card).encode(),
    }
    written = []
    for name, body in bodies.items():
        (folder / name).write_bytes(body)
        written.append(folder / name)
    manifest = {
        "benchmark": title(card.benchmark),
        "format": JSON_FORMAT,
        "source": card.source,
        "read_at": f"{card.read_at:%Y-%m-%dT%H:%M:%SZ}",
        "written_at": f"{(now or datetime.now(UTC)):%Y-%m-%dT%H:%M:%SZ}",
        "level": card.level,
        "score": card.score.text(),
        "scored_only_score": card.scored_score.text(),
        "accounts": len(card.accounts),
        "files": [
            {
                "name": name,
                "description": what,
                "bytes": (folder / name).stat().st_size,
                "sha256": sha256(folder / name),
            }
            for name, what in PACK_FILES
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    sums = [*PACK_FILES, ("manifest.json", "")]
    (folder / "SHA256SUMS").write_text(
        "".join(f"{sha256(folder / name)}  {name}\n" for name, _ in sums), encoding="utf-8"
    )
    return [*written, folder / "manifest.json", folder / "SHA256SUMS"]
