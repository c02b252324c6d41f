"""Work per run of CIS 2.3 and 2.6 on 20, 120 and 500 trail buckets and of CIS 1.21 on 5,000 IAM users,
clean and under 30 % throttling; with ``--converge``, whether large accounts converge.

Run: ``.venv/bin/python benchmarks/large_accounts.py`` (a script that prints figures, not a test; a few
minutes). ``--buckets 20,120`` / ``--users 0`` / ``--seeds 1`` / ``--memory`` change what it runs.

``--converge`` (``--buckets 500 --users 5000 --levels 0.3,0.5``): each rule runs as AWS Config would
invoke it again and again, with a Lambda context whose remaining time follows the simulated clock
(``--latency`` per request on the critical path plus botocore's backoff, the worker threads' share
divided among them) against the rule's own ``LambdaTimeout``, and AWS Config's results kept between
invocations (the local Config seam, which records when each result came). Per rule and throttling
level it prints: runs finished in one invocation, runs that converged over several (every resource
judged since the first invocation; the rules judge the oldest results first), the invocations that
took, the estimated Lambda time of the longest invocation, the API calls, and whether any invocation
would have been killed (its simulated time past the timeout: never, the rules stop and send first).

Each scenario seeds in-process moto, then runs the rule's Lambda handler as AWS Config does:

* **clean**: API calls per operation, botocore clients built, wall time here (moto's work and
  the rule's in one process, no network), and the rule's CPU time: the process's CPU time minus
  the CPU time moto spends answering (timed around moto's ``before-send`` handler, in every thread).
* **throttled**: a ``before-send`` handler on boto3's default session (copied into every client the
  rule builds) answers ``--throttle`` (30 %) of the HTTP requests, chosen by a seeded RNG keyed on the
  request and its attempt number (so the worker threads' order does not matter), with a real
  throttling error in the service's own protocol (400 ``ThrottlingException`` for JSON services,
  400 ``Throttling`` for IAM's query protocol, 503 ``RequestLimitExceeded`` for EC2, 503 ``SlowDown``
  for S3). botocore parses and retries it like an answer from AWS (standard mode, 8 attempts, one
  retry quota per client). The retry sleeps are recorded instead of slept (``botocore.endpoint.time``
  is replaced for the run), so a run takes seconds: "backoff in all" is the sum of the computed
  delays, "on the critical path" the calling thread's delays plus the worker threads' delays
  divided among the workers. The verdicts must equal the clean run's; ``--seeds`` runs (3) each.
* **Lambda estimate**: the rule's CPU time scaled to the function's memory (Lambda gives one vCPU
  at 1,769 MB and a proportional share below: 256 MB is about a seventh), plus ``--latency``
  (100 ms, a conservative cross-region figure) per API call on the critical path, plus, under
  throttling, the backoff on the critical path (the worst seed).
* ``--memory``: the resident size of an interpreter holding boto3, rdklib, the rule modules and
  the clients of the largest run, and the peak of Python allocations during a clean run
  (tracemalloc; moto's in-process work is included, so this over-states what the Lambda holds).

What moto does not do as AWS does, and how this script closes the gap:

* ``ListTrails`` in moto lists only the client's region (and multi-region trails); AWS lists every
  trail of the account. An ``after-call`` handler adds the other regions' trails to the answer.
* ``ListUsers`` in moto ignores ``MaxItems`` and answers in one page; AWS pages it (100 by default, at
  most 1,000). The ``before-send`` handler serves the pages AWS would send, as real HTTP answers, so
  throttling and parsing cost what they would.
* moto's ``DescribeTrails`` ignores ``trailNameList``; an ``after-call`` handler keeps only the named
  trails, as AWS answers.
* moto's ``ListBuckets`` gives no ``BucketRegion`` (AWS's does), so the rules call
  ``GetBucketLocation`` per bucket here: the figures are the worst case (older endpoints).
* An account has at most 5 trails per region; the scenarios spread trails over 17 regions, 30 per
  region at 500 buckets (moto has no such limit), to stand for the trails and organisation
  trails an account's buckets can serve.

Two real waits stay in the wall times: moto answers the first ``GenerateCredentialReport`` with
``STARTED``, so CIS 1.21 waits its first second for the report, as it would on AWS after four hours.
A run fails, without a verdict, when one call is throttled on all 8 attempts (0.3^8, about 1 in
15,000 calls at 30 %): the throttled lines then say "run failed".

GetComplianceDetailsByConfigRule and empty PutEvaluations calls are answered by the local Config seam
(cispack.local.config) before they reach the HTTP layer, so they are counted but never throttled.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rulelib"))

from cispack.testing.cases import FAKE_ENV

os.environ.update(FAKE_ENV)

import boto3
import botocore.endpoint
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from cis_rule import RuleFailed
from cispack.catalog.rules import import_rule_module
from cispack.local.config import ComplianceLedger, MotoCredentialReport
from cispack.local.events import scheduled_event

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
)
USERS_PAGE_DEFAULT, USERS_PAGE_MAX = 100, 1000
LAMBDA_FULL_VCPU_MB = 1769
RULELIB = Path(__file__).resolve().parent.parent / "rulelib"
RULES = Path(__file__).resolve().parent.parent / "rules"


# --- The HTTP layer: throttling and AWS-sized ListUsers pages ---------------------------------


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _answer(url: str, status: int, body: str, headers: Mapping[str, str] | None = None) -> AWSResponse:
    return AWSResponse(url, status, dict(headers or {}), _Body(body.encode()))


def throttling_answer(service_id: str, url: str) -> AWSResponse:
    """A throttling error as each service's protocol writes it."""
    if service_id in ("s3", "s3-control"):
        return _answer(
            url, 503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        )
    if service_id == "ec2":
        return _answer(
            url,
            503,
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded."
            "</Message></Error></Errors><RequestID>bench</RequestID></Response>",
        )
    if service_id in ("iam", "sts"):
        return _answer(
            url,
            400,
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
            "</Error><RequestId>bench</RequestId></ErrorResponse>",
        )
    return _answer(
        url,
        400,
        '{"__type": "ThrottlingException", "message": "Rate exceeded"}',
        {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/x-amz-json-1.1"},
    )


def _users_page(url: str, body: bytes) -> AWSResponse:
    """The ListUsers page AWS would answer: ``MaxItems`` users (100 by default, 1,000 at most) from
    ``Marker`` on, read from moto's IAM backend."""
    from moto.iam.models import iam_backends

    query = {key: values[0] for key, values in parse_qs(body.decode()).items()}
    size = min(int(query.get("MaxItems") or USERS_PAGE_DEFAULT), USERS_PAGE_MAX)
    start = int(query.get("Marker") or 0)
    users = list(iam_backends[ACCOUNT_ID]["global"].users.values())
    page = users[start : start + size]
    members = "".join(
        f"<member><Path>{escape(u.path)}</Path><UserName>{escape(u.name)}</UserName><UserId>{u.id}</UserId>"
        f"<Arn>{escape(u.arn)}</Arn><CreateDate>{u.create_date.strftime('%Y-%m-%dT%H:%M:%SZ')}</CreateDate></member>"
        for u in page
    )
    more = start + size < len(users)
    tail = (
        f"<IsTruncated>true</IsTruncated><Marker>{start + size}</Marker>"
        if more
        else "<IsTruncated>false</IsTruncated>"
    )
    return _answer(
        url,
        200,
        '<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult>'
        f"<Users>{members}</Users>{tail}</ListUsersResult>"
        "<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></ListUsersResponse>",
    )


@dataclass
class HttpLayer:
    """Below botocore's retries: throttles a share of the requests, serves ListUsers pages, and
    counts requests and API calls per thread."""

    throttle: float = 0.0
    seed: int = 1
    requests: int = 0
    throttled: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    calls_by_thread: Counter[int] = field(default_factory=Counter)
    requests_by_thread: Counter[int] = field(default_factory=Counter)
    clients: int = 0
    #: CPU seconds spent answering as AWS would (moto, the ListUsers pages), in any thread.
    aws_cpu: float = 0.0
    _seen: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _, service_id, operation = event_name.split(".", 2)
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        key = hashlib.sha256(f"{request.method} {request.url} ".encode() + body).hexdigest()
        with self._lock:
            self.requests += 1
            self.requests_by_thread[threading.get_ident()] += 1
            self._seen[key] += 1
            attempt = self._seen[key]
        answer = None
        if self.throttle and random.Random(f"{self.seed}:{key}:{attempt}").random() < self.throttle:
            with self._lock:
                self.throttled += 1
            answer = throttling_answer(service_id, request.url)
        elif (service_id, operation) == ("iam", "ListUsers"):
            started = time.thread_time()
            answer = _users_page(request.url, body)
            self.aws_time(time.thread_time() - started)
        if answer is not None:
            request.bench_answered = True
        return answer

    def aws_time(self, seconds: float) -> None:
        with self._lock:
            self.aws_cpu += seconds

    def count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1
            self.calls_by_thread[threading.get_ident()] += 1

    def client_built(self, **_: Any) -> None:
        with self._lock:
            self.clients += 1


class RecordingTime:
    """``botocore.endpoint.time`` for a run: every retry sleep is recorded, by thread, not slept."""

    def __init__(self) -> None:
        self.by_thread: defaultdict[int, float] = defaultdict(float)
        self.sleeps = 0
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.by_thread[threading.get_ident()] += seconds
            self.sleeps += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def _moto_skips_answered_requests(layer: HttpLayer) -> Any:
    """botocore calls every before-send handler, the first answer wins: moto's (registered after
    this script's) must not do the work of a request this script already answered. moto's CPU
    time is AWS's work, not the rule's: it is added up apart."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def call(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if getattr(request, "bench_answered", False):
            return None
        started = time.thread_time()
        try:
            return original(self, event_name, request, **kwargs)
        finally:
            layer.aws_time(time.thread_time() - started)

    return mock.patch.object(BotocoreStubber, "__call__", call)


@contextmanager
def installed(layer: HttpLayer, extra: list[tuple[str, Callable[..., Any]]]) -> Iterator[None]:
    session = boto3._get_default_session()
    events = session.events
    events.register_first("before-send", layer.before_send, unique_id="bench-http")
    events.register("before-parameter-build", layer.count, unique_id="bench-count")
    events.register("creating-client-class", layer.client_built, unique_id="bench-clients")
    for n, (name, handler) in enumerate(extra):
        events.register(name, handler, unique_id=f"bench-extra-{n}")
    try:
        with _moto_skips_answered_requests(layer):
            yield
    finally:
        events.unregister("before-send", unique_id="bench-http")
        events.unregister("before-parameter-build", unique_id="bench-count")
        events.unregister("creating-client-class", unique_id="bench-clients")
        for n, (name, _) in enumerate(extra):
            events.unregister(name, unique_id=f"bench-extra-{n}")


# --- Scenarios --------------------------------------------------------------------------------


def seed_trail_buckets(count: int) -> list[tuple[str, str]]:
    """``count`` trails, each delivering to its own bucket in the trail's home region, spread over
    17 regions; every third bucket has server access logging on, every fifth a public-read ACL.
    Returns the trails as (name, home region)."""
    trails = []
    log_targets: dict[str, str] = {}
    for index in range(count):
        region = REGIONS[index % len(REGIONS)]
        s3 = boto3.client("s3", region_name=region)
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        name = f"trail-logs-{index:03d}-{region}"
        s3.create_bucket(Bucket=name, **location)
        if index % 5 == 0:
            s3.put_bucket_acl(Bucket=name, ACL="public-read")
        if index % 3 == 0:
            if region not in log_targets:
                log_targets[region] = f"access-logs-{region}"
                s3.create_bucket(Bucket=log_targets[region], ACL="log-delivery-write", **location)
            s3.put_bucket_logging(
                Bucket=name,
                BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": log_targets[region], "TargetPrefix": "x/"}},
            )
        trail = f"trail-{index:03d}"
        # The first trail is the account's multi-region trail; the others are single-region.
        boto3.client("cloudtrail", region_name=region).create_trail(
            Name=trail, S3BucketName=name, IsMultiRegionTrail=index == 0
        )
        trails.append((trail, region))
    return trails


def list_every_trail(trails: list[tuple[str, str]]) -> Callable[..., None]:
    def after(parsed: dict[str, Any], **_: Any) -> None:
        if "Trails" in parsed:
            parsed["Trails"] = [
                {"TrailARN": f"arn:aws:cloudtrail:{home}:{ACCOUNT_ID}:trail/{name}", "Name": name, "HomeRegion": home}
                for name, home in trails
            ]

    return after


def describe_only_named_trails() -> list[tuple[str, Callable[..., Any]]]:
    """moto's DescribeTrails ignores ``trailNameList``; AWS answers only the named trails."""

    def params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_trail_names"] = list(params.get("trailNameList") or [])

    def after(parsed: dict[str, Any], context: Mapping[str, Any], **_: Any) -> None:
        names = set(context.get("bench_trail_names") or [])
        if names and "trailList" in parsed:
            parsed["trailList"] = [
                t for t in parsed["trailList"] if t.get("TrailARN") in names or t.get("Name") in names
            ]

    return [
        ("before-parameter-build.cloudtrail.DescribeTrails", params),
        ("after-call.cloudtrail.DescribeTrails", after),
    ]


def seed_users(count: int) -> None:
    """``count`` IAM users; every tenth has a console password and an access key never used."""
    iam = boto3.client("iam")
    for index in range(count):
        name = f"user-{index:05d}"
        iam.create_user(UserName=name)
        if index % 10 == 0:
            iam.create_login_profile(UserName=name, Password="Passw0rd!Passw0rd!")
            iam.create_access_key(UserName=name)


@dataclass
class Outcome:
    verdicts: list[tuple[str, str]] | None
    error: str
    wall: float
    #: CPU seconds of the run, moto's share taken out: the rule's own (and botocore's) work.
    rule_cpu: float
    layer: HttpLayer
    sleeps: RecordingTime | None
    peak: int = 0

    def summary(self) -> str:
        if self.verdicts is None:
            return f"ERROR {self.error[:80]}"
        kinds = Counter(v for _, v in self.verdicts)
        return " ".join(f"{kind}={kinds[kind]}" for kind in sorted(kinds))


def run_rule(
    rule: str,
    layer: HttpLayer,
    extra: list[tuple[str, Callable[..., Any]]],
    record_sleeps: bool,
    memory: bool = False,
) -> Outcome:
    module = import_rule_module(rule)
    ledger = ComplianceLedger(current_rule=rule).install()
    report = MotoCredentialReport().install()
    sleeps = RecordingTime() if record_sleeps else None
    event = scheduled_event(rule, account=ACCOUNT_ID, region=REGION)
    verdicts = None
    error = ""
    peak = 0
    try:
        with installed(layer, extra), mock.patch.object(botocore.endpoint, "time", sleeps or time):
            if memory:
                tracemalloc.start()
            start, cpu_start = time.perf_counter(), time.process_time()
            try:
                # rdklib prints the error response it builds; the outcome line reports it.
                with redirect_stdout(io.StringIO()):
                    result = module.lambda_handler(event, None)
                verdicts = [(e["ComplianceResourceId"], e["ComplianceType"]) for e in result]
            except RuleFailed as failed:
                error = str(failed)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            if memory:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
    finally:
        report.uninstall()
        ledger.uninstall()
    return Outcome(verdicts, error, wall, max(cpu - layer.aws_cpu, 0.0), layer, sleeps, peak)


def workers() -> int:
    """The rules' worker threads (1 where the code has none: the serial code before them)."""
    try:
        import cis_parallel
    except ImportError:
        return 1
    return int(cis_parallel.WORKERS)


def on_critical_path(by_thread: Mapping[int, float], main: int) -> float:
    """What the calling thread did, plus the workers' share: their total divided among the
    workers, as latency-bound units of the same kind share out (here, without latency, one
    thread may take more of them than it would against AWS)."""
    others = sum(value for ident, value in by_thread.items() if ident != main)
    return by_thread.get(main, 0) + others / workers()


def lambda_cpu(rule_cpu: float, memory_mb: int) -> float:
    """Lambda gives a function one vCPU at 1,769 MB and a proportional share below."""
    return rule_cpu * max(1.0, LAMBDA_FULL_VCPU_MB / memory_mb)


def report(
    label: str, rule: str, extra: list[tuple[str, Callable[..., Any]]], args: argparse.Namespace, ops: tuple[str, ...]
) -> None:
    main = threading.get_ident()
    clean = run_rule(rule, HttpLayer(), extra, record_sleeps=False)
    calls = sum(clean.layer.calls.values())
    path = round(on_critical_path(clean.layer.calls_by_thread, main))
    per_op = " ".join(f"{op}={clean.layer.calls[op]}" for op in ops if clean.layer.calls[op])
    cpu = lambda_cpu(clean.rule_cpu, args.memory_size)
    print(f"{label} [{rule}]")
    print(f"  verdicts:  {clean.summary()}")
    print(f"  clean:     {calls} API calls ({per_op}), {clean.layer.clients} clients built")
    print(
        f"             wall {clean.wall:.2f} s here (moto's work included), rule CPU {clean.rule_cpu:.2f} s; "
        f"{path} calls on the critical path"
    )
    worst = 0.0
    for seed in range(args.seed, args.seed + args.seeds):
        throttled = run_rule(rule, HttpLayer(throttle=args.throttle, seed=seed), extra, record_sleeps=True)
        assert throttled.sleeps is not None
        same = "identical" if throttled.verdicts == clean.verdicts else "DIFFERENT"
        waited = on_critical_path(throttled.sleeps.by_thread, main)
        requests = round(on_critical_path(throttled.layer.requests_by_thread, main))
        worst = max(worst, cpu + requests * args.latency + waited)
        print(
            f"  throttled {args.throttle:.0%} (seed {seed}): {throttled.layer.requests} HTTP requests, "
            f"{throttled.layer.throttled} throttled; backoff {sum(throttled.sleeps.by_thread.values()):.1f} s in all, "
            f"{waited:.1f} s on the critical path ({requests} requests); verdicts {same}"
            + (f"; run failed: {throttled.error[:100]}" if throttled.error else "")
        )
    print(
        f"  Lambda estimate ({args.memory_size} MB, {args.latency * 1000:.0f} ms a call): clean "
        f"{cpu + path * args.latency:.0f} s; at {args.throttle:.0%} throttling up to {worst:.0f} s"
    )
    if args.memory:
        measured = run_rule(rule, HttpLayer(), extra, record_sleeps=False, memory=True)
        print(f"  memory:    peak Python allocations during the run {measured.peak / 2**20:.1f} MiB (moto's included)")


class SimulatedLambda:
    """A Lambda context whose remaining time is the timeout less the simulated time: ``latency``
    per request and the recorded backoff, on the critical path (the workers' share divided)."""

    def __init__(self, layer: HttpLayer, sleeps: RecordingTime, timeout: float, latency: float, main: int) -> None:
        self.layer, self.sleeps, self.timeout, self.latency, self.main = layer, sleeps, timeout, latency, main

    def used(self) -> float:
        requests = on_critical_path(self.layer.requests_by_thread, self.main)
        return requests * self.latency + on_critical_path(self.sleeps.by_thread, self.main)

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout - self.used()) * 1000)


@dataclass
class Invocation:
    judged: set[str]
    error: str
    used: float
    calls: int


def invoke_as_config(
    rule: str,
    layer: HttpLayer,
    extra: list[tuple[str, Callable[..., Any]]],
    ledger: ComplianceLedger,
    timeout: float,
    latency: float,
) -> Invocation:
    """One invocation with a simulated Lambda clock; AWS Config's results persist in ``ledger``."""
    module = import_rule_module(rule)
    sleeps = RecordingTime()
    context = SimulatedLambda(layer, sleeps, timeout, latency, threading.get_ident())
    before = len(ledger.sent)
    error = ""
    report = MotoCredentialReport().install()
    try:
        with installed(layer, extra), mock.patch.object(botocore.endpoint, "time", sleeps):
            with redirect_stdout(io.StringIO()):
                try:
                    module.lambda_handler(scheduled_event(rule, account=ACCOUNT_ID, region=REGION), context)
                except RuleFailed as failed:
                    error = str(failed)
    finally:
        report.uninstall()
    judged = {
        str(e["ComplianceResourceId"])
        for e in ledger.sent[before:]
        if not str(e.get("Annotation", "")).startswith("Could not evaluate: not evaluated since")
    }
    return Invocation(judged, error, context.used(), sum(layer.calls.values()))


def converge(
    label: str, rule: str, extra: list[tuple[str, Callable[..., Any]]], args: argparse.Namespace, cis: str
) -> None:
    """Per throttling level: runs finished in one invocation, converged over several, Lambda time, calls."""
    timeout = float(json_parameters(rule)["LambdaTimeout"])
    ledger = ComplianceLedger(current_rule=rule).install()
    try:
        clean = invoke_as_config(rule, HttpLayer(), extra, ledger, 10**6, args.latency)
        everything = clean.judged
        for level in [float(x) for x in args.levels.split(",") if x.strip()]:
            one, several, invocations, longest, calls, killed = 0, 0, [], 0.0, [], 0
            for seed in range(args.seed, args.seed + args.seeds):
                ledger.results.clear()
                ledger.recorded.clear()
                seen: set[str] = set()
                total = 0
                for n in range(1, args.max_invocations + 1):
                    layer = HttpLayer(throttle=level, seed=seed * 1000 + n)
                    run = invoke_as_config(rule, layer, extra, ledger, timeout, args.latency)
                    seen |= run.judged
                    total += run.calls
                    longest = max(longest, run.used)
                    killed += run.used > timeout
                    if seen >= everything:
                        break
                calls.append(total)
                invocations.append(n if seen >= everything else None)
                if n == 1 and seen >= everything and not run.error:
                    one += 1
                elif seen >= everything:
                    several += 1
            took = sorted(i for i in invocations if i)
            print(
                f"{cis} {label}, {level:.0%} throttling [{rule}]: {args.seeds} runs; finished in one invocation "
                f"{one}/{args.seeds}; converged over several {several}/{args.seeds}"
                + (f" (in {took[0]}-{took[-1]} invocations)" if several else "")
                + f"; not converged in {args.max_invocations}: {invocations.count(None)}; "
                f"estimated Lambda time of the longest invocation {longest:.0f} s of {timeout:.0f} s; "
                f"API calls per run {min(calls):,}-{max(calls):,}; invocations killed by the timeout: {killed}"
            )
    finally:
        ledger.uninstall()


def json_parameters(rule: str) -> dict[str, Any]:
    import json

    return dict(json.loads((RULES / rule / "parameters.json").read_text())["Parameters"])


def footprint() -> str:
    """What a rule's Lambda holds before its run's data: the interpreter with boto3, botocore,
    rdklib and the pack's rule modules, and the clients of the largest run (17 S3, 17
    CloudTrail, S3 Control, IAM, Config). Measured in a fresh interpreter, without moto."""
    code = f"""
import resource, sys
sys.path[:0] = [{str(RULELIB)!r}] + [{str(RULES)!r} + "/" + n for n in
    ("CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC", "IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS", "CONFIG_ENABLED_ALL_REGIONS")]
import boto3, rdklib
import CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC, IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS, CONFIG_ENABLED_ALL_REGIONS
regions = {REGIONS!r}
clients = [boto3.client(s, region_name=r) for r in regions for s in ("s3", "cloudtrail")]
clients += [boto3.client(s, region_name="us-east-1") for s in ("s3control", "iam", "config")]
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    return f"{float(out.stdout.strip()):.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buckets", default="20,120,500", help="trail bucket counts for CIS 2.3/2.6")
    parser.add_argument("--users", type=int, default=5000, help="IAM users for CIS 1.21 (0: skip)")
    parser.add_argument("--throttle", type=float, default=0.3, help="share of HTTP requests throttled")
    parser.add_argument("--seed", type=int, default=1, help="first seed of the throttling RNG")
    parser.add_argument("--seeds", type=int, default=3, help="throttled runs per scenario, one seed each")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per API call in the estimate")
    parser.add_argument("--memory-size", type=int, default=256, help="the Lambda's memory (MB) in the estimate")
    parser.add_argument("--memory", action="store_true", help="also measure peak allocations (slower)")
    parser.add_argument("--converge", action="store_true", help="invoke each rule until it has judged everything")
    parser.add_argument("--levels", default="0.3,0.5", help="throttling levels of --converge")
    parser.add_argument("--max-invocations", type=int, default=6, help="--converge: invocations tried per run")
    parser.add_argument("--only", default="", help="--converge: only these rules (comma-separated CIS numbers)")
    args = parser.parse_args()
    if args.converge:
        run_convergence(args)
        return
    if args.memory:
        print(f"Footprint before any run's data (RSS): {footprint()}")
    trail_ops = (
        "DescribeTrails",
        "ListTrails",
        "ListBuckets",
        "GetBucketLocation",
        "GetPublicAccessBlock",
        "GetBucketAcl",
        "GetBucketPolicy",
        "GetBucketLogging",
        "PutEvaluations",
        "GetComplianceDetailsByConfigRule",
    )
    for count in [int(n) for n in args.buckets.split(",") if n.strip()]:
        with mock_aws():
            trails = seed_trail_buckets(count)
            extra = [("after-call.cloudtrail.ListTrails", list_every_trail(trails)), *describe_only_named_trails()]
            for rule in ("CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC", "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING"):
                report(f"{count} trail buckets", rule, extra, args, trail_ops)
    if args.users:
        user_ops = ("GenerateCredentialReport", "GetCredentialReport", "ListUsers", "PutEvaluations")
        with mock_aws():
            seed_users(args.users)
            report(f"{args.users} IAM users", "IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS", [], args, user_ops)


def run_convergence(args: argparse.Namespace) -> None:
    for count in [int(n) for n in args.buckets.split(",") if n.strip()]:
        with mock_aws():
            trails = seed_trail_buckets(count)
            extra = [("after-call.cloudtrail.ListTrails", list_every_trail(trails)), *describe_only_named_trails()]
            for rule, cis in (
                ("CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC", "2.3"),
                ("CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING", "2.6"),
            ):
                if not args.only or cis in args.only.split(","):
                    converge(f"{count} trail buckets", rule, extra, args, cis)
    if args.users:
        with mock_aws():
            seed_users(args.users)
            converge(f"{args.users} IAM users", "IAM_USER_NO_UNUSED_SETUP_ACCESS_KEYS", [], args, "1.21")


if __name__ == "__main__":
    main()
