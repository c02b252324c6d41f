"""``./pack demo --remediate``: after the demo's first evaluation, every non-compliant resource of a
custom rule whose control has a runbook of the pack's own is remediated by that runbook (its
document's script, :func:`cispack.remediation.local.run`) on the running local AWS; the rule is
evaluated again, and each verdict is printed before and after, with what the runbook changed.

The managed rules' remediations cannot be shown this way: the local AWS cannot evaluate managed
rules, so it cannot say what is non-compliant (their runbooks are tested in
``tests/test_runbooks.py``). The settings are the demo account's: its alarm topic with a
confirmed subscription, its access-log bucket and its Config bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from cispack.catalog.remediations import BY_RULE, Remediation
from cispack.catalog.rules import Rule
from cispack.local.demo import RuleOutcome
from cispack.local.seeds.logging import ACCESS_LOG_BUCKET, CONFIG_BUCKET
from cispack.remediation.local import RunbookStopped, run

#: The demo account's values of the deployment settings.
DEMO_SETTINGS = {
    "AlarmTopic": "cis-security-alerts",
    "AccessLogsBucket": ACCESS_LOG_BUCKET,
    "ConfigBucket": CONFIG_BUCKET,
}
#: Runbook parameters the demo sets: its users and keys were created seconds ago, inside any
#: grace period, so the demo runs without one (and says so).
DEMO_VALUES = {"GraceDays": "0"}
NON_COMPLIANT = "NON_COMPLIANT"
SHOWN = 4


def runbook_values(remediation: Remediation, resource_id: str) -> dict[str, str]:
    """The runbook's parameters for one resource, as the pack's RemediationConfiguration gives them."""
    values: dict[str, str] = {}
    for item in remediation.runbook.inputs:
        if item.resource_id or item.name == "AccountId":
            values[item.name] = resource_id
        elif item.name in remediation.constants:
            values[item.name] = remediation.constants[item.name]
        elif item.setting in DEMO_SETTINGS:
            values[item.name] = DEMO_SETTINGS[item.setting]
        elif item.name in DEMO_VALUES:
            values[item.name] = DEMO_VALUES[item.name]
    return values


def _verdicts(outcome: RuleOutcome) -> dict[str, str]:
    return {str(e["ComplianceResourceId"]): str(e["ComplianceType"]) for e in outcome.evaluations}


def remediate(
    outcomes: list[RuleOutcome], evaluate: Callable[[Rule], RuleOutcome], say: Callable[[str], None]
) -> list[RuleOutcome]:
    say("\nRemediating with the pack's own runbooks (./pack demo --remediate)")
    after: list[RuleOutcome] = []
    for outcome in outcomes:
        remediation = BY_RULE.get(outcome.rule.name)
        failing = [e for e in outcome.evaluations if e["ComplianceType"] == NON_COMPLIANT]
        if remediation is None or outcome.error or not failing:
            after.append(outcome)
            continue
        say(f"\nCIS {outcome.controls}  {outcome.rule.name}  runbook {remediation.runbook.document}")
        demo_values = [f"{i.name} {DEMO_VALUES[i.name]}" for i in remediation.runbook.inputs if i.name in DEMO_VALUES]
        if demo_values:
            say(f"  (demo: {', '.join(demo_values)}; the seeded credentials are seconds old)")
        notes: dict[str, list[str]] = {}
        for evaluation in failing:
            resource = str(evaluation["ComplianceResourceId"])
            try:
                result: dict[str, Any] = run(remediation.runbook, runbook_values(remediation, resource))
                changes = [f"changed: {c}" for c in result["Changes"]] or ["no change needed"]
                if len(changes) > SHOWN:
                    changes = [
                        *changes[:SHOWN],
                        f"... and {len(changes) - SHOWN} more changes (the Record has them all)",
                    ]
                notes[resource] = changes
                notes[resource] += [f"note: {u}" for u in result["Unchanged"] if "confirmed subscription" in u]
            except (RunbookStopped, ClientError) as err:
                notes[resource] = [f"stopped: {err}"]
        again = evaluate(outcome.rule)
        before_verdicts, after_verdicts = _verdicts(outcome), _verdicts(again)
        for resource, lines in notes.items():
            verdict = after_verdicts.get(resource, "ERROR: " + str(again.error) if again.error else "not evaluated")
            say(f"  {before_verdicts[resource]:<14} -> {verdict:<14} {evaluation_type(outcome, resource)} {resource}")
            for line in lines:
                say(f"  {'':<32}{line}")
        after.append(again)
    return after


def evaluation_type(outcome: RuleOutcome, resource: str) -> str:
    return next(str(e["ComplianceResourceType"]) for e in outcome.evaluations if e["ComplianceResourceId"] == resource)
