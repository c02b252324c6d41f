"""What the commands print besides their result: a line per slow step (on standard error, so the
machine output on standard output stays clean) and short human summaries."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def step(text: str, stream: TextIO | None = None) -> Iterator[None]:
    """``text ...`` when a slow step starts, ``text: done in N s`` when it ends."""
    out = stream or sys.stderr
    started = time.perf_counter()
    print(f"{text} ...", file=out, flush=True)
    yield
    print(f"{text}: done in {time.perf_counter() - started:.0f} s", file=out, flush=True)


def shown_count(n: int, one: str, many: str | None = None) -> str:
    """``1 account``, ``3 accounts``."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


# What `rdk test-local` prints that says nothing about the result: its own "Debug!" lines, the repr
# of the unittest suite, where it looks, and one line per passing test (verbose unittest).
RDK_NOISE = re.compile(
    r"^(Debug!.*|<unittest\..*|Looking for tests in .*|Running local test!|\w+_test\.py|test_\w+ \(.*\)|.* \.\.\. ok)$"
)


def rdk_test_summary(text: str) -> list[str]:
    """``rdk test-local`` output without its noise: each rule tested, every failure and error
    with its traceback, and unittest's totals."""
    kept = [line for line in text.splitlines() if not RDK_NOISE.match(line)]
    # Blank lines left where noise was cut, collapsed to one.
    return [line for i, line in enumerate(kept) if line.strip() or (i and kept[i - 1].strip())]
