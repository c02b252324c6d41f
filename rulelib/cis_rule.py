"""What every custom rule of the pack shares: parameters, role mode, time, annotations.

This module is symlinked into each custom rule folder, so ``rdk deploy`` zips it with the rule;
it may import only the standard library, boto3/botocore and rdklib.

Decisions that hold for every rule:

* **Role mode.** rdklib assumes the role in the event's ``executionRoleArn`` unless the rule
  parameter ``AssumeRoleMode`` is ``"false"``. That role is the Config recorder's role, which is
  often the service-linked ``AWSServiceRoleForConfig`` and cannot be assumed at all. The pack's
  rules therefore default to their own Lambda execution role (least privilege, granted exactly
  the actions each rule declares in ``ACTIONS``); ``AssumeRoleMode`` ``"true"`` restores rdklib's
  behaviour, and ``ExecutionRoleName`` / ``ExecutionRoleRegion`` keep their rdklib meaning.
* **Fail closed where users look** (CONTRACT: CONTROLS.md, "When a rule cannot judge"). AWS Config
  keeps showing a rule's last verdict when an invocation sends nothing, and
  ``DescribeConfigRuleEvaluationStatus`` says nothing about custom rules, so a failure that sends
  nothing is invisible in the dashboard. :func:`is_transient` sorts every failure:

  - *permanent* (access denied, an input the rule cannot read, a decision over its budget:
    :class:`EvaluationError`, any 4xx answer but throttling): retrying will not cure it. The
    resource it touched is NON_COMPLIANT ``Could not evaluate: <call or input>``
    (:func:`could_not_evaluate`); when it hits the whole run, the account, or for a per-resource
    rule every resource it last reported (read back with ``GetComplianceDetailsByConfigRule``),
    gets that verdict, and the invocation fails naming it.
  - *transient* (throttling, 5xx, no answer, after botocore's retries; :class:`NotJudgedYet`, time
    running out): every verdict already decided is sent, nothing else, no clean-up of old
    evaluations, and the invocation fails naming what was not judged (:class:`PartialRun`). A
    resource whose last evaluation is older than ``staleAfterHours`` (every rule takes it,
    default 48) is then NON_COMPLIANT ``Could not evaluate: not evaluated since <time>``.
* **Large accounts converge.** A per-resource rule reads back its last results first
  (:func:`judging_order`): the resources judged longest ago, or never, are judged first, so a run
  cut short by time or throttling leaves the next one to start where it stopped.
* **Bad input is refused at the door.** :func:`validate_event` checks the event before any API
  call and names the first field that is not what AWS Config sends; rule parameters are checked
  next. Either fails the invocation with one sentence, never with a raw exception.
* **No verdict is lost.** rdklib discards ``PutEvaluations``' answer; :class:`Clients` reads it,
  and evaluations AWS Config rejected fail the invocation, naming them.
* **One time budget for the whole invocation, sending included.** Work stops while there is
  time to send (:func:`check_deadline`, and before every API request the rule's clients send, so
  a unit slowed by throttling stops inside itself): the margin covers botocore's longest backoff,
  the clean-up and a ``PutEvaluations`` batch per 100 verdicts decided. Lambda never kills a run
  with decided verdicts unsent.
* **Throttling never fails a run on botocore's retry quota** (:class:`Clients`).
* **Time** comes from the event's ``notificationCreationTime``, so tests freeze it.
"""

from __future__ import annotations

import json
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol

import botocore.exceptions
from botocore.retries import quota as retry_quota
from botocore.retries import standard as retry_standard
from rdklib import ClientFactory, ComplianceType, ConfigRule, Evaluation, InvalidParametersError
from rdklib.util.evaluations import process_evaluations
from rdklib.util.service import (
    build_error_response,
    build_internal_error_response,
    build_parameters_value_error_response,
    convert_into_notification_config_item,
    is_applicable_resource_type,
    is_applicable_status,
    is_internal_error,
)

# Throttling and 5xx answers are retried before the rule sees them. botocore reads these when a
# client is built; the Lambda's own environment still wins when it sets them.
os.environ.setdefault("AWS_RETRY_MODE", "standard")
os.environ.setdefault("AWS_MAX_ATTEMPTS", "8")

ACCOUNT = "AWS::::Account"
IAM_USER = "AWS::IAM::User"
S3_BUCKET = "AWS::S3::Bucket"
ROUTE_TABLE = "AWS::EC2::RouteTable"

MAX_ANNOTATION = 256

# Rule parameters that rdklib itself reads; every rule accepts them, in these forms (rdklib
# builds the role ARN and the STS endpoint from them without checking).
RDKLIB_PARAMETER_FORMS = (
    ("AssumeRoleMode", r"(?i)\s*(true|false)\s*", "'true' or 'false'"),
    ("ExecutionRoleName", r"[\w+=,.@/-]{1,512}", "an IAM role name (optionally with its path)"),
    ("ExecutionRoleRegion", r"[a-z]{2}(-[a-z]+)+-\d", "an AWS region name such as us-east-1"),
)
RDKLIB_PARAMETERS = frozenset(name for name, _, _ in RDKLIB_PARAMETER_FORMS)

# The action every rule needs to report, and the one it needs to read back its last results (to
# retire resources it no longer reports, to judge the oldest first, to mark stale results).
PUT_EVALUATIONS = "config:PutEvaluations"
GET_COMPLIANCE_DETAILS = "config:GetComplianceDetailsByConfigRule"
GET_RESOURCE_CONFIG_HISTORY = "config:GetResourceConfigHistory"

#: The parameter every custom rule takes (CONTROLS.md, "When a rule cannot judge").
STALE_AFTER_HOURS = "staleAfterHours"
STALE_DEFAULT_HOURS = 48
# A century: timedelta cannot hold the largest integers a parameter may spell.
MAX_STALE_HOURS = 24 * 36525


class EvaluationError(ValueError):
    """The rule could not look, so it must not judge: an input it cannot read, a state it cannot
    decide. A failure retrying will not cure: the resource it touched (or the whole run) is
    reported NON_COMPLIANT ``Could not evaluate: <message>``. The message is one sentence."""


class NotJudgedYet(EvaluationError):
    """A failure that a later run may not meet: a credential report still being generated, the
    Lambda's time running out. Transient: what was decided is sent, the run fails naming it."""


class OutOfTime(NotJudgedYet):
    """The invocation's budget is spent: stop while there is time to send what is decided."""


class PartialRun(Exception):
    """A run that decided some verdicts and could not judge the rest because of a failure retries
    did not cure (:func:`is_transient`). ``evaluations`` are the verdicts decided (each true on its
    own), ``unjudged`` names what was not judged, ``cause`` is the first transient failure."""

    def __init__(self, evaluations: list[Any], unjudged: list[str], cause: BaseException) -> None:
        super().__init__(f"{len(unjudged)} not judged: {failure_text(cause)}")
        self.evaluations = list(evaluations)
        self.unjudged = list(unjudged)
        self.cause = cause


class RuleFailed(RuntimeError):
    """The invocation failed. rdklib answers errors (AccessDenied, throttling, a malformed
    parameter) with an error *return value*; raised, it fails the Lambda invocation, which the
    function's ``Errors`` metric and the operators' alarm show. ``response`` is rdklib's answer."""

    def __init__(self, response: Mapping[str, Any]) -> None:
        self.response = dict(response)
        code = response.get("customerErrorCode") or "Error"
        message = response.get("customerErrorMessage") or response.get("internalErrorMessage") or ""
        super().__init__(f"{code}: {message}")


# --- Which failures are permanent --------------------------------------------------------------

#: Error codes that mean "slow down" (botocore's throttling list and each service's own word).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
#: 4xx codes that a later attempt can cure (time-outs on the service's side).
TRANSIENT_CODES = THROTTLING_CODES | {"RequestTimeout", "RequestTimeoutException", "IDPCommunicationError"}
ACCESS_DENIED_CODES = ("AccessDenied", "UnauthorizedOperation", "AuthorizationError", "UnrecognizedClient")
#: Where :class:`Clients` writes the IAM action of a failed call into the error.
ACTION_KEY = "CisAction"
# IAM actions whose names are not ``<signing name>:<operation>``.
_ACTION_OF = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3-control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}
_PREFIX_OF = {"monitoring": "cloudwatch"}


def _error_code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_access_denied(error: BaseException) -> bool:
    return isinstance(error, botocore.exceptions.ClientError) and any(
        code in _error_code(error) for code in ACCESS_DENIED_CODES
    )


def is_transient(error: BaseException) -> bool:
    """Whether a later attempt may cure the failure: throttling, a 5xx answer or no answer at
    all (after botocore's retries), :class:`NotJudgedYet`. Everything else the pack catches is
    permanent: access denied, another 4xx answer, an :class:`EvaluationError`."""
    if isinstance(error, NotJudgedYet):
        return True
    if isinstance(error, botocore.exceptions.ClientError):
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500 or _error_code(error) in TRANSIENT_CODES
    return isinstance(error, botocore.exceptions.HTTPClientError | botocore.exceptions.ConnectionError)


#: Failures a rule's code may meet and the pack turns into a verdict or a partial run.
JUDGED_FAILURES = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, EvaluationError)


def failure_text(error: BaseException) -> str:
    """What could not be done, without raw exception text: ``s3:GetBucketPolicy was denied
    (AccessDenied)``, ``iam:ListUsers failed after retries (Throttling)``, ``no answer from AWS
    (ConnectionClosedError)``, or an :class:`EvaluationError`'s own sentence (no final period)."""
    if isinstance(error, botocore.exceptions.ClientError):
        action = str(error.response.get("Error", {}).get(ACTION_KEY) or error.operation_name)
        code = _error_code(error)[:60] or "an error"
        if is_access_denied(error):
            return f"{action} was denied ({code})"
        if is_transient(error):
            return f"{action} failed after retries ({code})"
        return f"{action} failed ({code})"
    if isinstance(error, EvaluationError):
        return str(error).strip().rstrip(".")
    return f"no answer from AWS ({type(error).__name__})"


def _action_name(model: Any) -> str:
    service = model.service_model
    key = (service.service_id.hyphenize(), model.name)
    if key in _ACTION_OF:
        return _ACTION_OF[key]
    prefix = service.signing_name or service.endpoint_prefix
    return f"{_PREFIX_OF.get(prefix, prefix)}:{model.name}"


class _ThrottlingFreeQuota(retry_standard.RetryQuotaChecker):  # type: ignore[misc]
    """botocore's per-client retry quota (500 units; a retry of a 5xx answer or a time-out costs
    14), except that a throttled retry costs nothing. botocore charges a throttled retry 5 and
    gives quota back only for 2xx answers, so sustained throttling, or reads that end in 404 (no
    policy, no Block Public Access), empty it and every later throttled call fails on its first
    attempt: 2.3 with 120 trail buckets failed 3 of 5 runs at 30 % throttling. The quota guards
    against retry storms during an outage, which 5xx and time-outs still draw on; throttling is
    already paced by the exponential backoff (up to 20 s a wait), the run's 4 workers and its
    time budget."""

    _THROTTLING_RETRY_COST = 0


def _free_throttled_retries(client: Any) -> None:
    """Replace the client's standard-mode retry handler by the same handler with
    :class:`_ThrottlingFreeQuota` (the handler is registered per client when it is built)."""
    retries = client.meta.config.retries or {}
    if retries.get("mode") != "standard":
        return  # a mode the Lambda's environment chose on purpose is left as it is
    service = client.meta.service_model.service_id.hyphenize()
    adapter = retry_standard.RetryEventAdapter()
    detector = retry_standard.ThrottlingErrorDetector(adapter)
    checker = _ThrottlingFreeQuota(retry_quota.RetryQuota(), detector)
    attempts = retries.get("total_max_attempts") or retry_standard.DEFAULT_MAX_ATTEMPTS
    handler = retry_standard.RetryHandler(
        retry_policy=retry_standard.RetryPolicy(
            retry_checker=retry_standard.StandardRetryConditions(max_attempts=attempts),
            retry_backoff=retry_standard.ExponentialBackoff(service_name=service, throttling_detector=detector),
        ),
        retry_event_adapter=adapter,
        retry_quota=checker,
        service_name=service,
    )
    events = client.meta.events
    unique = f"retry-config-{service}"
    events.unregister(f"needs-retry.{service}", unique_id=unique)
    events.register(f"needs-retry.{service}", handler.needs_retry, unique_id=unique)
    events.register(f"after-call.{service}", checker.release_retry_quota)


class Clients(ClientFactory):  # type: ignore[misc]  # rdklib ships no type information
    """rdklib's client factory, building each client once per invocation: one client per service,
    region and role mode, shared by every part of the rule. botocore clients are thread-safe to
    use but not to create concurrently (the default session's loaders are shared), so creation
    is serialised by a lock. Each client:

    * retries throttling without drawing on botocore's retry quota (:class:`_ThrottlingFreeQuota`);
    * checks the invocation's deadline before every request it sends, retries included, so a
      unit of work slowed by throttling stops inside itself (:func:`check_deadline`);
    * writes the IAM action of a failed call into the error (:func:`failure_text` names it).

    It also reads every ``PutEvaluations`` answer, which rdklib throws away: AWS Config lists the
    evaluations it did not record in ``FailedEvaluations`` (without a reason per item), and those
    resources would keep their previous verdict unnoticed. :func:`handle` fails the invocation
    when any was rejected (:meth:`rejection`)."""

    def __init__(self, role_arn: str | None, region: str | None, assume_role_mode: bool) -> None:
        super().__init__(role_arn, region=region, assume_role_mode=assume_role_mode)
        self._default_region = region or os.environ.get("AWS_REGION")
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str | None, bool], Any] = {}
        self.sent = 0
        self.rejected: list[Mapping[str, Any]] = []

    def build_client(self, service: str, region: str | None = None, assume_role_mode: bool = True) -> Any:
        key = (service, region or self._default_region, bool(assume_role_mode))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = super().build_client(service, region, assume_role_mode)
                events = client.meta.events
                _free_throttled_retries(client)
                events.register("request-created", _check_before_request)
                events.register("after-call", _name_failed_action)
                if service == "config":
                    events.register("before-parameter-build.config-service.PutEvaluations", self._count_sent)
                    events.register("after-call.config-service.PutEvaluations", self._read_answer)
                self._clients[key] = client
            return client

    def _count_sent(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["cis_evaluations_sent"] = len(params.get("Evaluations") or ())

    def _read_answer(self, http_response: Any, parsed: Mapping[str, Any], context: Mapping[str, Any], **_: Any) -> None:
        if http_response.status_code >= 300:
            return  # an error answer raises ClientError, which the run reports itself
        with self._lock:
            self.sent += int(context.get("cis_evaluations_sent", 0))
            self.rejected.extend(parsed.get("FailedEvaluations") or ())

    def rejection(self) -> dict[str, Any] | None:
        """rdklib-style error response naming the evaluations AWS Config rejected, if any."""
        if not self.rejected:
            return None
        named = join_names(
            (
                f"{item.get('ComplianceType', '?')} {item.get('ComplianceResourceType', '?')} "
                f"{item.get('ComplianceResourceId', '?')}"
            )
            for item in self.rejected
        )
        message = (
            f"AWS Config rejected {len(self.rejected)} of {self.sent} evaluations (PutEvaluations listed them "
            f"as FailedEvaluations, which carry no reason code): {named}; those resources keep their previous verdict."
        )
        response: dict[str, Any] = build_error_response(
            "PutEvaluations rejected evaluations", json.dumps(self.rejected, default=str), "FailedEvaluations", message
        )
        return response


def _name_failed_action(parsed: Any, model: Any, **_: Any) -> None:
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        error.setdefault(ACTION_KEY, _action_name(model))


_SERVICE_PREFIX = {"config-service": "config", "cloudwatch-logs": "logs", "s3-control": "s3"}


def _check_before_request(event_name: str, operation_name: str, **_: Any) -> None:
    # request-created.<service id>.<operation>, once per attempt (retries included).
    service = event_name.split(".")[1] if event_name.count(".") >= 2 else "aws"
    check_deadline(f"{_SERVICE_PREFIX.get(service, service)}:{operation_name} was about to be sent")


# --- The time budget ------------------------------------------------------------------------------

#: botocore standard mode's longest wait between two attempts: a request checked just before it
#: may start that wait, so the margin holds it.
MAX_BACKOFF_S = 20.0
#: Sending, whatever was decided: the clean-up (or stale check) query and one PutEvaluations
#: batch, each with its retries' backoff under heavy throttling.
SEND_RESERVE_S = 10.0
#: Each further batch of 100 decided verdicts: a PutEvaluations call is a few hundred ms, and
#: about 4 s with its expected backoff at 50 % throttling (benchmarks/large_accounts.py --converge
#: measured a run at 50 % overshoot a 1 s allowance by 10 s).
SEND_PER_BATCH_S = 4.0
#: Under a short timeout the margin is at most this fraction of the time the run started with.
DEADLINE_MARGIN_FRACTION = 0.25


def send_margin(decided: int) -> float:
    """Seconds kept in hand when ``decided`` verdicts wait to be sent: the longest backoff the
    last request may start, the clean-up, and a PutEvaluations batch per 100 verdicts."""
    batches = max(0, (decided - 1) // 100)
    return MAX_BACKOFF_S + SEND_RESERVE_S + SEND_PER_BATCH_S * batches


class _Deadline:
    """The invocation's clock: Lambda's remaining-time function, or nothing outside a Lambda
    invocation, and the verdicts decided so far (they set the margin). Lambda runs one invocation
    at a time per process, so one module-level instance serves the handler and its threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clock: tuple[Callable[[], Any], float] | None = None
        self._decided = 0
        self._sending = False

    def start(self, context: Any) -> None:
        clock = None
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            start = remaining()
            if isinstance(start, int | float) and not isinstance(start, bool):
                clock = (remaining, start / 1000 * DEADLINE_MARGIN_FRACTION)
        with self._lock:
            self._clock = clock
            self._decided = 0
            self._sending = False

    def stop(self) -> None:
        with self._lock:
            self._clock = None
            self._decided = 0
            self._sending = False

    def decided(self, count: int) -> None:
        with self._lock:
            self._decided = max(self._decided, count)

    def sending(self) -> None:
        """From now on the run sends what it decided: the margin was kept for this."""
        with self._lock:
            self._sending = True

    def spare(self) -> tuple[float, float] | None:
        """Seconds left in the invocation and the margin sending needs now, or ``None`` outside a
        Lambda invocation or once the run is sending."""
        with self._lock:
            clock, decided, sending = self._clock, self._decided, self._sending
        if clock is None or sending:
            return None
        remaining, short_margin = clock
        return float(remaining()) / 1000, min(send_margin(decided), short_margin)

    def check(self, progress: str, needed_s: float = 0.0) -> None:
        spare = self.spare()
        if spare is None:
            return
        left, margin = spare
        if left - needed_s < margin:
            raise OutOfTime(
                f"Stopped with {max(left, 0.0):.1f} s left before the Lambda timeout after {progress}, "
                "keeping the rest to send what was decided; give the function a longer timeout "
                "(docs/reliability.md, 'Timeouts and memory')."
            )


_DEADLINE = _Deadline()


def check_deadline(progress: str, needed_s: float = 0.0, decided: int | None = None) -> None:
    """Stop the run (:class:`OutOfTime`, transient) when what is left of the Lambda's time, less
    ``needed_s`` (a wait about to start), is below the margin that sending needs, naming how far
    it got (``progress``, e.g. "57 of 120 trail buckets judged"). ``decided`` (verdicts decided so
    far) grows the margin by a PutEvaluations batch per 100. A no-op outside a Lambda invocation.
    Safe to call from worker threads; every request of the rule's clients calls it too."""
    if decided is not None:
        _DEADLINE.decided(decided)
    _DEADLINE.check(progress, needed_s)


# --- What the rule reported before ------------------------------------------------------------------


@dataclass(frozen=True)
class PreviousResult:
    """One evaluation AWS Config holds for the rule (``GetComplianceDetailsByConfigRule``)."""

    resource_type: str
    resource_id: str
    compliance: str
    recorded: datetime | None
    annotation: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource_type, self.resource_id)

    @property
    def is_stale_mark(self) -> bool:
        return self.compliance == "NON_COMPLIANT" and self.annotation.startswith(STALE_PREFIX)


STALE_PREFIX = "Could not evaluate: not evaluated since"


def read_previous(clients: Any, rule_name: str) -> dict[tuple[str, str], PreviousResult]:
    """The rule's COMPLIANT and NON_COMPLIANT results AWS Config holds, by (type, ID), with the
    time each was recorded (NOT_APPLICABLE ones are retired already)."""
    config = clients.build_client("config")
    found: dict[tuple[str, str], PreviousResult] = {}
    pages = config.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName=rule_name, ComplianceTypes=["COMPLIANT", "NON_COMPLIANT"], PaginationConfig={"PageSize": 100}
    )
    for page in pages:
        for row in page.get("EvaluationResults", []):
            qualifier = row["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            result = PreviousResult(
                str(qualifier["ResourceType"]),
                str(qualifier["ResourceId"]),
                str(row.get("ComplianceType", "")),
                row.get("ResultRecordedTime"),
                str(row.get("Annotation") or ""),
            )
            found[result.key] = result
    return found


class _Run:
    """What the running invocation knows of the rule's last results (per-resource rules), for
    :func:`judging_order`. Set by the handler, read by the rule's threads."""

    def __init__(self) -> None:
        self.previous: Mapping[tuple[str, str], PreviousResult] = {}


_RUN = _Run()


def judging_order[T](items: Iterable[T], resource_type: str, resource_id: Callable[[T], str]) -> list[T]:
    """``items`` with those never judged first, then those judged longest ago (the rule's last
    results, read back at the start of the run), so that a run cut short leaves the next one to
    start where it stopped: large accounts converge. Ties keep the items' order."""
    epoch = datetime.min.replace(tzinfo=UTC)

    def when(item: T) -> datetime:
        result = _RUN.previous.get((resource_type, resource_id(item)))
        if result is None or result.recorded is None or result.is_stale_mark:
            return epoch
        recorded = result.recorded
        return recorded if recorded.tzinfo else recorded.replace(tzinfo=UTC)

    return sorted(items, key=when)


def could_not_evaluate(resource_id: str, resource_type: str, error_or_text: BaseException | str) -> Evaluation:
    """NON_COMPLIANT ``Could not evaluate: <what>`` (CONTROLS.md, "When a rule cannot judge")."""
    what = error_or_text if isinstance(error_or_text, str) else failure_text(error_or_text)
    return non_compliant(resource_id, resource_type, f"Could not evaluate: {what}.")


# --- The handler ----------------------------------------------------------------------------------


def handle(rule: CisRule, event: Mapping[str, Any], context: Any) -> Any:
    """The rule's Lambda handler: rdklib's evaluation flow, with one client per service and region
    (:class:`Clients`), the invocation's time budget known to :func:`check_deadline`, failures
    sorted into verdicts and partial runs (module docstring), and every error failing the
    invocation (:class:`RuleFailed`) instead of being returned as a value."""
    _DEADLINE.start(context)
    try:
        result = _evaluate(rule, event)
    finally:
        _DEADLINE.stop()
        _RUN.previous = {}
    if isinstance(result, dict):
        raise RuleFailed(result)
    return result


def _evaluate(rule: CisRule, event: Mapping[str, Any]) -> Any:
    """rdklib's ``Evaluator.handle``, with the pack's client factory and the event checked first.
    rdklib's own builds its factory inside the method, so the flow is repeated here, calling the
    same rdklib helpers."""
    try:
        invoking_event, rule_parameters = validate_event(rule, event)
        valid_rule_parameters = rule.evaluate_parameters(rule_parameters)
        assume = rule.get_assume_role_mode(event)
        if assume:
            _require(event, "executionRoleArn", ROLE_ARN, "the ARN of the IAM role to assume (AssumeRoleMode)")
    except InvalidEventError as ex:
        return build_error_response("The event is malformed", str(ex), "InvalidEvent", str(ex))
    except InvalidParametersError as ex:
        return build_parameters_value_error_response(ex)
    clients = Clients(
        rule.get_execution_role_arn(event) if assume else None, rule.get_assume_role_region(event), assume
    )
    result = _run(rule, event, invoking_event, clients, valid_rule_parameters)
    rejection = clients.rejection()
    if rejection is None:
        return result
    if isinstance(result, dict):
        # A later step failed outright after evaluations had been rejected: report both.
        failure = RuleFailed(result)
        rejection["customerErrorMessage"] += f" The run then failed: {str(failure).rstrip('.')}."
    return rejection


def _error_response(error: BaseException) -> dict[str, Any]:
    """rdklib's error response for a failure that sent nothing (or could not send)."""
    if isinstance(error, botocore.exceptions.ClientError):
        detail = error.response["Error"]
        code = str(detail["Code"])
        if is_access_denied(error):
            response: dict[str, Any] = build_error_response(
                "Insufficient access to perform this action.", str(error), code, str(detail["Message"])
            )
        elif is_internal_error(error):
            response = build_internal_error_response("Unexpected error while completing API request", str(error))
        else:
            response = build_error_response(
                "Customer error while making API request", str(error), code, str(detail["Message"])
            )
        return response
    if isinstance(error, EvaluationError):
        response = build_internal_error_response(str(error), str(error))
        return response
    # No answer from AWS after botocore's retries (connection closed or refused, read timeout):
    # rdklib lets these escape raw; the message names the endpoint that could not be reached.
    response = build_error_response(
        "No answer from AWS", str(error), type(error).__name__, f"No answer from AWS after retries: {error}"
    )
    return response


def _failed(summary: str, error: BaseException, code: str | None = None) -> dict[str, Any]:
    """The invocation's failure: rdklib's error response for ``error``, its message led by
    ``summary`` (what was sent, what was not judged)."""
    response = _error_response(error)
    if code:
        response["customerErrorCode"] = code
    first = response.get("customerErrorMessage") or response.get("internalErrorMessage") or ""
    message = f"{summary} {first}".strip()
    if "customerErrorMessage" in response or "internalErrorMessage" not in response:
        response["customerErrorMessage"] = message
    else:
        response["internalErrorMessage"] = message
    return response


def _run(
    rule: CisRule,
    event: Mapping[str, Any],
    invoking_event: Mapping[str, Any],
    clients: Clients,
    valid_rule_parameters: Mapping[str, Any],
) -> Any:
    """Evaluate and report: the evaluations sent, or the invocation's error response."""
    if invoking_event["messageType"] == SCHEDULED:
        return _periodic(rule, event, clients, valid_rule_parameters)
    return _change(rule, event, invoking_event, clients, valid_rule_parameters)


def _send(event: Mapping[str, Any], clients: Clients, evaluations: list[Any], item: Any = None) -> list[Any]:
    """Send ``evaluations`` (rdklib ``Evaluation`` objects) through rdklib, batches of 100."""
    _DEADLINE.sending()
    payload = []
    for evaluation in evaluations:
        if not isinstance(evaluation, Evaluation):
            raise TypeError(f"a rule returned {type(evaluation).__name__}, not an rdklib Evaluation")
        if item is None:
            evaluation.import_fields_from_periodic_event(event)
        else:
            evaluation.import_fields_from_configuration_item(item)
        if evaluation.is_valid():
            payload.append(evaluation.get_json())
    sent: list[Any] = process_evaluations(event, clients, payload)
    return sent


def _periodic(rule: CisRule, event: Mapping[str, Any], clients: Clients, params: Mapping[str, Any]) -> Any:
    """A scheduled run (CONTROLS.md, "When a rule cannot judge"):

    * complete: every verdict, plus NOT_APPLICABLE for the resources a per-resource rule last
      reported and no longer does (rdklib's clean-up, from the results read back at the start);
    * transient failure (:class:`PartialRun`, or one raised before anything was decided): the
      verdicts decided, and NON_COMPLIANT for the resources not judged whose last result is older
      than ``staleAfterHours``; no clean-up; the invocation fails naming what was not judged;
    * permanent failure of the whole run: NON_COMPLIANT ``Could not evaluate`` for the account, or
      for every resource a per-resource rule last reported; the invocation fails naming it."""
    name = str(event.get("configRuleName") or "")
    per_resource = rule.RESOURCE_TYPE != ACCOUNT
    previous: dict[tuple[str, str], PreviousResult] | None = None
    read_error: BaseException | None = None
    try:
        if per_resource:
            try:
                previous = read_previous(clients, name)
            except JUDGED_FAILURES as ex:
                read_error = ex  # the rule still judges; only the clean-up needs the read-back
            _RUN.previous = previous or {}
        try:
            evaluations = rule.evaluate_periodic(event, clients, params)
        except PartialRun as partial:
            return _partial(rule, event, clients, params, partial, previous)
        except JUDGED_FAILURES as ex:
            if is_transient(ex):
                return _partial(rule, event, clients, params, PartialRun([], ["the whole run"], ex), previous)
            return _whole_run_failed(rule, event, clients, ex, previous)
        if not isinstance(evaluations, list):
            raise TypeError("evaluate_periodic() must return a list of Evaluation objects")
        if per_resource and previous is None:
            assert read_error is not None
            sent = _send(event, clients, evaluations)
            return _failed(
                f"Sent {len(sent)} evaluations; resources the rule no longer reports keep their verdict because "
                f"it could not read its last results: {failure_text(read_error)}.",
                read_error,
            )
        retired = []
        if per_resource and rule.delete_old_evaluations_on_scheduled_notification:
            judged = {(str(e.complianceResourceType), str(e.complianceResourceId)) for e in evaluations}
            retired = [
                Evaluation(ComplianceType.NOT_APPLICABLE, old.resource_id, old.resource_type)
                for key, old in sorted((previous or {}).items())
                if key not in judged
            ]
        return _send(event, clients, retired + evaluations)
    except JUDGED_FAILURES as ex:  # sending failed: nothing more can be done
        return _error_response(ex)


def _stale(
    event: Mapping[str, Any],
    params: Mapping[str, Any],
    previous: Mapping[tuple[str, str], PreviousResult],
    judged: set[tuple[str, str]],
) -> list[Any]:
    """NON_COMPLIANT for each resource not judged now whose last result is older than
    ``staleAfterHours`` (a resource already so marked keeps its mark and its time)."""
    hours = min(int(params.get(STALE_AFTER_HOURS) or STALE_DEFAULT_HOURS), MAX_STALE_HOURS)
    limit = notification_time(event) - timedelta(hours=hours)
    marks = []
    for key, old in sorted(previous.items()):
        if key in judged or old.recorded is None or old.is_stale_mark:
            continue
        recorded = old.recorded if old.recorded.tzinfo else old.recorded.replace(tzinfo=UTC)
        if recorded < limit:
            since = f"not evaluated since {recorded.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            marks.append(could_not_evaluate(old.resource_id, old.resource_type, since))
    return marks


def _partial(
    rule: CisRule,
    event: Mapping[str, Any],
    clients: Clients,
    params: Mapping[str, Any],
    partial: PartialRun,
    previous: Mapping[tuple[str, str], PreviousResult] | None,
) -> dict[str, Any]:
    _DEADLINE.sending()  # the margin was kept for what follows
    decided = list(partial.evaluations)
    if previous is None:
        try:
            previous = read_previous(clients, str(event.get("configRuleName") or ""))
        except JUDGED_FAILURES:
            previous = {}
    judged = {(str(e.complianceResourceType), str(e.complianceResourceId)) for e in decided}
    stale = _stale(event, params, previous, judged)
    sent = _send(event, clients, decided + stale) if decided or stale else []
    if not sent:
        return _failed("Nothing judged, nothing sent.", partial.cause)
    unjudged = join_names(partial.unjudged, limit=5)
    stale_part = f" and {len(stale)} not evaluated for over {params.get(STALE_AFTER_HOURS)} hours" if stale else ""
    summary = (
        f"Sent the {len(decided)} verdicts decided{stale_part}, no clean-up; not judged: {unjudged}, "
        f"because {failure_text(partial.cause)}."
    )
    return _failed(summary, partial.cause, code="NotJudged")


def _whole_run_failed(
    rule: CisRule,
    event: Mapping[str, Any],
    clients: Clients,
    error: BaseException,
    previous: Mapping[tuple[str, str], PreviousResult] | None,
) -> dict[str, Any]:
    _DEADLINE.sending()  # the margin was kept for what follows
    if rule.RESOURCE_TYPE == ACCOUNT:
        verdicts = [could_not_evaluate(account_id(event), ACCOUNT, error)]
    else:
        verdicts = [
            could_not_evaluate(old.resource_id, old.resource_type, error) for _, old in sorted((previous or {}).items())
        ]
    sent = _send(event, clients, verdicts) if verdicts else []
    target = "the account" if rule.RESOURCE_TYPE == ACCOUNT else f"{len(sent)} resources the rule last reported"
    summary = f"Could not evaluate: {failure_text(error)}; reported NON_COMPLIANT for {target}."
    return _failed(summary, error)


def _change(
    rule: CisRule,
    event: Mapping[str, Any],
    invoking_event: Mapping[str, Any],
    clients: Clients,
    params: Mapping[str, Any],
) -> Any:
    """A configuration change: the one resource of the item, judged as the periodic run would. A
    permanent failure makes that resource NON_COMPLIANT ``Could not evaluate``; a transient one
    sends nothing and fails the invocation."""
    if invoking_event["messageType"] == OVERSIZED_CHANGE:
        summary = invoking_event["configurationItemSummary"]
        try:
            item = _fetch_oversized_item(clients, summary)
        except InvalidEventError as ex:
            return build_error_response("The event is malformed", str(ex), "InvalidEvent", str(ex))
        except JUDGED_FAILURES as ex:
            if is_transient(ex):
                return _error_response(ex)
            resource = (str(summary["resourceId"]), str(summary["resourceType"]))
            try:
                item = _summary_item(summary, invoking_event["notificationCreationTime"])
                return _send(event, clients, [could_not_evaluate(*resource, ex)], item)
            except JUDGED_FAILURES as sending:
                return _error_response(sending)
    else:
        item = invoking_event["configurationItem"]
    try:
        if is_applicable_status(item, event) and is_applicable_resource_type(item, list(rule.CHANGE_TYPES)):
            try:
                result = rule.evaluate_change(event, clients, item, params)
            except JUDGED_FAILURES as ex:
                if is_transient(ex):
                    return _error_response(ex)
                result = [could_not_evaluate(str(item["resourceId"]), str(item["resourceType"]), ex)]
        else:
            result = [Evaluation(ComplianceType.NOT_APPLICABLE)]
        if not isinstance(result, list):
            raise TypeError("evaluate_change() must return a list of Evaluation objects")
        return _send(event, clients, result, item)
    except JUDGED_FAILURES as ex:
        return _error_response(ex)


def _summary_item(summary: Mapping[str, Any], notified: str) -> dict[str, Any]:
    """What rdklib reads from a configuration item to address an evaluation, from a summary (its
    capture time, else the notification's, orders the evaluation)."""
    return {
        "resourceType": summary["resourceType"],
        "resourceId": summary["resourceId"],
        "configurationItemCaptureTime": summary.get("configurationItemCaptureTime") or notified,
    }


def _fetch_oversized_item(clients: Clients, summary: Mapping[str, Any]) -> Any:
    """The full configuration item of an oversized notification (rdklib's conversion), refusing
    an empty history, an unknown status or a history item that is not JSON with one sentence."""
    kind, resource = summary["resourceType"], summary["resourceId"]
    history = clients.build_client("config").get_resource_config_history(
        resourceType=kind, resourceId=resource, limit=1
    )
    items = history.get("configurationItems") or []
    if not items:
        raise EvaluationError(f"AWS Config holds no configuration item for {kind} {resource}")
    try:
        item = convert_into_notification_config_item(items[0])
    except ValueError:
        raise EvaluationError(
            f"the configuration item AWS Config holds for {kind} {resource} is not readable JSON "
            "(GetResourceConfigHistory)"
        ) from None
    except (TypeError, KeyError, AttributeError):
        raise EvaluationError(
            f"the configuration item AWS Config holds for {kind} {resource} is not in the shape AWS Config "
            "writes (GetResourceConfigHistory)"
        ) from None
    _check_status("the configuration item GetResourceConfigHistory returned", item.get("configurationItemStatus"))
    return item


# What AWS Config sends a rule's Lambda, checked before any API call (validate_event).
SCHEDULED = "ScheduledNotification"
CHANGE = "ConfigurationItemChangeNotification"
OVERSIZED_CHANGE = "OversizedConfigurationItemChangeNotification"
MESSAGE_TYPES = (SCHEDULED, CHANGE, OVERSIZED_CHANGE)
ACCOUNT_ID = r"\d{12}"
ROLE_ARN = r"arn:aws[a-z-]*:iam::\d{12}:role/\S+"
TIME_EXAMPLE = "2026-01-01T00:00:00.000Z"


class InvalidEventError(ValueError):
    """The event is not what AWS Config sends: one sentence naming the field and what was expected."""


#: ``configurationItemStatus`` values AWS Config writes: judged, or NOT_APPLICABLE (deleted, not
#: recorded). Another value is refused, never taken for NOT_APPLICABLE.
JUDGED_STATUSES = ("OK", "ResourceDiscovered")
GONE_STATUSES = ("ResourceNotRecorded", "ResourceDeleted", "ResourceDeletedNotRecorded")


def _check_status(field: str, value: Any) -> None:
    if value not in JUDGED_STATUSES + GONE_STATUSES:
        raise InvalidEventError(
            f"{field} has configurationItemStatus {_kind(value)}, which AWS Config does not write; expected one "
            f"of {', '.join(JUDGED_STATUSES + GONE_STATUSES)}."
        )


def _kind(value: Any) -> str:
    """How a JSON value is called in a message: ``a JSON array``, ``the number 5``, ``'text'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, list | tuple):
        return "a JSON array"
    if isinstance(value, Mapping):
        return "a JSON object"
    return type(value).__name__


def _json_object(field: str, raw: Any) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        raise InvalidEventError(
            f"{field} must be a string holding a JSON object (AWS Config sends it serialised), not an object."
        )
    if not isinstance(raw, str):
        raise InvalidEventError(f"{field} must be a string holding a JSON object, not {_kind(raw)}.")
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidEventError(f"{field} must hold a JSON object, but is not JSON: {_kind(raw)}.") from None
    if not isinstance(value, dict):
        raise InvalidEventError(f"{field} must hold a JSON object, not {_kind(value)}.")
    return value


def _require(container: Mapping[str, Any], field: str, pattern: str, expected: str, prefix: str = "") -> str:
    """``container[field]`` when it is a string matching ``pattern``, else a sentence saying so."""
    if field not in container or container[field] is None:
        raise InvalidEventError(f"{prefix}{field} is missing; expected {expected}.")
    value = container[field]
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise InvalidEventError(f"{prefix}{field} must be {expected}, not {_kind(value)}.")
    return value


def parse_time(field: str, raw: Any) -> datetime:
    """An ISO 8601 time with a time zone (what AWS Config writes), or a sentence saying why not."""
    expected = f"an ISO 8601 time with a time zone, such as {TIME_EXAMPLE}"
    if not isinstance(raw, str):
        raise InvalidEventError(f"{field} must be {expected}, not {_kind(raw)}.")
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEventError(f"{field} must be {expected}, not {_kind(raw)}.") from None
    if value.tzinfo is None:
        raise InvalidEventError(f"{field} must carry a time zone (such as {TIME_EXAMPLE}), not {_kind(raw)}.")
    return value


def validate_event(rule: CisRule, event: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check an event at the door, before any API call, and return its invoking event and rule
    parameters, parsed. Raises :class:`InvalidEventError` naming the first field that is not what
    AWS Config sends, so that a malformed event never reaches rdklib (which would raise a raw
    KeyError, or for an oversized notification call config:GetResourceConfigHistory)."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"The event must be a JSON object, not {_kind(event)}.")
    rule_parameters = _rule_parameters(event)
    if "invokingEvent" not in event:
        raise InvalidEventError("invokingEvent is missing; expected a string holding a JSON object.")
    invoking = _json_object("invokingEvent", event["invokingEvent"])
    types = ", ".join(MESSAGE_TYPES)
    message_type = _require(invoking, "messageType", "|".join(MESSAGE_TYPES), f"one of {types}", "invokingEvent.")
    name = type(rule).__name__
    if message_type == SCHEDULED and not rule.is_periodic():
        raise InvalidEventError(f"{name} has no periodic trigger; it does not take a {SCHEDULED}.")
    if message_type != SCHEDULED and not rule.CHANGE_TYPES:
        raise InvalidEventError(
            f"{name} is a periodic rule with no configuration change trigger; it takes a {SCHEDULED}, "
            f"not a {message_type}."
        )
    if "notificationCreationTime" not in invoking:
        raise InvalidEventError(
            f"invokingEvent.notificationCreationTime is missing; expected an ISO 8601 time such as {TIME_EXAMPLE}."
        )
    parse_time("invokingEvent.notificationCreationTime", invoking["notificationCreationTime"])
    _require(event, "accountId", ACCOUNT_ID, "a 12-digit AWS account ID")
    _require(event, "resultToken", r"\S+", "the token AWS Config sends to report evaluations with")
    if message_type == SCHEDULED:
        # Every rule reads back its last results by it (clean-up, stale results, judging order).
        _require(event, "configRuleName", r"\S+", "the name of the Config rule")
    if message_type != SCHEDULED:
        if not isinstance(event.get("eventLeftScope"), bool):
            raise InvalidEventError(f"eventLeftScope must be true or false, not {_kind(event.get('eventLeftScope'))}.")
        if message_type == CHANGE:
            _check_item(invoking, "configurationItem", ("resourceType", "resourceId", "configurationItemStatus"))
            item = invoking["configurationItem"]
            if "configurationItemCaptureTime" not in item:
                raise InvalidEventError(
                    "invokingEvent.configurationItem.configurationItemCaptureTime is missing; "
                    f"expected an ISO 8601 time such as {TIME_EXAMPLE}."
                )
            parse_time(
                "invokingEvent.configurationItem.configurationItemCaptureTime", item["configurationItemCaptureTime"]
            )
            _check_status("invokingEvent.configurationItem", item["configurationItemStatus"])
        else:
            _check_item(invoking, "configurationItemSummary", ("resourceType", "resourceId"))
    return invoking, rule_parameters


def _check_item(invoking: Mapping[str, Any], field: str, keys: tuple[str, ...]) -> None:
    item = invoking.get(field)
    if not isinstance(item, Mapping):
        raise InvalidEventError(f"invokingEvent.{field} must be a JSON object, not {_kind(item)}.")
    for key in keys:
        _require(item, key, r"\S.*", "a non-empty string", f"invokingEvent.{field}.")


class Parameter(Protocol):
    def parse(self, name: str, raw: str) -> Any: ...

    @property
    def default(self) -> Any: ...


@dataclass(frozen=True)
class IntParameter:
    """An integer parameter with inclusive bounds."""

    default: int
    minimum: int
    maximum: int | None = None

    def parse(self, name: str, raw: str) -> int:
        text = raw.strip()
        bounds = (
            f"an integer >= {self.minimum}"
            if self.maximum is None
            else (f"an integer from {self.minimum} to {self.maximum}")
        )
        # int() also takes "1_0", non-ASCII digits ("١٢") and inner whitespace; a parameter is
        # written by a person in a template, so only plain ASCII digits count.
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise InvalidParametersError(f"{name} must be {bounds}, not {raw!r}.")
        try:
            value = int(text, 10)
        except ValueError:  # more digits than Python converts (4300)
            raise InvalidParametersError(f"{name} must be {bounds}, not a {len(text)}-digit number.") from None
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            raise InvalidParametersError(f"{name} must be {bounds}, not {value}.")
        return value


@dataclass(frozen=True)
class ListParameter:
    """A comma-separated list; each item must satisfy ``item_pattern`` when one is given."""

    default: tuple[str, ...] = ()
    item_pattern: str | None = None
    item_description: str = "a value"

    def parse(self, name: str, raw: str) -> tuple[str, ...]:
        items = tuple(item.strip() for item in raw.split(",") if item.strip())
        if self.item_pattern is not None:
            for item in items:
                if not re.fullmatch(self.item_pattern, item):
                    raise InvalidParametersError(
                        f"{name} must be a comma-separated list of {self.item_description}; {item!r} is not one."
                    )
        return items


#: Parameters every custom rule takes, beside its own.
COMMON_PARAMETERS: Mapping[str, Parameter] = {STALE_AFTER_HOURS: IntParameter(default=STALE_DEFAULT_HOURS, minimum=1)}


class CisRule(ConfigRule):  # type: ignore[misc]  # rdklib ships no type information
    """Base of every custom rule. Subclasses set the class attributes and implement
    ``evaluate_periodic``; the docstring of each subclass is its specification."""

    #: Rule parameters this rule accepts (all optional), with their parsers and defaults.
    PARAMETERS: ClassVar[Mapping[str, Parameter]] = {}
    #: IAM actions the rule's code calls. The execution role grants exactly their union.
    ACTIONS: ClassVar[tuple[str, ...]] = ()
    #: The resource type the rule reports on.
    RESOURCE_TYPE: ClassVar[str] = ACCOUNT
    #: Resource types whose configuration changes trigger the rule (``evaluate_change``); empty
    #: for a periodic-only rule, which then refuses change notifications at the door.
    CHANGE_TYPES: ClassVar[tuple[str, ...]] = ()

    # A complete periodic run marks NOT_APPLICABLE the resources it no longer reports, as rdklib
    # does, from the results it read back at its start. A rule that only ever reports the
    # account has nothing to retire.
    delete_old_evaluations_on_scheduled_notification: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.RESOURCE_TYPE == ACCOUNT:
            cls.delete_old_evaluations_on_scheduled_notification = False

    @classmethod
    def is_periodic(cls) -> bool:
        """Whether the rule evaluates on a schedule (implements ``evaluate_periodic``)."""
        return cls.evaluate_periodic is not ConfigRule.evaluate_periodic

    @classmethod
    def required_actions(cls) -> tuple[str, ...]:
        """Every IAM action a deployment of this rule needs, rdklib's own calls included."""
        # Every rule reads back its last results (stale results; clean-up and order for
        # per-resource rules).
        actions = {PUT_EVALUATIONS, GET_COMPLIANCE_DETAILS, *cls.ACTIONS}
        if cls.CHANGE_TYPES:
            # An oversized change notification carries only a summary; the item is read back.
            actions.add(GET_RESOURCE_CONFIG_HISTORY)
        return tuple(sorted(actions))

    @classmethod
    def all_parameters(cls) -> dict[str, Parameter]:
        """The rule's own parameters and the ones every custom rule takes (``staleAfterHours``)."""
        return {**COMMON_PARAMETERS, **cls.PARAMETERS}

    def evaluate_parameters(self, rule_parameters: Mapping[str, Any]) -> dict[str, Any]:
        valid: dict[str, Any] = {}
        parameters = self.all_parameters()
        unknown = sorted(set(rule_parameters) - set(parameters) - RDKLIB_PARAMETERS)
        if unknown:
            accepted = ", ".join(sorted(parameters))
            raise InvalidParametersError(f"Unknown rule parameter {', '.join(unknown)}; this rule accepts: {accepted}.")
        for name, pattern, expected in RDKLIB_PARAMETER_FORMS:
            raw = rule_parameters.get(name)
            if raw is None or raw == "":
                continue
            if not isinstance(raw, str) or not re.fullmatch(pattern, raw):
                shown = repr(raw) if isinstance(raw, str) else f"a {type(raw).__name__}"
                raise InvalidParametersError(f"{name} must be {expected}, not {shown}.")
        for name, spec in parameters.items():
            raw = rule_parameters.get(name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                valid[name] = spec.default
            elif isinstance(raw, bool) or not isinstance(raw, str | int):
                raise InvalidParametersError(f"{name} must be a string, not {type(raw).__name__}.")
            else:
                valid[name] = spec.parse(name, str(raw))
        return valid

    def get_assume_role_mode(self, event: Mapping[str, Any]) -> bool:
        """Own role unless ``AssumeRoleMode`` is ``"true"``, or ``ExecutionRoleName`` names a role
        to assume (rdklib's meaning) and ``AssumeRoleMode`` does not say ``"false"``."""
        params = _rule_parameters(event)
        mode = str(params.get("AssumeRoleMode", "")).strip().lower()
        if mode:
            return mode == "true"
        return bool(str(params.get("ExecutionRoleName", "")).strip())

    # rdklib's two readers below parse ruleParameters themselves and fail on a blank string,
    # which the pack takes, like an absent one, for "no parameters".
    def get_execution_role_arn(self, event: Mapping[str, Any]) -> str:
        """The event's ``executionRoleArn``, or the role ``ExecutionRoleName`` names in its account."""
        arn = str(event["executionRoleArn"])
        name = _rule_parameters(event).get("ExecutionRoleName")
        return f"{arn.partition('/')[0]}/{name}" if name else arn

    def get_assume_role_region(self, event: Mapping[str, Any]) -> str | None:
        region = _rule_parameters(event).get("ExecutionRoleRegion")
        return str(region) if region else None


def _rule_parameters(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event's rule parameters (an event :func:`validate_event` accepted): none when blank."""
    raw = event.get("ruleParameters")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    return _json_object("ruleParameters", raw)


def notification_time(event: Mapping[str, Any]) -> datetime:
    """When AWS Config sent the event: the rule's "now" (time-zone aware; :func:`validate_event`
    has refused an event without one, and this refuses it again rather than return a naive time)."""
    invoking = _json_object("invokingEvent", event.get("invokingEvent"))
    return parse_time("invokingEvent.notificationCreationTime", invoking.get("notificationCreationTime"))


def account_id(event: Mapping[str, Any]) -> str:
    return str(event["accountId"])


def event_region(event: Mapping[str, Any]) -> str:
    """The region the rule runs in: AWS_REGION in Lambda, else the region of the rule's ARN."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        return region
    arn = str(event.get("configRuleArn", ""))
    parts = arn.split(":")
    if len(parts) > 3 and parts[3]:
        return parts[3]
    raise EvaluationError("The rule cannot tell which region it runs in: AWS_REGION is not set.")


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-16 length and UTF-8 size are both within
    ``limit``, cut between code points and never after a zero-width joiner, a variation selector
    or a combining mark (which would dangle)."""
    units = size = end = 0
    for char in text:
        units += 2 if ord(char) > 0xFFFF else 1
        size += len(char.encode("utf-8", "surrogatepass"))
        if units > limit or size > limit:
            break
        end += 1
    prefix = text[:end]
    while prefix and (
        prefix[-1] == "\u200d" or "\ufe00" <= prefix[-1] <= "\ufe0f" or unicodedata.combining(prefix[-1])
    ):
        prefix = prefix[:-1]
    return prefix


def annotation(text: str) -> str:
    """One sentence, ending with a period, within AWS Config's 256.

    The API reference gives the limit as a length without saying of what, and SDKs and services
    count differently: the annotation stays within 256 UTF-16 code units (Java's and JavaScript's
    length) and within 256 UTF-8 bytes (the wire), so no reading of the limit refuses it. A name
    in emoji or CJK is cut sooner than 256 Python characters, at a code point boundary."""
    text = " ".join(text.split())
    if not text.endswith("."):
        text += "."
    if _prefix_within(text, MAX_ANNOTATION) != text:
        text = _prefix_within(text, MAX_ANNOTATION - 4).rstrip() + "...."
    return text


def compliant(resource_id: str, resource_type: str, text: str = "") -> Evaluation:
    return Evaluation(ComplianceType.COMPLIANT, resource_id, resource_type, annotation(text) if text else "")


def non_compliant(resource_id: str, resource_type: str, text: str) -> Evaluation:
    return Evaluation(ComplianceType.NON_COMPLIANT, resource_id, resource_type, annotation(text))


def not_applicable(resource_id: str, resource_type: str, text: str) -> Evaluation:
    return Evaluation(ComplianceType.NOT_APPLICABLE, resource_id, resource_type, annotation(text))


def join_names(names: Iterable[str], limit: int = 8) -> str:
    """``a, b and c`` (at most ``limit`` names, then ``and N more``) for annotations."""
    items = list(names)
    shown = items[:limit]
    rest = len(items) - len(shown)
    if rest:
        return ", ".join(shown) + f" and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def seconds_left() -> float | None:
    """Seconds left before :func:`check_deadline` would stop the run (the Lambda's remaining time
    less the safety margin), or ``None`` outside a Lambda invocation. Reads the clock only."""
    spare = _DEADLINE.spare()
    if spare is None:
        return None
    left, margin = spare
    return left - margin
