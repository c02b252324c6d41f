"""CIS v1.4.0/v3.0.0 1.13, v5.0.0 1.12, v6.0.0 2.12 — Ensure there is only one active access key
available for any single IAM user (Level 1, automated). Not a CIS v1.2.0 recommendation.

Trigger: periodic. Reports on: each ``AWS::IAM::User``, by its unique ID (``AIDA...``), the ID
AWS Config records. Parameters: ``staleAfterHours`` (every custom rule's).

Reads the IAM credential report, as the benchmark's audit does (``access_key_1_active`` and
``access_key_2_active``; IAM allows at most two keys per user), and ListUsers for the users' IDs.

Scenarios:
1. No IAM users: no evaluations (rdklib retires earlier ones as NOT_APPLICABLE).
2. A user with no access key, one active key, or two keys of which one is inactive: COMPLIANT.
3. A user with two active access keys: NON_COMPLIANT, naming the user and both keys.
4. Several users, listed over several pages (``ListUsers`` at its largest page, 1,000 users):
   one evaluation each.
5. A user created after the report was generated, or deleted and created again under the same
   name since: NOT_APPLICABLE until the next report.
6. AccessDenied on the report or on ``ListUsers``, or an unreadable report: every user the rule
   last reported is NON_COMPLIANT ``Could not evaluate: ...``, and the invocation fails.
7. The report is still being generated, or throttling after retries before any user is judged:
   nothing sent but, for users whose last result is older than ``staleAfterHours`` (default 48),
   NON_COMPLIANT ``Could not evaluate: not evaluated since ...``; the invocation fails.
8. The Lambda's remaining time runs short, or a later page of users is throttled out: the users
   of the pages read are sent, no clean-up, and the invocation fails naming how far it got.
9. Any rule parameter but ``staleAfterHours`` and rdklib's own: InvalidParametersError.
"""

from cis_credential_report import ACTIONS as REPORT_ACTIONS
from cis_credential_report import LIST_USERS_ACTIONS, get_credential_report, judge_users, newer_than_report
from cis_rule import IAM_USER, CisRule, compliant, handle, join_names, non_compliant, not_applicable, notification_time


class IAM_USER_ONE_ACTIVE_ACCESS_KEY(CisRule):
    ACTIONS = (*REPORT_ACTIONS, *LIST_USERS_ACTIONS)
    RESOURCE_TYPE = IAM_USER

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        iam = client_factory.build_client("iam")
        report = get_credential_report(iam, notification_time(event))
        return judge_users(iam, report, _judge)


def _judge(user, report):
    """The verdict on one ``ListUsers`` user, from its report row."""
    name, user_id, row = user
    if row is None:
        return not_applicable(user_id, IAM_USER, newer_than_report(name, report))
    active = [f"access key {key.number}" for key in row.access_keys if key.active]
    if len(active) > 1:
        return non_compliant(
            user_id,
            IAM_USER,
            f"IAM user {name} has {len(active)} active access keys ({join_names(active)}); deactivate all but one.",
        )
    return compliant(user_id, IAM_USER, f"IAM user {name} has {len(active) or 'no'} active access key.")


def lambda_handler(event, context):
    return handle(IAM_USER_ONE_ACTIVE_ACCESS_KEY(), event, context)
