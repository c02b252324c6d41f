"""``./pack generate``: write every file generated from ``rules/`` -- the conformance pack
(``conformance-pack.yaml``), the control table in ``README.md`` and the StackSet
member template (``templates/member.yaml``, which embeds the pack); ``--check`` only reports the
stale ones. ``./pack generate-templates`` is an alias kept for old scripts: it does the same."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cispack import ROOT
from cispack.generate import generated_files

COMMAND = "./pack generate"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _rules_dir(text: str) -> Path:
    path = Path(text)
    if not path.is_dir() or not any(path.glob("*/parameters.json")):
        raise argparse.ArgumentTypeError(f"{text} holds no rule folder (*/parameters.json): name a folder like rules/")
    return path


def cmd_generate(args: argparse.Namespace) -> int:
    from cispack.generate.conformance import MAX_BODY_BYTES, MAX_PARAMETERS, PACK_PATH
    from cispack.generate.versions import MAX_RULES, PACKS_DIR

    rules_dir: Path | None = args.rules_dir
    if args.check:
        files = generated_files(rules_dir)
        stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"stale: {_shown(path)} (run {COMMAND})")
        if not stale:
            print(f"all {len(files)} generated files are up to date")
        return 1 if stale else 0
    for path, text in generated_files(rules_dir).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        changed = not path.exists() or path.read_text(encoding="utf-8") != text
        path.write_text(text, encoding="utf-8")
        print(f"{'wrote' if changed else 'unchanged'}: {_shown(path)}")
        if path == PACK_PATH or path.parent == PACKS_DIR:
            import yaml

            size = len(text.encode("utf-8"))
            document = yaml.safe_load(text)
            parameters = len(document["Parameters"])
            rules = sum(1 for r in document["Resources"].values() if r["Type"] == "AWS::Config::ConfigRule")
            print(
                f"  {size} bytes (limit {MAX_BODY_BYTES}), {parameters} parameters (limit {MAX_PARAMETERS}), "
                f"{rules} rules (limit {MAX_RULES})"
            )
            if size > MAX_BODY_BYTES or parameters > MAX_PARAMETERS or rules > MAX_RULES:
                print("  over a conformance pack limit")
                return 1
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "generate",
        aliases=["generate-templates"],
        help="write conformance-pack.yaml, conformance-packs/ (later CIS versions), the README control tables and "
        "templates/member.yaml from rules/",
    )
    p.add_argument("--check", action="store_true", help="only report stale generated files (exit 1 if any)")
    p.add_argument("--rules-dir", type=_rules_dir, default=None, help="read rule folders from here instead of rules/")
    p.set_defaults(func=cmd_generate)
