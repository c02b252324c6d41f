"""Shared by every test of the pack (tests/ and each rule folder's tables)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import botocore.hooks
import botocore.loaders
import botocore.session

# moto's mock starts every test with a fresh default boto3 session, and each new session would
# parse the service models (IAM, EC2, S3, ...) from disk again, about a second a test. One loader,
# shared by all sessions of the test run, parses each model once; it holds only the files as
# botocore ships them.
botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


def _remembered(accepts: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """botocore checks each of a new session's ~130 built-in event handlers with inspect.signature;
    the answer for one handler never changes, so it is asked once."""
    known: dict[Any, bool] = {}

    def accepts_kwargs(func: Any) -> bool:
        try:
            return known[func]
        except KeyError:
            known[func] = answer = accepts(func)
            return answer
        except TypeError:  # an unhashable handler
            return accepts(func)

    return accepts_kwargs


botocore.hooks.accepts_kwargs = _remembered(botocore.hooks.accepts_kwargs)
