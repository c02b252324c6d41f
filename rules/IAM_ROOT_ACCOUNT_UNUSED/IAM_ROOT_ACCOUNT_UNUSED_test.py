"""Scenarios of IAM_ROOT_ACCOUNT_UNUSED (CIS 1.1); moto has no root row, so the report is recorded."""

from datetime import UTC, datetime

import IAM_ROOT_ACCOUNT_UNUSED as rule

from cispack.testing.cases import ACCOUNT_ID, Case, RuleTestCase, Verdict, credential_report_csv, data_driven

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
ROOT_ARN = f"arn:aws:iam::{ACCOUNT_ID}:root"


def report(generated=NOW, **root):
    rows = [{"user": "<root_account>", "arn": ROOT_ARN, "password_enabled": "not_supported", **root}]
    rows.append(
        {
            "user": "alice",
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/alice",
            "password_enabled": "true",
            "password_last_used": "2026-06-29T10:00:00+00:00",
        }
    )
    return lambda test: (
        test.respond("iam", "GenerateCredentialReport", {"State": "COMPLETE"}),
        test.respond(
            "iam",
            "GetCredentialReport",
            {"Content": credential_report_csv(rows), "ReportFormat": "text/csv", "GeneratedTime": generated},
        ),
    )


def account(compliance, annotation):
    return [Verdict("AWS::::Account", ACCOUNT_ID, compliance, annotation)]


CASES = [
    Case(
        "never_used",
        report(password_last_used="no_information"),
        now=NOW,
        expect=account("COMPLIANT", "The root user was not used within the last 90 days."),
    ),
    Case(
        "password_used_recently",
        report(password_last_used="2026-06-20T08:15:00+00:00"),
        now=NOW,
        expect=account("NON_COMPLIANT", "The root user was used within the last 90 days: password on 2026-06-20."),
    ),
    Case(
        "access_key_2_used_recently",
        report(
            password_last_used="2025-01-01T00:00:00+00:00",
            access_key_2_active="true",
            access_key_2_last_used_date="2026-05-01T00:00:00+00:00",
        ),
        now=NOW,
        expect=account("NON_COMPLIANT", "The root user was used within the last 90 days: access key 2 on 2026-05-01."),
    ),
    Case(
        "password_and_key_used",
        report(
            password_last_used="2026-06-29T00:00:00+00:00",
            access_key_1_active="true",
            access_key_1_last_used_date="2026-06-28T00:00:00+00:00",
        ),
        now=NOW,
        expect=account(
            "NON_COMPLIANT",
            "The root user was used within the last 90 days: password on 2026-06-29 and access key 1 on 2026-06-28.",
        ),
    ),
    Case(
        "password_used_the_moment_the_lookback_starts",
        report(password_last_used="2026-04-01T12:00:00+00:00"),
        now=NOW,
        expect=account("NON_COMPLIANT", "The root user was used within the last 90 days: password on 2026-04-01."),
    ),
    Case(
        "access_key_used_the_moment_the_lookback_starts",
        report(access_key_1_active="true", access_key_1_last_used_date="2026-04-01T12:00:00+00:00"),
        now=NOW,
        expect=account("NON_COMPLIANT", "The root user was used within the last 90 days: access key 1 on 2026-04-01."),
    ),
    Case(
        "use_older_than_lookback",
        report(password_last_used="2026-03-01T00:00:00+00:00"),
        now=NOW,
        expect=account("COMPLIANT", "The root user was not used within the last 90 days."),
    ),
    Case(
        "shorter_lookback_parameter",
        report(password_last_used="2026-06-20T00:00:00+00:00"),
        now=NOW,
        parameters={"rootUseLookbackDays": "7"},
        expect=account("COMPLIANT", "The root user was not used within the last 7 days."),
    ),
    # CONTROLS.md, "When a rule cannot judge": a failure retrying will not cure is a visible verdict.
    Case(
        "report_without_root_row_could_not_evaluate",
        lambda test: None,  # moto's own report: it has no <root_account> row
        error="has no <root_account> row",
        expect=account(
            "NON_COMPLIANT",
            "Could not evaluate: The IAM credential report has no <root_account> row; root use cannot be judged.",
        ),
    ),
    Case(
        "report_older_than_four_hours_is_not_judged_yet",
        report(generated=datetime(2026, 6, 30, 6, 0, tzinfo=UTC)),
        now=NOW,
        error="more than four hours ago",
    ),
    Case(
        "unreadable_date_could_not_evaluate",
        report(password_last_used="yesterday"),
        now=NOW,
        error="unreadable password_last_used",
        expect=account(
            "NON_COMPLIANT",
            "Could not evaluate: The credential report has an unreadable password_last_used value 'yesterday'.",
        ),
    ),
    Case(
        "access_denied_could_not_evaluate",
        lambda test: test.respond("iam", "GenerateCredentialReport", error="AccessDenied", status=403),
        error="AccessDenied",
        expect=account("NON_COMPLIANT", "Could not evaluate: iam:GenerateCredentialReport was denied (AccessDenied)."),
    ),
    Case(
        "throttled_sends_nothing_while_the_last_result_is_recent",
        lambda test: (
            test.previously(account("COMPLIANT", "x"), datetime(2026, 6, 29, tzinfo=UTC)),
            test.respond("iam", "GenerateCredentialReport", error="Throttling"),
        ),
        now=NOW,
        error="Throttling",
    ),
    Case(
        "throttled_marks_a_result_older_than_stale_after_hours",
        lambda test: (
            test.previously(account("COMPLIANT", "x"), datetime(2026, 6, 28, 9, tzinfo=UTC)),
            test.respond("iam", "GenerateCredentialReport", error="Throttling"),
        ),
        now=NOW,
        error="Throttling",
        expect=account("NON_COMPLIANT", "Could not evaluate: not evaluated since 2026-06-28 09:00 UTC."),
    ),
    Case(
        "stale_after_hours_parameter_moves_the_limit",
        lambda test: (
            test.previously(account("COMPLIANT", "x"), datetime(2026, 6, 28, 9, tzinfo=UTC)),
            test.respond("iam", "GenerateCredentialReport", error="Throttling"),
        ),
        now=NOW,
        parameters={"staleAfterHours": "72"},
        error="Throttling",
    ),
    Case(
        "lookback_not_a_number",
        parameters={"rootUseLookbackDays": "ninety"},
        error="rootUseLookbackDays must be an integer from 1 to 36500, not 'ninety'.",
    ),
    Case(
        "lookback_zero",
        parameters={"rootUseLookbackDays": "0"},
        error="rootUseLookbackDays must be an integer from 1 to 36500, not 0.",
    ),
    Case(
        "lookback_beyond_a_century",
        parameters={"rootUseLookbackDays": "1000000"},
        error="rootUseLookbackDays must be an integer from 1 to 36500, not 1000000.",
    ),
    Case(
        "unknown_parameter",
        parameters={"rootUseLookBackDays": "30"},
        error="Unknown rule parameter rootUseLookBackDays",
    ),
]


@data_driven(CASES)
class IamRootAccountUnusedTest(RuleTestCase):
    rule_module = rule
    rule_name = "IAM_ROOT_ACCOUNT_UNUSED"
