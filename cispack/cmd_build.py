"""``./pack build``, ``./pack upload`` and ``./pack generate-templates``: the code and the
member template of the organisation rollout (see docs/organisation-rollout.md)."""

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


def _build(args: argparse.Namespace) -> int:
    from cispack import distribution, member_template

    manifest = distribution.build(Path(args.dist))
    print(json.dumps(manifest.to_json(), indent=2, sort_keys=True))
    print(f"built {len(manifest.artifacts)} artifacts in {args.dist}", file=sys.stderr)
    if member_template.MEMBER_TEMPLATE.read_text() != member_template.render(member_template.generate()):
        print(
            "note: templates/member.yaml is stale; run ./pack generate-templates before ./pack rollout", file=sys.stderr
        )
    return 0


def _upload(args: argparse.Namespace) -> int:
    import boto3

    from cispack import distribution

    dist = Path(args.dist)
    manifest = distribution.build(dist) if args.build else distribution.Manifest.read(dist)
    session = boto3.Session(profile_name=args.profile) if args.profile else boto3.Session()
    uploads = distribution.upload(manifest, args.regions, args.bucket_prefix, session)
    print(json.dumps([u.to_json() for u in uploads], indent=2))
    fresh = sum(u.uploaded for u in uploads)
    print(f"uploaded {fresh}, already present {len(uploads) - fresh}", file=sys.stderr)
    return 0


def _generate(args: argparse.Namespace) -> int:
    from cispack import member_template

    text = member_template.render(member_template.generate())
    path = member_template.MEMBER_TEMPLATE
    if args.check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run ./pack generate-templates", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.write_text(text)
    print(f"wrote {path} ({len(text.encode())} bytes)")
    return 0


def register(sub: Any) -> None:
    from cispack.distribution import DIST_DIR

    p = sub.add_parser("build", help="build each custom rule's zip (as rdk does) and the rdklib layer zip")
    p.add_argument("--dist", default=str(DIST_DIR), help="output folder (emptied first; default: %(default)s)")
    p.set_defaults(func=_build)

    p = sub.add_parser("upload", help="upload the built zips to the code bucket of each region")
    p.add_argument("--regions", type=_regions, required=True, help="comma-separated regions, e.g. us-east-1,eu-west-1")
    p.add_argument("--bucket-prefix", required=True, help="code buckets are <prefix>-<region> (code-bucket.yaml)")
    p.add_argument("--dist", default=str(DIST_DIR), help="folder of ./pack build (default: %(default)s)")
    p.add_argument("--build", action="store_true", help="build first")
    p.add_argument("--profile", help="AWS profile (default: the usual boto3 credential chain)")
    p.set_defaults(func=_upload)

    p = sub.add_parser("generate-templates", help="regenerate templates/member.yaml from rules/")
    p.add_argument("--check", action="store_true", help="only report whether the committed file is stale")
    p.set_defaults(func=_generate)
