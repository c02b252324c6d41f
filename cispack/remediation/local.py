"""Run one of the pack's runbooks as Systems Manager Automation would, against whatever AWS the
default boto3 session reaches (moto in the tests and the demo).

moto runs no Automation documents, so :func:`run` does what the document's one step does: it
takes the step's script from the generated document, resolves the step's ``InputPayload`` from
the document's parameters (their defaults, overridden by the values given, as AWS Config passes
them), executes the script in a fresh namespace and calls its ``handler``. Every API call the
script makes is recorded as the IAM action it needs (:class:`Calls`).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3

from cispack.catalog.remediations import Runbook
from cispack.generate.runbooks import document

#: The IAM action of an operation, where it is not ``<service prefix>:<operation>``.
ACTION_OF: Mapping[tuple[str, str], str] = {
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
}
_PREFIX = {"config-service": "config", "cloudwatch-logs": "logs", "eventbridge": "events"}
#: Calls that need no permission.
FREE = frozenset({"sts:GetCallerIdentity"})


def action_of(service_id: str, operation: str) -> str:
    return ACTION_OF.get((service_id, operation)) or f"{_PREFIX.get(service_id, service_id)}:{operation}"


@dataclass
class Calls:
    """IAM actions of the API calls made, by runbook document."""

    by_runbook: dict[str, set[str]] = field(default_factory=dict)

    def of(self, runbook: str) -> set[str]:
        return self.by_runbook.setdefault(runbook, set())


CALLS = Calls()


@contextmanager
def _recording(runbook: str) -> Iterator[None]:
    session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
    assert session is not None
    seen = CALLS.of(runbook)

    def record(model: Any, **_: Any) -> None:
        action = action_of(model.service_model.service_id.hyphenize(), model.name)
        if action not in FREE:
            seen.add(action)

    events = session._session.get_component("event_emitter")
    events.register("before-call", record, unique_id="cis-remediation-calls")
    try:
        yield
    finally:
        events.unregister("before-call", unique_id="cis-remediation-calls")


@cache
def _document(runbook: Runbook) -> dict[str, Any]:
    return document(runbook, "arn:aws:iam::123456789012:role/local")


@cache
def _compiled(runbook: Runbook) -> Any:
    source = _document(runbook)["mainSteps"][0]["inputs"]["Script"]
    return compile(source, f"<{runbook.document}>", "exec")


def payload(runbook: Runbook, values: Mapping[str, str]) -> dict[str, str]:
    """The step's ``InputPayload`` with the document's parameters resolved."""
    doc = _document(runbook)
    parameters = {name: spec.get("default", "") for name, spec in doc["parameters"].items()}
    unknown = set(values) - set(parameters)
    if unknown:
        raise ValueError(f"{runbook.document} has no parameter {sorted(unknown)}")
    parameters.update(values)
    step_inputs = doc["mainSteps"][0]["inputs"]["InputPayload"]
    resolved = {}
    for name, template in step_inputs.items():
        resolved[name] = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(parameters[m.group(1)]), template)
    return resolved


def run(runbook: Runbook, values: Mapping[str, str], extra: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run the runbook's document step with parameter ``values``; ``extra`` goes to the handler
    as is (``Now``, which the tests use to move time). Returns the step's payload."""
    namespace: dict[str, Any] = {"__name__": f"cispack_runbook_{runbook.module}"}
    exec(_compiled(runbook), namespace)  # the pack's own generated script
    events = {**payload(runbook, values), **(extra or {})}
    # The script prints each change for the execution's log; here the result says it.
    with _recording(runbook.document), contextlib.redirect_stdout(io.StringIO()):
        try:
            result: dict[str, Any] = namespace["handler"](events, None)
        except namespace["RemediationError"] as err:
            raise RunbookStopped(str(err)) from err
    return result


class RunbookStopped(Exception):
    """The runbook stopped with its one sentence (its script's ``RemediationError``), as the
    Automation execution would fail with it."""
