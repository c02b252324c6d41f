"""Whether CloudWatch Logs metric filters cover a CIS control's filter pattern: decided exactly.

Filters *cover* a pattern P when every log event that P matches is matched by at least one of
them (several filters publishing one metric count as their union: CloudWatch counts an event
for each filter that matches it, so an alarm on the metric fires for any of them). Equivalently,
no event satisfies ``P and not F1 and not F2 ...``. :func:`find_event` decides that formula and,
when it is satisfiable, returns such an event: the *witness* named in NON_COMPLIANT annotations.

The procedure is a DPLL-style search over the formula's atoms (sound and complete over the event
model below), whose cost follows the question rather than the product of every test on a field:

1. **Atoms.** Every comparison or check of P and of the filters is an atom about one field
   (selector); every term of a term pattern is an atom about the raw text.
2. **Branching.** The search picks an atom the formula still depends on (P's first, in the order
   they are written), assumes it true or false, and evaluates the formula in three-valued logic:
   a branch where it is already false is dropped, one where it is already true ends in an event.
3. **Lazy emptiness checks.** After each assumption the field of the atom is checked: is there a
   value (absent, ``null``, ``true``, ``false``, an object, an array, a number or a string) on
   which every atom assumed so far about that field has its assumed truth? For strings this is
   the emptiness of an intersection of regular languages and complements, decided by
   ``cis_regular.witness`` on the fly, explored only as far as the question needs, memoised per
   set of assumptions, and skipped when the previous witness string still fits. Nested fields
   and array elements are checked together (a field inside a value that is not an object is
   absent; array elements are present from index 0 up).
4. **Propagation.** An atom that pins its field to one value (``= "CreateTrail"``, ``IS NULL``,
   ``NOT EXISTS``) settles every other atom about that field, and about the fields nested in it,
   by evaluating them on that value: a list of event names costs one branch per name, whatever
   the filters test besides.
5. **Raw text.** Term atoms assumed false keep their text out of every string value; a term
   assumed true is written in one extra field. The finished event is checked with the reference
   evaluator (``cis_filter_pattern.evaluate``): P matches it and no filter does. An event that
   fails that check (a term found across JSON punctuation) is not a witness; a search that then
   finds none cannot claim coverage and reports the question undecided.

Bounds. Every decision runs under a :class:`cis_regular.Budget`: seconds (the caller ties them
to the Lambda deadline) and automaton states (each stored product state costs the size of its
subsets, a memory bound). A decision beyond it is *undecided*: :func:`covers` says so in
``Coverage.undecided`` and never credits coverage; the rule then reports "Could not evaluate".
Regular expressions whose repeats spell out more than ``cis_regular.MAX_REGEX_POSITIONS``
positions are refused when the filter is read.

Event model and its limits (docs/rules.md, "How the pack decides that a metric filter covers a CIS
control"): values of a field compared both numerically and by text (a wildcard or regex on a
JSON number) are drawn from the constants the patterns name and their neighbours, not from all
numbers; a term that could only be found across JSON punctuation (``a":"b``) is not constructed.
Neither form appears in CIS or CloudTrail filters. Numbers tried stay below :data:`NUMBER_BOUND`
(10^15): a search over patterns comparing with a larger number that finds no event is undecided.

Flat module: imports only the standard library, ``cis_regular`` and ``cis_filter_pattern``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
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
from cis_regular import Budget, Language, Undecided, contains, exact, glob, search, witness

__all__ = [
    "DECISION_SECONDS",
    "DECISION_STATES",
    "Coverage",
    "TooComplex",
    "covers",
    "find_event",
    "sample_events",
]

#: Seconds one decision may take at most (less when the invocation has less time left).
DECISION_SECONDS: Final = 10.0
#: Automaton-state units one decision may hold (about 30 MB at worst).
DECISION_STATES: Final = 1_000_000


class TooComplex(FilterPatternError):
    """The question could not be decided within its budget (:func:`find_event` only; :func:`covers`
    reports it in :attr:`Coverage.undecided`)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"could not decide {reason}", 0)


#: Numbers the search tries for a field stay below this size (a double holds every integer below it
#: exactly); a pattern comparing with a larger one cannot be shown to have no event.
NUMBER_BOUND: Final = 10**15
# How many events of P a filter is tried against before the full search (per accepted pattern),
# and what finding them may spend (the pack's own patterns: far below it).
_SAMPLES: Final = 12
_SAMPLE_STATES: Final = 200_000
# Keys tried for the extra field that carries terms a witness must contain.
_EXTRA_KEYS: Final = ("note", "x-note", "extra", "zz")


@dataclass(frozen=True)
class Coverage:
    covered: bool
    accepted: str | None
    """The accepted pattern that the filters cover, if any."""
    missed: Mapping[str, Any] | None = field(default=None, hash=False)
    """When not covered: an event the first accepted pattern matches and no filter does."""
    undecided: str | None = None
    """When the decision ran out of budget: why (completes "could not decide ...")."""


@dataclass(frozen=True, slots=True)
class _Not(Node):
    operand: Node


_ABSENT: Final = object()
_NO_PIN: Final = object()

Atom = Comparison | Check | Term
Path = tuple[str | int, ...]

# Kinds of JSON value a field can hold, in the order a witness prefers them.
KINDS: Final = ("string", "number", "null", "true", "false", "object", "array", "absent")
_CONSTANTS: Final[dict[str, Any]] = {"null": None, "true": True, "false": False, "object": {}, "array": []}


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


def _pick(node: Any, truth: Callable[[Atom], bool | None], positive: bool = True) -> tuple[Atom, bool] | None:
    """An unassigned atom the formula's value still depends on, and the truth to try first
    (the one that helps the formula hold: true under P, false under a negated filter)."""
    if isinstance(node, And | Or):
        for operand in node.operands:
            if _eval3(operand, truth) is None:
                found = _pick(operand, truth, positive)
                if found is not None:
                    return found
        return None
    if isinstance(node, _Not):
        return _pick(node.operand, truth, not positive)
    if isinstance(node, Terms):
        for term in (*node.required, *node.any_of):
            if truth(term) is None:
                return term, positive
        for term in node.excluded:
            if truth(term) is None:
                return term, not positive
        return None
    if isinstance(node, Comparison | Check) and truth(node) is None:
        return node, positive
    return None


# --------------------------------------------------------------------------- one field's values


def _single(path: Path, value: Any) -> dict[str, Any]:
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


def _language(leaf: Comparison) -> Language:
    """The strings an ``=`` comparison accepts (what ``!=`` refuses): for a number, its text."""
    value = leaf.value
    if isinstance(value, RegexValue):
        return search(value.pattern)
    if isinstance(value, NumberValue):
        return exact(value.text)
    if value.is_any:
        return glob("", True, False)
    if not value.leading_wildcard and not value.trailing_wildcard:
        return exact(value.text)
    return glob(value.core, value.leading_wildcard, value.trailing_wildcard)


def _term_language(term: Term) -> Language:
    return search(term.text) if term.regex else contains(term.text)


def _numbers(leaves: Sequence[Atom]) -> tuple[list[int | float], bool]:
    """Numbers for a field: the constants its tests name and their neighbours, below
    :data:`NUMBER_BOUND` in size; and whether a constant was left out for being beyond it."""
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
    within = sorted(number for number in found if number.is_finite() and abs(number) < NUMBER_BOUND)
    numbers: list[int | float] = []
    for base in within:
        for delta in (Decimal(0), Decimal(1), Decimal(-1), Decimal("0.5"), Decimal("-0.5")):
            number = base + delta
            numbers.append(int(number) if number == number.to_integral_value() else float(number))
    return numbers, len(within) < len(found)


def _pin(atom: Atom, truth: bool) -> Any:
    """The one value an assumption leaves its field, or ``_NO_PIN`` when it leaves several."""
    if not truth or isinstance(atom, Term):
        return _NO_PIN
    if isinstance(atom, Check):
        return {"NOT EXISTS": _ABSENT, "IS NULL": None, "IS TRUE": True, "IS FALSE": False}[atom.kind]
    value = atom.value
    if atom.operator == "=" and isinstance(value, StringValue):
        text = _language(atom).literal
        # A text that reads as a number also matches JSON numbers: not one value then.
        if text is not None and not _looks_numeric(text):
            return text
    return _NO_PIN


def _looks_numeric(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


@dataclass(frozen=True)
class _Field:
    """What the assumptions about one field allow: its kinds and, per kind, an example."""

    kinds: frozenset[str]
    string: str | None
    number: int | float | None

    def value(self, kind: str) -> Any:
        """An example of ``kind``: never "absent", which the witness writes as no key at all."""
        if kind == "string":
            return self.string
        if kind == "number":
            return self.number
        return copy.deepcopy(_CONSTANTS[kind])


# ------------------------------------------------------------------------------- the search


class _Search:
    """The DPLL search for an event satisfying ``formula`` (and accepted by ``check``)."""

    def __init__(self, formula: Any, check: Callable[[Mapping[str, Any]], bool], budget: Budget) -> None:
        self.formula = formula
        self.check = check
        self.budget = budget
        atoms = list(dict.fromkeys(_atoms(formula)))
        self.terms = [atom for atom in atoms if isinstance(atom, Term)]
        self.by_path: dict[Path, list[Comparison | Check]] = {}
        for atom in atoms:
            if isinstance(atom, Comparison | Check):
                self.by_path.setdefault(atom.selector.path, []).append(atom)
        ordered: list[Path] = []
        for path in self.by_path:
            ordered += [path[:end] for end in range(1, len(path) + 1) if path[:end] not in ordered]
        self.paths = ordered
        self.numbers: dict[Path, list[int | float]] = {}
        #: A constant beyond the numbers tried: finding no event then proves nothing.
        self.beyond = False
        for path, path_atoms in self.by_path.items():
            self.numbers[path], beyond = _numbers(path_atoms)
            self.beyond = self.beyond or beyond
        self.assignment: dict[Atom, bool] = {}
        self.fields: dict[Path, _Field] = {}
        self.memo: dict[tuple[Path, frozenset[tuple[Atom, bool]], frozenset[Term]], _Field | None] = {}
        self.strings: dict[tuple[frozenset[Language], frozenset[Language]], str | None] = {}
        self.tables: dict[Path, list[tuple[str, Any, dict[Atom, bool]]]] = {}
        self.inexact = False

    # ---------------------------------------------------------------- the truth of the atoms

    def truth(self, atom: Atom) -> bool | None:
        return self.assignment.get(atom)

    def false_terms(self) -> frozenset[Term]:
        return frozenset(term for term in self.terms if self.assignment.get(term) is False)

    # ------------------------------------------------------------------- emptiness checks

    def string_witness(self, positives: list[Language], negatives: list[Language], hint: str | None) -> str | None:
        key = (frozenset(positives), frozenset(negatives))
        if key not in self.strings:
            if hint is not None and all(lang.matches(hint) for lang in positives):
                if not any(lang.matches(hint) for lang in negatives):
                    self.strings[key] = hint
                    return hint
            self.strings[key] = witness(positives, negatives, self.budget)
        return self.strings[key]

    def field(self, path: Path) -> _Field | None:
        """The values the assumptions about ``path`` allow, or ``None`` when none is."""
        literals = frozenset(
            (atom, self.assignment[atom]) for atom in self.by_path.get(path, ()) if atom in self.assignment
        )
        excluded = self.false_terms()
        key = (path, literals, excluded)
        if key in self.memo:
            return self.memo[key]
        self.budget.charge()
        kinds: set[str] = set()
        positives: list[Language] = []
        negatives: list[Language] = [_term_language(term) for term in excluded]
        string_possible = True
        for atom, truth in literals:
            if isinstance(atom, Check) or atom.operator not in ("=", "!="):
                string_possible = string_possible and not truth
                continue
            member = truth if atom.operator == "=" else not truth
            (positives if member else negatives).append(_language(atom))
        string = None
        if string_possible:
            previous = self.fields.get(path)
            string = self.string_witness(positives, negatives, previous.string if previous else None)
            if string is not None:
                kinds.add("string")
        number = None
        for kind, value, truths in self.examples(path):
            if kind in kinds or not all(truths[atom] is truth for atom, truth in literals):
                continue
            kinds.add(kind)
            if kind == "number":
                number = value
        found = _Field(frozenset(kinds), string, number) if kinds else None
        self.memo[key] = found
        return found

    def structure(self) -> dict[Path, frozenset[str]] | None:
        """Each field's kinds once nesting is respected, or ``None`` when they conflict."""
        kinds = {path: set(self.fields[path].kinds) if path in self.fields else set(KINDS) for path in self.paths}
        changed = True
        while changed:
            changed = False
            for path in self.paths:
                if len(path) > 1:
                    parent = path[:-1]
                    container = "array" if isinstance(path[-1], int) else "object"
                    if "absent" not in kinds[path] and kinds[parent] - {container}:
                        kinds[parent] &= {container}
                        changed = True
                    if container not in kinds[parent] and kinds[path] - {"absent"}:
                        kinds[path] &= {"absent"}
                        changed = True
                if isinstance(path[-1], int):
                    for other in self.paths:
                        if len(other) == len(path) and other[:-1] == path[:-1] and isinstance(other[-1], int):
                            lower, higher = (other, path) if other[-1] < path[-1] else (path, other)
                            if lower == higher:
                                continue
                            if "absent" not in kinds[higher] and "absent" in kinds[lower]:
                                kinds[lower].discard("absent")
                                changed = True
                            if kinds[lower] == {"absent"} and kinds[higher] - {"absent"}:
                                kinds[higher] &= {"absent"}
                                changed = True
                if any(not found for found in kinds.values()):
                    return None
        return {path: frozenset(found) for path, found in kinds.items()}

    def examples(self, path: Path) -> list[tuple[str, Any, dict[Atom, bool]]]:
        """Each candidate value of the kinds other than string (the numbers first), with the
        truth of every atom about ``path`` on it: evaluated once per search."""
        found = self.tables.get(path)
        if found is None:
            candidates = [("number", n) for n in self.numbers.get(path, ())] + [
                (kind, _CONSTANTS.get(kind, _ABSENT)) for kind in ("null", "true", "false", "object", "array", "absent")
            ]
            found = []
            for kind, value in candidates:
                event = _single(path, value)
                found.append((kind, value, {atom: evaluate(atom, event) for atom in self.by_path.get(path, ())}))
            self.tables[path] = found
        return found

    def consistent(self, paths: Sequence[Path]) -> bool:
        for path in paths:
            found = self.field(path)
            if found is None:
                return False
            self.fields[path] = found
        raw = [term for term in self.terms if self.assignment.get(term) is True]
        if raw and self.raw_witness(raw) is None:
            return False
        return self.structure() is not None

    def raw_witness(self, wanted: Sequence[Term]) -> str | None:
        positives = [_term_language(term) for term in wanted]
        negatives = [_term_language(term) for term in self.false_terms()]
        return self.string_witness(positives, negatives, None)

    # ------------------------------------------------------------------------- assumptions

    def assume(self, atom: Atom, truth: bool) -> list[Atom] | None:
        """Assume ``atom`` has ``truth``, with what it settles; the atoms assigned, or ``None``
        (nothing assigned) when the assumptions then conflict."""
        assigned: list[Atom] = [atom]
        self.assignment[atom] = truth
        touched: list[Path]
        if isinstance(atom, Term):
            touched = list(self.by_path) if not truth else []
        else:
            path = atom.selector.path
            touched = [path]
            pinned = _pin(atom, truth)
            if pinned is not _NO_PIN:
                # Fields nested in a pinned one are absent: it is not an object or array.
                for other_path, atoms in self.by_path.items():
                    if other_path[: len(path)] != path:
                        continue
                    event = _single(other_path, pinned if other_path == path else _ABSENT)
                    for other in atoms:
                        if other not in self.assignment:
                            self.assignment[other] = evaluate(other, event)
                            assigned.append(other)
                    if other_path not in touched:
                        touched.append(other_path)
        saved = dict(self.fields)
        # A branch the formula already rejects needs no emptiness check.
        if _eval3(self.formula, self.truth) is not False and self.consistent(touched):
            return assigned
        self.fields = saved
        for done in assigned:
            del self.assignment[done]
        return None

    def retract(self, assigned: Sequence[Atom], saved: Mapping[Path, _Field]) -> None:
        for atom in assigned:
            del self.assignment[atom]
        self.fields = dict(saved)

    def solutions(self) -> Iterator[dict[str, Any]]:
        self.budget.charge()
        value = _eval3(self.formula, self.truth)
        if value is False:
            return
        if value is True:
            event = self.build()
            if event is not None:
                yield event
            return
        choice = _pick(self.formula, self.truth)
        assert choice is not None  # an undetermined formula depends on an unassigned atom
        atom, first = choice
        for truth in (first, not first):
            saved = dict(self.fields)
            assigned = self.assume(atom, truth)
            if assigned is None:
                continue
            yield from self.solutions()
            self.retract(assigned, saved)

    # ------------------------------------------------------------------------ the witness

    def build(self) -> dict[str, Any] | None:
        for path in self.by_path:
            if path not in self.fields:
                found = self.field(path)
                if found is None:
                    return self.inexact_leaf()
                self.fields[path] = found
        kinds = self.structure()
        if kinds is None:
            return None
        chosen: dict[Path, str] = {}
        event: dict[str, Any] = {}
        for path in sorted(self.paths, key=len):
            allowed = kinds[path]
            kind = "absent"
            if len(path) == 1 or chosen[path[:-1]] == ("array" if isinstance(path[-1], int) else "object"):
                # An element after an absent one is absent too: structure() has left it nothing else.
                order = KINDS if path in self.by_path else ("object", "array", "absent")
                kind = next(k for k in order if k in allowed)
            if kind not in allowed:
                return self.inexact_leaf()
            chosen[path] = kind
            if kind == "absent":
                continue
            container: Any = event
            for step in path[:-1]:
                container = container[step]
            value = self.fields[path].value(kind) if path in self.fields else copy.deepcopy(_CONSTANTS[kind])
            _put(container, path[-1], value)
        wanted = [term for term in self.terms if self.assignment.get(term) is True]
        if wanted:
            text = raw_text(event)
            missing = [term for term in wanted if not term.found_in(text)]
            if missing:
                key = next((key for key in _EXTRA_KEYS if key not in event), None)
                extra = self.raw_witness(missing)
                if key is None or extra is None:
                    return self.inexact_leaf()
                event[key] = extra
        if not self.check(event):
            return self.inexact_leaf()
        return event

    def inexact_leaf(self) -> dict[str, Any] | None:
        """A leaf whose event could not be built as assumed: not a witness, and the search can
        no longer claim that no event exists."""
        self.inexact = True
        return None


# ---------------------------------------------------------------------------------- the API


def _budget() -> Budget:
    return Budget(DECISION_SECONDS, DECISION_STATES)


def _first(search_: _Search) -> dict[str, Any] | None:
    try:
        found = next(search_.solutions(), None)
    except RecursionError:
        raise Undecided("within the search's depth bound") from None
    if found is None and search_.inexact:
        raise Undecided("exactly: an event the search built was not matched as its assumptions said")
    if found is None and search_.beyond:
        raise Undecided(
            "exactly: the patterns compare with a number of 10^15 or more, beyond the numbers the search tries"
        )
    return found


def find_event(pattern: Node, excluded: Sequence[Node] = (), budget: Budget | None = None) -> dict[str, Any] | None:
    """An event that ``pattern`` matches and none of ``excluded`` does, or ``None`` if none exists.
    Raises :class:`TooComplex` when that cannot be decided within ``budget``."""
    formula: Node = And((pattern, *(_Not(node) for node in excluded))) if excluded else pattern

    def check(event: Mapping[str, Any]) -> bool:
        return evaluate(pattern, event) and not any(evaluate(node, event) for node in excluded)

    try:
        return _first(_Search(formula, check, budget or _budget()))
    except Undecided as error:
        raise TooComplex(error.reason) from None


@functools.lru_cache(maxsize=64)
def _accepted(pattern: str) -> Node:
    try:
        return parse(pattern)
    except FilterPatternError as error:
        raise ValueError(f"accepted pattern {pattern!r} is not a valid filter pattern: {error}") from error


@functools.lru_cache(maxsize=64)
def _samples(pattern: str) -> tuple[dict[str, Any], ...]:
    """The first few events the search finds for the accepted pattern, each from other branches."""
    node = _accepted(pattern)
    search_ = _Search(node, lambda event: evaluate(node, event), Budget(DECISION_SECONDS, _SAMPLE_STATES))
    found: list[dict[str, Any]] = []
    try:
        found.extend(itertools.islice(search_.solutions(), _SAMPLES))
    except Undecided:  # samples are a shortcut only; the decision itself runs the full search
        pass
    return tuple(found)


def sample_events(accepted_pattern: str) -> list[dict[str, Any]]:
    """A few distinct events the accepted pattern matches (copies), as tried before the search."""
    return copy.deepcopy(list(_samples(accepted_pattern)))


def covers(
    filter_patterns: str | Sequence[str] | Sequence[Node],
    accepted_patterns: Sequence[str],
    seconds: float | None = None,
) -> Coverage:
    """Whether the filters (one pattern, or several publishing one metric: their union; as text
    or parsed) match every event that one of ``accepted_patterns`` matches.

    ``seconds`` caps the decision's time (default :data:`DECISION_SECONDS`); a decision beyond
    its budget returns ``Coverage(False, None, None, undecided=<why>)``. Raises
    :class:`FilterPatternError` when a filter pattern cannot be parsed, and ``ValueError`` when
    an accepted pattern cannot (a defect of the pack, not of the account).
    """
    items = (filter_patterns,) if isinstance(filter_patterns, str) else tuple(filter_patterns)
    filters: tuple[Node, ...] = tuple(item if isinstance(item, Node) else parse(str(item)) for item in items)
    key = (filters, tuple(accepted_patterns))
    result = _DECIDED.get(key)
    if result is None:
        result = _decide(filters, key[1], Budget(DECISION_SECONDS if seconds is None else seconds, DECISION_STATES))
        if result.undecided is None:
            if len(_DECIDED) >= _DECIDED_SIZE:
                _DECIDED.clear()
            _DECIDED[key] = result
    if result.missed is None:
        return result
    return dataclasses.replace(result, missed=copy.deepcopy(dict(result.missed)))


# Decided questions only: an undecided one may be decided by a later invocation with more time.
_DECIDED: dict[tuple[tuple[Node, ...], tuple[str, ...]], Coverage] = {}
_DECIDED_SIZE: Final = 4096


def _decide(filters: tuple[Node, ...], accepted_patterns: tuple[str, ...], budget: Budget) -> Coverage:
    first_missed: dict[str, Any] | None = None
    for index, accepted in enumerate(accepted_patterns):
        node = _accepted(accepted)
        missed = next((event for event in _samples(accepted) if not any(evaluate(f, event) for f in filters)), None)
        if missed is None and normalize(node) not in {normalize(f) for f in filters}:
            formula = And((node, *(_Not(f) for f in filters)))

            def check(event: Mapping[str, Any], node: Node = node) -> bool:
                return evaluate(node, event) and not any(evaluate(f, event) for f in filters)

            try:
                missed = _first(_Search(formula, check, budget))
            except Undecided as error:
                return Coverage(False, None, undecided=error.reason)
        if missed is None:
            return Coverage(True, accepted)
        if index == 0:
            first_missed = missed
    return Coverage(False, None, first_missed)


def clear_caches() -> None:
    """Forget every decided question (benchmarks and tests measure cold decisions)."""
    _DECIDED.clear()
    _samples.cache_clear()
