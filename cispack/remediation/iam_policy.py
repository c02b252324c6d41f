"""IAM's policy evaluation, as far as the pack's roles need it, for tests that prove what a role
can and cannot do (``tests/test_remediation_roles.py``).

One identity policy (every statement of a role's inline policies), one request (action, resource
ARN, condition context): an explicit ``Deny`` that matches wins; otherwise a matching ``Allow``
allows; otherwise the request is implicitly denied. A statement matches when its ``Action`` (or
not its ``NotAction``) matches the action, case-insensitively, with IAM's ``*`` and ``?``
wildcards; its ``Resource`` (or not its ``NotResource``) matches the ARN, case-sensitively; and
every condition holds. A condition key missing from the context fails every operator but the
``...IfExists`` ones (which then hold) and ``Null``, as IAM does. An operator this module does not
know raises: a test must never pass because a condition went unread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

ALLOW: Final = "Allow"
DENY: Final = "Deny"
IMPLICIT_DENY: Final = "ImplicitDeny"


@cache
def _pattern(glob: str, *, case: bool) -> re.Pattern[str]:
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{text}$", 0 if case else re.IGNORECASE | re.DOTALL)


@cache
def glob_match(glob: str, value: str, *, case: bool = True) -> bool:
    return bool(_pattern(glob, case=case).match(value))


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _string_equals(expected: str, actual: str) -> bool:
    return expected == actual


def _string_like(expected: str, actual: str) -> bool:
    return glob_match(expected, actual)


def _bool(expected: str, actual: str) -> bool:
    return str(expected).lower() == str(actual).lower()


_POSITIVE = {
    "StringEquals": _string_equals,
    "StringEqualsIgnoreCase": lambda e, a: e.lower() == a.lower(),
    "StringLike": _string_like,
    "ArnEquals": _string_like,  # IAM treats ArnEquals and ArnLike alike (wildcards per segment)
    "ArnLike": _string_like,
    "Bool": _bool,
}
_NEGATIVE = {"StringNotEquals": _string_equals, "StringNotLike": _string_like, "ArnNotEquals": _string_like}


def condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    values = [str(v) for v in _list(expected)]
    if operator == "Null":
        present = key in context
        return all((v.lower() == "true") != present for v in values)
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if key not in context:
        return if_exists
    actual = [str(a) for a in _list(context[key])]
    if base in _POSITIVE:
        test = _POSITIVE[base]
        return any(test(e, a) for e in values for a in actual)
    if base in _NEGATIVE:
        test = _NEGATIVE[base]
        return not any(test(e, a) for e in values for a in actual)
    raise ValueError(f"condition operator {operator} is not evaluated here")


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, Any]


def names_action(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement's ``Action`` (or not its ``NotAction``) covers ``action``."""
    if "Action" in statement:
        return any(glob_match(a, action, case=False) for a in _list(statement["Action"]))
    return not any(glob_match(a, action, case=False) for a in _list(statement["NotAction"]))


def statement_matches(statement: Mapping[str, Any], request: Request) -> bool:
    """Action, resource and conditions. A statement without ``Resource`` or ``NotResource`` (a
    trust policy's) matches every resource."""
    if not names_action(statement, request.action):
        return False
    if "Resource" in statement:
        if not any(glob_match(r, request.resource) for r in _list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(glob_match(r, request.resource) for r in _list(statement["NotResource"])):
        return False
    for operator, block in (statement.get("Condition") or {}).items():
        for key, expected in block.items():
            if not condition_holds(operator, key, expected, request.context):
                return False
    return True


def decide(statements: Iterable[Mapping[str, Any]], request: Request) -> str:
    matched = [s for s in statements if statement_matches(s, request)]
    if any(s["Effect"] == DENY for s in matched):
        return DENY
    return ALLOW if any(s["Effect"] == ALLOW for s in matched) else IMPLICIT_DENY


def granted_actions(statements: Sequence[Mapping[str, Any]], universe: Iterable[str]) -> set[str]:
    """The actions of ``universe`` that some ``Allow`` statement names (on some resource)."""
    return {a for a in universe if any(s["Effect"] == ALLOW and names_action(s, a) for s in statements)}


def resolve(value: Any, names: Mapping[str, str]) -> Any:
    """A CloudFormation value with ``Fn::Sub``, ``Ref`` and ``Fn::GetAtt ... Arn`` replaced by
    ``names`` (``AWS::AccountId``, parameters, logical IDs)."""
    if isinstance(value, list):
        return [resolve(v, names) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]
        return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], text)
    if set(value) == {"Ref"}:
        return names[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        return names[".".join(value["Fn::GetAtt"])]
    return {k: resolve(v, names) for k, v in value.items()}


class _CfnLoader(yaml.CSafeLoader):  # type: ignore[misc]  # libyaml's loader has no stubs
    """YAML with CloudFormation's short tags (``!Sub``, ``!Ref`` ...) read as their long form."""


def _tag(loader: yaml.CSafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {("Ref" if suffix == "Ref" else f"Fn::{suffix}"): value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict[str, Any]:
    """A CloudFormation template as a document (C-accelerated: the member template is large)."""
    return dict(yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader))  # a CSafeLoader subclass
