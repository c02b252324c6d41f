"""The IAM credential report as AWS hands it over (rulelib/cis_credential_report.py): the report
still being built, the report vanishing between ``COMPLETE`` and the read, a report on either side
of the four-hour age, a report missing one column, a row with empty cells.

IAM is botocore's ``Stubber``: each test queues exactly the answers AWS gives in that state (moto
always has a report ready at once and cannot produce these sequences), and the Stubber checks every
request against the service model.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cis_credential_report import (
    REQUIRED_COLUMNS,
    USERS_PAGE_SIZE,
    get_credential_report,
    parse_report,
    user_pages,
)
from cis_rule import EvaluationError

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HEADER = (*REQUIRED_COLUMNS, "mfa_active")


def row(**cells: str) -> dict[str, str]:
    """A user with a password and no access keys, unless ``cells`` say otherwise."""
    base = {
        "user": "alice",
        "arn": "arn:aws:iam::123456789012:user/alice",
        "user_creation_time": "2026-01-01T00:00:00+00:00",
        "password_enabled": "true",
        "password_last_used": "2026-05-30T08:00:00+00:00",
        "access_key_1_active": "false",
        "access_key_1_last_used_date": "N/A",
        "access_key_2_active": "false",
        "access_key_2_last_used_date": "N/A",
        "mfa_active": "false",
    }
    return {**base, **cells}


def csv_of(*rows: dict[str, str], columns: tuple[str, ...] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


ROOT = row(
    user="<root_account>",
    arn="arn:aws:iam::123456789012:root",
    user_creation_time="2020-01-01T00:00:00+00:00",
    password_enabled="not_supported",
    password_last_used="2026-05-31T23:59:59Z",
)


# --- Reading the report ----------------------------------------------------------------------


def test_report_rows_are_typed_and_root_is_told_apart():
    report = parse_report(
        csv_of(
            ROOT,
            row(
                access_key_1_active="TRUE",
                access_key_1_last_used_date="2026-05-01T10:00:00+00:00",
                access_key_2_active=" true ",
                access_key_2_last_used_date="no_information",
            ),
        ),
        NOW,
    )
    assert report.generated == NOW
    assert report.root is not None and report.root.is_root
    assert report.root.password_enabled is True  # "not_supported": root always has a password
    assert report.root.password_last_used == datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC)
    (alice,) = report.users()
    assert (alice.user, alice.arn, alice.is_root) == ("alice", "arn:aws:iam::123456789012:user/alice", False)
    assert alice.created == datetime(2026, 1, 1, tzinfo=UTC)
    assert alice.password_enabled is True
    first, second = alice.access_keys
    assert (first.number, first.active, first.last_used) == (1, True, datetime(2026, 5, 1, 10, tzinfo=UTC))
    assert (second.number, second.active, second.last_used) == (2, True, None)


def test_report_without_a_root_row():
    report = parse_report(csv_of(row(user="bob", password_enabled="false", password_last_used="N/A")), NOW)
    assert report.root is None
    assert [(r.user, r.password_enabled, r.password_last_used) for r in report.users()] == [("bob", False, None)]


def test_report_as_text():
    assert [r.user for r in parse_report(csv_of(row()).decode(), NOW).rows] == ["alice"]


@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_report_missing_one_column_is_not_judged(column):
    columns = tuple(c for c in HEADER if c != column)
    with pytest.raises(EvaluationError) as caught:
        parse_report(csv_of(row(), columns=columns), NOW)
    assert str(caught.value) == f"The credential report lacks the column(s) {column}."


def test_report_missing_two_columns_names_both():
    columns = tuple(c for c in HEADER if c not in ("arn", "password_enabled"))
    with pytest.raises(EvaluationError, match=r"lacks the column\(s\) arn, password_enabled\.$"):
        parse_report(csv_of(row(), columns=columns), NOW)


def test_empty_report_lacks_every_column():
    with pytest.raises(EvaluationError, match=f"lacks the column\\(s\\) {', '.join(REQUIRED_COLUMNS)}\\.$"):
        parse_report(b"", NOW)


def test_report_with_a_header_and_no_user():
    assert parse_report(csv_of(), NOW).rows == ()


@pytest.mark.parametrize(
    ("case", "cell", "expected"),
    [
        ("empty", "", None),
        ("blank", "   ", None),
        ("never_used", "N/A", None),
        ("not_tracked", "no_information", None),
        ("not_applicable", "not_supported", None),
        ("utc_z", "2026-05-30T08:00:00Z", datetime(2026, 5, 30, 8, tzinfo=UTC)),
        ("offset", "2026-05-30T10:00:00+02:00", datetime(2026, 5, 30, 8, tzinfo=UTC)),
    ],
)
def test_date_cells(case, cell, expected):
    (alice,) = parse_report(csv_of(row(password_last_used=cell)), NOW).rows
    assert alice.password_last_used == expected


@pytest.mark.parametrize(
    ("case", "cells", "message"),
    [
        ("date_garbage", {"password_last_used": "yesterday"}, "unreadable password_last_used value 'yesterday'"),
        ("date_without_zone", {"user_creation_time": "2026-01-01T00:00:00"}, "user_creation_time value"),
        ("key_date_garbage", {"access_key_2_last_used_date": "soon"}, "unreadable access_key_2_last_used_date"),
        ("bool_garbage", {"password_enabled": "yes"}, "unreadable password_enabled value 'yes'"),
        ("key_bool_garbage", {"access_key_1_active": "maybe"}, "unreadable access_key_1_active value 'maybe'"),
        ("bool_empty", {"access_key_2_active": ""}, "unreadable access_key_2_active value ''"),
    ],
)
def test_unreadable_cells_are_not_judged(case, cells, message):
    with pytest.raises(EvaluationError, match=message):
        parse_report(csv_of(row(**cells)), NOW)


BOOLEAN_COLUMNS = ("password_enabled", "access_key_1_active", "access_key_2_active")
DATE_COLUMNS = (
    "user_creation_time",
    "password_last_used",
    "access_key_1_last_used_date",
    "access_key_2_last_used_date",
)


@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_row_cut_short_before_its_last_cell(column):
    """A row with fewer cells than the header: its missing cell reads as an empty one."""
    columns = (*(c for c in REQUIRED_COLUMNS if c != column), column)
    cells = row(user_creation_time="2026-01-01T00:00:00Z", access_key_2_last_used_date="2026-05-01T00:00:00Z")
    text = csv_of(cells, columns=columns).decode().splitlines()
    short = text[1].rsplit(",", 1)[0]
    if column in BOOLEAN_COLUMNS:
        with pytest.raises(EvaluationError) as caught:
            parse_report(f"{text[0]}\n{short}\n", NOW)
        assert str(caught.value) == f"The credential report has an unreadable {column} value ''."
        return
    (parsed,) = parse_report(f"{text[0]}\n{short}\n", NOW).rows
    read = {
        "user": parsed.user,
        "arn": parsed.arn,
        "user_creation_time": parsed.created,
        "password_last_used": parsed.password_last_used,
        "access_key_1_last_used_date": parsed.access_keys[0].last_used,
        "access_key_2_last_used_date": parsed.access_keys[1].last_used,
    }
    assert read[column] == (None if column in DATE_COLUMNS else "")


@pytest.mark.parametrize(("column", "value"), [("password_last_used", "x" * 60), ("access_key_1_active", "Y" * 60)])
def test_unreadable_long_cell_is_quoted_in_40_characters(column, value):
    with pytest.raises(EvaluationError) as caught:
        parse_report(csv_of(row(**{column: value})), NOW)
    quoted = value.lower()[:40] if column in BOOLEAN_COLUMNS else value[:40]
    assert str(caught.value) == f"The credential report has an unreadable {column} value {quoted!r}."


# --- Waiting for the report ---------------------------------------------------------------------


class Iam:
    """IAM answering a queued sequence; ``sleeps`` records each wait."""

    def __init__(self) -> None:
        self.client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        self.stubber = Stubber(self.client)
        self.sleeps: list[float] = []

    def state(self, state: str) -> Iam:
        self.stubber.add_response("generate_credential_report", {"State": state})
        return self

    def report(self, generated: datetime = NOW - timedelta(minutes=5), content: bytes | None = None) -> Iam:
        body = csv_of(ROOT, row()) if content is None else content
        self.stubber.add_response(
            "get_credential_report", {"Content": body, "ReportFormat": "text/csv", "GeneratedTime": generated}
        )
        return self

    def no_report(self, code: str) -> Iam:
        self.stubber.add_client_error("get_credential_report", code, http_status_code=410)
        return self

    def read(self, **kwargs: Any) -> Any:
        with self.stubber:
            result = get_credential_report(self.client, NOW, sleep=self.sleeps.append, **kwargs)
        self.stubber.assert_no_pending_responses()
        return result


def test_a_fresh_report_is_read_at_once():
    iam = Iam().state("COMPLETE").report()
    assert [r.user for r in iam.read().rows] == ["<root_account>", "alice"]
    assert iam.sleeps == []


def test_a_report_being_built_is_waited_for_with_doubling_waits():
    iam = Iam().state("STARTED").state("INPROGRESS").state("INPROGRESS").state("COMPLETE").report()
    report = iam.read(first_delay=0.5)
    assert report.root is not None
    assert iam.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("code", ["ReportNotPresent", "ReportInProgress", "ReportExpired"])
def test_report_gone_between_complete_and_the_read_is_waited_for(code):
    """GenerateCredentialReport said COMPLETE, then the report expired or was replaced before
    GetCredentialReport: the rule asks again instead of failing or judging nothing."""
    iam = Iam().state("COMPLETE").no_report(code).state("COMPLETE").report()
    assert [r.user for r in iam.read().users()] == ["alice"]
    assert iam.sleeps == [1.0]


def test_a_report_never_ready_is_not_judged_and_the_last_check_is_not_followed_by_a_wait():
    iam = Iam().state("STARTED").state("INPROGRESS").state("INPROGRESS")
    with pytest.raises(EvaluationError, match=r"^The IAM credential report is still being generated"):
        iam.read(attempts=3)
    assert iam.sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("case", "age", "judged"),
    [
        ("just_generated", timedelta(0), True),
        ("exactly_four_hours", timedelta(hours=4), True),
        ("four_hours_and_a_second", timedelta(hours=4, seconds=1), False),
        ("a_day", timedelta(days=1), False),
    ],
)
def test_report_age(case, age, judged):
    iam = Iam().state("COMPLETE").report(generated=NOW - age)
    if judged:
        assert iam.read().generated == NOW - age
        return
    with pytest.raises(EvaluationError) as caught:
        iam.read()
    generated = NOW - age
    assert str(caught.value) == (
        f"The IAM credential report was generated at {generated:%Y-%m-%d %H:%M} UTC, more than four hours ago; "
        "it is not judged."
    )


# --- Listing users --------------------------------------------------------------------------------


def test_users_are_listed_a_thousand_at_a_time_page_by_page():
    iam = Iam()
    user = {"Path": "/", "UserId": "AIDAEXAMPLE0000000001", "CreateDate": NOW}
    first = [{**user, "UserName": f"u{n}", "Arn": f"arn:aws:iam::123456789012:user/u{n}"} for n in range(2)]
    second = [{**user, "UserName": "u2", "Arn": "arn:aws:iam::123456789012:user/u2"}]
    iam.stubber.add_response("list_users", {"Users": first, "IsTruncated": True, "Marker": "m"}, {"MaxItems": 1000})
    iam.stubber.add_response("list_users", {"Users": second}, {"MaxItems": 1000, "Marker": "m"})
    with iam.stubber:
        pages = [[u["UserName"] for u in page] for page in user_pages(iam.client)]
    assert pages == [["u0", "u1"], ["u2"]]
    assert USERS_PAGE_SIZE == 1000


class Clock:
    """A Lambda context whose remaining time is read from ``seconds``, one value a call."""

    def __init__(self, *seconds: float) -> None:
        self.seconds = list(seconds)

    def get_remaining_time_in_millis(self) -> float:
        return self.seconds.pop(0) * 1000 if len(self.seconds) > 1 else self.seconds[0] * 1000


@pytest.mark.parametrize(
    ("case", "left", "sleeps", "stopped_after"),
    [
        # 60 s at the start: a margin of 15 s (a quarter). A wait of 2 s with 6.5 s left would end inside it.
        ("the_next_wait_would_end_inside_the_margin", [60, 60, 6.5], [1.0], "2 of 6 checks"),
        ("time_enough_for_every_wait", [60], [1.0, 2.0], None),
    ],
)
def test_waiting_for_the_report_stops_before_the_lambda_timeout(case, left, sleeps, stopped_after):
    import cis_rule

    iam = Iam().state("STARTED").state("STARTED")
    if stopped_after is None:
        iam.state("COMPLETE").report()
    cis_rule._DEADLINE.start(Clock(*left))
    try:
        if stopped_after is None:
            assert iam.read().root is not None
        else:
            with pytest.raises(EvaluationError) as caught:
                iam.read()
            assert str(caught.value) == (
                f"Stopped with {left[-1]:.1f} s left before the Lambda timeout after {stopped_after} of the IAM "
                "credential report, still being generated, keeping the rest to send what was decided; give the "
                "function a longer timeout "
                "(docs/reliability.md, 'Timeouts and memory')."
            )
    finally:
        cis_rule._DEADLINE.stop()
    assert iam.sleeps == sleeps


def test_listing_users_stops_before_the_lambda_timeout_naming_how_many_were_judged():
    import cis_rule

    iam = Iam()
    user = {"Path": "/", "UserId": "AIDAEXAMPLE0000000001", "CreateDate": NOW}
    first = [{**user, "UserName": f"u{n}", "Arn": f"arn:aws:iam::123456789012:user/u{n}"} for n in range(2)]
    iam.stubber.add_response("list_users", {"Users": first, "IsTruncated": True, "Marker": "m"}, {"MaxItems": 1000})
    iam.stubber.add_response("list_users", {"Users": first[:1], "IsTruncated": True, "Marker": "n"}, None)
    judged: list[int] = []
    cis_rule._DEADLINE.start(Clock(60, 60, 4))  # a margin of 15 s; 4 s left after the second page
    try:
        with iam.stubber, pytest.raises(EvaluationError) as caught:
            for page in user_pages(iam.client):
                judged.append(len(page))
    finally:
        cis_rule._DEADLINE.stop()
    assert judged == [2, 1]
    assert str(caught.value).startswith("Stopped with 4.0 s left before the Lambda timeout after 3 IAM users judged,")
