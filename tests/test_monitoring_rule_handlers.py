"""Each CIS 3.x monitoring rule's Lambda handler hands Lambda's context to the run, so the rule
knows its time: when too little is left, it stops before its next request to AWS and says so,
rather than starting work it cannot finish (docs/reliability.md, 'Timeouts and memory')."""

from __future__ import annotations

import importlib
import sys

import pytest

from cis_rule import RuleFailed
from cispack import RULES_DIR
from cispack.local.config import ComplianceLedger
from cispack.local.events import scheduled_event
from cispack.testing.cases import ACCOUNT_ID, REGION, RunningOut

# The fourteen CIS v1.2.0 rules and the later versions' Organizations rule.
MONITORING = sorted(path.name for path in RULES_DIR.glob("METRIC_FILTER_ALARM_*"))


def lambda_handler(name: str):
    """The rule's handler as Lambda finds it: its module imported by name from the path."""
    folder = str(RULES_DIR / name)
    if folder not in sys.path:
        sys.path.append(folder)
    return importlib.import_module(name).lambda_handler


@pytest.mark.parametrize("name", MONITORING)
def test_a_monitoring_rule_out_of_time_stops_before_its_first_request(name, monkeypatch):
    # No AWS here: a request that did leave would meet a closed local port.
    for variable, value in (
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_MAX_ATTEMPTS", "1"),
    ):
        monkeypatch.setenv(variable, value)
    ledger = ComplianceLedger(current_rule=name).install()
    try:
        with pytest.raises(RuleFailed, match=r"Nothing judged, nothing sent\. Stopped with 1\.0 s left"):
            lambda_handler(name)(scheduled_event(name, account=ACCOUNT_ID, region=REGION), RunningOut())
    finally:
        ledger.uninstall()
