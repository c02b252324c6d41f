"""Fixtures shared by the cross-cutting tests."""

from __future__ import annotations

import pytest
from moto import mock_aws

from cispack.testing.caches import forget_remembered_answers
from cispack.testing.cases import FAKE_ENV
from cispack.testing.mutants import under_mutation


@pytest.fixture
def aws(monkeypatch):
    """An in-process moto account in us-east-1, with fake credentials."""
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """A text parameter outside printable ASCII gets an id that names its characters (``caf U+00E9``)
    instead of pytest's backslash escape, which ``./pack mutants`` cannot select back."""
    if isinstance(val, str) and not (val.isascii() and val.isprintable()):
        return "".join(c if c.isascii() and c.isprintable() else f"U+{ord(c):04X}" for c in val)
    return None


@pytest.fixture(autouse=True)
def _cold_caches_under_mutation():
    """Under ``./pack mutants`` every test starts with the pack's caches empty (see
    :func:`cispack.testing.caches.forget_remembered_answers`); a normal run keeps them warm."""
    if under_mutation():
        forget_remembered_answers()
    yield
