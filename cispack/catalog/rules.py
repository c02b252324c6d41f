"""The pack's rules as ``rules/*/parameters.json`` describe them: the one source of truth that the
conformance pack, the templates, the README's control table and the tests are built from."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from cispack import RULELIB_DIR, RULES_DIR
from cispack import shown as shown_path
from cispack.catalog.recommendations import BY_ID, Control

CUSTOM_RUNTIME = "python3.12-lib"
LAMBDA_RUNTIME = "python3.12"
FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")
GLOBAL_RULESET = "global-resources"
CONTROL_PREFIX = "cis-1.2.0:"
#: A later CIS version's recommendation in ``RuleSets`` (cispack/catalog/versions.py).
LATER_VERSION_RULESET = r"cis-(1\.4\.0|3\.0\.0|5\.0\.0|6\.0\.0):\d+(\.\d+)*"
LEVEL_RULESETS = {"cis-level1": 1, "cis-level2": 2}


class RuleFileError(ValueError):
    """A rule folder's parameters.json that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Rule:
    name: str
    folder: Path
    parameters: dict[str, Any]

    @property
    def is_custom(self) -> bool:
        return not self.parameters.get("SourceIdentifier")

    @property
    def source_identifier(self) -> str:
        return str(self.parameters.get("SourceIdentifier") or "")

    @property
    def rulesets(self) -> tuple[str, ...]:
        return tuple(self.parameters.get("RuleSets") or ())

    @property
    def controls(self) -> tuple[Control, ...]:
        ids = [r.removeprefix(CONTROL_PREFIX) for r in self.rulesets if r.startswith(CONTROL_PREFIX)]
        return tuple(BY_ID[i] for i in ids)

    @property
    def level(self) -> int:
        """The lowest profile level among its CIS v1.2.0 controls (Level 2 includes Level 1); for a
        rule that only later versions use, its ``cis-level<N>`` rule set."""
        if self.controls:
            return min(control.level for control in self.controls)
        return min(LEVEL_RULESETS[r] for r in self.rulesets if r in LEVEL_RULESETS)

    @property
    def in_v120_pack(self) -> bool:
        """Whether the rule checks a CIS v1.2.0 recommendation (``cis-1.2.0:<id>`` in its rule sets).
        The rules of later versions only (:mod:`cispack.catalog.versions`) are not."""
        return bool(self.controls)

    @property
    def is_global(self) -> bool:
        """Evaluates IAM/account-wide state: deploy it in one region only."""
        return GLOBAL_RULESET in self.rulesets

    @property
    def input_parameters(self) -> dict[str, str]:
        """The values the pack deploys: InputParameters, then optional defaults for custom rules."""
        values = dict(json.loads(self.parameters.get("InputParameters") or "{}"))
        return values

    @property
    def periodic(self) -> str | None:
        value = self.parameters.get("SourcePeriodic")
        return str(value) if value else None

    @property
    def source_events(self) -> tuple[str, ...]:
        value = self.parameters.get("SourceEvents") or ""
        return tuple(v.strip() for v in str(value).split(",") if v.strip())

    @property
    def description(self) -> str:
        return str(self.parameters.get("Description") or "")

    def module(self) -> ModuleType:
        """Import the custom rule's module as ``rdk test-local`` would (its folder on sys.path)."""
        return import_rule_module(self.name)

    def rule_class(self) -> Any:
        return getattr(self.module(), self.name)

    def required_actions(self) -> tuple[str, ...]:
        """IAM actions the rule's Lambda needs (custom rules only)."""
        return tuple(self.rule_class().required_actions())


@cache
def import_rule_module(name: str) -> ModuleType:
    folder = RULES_DIR / name
    for path in (str(RULELIB_DIR), str(folder)):
        if path not in sys.path:
            sys.path.append(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load rule module {name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def read_rule(params_file: Path) -> Rule:
    """One rule folder's ``parameters.json``; :class:`RuleFileError` names the file and what is wrong."""
    shown = shown_path(params_file)
    try:
        document = json.loads(params_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as bad:
        raise RuleFileError(
            f"{shown} is not valid JSON ({bad.msg} at line {bad.lineno}, column {bad.colno}): fix the file"
        ) from None
    except UnicodeDecodeError:
        raise RuleFileError(f"{shown} is not UTF-8 text: save it as UTF-8 JSON") from None
    parameters = document.get("Parameters") if isinstance(document, dict) else None
    if not isinstance(parameters, dict):
        raise RuleFileError(f'{shown} has no "Parameters" object: give the rule\'s settings under "Parameters"')
    rulesets = parameters.get("RuleSets") or []
    if not isinstance(rulesets, list) or not all(isinstance(r, str) for r in rulesets):
        raise RuleFileError(f'{shown}: "RuleSets" is not a list of names: give e.g. ["cis-1.2.0:1.1", "cis-level1"]')
    controls = [r.removeprefix(CONTROL_PREFIX) for r in rulesets if r.startswith(CONTROL_PREFIX)]
    unknown = [c for c in controls if c not in BY_ID]
    if unknown:
        raise RuleFileError(
            f'{shown}: "RuleSets" names {", ".join(CONTROL_PREFIX + c for c in unknown)}, not a CIS v1.2.0 '
            "recommendation: give one such as cis-1.2.0:1.1"
        )
    if not controls and not any(re.fullmatch(LATER_VERSION_RULESET, r) for r in rulesets):
        raise RuleFileError(f'{shown}: "RuleSets" names no CIS control: add the one it checks, e.g. "cis-1.2.0:1.1"')
    return Rule(params_file.parent.name, params_file.parent, parameters)


def load_rules(rules_dir: Path | None = None, *, every_folder: bool = False) -> list[Rule]:
    """The rules of the CIS v1.2.0 pack (the folders of ``rules_dir``, default the repository's
    ``rules/``, whose ``RuleSets`` map them to a v1.2.0 control), sorted by first control: what
    ``conformance-pack.yaml``, the member template, the scorecard and the demo are built from. With
    ``every_folder``, every rule folder (any folder holding parameters.json), the rules that only
    later CIS versions use included."""
    folder = RULES_DIR if rules_dir is None else rules_dir
    rules = [read_rule(params_file) for params_file in sorted(folder.glob("*/parameters.json"))]
    rules = [rule for rule in rules if every_folder or rule.in_v120_pack]
    return sorted(rules, key=lambda r: (r.controls[0].sort_key if r.controls else (99, 99), r.name))


def custom_rules(*, every_folder: bool = False) -> list[Rule]:
    """The custom rules of the CIS v1.2.0 pack; with ``every_folder``, every custom rule folder."""
    return [rule for rule in load_rules(every_folder=every_folder) if rule.is_custom]
