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
* **Time** comes from the event's ``notificationCreationTime``, so tests freeze it.
"""

from __future__ import annotations

import json
import os
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
    inflate_oversized_notification,
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

# Rule parameters that rdklib itself reads; every rule accepts them.
RDKLIB_PARAMETERS = frozenset({"ExecutionRoleName", "ExecutionRoleRegion", "AssumeRoleMode"})

# The action every rule needs to report, and the one rdklib needs to retire evaluations of
# resources that a periodic rule no longer reports (see CisRule.delete_old_evaluations...).
PUT_EVALUATIONS = "config:PutEvaluations"
GET_COMPLIANCE_DETAILS = "config:GetComplianceDetailsByConfigRule"


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
    is serialised by a lock."""

    def __init__(self, role_arn: str | None, region: str | None, assume_role_mode: bool) -> None:
        super().__init__(role_arn, region=region, assume_role_mode=assume_role_mode)
        self._default_region = region or os.environ.get("AWS_REGION")
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str | None, bool], Any] = {}

    def build_client(self, service: str, region: str | None = None, assume_role_mode: bool = True) -> Any:
        key = (service, region or self._default_region, bool(assume_role_mode))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = super().build_client(service, region, assume_role_mode)
                self._clients[key] = client
            return client


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
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        start = remaining() if callable(remaining) else None
        with self._lock:
            if isinstance(start, int | float) and not isinstance(start, bool):
                assert remaining is not None
                self._clock = (remaining, min(DEADLINE_MARGIN_S, start / 1000 * DEADLINE_MARGIN_FRACTION))
            else:
                self._clock = None

    def stop(self) -> None:
        with self._lock:
            self._clock = None

    def check(self, progress: str) -> None:
        with self._lock:
            clock = self._clock
        if clock is None:
            return
        remaining, margin = clock
        left = float(remaining()) / 1000
        if left < margin:
            raise EvaluationError(
                f"Stopped with {max(left, 0.0):.1f} s left before the Lambda timeout after {progress}; "
                "give the function a longer timeout (README, 'Timeouts and memory')."
            )


_DEADLINE = _Deadline()


def check_deadline(progress: str) -> None:
    """Stop the run (:class:`EvaluationError`) when what is left of the Lambda's time is below the
    safety margin, naming how far it got (``progress``, e.g. "57 of 120 trail buckets judged").
    A no-op outside a Lambda invocation. Safe to call from worker threads."""
    _DEADLINE.check(progress)


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
    """rdklib's ``Evaluator.handle``, with the pack's client factory. rdklib's own builds its
    factory inside the method, so the flow is repeated here, calling the same rdklib helpers."""
    invoking_event = json.loads(event["invokingEvent"])
    rule_parameters = json.loads(event.get("ruleParameters") or "{}")
    try:
        valid_rule_parameters = rule.evaluate_parameters(rule_parameters)
    except InvalidParametersError as ex:
        return build_parameters_value_error_response(ex)
    assume = rule.get_assume_role_mode(event)
    clients = Clients(
        rule.get_execution_role_arn(event) if assume else None, rule.get_assume_role_region(event), assume
    )
    try:
        message_type = invoking_event["messageType"]
        if message_type == "ScheduledNotification":
            result = rule.evaluate_periodic(event, clients, valid_rule_parameters)
            return process_periodic_evaluations_list(event, clients, result, rule)
        if message_type == "OversizedConfigurationItemChangeNotification":
            invoking_event = inflate_oversized_notification(clients.build_client("config"), invoking_event)
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
    except ValueError as ex:
        return build_internal_error_response(str(ex), str(ex))


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
        try:
            value = int(text, 10)
        except ValueError:
            raise InvalidParametersError(f"{name} must be {bounds}, not {raw!r}.") from None
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
        import re

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
    def required_actions(cls) -> tuple[str, ...]:
        """Every IAM action a deployment of this rule needs, rdklib's own calls included."""
        actions = {PUT_EVALUATIONS, *cls.ACTIONS}
        if cls.delete_old_evaluations_on_scheduled_notification:
            actions.add(GET_COMPLIANCE_DETAILS)
        return tuple(sorted(actions))

    def evaluate_parameters(self, rule_parameters: Mapping[str, Any]) -> dict[str, Any]:
        valid: dict[str, Any] = {}
        unknown = sorted(set(rule_parameters) - set(self.PARAMETERS) - RDKLIB_PARAMETERS)
        if unknown:
            accepted = ", ".join(sorted(self.PARAMETERS)) or "none"
            raise InvalidParametersError(f"Unknown rule parameter {', '.join(unknown)}; this rule accepts: {accepted}.")
        for name, spec in self.PARAMETERS.items():
            raw = rule_parameters.get(name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                valid[name] = spec.default
            elif not isinstance(raw, str | int):
                raise InvalidParametersError(f"{name} must be a string, not {type(raw).__name__}.")
            else:
                valid[name] = spec.parse(name, str(raw))
        return valid

    def get_assume_role_mode(self, event: Mapping[str, Any]) -> bool:
        """Own role unless ``AssumeRoleMode`` is ``"true"``, or ``ExecutionRoleName`` names a role
        to assume (rdklib's meaning) and ``AssumeRoleMode`` does not say ``"false"``."""
        params = json.loads(event.get("ruleParameters") or "{}")
        mode = str(params.get("AssumeRoleMode", "")).strip().lower()
        if mode:
            return mode == "true"
        return bool(str(params.get("ExecutionRoleName", "")).strip())


def notification_time(event: Mapping[str, Any]) -> datetime:
    """When AWS Config sent the event: the rule's "now"."""
    invoking = json.loads(event["invokingEvent"])
    return datetime.fromisoformat(invoking["notificationCreationTime"].replace("Z", "+00:00"))


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
