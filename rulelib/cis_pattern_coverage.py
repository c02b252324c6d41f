"""Whether a CloudWatch Logs metric filter covers a CIS control's accepted filter pattern.

A filter *covers* a control when it matches every log event that one of the control's accepted
patterns matches (it may match more). Deciding that exactly is deciding inclusion between two
boolean formulas over string predicates with wildcards, so the pack decides it on a finite set of
*witness events* derived from the accepted pattern instead:

1. Every field (selector) the accepted pattern reads gets a pool of values: each value the
   pattern names, values that satisfy each wildcard in different ways (exactly the suffix of
   ``*UnauthorizedOperation``, a prefix plus it, ...), near misses (one letter more or less,
   other letter case), numeric boundaries, ``null``/absent/boolean cases, values CloudTrail
   really writes to that field (so ``!=`` terms meet realistic alternatives) and a few generic
   values.
2. The witnesses are the combinations of those values (all of them while there are at most
   ``FULL_PRODUCT_LIMIT``; otherwise each OR/AND branch's own assignment, every one-field
   variation of it and a seeded sample), built into minimal events, **kept only if the accepted
   pattern matches them**. Each minimal witness is also laid over two typical CloudTrail records,
   so that a filter that adds conditions on fields the accepted pattern never reads (``&&
   $.userAgent NOT EXISTS``, ``&& $.awsRegion = "us-east-1"``) fails on one of the two forms.
3. The filter covers the accepted pattern when it matches every witness, and also every witness
   (two per branch) with one field set to a value taken from the *filter's* own terms and still
   matched by the accepted pattern: the pools cannot anticipate every value a filter might
   exclude (``$.eventType != "AwsServiceEventFoo"``), the filter's own values can. Identical
   patterns (after ordering, parentheses, whitespace and quoting are normalised) are covered
   directly.

The method is sound for what the witnesses exercise: a filter that fails a witness really misses
an event the accepted pattern matches (``Coverage.missed`` is that event). It can wrongly report
coverage only for a filter whose exclusions no witness reaches: see the README, "How the pack
decides that a metric filter covers a CIS control" ("Limits").

Flat module: imports only the standard library and ``cis_filter_pattern``.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from cis_filter_pattern import (
    And,
    Check,
    Comparison,
    FilterPatternError,
    Node,
    NumberValue,
    Or,
    RegexValue,
    Selector,
    StringValue,
    evaluate,
    leaves,
    normalize,
    parse,
)

__all__ = ["FULL_PRODUCT_LIMIT", "Coverage", "covers", "witnesses"]

FULL_PRODUCT_LIMIT: Final = 50_000
_MAX_SCENARIOS: Final = 256
_SAMPLE_SIZE: Final = 4_000
_OVERLAYS_PER_BRANCH: Final = 8
_REPRESENTATIVES_PER_BRANCH: Final = 2


@dataclass(frozen=True)
class Coverage:
    covered: bool
    accepted: str | None
    """The accepted pattern that the filter covers, if any."""
    missed: Mapping[str, Any] | None = field(default=None, hash=False)
    """When not covered: an event the first accepted pattern matches and the filter does not."""


class _Absent:
    """A field that is not in the event at all (``NOT EXISTS``)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()

# Values that are in no pattern but tell filters apart: empty, unrelated text, a number, null.
_GENERIC: Final[tuple[Any, ...]] = (ABSENT, None, "", "unrelated-value", 42)

# Values CloudTrail writes to the fields the CIS patterns read. They give "!=" terms realistic
# alternatives: a filter that says `$.eventType = "AwsApiCall"` where CIS says
# `$.eventType != "AwsServiceEvent"` misses root console sign-ins ("AwsConsoleSignIn").
_CLOUDTRAIL_VALUES: Final[Mapping[str, tuple[Any, ...]]] = {
    "$.eventName": ("ConsoleLogin", "DescribeInstances", "GetObject", "HeadBucket"),
    "$.eventSource": (
        "ec2.amazonaws.com",
        "iam.amazonaws.com",
        "kms.amazonaws.com",
        "s3.amazonaws.com",
        "config.amazonaws.com",
        "signin.amazonaws.com",
    ),
    "$.eventType": ("AwsApiCall", "AwsConsoleSignIn", "AwsServiceEvent"),
    "$.errorCode": ("AccessDenied", "Client.UnauthorizedOperation", "AccessDeniedException", "ThrottlingException"),
    "$.errorMessage": ("Failed authentication", "No username found in supplied account"),
    "$.sourceIPAddress": ("203.0.113.10", "delivery.logs.amazonaws.com", "cloudtrail.amazonaws.com"),
    "$.userIdentity.type": ("Root", "IAMUser", "AssumedRole", "AWSService", "FederatedUser"),
    "$.userIdentity.invokedBy": ("AWS Internal", "cloudformation.amazonaws.com", "signin.amazonaws.com"),
    "$.additionalEventData.MFAUsed": ("Yes", "No"),
    "$.responseElements.ConsoleLogin": ("Success", "Failure"),
}

# Two typical CloudTrail records that differ in every field the CIS patterns do not read.
_TEMPLATES: Final[tuple[Mapping[str, Any], ...]] = (
    {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEPRINCIPAL",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333",
            "accessKeyId": "AKIAEXAMPLEKEY",
            "userName": "alice",
            "sessionContext": {"attributes": {"creationDate": "2024-05-01T10:00:00Z", "mfaAuthenticated": "false"}},
        },
        "eventTime": "2024-05-01T10:15:00Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6",
        "requestParameters": {"maxResults": 5},
        "responseElements": None,
        "requestID": "11111111-2222-3333-4444-555555555555",
        "eventID": "66666666-7777-8888-9999-000000000000",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"},
    },
    {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEROLE:bob",
            "arn": "arn:aws:sts::444455556666:assumed-role/Admin/bob",
            "accountId": "444455556666",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "userName": "Admin"},
                "attributes": {"creationDate": "2024-06-02T08:00:00Z", "mfaAuthenticated": "true"},
            },
        },
        "eventTime": "2024-06-02T08:30:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListRoles",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "console.amazonaws.com",
        "requestParameters": None,
        "responseElements": {"ok": True},
        "additionalEventData": {"SignatureVersion": "SigV4"},
        "errorMessage": "",
        "requestID": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "eventID": "ffffffff-0000-1111-2222-333333333333",
        "readOnly": False,
        "eventType": "AwsServiceEvent",
        "managementEvent": False,
        "recipientAccountId": "444455556666",
        "sharedEventID": "12345678-abcd-ef01-2345-6789abcdef01",
        "eventCategory": "Management",
    },
)


# ----------------------------------------------------------------------------- value pools


def _number(value: Decimal) -> int | float:
    if value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    return float(value)


def _string_values(value: StringValue) -> tuple[list[Any], list[Any]]:
    """Values that satisfy ``= value``, and near misses."""
    if value.is_any:
        return ["x", "any-value", 7], []
    core = value.core
    satisfying = [core]
    if value.leading_wildcard and value.trailing_wildcard:
        satisfying += [f"x{core}x", f"Client.{core}.x"]
    elif value.leading_wildcard:
        satisfying += [f"Client.{core}", f"x{core}"]
    elif value.trailing_wildcard:
        satisfying += [f"{core}Exception", f"{core}x"]
    near_misses: list[Any] = [f"{core}x", f"x{core}", core[:-1], core[1:], core.swapcase()]
    if "*" in core:
        # An asterisk inside a word is literal; these are what a glob reading would also accept.
        near_misses += [core.replace("*", ""), core.replace("*", "xx")]
    if re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", core):
        near_misses.append(_number(Decimal(core)))
    return satisfying, near_misses


def _number_values(value: NumberValue) -> tuple[list[Any], list[Any]]:
    """The number and its neighbours on both sides, then its text forms."""
    number = value.number
    boundaries = [
        _number(number),
        _number(number + 1),
        _number(number - 1),
        float(number + Decimal("0.5")),
        float(number - Decimal("0.5")),
    ]
    return boundaries, [value.text, f"{value.text}x"]


_REGEX_SIMPLIFY: Final = (
    (re.compile(r"\\d"), "0"),
    (re.compile(r"\\w"), "a"),
    (re.compile(r"\\s"), " "),
    (re.compile(r"\\(.)"), r"\1"),
    (re.compile(r"\[\^?(.)[^\]]*\]"), r"\1"),
    (re.compile(r"\{[0-9,]*\}"), ""),
    (re.compile(r"[\^$*+?]"), ""),
)


def _regex_values(value: RegexValue) -> tuple[list[Any], list[Any]]:
    # Best effort: strip the regex down to literal text and keep whatever matches.
    samples: list[Any] = []
    for alternative in value.pattern.split("|"):
        text = alternative
        for pattern, replacement in _REGEX_SIMPLIFY:
            text = pattern.sub(replacement, text)
        text = text.replace(".", "x")
        samples += [text, f"{text}x", f"x{text}"]
    return [sample for sample in samples if value.compiled.search(sample)], samples


def _leaf_values(leaf: Comparison | Check) -> tuple[list[Any], list[Any]]:
    """Values that make the leaf true (first in the pools, so the first witnesses read naturally),
    and values that exercise its edges."""
    if isinstance(leaf, Check):
        checks: dict[str, tuple[list[Any], list[Any]]] = {
            "IS NULL": ([None], ["null"]),
            "NOT EXISTS": ([ABSENT], [None]),
            "IS TRUE": ([True], [False, "true"]),
            "IS FALSE": ([False], [True, "false"]),
        }
        return checks[leaf.kind]
    if isinstance(leaf.value, NumberValue):
        satisfying, edges = _number_values(leaf.value)
    elif isinstance(leaf.value, RegexValue):
        satisfying, edges = _regex_values(leaf.value)
    else:
        satisfying, edges = _string_values(leaf.value)
    if leaf.operator == "=":
        return satisfying, edges
    return [], satisfying + edges


def _value_key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, repr(value))


def _pools(node: Node) -> dict[Selector, list[Any]]:
    """Per selector: values that satisfy its leaves, CloudTrail's own values, edges, generics."""
    first: dict[Selector, list[Any]] = {}
    later: dict[Selector, list[Any]] = {}
    for leaf in leaves(node):
        satisfying, edges = _leaf_values(leaf)
        first.setdefault(leaf.selector, []).extend(satisfying)
        later.setdefault(leaf.selector, []).extend(edges)
    pools: dict[Selector, list[Any]] = {}
    for selector, satisfying in first.items():
        ordered = (*satisfying, *_CLOUDTRAIL_VALUES.get(str(selector), ()), *later[selector], *_GENERIC)
        pool: dict[tuple[str, str], Any] = {}
        for value in ordered:
            pool.setdefault(_value_key(value), value)
        pools[selector] = list(pool.values())
    return _prune(node, pools)


def _prune(node: Node, pools: dict[Selector, list[Any]]) -> dict[Selector, list[Any]]:
    """Drop values that fail a top-level conjunct reading a single field.

    Every event the pattern matches satisfies every top-level conjunct, and such a conjunct
    depends on its field's value alone, unless one selector is a prefix of another (then
    placing one can change the other), in which case nothing is pruned.
    """
    if not isinstance(node, And):
        return pools
    paths = [selector.path for selector in pools]
    if any(a != b and b[: len(a)] == a for a in paths for b in paths):
        return pools
    pruned = dict(pools)
    for operand in node.operands:
        selectors = {leaf.selector for leaf in leaves(operand)}
        if len(selectors) != 1:
            continue
        (selector,) = selectors
        pruned[selector] = [value for value in pruned[selector] if evaluate(operand, _build({}, [(selector, value)]))]
    return pruned


# ------------------------------------------------------------------------- building events


def _set(container: Any, step: str | int, value: Any) -> None:
    if isinstance(step, int):
        container.extend([None] * (step + 1 - len(container)))
    container[step] = value


def _get(container: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return container[step] if step < len(container) else None
    return container.get(step)


def _place(event: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    if value is ABSENT:
        _remove(event, path)
        return
    container: Any = event
    for step, following in itertools.pairwise(path):
        child = _get(container, step)
        wanted = list if isinstance(following, int) else dict
        if not isinstance(child, wanted):
            child = wanted()
            _set(container, step, child)
        container = child
    _set(container, path[-1], value)


def _remove(event: dict[str, Any], path: tuple[str | int, ...]) -> None:
    container: Any = event
    for step in path[:-1]:
        if isinstance(step, int) and isinstance(container, list) and step < len(container):
            container = container[step]
        elif isinstance(step, str) and isinstance(container, dict) and step in container:
            container = container[step]
        else:
            return
    last = path[-1]
    if isinstance(last, int) and isinstance(container, list):
        # Later elements shift down; the pattern is evaluated on the result, so that is harmless.
        del container[last:]
    elif isinstance(last, str) and isinstance(container, dict):
        container.pop(last, None)


def _build(base: Mapping[str, Any], assignment: Sequence[tuple[Selector, Any]]) -> dict[str, Any]:
    event = copy.deepcopy(dict(base))
    # Shorter paths first, so `$.a.b` can refine an object that `$.a` placed.
    for selector, value in sorted(assignment, key=lambda item: len(item[0].path)):
        _place(event, selector.path, value)
    return event


def _key(event: Mapping[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, default=repr)


# --------------------------------------------------------------------- choosing assignments


def _scenarios(node: Node) -> list[tuple[Comparison | Check, ...]]:
    """Disjunctive normal form, capped: each scenario is a conjunction of leaves."""
    if isinstance(node, Or):
        result: list[tuple[Comparison | Check, ...]] = []
        for operand in node.operands:
            result.extend(_scenarios(operand))
        return result[:_MAX_SCENARIOS]
    if isinstance(node, And):
        combined: list[tuple[Comparison | Check, ...]] = [()]
        for operand in node.operands:
            combined = [left + right for left in combined for right in _scenarios(operand)][:_MAX_SCENARIOS]
        return combined
    if isinstance(node, Comparison | Check):
        return [(node,)]
    raise TypeError(f"not a filter-pattern node: {type(node).__name__}")


def _assignments(node: Node, pools: dict[Selector, list[Any]]) -> Iterator[tuple[tuple[Selector, Any], ...]]:
    selectors = list(pools)
    size = 1
    for selector in selectors:
        size *= len(pools[selector])
    if size <= FULL_PRODUCT_LIMIT:
        for values in itertools.product(*(pools[selector] for selector in selectors)):
            yield tuple(zip(selectors, values, strict=True))
        return
    # Too many combinations: each branch's own assignment, its one-field variations, a sample.
    for scenario in _scenarios(node):
        base: dict[Selector, Any] = {}
        for selector in selectors:
            constraints = [leaf for leaf in scenario if leaf.selector == selector]
            base[selector] = ABSENT
            for value in pools[selector]:
                probe = _build({}, [(selector, value)])
                if constraints and all(evaluate(leaf, probe) for leaf in constraints):
                    base[selector] = value
                    break
        yield tuple(base.items())
        for selector in selectors:
            for value in pools[selector]:
                yield tuple({**base, selector: value}.items())
    rng = random.Random(0)
    for _ in range(_SAMPLE_SIZE):
        yield tuple((selector, rng.choice(pools[selector])) for selector in selectors)


@functools.lru_cache(maxsize=64)
def _accepted(pattern: str) -> tuple[Node, tuple[dict[str, Any], ...]]:
    try:
        node = normalize(parse(pattern))
    except FilterPatternError as error:
        raise ValueError(f"accepted pattern {pattern!r} is not a valid filter pattern: {error}") from error
    minimal: dict[str, tuple[dict[str, Any], tuple[tuple[Selector, Any], ...]]] = {}
    for assignment in _assignments(node, _pools(node)):
        event = _build({}, assignment)
        if evaluate(node, event):
            minimal.setdefault(_key(event), (event, assignment))
    rich: dict[str, dict[str, Any]] = {}
    overlays_per_signature: dict[tuple[bool, ...], int] = {}
    for event, assignment in minimal.values():
        # Typical records test fields the pattern does not read; a few per branch are enough.
        signature = tuple(evaluate(leaf, event) for leaf in leaves(node))
        overlays_per_signature[signature] = overlays_per_signature.get(signature, 0) + 1
        if overlays_per_signature[signature] > _OVERLAYS_PER_BRANCH:
            continue
        for template in _TEMPLATES:
            overlaid = _build(template, assignment)
            key = _key(overlaid)
            if key not in minimal and evaluate(node, overlaid):
                rich.setdefault(key, overlaid)
    return node, (*(event for event, _ in minimal.values()), *rich.values())


@functools.lru_cache(maxsize=64)
def _representatives(pattern: str) -> tuple[dict[str, Any], ...]:
    """A few witnesses per branch (truth vector of the pattern's leaves), minimal and typical."""
    node, events = _accepted(pattern)
    chosen: list[dict[str, Any]] = []
    per_signature: dict[tuple[bool, ...], int] = {}
    for event in events:
        signature = tuple(evaluate(leaf, event) for leaf in leaves(node))
        per_signature[signature] = per_signature.get(signature, 0) + 1
        if per_signature[signature] <= _REPRESENTATIVES_PER_BRANCH:
            chosen.append(event)
    return tuple(chosen)


def _substituted(node: Node, pattern: str, candidate: Node) -> Iterator[dict[str, Any]]:
    """Witnesses with one field set to a value taken from the candidate filter's own terms.

    The accepted pattern's pools cannot anticipate every value a filter might exclude
    (`$.eventType != "AwsServiceEventFoo"`); the filter's own values can.
    """
    values: dict[Selector, list[Any]] = {}
    for leaf in leaves(candidate):
        satisfying, edges = _leaf_values(leaf)
        values.setdefault(leaf.selector, [ABSENT, None]).extend(satisfying + edges)
    for event in _representatives(pattern):
        for selector, options in values.items():
            for value in options:
                changed = copy.deepcopy(event)
                _place(changed, selector.path, value)
                if evaluate(node, changed):
                    yield changed


# ------------------------------------------------------------------------------------ API


def witnesses(accepted_pattern: str) -> list[dict[str, Any]]:
    """The events the accepted pattern matches that a covering filter must match (copies).

    :func:`covers` also tests these events with single fields set to the filter's own values.
    """
    return copy.deepcopy(list(_accepted(accepted_pattern)[1]))


def covers(filter_pattern: str, accepted_patterns: Sequence[str]) -> Coverage:
    """Whether ``filter_pattern`` matches every event that one of ``accepted_patterns`` matches.

    Raises :class:`FilterPatternError` when ``filter_pattern`` cannot be parsed, and
    ``ValueError`` when an accepted pattern cannot (a defect of the pack, not of the account).
    """
    candidate = normalize(parse(filter_pattern))
    first_missed: dict[str, Any] | None = None
    for index, accepted in enumerate(accepted_patterns):
        node, events = _accepted(accepted)
        if candidate == node:
            return Coverage(True, accepted, None)
        if not events:
            # Nothing to test against (unsatisfiable, or beyond the generator): only an
            # identical pattern counts.
            continue
        missed = next((event for event in events if not evaluate(candidate, event)), None)
        if missed is None:
            missed = next((e for e in _substituted(node, accepted, candidate) if not evaluate(candidate, e)), None)
        if missed is None:
            return Coverage(True, accepted, None)
        if index == 0:
            first_missed = missed
    return Coverage(False, None, copy.deepcopy(first_missed))
