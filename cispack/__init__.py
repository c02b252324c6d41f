"""Tooling for the CIS AWS Foundations v1.2.0 Config rules pack, one sub-package per concern.

Dependencies run one way, command line -> features -> catalogue (``tests/test_architecture.py``):

* :mod:`cispack.catalog` -- the recommendations, the rules, the process checks, the public interface;
* :mod:`cispack.dist` -- Lambda zips and the rdklib layer;
* :mod:`cispack.generate` -- the conformance pack, the README's control table, the member template;
* :mod:`cispack.local` -- the embedded local AWS, its seam for what moto lacks, and the demo;
* :mod:`cispack.rollout` -- the organisation rollout (StackSets);
* :mod:`cispack.report` -- the CIS scorecard;
* :mod:`cispack.testing` -- test support (not product code);
* :mod:`cispack.cli` -- ``./pack`` and its subcommands.

The code that runs inside AWS Lambda lives in ``rulelib/`` (flat modules, symlinked into each
rule folder) and ``rules/``; nothing here is shipped to Lambda.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"
RULELIB_DIR = ROOT / "rulelib"
TEMPLATES_DIR = ROOT / "templates"


def shown(path: Path) -> str:
    """A path as the pack prints it: relative to the repository when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
