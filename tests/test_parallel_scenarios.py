"""How a rule that judges many buckets or regions at once behaves when some of them fail
(rulelib/cis_parallel.py): one verdict per bucket whatever happens to the others, a bucket the
rule may not read reported as such, a throttled one left for the next run, and the workers that
judge them bounded, named and never left running.

No AWS: each bucket's "judge" is a small function that answers, waits or raises the ``ClientError``
botocore would raise after its retries.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

import cis_rule
from cis_parallel import judge_each, map_in_order
from cis_rule import S3_BUCKET, EvaluationError, OutOfTime, PartialRun, compliant

DENIED = {"Code": "AccessDenied", "Message": "Access Denied", "CisAction": "s3:GetBucketPolicy"}
THROTTLED = {"Code": "SlowDown", "Message": "Please reduce your request rate.", "CisAction": "s3:GetBucketAcl"}


def client_error(error: dict[str, str], status: int) -> ClientError:
    return ClientError({"Error": dict(error), "ResponseMetadata": {"HTTPStatusCode": status}}, "GetBucketPolicy")


def subject(name: str) -> tuple[str, str, str]:
    return name, S3_BUCKET, f"S3 bucket {name}"


def row(evaluation: Any) -> tuple[str, str, str, str]:
    return (
        evaluation.complianceResourceId,
        evaluation.complianceResourceType,
        evaluation.complianceType,
        evaluation.annotation,
    )


class Buckets:
    """Judges buckets by name: a bucket named in ``failing`` raises its error, the others are
    COMPLIANT. ``delays`` makes a bucket's judging take that long."""

    def __init__(self, failing: dict[str, Exception] | None = None, delays: dict[str, float] | None = None) -> None:
        self.failing = failing or {}
        self.delays = delays or {}
        self.judged: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, name: str) -> Any:
        time.sleep(self.delays.get(name, 0.0))
        if name in self.failing:
            raise self.failing[name]
        with self.lock:
            self.judged.append(name)
        return compliant(name, S3_BUCKET, f"S3 bucket {name} is fine.")


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def lambda_time():
    """A Lambda invocation's clock that the test sets (milliseconds left)."""
    context = Context(600_000)
    cis_rule._DEADLINE.start(context)
    yield context
    cis_rule._DEADLINE.stop()


# --- judge_each: one verdict per bucket ------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 4], ids=["serial", "four_workers"])
def test_every_bucket_judged_gives_its_verdicts_in_the_buckets_order(workers):
    judge = Buckets(delays={"a-logs": 0.03})
    verdicts = judge_each(judge, ["a-logs", "b-logs", "c-logs"], subject, "buckets judged", workers)
    assert [row(v) for v in verdicts] == [
        (name, S3_BUCKET, "COMPLIANT", f"S3 bucket {name} is fine.") for name in ("a-logs", "b-logs", "c-logs")
    ]


def test_judged_one_at_a_time_when_asked_for_one_worker():
    threads: set[str] = set()

    def judge(name: str) -> Any:
        threads.add(threading.current_thread().name)
        return compliant(name, S3_BUCKET, f"S3 bucket {name} is fine.")

    judge_each(judge, ["a-logs", "b-logs", "c-logs"], subject, "buckets judged", workers=1)
    assert threads == {threading.main_thread().name}


def test_a_bucket_whose_policy_the_rule_may_not_read_is_reported_and_the_others_still_judged():
    judge = Buckets(failing={"b-logs": client_error(DENIED, 403)})
    verdicts = judge_each(judge, ["a-logs", "b-logs", "c-logs"], subject, "buckets judged")
    assert [row(v) for v in verdicts] == [
        ("a-logs", S3_BUCKET, "COMPLIANT", "S3 bucket a-logs is fine."),
        (
            "b-logs",
            S3_BUCKET,
            "NON_COMPLIANT",
            "Could not evaluate: s3:GetBucketPolicy was denied (AccessDenied) for S3 bucket b-logs.",
        ),
        ("c-logs", S3_BUCKET, "COMPLIANT", "S3 bucket c-logs is fine."),
    ]


def test_a_bucket_the_rule_cannot_read_its_input_of_is_reported_in_its_own_words():
    judge = Buckets(failing={"a-logs": EvaluationError("The bucket policy of a-logs is not JSON.")})
    (verdict,) = judge_each(judge, ["a-logs"], subject, "buckets judged")
    assert row(verdict) == (
        "a-logs",
        S3_BUCKET,
        "NON_COMPLIANT",
        "Could not evaluate: The bucket policy of a-logs is not JSON for S3 bucket a-logs.",
    )


def test_throttled_buckets_are_left_unjudged_and_the_run_carries_the_others_verdicts():
    first = client_error(THROTTLED, 503)
    judge = Buckets(
        failing={
            "b-logs": first,
            "c-logs": client_error(DENIED, 403),
            "d-logs": client_error({**THROTTLED, "CisAction": "s3:GetBucketLogging"}, 503),
        }
    )
    with pytest.raises(PartialRun) as raised:
        judge_each(judge, ["a-logs", "b-logs", "c-logs", "d-logs", "e-logs"], subject, "buckets judged")
    run = raised.value
    assert [row(v) for v in run.evaluations] == [
        ("a-logs", S3_BUCKET, "COMPLIANT", "S3 bucket a-logs is fine."),
        (
            "c-logs",
            S3_BUCKET,
            "NON_COMPLIANT",
            "Could not evaluate: s3:GetBucketPolicy was denied (AccessDenied) for S3 bucket c-logs.",
        ),
        ("e-logs", S3_BUCKET, "COMPLIANT", "S3 bucket e-logs is fine."),
    ]
    assert run.unjudged == ["S3 bucket b-logs", "S3 bucket d-logs"]
    # The failure named is the first bucket's, in the buckets' order.
    assert run.cause is first
    assert str(run) == "2 not judged: s3:GetBucketAcl failed after retries (SlowDown)"


def test_running_out_of_time_leaves_the_rest_unjudged_and_sends_what_was_decided(lambda_time):
    def judge(name: str) -> Any:
        if name == "b-logs":
            lambda_time.remaining_ms = 1_000
        return compliant(name, S3_BUCKET, f"S3 bucket {name} is fine.")

    with pytest.raises(PartialRun) as raised:
        judge_each(judge, ["a-logs", "b-logs", "c-logs", "d-logs"], subject, "buckets judged", workers=1)
    run = raised.value
    assert [v.complianceResourceId for v in run.evaluations] == ["a-logs", "b-logs"]
    assert run.unjudged == ["S3 bucket c-logs", "S3 bucket d-logs"]
    assert isinstance(run.cause, OutOfTime)
    assert "after 2 of 4 buckets judged," in str(run.cause)


# --- map_in_order: the workers -----------------------------------------------------------------


def test_a_failure_handler_gives_the_failed_items_result_in_its_place():
    def work(n: int) -> str:
        if n % 2:
            raise EvaluationError(f"item {n} is unreadable.")
        return f"item {n} read"

    results = map_in_order(work, range(4), "items read", on_error=lambda n, error: f"{n}: {error}")
    assert results == ["item 0 read", "1: item 1 is unreadable.", "item 2 read", "3: item 3 is unreadable."]


def test_a_failure_the_rule_does_not_judge_is_never_handed_to_the_failure_handler():
    def work(n: int) -> int:
        if n == 1:
            raise KeyError("a bug, not a state of the account")
        return n

    with pytest.raises(KeyError):
        map_in_order(work, range(3), "items read", on_error=lambda n, error: -1)


def overlap(items: int, workers: int | None, expected: int) -> int:
    """How many of ``items`` slow items were in flight at once at most. Each item waits (up to 5 s)
    until ``expected`` items are in flight, so that a loaded machine's slow thread start cannot
    make items that should overlap run one after the other."""
    lock = threading.Lock()
    running = [0]
    most = [0]
    together = threading.Barrier(expected, timeout=5)

    def work(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        together.wait()
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return n

    assert map_in_order(work, range(items), "done", workers) == list(range(items))
    return most[0]


@pytest.mark.parametrize(
    ("items", "workers", "in_flight"),
    [
        pytest.param(2, None, 2, id="two_items_overlap"),
        pytest.param(6, 2, 2, id="two_workers_two_at_a_time"),
        pytest.param(3, 1, 1, id="one_worker_one_at_a_time"),
    ],
)
def test_how_many_items_are_in_flight_at_once(items, workers, in_flight):
    assert overlap(items, workers, in_flight) == in_flight


def test_the_workers_are_the_rules_own_threads():
    names = map_in_order(lambda n: threading.current_thread().name, range(3), "done")
    assert all(name.startswith("cis-rule") for name in names), names


def test_after_a_failure_the_items_already_running_finish_before_the_error_is_raised():
    finished: list[int] = []
    started = threading.Barrier(3, timeout=5)

    def work(n: int) -> int:
        started.wait()
        if n == 0:
            raise EvaluationError("item 0 is unreadable.")
        time.sleep(0.1)
        finished.append(n)
        return n

    with pytest.raises(EvaluationError):
        map_in_order(work, range(3), "done")
    # Items 1 and 2 were running when item 0 failed: no thread outlives the call.
    assert sorted(finished) == [1, 2]


def test_with_many_verdicts_to_send_the_run_stops_earlier_to_keep_time_for_each_batch(lambda_time):
    # 35 s left: enough margin for sending up to 200 verdicts (30 s and 4 s per further 100),
    # not for 201 (38 s).
    lambda_time.remaining_ms = 35_000
    with pytest.raises(OutOfTime, match=r"after 201 of 300 buckets judged,"):
        map_in_order(lambda n: n, range(300), "buckets judged", workers=1)
