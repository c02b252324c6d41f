"""Whether CloudWatch Logs metric filters cover a CIS control's filter pattern: decided exactly.

Filters *cover* a pattern P when every log event that P matches is matched by at least one of
them (several filters publishing one metric count as their union: CloudWatch counts an event
for each filter that matches it, so an alarm on the metric fires for any of them). Equivalently,
no event satisfies ``P and not F1 and not F2 ...``. :func:`find_event` decides that formula and,
when it is satisfiable, returns such an event: the *witness* named in NON_COMPLIANT annotations.

The procedure (sound and complete over the event model below):

1. **Atoms.** Every comparison or check of P and of the filters is an atom about one field
   (selector); every term of a term pattern is an atom about the raw text.
2. **Cells per field.** An atom depends on its field's value alone, so each field's values fall
   into finitely many *cells*: sets of values on which every atom of that field agrees. The
   cells are: absent, ``null``, ``true``, ``false``, an object, an array, one cell per
   realisable combination of the field's string tests (found by exploring the product of their
   automata, ``cis_regular.cells``, which visits every reachable state and so misses no
   combination), and numbers. Each cell carries an example value, and each atom's truth in the
   cell is computed by evaluating the atom on that example with the reference evaluator
   (``cis_filter_pattern.evaluate``), so the cells can never claim a truth the evaluator denies.
3. **Search.** Fields are assigned cells one after another (a field before the fields nested in
   it; a field nested in one that is not an object or array of the right kind is absent; array
   elements are present from index 0 up), and the formula is evaluated in three-valued logic
   after each assignment, pruning every branch where it is already false. Every combination of
   cells is reached unless pruned, so an event exists exactly when the search finds one.
4. **Raw text.** Term atoms are judged on the finished candidate's compact JSON; a term that
   must appear is added in one extra field. The witness is then checked with the reference
   evaluator: P matches it and no filter does.

Event model and its limits (docs/rules.md, "How the pack decides that a metric filter covers a CIS
control"): values of a field compared both numerically and by text (a wildcard or regex on a
JSON number) are drawn from the constants the patterns name and their neighbours, not from all
numbers; a term that could only be found across JSON punctuation (``a":"b``) is not constructed.
Neither form appears in CIS or CloudTrail filters; both err toward "does not cover" only where
they stop the search from finding a value, which is why the final witness check exists.

Cost: a filter is first tried against a few events P matches (cached per P, built lazily, none
at import time); only a filter that matches all of them needs the search.

Flat module: imports only the standard library, ``cis_regular`` and ``cis_filter_pattern``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from cis_filter_pattern import (
    And,
    Check,
    Comparison,
    Everything,
    FilterPatternError,
    Node,
    NumberValue,
    Or,
    RegexValue,
    StringValue,
    Term,
    Terms,
    evaluate,
    normalize,
    parse,
    raw_text,
)
from cis_regular import Language, cells, contains, exact, glob, search

__all__ = ["MAX_SEARCH_STEPS", "Coverage", "TooComplex", "covers", "find_event", "sample_events"]

# Bounds that keep a pathological filter (thousands of fields, regexes whose product explodes)
# from running a rule out of time; a filter beyond them is not credited with coverage.
MAX_SEARCH_STEPS: Final = 200_000


class TooComplex(FilterPatternError):
    """The filters are beyond what the decision explores within its bounds. Treated like a
    pattern that cannot be read: it never covers, and the annotation says why."""

    def __init__(self, message: str) -> None:
        super().__init__(f"too complex to decide: {message}", 0)


# How many events of P a filter is tried against before the full search (per accepted pattern).
_SAMPLES: Final = 12
# Keys tried for the extra field that carries terms a witness must contain.
_EXTRA_KEYS: Final = ("note", "x-note", "extra", "zz")


@dataclass(frozen=True)
class Coverage:
    covered: bool
    accepted: str | None
    """The accepted pattern that the filters cover, if any."""
    missed: Mapping[str, Any] | None = field(default=None, hash=False)
    """When not covered: an event the first accepted pattern matches and no filter does."""


@dataclass(frozen=True, slots=True)
class _Not(Node):
    operand: Node


_ABSENT: Final = object()

Atom = Comparison | Check | Term


# ------------------------------------------------------------------------------ the formula


def _atoms(node: Any) -> Iterator[Atom]:
    if isinstance(node, And | Or):
        for operand in node.operands:
            yield from _atoms(operand)
    elif isinstance(node, _Not):
        yield from _atoms(node.operand)
    elif isinstance(node, Terms):
        yield from (*node.required, *node.excluded, *node.any_of)
    elif isinstance(node, Comparison | Check):
        yield node


def _all3(values: Iterator[bool | None]) -> bool | None:
    result: bool | None = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def _any3(values: Iterator[bool | None]) -> bool | None:
    result: bool | None = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def _not3(value: bool | None) -> bool | None:
    return None if value is None else not value


def _eval3(node: Any, truth: Callable[[Atom], bool | None]) -> bool | None:
    """Three-valued: ``None`` while an atom the answer depends on is still unknown."""
    if isinstance(node, And):
        return _all3(_eval3(operand, truth) for operand in node.operands)
    if isinstance(node, Or):
        return _any3(_eval3(operand, truth) for operand in node.operands)
    if isinstance(node, _Not):
        return _not3(_eval3(node.operand, truth))
    if isinstance(node, Everything):
        return True
    if isinstance(node, Terms):
        parts = [_all3(truth(term) for term in node.required), _not3(_any3(truth(t) for t in node.excluded))]
        if node.any_of:
            parts.append(_any3(truth(term) for term in node.any_of))
        return _all3(iter(parts))
    return truth(node)


# ---------------------------------------------------------------------------- cells of a field


@dataclass(frozen=True)
class _Cell:
    kind: str  # absent, null, true, false, object, array, string, number
    value: Any
    truth: Mapping[Atom, bool]
    contained: frozenset[Term] = frozenset()
    """Terms found in the value's own JSON text (strings only)."""


def _single(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """An event holding ``value`` at ``path`` and nothing else."""
    event: dict[str, Any] = {}
    if value is _ABSENT:
        return event
    container: Any = event
    for step, following in itertools.pairwise(path):
        child: Any = [] if isinstance(following, int) else {}
        _put(container, step, child)
        container = child
    _put(container, path[-1], value)
    return event


def _put(container: Any, step: str | int, value: Any) -> None:
    if isinstance(step, int):
        container.extend([None] * (step + 1 - len(container)))
    container[step] = value


def _language(leaf: Comparison) -> Language | None:
    """The strings an ``=`` comparison accepts, or ``None`` when it accepts no string."""
    value = leaf.value
    if isinstance(value, RegexValue):
        return search(value.pattern)
    if isinstance(value, NumberValue):
        return exact(value.text) if leaf.operator in ("=", "!=") else None
    if value.is_any:
        return glob("", True, False)
    return glob(value.core, value.leading_wildcard, value.trailing_wildcard)


def _numbers(leaves: Sequence[Atom]) -> list[int | float]:
    """Numbers for a field: the constants its tests name and their neighbours."""
    found: set[Decimal] = {Decimal(0), Decimal(1), Decimal(-1), Decimal("0.5")}
    for leaf in leaves:
        if not isinstance(leaf, Comparison):
            continue
        value = leaf.value
        texts: list[str] = []
        if isinstance(value, NumberValue):
            found.add(value.number)
        elif isinstance(value, StringValue):
            texts = [value.core, value.core + "0", value.core + "1"]
        for text in texts:
            try:
                found.add(Decimal(text))
            except ArithmeticError:  # not a number: nothing to add
                continue
    numbers: list[int | float] = []
    for base in sorted(number for number in found if number.is_finite() and abs(number) < 10**15):
        for delta in (Decimal(0), Decimal(1), Decimal(-1), Decimal("0.5"), Decimal("-0.5")):
            number = base + delta
            numbers.append(int(number) if number == number.to_integral_value() else float(number))
    return numbers


@functools.lru_cache(maxsize=1024)
def _field_cells(
    path: tuple[str | int, ...], leaves: tuple[Atom, ...], terms: tuple[Term, ...], containers: tuple[str, ...]
) -> tuple[_Cell, ...]:
    """Every cell of one field, each with an example value and its atoms' truth; the cells a
    witness reads best first (strings, numbers, ..., absent last)."""
    candidates: list[tuple[str, Any]] = []
    if leaves:
        languages: list[Language] = []
        for leaf in leaves:
            language = _language(leaf) if isinstance(leaf, Comparison) else None
            if language is not None and language not in languages:
                languages.append(language)
        term_languages = [search(term.text) if term.regex else contains(term.text) for term in terms]
        candidates += [("string", cell.example) for cell in cells(languages + term_languages)]
        candidates += [("number", number) for number in _numbers(leaves)]
        candidates += [("null", None), ("true", True), ("false", False)]
    kinds = set(containers) | ({"object"} if leaves else set())
    candidates += [(kind, {} if kind == "object" else []) for kind in sorted(kinds)]
    candidates.append(("absent", _ABSENT))
    found: dict[tuple[Any, ...], _Cell] = {}
    for kind, value in candidates:
        event = _single(path, value)
        truth: dict[Atom, bool] = {leaf: evaluate(leaf, event) for leaf in leaves if not isinstance(leaf, Term)}
        text = "" if kind == "absent" else json.dumps(value, ensure_ascii=False)
        contained = frozenset(term for term in terms if term.found_in(text))
        structural = kind if kind in ("object", "array", "absent") else "value"
        key = (structural, tuple(truth.values()), contained)
        if key not in found:
            found[key] = _Cell(kind, value, truth, contained)
    return tuple(found.values())


# ------------------------------------------------------------------------------- the search


@dataclass
class _Problem:
    formula: Any
    checks: Callable[[Mapping[str, Any]], bool]
    paths: list[tuple[str | int, ...]]
    domains: dict[tuple[str | int, ...], tuple[_Cell, ...]]
    terms: list[Term]


def _problem(formula: Any, check: Callable[[Mapping[str, Any]], bool]) -> _Problem:
    atoms = list(dict.fromkeys(_atoms(formula)))
    terms = [atom for atom in atoms if isinstance(atom, Term)]
    by_path: dict[tuple[str | int, ...], list[Atom]] = {}
    for atom in atoms:
        if isinstance(atom, Comparison | Check):
            by_path.setdefault(atom.selector.path, []).append(atom)
    # Fields in the order the formula names them (P's first), each after the fields holding it,
    # so that witnesses list the accepted pattern's fields first.
    ordered: list[tuple[str | int, ...]] = []
    for path in by_path:
        ordered += [path[:end] for end in range(1, len(path) + 1) if path[:end] not in ordered]
    paths = set(ordered)
    domains: dict[tuple[str | int, ...], tuple[_Cell, ...]] = {}
    for path in ordered:
        containers = sorted(
            {
                "array" if isinstance(other[len(path)], int) else "object"
                for other in paths
                if len(other) == len(path) + 1 and other[: len(path)] == path
            }
        )
        domains[path] = _field_cells(path, tuple(by_path.get(path, ())), tuple(terms), tuple(containers))
    return _Problem(formula, check, ordered, domains, terms)


def _solve(problem: _Problem) -> dict[str, Any] | None:
    return next(_solutions(problem), None)


def _solutions(problem: _Problem) -> Iterator[dict[str, Any]]:
    """Every solution the search reaches, at most one per combination of cells."""
    assignment: dict[tuple[str | int, ...], _Cell] = {}

    def truth(atom: Atom) -> bool | None:
        if isinstance(atom, Term):
            return None
        cell = assignment.get(atom.selector.path)
        return None if cell is None else cell.truth[atom]

    def allowed(path: tuple[str | int, ...]) -> Sequence[_Cell]:
        cells_here = problem.domains[path]
        if len(path) > 1:
            parent = assignment[path[:-1]]
            needed = "array" if isinstance(path[-1], int) else "object"
            if parent.kind != needed:
                return cells_here[-1:]
        step = path[-1]
        if isinstance(step, int):
            # Elements are present from index 0 up: an absent lower index leaves this one absent.
            for other, cell in assignment.items():
                if (
                    len(other) == len(path)
                    and other[:-1] == path[:-1]
                    and isinstance(other[-1], int)
                    and other[-1] < step
                    and cell.kind == "absent"
                ):
                    return cells_here[-1:]
        return cells_here

    steps = 0

    def walk(index: int) -> Iterator[dict[str, Any]]:
        nonlocal steps
        steps += 1
        if steps > MAX_SEARCH_STEPS:
            raise TooComplex(f"the search for an event exceeded {MAX_SEARCH_STEPS:,} steps")
        if _eval3(problem.formula, truth) is False:
            return
        if index == len(problem.paths):
            found = _finish(problem, assignment)
            if found is not None:
                yield found
            return
        path = problem.paths[index]
        for cell in allowed(path):
            assignment[path] = cell
            yield from walk(index + 1)
        assignment.pop(path, None)

    yield from walk(0)


def _build(assignment: Mapping[tuple[str | int, ...], _Cell]) -> dict[str, Any]:
    event: dict[str, Any] = {}
    for path, cell in sorted(assignment.items(), key=lambda item: len(item[0])):
        if cell.kind == "absent":
            continue
        container: Any = event
        for step in path[:-1]:
            container = container[step]
        value = {} if cell.kind == "object" else [] if cell.kind == "array" else cell.value
        _put(container, path[-1], value)
    return event


def _term_example(term: Term) -> str:
    if not term.regex:
        return term.text
    for cell in cells([search(term.text)]):
        if cell.memberships == (True,):
            return cell.example
    raise ValueError(f"regular expression %{term.text}% matches nothing")


def _finish(problem: _Problem, assignment: Mapping[tuple[str | int, ...], _Cell]) -> dict[str, Any] | None:
    event = _build(assignment)
    if not problem.terms:
        return event if problem.checks(event) else None
    text = raw_text(event)
    present = {term for term in problem.terms if term.found_in(text)}
    optional = [term for term in problem.terms if term not in present]
    # Terms the text lacks can be added in one extra field; try the smallest additions first.
    for size in range(len(optional) + 1):
        for added in _subsets(optional, size):
            wanted = present | set(added)

            def truth(atom: Atom, wanted: set[Term] = wanted) -> bool | None:
                if isinstance(atom, Term):
                    return atom in wanted
                return assignment[atom.selector.path].truth[atom]

            if _eval3(problem.formula, truth) is not True:
                continue
            candidate = dict(event)
            if added:
                key = next((key for key in _EXTRA_KEYS if key not in event), None)
                if key is None:
                    continue
                candidate[key] = " ".join(_term_example(term) for term in added)
            if problem.checks(candidate):
                return candidate
    return None


def _subsets(items: Sequence[Term], size: int) -> Iterator[tuple[Term, ...]]:
    if size == 0:
        yield ()
        return
    for index, item in enumerate(items):
        for rest in _subsets(items[index + 1 :], size - 1):
            yield (item, *rest)


# ---------------------------------------------------------------------------------- the API


def find_event(pattern: Node, excluded: Sequence[Node] = ()) -> dict[str, Any] | None:
    """An event that ``pattern`` matches and none of ``excluded`` does, or ``None`` if none exists.
    Raises :class:`TooComplex` beyond the decision's bounds."""
    formula: Node = And((pattern, *(_Not(node) for node in excluded))) if excluded else pattern

    def check(event: Mapping[str, Any]) -> bool:
        return evaluate(pattern, event) and not any(evaluate(node, event) for node in excluded)

    try:
        return _solve(_problem(formula, check))
    except OverflowError as error:  # cis_regular.cells: the automata product is too large
        raise TooComplex(str(error)) from None


@functools.lru_cache(maxsize=64)
def _accepted(pattern: str) -> Node:
    try:
        return parse(pattern)
    except FilterPatternError as error:
        raise ValueError(f"accepted pattern {pattern!r} is not a valid filter pattern: {error}") from error


@functools.lru_cache(maxsize=64)
def _samples(pattern: str) -> tuple[dict[str, Any], ...]:
    """The first few events the search finds for the accepted pattern, each in other cells."""
    node = _accepted(pattern)
    problem = _problem(node, lambda event: evaluate(node, event))
    return tuple(itertools.islice(_solutions(problem), _SAMPLES))


def sample_events(accepted_pattern: str) -> list[dict[str, Any]]:
    """A few distinct events the accepted pattern matches (copies), as tried before the search."""
    return copy.deepcopy(list(_samples(accepted_pattern)))


def covers(filter_patterns: str | Sequence[str], accepted_patterns: Sequence[str]) -> Coverage:
    """Whether the filters (one pattern, or several publishing one metric: their union) match
    every event that one of ``accepted_patterns`` matches.

    Raises :class:`FilterPatternError` when a filter pattern cannot be parsed (or
    :class:`TooComplex`, one, when the filters are beyond the decision's bounds), and
    ``ValueError`` when an accepted pattern cannot (a defect of the pack, not of the account).
    """
    texts = (filter_patterns,) if isinstance(filter_patterns, str) else tuple(filter_patterns)
    result = _covers(texts, tuple(accepted_patterns))
    if result.missed is None:
        return result
    return dataclasses.replace(result, missed=copy.deepcopy(dict(result.missed)))


@functools.lru_cache(maxsize=4096)
def _covers(texts: tuple[str, ...], accepted_patterns: tuple[str, ...]) -> Coverage:
    filters = [parse(text) for text in texts]
    first_missed: dict[str, Any] | None = None
    for index, accepted in enumerate(accepted_patterns):
        node = _accepted(accepted)
        missed = next((event for event in _samples(accepted) if not any(evaluate(f, event) for f in filters)), None)
        if missed is None and normalize(node) not in {normalize(f) for f in filters}:
            missed = find_event(node, filters)
        if missed is None:
            return Coverage(True, accepted, None)
        if index == 0:
            first_missed = missed
    return Coverage(False, None, first_missed)
