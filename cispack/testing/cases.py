"""Test harness for the rules: AWS Config's events, a moto account, data-driven cases.

Each rule's ``<NAME>_test.py`` (run by pytest and by ``rdk test-local --all``, which loads it
with unittest) builds a :class:`RuleTestCase` subclass from a table of :class:`Case` rows;
:func:`data_driven` turns each row into a ``test_<id>`` method, so both runners see one test
per scenario.
"""

from __future__ import annotations

import json
import os
import unittest
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

from moto import mock_aws

from cis_rule import RuleFailed
from cispack.local.config import ComplianceLedger, MotoCredentialReport, observe, respond
from cispack.local.events import scheduled_event

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True)
class Verdict:
    """One evaluation as the tests compare it."""

    resource_type: str
    resource_id: str
    compliance: str
    annotation: str = ""

    @classmethod
    def from_json(cls, evaluation: Mapping[str, Any]) -> Verdict:
        return cls(
            evaluation["ComplianceResourceType"],
            evaluation["ComplianceResourceId"],
            evaluation["ComplianceType"],
            evaluation.get("Annotation", ""),
        )

    def as_evaluation(self) -> dict[str, Any]:
        """The ``PutEvaluations`` item of this verdict."""
        item = {
            "ComplianceResourceType": self.resource_type,
            "ComplianceResourceId": self.resource_id,
            "ComplianceType": self.compliance,
        }
        if self.annotation:
            item["Annotation"] = self.annotation
        return item


@dataclass
class Run:
    """What one invocation of a rule's handler gave back: evaluations, or rdklib's error (which
    the handler raises as :class:`cis_rule.RuleFailed`, failing the Lambda invocation)."""

    raw: Any
    ledger: ComplianceLedger

    @property
    def error(self) -> Mapping[str, Any] | None:
        return self.raw if isinstance(self.raw, dict) else None

    @property
    def verdicts(self) -> list[Verdict]:
        if self.error is not None:
            raise AssertionError(f"the rule reported an error, not evaluations: {self.error}")
        return sorted((Verdict.from_json(e) for e in self.raw), key=lambda v: (v.resource_type, v.resource_id))


@dataclass(frozen=True)
class Case:
    """One row of a rule's test table.

    ``given`` builds the account state (it runs inside moto and may use :func:`respond` through
    ``test.respond``); ``expect`` is the exact list of verdicts sent (or a function of the test
    that gives it, for IDs that moto assigns during ``given``); ``error`` a substring of the error
    the failed invocation reports. With ``error`` and ``expect`` both, the run fails *and* sends
    exactly ``expect`` (a whole run that could not judge, a partial run: CONTROLS.md, "When a rule
    cannot judge"); with ``error`` alone, it must send nothing."""

    id: str
    given: Callable[[RuleTestCase], None] = lambda test: None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    expect: Sequence[Verdict] | Callable[[RuleTestCase], Sequence[Verdict]] | None = None
    error: str | None = None
    now: datetime | None = None


class RuleTestCase(unittest.TestCase):
    """A moto account per test, with the local Config seam installed."""

    maxDiff = None  # an annotation that differs is shown whole
    rule_module: ModuleType
    rule_name: str

    def setUp(self) -> None:
        self._saved_env = {key: os.environ.get(key) for key in FAKE_ENV}
        os.environ.update(FAKE_ENV)
        self._mock = mock_aws()
        self._mock.start()
        self.ledger = ComplianceLedger(current_rule=self.rule_name).install()
        self._clock = MotoCredentialReport().install()
        self._responders: list[Any] = []

    def tearDown(self) -> None:
        for responder in reversed(self._responders):
            responder.__exit__(None, None, None)
        self.ledger.uninstall()
        self._clock.uninstall()
        self._mock.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def respond(self, service: str, operation: str, response: Mapping[str, Any] | None = None, **kw: Any) -> None:
        """Answer one operation with a recorded response or error for the rest of the test."""
        responder = respond(service, operation, response, **kw)
        responder.__enter__()
        self._responders.append(responder)

    def previously(self, verdicts: Iterable[Verdict], at: datetime) -> None:
        """AWS Config holds ``verdicts`` of this rule, recorded at ``at`` (an earlier run's)."""
        self.ledger.record(self.rule_name, [v.as_evaluation() for v in verdicts], at=at)

    def count_calls(self, service: str, operation: str) -> list[Mapping[str, Any]]:
        """The parameters of every ``service.operation`` call from now on (calls still go to moto)."""
        observer = observe(service, operation)
        seen = observer.__enter__()
        self._responders.append(observer)
        return seen

    def client(self, service: str, region: str = REGION) -> Any:
        import boto3

        return boto3.client(service, region_name=region)

    def run_rule(self, parameters: Mapping[str, Any] | None = None, now: datetime | None = None) -> Run:
        event = scheduled_event(self.rule_name, parameters, now=now, account=ACCOUNT_ID, region=REGION)
        try:
            return Run(self.rule_module.lambda_handler(event, None), self.ledger)
        except RuleFailed as failed:
            return Run(failed.response, self.ledger)

    def check(self, case: Case) -> None:
        case.given(self)
        sent_before = len(self.ledger.sent)
        run = self.run_rule(case.parameters, case.now)
        expected = case.expect(self) if callable(case.expect) else case.expect
        expected = sorted(expected or [], key=lambda v: (v.resource_type, v.resource_id))
        if case.error is not None:
            self.assertIsNotNone(run.error, f"expected an error containing {case.error!r}, got {run.raw!r}")
            assert run.error is not None
            text = json.dumps(run.error)
            self.assertIn(case.error, text)
            sent = sorted(
                (Verdict.from_json(e) for e in self.ledger.sent[sent_before:]),
                key=lambda v: (v.resource_type, v.resource_id),
            )
            self.assertEqual(expected, sent, "a failed run sends exactly the verdicts it decided")
            return
        self.assertEqual(expected, run.verdicts)
        for verdict in run.verdicts:
            self.assertLessEqual(len(verdict.annotation), 256)
            if verdict.compliance == "NON_COMPLIANT":
                self.assertTrue(verdict.annotation.endswith("."), verdict.annotation)


def data_driven(cases: Iterable[Case]) -> Callable[[type[RuleTestCase]], type[RuleTestCase]]:
    """Class decorator: one ``test_<id>`` method per case."""

    def decorate(cls: type[RuleTestCase]) -> type[RuleTestCase]:
        for case in cases:
            name = f"test_{case.id}"
            if hasattr(cls, name):
                raise ValueError(f"duplicate case id {case.id}")

            def method(self: RuleTestCase, case: Case = case) -> None:
                self.check(case)

            method.__name__ = name
            method.__doc__ = case.id.replace("_", " ")
            setattr(cls, name, method)
        return cls

    return decorate


def credential_report_csv(rows: Iterable[Mapping[str, str]]) -> bytes:
    """A credential report CSV with the columns AWS writes, unspecified cells as AWS fills them."""
    columns = (
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
        "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
        "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
        "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
        "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
        "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
    ).split(",")
    defaults = {
        "user_creation_time": "2020-01-01T00:00:00+00:00",
        "password_enabled": "false",
        "mfa_active": "false",
        "access_key_1_active": "false",
        "access_key_2_active": "false",
        "cert_1_active": "false",
        "cert_2_active": "false",
    }
    lines = [",".join(columns)]
    for row in rows:
        unknown = set(row) - set(columns)
        if unknown:
            raise ValueError(f"not credential report columns: {sorted(unknown)}")
        lines.append(",".join(row.get(c, defaults.get(c, "N/A")) for c in columns))
    return ("\n".join(lines) + "\n").encode()


class RunningOut:
    """Lambda's context for a 10-second invocation whose time is spent before the rule's first
    request: 10 s left when the handler starts, 1 s at every later reading."""

    def __init__(self) -> None:
        self.readings = 0

    def get_remaining_time_in_millis(self) -> int:
        self.readings += 1
        return 10_000 if self.readings == 1 else 1_000
