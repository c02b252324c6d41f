"""Fixtures shared by the cross-cutting tests."""

from __future__ import annotations

import pytest
from moto import mock_aws


@pytest.fixture
def aws(monkeypatch):
    """An in-process moto account in us-east-1, with fake credentials."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield
