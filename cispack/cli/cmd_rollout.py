"""``./pack rollout``: create or update the member StackSet across the organisation."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from cispack.cli import checks, output
from cispack.cli.checks import CliError

COMMAND = "./pack rollout"


def _flag(parameter: str) -> str:
    """``AccessLogsBucket`` -> ``access-logs-bucket``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", parameter).lower()


def _parameter(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"{text} is not NAME=VALUE: give e.g. AlarmTopic=security-alarms")
    return name.strip(), value


def _explicit(args: argparse.Namespace, body: str) -> dict[str, str]:
    """The member template parameters the user set (flags and --parameter), checked against the
    template's own parameter definitions."""
    from cispack.catalog.remediations import SETTINGS
    from cispack.generate.member_template import benchmark_parameters
    from cispack.rollout.stackset import template_parameters

    definitions = template_parameters(body)
    values: dict[str, str] = {}
    if args.benchmark is not None:
        # Every version's switch: the chosen ones "true", the others "false".
        values.update(benchmark_parameters(args.benchmark))
    for name, value in args.parameter or []:
        values[name] = value
    for setting in SETTINGS:
        value = getattr(args, _flag(setting.name).replace("-", "_"), None)
        if value is not None:
            values[setting.name] = value
    if args.profile_level is not None:
        values["ProfileLevel"] = args.profile_level
    if args.frequency is not None:
        values["CustomRuleFrequency"] = args.frequency
    if args.global_resources_region is not None:
        values["GlobalResourcesRegion"] = args.global_resources_region
    for name, value in values.items():
        spec = definitions.get(name)
        if spec is None:
            raise CliError(
                f"--parameter {name}={value}: templates/member.yaml has no parameter {name}; "
                "its Parameters section lists them"
            )
        allowed = [str(v) for v in spec.get("AllowedValues", [])]
        if allowed and value not in allowed:
            raise CliError(f"{name} {value} is not one of {', '.join(allowed)}: give one of them")
        pattern = spec.get("AllowedPattern")
        if pattern and not re.fullmatch(pattern, value):
            raise CliError(f"{name} {value} does not match {pattern}: give a value of that form")
    return values


def _local(args: argparse.Namespace, body: str) -> int:
    """The whole rollout on an in-process local AWS (moto): no AWS account needed."""
    import logging
    import os
    import tempfile
    import warnings

    import boto3
    from moto import mock_aws

    from cispack import TEMPLATES_DIR
    from cispack.dist import distribution
    from cispack.rollout import stackset as rollout

    os.environ.update({"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"})
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="cis-pack-dist-") as dist, warnings.catch_warnings(), mock_aws():
        # moto skips the resources it does not implement (the conformance pack, the bucket policy).
        warnings.simplefilter("ignore", UserWarning)
        logging.getLogger("moto").setLevel(logging.ERROR)
        with output.step("building the rule zips and the rdklib layer"):
            manifest = distribution.build(Path(dist))
        with output.step(
            f"rolling out on the local AWS: {output.shown_count(args.accounts, 'account')} then "
            f"{args.joining} joining, regions {','.join(args.regions)}"
        ):
            record = rollout.local_rollout(
                boto3.Session(region_name=args.regions[0]),
                manifest,
                body,
                (TEMPLATES_DIR / "code-bucket.yaml").read_text(),
                args.regions,
                profile_level=args.profile_level or "1",
                accounts=args.accounts,
                joining=args.joining,
                benchmarks=args.benchmark,
            )
    if args.json:
        print(json.dumps(record, indent=1))
        return 0
    for line in rollout.local_summary(record):
        print(line)
    return 0


def _check(args: argparse.Namespace) -> None:
    checks.refuse_together(
        args,
        ("dry_run", "local"),
        ("max_concurrent_percentage", "max_concurrent_count"),
        ("failure_tolerance_percentage", "failure_tolerance_count"),
    )
    if args.local:
        for name in ("ou", "bucket_prefix", "profile", "home_region"):
            if getattr(args, name):
                flag = "--" + name.replace("_", "-")
                raise CliError(
                    f"{flag} applies to a rollout into AWS, not --local (which makes its own organization): "
                    f"leave out {flag} or --local"
                )
    else:
        for name in ("accounts", "joining"):
            if getattr(args, name) is not None:
                raise CliError(f"--{name} {getattr(args, name)} applies to --local only: add --local or leave it out")
    if args.global_resources_region and args.global_resources_region not in args.regions:
        # Otherwise every IAM, account and section-3 control would silently be left out.
        raise CliError(
            f"--global-resources-region {args.global_resources_region} is not among --regions "
            f"{','.join(args.regions)}: the rules on IAM, the account and the monitoring chain would be created "
            "nowhere; add it to --regions"
        )


def _session(args: argparse.Namespace, required: bool) -> Any:
    """The boto3 session of --profile, checked before anything slow; None when ``required`` is
    False and no credentials are configured (a dry run then shows no diff)."""
    import boto3
    from botocore.exceptions import NoCredentialsError

    session = boto3.Session(profile_name=args.profile) if args.profile else boto3.Session()
    if session.get_credentials() is None:
        if required:
            raise NoCredentialsError()
        return None
    return session


def _member_template() -> str:
    """templates/member.yaml, refused when it no longer matches rules/."""
    from cispack.generate import member_template

    with output.step("checking templates/member.yaml against rules/"):
        fresh = member_template.render(member_template.generate())
    body = member_template.MEMBER_TEMPLATE.read_text(encoding="utf-8")
    if body != fresh:
        raise CliError("templates/member.yaml is stale: run ./pack generate (and commit it), then roll out")
    return body


def _run(args: argparse.Namespace) -> int:
    from cispack.dist import distribution
    from cispack.rollout import stackset as rollout

    _check(args)
    if args.local:
        body = _member_template()
        _explicit(args, body)
        args.accounts = 3 if args.accounts is None else args.accounts
        args.joining = 1 if args.joining is None else args.joining
        return _local(args, body)
    missing = [flag for flag, value in (("--ou", args.ou), ("--bucket-prefix", args.bucket_prefix)) if not value]
    if missing:
        raise CliError(
            f"{' and '.join(missing)} missing: name the target OUs (--ou) and the code buckets (--bucket-prefix)"
        )
    session = _session(args, required=not args.dry_run)
    try:
        manifest = distribution.Manifest.read(Path(args.dist))
    except FileNotFoundError:
        raise CliError(f"--dist {args.dist} holds no build: run ./pack build and ./pack upload first") from None
    body = _member_template()
    explicit = _explicit(args, body)
    global_region = args.global_resources_region or args.regions[0]
    try:
        code = rollout.code_parameters(manifest, args.bucket_prefix)
    except KeyError as absent:  # a build older than the rule folders
        raise CliError(
            f"the build in --dist {args.dist} lacks a rule ({absent.args[0]}): run ./pack build and ./pack upload again"
        ) from None
    settings = rollout.Settings(
        organizational_unit_ids=tuple(args.ou),
        regions=tuple(args.regions),
        home_region=args.home_region or global_region,
        bucket_prefix=args.bucket_prefix,
        parameters={**code, **explicit},
        initial_parameters={rollout.GLOBAL_REGION_PARAMETER: global_region},
        stack_set_name=args.stack_set_name,
        call_as=args.call_as,
        retain_stacks_on_account_removal=args.retain_stacks_on_account_removal,
        max_concurrent_percentage=None
        if args.max_concurrent_count is not None
        else args.max_concurrent_percentage or 100,
        max_concurrent_count=args.max_concurrent_count,
        failure_tolerance_percentage=(
            None if args.failure_tolerance_count is not None else args.failure_tolerance_percentage or 0
        ),
        failure_tolerance_count=args.failure_tolerance_count,
        region_concurrency=args.region_concurrency,
    )
    template = rollout.Template.in_code_bucket(body, settings)
    defaults = rollout.template_defaults(body)
    if args.dry_run:
        current = None
        if session is not None:
            cfn = session.client("cloudformation", region_name=settings.home_region)
            current = rollout.read_current(cfn, settings)
        rollout.check_global_region(settings, current or rollout.Current(False))
        if args.json:
            print(json.dumps(rollout.printable(rollout.plan(settings, template, current)), indent=2))
            return 0
        for line in rollout.dry_run_summary(settings, template, current, defaults):
            print(line)
        return 0
    with output.step(
        f"rolling out {settings.stack_set_name} to {','.join(settings.regions)} (waits for each operation)"
    ):
        result = rollout.run(settings, template, session)
    if args.json:
        print(
            json.dumps(
                {
                    "stack_set_id": result.stack_set_id,
                    "created": result.created,
                    "operations": result.operations,
                    "parameters": {c.name: {"before": c.before, "after": c.after} for c in result.changes},
                }
            )
        )
        return 0
    for line in rollout.run_summary(settings, result):
        print(line)
    return 0


def _cost(args: argparse.Namespace) -> int:
    from cispack.catalog.rules import FREQUENCIES, load_rules
    from cispack.rollout import stackset as rollout

    regions = args.region_count if args.region_count is not None else len(args.regions)
    rules = load_rules()
    e = rollout.estimate(rules, args.accounts, regions, args.profile_level, args.frequency)
    named = f" ({','.join(args.regions)})" if args.regions else ""
    print(f"{args.accounts} accounts x {regions} regions{named}, profile level {args.profile_level}")
    print(f"  periodic rules in the global-resources region only: {len(e.global_rules)}")
    print(f"  periodic rules in every region: {len(e.regional_rules)} ({', '.join(e.regional_rules) or 'none'})")
    print(
        f"  periodic rule runs per account per month: {e.runs_per_account:,.1f} (CustomRuleFrequency {args.frequency})"
    )
    print(f"  periodic rule runs per month, all accounts: {e.runs:,.0f}")
    print(f"  at one evaluation per run: ${e.cost():,.2f} tiered, ${e.cost(flat=True):,.2f} at $0.001 each")
    print("  rules that report per resource (IAM users, trail buckets, route tables...) multiply their runs.")
    print("\nCustomRuleFrequency (every custom rule's schedule; managed rules keep theirs), periodic runs a month:")
    for frequency in FREQUENCIES:
        each = rollout.estimate(rules, args.accounts, regions, args.profile_level, frequency)
        mark = "  <- chosen" if frequency == args.frequency else ""
        print(f"  {frequency:<17} {each.runs:>12,.0f} runs  ${each.cost():>10,.2f} tiered{mark}")
    counts = {"AWS::S3::Bucket": args.buckets, "AWS::EC2::RouteTable": args.route_tables}
    changes = rollout.change_estimate(rules, args.accounts, regions, args.profile_level, counts, args.changes)
    print(
        f"\nChange triggers: {args.buckets} buckets (global-resources region) and {args.route_tables} route tables "
        f"(each region) per account, each changing {args.changes:g} times a month:"
    )
    for name, resource_type, per_account, evaluations in changes.rules:
        print(f"  {name:<36} {resource_type:<21} {per_account:>5} per account  {evaluations:>12,.0f} evaluations")
    total = e.runs + changes.evaluations
    alone = e.cost(changes.evaluations)
    print(f"  change-triggered evaluations a month: {changes.evaluations:,.0f} (${alone:,.2f} alone)")
    print(f"\nTotal at {args.frequency}: {total:,.0f} evaluations a month, ${e.cost(total):,.2f} tiered")
    managed = [name for name in e.change_triggered if name not in {row[0] for row in changes.rules}]
    print(f"  plus one evaluation per resource change for the managed rules: {', '.join(managed) or 'none'}")
    return 0


def _cost_regions(text: str) -> list[str]:
    """``cost --regions`` takes region names, as in every other command; a number gets the new flag."""
    if text.strip().isdigit() or text.strip().lstrip("-").isdigit():
        raise argparse.ArgumentTypeError(
            f"{text} is a number, and --regions takes region names in every command: "
            "give the number with --region-count (e.g. --region-count 4) or name them (--regions us-east-1,eu-west-1)"
        )
    return checks.regions(text)


def register(sub: Any) -> None:
    from cispack.catalog.remediations import SETTINGS
    from cispack.catalog.rules import FREQUENCIES
    from cispack.catalog.versions import VERSIONS
    from cispack.dist.distribution import DIST_DIR
    from cispack.generate.conformance import DEFAULT_FREQUENCY
    from cispack.rollout.stackset import STACK_SET_NAME

    p = sub.add_parser(
        "rollout",
        help="create or update the service-managed StackSet of templates/member.yaml (auto-deployment on)",
        description="Create or update the service-managed StackSet of templates/member.yaml. An update keeps "
        "every StackSet parameter this command does not set (UsePreviousValue); --dry-run shows the calls and "
        "the parameter diff and changes nothing.",
    )
    p.add_argument(
        "--ou", action="append", type=checks.organizational_unit, help="target OU ID (ou-... or root r-...); repeatable"
    )
    p.add_argument("--regions", type=checks.regions, required=True, help="comma-separated regions to deploy to")
    p.add_argument("--bucket-prefix", type=checks.bucket_prefix, help="code buckets are <prefix>-<region>")
    p.add_argument(
        "--global-resources-region",
        type=checks.region,
        help="the one region for rules on global resources (default: first region on create, kept on update)",
    )
    p.add_argument(
        "--profile-level", choices=("1", "2"), help="CIS profile level (default: 1 on create, kept on update)"
    )
    p.add_argument(
        "--benchmark",
        type=checks.benchmarks,
        metavar="VERSIONS",
        help=f"the CIS versions whose conformance packs to deploy, comma-separated: {', '.join(VERSIONS)} "
        "(sets every DeployCis<version> parameter; default: cis-1.2.0 on create, kept on update)",
    )
    p.add_argument(
        "--frequency",
        choices=FREQUENCIES,
        help=f"CustomRuleFrequency: how often every custom rule runs ({DEFAULT_FREQUENCY} on create, kept on update)",
    )
    settings = p.add_argument_group("remediation and alarm settings (member template parameters; kept on update)")
    for setting in SETTINGS:
        if setting.name == "RemediationRoleArn":
            continue  # the member template makes its own remediation role
        settings.add_argument(
            f"--{_flag(setting.name)}",
            choices=setting.allowed or None,
            metavar=None if setting.allowed else "VALUE",
            help=f"{setting.name}: {setting.description} (template default: {setting.default or 'empty'})",
        )
    settings.add_argument(
        "--parameter",
        action="append",
        type=_parameter,
        metavar="NAME=VALUE",
        help="any other parameter of templates/member.yaml; repeatable",
    )
    p.add_argument(
        "--home-region", type=checks.region, help="region of the StackSet itself (default: the global-resources region)"
    )
    p.add_argument("--stack-set-name", default=STACK_SET_NAME, help="default: %(default)s")
    p.add_argument(
        "--call-as",
        choices=("SELF", "DELEGATED_ADMIN"),
        default="SELF",
        help="SELF in the management account, DELEGATED_ADMIN in a delegated administrator account",
    )
    p.add_argument(
        "--retain-stacks-on-account-removal",
        action="store_true",
        help="keep the stacks of accounts that leave the target OUs (default: delete them)",
    )
    p.add_argument("--max-concurrent-percentage", type=checks.percentage, help="1-100, per region (default: 100)")
    p.add_argument("--max-concurrent-count", type=checks.count, help="instead of the percentage")
    p.add_argument("--failure-tolerance-percentage", type=checks.tolerance, help="0-100, per region (default: 0)")
    p.add_argument("--failure-tolerance-count", type=checks.quantity, help="instead of the percentage")
    p.add_argument("--region-concurrency", choices=("PARALLEL", "SEQUENTIAL"), default="PARALLEL")
    p.add_argument("--dist", default=str(DIST_DIR), help="folder of ./pack build (default: %(default)s)")
    p.add_argument("--profile", help="AWS profile (default: the usual boto3 credential chain)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="show the calls and the parameter diff (reads the StackSet when credentials are set) and change nothing",
    )
    p.add_argument("--json", action="store_true", help="print the machine-readable record instead of the summary")
    p.add_argument(
        "--local",
        action="store_true",
        help="run it all on an in-process local AWS (moto): organization, OU, accounts, code buckets, "
        "upload, rollout, a late account and the update; prints what it created (first region is global)",
    )
    p.add_argument("--accounts", type=checks.count, help="--local: member accounts at first (default 3)")
    p.add_argument("--joining", type=checks.quantity, help="--local: accounts that join later (default 1)")
    p.set_defaults(func=_run)

    p = sub.add_parser("cost", help="estimate the pack's AWS Config evaluations per month for N accounts x M regions")
    p.add_argument("--accounts", type=checks.count, required=True, help="number of member accounts")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--region-count", type=checks.count, help="number of regions deployed to")
    where.add_argument("--regions", type=_cost_regions, help="or the regions themselves, comma-separated")
    p.add_argument("--profile-level", type=int, choices=(1, 2), default=1)
    p.add_argument(
        "--frequency", choices=FREQUENCIES, default=DEFAULT_FREQUENCY, help="CustomRuleFrequency (default: %(default)s)"
    )
    p.add_argument(
        "--buckets", type=checks.quantity, default=0, help="S3 buckets per account in the global-resources region"
    )
    p.add_argument("--route-tables", type=checks.quantity, default=0, help="route tables per account and region")
    p.add_argument("--changes", type=checks.rate, default=0, help="configuration changes of each of them a month")
    p.set_defaults(func=_cost)
