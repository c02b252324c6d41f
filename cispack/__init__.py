"""Tooling for the CIS AWS Foundations v1.2.0 Config rules pack: tests, demo, packaging, rollout.

The code that runs inside AWS Lambda lives in ``rulelib/`` (flat modules, symlinked into each
rule folder) and ``rules/``; nothing here is shipped to Lambda.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"
RULELIB_DIR = ROOT / "rulelib"
TEMPLATES_DIR = ROOT / "templates"
