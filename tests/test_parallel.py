"""Bounded concurrency for the rules (rulelib/cis_parallel.py): order, errors, bound, deadline."""

from __future__ import annotations

import threading
import time

import pytest

import cis_rule
from cis_parallel import WORKERS, map_in_order
from cis_rule import EvaluationError


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_results_come_back_in_the_items_order_whatever_order_they_finish_in():
    # The first items take longest, so they finish last.
    assert map_in_order(lambda n: time.sleep(0.02 * (5 - n)) or n * n, range(6), "squares done") == [
        0,
        1,
        4,
        9,
        16,
        25,
    ]


@pytest.mark.parametrize("items", [[], [7]], ids=["none", "one"])
def test_no_item_or_one_item_runs_in_the_calling_thread(items):
    assert map_in_order(lambda n: threading.current_thread() is threading.main_thread(), items, "done") == [True] * len(
        items
    )


def test_at_most_workers_items_are_in_flight():
    lock = threading.Lock()
    running = [0]
    most = [0]

    def work(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return n

    assert map_in_order(work, range(20), "done") == list(range(20))
    assert 1 < most[0] <= WORKERS == 4


def test_the_first_error_in_item_order_is_raised_and_unstarted_work_is_dropped():
    started: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            started.append(n)
        if n in (2, 3):
            # Item 3 fails at once, item 2 a little later: the error raised is item 2's, as serially.
            time.sleep(0.05 if n == 2 else 0)
            raise ValueError(f"item {n} failed")
        time.sleep(0.01)
        return n

    with pytest.raises(ValueError, match="item 2 failed"):
        map_in_order(work, range(40), "done")
    assert len(started) < 40


def test_serial_when_one_worker():
    threads: set[str] = set()
    assert map_in_order(lambda n: threads.add(threading.current_thread().name) or n, range(5), "done", workers=1) == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert threads == {threading.main_thread().name}


def test_deadline_stops_before_the_next_item_naming_how_many_were_done():
    context = Context(60_000)
    cis_rule._DEADLINE.start(context)
    try:

        def work(n: int) -> int:
            if n == 5:
                context.remaining_ms = 1_000
            return n

        with pytest.raises(EvaluationError, match=r"after 6 of 30 buckets judged,"):
            map_in_order(work, range(30), "buckets judged", workers=1)
        context.remaining_ms = 60_000
        with pytest.raises(EvaluationError, match=r"after \d+ of 30 buckets judged,"):
            map_in_order(work, range(30), "buckets judged")
    finally:
        cis_rule._DEADLINE.stop()


def test_workers_sharing_a_client_share_its_retry_quota(aws, monkeypatch):
    """botocore's standard retry mode keeps one retry quota per client (500 units, 5 per throttled
    retry): workers sharing the run's client cannot retry more, together, than one serial run."""
    import boto3
    import botocore.endpoint
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ClientError

    class Body:
        def stream(self, **_):
            yield b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'

    sent = []

    def throttle(request, **_):
        sent.append(request.url)
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, Body())

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)
    client = boto3.client("cloudtrail", region_name="us-east-1")
    client.meta.events.register_first("before-send.cloudtrail.DescribeTrails", throttle)

    def describe(_: int) -> str:
        try:
            client.describe_trails()
        except ClientError as err:
            return str(err.response["Error"]["Code"])
        return "answered"

    # 40 calls of 8 attempts each would be 320 requests; the shared quota allows 100 retries.
    assert map_in_order(describe, range(40), "calls made") == ["ThrottlingException"] * 40
    assert len(sent) == 40 + 500 // 5
