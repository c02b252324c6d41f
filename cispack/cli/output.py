"""What the commands print besides their result: a line per slow step (on standard error, so the
machine output on standard output stays clean) and short human summaries."""

from __future__ import annotations

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
