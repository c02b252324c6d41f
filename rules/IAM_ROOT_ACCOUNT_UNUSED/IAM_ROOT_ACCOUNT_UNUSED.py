"""CIS 1.1 — Avoid the use of the "root" account (Level 1, scored).

Trigger: periodic. Reports on: ``AWS::::Account`` (this account).
Parameters: ``rootUseLookbackDays`` — integer from 1 to 36500 (a century), default 90;
``staleAfterHours`` (every rule, ``cis_rule``).

Reads the IAM credential report's ``<root_account>`` row, as the benchmark's audit does
(columns ``password_last_used``, ``access_key_1_last_used_date``, ``access_key_2_last_used_date``).

Scenarios:
1. Root's password and both access keys unused within the lookback (or never used): COMPLIANT.
2. Root's password used within the lookback: NON_COMPLIANT, naming the date.
3. A root access key used within the lookback: NON_COMPLIANT, naming the key and the date.
4. Use older than the lookback: COMPLIANT.
5. The report has no ``<root_account>`` row, or an unreadable value: NON_COMPLIANT
   ``Could not evaluate: ...`` naming it, and the invocation fails.
6. AccessDenied on the credential report: NON_COMPLIANT ``Could not evaluate: iam:... was
   denied``, and the invocation fails.
7. The report is still being generated or older than four hours, or throttling after retries:
   nothing sent, the invocation fails; when the account's last result is older than
   ``staleAfterHours`` (default 48): NON_COMPLIANT ``Could not evaluate: not evaluated since ...``.
8. ``rootUseLookbackDays`` not an integer from 1 to 36500: InvalidParametersError, no evaluation.
"""

from datetime import timedelta

from cis_credential_report import ACTIONS as REPORT_ACTIONS
from cis_credential_report import get_credential_report
from cis_rule import (
    ACCOUNT,
    CisRule,
    EvaluationError,
    IntParameter,
    account_id,
    compliant,
    handle,
    join_names,
    non_compliant,
    notification_time,
)


class IAM_ROOT_ACCOUNT_UNUSED(CisRule):
    PARAMETERS = {"rootUseLookbackDays": IntParameter(default=90, minimum=1, maximum=36500)}
    ACTIONS = REPORT_ACTIONS
    RESOURCE_TYPE = ACCOUNT

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        now = notification_time(event)
        days = valid_rule_parameters["rootUseLookbackDays"]
        report = get_credential_report(client_factory.build_client("iam"), now)
        root = report.root
        if root is None:
            raise EvaluationError("The IAM credential report has no <root_account> row; root use cannot be judged.")
        since = now - timedelta(days=days)
        uses = []
        if root.password_last_used and root.password_last_used >= since:
            uses.append(f"password on {root.password_last_used:%Y-%m-%d}")
        for key in root.access_keys:
            if key.last_used and key.last_used >= since:
                uses.append(f"access key {key.number} on {key.last_used:%Y-%m-%d}")
        account = account_id(event)
        if uses:
            return [
                non_compliant(
                    account, ACCOUNT, f"The root user was used within the last {days} days: {join_names(uses)}."
                )
            ]
        return [compliant(account, ACCOUNT, f"The root user was not used within the last {days} days.")]


def lambda_handler(event, context):
    return handle(IAM_ROOT_ACCOUNT_UNUSED(), event, context)
