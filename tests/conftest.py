"""Fixtures shared by the cross-cutting tests."""

from __future__ import annotations

import pytest
from moto import mock_aws

from cispack.testing.cases import FAKE_ENV


@pytest.fixture
def aws(monkeypatch):
    """An in-process moto account in us-east-1, with fake credentials."""
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield
