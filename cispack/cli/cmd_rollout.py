"""``./pack rollout``: create or update the member StackSet across the organisation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _regions(text: str) -> list[str]:
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise argparse.ArgumentTypeError("name at least one region")
    return regions


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
        manifest = distribution.build(Path(dist))
        record = rollout.local_rollout(
            boto3.Session(region_name=args.regions[0]),
            manifest,
            body,
            (TEMPLATES_DIR / "code-bucket.yaml").read_text(),
            args.regions,
            profile_level=args.profile_level,
            accounts=args.accounts,
            joining=args.joining,
        )
    print(json.dumps(record, indent=1))
    return 0


def _run(args: argparse.Namespace) -> int:
    from cispack.dist import distribution
    from cispack.generate import member_template, stale_files
    from cispack.rollout import stackset as rollout

    if member_template.MEMBER_TEMPLATE in stale_files():
        print("templates/member.yaml is stale: run ./pack generate (and commit it)", file=sys.stderr)
        return 1
    body = member_template.MEMBER_TEMPLATE.read_text()
    global_region = args.global_resources_region or args.regions[0]
    if global_region not in args.regions:
        # Otherwise every IAM, account and section-3 control would silently be left out.
        print(
            f"the global-resources region {global_region} is not among --regions {','.join(args.regions)}: "
            "the rules on IAM, the account and the monitoring chain would be created nowhere",
            file=sys.stderr,
        )
        return 2
    if args.local:
        return _local(args, body)
    if not args.ou or not args.bucket_prefix:
        print("name the target OUs (--ou) and the code buckets (--bucket-prefix)", file=sys.stderr)
        return 2
    try:
        manifest = distribution.Manifest.read(Path(args.dist))
    except FileNotFoundError:
        print(f"no build in {args.dist}: run ./pack build and ./pack upload first", file=sys.stderr)
        return 1
    settings = rollout.Settings(
        organizational_unit_ids=tuple(args.ou),
        regions=tuple(args.regions),
        home_region=args.home_region or global_region,
        bucket_prefix=args.bucket_prefix,
        parameters=member_template.parameter_values(
            manifest, args.bucket_prefix, args.profile_level, global_region, frequency=args.frequency
        ),
        stack_set_name=args.stack_set_name,
        call_as=args.call_as,
        retain_stacks_on_account_removal=args.retain_stacks_on_account_removal,
        max_concurrent_percentage=None if args.max_concurrent_count is not None else args.max_concurrent_percentage,
        max_concurrent_count=args.max_concurrent_count,
        failure_tolerance_percentage=(
            None if args.failure_tolerance_count is not None else args.failure_tolerance_percentage
        ),
        failure_tolerance_count=args.failure_tolerance_count,
        region_concurrency=args.region_concurrency,
    )
    template = rollout.Template.in_code_bucket(body, settings)
    if args.dry_run:
        print(json.dumps(rollout.printable(rollout.plan(settings, template)), indent=2))
        return 0
    import boto3

    session = boto3.Session(profile_name=args.profile) if args.profile else boto3.Session()
    result = rollout.run(settings, template, session)
    print(json.dumps({"stack_set_id": result.stack_set_id, "created": result.created, "operations": result.operations}))
    return 0


def _cost(args: argparse.Namespace) -> int:
    from cispack.catalog.rules import FREQUENCIES, load_rules
    from cispack.rollout import stackset as rollout

    rules = load_rules()
    e = rollout.estimate(rules, args.accounts, args.regions, args.profile_level, args.frequency)
    print(f"{args.accounts} accounts x {args.regions} regions, profile level {args.profile_level}")
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
        each = rollout.estimate(rules, args.accounts, args.regions, args.profile_level, frequency)
        mark = "  <- chosen" if frequency == args.frequency else ""
        print(f"  {frequency:<17} {each.runs:>12,.0f} runs  ${each.cost():>10,.2f} tiered{mark}")
    counts = {"AWS::S3::Bucket": args.buckets, "AWS::EC2::RouteTable": args.route_tables}
    changes = rollout.change_estimate(rules, args.accounts, args.regions, args.profile_level, counts, args.changes)
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


def register(sub: Any) -> None:
    from cispack.catalog.rules import FREQUENCIES
    from cispack.dist.distribution import DIST_DIR
    from cispack.generate.conformance import DEFAULT_FREQUENCY
    from cispack.rollout.stackset import STACK_SET_NAME

    p = sub.add_parser(
        "rollout",
        help="create or update the service-managed StackSet of templates/member.yaml (auto-deployment on)",
    )
    p.add_argument("--ou", action="append", help="target OU ID (ou-... or root r-...); repeatable")
    p.add_argument("--regions", type=_regions, required=True, help="comma-separated regions to deploy to")
    p.add_argument("--bucket-prefix", help="code buckets are <prefix>-<region>")
    p.add_argument(
        "--global-resources-region", help="the one region for rules on global resources (default: first region)"
    )
    p.add_argument("--profile-level", choices=("1", "2"), default="1", help="CIS profile level (default: 1)")
    p.add_argument(
        "--frequency",
        choices=FREQUENCIES,
        default=DEFAULT_FREQUENCY,
        help="CustomRuleFrequency: how often every custom rule runs on its schedule (default: %(default)s)",
    )
    p.add_argument("--home-region", help="region of the StackSet itself (default: the global-resources region)")
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
    p.add_argument("--max-concurrent-percentage", type=int, default=100, help="per region (default: %(default)s)")
    p.add_argument("--max-concurrent-count", type=int, help="instead of the percentage")
    p.add_argument("--failure-tolerance-percentage", type=int, default=0, help="per region (default: %(default)s)")
    p.add_argument("--failure-tolerance-count", type=int, help="instead of the percentage")
    p.add_argument("--region-concurrency", choices=("PARALLEL", "SEQUENTIAL"), default="PARALLEL")
    p.add_argument("--dist", default=str(DIST_DIR), help="folder of ./pack build (default: %(default)s)")
    p.add_argument("--profile", help="AWS profile (default: the usual boto3 credential chain)")
    p.add_argument("--dry-run", action="store_true", help="print the calls as JSON and make none")
    p.add_argument(
        "--local",
        action="store_true",
        help="run it all on an in-process local AWS (moto): organization, OU, accounts, code buckets, "
        "upload, rollout, a late account and the update; prints what it created (first region is global)",
    )
    p.add_argument("--accounts", type=int, default=3, help="--local: member accounts at first (default 3)")
    p.add_argument("--joining", type=int, default=1, help="--local: accounts that join later (default 1)")
    p.set_defaults(func=_run)

    p = sub.add_parser("cost", help="estimate the pack's AWS Config evaluations per month for N accounts x M regions")
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--regions", type=int, required=True, help="number of regions deployed to")
    p.add_argument("--profile-level", type=int, choices=(1, 2), default=1)
    p.add_argument(
        "--frequency", choices=FREQUENCIES, default=DEFAULT_FREQUENCY, help="CustomRuleFrequency (default: %(default)s)"
    )
    p.add_argument("--buckets", type=int, default=0, help="S3 buckets per account in the global-resources region")
    p.add_argument("--route-tables", type=int, default=0, help="route tables per account and region")
    p.add_argument("--changes", type=float, default=0, help="configuration changes of each of them a month")
    p.set_defaults(func=_cost)
