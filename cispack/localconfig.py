"""The thin seam between the pack's rules and a local AWS (moto) that lacks two Config behaviours.

moto's AWS Config (i) does not implement ``GetComplianceDetailsByConfigRule``, which rdklib calls
after every periodic run to retire evaluations of resources the rule no longer reports, and
(ii) rejects ``PutEvaluations`` with an empty list, which AWS accepts (0-100 items) and rdklib
sends when a rule has nothing to report. :class:`ComplianceLedger` supplies exactly those two
answers, from the evaluations that earlier ``PutEvaluations`` calls carried; every other call,
``PutEvaluations`` with evaluations included, still goes to moto.

It hooks botocore's ``before-call``/``after-call`` events on boto3's default session, the one
``rdklib.ClientFactory`` builds its clients from, so the rules run unmodified. botocore copies
the hooks into each client it builds: they reach the clients built after they are installed,
which is every client a rule builds (inside ``evaluate_*``).
:func:`respond` uses the same mechanism to answer one operation with a recorded response or
error (validated against the service model), for APIs moto lacks (the root user's row of the
credential report, for instance) and for failures moto cannot produce (AccessDenied, throttling).
:class:`MotoCredentialReport` corrects moto's credential report (its fixed timestamp, its
missing root row).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel
from botocore.validate import ParamValidator

Handler = Callable[..., Any]
_responder_ids = itertools.count()


def _default_session() -> Any:
    return boto3._get_default_session()


# Where the API parameters of a call wait for the before-call handlers: botocore hands those
# handlers the serialized request, and hands the parameters only to before-parameter-build.
_PARAMS = "cis_api_params"
# Set on a call that respond() answered, so that no other seam rewrites its recorded answer.
_RECORDED = "cis_recorded_response"


def _capture_params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = dict(params)


def _event(session: Any, stage: str, service: str, operation: str) -> str:
    """botocore names events by the service's hyphenated ID ("config-service"), not its client name."""
    service_id = session._session.get_service_model(service).service_id.hyphenize()
    return f"{stage}.{service_id}.{operation}"


def _ok(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": 200, "RetryAttempts": 0})
    return AWSResponse("https://local", 200, {}, None), parsed


def _error(code: str, message: str, status: int) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
    }
    return AWSResponse("https://local", status, {}, None), parsed


@dataclass
class ComplianceLedger:
    """Evaluations sent through ``PutEvaluations``, by rule name, latest per resource."""

    results: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    #: The rule being run. Local result tokens are all "TESTMODE" (rdklib's test mode, which moto
    #: needs), so the harness names the rule whose PutEvaluations calls follow.
    current_rule: str = ""
    _handlers: list[tuple[str, Handler]] = field(default_factory=list)

    def _put(self, context: dict[str, Any], **_: Any) -> Any:
        self.calls.append("PutEvaluations")
        context["cis_rule_name"] = self.current_rule
        if not context[_PARAMS].get("Evaluations"):
            return _ok({"FailedEvaluations": []})
        return None

    def _after_put(self, context: Mapping[str, Any], http_response: Any, **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        store = self.results.setdefault(context.get("cis_rule_name") or "", {})
        for evaluation in context[_PARAMS].get("Evaluations", []):
            key = (evaluation["ComplianceResourceType"], evaluation["ComplianceResourceId"])
            store[key] = dict(evaluation)

    def _details(self, context: Mapping[str, Any], **_: Any) -> Any:
        params = context[_PARAMS]
        self.calls.append("GetComplianceDetailsByConfigRule")
        wanted = set(params.get("ComplianceTypes") or ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"))
        rows = [
            {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {
                        "ConfigRuleName": params["ConfigRuleName"],
                        "ResourceType": resource_type,
                        "ResourceId": resource_id,
                    }
                },
                "ComplianceType": evaluation["ComplianceType"],
            }
            for (resource_type, resource_id), evaluation in sorted(
                self.results.get(params["ConfigRuleName"], {}).items()
            )
            if evaluation["ComplianceType"] in wanted
        ]
        limit = int(params.get("Limit") or 100) or 100
        start = int(params.get("NextToken") or 0)
        page: dict[str, Any] = {"EvaluationResults": rows[start : start + limit]}
        if start + limit < len(rows):
            page["NextToken"] = str(start + limit)
        return _ok(page)

    def install(self, session: Any = None) -> ComplianceLedger:
        session = session or _default_session()
        events = session.events
        for name, handler in (
            (_event(session, "before-parameter-build", "config", "PutEvaluations"), _capture_params),
            (_event(session, "before-parameter-build", "config", "GetComplianceDetailsByConfigRule"), _capture_params),
            (_event(session, "before-call", "config", "PutEvaluations"), self._put),
            (_event(session, "after-call", "config", "PutEvaluations"), self._after_put),
            (_event(session, "before-call", "config", "GetComplianceDetailsByConfigRule"), self._details),
        ):
            events.register(name, handler)
            self._handlers.append((name, handler))
        return self

    def uninstall(self, session: Any = None) -> None:
        events = (session or _default_session()).events
        for name, handler in self._handlers:
            events.unregister(name, handler)
        self._handlers.clear()


@dataclass
class MotoCredentialReport:
    """Two gaps of moto's IAM credential report. moto stamps every report "2015-02-02T20:02:02Z"
    although it builds the content on each call (the rules rightly refuse a report that old):
    this stamps it with the time of the call. moto has no root user, so its report has no
    ``<root_account>`` row: given ``root_row`` (column -> value), this adds one, as AWS always does.
    Responses recorded with :func:`respond` are left as recorded."""

    root_row: Mapping[str, str] | None = None
    _unique: str = field(default_factory=lambda: f"cis-credential-report-{next(_responder_ids)}")

    def _fix(self, parsed: dict[str, Any], context: Mapping[str, Any], **_: Any) -> None:
        if context.get(_RECORDED) or "GeneratedTime" not in parsed:
            return
        parsed["GeneratedTime"] = datetime.now(UTC)
        content = parsed.get("Content", b"")
        if self.root_row is not None and b"<root_account>" not in content:
            header, _, rest = content.decode().partition("\n")
            columns = header.split(",")
            row = {"user": "<root_account>", **self.root_row}
            root_line = ",".join(row.get(column, "N/A") for column in columns)
            parsed["Content"] = f"{header}\n{root_line}\n{rest}".encode()

    def _event_name(self, session: Any) -> str:
        return _event(session, "after-call", "iam", "GetCredentialReport")

    def install(self, session: Any = None) -> MotoCredentialReport:
        session = session or _default_session()
        session.events.register(self._event_name(session), self._fix, unique_id=self._unique)
        return self

    def uninstall(self, session: Any = None) -> None:
        session = session or _default_session()
        session.events.unregister(self._event_name(session), unique_id=self._unique)


@dataclass
class LocalEndpointAccountPrefix:
    """S3 Control addresses ``<account-id>.<endpoint host>``; against one local endpoint
    (``AWS_ENDPOINT_URL=http://127.0.0.1:port``) that host does not resolve, and no botocore setting
    turns the prefix off (it comes from the endpoint rules, not from host-prefix injection). This
    drops the account prefix when the rest of the host is the local endpoint's; moto's server
    recognises S3 Control by its path and reads the account from the ``x-amz-account-id`` header."""

    endpoint_url: str
    _unique: str = field(default_factory=lambda: f"cis-local-prefix-{next(_responder_ids)}")

    def _strip(self, params: dict[str, Any], **_: Any) -> None:
        url = urlsplit(str(params.get("url", "")))
        account, _dot, rest = url.netloc.partition(".")
        if account.isdigit() and rest == urlsplit(self.endpoint_url).netloc:
            params["url"] = urlunsplit(url._replace(netloc=rest))

    def install(self, session: Any = None) -> LocalEndpointAccountPrefix:
        session = session or _default_session()
        session.events.register("before-call.s3-control", self._strip, unique_id=self._unique)
        return self

    def uninstall(self, session: Any = None) -> None:
        session = session or _default_session()
        session.events.unregister("before-call.s3-control", unique_id=self._unique)


@contextmanager
def respond(
    service: str,
    operation: str,
    response: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    *,
    error: str | None = None,
    message: str = "",
    status: int = 400,
    session: Any = None,
    region: str | None = None,
) -> Iterator[list[Mapping[str, Any]]]:
    """Answer ``service.operation`` with ``response`` (validated against the service model's
    output shape) or with the error ``error``, instead of sending it. A list of responses answers
    successive calls with successive pages (and raises on a call past the last). With ``region``,
    only calls from clients of that region are answered; the others still go out. Yields the list
    of the request parameters it answered, for assertions."""
    if (response is None) == (error is None):
        raise ValueError("give exactly one of response and error")
    session = session or _default_session()
    events = session.events
    seen: list[Mapping[str, Any]] = []

    def handler(model: OperationModel, context: dict[str, Any], **_: Any) -> Any:
        if region is not None and context.get("client_region") != region:
            return None
        seen.append(context[_PARAMS])
        context[_RECORDED] = True
        if error is not None:
            return _error(error, message or error, status)
        assert response is not None
        if isinstance(response, Mapping):
            body = dict(response)
        elif len(seen) <= len(response):
            body = dict(response[len(seen) - 1])
        else:
            raise AssertionError(f"{operation} called {len(seen)} times; {len(response)} pages were recorded")
        if model.output_shape is not None:
            report = ParamValidator().validate(body, model.output_shape)
            if report.has_errors():
                raise AssertionError(
                    f"recorded {operation} response does not fit the model: {report.generate_report()}"
                )
        return _ok(body)

    event = _event(session, "before-call", service, operation)
    capture = _event(session, "before-parameter-build", service, operation)
    unique = f"cis-respond-{next(_responder_ids)}"
    events.register(capture, _capture_params, unique_id=unique + "-params")
    events.register(event, handler, unique_id=unique)
    try:
        yield seen
    finally:
        events.unregister(event, unique_id=unique)
        events.unregister(capture, unique_id=unique + "-params")


@contextmanager
def observe(service: str, operation: str, *, session: Any = None) -> Iterator[list[Mapping[str, Any]]]:
    """Record the parameters of every ``service.operation`` call; the calls still go out."""
    session = session or _default_session()
    seen: list[Mapping[str, Any]] = []

    def handler(params: Mapping[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    event = _event(session, "before-parameter-build", service, operation)
    unique = f"cis-observe-{next(_responder_ids)}"
    session.events.register(event, handler, unique_id=unique)
    try:
        yield seen
    finally:
        session.events.unregister(event, unique_id=unique)
