"""Size and time of the scorecard's HTML page and PDF for the built-in samples (1, 12 and 200
accounts).

Run: ``.venv/bin/python benchmarks/scorecard_scale.py`` (a script that prints figures, not a test).
It prints, per sample: evaluated rows, the seconds to decide the scorecard and to write the HTML,
the page's size, and, when Chromium is installed, the seconds headless Chromium takes to print it
and the PDF's pages. Wall-clock times: on a shared or busy machine they grow with its load.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cispack.report.export import PdfError, to_pdf
from cispack.report.model import scorecard
from cispack.report.page import to_html
from cispack.report.samples import sample


def main() -> None:
    print(f"{'accounts':>8} {'rows':>7} {'decide s':>9} {'html s':>7} {'html MB':>8} {'pdf s':>7} {'pages':>6}")
    for accounts in (1, 12, 200):
        compliance = sample(accounts)
        started = time.perf_counter()
        card = scorecard(compliance)
        decided = time.perf_counter() - started
        started = time.perf_counter()
        page = to_html(card)
        written = time.perf_counter() - started
        pdf_seconds, pages = "-", "-"
        try:
            started = time.perf_counter()
            body = to_pdf(card)
            pdf_seconds = f"{time.perf_counter() - started:.1f}"
            out = Path(f"/tmp/scorecard-{accounts}.pdf")
            out.write_bytes(body)
            info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=False).stdout
            pages = next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")
        except PdfError as missing:
            print(f"(no PDF: {missing})")
        print(
            f"{accounts:>8} {len(card.rows):>7} {decided:>9.2f} {written:>7.2f} {len(page.encode()) / 1e6:>8.2f} "
            f"{pdf_seconds:>7} {pages:>6}"
        )


if __name__ == "__main__":
    main()
