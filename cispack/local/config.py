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

For the pack's compliance report (:mod:`cispack.report`) the ledger also answers what moto lacks
of Config's reading side, from the same evaluations: each rule's evaluation status
(``DescribeConfigRuleEvaluationStatus``; rules it knows from ``PutConfigRule``, from
``PutConformancePack``, which it answers, or from the harness), conformance packs
(``PutConformancePack``, ``DescribeConformancePackCompliance``) and, through
:class:`AggregatorLedger`, an organisation aggregator's compliance
(``DescribeAggregateComplianceByConfigRules``, ``GetAggregateComplianceDetailsByConfigRule``) from
one ledger per source account and region. A harness whose rules ran elsewhere (the demo runs each
in its own process) hands the ledger what they sent with :meth:`ComplianceLedger.record` and
:meth:`ComplianceLedger.record_failure`, as AWS Config records an invocation's outcome.

:class:`ConfigHistory` answers ``GetResourceConfigHistory``, which a rule with change triggers
calls for an oversized configuration item: moto keeps no history for route tables and answers
for buckets in its own shape, so the seam answers from the items the harness records
(:mod:`cispack.local.config_items` builds them from the resources).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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


def _register(session: Any, installed: list[tuple[str, Handler]], handlers: Iterable[tuple[str, Handler]]) -> None:
    """Register each handler on the session's events, remembering it for :func:`_unregister`."""
    for name, handler in handlers:
        session.events.register(name, handler)
        installed.append((name, handler))


def _unregister(session: Any, installed: list[tuple[str, Handler]]) -> None:
    events = (session or _default_session()).events
    for name, handler in installed:
        events.unregister(name, handler)
    installed.clear()


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


def _answer(model: OperationModel, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    """``body`` as the operation's answer, after checking it against the output shape, so the seam
    can never hand the report a response AWS could not send."""
    report = ParamValidator().validate(body, model.output_shape)
    if report.has_errors():
        raise AssertionError(
            f"the local Config seam built a {model.name} answer outside the model: {report.generate_report()}"
        )
    return _ok(body)


def _timestamp(value: Any) -> datetime:
    """A datetime, as botocore parses timestamps, from what a caller sent (a datetime or an ISO string)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _page(rows: Sequence[Any], params: Mapping[str, Any], default_limit: int) -> tuple[Sequence[Any], str | None]:
    """One page of ``rows`` by ``Limit`` and ``NextToken`` (an offset, opaque to the caller)."""
    limit = int(params.get("Limit") or default_limit) or default_limit
    start = int(params.get("NextToken") or 0)
    return rows[start : start + limit], (str(start + limit) if start + limit < len(rows) else None)


# AWS Config names each rule of a conformance pack after the template's ConfigRuleName plus this
# and eight characters of its own; the seam derives them from the pack's name, so they are stable.
PACK_RULE_SUFFIX = "-conformance-pack-"


def pack_rule_suffix(pack_name: str) -> str:
    return PACK_RULE_SUFFIX + hashlib.sha256(pack_name.encode()).hexdigest()[:8]


def _condition_holds(name: str, conditions: Mapping[str, Any], values: Mapping[str, str]) -> bool:
    """A conformance pack condition: ``Fn::Equals`` and ``Fn::Not`` over ``Ref`` to parameters and
    literals, the functions AWS's packs use (anything else is refused, not guessed)."""

    def value(node: Any) -> str:
        if isinstance(node, Mapping) and set(node) == {"Ref"}:
            return values[str(node["Ref"])]
        if isinstance(node, str | int):
            return str(node)
        raise ValueError(f"the local Config seam cannot evaluate {node!r} in condition {name}")

    def holds(node: Any) -> bool:
        if isinstance(node, Mapping) and set(node) == {"Fn::Equals"}:
            left, right = node["Fn::Equals"]
            return value(left) == value(right)
        if isinstance(node, Mapping) and set(node) == {"Fn::Not"}:
            return not holds(node["Fn::Not"][0])
        raise ValueError(f"the local Config seam cannot evaluate condition {name}: {node!r}")

    return holds(conditions[name])


def pack_rule_names(template: Mapping[str, Any], values: Mapping[str, str]) -> list[str]:
    """The ``ConfigRuleName`` of every rule the template creates with these parameter values."""
    parameters = {
        str(k): str(v.get("Default", ""))
        for k, v in (template.get("Parameters") or {}).items()
        if isinstance(v, Mapping)
    }
    parameters.update(values)
    conditions = template.get("Conditions") or {}
    names = []
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") != "AWS::Config::ConfigRule":
            continue
        condition = resource.get("Condition")
        if condition and not _condition_holds(condition, conditions, parameters):
            continue
        names.append(str(resource["Properties"]["ConfigRuleName"]))
    return names


@dataclass
class ComplianceLedger:
    """Evaluations sent through ``PutEvaluations``, by rule name, latest per resource; with the
    rules' evaluation status and the conformance packs, for one account and region."""

    results: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    #: The rule being run. Local result tokens are all "TESTMODE" (rdklib's test mode, which moto
    #: needs), so the harness names the rule whose PutEvaluations calls follow.
    current_rule: str = ""
    #: Each known rule's ``ConfigRuleEvaluationStatus`` (without name, ARN and ID).
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: When each evaluation was recorded, by rule and resource.
    recorded: dict[str, dict[tuple[str, str], datetime]] = field(default_factory=dict)
    #: Conformance packs answered by ``PutConformancePack``: the names of their rules, suffix included.
    packs: dict[str, list[str]] = field(default_factory=dict)
    account_id: str = "123456789012"
    #: Every evaluation AWS Config took, in the order sent (a run that fails may still send some).
    sent: list[dict[str, Any]] = field(default_factory=list)
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
        rule_name = context.get("cis_rule_name") or ""
        store = self.results.setdefault(rule_name, {})
        for evaluation in context[_PARAMS].get("Evaluations", []):
            key = (evaluation["ComplianceResourceType"], evaluation["ComplianceResourceId"])
            store[key] = dict(evaluation)
            self.sent.append(dict(evaluation))
            self.recorded.setdefault(rule_name, {})[key] = datetime.now(UTC)
        if rule_name:
            self._succeeded(rule_name, datetime.now(UTC))

    def _details(self, model: OperationModel, context: Mapping[str, Any], **_: Any) -> Any:
        params = context[_PARAMS]
        self.calls.append("GetComplianceDetailsByConfigRule")
        wanted = set(params.get("ComplianceTypes") or ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"))
        rows, token = _page(self.evaluation_results(params["ConfigRuleName"], wanted), params, 100)
        page: dict[str, Any] = {"EvaluationResults": list(rows)}
        if token:
            page["NextToken"] = token
        return _answer(model, page)

    # What AWS Config records about a rule's invocations, for a harness whose rules ran elsewhere.

    def deploy(self, rule_name: str, at: datetime | None = None) -> None:
        """``rule_name`` exists (Config lists its status) whether or not it has run."""
        self.statuses.setdefault(
            rule_name, {"FirstActivatedTime": at or datetime.now(UTC), "FirstEvaluationStarted": False}
        )

    def _succeeded(self, rule_name: str, at: datetime) -> None:
        self.deploy(rule_name, at)
        self.statuses[rule_name].update(
            LastSuccessfulInvocationTime=at, LastSuccessfulEvaluationTime=at, FirstEvaluationStarted=True
        )

    def record(self, rule_name: str, evaluations: Iterable[Mapping[str, Any]], at: datetime | None = None) -> None:
        """An invocation of ``rule_name`` that succeeded and sent ``evaluations`` (PutEvaluations items)."""
        at = at or datetime.now(UTC)
        store = self.results.setdefault(rule_name, {})
        for evaluation in evaluations:
            key = (evaluation["ComplianceResourceType"], evaluation["ComplianceResourceId"])
            store[key] = dict(evaluation)
            self.recorded.setdefault(rule_name, {})[key] = at
        self._succeeded(rule_name, at)

    def record_failure(self, rule_name: str, error_code: str, message: str, at: datetime | None = None) -> None:
        """An invocation of ``rule_name`` that failed; earlier evaluations stay, as in AWS Config."""
        at = at or datetime.now(UTC)
        self.deploy(rule_name, at)
        self.statuses[rule_name].update(
            LastFailedInvocationTime=at, LastErrorCode=error_code, LastErrorMessage=message, FirstEvaluationStarted=True
        )

    def known_rules(self) -> list[str]:
        return sorted((set(self.statuses) | set(self.results)) - {""})

    def evaluation_results(self, rule_name: str, wanted: Iterable[str]) -> list[dict[str, Any]]:
        """``EvaluationResult`` items of ``rule_name`` whose compliance is one of ``wanted``."""
        wanted = set(wanted)
        rows = []
        for key, evaluation in sorted(self.results.get(rule_name, {}).items()):
            if evaluation["ComplianceType"] not in wanted:
                continue
            identifier: dict[str, Any] = {
                "EvaluationResultQualifier": {"ConfigRuleName": rule_name, "ResourceType": key[0], "ResourceId": key[1]}
            }
            if evaluation.get("OrderingTimestamp"):
                identifier["OrderingTimestamp"] = _timestamp(evaluation["OrderingTimestamp"])
            row: dict[str, Any] = {
                "EvaluationResultIdentifier": identifier,
                "ComplianceType": evaluation["ComplianceType"],
            }
            at = self.recorded.get(rule_name, {}).get(key)
            if at is not None:
                row["ResultRecordedTime"] = at
                row["ConfigRuleInvokedTime"] = at
            if evaluation.get("Annotation"):
                row["Annotation"] = str(evaluation["Annotation"])
            rows.append(row)
        return rows

    def rule_compliance(self, rule_name: str) -> tuple[str, int]:
        """The rule's compliance as Config sums it up, and its number of non-compliant resources: a
        rule with no COMPLIANT or NON_COMPLIANT result is INSUFFICIENT_DATA."""
        kinds = [e["ComplianceType"] for e in self.results.get(rule_name, {}).values()]
        failing = kinds.count("NON_COMPLIANT")
        if failing:
            return "NON_COMPLIANT", failing
        return ("COMPLIANT" if "COMPLIANT" in kinds else "INSUFFICIENT_DATA"), 0

    def _status_row(self, rule_name: str, region: str) -> dict[str, Any]:
        rule_id = "config-rule-" + hashlib.sha256(rule_name.encode()).hexdigest()[:6]
        return {
            "ConfigRuleName": rule_name,
            "ConfigRuleArn": f"arn:aws:config:{region}:{self.account_id}:config-rule/{rule_id}",
            "ConfigRuleId": rule_id,
            **self.statuses.get(rule_name, {"FirstEvaluationStarted": True}),
        }

    def _status(self, model: OperationModel, context: Mapping[str, Any], **_: Any) -> Any:
        params = context[_PARAMS]
        self.calls.append("DescribeConfigRuleEvaluationStatus")
        known = self.known_rules()
        names = list(params.get("ConfigRuleNames") or known)
        missing = [name for name in names if name not in known]
        if missing:
            return _error(
                "NoSuchConfigRuleException",
                f"The ConfigRule '{missing[0]}' provided in the request is invalid. Please check the configRule name.",
                400,
            )
        region = str(context.get("client_region") or "")
        rows, token = _page([self._status_row(name, region) for name in names], params, 50)
        page: dict[str, Any] = {"ConfigRulesEvaluationStatus": list(rows)}
        if token:
            page["NextToken"] = token
        return _answer(model, page)

    def _rule_created(self, context: Mapping[str, Any], http_response: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            self.deploy(str(context[_PARAMS]["ConfigRule"]["ConfigRuleName"]))

    def _put_pack(self, model: OperationModel, context: Mapping[str, Any], **_: Any) -> Any:
        import yaml

        params = context[_PARAMS]
        self.calls.append("PutConformancePack")
        name = str(params["ConformancePackName"])
        body = params.get("TemplateBody")
        if not body and params.get("TemplateS3Uri"):
            body = _read_s3_uri(str(params["TemplateS3Uri"]))
            if body is None:
                return _error("ValidationException", f"The template {params['TemplateS3Uri']} cannot be read.", 400)
        if not body:
            return _error("ValidationException", "Give the pack's TemplateBody or TemplateS3Uri.", 400)
        values = {
            str(p["ParameterName"]): str(p["ParameterValue"])
            for p in params.get("ConformancePackInputParameters") or []
        }
        try:
            names = pack_rule_names(yaml.safe_load(body), values)
        except (yaml.YAMLError, ValueError, KeyError, TypeError, AttributeError) as failed:
            return _error("ConformancePackTemplateValidationException", f"Template is not valid: {failed}.", 400)
        suffix = pack_rule_suffix(name)
        rules = [rule + suffix for rule in names]
        for gone in set(self.packs.get(name, ())) - set(rules):
            self.statuses.pop(gone, None)
            self.results.pop(gone, None)
        self.packs[name] = rules
        for rule in rules:
            self.deploy(rule)
        region = str(context.get("client_region") or "")
        arn = f"arn:aws:config:{region}:{self.account_id}:conformance-pack/{name}/{suffix.lstrip('-')}"
        return _answer(model, {"ConformancePackArn": arn})

    def _pack_compliance(self, model: OperationModel, context: Mapping[str, Any], **_: Any) -> Any:
        params = context[_PARAMS]
        self.calls.append("DescribeConformancePackCompliance")
        name = str(params["ConformancePackName"])
        if name not in self.packs:
            return _error("NoSuchConformancePackException", f"Conformance pack {name} does not exist.", 400)
        filters = params.get("Filters") or {}
        only = filters.get("ConfigRuleNames")
        if only and set(only) - set(self.packs[name]):
            missing = sorted(set(only) - set(self.packs[name]))[0]
            return _error("NoSuchConfigRuleInConformancePackException", f"Rule {missing} is not in {name}.", 400)
        rows = []
        for rule in self.packs[name]:
            compliance, _count = self.rule_compliance(rule)
            if (only and rule not in only) or filters.get("ComplianceType", compliance) != compliance:
                continue
            rows.append({"ConfigRuleName": rule, "ComplianceType": compliance})
        page_rows, token = _page(rows, params, 100)
        page: dict[str, Any] = {"ConformancePackName": name, "ConformancePackRuleComplianceList": list(page_rows)}
        if token:
            page["NextToken"] = token
        return _answer(model, page)

    def install(self, session: Any = None) -> ComplianceLedger:
        session = session or _default_session()
        _register(
            session,
            self._handlers,
            (
                (_event(session, "before-parameter-build", "config", "PutEvaluations"), _capture_params),
                (
                    _event(session, "before-parameter-build", "config", "GetComplianceDetailsByConfigRule"),
                    _capture_params,
                ),
                (_event(session, "before-call", "config", "PutEvaluations"), self._put),
                (_event(session, "after-call", "config", "PutEvaluations"), self._after_put),
                (_event(session, "before-call", "config", "GetComplianceDetailsByConfigRule"), self._details),
                (
                    _event(session, "before-parameter-build", "config", "DescribeConfigRuleEvaluationStatus"),
                    _capture_params,
                ),
                (_event(session, "before-call", "config", "DescribeConfigRuleEvaluationStatus"), self._status),
                (_event(session, "before-parameter-build", "config", "PutConfigRule"), _capture_params),
                (_event(session, "after-call", "config", "PutConfigRule"), self._rule_created),
                (_event(session, "before-parameter-build", "config", "PutConformancePack"), _capture_params),
                (_event(session, "before-call", "config", "PutConformancePack"), self._put_pack),
                (
                    _event(session, "before-parameter-build", "config", "DescribeConformancePackCompliance"),
                    _capture_params,
                ),
                (_event(session, "before-call", "config", "DescribeConformancePackCompliance"), self._pack_compliance),
            ),
        )
        return self

    def uninstall(self, session: Any = None) -> None:
        _unregister(session, self._handlers)


def _read_s3_uri(uri: str) -> str | None:
    """The text of ``s3://bucket/key`` from the local S3 (as AWS Config reads a TemplateS3Uri)."""
    from botocore.exceptions import ClientError

    location = urlsplit(uri)
    if location.scheme != "s3" or not location.netloc or not location.path.strip("/"):
        return None
    try:
        answer = boto3.client("s3").get_object(Bucket=location.netloc, Key=location.path.lstrip("/"))
    except ClientError:
        return None
    return str(answer["Body"].read().decode())


@dataclass
class AggregatorLedger:
    """An organisation aggregator's rule compliance. moto stores aggregators
    (``PutConfigurationAggregator``) but aggregates nothing; this answers
    ``DescribeAggregateComplianceByConfigRules`` and ``GetAggregateComplianceDetailsByConfigRule``
    from one :class:`ComplianceLedger` per source account and region (:meth:`member`), for the
    aggregators created while it is installed or named in ``aggregators``. AWS has no aggregated
    evaluation status (which rule failed to run in which account), and so neither has this."""

    members: dict[tuple[str, str], ComplianceLedger] = field(default_factory=dict)
    aggregators: set[str] = field(default_factory=set)
    _handlers: list[tuple[str, Handler]] = field(default_factory=list)

    def member(self, account_id: str, region: str) -> ComplianceLedger:
        """The ledger of one source account and region (created empty on first use)."""
        return self.members.setdefault((account_id, region), ComplianceLedger(account_id=account_id))

    def _created(self, context: Mapping[str, Any], http_response: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            self.aggregators.add(str(context[_PARAMS]["ConfigurationAggregatorName"]))

    def _unknown(self, params: Mapping[str, Any]) -> Any:
        name = params["ConfigurationAggregatorName"]
        if name in self.aggregators:
            return None
        return _error(
            "NoSuchConfigurationAggregatorException", f"The configuration aggregator {name} does not exist.", 400
        )

    def _compliance(self, model: OperationModel, context: Mapping[str, Any], **_: Any) -> Any:
        params = context[_PARAMS]
        unknown = self._unknown(params)
        if unknown:
            return unknown
        filters = params.get("Filters") or {}
        rows = []
        for (account_id, region), ledger in sorted(self.members.items()):
            if filters.get("AccountId", account_id) != account_id or filters.get("AwsRegion", region) != region:
                continue
            for rule in ledger.known_rules():
                kind, failing = ledger.rule_compliance(rule)
                if filters.get("ConfigRuleName", rule) != rule or filters.get("ComplianceType", kind) != kind:
                    continue
                compliance: dict[str, Any] = {"ComplianceType": kind}
                if failing:
                    # Config caps the count it reports at 100 resources.
                    compliance["ComplianceContributorCount"] = {
                        "CappedCount": min(failing, 100),
                        "CapExceeded": failing > 100,
                    }
                rows.append(
                    {"ConfigRuleName": rule, "Compliance": compliance, "AccountId": account_id, "AwsRegion": region}
                )
        page_rows, token = _page(rows, params, 1000)
        page: dict[str, Any] = {"AggregateComplianceByConfigRules": list(page_rows)}
        if token:
            page["NextToken"] = token
        return _answer(model, page)

    def _details(self, model: OperationModel, context: Mapping[str, Any], **_: Any) -> Any:
        params = context[_PARAMS]
        unknown = self._unknown(params)
        if unknown:
            return unknown
        kind = params.get("ComplianceType")
        # The aggregated details know only these two: NOT_APPLICABLE is refused, as by AWS.
        if kind not in (None, "COMPLIANT", "NON_COMPLIANT"):
            return _error("InvalidParameterValueException", f"ComplianceType {kind} is not supported here.", 400)
        account_id, region = str(params["AccountId"]), str(params["AwsRegion"])
        ledger = self.members.get((account_id, region)) or ComplianceLedger(account_id=account_id)
        rows = [
            {**row, "AccountId": account_id, "AwsRegion": region}
            for row in ledger.evaluation_results(
                params["ConfigRuleName"], [kind] if kind else ["COMPLIANT", "NON_COMPLIANT"]
            )
        ]
        page_rows, token = _page(rows, params, 100)
        page: dict[str, Any] = {"AggregateEvaluationResults": list(page_rows)}
        if token:
            page["NextToken"] = token
        return _answer(model, page)

    def install(self, session: Any = None) -> AggregatorLedger:
        session = session or _default_session()
        _register(
            session,
            self._handlers,
            (
                (_event(session, "before-parameter-build", "config", "PutConfigurationAggregator"), _capture_params),
                (_event(session, "after-call", "config", "PutConfigurationAggregator"), self._created),
                (
                    _event(session, "before-parameter-build", "config", "DescribeAggregateComplianceByConfigRules"),
                    _capture_params,
                ),
                (
                    _event(session, "before-call", "config", "DescribeAggregateComplianceByConfigRules"),
                    self._compliance,
                ),
                (
                    _event(session, "before-parameter-build", "config", "GetAggregateComplianceDetailsByConfigRule"),
                    _capture_params,
                ),
                (_event(session, "before-call", "config", "GetAggregateComplianceDetailsByConfigRule"), self._details),
            ),
        )
        return self

    def uninstall(self, session: Any = None) -> None:
        _unregister(session, self._handlers)


@dataclass
class ConfigHistory:
    """AWS Config's configuration history for the resources the harness records: answers
    ``GetResourceConfigHistory`` with their items (``ConfigurationItem`` of the API, as
    :func:`cispack.local.config_items.history_item` writes them), newest first unless
    ``chronologicalOrder`` is ``Forward``, within ``laterTime``/``earlierTime``, ``limit`` a page
    (default 10, at most 100, as AWS). An unrecorded resource gets AWS's
    ``ResourceNotDiscoveredException``. Every answer is checked against the service model."""

    items: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: The parameters of every call answered.
    calls: list[Mapping[str, Any]] = field(default_factory=list)
    _handlers: list[tuple[str, Handler]] = field(default_factory=list)

    def record(self, item: Mapping[str, Any]) -> None:
        """One more configuration item of its resource (a later capture than the ones before)."""
        key = (str(item["resourceType"]), str(item["resourceId"]))
        self.items.setdefault(key, []).append(dict(item))

    def _history(self, model: OperationModel, context: Mapping[str, Any], **_: Any) -> Any:
        params = context[_PARAMS]
        self.calls.append(params)
        key = (str(params["resourceType"]), str(params["resourceId"]))
        if key not in self.items:
            return _error(
                "ResourceNotDiscoveredException",
                f"Resource {key[1]} of resourceType:{key[0]} is unknown or has not been discovered",
                400,
            )
        later = _timestamp(params["laterTime"]) if params.get("laterTime") else None
        earlier = _timestamp(params["earlierTime"]) if params.get("earlierTime") else None
        rows = [
            item
            for item in sorted(self.items[key], key=lambda i: _timestamp(i["configurationItemCaptureTime"]))
            if (later is None or _timestamp(item["configurationItemCaptureTime"]) <= later)
            and (earlier is None or _timestamp(item["configurationItemCaptureTime"]) >= earlier)
        ]
        if params.get("chronologicalOrder") != "Forward":
            rows.reverse()
        paging = {"Limit": min(int(params.get("limit") or 10), 100), "NextToken": params.get("nextToken")}
        page_rows, token = _page(rows, paging, 10)
        page: dict[str, Any] = {"configurationItems": list(page_rows)}
        if token:
            page["nextToken"] = token
        return _answer(model, page)

    def install(self, session: Any = None) -> ConfigHistory:
        session = session or _default_session()
        _register(
            session,
            self._handlers,
            (
                (_event(session, "before-parameter-build", "config", "GetResourceConfigHistory"), _capture_params),
                (_event(session, "before-call", "config", "GetResourceConfigHistory"), self._history),
            ),
        )
        return self

    def uninstall(self, session: Any = None) -> None:
        _unregister(session, self._handlers)


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
