"""End to end on a local AWS: moto_server, `rdk init` and `rdk deploy --all` from rules/, one Lambda
per custom rule, each invoked from the zip rdk uploaded, as `./pack demo` does."""

from __future__ import annotations

import json

import pytest

from cispack.catalog.rules import custom_rules
from cispack.local.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    lines: list[str] = []
    outcomes = run_demo(work, say=lines.append)
    return work, outcomes, "\n".join(lines)


def test_every_custom_rule_deployed_and_evaluated_without_error(demo):
    work, outcomes, _ = demo
    assert sorted(o.rule.name for o in outcomes) == sorted(r.name for r in custom_rules())
    errors = {o.rule.name: o.error for o in outcomes if o.error}
    assert errors == {}
    assert all(o.evaluations for o in outcomes), "every custom rule has something to judge in the demo account"
    assert json.loads((work / "results.json").read_text()).keys() == {o.rule.name for o in outcomes}


def test_lambdas_run_python312_from_the_uploaded_zip(demo):
    work, _, _ = demo
    log = (work / "rdk-deploy.log").read_text()
    for rule in custom_rules():
        assert (work / rule.name / f"{rule.name}.py").is_file()
        assert rule.name in log


def test_seeded_verdicts(demo):
    _, outcomes, text = demo
    by_rule = {o.rule.name: o for o in outcomes}
    root = by_rule["IAM_ROOT_ACCOUNT_UNUSED"].evaluations
    assert [e["ComplianceType"] for e in root] == ["NON_COMPLIANT"]
    users = by_rule["IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS"].evaluations
    assert sorted(e["ComplianceType"] for e in users) == ["COMPLIANT", "COMPLIANT", "NON_COMPLIANT"]
    assert "IAM user alice has a console password and an active access key 1 that has never been used." in text
    kinds = {e["ComplianceType"] for o in outcomes for e in o.evaluations}
    assert {"COMPLIANT", "NON_COMPLIANT"} <= kinds
