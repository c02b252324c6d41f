"""The IAM credential report: generate it, wait for it, parse it; and the account's IAM users.

Symlinked into the rule folders that read it (CIS 1.1, 1.21; later versions' one-active-key rule).
AWS regenerates the report at most every four hours; ``GenerateCredentialReport`` answers
``COMPLETE`` while a fresh one exists and ``STARTED``/``INPROGRESS`` while it builds one. A report
that is still being built, or that is older than four hours when the rule reads it, is not judged
*yet* (:class:`cis_rule.NotJudgedYet`: the next run meets a fresh one); a report the rule cannot
read (a missing column, an unreadable value) is an :class:`cis_rule.EvaluationError`, reported
``Could not evaluate``.

``ListUsers`` is read at its largest page (``MaxItems`` 1,000; AWS's default is 100): 5,000 users
take 5 calls instead of 50.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from cis_rule import JUDGED_FAILURES, EvaluationError, NotJudgedYet, PartialRun, check_deadline, is_transient

ACTIONS = ("iam:GenerateCredentialReport", "iam:GetCredentialReport")
#: The action of :func:`user_pages`.
LIST_USERS_ACTIONS = ("iam:ListUsers",)
#: ``ListUsers``' largest page (``MaxItems``).
USERS_PAGE_SIZE = 1000

ROOT_USER = "<root_account>"
MAX_REPORT_AGE = timedelta(hours=4)
# Values the report uses for "no date": never used, not tracked, or not applicable to the row.
NO_DATE = frozenset({"N/A", "no_information", "not_supported", ""})
# Errors GetCredentialReport gives while no usable report exists yet; worth another wait.
NOT_READY = frozenset({"ReportNotPresent", "ReportInProgress", "ReportExpired"})

REQUIRED_COLUMNS = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "access_key_1_active",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_used_date",
)


@dataclass(frozen=True)
class CredentialRow:
    """One row of the report, with the columns the pack reads, typed."""

    user: str
    arn: str
    #: When the user was created: tells a user from an earlier one of the same name (and ARN).
    created: datetime | None
    password_enabled: bool
    password_last_used: datetime | None
    access_keys: tuple[AccessKeyColumns, AccessKeyColumns]

    @property
    def is_root(self) -> bool:
        return self.user == ROOT_USER


@dataclass(frozen=True)
class AccessKeyColumns:
    number: int
    active: bool
    last_used: datetime | None


@dataclass(frozen=True)
class CredentialReport:
    generated: datetime
    rows: tuple[CredentialRow, ...]

    @property
    def root(self) -> CredentialRow | None:
        return next((row for row in self.rows if row.is_root), None)

    def users(self) -> Iterator[CredentialRow]:
        return (row for row in self.rows if not row.is_root)


def _parse_date(column: str, value: str) -> datetime | None:
    value = value.strip()
    if value in NO_DATE:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EvaluationError(f"The credential report has an unreadable {column} value {value[:40]!r}.") from None
    if parsed.tzinfo is None:
        raise EvaluationError(f"The credential report's {column} value {value[:40]!r} has no time zone.")
    return parsed


def _parse_bool(column: str, value: str) -> bool:
    value = value.strip().lower()
    # The root row says "not_supported" for password_enabled: root always has a password.
    if value in ("true", "not_supported"):
        return True
    if value == "false":
        return False
    raise EvaluationError(f"The credential report has an unreadable {column} value {value[:40]!r}.")


def parse_report(content: bytes | str, generated: datetime) -> CredentialReport:
    """Parse the CSV of ``GetCredentialReport`` (bytes as boto3 returns them)."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or ())]
    if missing:
        raise EvaluationError(f"The credential report lacks the column(s) {', '.join(missing)}.")
    rows = []
    for record in reader:
        keys = tuple(
            AccessKeyColumns(
                number=n,
                active=_parse_bool(f"access_key_{n}_active", record[f"access_key_{n}_active"] or ""),
                last_used=_parse_date(f"access_key_{n}_last_used_date", record[f"access_key_{n}_last_used_date"] or ""),
            )
            for n in (1, 2)
        )
        rows.append(
            CredentialRow(
                user=record["user"] or "",
                arn=record["arn"] or "",
                created=_parse_date("user_creation_time", record["user_creation_time"] or ""),
                password_enabled=_parse_bool("password_enabled", record["password_enabled"] or ""),
                password_last_used=_parse_date("password_last_used", record["password_last_used"] or ""),
                access_keys=(keys[0], keys[1]),
            )
        )
    return CredentialReport(generated=generated, rows=tuple(rows))


def get_credential_report(
    iam: Any,
    now: datetime,
    *,
    attempts: int = 6,
    first_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> CredentialReport:
    """Generate (or reuse) the report and return it parsed.

    Polls with exponential backoff (1, 2, 4, 8, 16 s by default: within a Lambda's minute) while
    AWS builds the report. Any other ``ClientError`` (AccessDenied...) propagates to the handler.
    """
    delay = first_delay
    for attempt in range(attempts):
        state = iam.generate_credential_report().get("State")
        if state == "COMPLETE":
            try:
                response = iam.get_credential_report()
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") not in NOT_READY:
                    raise
            else:
                generated: datetime = response["GeneratedTime"]
                if now - generated > MAX_REPORT_AGE:
                    raise NotJudgedYet(
                        f"The IAM credential report was generated at {generated:%Y-%m-%d %H:%M} UTC, "
                        "more than four hours ago; it is not judged."
                    )
                return parse_report(response["Content"], generated)
        if attempt + 1 < attempts:
            # Stop before a wait that would outlast the invocation, not after it.
            check_deadline(
                f"{attempt + 1} of {attempts} checks of the IAM credential report, still being generated", delay
            )
            sleep(delay)
            delay *= 2
    raise NotJudgedYet("The IAM credential report is still being generated; the rule will judge on its next run.")


def user_pages(iam: Any) -> Iterator[list[Mapping[str, Any]]]:
    """The account's IAM users, a ``ListUsers`` page at a time (1,000 users a page). Between two
    pages the Lambda's deadline is checked (:func:`cis_rule.check_deadline`), so a caller that
    judges each page before asking for the next stops, naming how many users it judged, instead of
    being killed mid-run."""
    listed = 0
    for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": USERS_PAGE_SIZE}):
        users: list[Mapping[str, Any]] = page.get("Users", [])
        yield users
        listed += len(users)
        check_deadline(f"{listed} IAM users judged", decided=listed)


class JudgedUser(NamedTuple):
    """An IAM user as ``ListUsers`` gives it, with its report row (``None`` when the report does
    not describe this user: created after the report, or deleted and created again under the same
    name since)."""

    name: str
    user_id: str
    row: CredentialRow | None


def judged_users(iam: Any, report: CredentialReport) -> Iterator[list[JudgedUser]]:
    """The account's users a ``ListUsers`` page at a time (:func:`user_pages`), each matched to its
    row of ``report`` by ARN and creation time (the report gives it to the second)."""
    rows = {row.arn: row for row in report.users()}
    for users in user_pages(iam):
        page = []
        for user in users:
            row = rows.get(user["Arn"])
            if (
                row is not None
                and row.created is not None
                and abs(row.created - user["CreateDate"]) >= timedelta(seconds=1)
            ):
                row = None
            page.append(JudgedUser(user["UserName"], user["UserId"], row))
        yield page


def newer_than_report(name: str, report: CredentialReport) -> str:
    """The annotation of a user the report does not describe yet."""
    return (
        f"IAM user {name} is newer than the credential report of {report.generated:%Y-%m-%d %H:%M} UTC; "
        "it is judged on the next run."
    )


def judge_users(iam: Any, report: CredentialReport, judge: Callable[[JudgedUser, CredentialReport], Any]) -> list[Any]:
    """``judge``'s verdict on every IAM user, a ``ListUsers`` page at a time (:func:`judged_users`).
    When a later page fails transiently (throttling, the deadline), the users of the pages read are
    judged and sent (:class:`cis_rule.PartialRun`, no clean-up); the rest wait for the next run."""
    evaluations: list[Any] = []
    try:
        for users in judged_users(iam, report):
            evaluations.extend(judge(user, report) for user in users)
    except JUDGED_FAILURES as error:
        if not evaluations or not is_transient(error):
            raise
        raise PartialRun(evaluations, [f"the IAM users after the first {len(evaluations)}"], error) from error
    return evaluations
