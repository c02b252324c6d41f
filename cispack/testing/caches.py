"""Forgetting what the rules' modules remember between calls (parses, automata, coverage decisions)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from types import ModuleType


def forget_remembered_answers(modules: Iterable[ModuleType] | None = None) -> int:
    """Empty every cache of ``modules`` (default: every loaded ``cis_*`` module of the pack): each
    ``functools`` cache and the module's own ``clear_caches()``; returns how many were emptied.

    For a cold start: a benchmark that measures cold decisions, a test whose answer must not come
    from another test, and every test under mutmut, which runs a mutant's tests in a process
    forked from the one that ran the clean suite (tests/conftest.py), so a parse or a decision
    remembered there would hand the mutated code the original's answer."""
    chosen = (
        list(modules)
        if modules is not None
        else [m for name, m in list(sys.modules.items()) if name.startswith("cis_") and m is not None]
    )
    emptied = 0
    for module in chosen:
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
                emptied += 1
        clear = vars(module).get("clear_caches")
        if callable(clear):
            clear()
            emptied += 1
    return emptied
