"""Bounded concurrency for the rules that read many independent resources or regions (CIS 2.3 and
2.6: one bucket after another; CIS 2.5: one region after another). Symlinked into those rule
folders. Stdlib and cis_rule only.

* **Why threads.** The work is waiting for AWS: each unit (a bucket, a region) is two to four API
  calls, 20-150 ms each, and under throttling the retries' backoff (botocore standard mode: up to
  20 s a retry) dominates. Threads overlap those waits; the parsing between them is small.
* **Why at most 4 workers** (:data:`WORKERS`). Four overlapping units divide the waiting by up to
  four (benchmarks/large_accounts.py measures it) while keeping the request rate at most four
  times the serial one. The units are independent resources (different buckets) or different
  regions, whose request-rate limits are separate, so the extra rate does not concentrate on one
  limit. Four also stays well inside botocore's connection pool (10 per client): more workers
  than that would queue on the pool, not run.
* **Throttling is not multiplied.** The workers share one client per service and region (the
  rule's client factory builds each once, under a lock, since creating clients is not
  thread-safe). botocore's standard retry mode keeps one retry quota per client; the pack's
  clients retry throttling without drawing on it (``cis_rule._ThrottlingFreeQuota``), so
  sustained throttling costs backoff, bounded by the run's time budget, and never fails a call on
  its first attempt because the quota ran dry. 5xx answers and time-outs still draw on it.
* **Deterministic.** Results come back in the order of the items, whatever order the workers
  finish in, so the evaluations (and their order) are those of a serial run.
* **Errors.** :func:`map_in_order` raises the first error in item order in the calling thread
  (the same one a serial run would raise first); work not yet started is cancelled and the units
  already running are waited for (a unit is a few calls), so no thread outlives the invocation
  and keeps calling AWS into the next one. :func:`judge_each`, for rules that give one verdict
  per item, keeps going instead (CONTROLS.md, "When a rule cannot judge"): an item that fails for
  good (access denied, an unreadable input) is NON_COMPLIANT ``Could not evaluate: ...``; an item
  that fails after retries (throttling, 5xx, time) is not judged, the others still are, and the
  run ends with :class:`cis_rule.PartialRun` carrying the verdicts decided and naming the rest.
* **Deadline.** Before each unit, the worker asks :func:`cis_rule.check_deadline`, naming how many
  units are done ("57 of 120 trail buckets judged") and how many verdicts wait to be sent: when the
  time left is what sending them needs, no further unit starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cis_rule import JUDGED_FAILURES, PartialRun, check_deadline, could_not_evaluate, failure_text, is_transient

#: Units of work in flight at once (see the module docstring).
WORKERS = 4


def map_in_order[T, R](
    work: Callable[[T], R],
    items: Sequence[T],
    done_what: str,
    workers: int | None = None,
    on_error: Callable[[T, Exception], R] | None = None,
) -> list[R]:
    """``[work(item) for item in items]`` with at most ``workers`` (default :data:`WORKERS`) items
    in flight, results in the items' order. ``done_what`` completes the progress phrase:
    ``"trail buckets judged"`` gives ``"57 of 120 trail buckets judged"`` in a deadline error.
    ``on_error(item, error)``, when given, gives the result of an item whose work (or deadline
    check) raised one of the failures a rule judges, instead of failing the whole map."""
    workers = WORKERS if workers is None else workers
    total = len(items)
    lock = threading.Lock()
    finished = [0]

    def run(item: T) -> R:
        with lock:
            done = finished[0]
        try:
            check_deadline(f"{done} of {total} {done_what}", decided=done)
            result = work(item)
        except JUDGED_FAILURES as error:
            if on_error is None:
                raise
            result = on_error(item, error)
        with lock:
            finished[0] += 1
        return result

    if workers <= 1 or total <= 1:
        return [run(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(workers, total), thread_name_prefix="cis-rule")
    try:
        futures = [pool.submit(run, item) for item in items]
        return [future.result() for future in futures]
    finally:
        # On success every future is done; on an error the ones not started are dropped.
        pool.shutdown(wait=True, cancel_futures=True)


class _NotJudged:
    """The result of an item :func:`judge_each` could not judge, for now."""

    def __init__(self, name: str, error: Exception) -> None:
        self.name = name
        self.error = error


def judge_each[T](
    judge: Callable[[T], Any],
    items: Sequence[T],
    subject: Callable[[T], tuple[str, str, str]],
    done_what: str,
    workers: int | None = None,
) -> list[Any]:
    """One verdict per item (``judge``, at most ``workers`` at a time, in the items' order).
    ``subject(item)`` gives the item's resource ID, resource type and how a message names it.
    An item that fails for good is NON_COMPLIANT ``Could not evaluate: <call or input>``; if
    any item failed after retries (or the time ran out), :class:`cis_rule.PartialRun` carries the
    verdicts decided and names the items not judged."""

    def failed(item: T, error: Exception) -> Any:
        resource_id, resource_type, name = subject(item)
        if is_transient(error):
            return _NotJudged(name, error)
        return could_not_evaluate(resource_id, resource_type, f"{failure_text(error)} for {name}")

    results = map_in_order(judge, items, done_what, workers, on_error=failed)
    verdicts = [result for result in results if not isinstance(result, _NotJudged)]
    missing = [result for result in results if isinstance(result, _NotJudged)]
    if missing:
        raise PartialRun(verdicts, [result.name for result in missing], missing[0].error)
    return verdicts
