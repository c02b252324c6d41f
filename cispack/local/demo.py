"""``./pack demo``: the pack's main job on an embedded local AWS (moto server).

1. start ``moto_server`` on 127.0.0.1 and seed a small account (``cispack/seeds/``) with a
   realistic mix of compliant and non-compliant resources;
2. ``cd rules && rdk init && rdk deploy --rulesets cis-1.2.0`` against it, exactly as a user deploys the v1.2.0 pack;
3. invoke every deployed custom rule the way AWS Config does — a scheduled event, the rule's
   execution role, a result token — running the handler from the very zip that rdk uploaded
   (moto cannot execute Lambda code), in a clean interpreter that has only boto3 and rdklib;
4. print a verdict table per rule with its annotations;
5. detection on change (:mod:`cispack.local.change_demo`): make one trail bucket public and open
   one route table to the whole peer VPC, send the rules scoped to those resource types the
   configuration change notifications AWS Config would send, and print the verdicts before and
   after, with no periodic run; also what rdk deployed as those rules' triggers.

moto has no root user; the demo's local AWS supplies the credential report's ``<root_account>``
row (:data:`ROOT_ROW`: the root password used two days before the run).
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from cispack import ROOT, RULES_DIR, shown
from cispack.catalog.rules import Rule, load_rules
from cispack.dist.packaging import lambda_like_path
from cispack.local import seeds
from cispack.local.aws import LocalAws, moto_server
from cispack.local.change_demo import ChangeDetection, detect_on_change, merged, rdk_rule_triggers
from cispack.local.events import scheduled_event

DEMO_REGION = "us-east-1"
OTHER_REGION = "eu-west-1"


def root_row(now: datetime) -> dict[str, str]:
    """The root user's credential-report row in the demo account: password used two days ago."""
    return {
        "arn": "arn:aws:iam::123456789012:root",
        "password_enabled": "not_supported",
        "password_last_used": (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "mfa_active": "true",
        "access_key_1_active": "false",
        "access_key_2_active": "false",
    }


@dataclass(frozen=True)
class DemoAccount:
    """The local account a seed module fills: boto3 clients against the moto server."""

    endpoint_url: str
    account_id: str
    region: str = DEMO_REGION
    other_region: str = OTHER_REGION

    def client(self, service: str, region: str | None = None) -> Any:
        return boto3.client(service, region_name=region or self.region, endpoint_url=self.endpoint_url)


@dataclass
class RuleOutcome:
    rule: Rule
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def controls(self) -> str:
        return ", ".join(c.id for c in self.rule.controls)


@contextmanager
def _aws_environment(aws: LocalAws) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(aws.env())
    boto3.setup_default_session()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.setup_default_session()


def seed_account(account: DemoAccount, say: Callable[[str], None]) -> None:
    for info in sorted(pkgutil.iter_modules(seeds.__path__), key=lambda i: i.name):
        say(f"  seeding: {info.name}")
        importlib.import_module(f"cispack.local.seeds.{info.name}").seed(account)


def _rdk(args: list[str], aws: LocalAws, log: Path) -> None:
    rdk = Path(sys.executable).with_name("rdk")
    with open(log, "w") as out:
        done = subprocess.run(
            [str(rdk), *args], check=False, cwd=RULES_DIR, env=aws.env(), stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        raise RuntimeError(f"rdk {' '.join(args)} failed ({done.returncode}); see {log}")


def _deployed_functions(aws: LocalAws) -> dict[str, dict[str, Any]]:
    """Deployed Lambda functions by the rule their handler names."""
    functions: dict[str, dict[str, Any]] = {}
    for page in boto3.client("lambda").get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            module, _, _ = str(function.get("Handler", "")).partition(".")
            functions[module] = function
    return functions


def _stack_statuses() -> dict[str, str]:
    """rdk names each rule's stack after the rule, without underscores."""
    statuses: dict[str, str] = {}
    for page in boto3.client("cloudformation").get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            statuses[stack["StackName"]] = stack["StackStatus"]
    return statuses


def invoke_rule(
    rule: Rule,
    function: dict[str, Any],
    aws: LocalAws,
    account_id: str,
    recorder_role_arn: str,
    work: Path,
    site: Path,
    now: datetime,
    event: Mapping[str, Any] | None = None,
) -> RuleOutcome:
    """Run the rule's handler from the zip rdk uploaded, with the function's role, as Config would:
    with a scheduled event, or with ``event`` (a configuration change notification)."""
    code_bucket = f"config-rule-code-bucket-{account_id}-{aws.region}"
    body = boto3.client("s3").get_object(Bucket=code_bucket, Key=f"{rule.name}/{rule.name}.zip")["Body"].read()
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if digest != function["CodeSha256"]:
        return RuleOutcome(rule, error="the zip in the code bucket is not the code of the deployed Lambda")
    unpacked = work / rule.name
    archive = work / f"{rule.name}.zip"
    archive.write_bytes(body)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(unpacked)
    credentials = boto3.client("sts").assume_role(RoleArn=function["Role"], RoleSessionName=rule.name)["Credentials"]
    kind = "change" if event is not None else "scheduled"
    if event is None:
        event = scheduled_event(
            rule.name,
            rule.input_parameters,
            account=account_id,
            region=aws.region,
            now=now,
            execution_role_arn=recorder_role_arn,
        )
    else:
        event = {**event, "executionRoleArn": recorder_role_arn}
    event_file = work / f"{rule.name}.{kind}.event.json"
    event_file.write_text(json.dumps({"event": event, "root_row": root_row(now)}))
    env = {
        **aws.env(),
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_LAMBDA_FUNCTION_NAME": function["FunctionName"],
    }
    runner = Path(__file__).with_name("lambda_runner.py")
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(runner), str(unpacked), str(site), str(ROOT), rule.name, str(event_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        return RuleOutcome(rule, error=f"the handler crashed: {done.stderr.strip().splitlines()[-1:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if isinstance(result, dict):
        message = result.get("customerErrorMessage") or result.get("internalErrorMessage")
        return RuleOutcome(rule, error=str(message))
    return RuleOutcome(rule, evaluations=list(result))


def print_table(outcomes: list[RuleOutcome], managed: list[Rule], say: Callable[[str], None]) -> None:
    for outcome in outcomes:
        say(f"\nCIS {outcome.controls}  {outcome.rule.name}")
        if outcome.error:
            say(f"  ERROR          {outcome.error}")
            continue
        if not outcome.evaluations:
            say("  (no resources to evaluate)")
        for e in sorted(outcome.evaluations, key=lambda e: (e["ComplianceType"], e["ComplianceResourceId"])):
            resource = f"{e['ComplianceResourceType']} {e['ComplianceResourceId']}"
            say(f"  {e['ComplianceType']:<14} {resource}")
            if e.get("Annotation"):
                say(f"  {'':<14} {e['Annotation']}")
    say("\nManaged rules deployed, one stack each (AWS Config evaluates these itself; the local AWS cannot):")
    for rule in managed:
        say(f"  CIS {', '.join(c.id for c in rule.controls):<10} {rule.name}")


# What runs after the verdicts are printed (``./pack demo`` passes the scorecard), given the
# outcomes, the managed rules, the account, the local AWS, the work folder and the printer.
Finish = Callable[[list["RuleOutcome"], list[Rule], str, LocalAws, Path, Callable[[str], None]], object]
#: ``./pack demo --remediate`` (cispack.remediation.demo): given the verdicts and a way to evaluate
#: a rule again on the running local AWS, remediate and return the verdicts after.
Remediate = Callable[[list["RuleOutcome"], Callable[[Rule], "RuleOutcome"], Callable[[str], None]], list["RuleOutcome"]]


def run_demo(
    work: Path, say: Callable[[str], None] = print, finish: Finish | None = None, remediate: Remediate | None = None
) -> list[RuleOutcome]:
    rules = load_rules()
    custom = [r for r in rules if r.is_custom]
    managed = [r for r in rules if not r.is_custom]
    now = datetime.now(UTC)
    site = lambda_like_path(work / "lambda-site")
    say(f"Starting the local AWS (moto server); logs in {shown(work)}")
    with moto_server(DEMO_REGION, log=work / "moto.log") as aws, _aws_environment(aws):
        account_id = boto3.client("sts").get_caller_identity()["Account"]
        account = DemoAccount(aws.endpoint_url, account_id)
        say(f"Seeding demo account {account_id} in {aws.region} and {account.other_region}")
        seed_account(account, say)
        say("Deploying: cd rules && rdk init && rdk deploy --rulesets cis-1.2.0 ...")
        started = time.perf_counter()
        _rdk(["init"], aws, work / "rdk-init.log")
        _rdk(["deploy", "--rulesets", "cis-1.2.0"], aws, work / "rdk-deploy.log")
        functions = _deployed_functions(aws)
        deployed = sum(rule.name in functions for rule in custom)
        say(f"  {deployed} Lambdas deployed for {len(custom)} custom rules in {time.perf_counter() - started:.0f} s")
        say(f"Invoking the {len(custom)} custom rules as AWS Config does ...")
        started = time.perf_counter()
        stacks = _stack_statuses()
        missing = [r.name for r in managed if stacks.get(r.name.replace("_", "")) != "CREATE_COMPLETE"]
        if missing:
            raise RuntimeError(f"rdk deploy left no complete stack for managed rule(s) {', '.join(missing)}")
        # AWS Config hands every rule the recorder's role as executionRoleArn.
        recorder = boto3.client("config").describe_configuration_recorders()["ConfigurationRecorders"][0]
        recorder_role_arn = recorder["roleARN"]
        outcomes = []
        for index, rule in enumerate(custom):
            _progress(f"  {index + 1}/{len(custom)} {rule.name}")
            function = functions.get(rule.name)
            if function is None:
                outcomes.append(RuleOutcome(rule, error="rdk deploy created no Lambda for this rule"))
                continue
            outcomes.append(invoke_rule(rule, function, aws, account_id, recorder_role_arn, work, site, now))
        _progress("")
        say(f"  {len(outcomes)} rules invoked in {time.perf_counter() - started:.0f} s")
        if remediate is not None:

            def again(rule: Rule) -> RuleOutcome:
                return invoke_rule(rule, functions[rule.name], aws, account_id, recorder_role_arn, work, site, now)

            outcomes = remediate(outcomes, again, say)
        # Detection on change: after the first evaluation, no periodic run.
        hybrid = [r for r in custom if r.source_events and r.name in functions]
        by_name = {r.name: r for r in hybrid}

        def on_change(name: str, event: Mapping[str, Any]) -> list[dict[str, Any]] | str:
            done = invoke_rule(
                by_name[name], functions[name], aws, account_id, recorder_role_arn, work, site, now, event=event
            )
            return done.evaluations if done.error is None else done.error

        first = {o.rule.name: o.evaluations for o in outcomes}
        detection: ChangeDetection = detect_on_change(hybrid, first, on_change, account_id, aws.region, now)
        detection.deployed = {r.name: rdk_rule_triggers(r.name.replace("_", "")) for r in custom if r.name in functions}
    print_table(outcomes, managed, say)
    (work / "results.json").write_text(
        json.dumps({o.rule.name: {"evaluations": o.evaluations, "error": o.error} for o in outcomes}, indent=1)
    )
    for line in detection.lines():
        say(line)
    (work / "changes.json").write_text(
        json.dumps({"deployed": detection.deployed, "flips": [vars(f) for f in detection.flips]}, indent=1)
    )
    if finish is not None:
        # AWS Config keeps each resource's latest evaluation: the scorecard reads those.
        latest = [RuleOutcome(o.rule, merged(o.evaluations, detection.flips, o.rule.name), o.error) for o in outcomes]
        finish(latest, managed, account_id, aws, work, say)
    return outcomes


def _progress(text: str) -> None:
    """The rule being invoked, on one rewritten line of a terminal (nothing elsewhere)."""
    if sys.stdout.isatty():
        width = shutil.get_terminal_size().columns - 1
        sys.stdout.write("\r" + text[:width].ljust(width) + ("" if text else "\r"))
        sys.stdout.flush()


#: Where the demo keeps its logs, zips and results when no --keep folder is given (emptied first).
DEFAULT_WORK = ROOT / "build" / "demo" / "run"


def verdict_summary(outcomes: list[RuleOutcome]) -> str:
    """The demo's last line: rules, the evaluations they sent by verdict, and the rules in error."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        for evaluation in outcome.evaluations:
            counts[evaluation["ComplianceType"]] = counts.get(evaluation["ComplianceType"], 0) + 1
    failed = sum(1 for o in outcomes if o.error)
    evaluations = sum(counts.values())
    verdicts = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    sent = f"{evaluations} evaluation{'s' if evaluations != 1 else ''} ({verdicts})"
    if not evaluations:
        sent = "no evaluations"
    rules = f"{len(outcomes)} custom rule{'s' if len(outcomes) != 1 else ''}"
    return f"{rules} evaluated: {sent}; {failed} rule{'s' if failed != 1 else ''} in error."


def main(keep: str | None = None, finish: Finish | None = None, remediate: Remediate | None = None) -> int:
    if keep:
        work = Path(keep).resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        # A folder that outlives the run, so every path the demo prints still exists after it.
        work = DEFAULT_WORK
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
    outcomes = run_demo(work, finish=finish, remediate=remediate)
    failed = [o.rule.name for o in outcomes if o.error]
    print(f"\n{verdict_summary(outcomes)}")
    if failed:
        print(f"Rules in error: {', '.join(failed)}")
        return 1
    return 0
