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
  rule's client factory builds each once; the callers here build them in the calling thread,
  since creating clients is not thread-safe). botocore's standard retry mode keeps one retry
  quota per client (500 units; a throttled retry takes 5, a success gives back what its retries
  took, a first-try success 1): the workers draw on that one quota, so concurrency adds no retry
  budget, and sustained throttling empties it as fast as a serial run would, after which the
  throttling error reaches the rule and the run fails without a verdict.
* **Deterministic.** Results come back in the order of the items, whatever order the workers
  finish in, so the evaluations (and their order) are those of a serial run.
* **Errors fail the run.** The first error in item order is raised in the calling thread (the
  same one a serial run would raise first); work not yet started is cancelled and the units
  already running are waited for (a unit is a few calls), so no thread outlives the invocation
  and keeps calling AWS into the next one.
* **Deadline.** Before each unit, the worker asks :func:`cis_rule.check_deadline`, naming how many
  units are done ("57 of 120 trail buckets judged"): when the Lambda's remaining time runs short
  the run stops with that message instead of being killed mid-run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from cis_rule import check_deadline

#: Units of work in flight at once (see the module docstring).
WORKERS = 4


def map_in_order[T, R](
    work: Callable[[T], R], items: Sequence[T], done_what: str, workers: int | None = None
) -> list[R]:
    """``[work(item) for item in items]`` with at most ``workers`` (default :data:`WORKERS`) items
    in flight, results in the items' order. ``done_what`` completes the progress phrase:
    ``"trail buckets judged"`` gives ``"57 of 120 trail buckets judged"`` in a deadline error."""
    workers = WORKERS if workers is None else workers
    total = len(items)
    lock = threading.Lock()
    finished = [0]

    def run(item: T) -> R:
        with lock:
            done = finished[0]
        check_deadline(f"{done} of {total} {done_what}")
        result = work(item)
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
