"""Reading the pack's compliance from AWS Config, for :func:`cispack.report.model.scorecard`.

Three sources, each paging through every API it calls:

- :func:`read_account` with ``conformance_pack``: ``DescribeConformancePackCompliance`` names the
  pack's rules (with the suffix AWS Config gives them); then, per rule, its evaluation status and
  its resources (``DescribeConfigRuleEvaluationStatus``, ``GetComplianceDetailsByConfigRule``).
- :func:`read_account` without it: the pack's rules by their own names (as ``rdk deploy`` and the
  pack's templates create them); a rule Config does not know (``NoSuchConfigRuleException``) is
  not deployed there.
- :func:`read_aggregator`: an organisation aggregator (``templates/review.yaml``):
  ``DescribeAggregateComplianceByConfigRules`` lists every rule in every account and region, and
  ``GetAggregateComplianceDetailsByConfigRule`` reads each one's resources. Aggregators offer no
  evaluation status: the report says so in its notes.

AWS Config's evaluation status covers managed rules; AWS documents that it leaves out custom
Lambda rules, so a custom rule whose Lambda fails is seen only by its results growing old
(:func:`cispack.report.model.deployment_error`). API failures are not caught here: the command
turns them into one sentence and prints no report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from cispack.report.model import Compliance, Deployment, Evaluation, pack_rule_for
from cispack.report.versions import V120, rules_read

#: ``clients(service, region)``: a boto3 client.
Clients = Callable[[str, str], Any]
#: ``progress(done, total, what)``, called before each rule is read.
Progress = Callable[[int, int, str], None]

ALL_TYPES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")
STATUS_NAMES_PER_CALL = 25  # DescribeConfigRuleEvaluationStatus takes at most 25 names
DETAILS_PAGE = 100  # the largest page GetComplianceDetailsByConfigRule and its aggregate twin allow
AGGREGATE_PAGE = 1000


class SourceError(Exception):
    """What the user asked for does not exist: one sentence, and no report."""


def _quiet(_done: int, _total: int, _what: str) -> None:
    return None


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _evaluation(item: Mapping[str, Any]) -> Evaluation:
    qualifier = item["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
    times = [t for t in (item.get("ResultRecordedTime"), item.get("ConfigRuleInvokedTime")) if t is not None]
    return Evaluation(
        str(qualifier["ResourceType"]),
        str(qualifier["ResourceId"]),
        str(item["ComplianceType"]),
        str(item.get("Annotation") or ""),
        max(times) if times else None,
    )


def status_error(status: Mapping[str, Any] | None) -> str | None:
    """Why a rule is in error by its ``ConfigRuleEvaluationStatus``: its last invocation or
    evaluation failed, and no success came after it."""
    if not status:
        return None
    for failed_key, success_key in (
        ("LastFailedInvocationTime", "LastSuccessfulInvocationTime"),
        ("LastFailedEvaluationTime", "LastSuccessfulEvaluationTime"),
    ):
        failed, succeeded = status.get(failed_key), status.get(success_key)
        if failed is not None and (succeeded is None or failed >= succeeded):
            code = status.get("LastErrorCode") or "an error"
            message = str(status.get("LastErrorMessage") or "no message").strip().rstrip(".")
            return f"its last run at {failed:%Y-%m-%d %H:%M} UTC failed with {code} ({message})."
    return None


def _chunks(names: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(names), size):
        yield names[start : start + size]


def _statuses(config: Any, names: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    paginator = config.get_paginator("describe_config_rule_evaluation_status")
    for chunk in _chunks(names, STATUS_NAMES_PER_CALL):
        for page in paginator.paginate(ConfigRuleNames=list(chunk)):
            for status in page["ConfigRulesEvaluationStatus"]:
                found[str(status["ConfigRuleName"])] = status
    return found


def _details(config: Any, rule: str) -> list[Evaluation]:
    paginator = config.get_paginator("get_compliance_details_by_config_rule")
    pages = paginator.paginate(
        ConfigRuleName=rule, ComplianceTypes=list(ALL_TYPES), PaginationConfig={"PageSize": DETAILS_PAGE}
    )
    return [_evaluation(item) for page in pages for item in page["EvaluationResults"]]


def _pack_rule_names(config: Any, pack: str, account: str, region: str) -> list[str]:
    paginator = config.get_paginator("describe_conformance_pack_compliance")
    try:
        return [
            str(rule["ConfigRuleName"])
            for page in paginator.paginate(ConformancePackName=pack)
            for rule in page["ConformancePackRuleComplianceList"]
        ]
    except ClientError as error:
        if _code(error) == "NoSuchConformancePackException":
            raise SourceError(f"No conformance pack named {pack} in account {account}, region {region}.") from error
        raise


def read_account(
    clients: Clients,
    region: str,
    *,
    conformance_pack: str | None = None,
    account_id: str | None = None,
    progress: Progress = _quiet,
    source: str | None = None,
    benchmarks: Sequence[str] = (V120,),
) -> Compliance:
    """One account and region: the rules of ``conformance_pack``, or the pack's rules by name; the
    rules of the CIS versions ``benchmarks`` (:func:`cispack.report.versions.rules_read`)."""
    ours = rules_read(benchmarks)
    read_at = datetime.now(UTC)
    config = clients("config", region)
    account = account_id or str(clients("sts", region).get_caller_identity()["Account"])
    notes: list[str] = []
    deployments: list[Deployment] = []
    if conformance_pack:
        names = _pack_rule_names(config, conformance_pack, account, region)
        label = source or f"conformance pack {conformance_pack} in account {account}, {region}"
        known = []
        for name in names:
            if pack_rule_for(name, ours) is None:
                notes.append(f"{name} is in {conformance_pack} but is not one of this pack's rules; left out.")
            else:
                known.append(name)
        statuses = _statuses(config, known)
        for done, name in enumerate(known):
            progress(done, len(known), name)
            pack_rule = pack_rule_for(name, ours) or name
            deployments.append(
                Deployment(account, region, name, pack_rule, _details(config, name), status_error(statuses.get(name)))
            )
    else:
        label = source or f"the pack's rules by name in account {account}, {region}"
        names = list(ours)
        for done, name in enumerate(names):
            progress(done, len(names), name)
            try:
                status = _statuses(config, [name]).get(name)
                evaluations = _details(config, name)
            except ClientError as error:
                if _code(error) == "NoSuchConfigRuleException":
                    continue  # not deployed in this account and region
                raise
            deployments.append(Deployment(account, region, name, name, evaluations, status_error(status)))
        if not deployments:
            notes.append(f"No rule of the pack is deployed in account {account}, {region} under its own name.")
    progress(1, 1, "done")
    return Compliance(label, [account], deployments, read_at, notes)


def merge(parts: Sequence[Compliance]) -> Compliance:
    """Several reads (one account's regions) as one: the global rules live in one region only."""
    if len(parts) == 1:
        return parts[0]
    accounts = sorted({a for part in parts for a in part.accounts})
    return Compliance(
        "; ".join(part.source for part in parts),
        accounts,
        [d for part in parts for d in part.deployments],
        min(part.read_at for part in parts),
        [n for part in parts for n in part.notes],
    )


def read_aggregator(
    clients: Clients,
    region: str,
    aggregator: str,
    *,
    evidence: str = "all",
    progress: Progress = _quiet,
    benchmarks: Sequence[str] = (V120,),
) -> Compliance:
    """Every account and region of an aggregator. ``evidence="non-compliant"`` reads only the
    non-compliant resources (far fewer calls in a large organisation); compliant rules then count
    by Config's own summary, and their age cannot be checked."""
    if evidence not in ("all", "non-compliant"):
        raise ValueError(f"evidence must be 'all' or 'non-compliant', not {evidence!r}")
    read_at = datetime.now(UTC)
    config = clients("config", region)
    listing = config.get_paginator("describe_aggregate_compliance_by_config_rules")
    try:
        items = [
            item
            for page in listing.paginate(
                ConfigurationAggregatorName=aggregator, PaginationConfig={"PageSize": AGGREGATE_PAGE}
            )
            for item in page["AggregateComplianceByConfigRules"]
        ]
    except ClientError as error:
        if _code(error) == "NoSuchConfigurationAggregatorException":
            raise SourceError(f"No configuration aggregator named {aggregator} in {region}.") from error
        raise
    accounts = sorted({str(item["AccountId"]) for item in items})
    known = rules_read(benchmarks)
    ours = [item for item in items if pack_rule_for(str(item["ConfigRuleName"]), known)]
    details = config.get_paginator("get_aggregate_compliance_details_by_config_rule")
    deployments = []
    for done, item in enumerate(ours):
        rule, account, where = str(item["ConfigRuleName"]), str(item["AccountId"]), str(item["AwsRegion"])
        progress(done, len(ours), f"{account} {where} {rule}")
        kind = str(item.get("Compliance", {}).get("ComplianceType", "INSUFFICIENT_DATA"))
        wanted = ["NON_COMPLIANT"] if kind == "NON_COMPLIANT" else []
        if evidence == "all" and kind in ("COMPLIANT", "NON_COMPLIANT"):
            wanted.append("COMPLIANT")
        evaluations = [
            _evaluation(result)
            for compliance_type in wanted
            for page in details.paginate(
                ConfigurationAggregatorName=aggregator,
                ConfigRuleName=rule,
                AccountId=account,
                AwsRegion=where,
                ComplianceType=compliance_type,
                PaginationConfig={"PageSize": DETAILS_PAGE},
            )
            for result in page["AggregateEvaluationResults"]
        ]
        summary = kind if kind in ("COMPLIANT", "NON_COMPLIANT") else None
        deployments.append(
            Deployment(account, where, rule, pack_rule_for(rule, known) or rule, evaluations, summary=summary)
        )
    progress(1, 1, "done")
    notes = [
        "An aggregator reports no evaluation status: a rule that failed is seen only when it has no results or, "
        "for periodic rules, when its results grow older than twice its period.",
        "Through an aggregator AWS Config returns COMPLIANT and NON_COMPLIANT resources only; a rule whose "
        "resources are all out of scope shows as no data.",
    ]
    if evidence == "non-compliant":
        notes.append("Compliant resources were not read (--evidence non-compliant): their age was not checked.")
    if not ours:
        notes.append(f"No rule of the pack reports to aggregator {aggregator}.")
    return Compliance(
        f"aggregator {aggregator} ({region}): {len(accounts)} accounts", accounts, deployments, read_at, notes
    )
