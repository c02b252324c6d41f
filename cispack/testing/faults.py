"""Faults injected below botocore's retries, and what each custom rule makes of them.

``./pack faults`` prints the table; ``tests/test_faults.py`` runs the same matrix in CI and asserts
on it. Every custom rule runs, as AWS Config invokes it (a scheduled event, the handler), against
one in-process moto account seeded as the demo's (``cispack/seeds/``) plus what makes every
operation and every listing of a rule reachable (:func:`seed`). A rule with change triggers runs a
second time as ``<RULE> on change``: an oversized configuration change notification for one seeded
resource (:data:`CHANGE_RESOURCES`), which it reads back with ``GetResourceConfigHistory`` (the
layer answers it from the item :mod:`cispack.local.config_items` built) and judges; the same
faults hit every operation of that path.

**Where the faults are.** A ``before-send`` handler on boto3's default session — the session
``rdklib.ClientFactory`` builds its clients from (``boto3.client``) — answers the HTTP request
itself: a real status code and a body in the service's own wire format (query XML for IAM and
SNS, EC2's XML, S3's REST XML, JSON for CloudTrail, CloudWatch Logs, Config and CloudWatch), with
each service's own error code. botocore parses that answer and retries it exactly as it would
AWS's: HTTP 500, throttling and connection errors go through the standard retry mode's attempts
(``AWS_MAX_ATTEMPTS``, which ``cis_rule`` sets), AccessDenied does not. Patching
``_make_api_call`` (or answering in ``before-call``, as :func:`cispack.local.config.respond` does)
would skip the retries altogether. botocore calls every ``before-send`` handler, so the layer
takes moto's off the session and passes it only the requests it does not answer itself. Clients
copy the session's handlers when they are built, which the rules do inside ``evaluate_*``, after
:class:`HttpLayer` is installed.

**Fault kinds.** For each rule and each operation its clean run called: AccessDenied, HTTP 500
on every attempt, a connection error on every attempt (refused, then dropped before the answer:
``EndpointConnectionError`` and ``ConnectionClosedError`` in turn), and (for each listing the
clean run read in two pages) HTTP 500 on every attempt of the second page. Then, per rule:
throttling of 30 % of all requests (chosen by a seeded hash of each request, so that the rules'
worker threads cannot change which are throttled), whose verdicts must equal the clean run's,
and a ``PutEvaluations`` answer listing one evaluation in ``FailedEvaluations``, which must fail
the run.

**moto's gaps, at the HTTP layer.** moto has no ``GetComplianceDetailsByConfigRule`` (rdklib
calls it after a periodic run) and rejects an empty ``PutEvaluations``; :class:`HttpLayer`
answers both Config calls itself, below the retries, so that faults on them are retried like any
other (``ComplianceLedger`` answers them in ``before-call``, above the retries). It answers
``GetComplianceDetailsByConfigRule`` with the verdicts of the rule's clean run, as AWS Config
would hold them, so a faulted run that lost a resource would show as a NOT_APPLICABLE verdict.

**Two pages.** AWS pages listings; moto answers most in one page. Every listing that botocore
has a paginator for, and that has two items or more, is served in two pages: the first half of
moto's answer with a continuation token, then the second half on the request that carries it
(sent to moto without the token, which moto did not issue). Both are real HTTP requests, so the
second page can fail. The clean run is made both ways: paging must not change a verdict.

**Backoff.** botocore sleeps between attempts (``time.sleep`` in ``botocore.endpoint``); the
suite replaces that sleep with a counter, so the whole matrix runs in seconds and the table can
say how much backoff 30 % throttling would have cost.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import pkgutil
import re
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from unittest import mock
from xml.sax.saxutils import escape as xml_escape

import boto3
import botocore.endpoint
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from cispack import RULELIB_DIR
from cispack.local import seeds

if str(RULELIB_DIR) not in sys.path:  # ``./pack faults`` runs without pytest's pythonpath
    sys.path.append(str(RULELIB_DIR))

from cis_rule import RuleFailed
from cispack.catalog.rules import Rule, custom_rules, import_rule_module
from cispack.local.builders import add_alarm, add_metric_filter, topic_arn
from cispack.local.config import MotoCredentialReport
from cispack.local.config_items import bucket_item, history_item, route_table_item
from cispack.local.demo import OTHER_REGION, root_row
from cispack.local.events import oversized_change_event, scheduled_event
from cispack.local.seeds import logging as logging_seed
from cispack.local.seeds import monitoring
from cispack.testing.cases import ACCOUNT_ID, FAKE_ENV, REGION, Verdict

ACCESS_DENIED = "AccessDenied"
SERVER_ERROR = "HTTP 500"
CONNECTION = "connection error"
SECOND_PAGE = "2nd page fails"
THROTTLED_OUT = "throttled out"
THROTTLING = "throttling 30 %"
DEADLINE = "deadline"
FAILED_EVALUATIONS = "FailedEvaluations"
#: A failure retrying will not cure: what it touched is NON_COMPLIANT "Could not evaluate".
PERMANENT = (ACCESS_DENIED,)
#: Failures that outlast botocore's retries: decided verdicts only, no clean-up, the run fails.
TRANSIENT = (SERVER_ERROR, CONNECTION, SECOND_PAGE, THROTTLED_OUT)
#: Faults on one operation, on every attempt (THROTTLED_OUT: of its first request).
PERSISTENT = (*PERMANENT, *TRANSIENT)
KINDS = (*PERSISTENT, THROTTLING, DEADLINE, FAILED_EVALUATIONS)

THROTTLE_RATE = 0.3
#: The simulated Lambda clock of a DEADLINE run: each HTTP attempt costs this, plus the backoff
#: botocore computes; the timeout is DEADLINE_SHARE of the clean run's time, and at least
#: DEADLINE_MIN_S: a Lambda timeout is long beside one request (the rules keep a quarter of a
#: short timeout, so twelve requests' worth leaves three for what sending needs). Runs of a few
#: calls then finish; longer ones are cut short and must stop and send, never be killed.
ATTEMPT_S = 0.1
DEADLINE_SHARE = 0.6
DEADLINE_MIN_S = 12 * ATTEMPT_S
COULD_NOT = "Could not evaluate:"
PAGE_TOKEN = "cis-faults-page-2"
#: The name of a rule's run on a configuration change, beside its periodic run.
ON_CHANGE = " on change"


@dataclass(frozen=True)
class ServiceErrors:
    """A service's own answers: (error code, HTTP status) for each fault."""

    access_denied: tuple[str, int]
    server: tuple[str, int]
    throttling: tuple[str, int]


# The codes each service gives (service API references, "Common Errors" and each service's error
# list): EC2 says UnauthorizedOperation and RequestLimitExceeded, SNS AuthorizationError, the JSON
# services AccessDeniedException / ThrottlingException with HTTP 400, S3 SlowDown with 503.
SERVICES: Mapping[str, ServiceErrors] = {
    "iam": ServiceErrors(("AccessDenied", 403), ("ServiceFailure", 500), ("Throttling", 400)),
    "sts": ServiceErrors(("AccessDenied", 403), ("InternalFailure", 500), ("Throttling", 400)),
    "s3": ServiceErrors(("AccessDenied", 403), ("InternalError", 500), ("SlowDown", 503)),
    "s3-control": ServiceErrors(("AccessDenied", 403), ("InternalError", 500), ("SlowDown", 503)),
    "ec2": ServiceErrors(("UnauthorizedOperation", 403), ("InternalError", 500), ("RequestLimitExceeded", 503)),
    "cloudtrail": ServiceErrors(("AccessDeniedException", 400), ("InternalFailure", 500), ("ThrottlingException", 400)),
    "cloudwatch-logs": ServiceErrors(
        ("AccessDeniedException", 400), ("ServiceUnavailableException", 500), ("ThrottlingException", 400)
    ),
    "config-service": ServiceErrors(
        ("AccessDeniedException", 400), ("InternalFailure", 500), ("ThrottlingException", 400)
    ),
    "cloudwatch": ServiceErrors(("AccessDenied", 403), ("InternalServiceError", 500), ("Throttling", 400)),
    "sns": ServiceErrors(("AuthorizationError", 403), ("InternalError", 500), ("Throttling", 400)),
}

#: The IAM action of an operation, where it is not ``<service prefix>:<operation>``.
ACTION_OF: Mapping[tuple[str, str], str] = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3-control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}
_ACTION_PREFIX = {"config-service": "config", "cloudwatch-logs": "logs", "s3-control": "s3"}


def action_of(service_id: str, operation: str) -> str:
    return ACTION_OF.get((service_id, operation)) or f"{_ACTION_PREFIX.get(service_id, service_id)}:{operation}"


@dataclass(frozen=True, order=True)
class Operation:
    """An API operation, as botocore names its events: the hyphenated service ID and the name."""

    service_id: str
    name: str

    def __str__(self) -> str:
        return f"{self.service_id} {self.name}"


@dataclass(frozen=True)
class Fault:
    kind: str
    #: The operation it hits; None for throttling (every request) and FailedEvaluations.
    operation: Operation | None = None

    def __str__(self) -> str:
        return f"{self.kind} on {self.operation}" if self.operation else self.kind


class _Body(io.BytesIO):
    """What ``AWSResponse.raw`` must offer botocore: ``stream()``."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        while chunk := self.read(65536):
            yield chunk


def _response(url: str, status: int, body: bytes, headers: Mapping[str, str]) -> AWSResponse:
    return AWSResponse(url, status, {"x-amzn-RequestId": "cis-faults", **headers}, _Body(body))


def wire_error(model: Any, url: str, code: str, status: int, message: str) -> AWSResponse:
    """An error answer in the wire format of the operation's protocol, as the service sends it."""
    service = model.service_model
    protocol = service.resolved_protocol
    text = xml_escape(message)
    if protocol == "json":
        headers = {"Content-Type": f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.1')}"}
        if "awsQueryCompatible" in service.metadata:
            # CloudWatch speaks JSON but keeps its query-protocol error codes in this header.
            headers["x-amzn-query-error"] = f"{code};Sender"
        body = json.dumps({"__type": code, "message": message}).encode()
        return _response(url, status, body, headers)
    if protocol == "query":
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{text}</Message></Error>"
            "<RequestId>cis-faults</RequestId></ErrorResponse>"
        )
    elif protocol == "ec2":
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{text}</Message></Error></Errors>"
            "<RequestID>cis-faults</RequestID></Response>"
        )
    elif protocol == "rest-xml":
        xml = f"<Error><Code>{code}</Code><Message>{text}</Message><RequestId>cis-faults</RequestId></Error>"
    else:
        raise ValueError(f"no error format for protocol {protocol} ({service.service_name})")
    return _response(
        url, status, f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'.encode(), {"Content-Type": "text/xml"}
    )


def _json_ok(url: str, document: Mapping[str, Any]) -> AWSResponse:
    body = json.dumps(document, default=str).encode()
    return _response(url, 200, body, {"Content-Type": "application/x-amz-json-1.1"})


@dataclass(frozen=True)
class Attempt:
    """One HTTP request a rule sent (a retry is another attempt of the same call)."""

    operation: Operation
    region: str
    page: int
    attempt: int
    injected: str | None


@dataclass(frozen=True)
class _Pages:
    input_token: str
    output_token: str
    result_keys: tuple[str, ...]
    more_results: str | None


_SIMPLE = re.compile(r"[A-Za-z]+")


class HttpLayer:
    """The suite's handlers on a boto3 session: faults and moto's Config gaps in ``before-send``,
    two-page listings in ``before-parameter-build`` / ``after-call``, and a log of every attempt."""

    def __init__(self, session: Any = None) -> None:
        self.session = session or boto3._get_default_session()
        self.fault: Fault | None = None
        self.seed = 0
        self._seen: Counter[str] = Counter()
        self.two_pages = True
        #: Verdicts of earlier runs by rule name: what GetComplianceDetailsByConfigRule answers.
        self.previous: dict[str, list[Verdict]] = {}
        self.attempts: list[Attempt] = []
        #: Evaluations AWS Config took, and those the answer listed in FailedEvaluations.
        self.accepted: list[Verdict] = []
        self.rejected: list[Verdict] = []
        #: Listings a rule called (botocore has a paginator for them), and those it read a
        #: second page of.
        self.pageable: set[Operation] = set()
        self.paged: set[Operation] = set()
        self.backoff = 0.0
        #: THROTTLED_OUT: the one request (by its key) throttled on every attempt.
        self._target: str | None = None
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, str], _Pages | None] = {}
        #: What GetResourceConfigHistory answers: one API-shaped item per (type, ID).
        self.history: dict[tuple[str, str], dict[str, Any]] = {}
        #: The configuration item of each rule's change run, by rule name.
        self.changed: dict[str, dict[str, Any]] = {}
        self._unique = f"cis-faults-{id(self)}"
        self._downstream: Callable[..., AWSResponse | None] = lambda **_: None

    # -- installation ------------------------------------------------------------------------
    def install(self) -> HttpLayer:
        """Take moto's ``before-send`` handler off the session and answer through this layer:
        botocore calls every ``before-send`` handler (the first answer wins, but moto would still
        process a request the layer answered, and raise on the Config call it lacks)."""
        from moto.core.models import botocore_stubber

        self._downstream = botocore_stubber
        events = self.session.events
        events.unregister("before-send", botocore_stubber)
        events.register("before-send", self._send, unique_id=self._unique + "-send")
        events.register("before-parameter-build", self._params, unique_id=self._unique + "-params")
        events.register("after-call", self._after, unique_id=self._unique + "-after")
        return self

    def uninstall(self) -> None:
        events = self.session.events
        events.unregister("before-send", unique_id=self._unique + "-send")
        events.unregister("before-parameter-build", unique_id=self._unique + "-params")
        events.unregister("after-call", unique_id=self._unique + "-after")
        events.register("before-send", self._downstream)

    def reset(self, fault: Fault | None, seed: int = 0) -> None:
        self.fault = fault
        self.seed = seed
        self._seen.clear()
        self.attempts.clear()
        self.accepted.clear()
        self.rejected.clear()
        self.pageable.clear()
        self.paged.clear()
        self.backoff = 0.0
        self._target = None

    @contextmanager
    def counted_backoff(self) -> Iterator[None]:
        """botocore's retry sleep (``time.sleep`` in ``botocore.endpoint``) adds to
        :attr:`backoff` instead of sleeping."""
        layer = self

        class Clock:
            def __getattr__(self, name: str) -> Any:
                return getattr(time, name)

            def sleep(self, seconds: float) -> None:
                layer.backoff += seconds

        with mock.patch.object(botocore.endpoint, "time", Clock()):
            yield

    # -- two pages ----------------------------------------------------------------------------
    def _paging(self, model: Any) -> _Pages | None:
        key = (model.service_model.service_name, model.name)
        if key not in self._pages:
            self._pages[key] = None
            paginators = self.session._session.get_paginator_model(model.service_model.service_name)
            try:
                config = paginators.get_paginator(model.name)
            except ValueError:  # botocore has no paginator for this operation
                return None
            keys = config["result_key"] if isinstance(config["result_key"], list) else [config["result_key"]]
            tokens = (config["input_token"], config["output_token"])
            if all(isinstance(t, str) and _SIMPLE.fullmatch(t) for t in (*tokens, *keys)):
                self._pages[key] = _Pages(*tokens, tuple(keys), config.get("more_results"))
        return self._pages[key]

    def _params(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["cis_model"] = model  # for the wire format of an injected error
        pages = self._paging(model)
        if pages is None:
            return
        self.pageable.add(Operation(model.service_model.service_id.hyphenize(), model.name))
        token = params.get(pages.input_token)
        if token:
            context["cis_page"] = 2
        if token == PAGE_TOKEN:
            del params[pages.input_token]
            context["cis_split"] = "second"
        elif not token and self.two_pages:
            context["cis_split"] = "first"

    def _after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: Mapping[str, Any], **_: Any
    ) -> None:
        split = context.get("cis_split")
        pages = self._paging(model)
        if split is None or pages is None or http_response.status_code >= 300 or "Error" in parsed:
            return
        items = {key: list(parsed.get(key) or []) for key in pages.result_keys}
        if split == "first":
            if parsed.get(pages.output_token) or sum(len(v) for v in items.values()) < 2:
                return
            for key, values in items.items():
                parsed[key] = values[: (len(values) + 1) // 2]
            parsed[pages.output_token] = PAGE_TOKEN
            if pages.more_results:
                parsed[pages.more_results] = True
        else:
            for key, values in items.items():
                parsed[key] = values[(len(values) + 1) // 2 :]
            parsed.pop(pages.output_token, None)
            if pages.more_results:
                parsed[pages.more_results] = False

    # -- the HTTP layer -----------------------------------------------------------------------
    def _send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _stage, service_id, name = event_name.split(".", 2)
        operation = Operation(service_id, name)
        context = request.context
        page = int(context.get("cis_page", 1))
        attempt = int(context.get("retries", {}).get("attempt", 1))
        if page == 2:
            self.paged.add(operation)
        injected = self._inject(request, operation, page, attempt)
        kind = self.fault.kind if injected is not None and self.fault is not None else None
        self.attempts.append(Attempt(operation, str(context.get("client_region", "")), page, attempt, kind))
        if isinstance(injected, AWSResponse):
            return injected
        if injected is not None:
            raise injected
        if service_id == "config-service" and name == "PutEvaluations":
            return self._put_evaluations(request)
        if service_id == "config-service" and name == "GetComplianceDetailsByConfigRule":
            return self._compliance_details(request)
        if service_id == "config-service" and name == "GetResourceConfigHistory":
            return self._config_history(request)
        answer: AWSResponse | None = self._downstream(event_name=event_name, request=request)
        return answer

    def used_s(self) -> float:
        """Simulated Lambda time so far: :data:`ATTEMPT_S` per HTTP attempt plus the backoff."""
        return len(self.attempts) * ATTEMPT_S + self.backoff

    def _inject(self, request: Any, operation: Operation, page: int, attempt: int) -> AWSResponse | Exception | None:
        fault = self.fault
        if fault is None or fault.kind in (FAILED_EVALUATIONS, DEADLINE):
            return None
        errors = SERVICES.get(operation.service_id)
        if errors is None:
            raise AssertionError(f"{operation}: no error codes for service {operation.service_id} in SERVICES")
        model = request.context["cis_model"]
        if fault.kind == THROTTLING:
            if not self._throttled(request, operation, attempt):
                return None
            code, status = errors.throttling
            return wire_error(model, request.url, code, status, "Rate exceeded")
        if operation != fault.operation or (fault.kind == SECOND_PAGE and page != 2):
            return None
        if fault.kind == THROTTLED_OUT:
            # Every attempt of the first request of the operation (one bucket, one page...).
            key = _request_key(request, operation)
            with self._lock:
                self._target = self._target or key
            if key != self._target:
                return None
            code, status = errors.throttling
            return wire_error(model, request.url, code, status, "Rate exceeded")
        if fault.kind == ACCESS_DENIED:
            code, status = errors.access_denied
            action = action_of(operation.service_id, operation.name)
            message = (
                f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/cis-rule/cis-rule is not authorized to perform: "
                f"{action} because no identity-based policy allows the {action} action"
            )
            return wire_error(model, request.url, code, status, message)
        if fault.kind in (SERVER_ERROR, SECOND_PAGE):
            code, status = errors.server
            return wire_error(model, request.url, code, status, "We encountered an internal error. Please try again.")
        if fault.kind == CONNECTION:
            # A refused connection, then a connection dropped before the answer: both retried.
            if attempt % 2:
                return EndpointConnectionError(endpoint_url=request.url)
            return ConnectionClosedError(endpoint_url=request.url)
        raise ValueError(f"unknown fault kind {fault.kind}")

    def _throttled(self, request: Any, operation: Operation, attempt: int) -> bool:
        """Whether to throttle this attempt: a hash of the seed, the request (operation, URL,
        body), how many identical requests came before it and the attempt number, below
        :data:`THROTTLE_RATE`. Unlike draws from one generator, this does not depend on the order
        in which a rule's worker threads send their requests."""
        key = _request_key(request, operation)
        if attempt == 1:
            self._seen[key] += 1
        draw = hashlib.blake2b(f"{self.seed}|{key}|{self._seen[key]}|{attempt}".encode(), digest_size=8).digest()
        return int.from_bytes(draw) / 2**64 < THROTTLE_RATE

    def _put_evaluations(self, request: Any) -> AWSResponse:
        body = json.loads(request.body or b"{}")
        sent = [Verdict.from_json(e) for e in body.get("Evaluations", [])]
        failed = body.get("Evaluations", [])[:1] if self.fault and self.fault.kind == FAILED_EVALUATIONS else []
        self.rejected.extend(sent[: len(failed)])
        self.accepted.extend(sent[len(failed) :])
        return _json_ok(request.url, {"FailedEvaluations": failed})

    def _compliance_details(self, request: Any) -> AWSResponse:
        body = json.loads(request.body or b"{}")
        rule = str(body.get("ConfigRuleName", ""))
        wanted = set(body.get("ComplianceTypes") or ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"))
        rows = [
            {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {
                        "ConfigRuleName": rule,
                        "ResourceType": v.resource_type,
                        "ResourceId": v.resource_id,
                    }
                },
                "ComplianceType": v.compliance,
            }
            for v in self.previous.get(rule, [])
            if v.compliance in wanted
        ]
        return _json_ok(request.url, {"EvaluationResults": rows})

    def _config_history(self, request: Any) -> AWSResponse:
        body = json.loads(request.body or b"{}")
        item = self.history.get((str(body.get("resourceType")), str(body.get("resourceId"))))
        if item is None:
            message = f"Resource {body.get('resourceId')} of resourceType:{body.get('resourceType')} is unknown"
            return wire_error(request.context["cis_model"], request.url, "ResourceNotDiscoveredException", 400, message)
        # The JSON protocol carries timestamps as epoch seconds.
        wire = {k: v.timestamp() if isinstance(v, datetime) else v for k, v in item.items()}
        return _json_ok(request.url, {"configurationItems": [wire]})


def _request_key(request: Any, operation: Operation) -> str:
    """The same request, attempt after attempt: operation, URL and body."""
    body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
    return hashlib.blake2b(f"{operation}|{request.url}|".encode() + body, digest_size=8).hexdigest()


class SimulatedLambda:
    """A Lambda context whose remaining time follows the layer's simulated clock."""

    def __init__(self, layer: HttpLayer, timeout_s: float) -> None:
        self.layer = layer
        self.timeout_s = timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout_s - self.layer.used_s()) * 1000)


# -- the account ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Account:
    """The in-process moto account, offering what the demo seeds ask of an account."""

    account_id: str = ACCOUNT_ID
    region: str = REGION
    other_region: str = OTHER_REGION

    def client(self, service: str, region: str | None = None) -> Any:
        return boto3.client(service, region_name=region or self.region)


def seed(account: Account) -> None:
    """The demo account, plus what makes more of each rule's calls and listings reachable:

    * a second peering connection, whose route goes to a customer-managed prefix list of two
      entries (CIS 4.4's ``GetManagedPrefixListEntries``; two pages of peering connections);
    * a CIS 3.11 filter whose metric has a dimension, alarmed to the confirmed topic: its alarm
      is found by paging ``DescribeAlarms`` (``DescribeAlarmsForMetric`` needs the dimension
      values); it names one event name, so it does not watch every NACL change, and the rule goes
      on to a second 3.11 filter without dimensions, whose alarm makes 3.11 COMPLIANT.
    """
    for info in sorted(pkgutil.iter_modules(seeds.__path__), key=lambda i: i.name):
        importlib.import_module(f"cispack.local.seeds.{info.name}").seed(account)
    ec2 = account.client("ec2")
    tables = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": ["app-least-access"]}])["RouteTables"]
    table, app = tables[0]["RouteTableId"], tables[0]["VpcId"]
    partner = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=app, PeerVpcId=partner)["VpcPeeringConnection"]
    pcx_id = pcx["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    entries = [{"Cidr": "10.40.1.0/24"}, {"Cidr": "10.40.2.0/24"}]
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName="partner-subnets", MaxEntries=5, AddressFamily="IPv4", Entries=entries
    )["PrefixList"]["PrefixListId"]
    ec2.create_route(RouteTableId=table, DestinationPrefixListId=prefix_list, VpcPeeringConnectionId=pcx_id)

    nacl = import_rule_module("METRIC_FILTER_ALARM_NACL_CHANGES").METRIC_FILTER_ALARM_NACL_CHANGES
    metric = add_metric_filter(
        account,
        "nacl-changes-by-event",
        nacl.ACCEPTED_PATTERNS[0],
        log_group=monitoring.LOG_GROUP,
        dimensions={"EventName": "$.eventName"},
    )
    alerts = topic_arn("cis-security-alerts", account.region, account.account_id)
    name = [{"Name": "EventName", "Value": "CreateNetworkAcl"}]
    add_alarm(account, "nacl-changes-alarm", metric, actions=[alerts], dimensions=name)
    plain = add_metric_filter(account, "nacl-changes-plain", nacl.ACCEPTED_PATTERNS[0], log_group=monitoring.LOG_GROUP)
    add_alarm(account, "nacl-changes-plain-alarm", plain, actions=[alerts])


def _route_table_named(account: Account, name: str) -> str:
    tables = account.client("ec2").describe_route_tables(Filters=[{"Name": "tag:Name", "Values": [name]}])
    return str(tables["RouteTables"][0]["RouteTableId"])


#: The seeded resource of each rule's change run: the public legacy trail bucket (its item has no
#: Block Public Access, so 2.3 reads the bucket's and the account's), the logged main trail bucket,
#: and the route table whose peering routes include a prefix list.
CHANGE_RESOURCES: Mapping[str, Callable[[Account, datetime], dict[str, Any]]] = {
    "CLOUDTRAIL_S3_BUCKET_NOT_PUBLIC": lambda a, now: bucket_item(
        logging_seed.LEGACY_BUCKET, account_id=a.account_id, captured=now
    ),
    "CLOUDTRAIL_S3_BUCKET_ACCESS_LOGGING": lambda a, now: bucket_item(
        logging_seed.MAIN_BUCKET, account_id=a.account_id, captured=now
    ),
    "VPC_PEERING_ROUTES_LEAST_ACCESS": lambda a, now: route_table_item(
        _route_table_named(a, "app-least-access"), account_id=a.account_id, captured=now
    ),
}


# -- running the matrix --------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """One run of one rule under one fault."""

    rule: str
    fault: Fault
    clean: tuple[Verdict, ...]
    accepted: tuple[Verdict, ...]
    rejected: tuple[Verdict, ...]
    error: Exception | None
    #: HTTP answers the fault gave (rejected evaluations included), and the most attempts one
    #: call of the faulted operation made (botocore's retries).
    injected: int
    retries_seen: int
    attempts: int
    backoff: float
    #: DEADLINE runs: the simulated Lambda time the invocation used, and its timeout.
    used_s: float = 0.0
    timeout_s: float | None = None
    #: Every operation the run called (a failed run calls some a clean one does not: the stale
    #: check reads the account rules' last results).
    operations: tuple[Operation, ...] = ()

    @property
    def sent(self) -> bool:
        """AWS Config took at least one verdict."""
        return bool(self.accepted)

    @property
    def could_not(self) -> tuple[Verdict, ...]:
        """Verdicts NON_COMPLIANT ``Could not evaluate: ...`` (CONTROLS.md, "When a rule cannot judge")."""
        return tuple(v for v in self.accepted if v.compliance == "NON_COMPLIANT" and v.annotation.startswith(COULD_NOT))

    @property
    def wrong(self) -> tuple[Verdict, ...]:
        """Verdicts taken that the clean run did not give, other than ``Could not evaluate``
        under a permanent fault (the only verdict a rule may add for what it could not read)."""
        allowed = set(self.clean) | (set(self.could_not) if self.fault.kind in PERMANENT else set())
        return tuple(v for v in self.accepted if v not in allowed)

    @property
    def cleaned_up(self) -> tuple[Verdict, ...]:
        """NOT_APPLICABLE verdicts the clean run did not send: a clean-up of old evaluations."""
        return tuple(v for v in self.wrong if v.compliance == "NOT_APPLICABLE")

    @property
    def false_compliant(self) -> int:
        return sum(v.compliance == "COMPLIANT" for v in self.wrong)

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def uncovered(self) -> tuple[Verdict, ...]:
        """Clean COMPLIANT/NON_COMPLIANT resources the run neither judged again nor marked
        ``Could not evaluate``: their old verdict would stand."""
        covered = {(v.resource_type, v.resource_id) for v in self.accepted}
        return tuple(
            v
            for v in self.clean
            if v.compliance in ("COMPLIANT", "NON_COMPLIANT") and (v.resource_type, v.resource_id) not in covered
        )

    @property
    def clear(self) -> bool:
        """The invocation failed with the pack's :class:`cis_rule.RuleFailed`, whose error record
        (what rdklib reports and the Lambda logs) names what failed: the operation or its endpoint,
        or, for FailedEvaluations, the rejection."""
        if not isinstance(self.error, RuleFailed) or not str(self.error).strip():
            return False
        text = json.dumps(self.error.response, default=str) + " " + str(self.error)
        if self.fault.kind == FAILED_EVALUATIONS:
            return "FailedEvaluations" in text or "reject" in text.lower()
        if self.fault.kind in (THROTTLING, DEADLINE):
            return True
        assert self.fault.operation is not None
        return self.fault.operation.name in text or "endpoint" in text.lower()

    @property
    def error_text(self) -> str:
        return _error_text(self.error) if self.error is not None else ""

    def broken(self) -> list[tuple[str, str]]:
        """The promises this run broke: (what went wrong, detail)."""
        found = []
        kind = self.fault.kind
        if kind in PERSISTENT and self.injected == 0:
            found.append(("the fault was never reached", ""))
        if kind in PERMANENT:
            if not self.could_not and not (self.failed and self.clear):
                found.append(("a denial left nothing visible", ""))
            if not self.failed and self.uncovered:
                found.append(("an old verdict stands after a denial", f": {len(self.uncovered)}"))
        if kind in TRANSIENT:
            if not self.failed:
                found.append(("the run did not fail under a fault that outlasted retries", ""))
            if self.cleaned_up:
                found.append(("old evaluations cleaned up on a partial run", f": {len(self.cleaned_up)}"))
        if kind in PERSISTENT and self.wrong and not self.cleaned_up:
            found.append(("a verdict that is neither decided nor Could not evaluate", f": {self.wrong[:2]}"))
        if kind == DEADLINE:
            assert self.timeout_s is not None
            if self.used_s > self.timeout_s:
                found.append(("killed by the Lambda timeout", f": {self.used_s:.1f} s of {self.timeout_s:.1f} s"))
            if self.wrong:
                found.append(("a verdict that was not decided", f": {self.wrong[:2]}"))
            if not self.identical and not self.failed:
                found.append(("stopped short without failing", ""))
        if self.false_compliant:
            found.append(("false COMPLIANT", f": {self.false_compliant}"))
        if self.failed and not self.clear:
            found.append((f"failed without a clear error: {type(self.error).__name__}", f": {self.error_text}"))
        if kind == THROTTLING and not self.identical:
            found.append(("throttled verdicts differ from the clean run", f" {self.error_text}".rstrip()))
        if kind == FAILED_EVALUATIONS and not self.failed:
            found.append(("rejected evaluations went unreported", f": {len(self.rejected)} rejected"))
        return found

    @property
    def identical(self) -> bool:
        return self.error is None and sorted(self.accepted, key=_order) == sorted(self.clean, key=_order)


def _order(v: Verdict) -> tuple[str, str, str]:
    return (v.resource_type, v.resource_id, v.compliance)


@dataclass(frozen=True)
class CleanRun:
    rule: str
    verdicts: tuple[Verdict, ...]
    #: Every operation the rule called; the listings among them, and those read in two pages.
    operations: tuple[Operation, ...]
    listings: tuple[Operation, ...]
    paged: tuple[Operation, ...]
    calls: int
    #: The same run with every listing in one page (it must give the same verdicts).
    one_page_verdicts: tuple[Verdict, ...]
    declared_actions: tuple[str, ...]
    error: Exception | None = None

    @property
    def called_actions(self) -> frozenset[str]:
        return frozenset(action_of(o.service_id, o.name) for o in self.operations)

    @property
    def unexercised_actions(self) -> tuple[str, ...]:
        return tuple(a for a in self.declared_actions if a not in self.called_actions)

    @property
    def single_page_listings(self) -> tuple[Operation, ...]:
        return tuple(o for o in self.listings if o not in self.paged)


@dataclass(frozen=True)
class Row:
    """The table's line for one fault kind."""

    kind: str
    tried: int
    injected: int
    sent: int
    could_not: int
    false_compliant: int
    cleaned_up: int
    clear: int
    unclear: int
    identical: int
    broken: int


@dataclass
class Report:
    clean: dict[str, CleanRun] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    #: ``AWS_MAX_ATTEMPTS`` while the rules ran: what one call makes under a retried fault.
    max_attempts: int = 0

    def of_kind(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.fault.kind == kind]

    def rows(self) -> list[Row]:
        """Per fault kind: runs tried, faulted HTTP answers, runs that sent verdicts, runs that
        sent a "Could not evaluate", false COMPLIANT verdicts, runs that cleaned up old evaluations,
        runs failed with a clear error or otherwise, runs equal to clean, runs that broke a promise."""
        table = []
        for kind in KINDS:
            runs = self.of_kind(kind)
            table.append(
                Row(
                    kind,
                    len(runs),
                    sum(o.injected for o in runs),
                    sum(o.sent for o in runs),
                    sum(bool(o.could_not) for o in runs),
                    sum(o.false_compliant for o in runs),
                    sum(bool(o.cleaned_up) for o in runs),
                    sum(o.failed and o.clear for o in runs),
                    sum(o.failed and not o.clear for o in runs),
                    sum(o.identical for o in runs),
                    sum(bool(o.broken()) for o in runs),
                )
            )
        return table

    def problems(self) -> list[tuple[str, str]]:
        """Every run that did not behave as the pack promises: (what went wrong, which run)."""
        found = []
        for name, clean in self.clean.items():
            if clean.error is not None:
                found.append((f"clean run failed: {_error_text(clean.error)}", name))
            if sorted(clean.one_page_verdicts, key=_order) != sorted(clean.verdicts, key=_order):
                found.append(("verdicts differ when listings come in one page instead of two", name))
        for o in self.outcomes:
            found += [(reason, f"{o.rule} / {o.fault}{detail}") for reason, detail in o.broken()]
        return found

    def by_rule(self) -> dict[str, dict[str, tuple[int, int]]]:
        """Per rule and fault kind: (runs that kept every promise, runs tried)."""
        table: dict[str, dict[str, tuple[int, int]]] = {name: {} for name in self.clean}
        for o in self.outcomes:
            kept, tried = table[o.rule].get(o.fault.kind, (0, 0))
            table[o.rule][o.fault.kind] = (kept + (not o.broken()), tried + 1)
        return table


def _error_text(error: BaseException) -> str:
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first}"[:200]


def _seed_of(rule: str) -> int:
    return zlib.crc32(rule.encode())


class Matrix:
    """Runs rules against the seeded account through an installed :class:`HttpLayer`."""

    def __init__(self, layer: HttpLayer, now: datetime) -> None:
        self.layer = layer
        self.now = now

    def invoke(
        self, rule: Rule, module: ModuleType, item: Mapping[str, Any] | None = None, context: Any = None
    ) -> Exception | None:
        """One invocation: scheduled, or an oversized change notification of ``item``."""
        if item is None:
            event = scheduled_event(rule.name, rule.input_parameters, account=ACCOUNT_ID, region=REGION, now=self.now)
        else:
            event = oversized_change_event(
                rule.name, item, rule.input_parameters, account=ACCOUNT_ID, region=REGION, now=self.now
            )
        try:
            # rdklib prints every error response; the table is the suite's output.
            with redirect_stdout(io.StringIO()):
                module.lambda_handler(event, context)
        except RuleFailed as failed:
            return failed
        # The suite's purpose is to see what escapes a rule: any exception is recorded and judged.
        except Exception as raw:  # noqa: BLE001
            return raw
        return None

    def clean(self, rule: Rule, item: Mapping[str, Any] | None = None) -> CleanRun:
        module = import_rule_module(rule.name)
        layer = self.layer
        layer.two_pages = False
        layer.previous.pop(rule.name, None)
        layer.reset(None)
        one_page_error = self.invoke(rule, module, item)
        one_page = tuple(layer.accepted)
        layer.previous[rule.name] = list(one_page)
        layer.two_pages = True
        layer.reset(None)
        error = self.invoke(rule, module, item) or one_page_error
        operations = tuple(sorted({a.operation for a in layer.attempts}))
        return CleanRun(
            rule.name + (ON_CHANGE if item is not None else ""),
            tuple(layer.accepted),
            operations,
            tuple(sorted(layer.pageable)),
            tuple(sorted(layer.paged)),
            len(layer.attempts),
            one_page,
            rule.required_actions(),
            error,
        )

    def run(self, rule: Rule, clean: CleanRun, fault: Fault, item: Mapping[str, Any] | None = None) -> Outcome:
        layer = self.layer
        layer.previous[rule.name] = list(clean.verdicts)
        layer.reset(fault, _seed_of(clean.rule))
        timeout = None
        context = None
        if fault.kind == DEADLINE:
            # Less time than the clean run took: the rule must stop and send, never be killed.
            timeout = max(clean.calls * ATTEMPT_S * DEADLINE_SHARE, DEADLINE_MIN_S)
            context = SimulatedLambda(layer, timeout)
        error = self.invoke(rule, import_rule_module(rule.name), item, context)
        return Outcome(
            clean.rule,
            fault,
            clean.verdicts,
            tuple(layer.accepted),
            tuple(layer.rejected),
            error,
            sum(a.injected is not None for a in layer.attempts) + len(layer.rejected),
            max((a.attempt for a in layer.attempts if a.injected is not None), default=0),
            len(layer.attempts),
            layer.backoff,
            layer.used_s(),
            timeout,
            tuple(sorted({a.operation for a in layer.attempts})),
        )


def faults_for(clean: CleanRun) -> list[Fault]:
    """The matrix of one rule: every kind on every operation its clean run called."""
    kinds = (ACCESS_DENIED, SERVER_ERROR, CONNECTION, THROTTLED_OUT)
    faults = [Fault(kind, op) for kind in kinds for op in clean.operations]
    faults += [Fault(SECOND_PAGE, op) for op in clean.paged]
    faults += [Fault(THROTTLING), Fault(DEADLINE)]
    if clean.verdicts:
        faults.append(Fault(FAILED_EVALUATIONS))
    return faults


@contextmanager
def local_account() -> Iterator[tuple[HttpLayer, datetime]]:
    """The seeded moto account with the suite's handlers installed, in a fake-credentials
    environment; the previous environment and default session come back afterwards."""
    from moto import mock_aws

    saved = dict(os.environ)
    os.environ.update(FAKE_ENV)
    boto3.setup_default_session()
    now = datetime.now(UTC)
    try:
        with mock_aws():
            account = Account()
            seed(account)
            layer = HttpLayer()
            layer.changed = {name: build(account, now) for name, build in CHANGE_RESOURCES.items()}
            for item in layer.changed.values():
                layer.history[(item["resourceType"], item["resourceId"])] = history_item(item)
            layer.install()
            report = MotoCredentialReport(root_row=root_row(now)).install()
            try:
                with layer.counted_backoff():
                    yield layer, now
            finally:
                report.uninstall()
                layer.uninstall()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.setup_default_session()


def run_matrix(rule_names: Sequence[str] | None = None, progress: Callable[[str], None] | None = None) -> Report:
    """Every rule's clean run, then every fault of :func:`faults_for` against it."""
    started = time.perf_counter()
    rules = [r for r in custom_rules() if rule_names is None or r.name in rule_names]
    report = Report()
    with local_account() as (layer, now):
        report.max_attempts = int(os.environ.get("AWS_MAX_ATTEMPTS", "0"))
        matrix = Matrix(layer, now)
        for rule in rules:
            items: list[Mapping[str, Any] | None] = [None]
            if rule.rule_class().CHANGE_TYPES:
                items.append(layer.changed[rule.name])
            for item in items:
                clean = matrix.clean(rule, item)
                report.clean[clean.rule] = clean
                for fault in faults_for(clean):
                    report.outcomes.append(matrix.run(rule, clean, fault, item))
                if progress:
                    progress(f"  {clean.rule}: {len(clean.operations)} operations, {len(faults_for(clean))} faults")
    report.seconds = time.perf_counter() - started
    return report


# -- the table -----------------------------------------------------------------------------------
HEADER = (
    "fault",
    "tried",
    "injected",
    "sent",
    "could not evaluate",
    "false COMPLIANT",
    "cleaned up",
    "failed, clear",
    "failed, unclear",
    "= clean",
    "broken",
)
EXPECTED = {
    ACCESS_DENIED: "what it touched NON_COMPLIANT 'Could not evaluate'",
    SERVER_ERROR: "decided verdicts only, no clean-up; fails clearly",
    CONNECTION: "decided verdicts only, no clean-up; fails clearly",
    SECOND_PAGE: "decided verdicts only, no clean-up; fails clearly",
    THROTTLED_OUT: "decided verdicts only, no clean-up; fails clearly",
    THROTTLING: "verdicts = clean run",
    DEADLINE: "never killed; decided verdicts only",
    FAILED_EVALUATIONS: "fails naming the rejection",
}


def format_table(report: Report) -> list[str]:
    """The fault table, one line per kind (``= clean`` counts only for throttling)."""
    rows = [
        [
            r.kind,
            str(r.tried),
            str(r.injected),
            str(r.sent),
            str(r.could_not),
            str(r.false_compliant),
            str(r.cleaned_up),
            str(r.clear),
            str(r.unclear),
            str(r.identical) if r.kind in (THROTTLING, DEADLINE) else "-",
            str(r.broken),
        ]
        for r in report.rows()
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(HEADER)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    lines = [line(HEADER) + "  expected", "  ".join("-" * w for w in widths)]
    lines += [f"{line(row)}  {EXPECTED[row[0]]}" for row in rows]
    return lines


def format_by_rule(report: Report) -> list[str]:
    short = {
        ACCESS_DENIED: "denied",
        SERVER_ERROR: "500",
        CONNECTION: "connect",
        SECOND_PAGE: "page 2",
        THROTTLED_OUT: "thr. out",
    }
    heads = [short.get(kind, kind.split()[0]) for kind in KINDS]
    width = max(len(name) for name in report.clean)
    lines = ["  " + "rule".ljust(width) + "".join(f"  {h:>10}" for h in heads)]
    for name, kinds in report.by_rule().items():
        cells = [f"{kinds[k][0]}/{kinds[k][1]}" if k in kinds else "-" for k in KINDS]
        lines.append("  " + name.ljust(width) + "".join(f"  {c:>10}" for c in cells))
    return lines


def format_report(report: Report, examples: int = 3) -> list[str]:
    rules = len({name.removesuffix(ON_CHANGE) for name in report.clean})
    on_change = sum(name.endswith(ON_CHANGE) for name in report.clean)
    lines = [
        f"{rules} custom rules ({on_change} also run on a configuration change), "
        f"{len(report.outcomes)} faulted runs in {report.seconds:.1f} s "
        f"(botocore standard retries, AWS_MAX_ATTEMPTS={report.max_attempts}; backoff counted, not slept).",
        "",
        *format_table(report),
        "",
        "Per rule: runs that kept every promise / runs tried, by fault kind.",
        *format_by_rule(report),
        "",
        "Clean runs: API calls, verdicts, operations (* = listing read in two pages, ~ = listing read in one).",
    ]
    for name, clean in report.clean.items():
        kinds = Counter(v.compliance for v in clean.verdicts)
        verdicts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        marks = {o: "*" for o in clean.paged} | {o: "~" for o in clean.single_page_listings}
        lines.append(f"  {name}: {clean.calls} calls; {verdicts}")
        lines.append("      " + ", ".join(f"{o}{marks.get(o, '')}" for o in clean.operations))
        if clean.unexercised_actions:
            lines.append(f"      declared, not called in this account: {', '.join(clean.unexercised_actions)}")
    throttled = report.of_kind(THROTTLING)
    if throttled:
        slowest = max(throttled, key=lambda o: o.backoff)
        lines += [
            "",
            f"Throttling: {sum(o.injected for o in throttled)} of {sum(o.attempts for o in throttled)} requests "
            f"throttled; backoff botocore would have slept: {sum(o.backoff for o in throttled):.1f} s over "
            f"{len(throttled)} runs, at most {slowest.backoff:.1f} s ({slowest.rule}).",
        ]
    problems = report.problems()
    lines += ["", f"Runs that broke a promise: {len(problems)}"]
    by_reason: dict[str, list[str]] = {}
    for reason, where in problems:
        by_reason.setdefault(reason, []).append(where)
    for reason, runs in by_reason.items():
        lines.append(f"  {reason}: {len(runs)} run(s)")
        lines += [f"    {where}" for where in runs[:examples]]
        if len(runs) > examples:
            lines.append(f"    ... and {len(runs) - examples} more")
    return lines


def main(rule_names: Sequence[str] | None = None) -> int:
    report = run_matrix(rule_names, progress=print)
    for line in format_report(report):
        print(line)
    return 1 if report.problems() else 0
