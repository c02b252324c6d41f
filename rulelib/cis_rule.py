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
* **Fail closed.** An API error is never a verdict: ``ClientError`` reaches rdklib, which reports
  it as an error and sends no evaluation. A state the rule cannot judge (a report still being
  generated, a malformed answer) raises :class:`EvaluationError`, which rdklib also reports as an
  error. Throttling is retried first (botocore "standard" retry mode, see below).
  :func:`handle` then fails the Lambda invocation, so that AWS Config records the rule's
  evaluation as failed (``DescribeConfigRuleEvaluationStatus``, the console) instead of keeping
  the previous verdict as if the run had succeeded.
* **Bad input is refused at the door.** :func:`validate_event` checks the event before any API
  call and names the first field that is not what AWS Config sends; rule parameters are checked
  next. Either fails the invocation with one sentence, never with a raw exception.
* **No verdict is lost.** rdklib discards ``PutEvaluations``' answer; :class:`Clients` reads it,
  and evaluations AWS Config rejected fail the invocation, naming them.
* **The Lambda's deadline is known.** Rules that walk many resources call :func:`check_deadline`
  and stop with a clear error while there is still time to report, instead of being killed.
* **Time** comes from the event's ``notificationCreationTime``, so tests freeze it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

import botocore.exceptions
from rdklib import ClientFactory, ComplianceType, ConfigRule, Evaluation, InvalidParametersError
from rdklib.util.evaluations import process_event_evaluations_list, process_periodic_evaluations_list
from rdklib.util.service import (
    build_error_response,
    build_internal_error_response,
    build_parameters_value_error_response,
    convert_into_notification_config_item,
    is_applicable_resource_type,
    is_applicable_status,
    is_internal_error,
)

# Throttling that survives retries must reach rdklib as an error, so retry it first. botocore
# reads these when a client is built; the Lambda's own environment still wins when it sets them.
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

# The action every rule needs to report, and the one rdklib needs to retire evaluations of
# resources that a periodic rule no longer reports (see CisRule.delete_old_evaluations...).
PUT_EVALUATIONS = "config:PutEvaluations"
GET_COMPLIANCE_DETAILS = "config:GetComplianceDetailsByConfigRule"
GET_RESOURCE_CONFIG_HISTORY = "config:GetResourceConfigHistory"


class EvaluationError(ValueError):
    """The rule could not look, so it must not judge. rdklib turns a ValueError into an error
    response and sends no evaluation; the message is the reason, shown in the Lambda's log."""


class RuleFailed(RuntimeError):
    """The evaluation produced no verdict. rdklib answers errors (AccessDenied, throttling,
    :class:`EvaluationError`, a malformed parameter) with an error *return value*; raised, it
    fails the Lambda invocation, which AWS Config reports. ``response`` is rdklib's answer."""

    def __init__(self, response: Mapping[str, Any]) -> None:
        self.response = dict(response)
        code = response.get("customerErrorCode") or "Error"
        message = response.get("customerErrorMessage") or response.get("internalErrorMessage") or ""
        super().__init__(f"{code}: {message}")


class Clients(ClientFactory):  # type: ignore[misc]  # rdklib ships no type information
    """rdklib's client factory, building each client once per invocation: one client per service,
    region and role mode, shared by every part of the rule. botocore clients are thread-safe to
    use but not to create concurrently (the default session's loaders are shared), so creation
    is serialised by a lock.

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
                if service == "config":
                    events = client.meta.events
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


#: Time kept in hand when the rule stops: enough for rdklib to send the evaluations (batches of
#: 100, a few hundred milliseconds each, plus the clean-up query of per-resource rules) with a
#: retry or two, and for the step between two checks (one resource judged) to finish.
DEADLINE_MARGIN_S = 5.0
#: Under a short timeout (below 25 s) the margin is this fraction of the time the run started with.
DEADLINE_MARGIN_FRACTION = 0.2


class _Deadline:
    """The invocation's clock: Lambda's remaining-time function and the safety margin, or nothing
    outside a Lambda invocation. Lambda runs one invocation at a time per process, so one
    module-level instance serves the handler and the worker threads it starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clock: tuple[Callable[[], Any], float] | None = None

    def start(self, context: Any) -> None:
        clock = None
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            start = remaining()
            if isinstance(start, int | float) and not isinstance(start, bool):
                clock = (remaining, min(DEADLINE_MARGIN_S, start / 1000 * DEADLINE_MARGIN_FRACTION))
        with self._lock:
            self._clock = clock

    def stop(self) -> None:
        with self._lock:
            self._clock = None

    def check(self, progress: str, needed_s: float = 0.0) -> None:
        with self._lock:
            clock = self._clock
        if clock is None:
            return
        remaining, margin = clock
        left = float(remaining()) / 1000
        if left - needed_s < margin:
            raise EvaluationError(
                f"Stopped with {max(left, 0.0):.1f} s left before the Lambda timeout after {progress}; "
                "give the function a longer timeout (docs/reliability.md, 'Timeouts and memory')."
            )


_DEADLINE = _Deadline()


def check_deadline(progress: str, needed_s: float = 0.0) -> None:
    """Stop the run (:class:`EvaluationError`) when what is left of the Lambda's time, less
    ``needed_s`` (a wait about to start), is below the safety margin, naming how far it got
    (``progress``, e.g. "57 of 120 trail buckets judged"). A no-op outside a Lambda invocation.
    Safe to call from worker threads."""
    _DEADLINE.check(progress, needed_s)


def handle(rule: CisRule, event: Mapping[str, Any], context: Any) -> Any:
    """The rule's Lambda handler: rdklib's evaluation flow, with one client per service and region
    (:class:`Clients`), the invocation's deadline known to :func:`check_deadline`, and every error
    failing the invocation (:class:`RuleFailed`) instead of being returned as a value."""
    _DEADLINE.start(context)
    try:
        result = _evaluate(rule, event)
    finally:
        _DEADLINE.stop()
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


def _run(
    rule: CisRule,
    event: Mapping[str, Any],
    invoking_event: Mapping[str, Any],
    clients: Clients,
    valid_rule_parameters: Mapping[str, Any],
) -> Any:
    """Evaluate and report, as rdklib does: its evaluations, or its error response."""
    try:
        message_type = invoking_event["messageType"]
        if message_type == SCHEDULED:
            result = rule.evaluate_periodic(event, clients, valid_rule_parameters)
            return process_periodic_evaluations_list(event, clients, result, rule)
        if message_type == OVERSIZED_CHANGE:
            item = _fetch_oversized_item(clients, invoking_event["configurationItemSummary"])
        else:
            item = invoking_event["configurationItem"]
        if is_applicable_status(item, event) and is_applicable_resource_type(item, list(rule.CHANGE_TYPES)):
            result = rule.evaluate_change(event, clients, item, valid_rule_parameters)
        else:
            result = [Evaluation(ComplianceType.NOT_APPLICABLE)]
        return process_event_evaluations_list(event, clients, result, item)
    except botocore.exceptions.ClientError as ex:
        error = ex.response["Error"]
        if "AccessDenied" in error["Code"] or "UnauthorizedOperation" in error["Code"]:
            return build_error_response(
                "Insufficient access to perform this action.", str(ex), error["Code"], error["Message"]
            )
        if is_internal_error(ex):
            return build_internal_error_response("Unexpected error while completing API request", str(ex))
        return build_error_response("Customer error while making API request", str(ex), error["Code"], error["Message"])
    except botocore.exceptions.BotoCoreError as ex:
        # No answer from AWS after botocore's retries (connection closed or refused, read timeout):
        # rdklib lets these escape raw; the message names the endpoint that could not be reached.
        return build_error_response(
            "No answer from AWS", str(ex), type(ex).__name__, f"No answer from AWS after retries: {ex}"
        )
    except ValueError as ex:
        return build_internal_error_response(str(ex), str(ex))


def _fetch_oversized_item(clients: Clients, summary: Mapping[str, Any]) -> Any:
    """The full configuration item of an oversized notification (rdklib's conversion), refusing
    an empty history instead of failing on it."""
    history = clients.build_client("config").get_resource_config_history(
        resourceType=summary["resourceType"], resourceId=summary["resourceId"], limit=1
    )
    items = history.get("configurationItems") or []
    if not items:
        raise EvaluationError(
            f"AWS Config holds no configuration item for {summary['resourceType']} {summary['resourceId']}."
        )
    return convert_into_notification_config_item(items[0])


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
    if message_type == SCHEDULED and rule.delete_old_evaluations_on_scheduled_notification:
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

    # rdklib marks resources that a periodic run no longer reports as NOT_APPLICABLE, which
    # costs a GetComplianceDetailsByConfigRule call. A rule that only ever reports the account
    # has nothing to retire; per-resource rules keep the clean-up (and declare the action).
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
        actions = {PUT_EVALUATIONS, *cls.ACTIONS}
        if cls.delete_old_evaluations_on_scheduled_notification:
            actions.add(GET_COMPLIANCE_DETAILS)
        if cls.CHANGE_TYPES:
            # An oversized change notification carries only a summary; the item is read back.
            actions.add(GET_RESOURCE_CONFIG_HISTORY)
        return tuple(sorted(actions))

    def evaluate_parameters(self, rule_parameters: Mapping[str, Any]) -> dict[str, Any]:
        valid: dict[str, Any] = {}
        unknown = sorted(set(rule_parameters) - set(self.PARAMETERS) - RDKLIB_PARAMETERS)
        if unknown:
            accepted = ", ".join(sorted(self.PARAMETERS)) or "none"
            raise InvalidParametersError(f"Unknown rule parameter {', '.join(unknown)}; this rule accepts: {accepted}.")
        for name, pattern, expected in RDKLIB_PARAMETER_FORMS:
            raw = rule_parameters.get(name)
            if raw is None or raw == "":
                continue
            if not isinstance(raw, str) or not re.fullmatch(pattern, raw):
                shown = repr(raw) if isinstance(raw, str) else f"a {type(raw).__name__}"
                raise InvalidParametersError(f"{name} must be {expected}, not {shown}.")
        for name, spec in self.PARAMETERS.items():
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


def annotation(text: str) -> str:
    """One sentence, ending with a period, within AWS Config's 256 characters."""
    text = " ".join(text.split())
    if not text.endswith("."):
        text += "."
    if len(text) > MAX_ANNOTATION:
        text = text[: MAX_ANNOTATION - 4].rstrip() + "...."
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
    with _DEADLINE._lock:
        clock = _DEADLINE._clock
    if clock is None:
        return None
    remaining, margin = clock
    return float(remaining()) / 1000 - margin
