"""Regular languages over Unicode text, for deciding CloudWatch Logs filter-pattern coverage.

Every string test a filter pattern can make (an exact value, a value with leading or trailing
``*``, a ``%regex%`` searched anywhere, an unstructured term that the raw event must contain)
defines a regular language. :func:`cells` explores the product of several such languages at
once and returns every combination of memberships that some string realises, each with a
shortest (readable) string that realises it. That is all the coverage engine needs: it is exact,
because the product automaton has finitely many states and breadth-first search visits all of
them.

Characters are handled as *classes*: the code-point intervals that the languages at hand tell
apart (every literal character, every range bound of a character class) split the alphabet into
finitely many classes, and all characters of one class behave alike in every automaton.

Regular expressions follow the subset CloudWatch Logs documents for filter patterns: literal
characters, ``.``, character classes with ranges and negation, the escapes ``\\d \\D \\w \\W
\\s \\S`` and escaped punctuation, the quantifiers ``* + ? {m} {m,} {m,n} {,n}`` (a trailing
``?`` makes one lazy, which does not change the language), ``|`` and the anchors ``^`` and
``$``. Parentheses are not supported by CloudWatch Logs and so not here. As in Python's ``re``
with ``re.ASCII``: ``.`` matches any character but ``\\n``; ``\\d`` is ``[0-9]``, ``\\w``
``[A-Za-z0-9_]``, ``\\s`` ``[ \\t\\n\\r\\f\\v]``. ``$`` means the end of the value *(choice: the
reading that matches fewer values; Python's ``$`` also matches before a final newline)*.

Flat module: standard library only.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "MAX_REPEAT",
    "Language",
    "RegexError",
    "cells",
    "contains",
    "exact",
    "glob",
    "python_regex",
    "search",
]

MAX_CODE_POINT: Final = 0x10FFFF
MAX_REPEAT: Final = 1000
ANY: Final = ((0, MAX_CODE_POINT),)
NEWLINE: Final = ord("\n")
DIGITS: Final = ((ord("0"), ord("9")),)
WORD: Final = ((ord("0"), ord("9")), (ord("A"), ord("Z")), (ord("_"), ord("_")), (ord("a"), ord("z")))
SPACE: Final = ((9, 13), (32, 32))
# Characters a witness prefers, in order, when a class holds several.
_READABLE: Final = "xyzabcdefghijklmnopqrstuvwABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/ "

CharSet = tuple[tuple[int, int], ...]


class RegexError(ValueError):
    """A regular expression outside the supported subset; ``position`` is 0-based."""

    def __init__(self, message: str, position: int) -> None:
        self.message = message
        self.position = position
        super().__init__(f"{message} (at position {position})")


def _normalise(intervals: Iterable[tuple[int, int]]) -> CharSet:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _complement(chars: CharSet) -> CharSet:
    result: list[tuple[int, int]] = []
    start = 0
    for lo, hi in chars:
        if lo > start:
            result.append((start, lo - 1))
        start = hi + 1
    if start <= MAX_CODE_POINT:
        result.append((start, MAX_CODE_POINT))
    return tuple(result)


def _single(char: str) -> CharSet:
    return ((ord(char), ord(char)),)


# ---------------------------------------------------------------------------------- automata


@dataclass
class _Nfa:
    """A Thompson NFA. Edges: character sets, epsilon, and the zero-width assertions "at the
    start" (``^``) and "at the end" (``$``)."""

    chars: list[list[tuple[CharSet, int]]] = field(default_factory=list)
    eps: list[list[int]] = field(default_factory=list)
    bol: list[list[int]] = field(default_factory=list)
    eol: list[list[int]] = field(default_factory=list)

    def state(self) -> int:
        self.chars.append([])
        self.eps.append([])
        self.bol.append([])
        self.eol.append([])
        return len(self.chars) - 1


@dataclass(frozen=True, eq=False)
class Language:
    """A regular language, as an NFA with a start and an accepting state. Subset-construction
    steps are memoised on the language, so a language is determinised once, lazily, as far as
    it is explored."""

    description: str
    nfa: _Nfa
    start: int
    accept: int
    _steps: dict[tuple[frozenset[int], int], frozenset[int]] = field(default_factory=dict, repr=False)
    _ends: dict[tuple[frozenset[int], bool], bool] = field(default_factory=dict, repr=False)

    def charsets(self) -> list[CharSet]:
        return [chars for edges in self.nfa.chars for chars, _ in edges]

    def closure(self, states: Iterable[int], at_start: bool, at_end: bool = False) -> frozenset[int]:
        seen = set(states)
        stack = list(seen)
        while stack:
            state = stack.pop()
            following = list(self.nfa.eps[state])
            if at_start:
                following += self.nfa.bol[state]
            if at_end:
                following += self.nfa.eol[state]
            for target in following:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        return frozenset(seen)

    def initial(self) -> frozenset[int]:
        return self.closure((self.start,), at_start=True)

    def step(self, states: frozenset[int], code: int) -> frozenset[int]:
        key = (states, code)
        found = self._steps.get(key)
        if found is None:
            moved = [target for state in states for chars, target in self.nfa.chars[state] if _in_charset(code, chars)]
            found = self._steps[key] = self.closure(moved, at_start=False)
        return found

    def accepts_at_end(self, states: frozenset[int], at_start: bool) -> bool:
        key = (states, at_start)
        found = self._ends.get(key)
        if found is None:
            found = self._ends[key] = self.accept in self.closure(states, at_start=at_start, at_end=True)
        return found

    def matches(self, text: str) -> bool:
        """Membership by simulation (``tests/test_coverage_decision.py`` checks it against ``re``)."""
        states = self.initial()
        for char in text:
            states = self.step(states, ord(char))
        return self.accepts_at_end(states, at_start=text == "")


def _in_charset(code: int, chars: CharSet) -> bool:
    index = bisect.bisect_right(chars, (code, MAX_CODE_POINT)) - 1
    return index >= 0 and chars[index][0] <= code <= chars[index][1]


class _Builder:
    def __init__(self) -> None:
        self.nfa = _Nfa()

    def literal(self, text: str) -> tuple[int, int]:
        start = self.nfa.state()
        current = start
        for char in text:
            nxt = self.nfa.state()
            self.nfa.chars[current].append((_single(char), nxt))
            current = nxt
        return start, current

    def charset(self, chars: CharSet) -> tuple[int, int]:
        start, end = self.nfa.state(), self.nfa.state()
        if chars:
            self.nfa.chars[start].append((chars, end))
        return start, end

    def any_string(self) -> tuple[int, int]:
        state = self.nfa.state()
        self.nfa.chars[state].append((ANY, state))
        return state, state

    def concat(self, parts: Sequence[tuple[int, int]]) -> tuple[int, int]:
        if not parts:
            state = self.nfa.state()
            return state, state
        for (_, end), (start, _) in itertools.pairwise(parts):
            self.nfa.eps[end].append(start)
        return parts[0][0], parts[-1][1]

    def union(self, parts: Sequence[tuple[int, int]]) -> tuple[int, int]:
        start, end = self.nfa.state(), self.nfa.state()
        for part_start, part_end in parts:
            self.nfa.eps[start].append(part_start)
            self.nfa.eps[part_end].append(end)
        return start, end

    def language(self, description: str, fragment: tuple[int, int]) -> Language:
        return Language(description, self.nfa, fragment[0], fragment[1])


@functools.lru_cache(maxsize=1024)
def exact(text: str) -> Language:
    """The one string ``text``."""
    builder = _Builder()
    return builder.language(f"= {text!r}", builder.literal(text))


@functools.lru_cache(maxsize=1024)
def glob(text: str, leading: bool, trailing: bool) -> Language:
    """``text`` with any string before it (``leading``) and/or after it (``trailing``)."""
    builder = _Builder()
    parts = []
    if leading:
        parts.append(builder.any_string())
    parts.append(builder.literal(text))
    if trailing:
        parts.append(builder.any_string())
    return builder.language(f"glob {text!r}", builder.concat(parts))


@functools.lru_cache(maxsize=1024)
def contains(text: str) -> Language:
    """Every string that contains ``text``."""
    return glob(text, True, True)


# ----------------------------------------------------------------------------- regex parser


@dataclass(frozen=True)
class _Item:
    kind: str  # "chars", "bol", "eol"
    chars: CharSet = ()
    low: int = 1
    high: int | None = 1  # None: unbounded
    quantified: bool = False


_CLASS_ESCAPES: Final[dict[str, CharSet]] = {
    "d": DIGITS,
    "D": _complement(DIGITS),
    "w": WORD,
    "W": _complement(WORD),
    "s": SPACE,
    "S": _complement(SPACE),
}
_CONTROL_ESCAPES: Final[dict[str, str]] = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}


class _RegexParser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def error(self, message: str, position: int | None = None) -> RegexError:
        return RegexError(message, self.pos if position is None else position)

    def parse(self) -> list[list[_Item]]:
        alternatives: list[list[_Item]] = [[]]
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "|":
                self.pos += 1
                alternatives.append([])
                continue
            if char in "()":
                raise self.error("parentheses are not supported in filter-pattern regular expressions")
            if not char.isascii() or not char.isprintable():
                raise self.error(f"character {char!r} is not supported in regular expressions")
            items = alternatives[-1]
            if char in "*+?" or (char == "{" and self.quantifier_ahead()):
                if not items or items[-1].kind != "chars":
                    raise self.error("nothing to repeat")
                if items[-1].quantified:
                    raise self.error("multiple repeat")
                low, high = self.parse_quantifier()
                items[-1] = _Item("chars", items[-1].chars, low, high, quantified=True)
                continue
            if char == "^":
                self.pos += 1
                items.append(_Item("bol"))
            elif char == "$":
                self.pos += 1
                items.append(_Item("eol"))
            elif char == ".":
                self.pos += 1
                items.append(_Item("chars", _complement(((NEWLINE, NEWLINE),))))
            elif char == "[":
                items.append(_Item("chars", self.parse_class()))
            elif char == "\\":
                items.append(_Item("chars", self.parse_escape(in_class=False)))
            else:
                self.pos += 1
                items.append(_Item("chars", _single(char)))
        return alternatives

    def quantifier_ahead(self) -> bool:
        end = self.text.find("}", self.pos)
        if end < 0:
            return False
        body = self.text[self.pos + 1 : end]
        low, comma, high = body.partition(",")
        return bool((low.isdigit() or (comma and not low)) and (high.isdigit() or not high) and (low or high))

    def parse_quantifier(self) -> tuple[int, int | None]:
        start = self.pos
        char = self.text[self.pos]
        if char == "{":
            end = self.text.index("}", self.pos)
            body = self.text[self.pos + 1 : end]
            self.pos = end + 1
            low_text, comma, high_text = body.partition(",")
            low = int(low_text) if low_text else 0
            high: int | None = (int(high_text) if high_text else None) if comma else low
            if high is not None and high < low:
                raise self.error("min repeat greater than max repeat", start)
            if low > MAX_REPEAT or (high is not None and high > MAX_REPEAT):
                raise self.error(f"repeat counts above {MAX_REPEAT} are not supported", start)
        else:
            self.pos += 1
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        if self.text[self.pos : self.pos + 1] == "?":
            self.pos += 1  # lazy: same language
        elif self.text[self.pos : self.pos + 1] == "+":
            raise self.error("possessive quantifiers are not supported")
        return low, high

    def parse_escape(self, in_class: bool) -> CharSet:
        start = self.pos
        if self.pos + 1 >= len(self.text):
            raise self.error("bad escape (end of pattern)", start)
        char = self.text[self.pos + 1]
        self.pos += 2
        if char in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[char]
        if char in _CONTROL_ESCAPES:
            return _single(_CONTROL_ESCAPES[char])
        if char.isalnum():
            raise self.error(f"escape \\{char} is not supported", start)
        return _single(char)

    def parse_class(self) -> CharSet:
        start = self.pos
        self.pos += 1
        negate = self.text[self.pos : self.pos + 1] == "^"
        if negate:
            self.pos += 1
        intervals: list[tuple[int, int]] = []
        first = True
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated character class", start)
            char = self.text[self.pos]
            if char == "]" and not first:
                self.pos += 1
                break
            first = False
            if char in "()":
                raise self.error("parentheses are not supported in filter-pattern regular expressions")
            if not char.isascii() or not char.isprintable():
                raise self.error(f"character {char!r} is not supported in regular expressions")
            low_set = self.parse_escape(in_class=True) if char == "\\" else self.take(char)
            if (
                len(low_set) == 1
                and low_set[0][0] == low_set[0][1]
                and self.text[self.pos : self.pos + 1] == "-"
                and self.text[self.pos + 1 : self.pos + 2] not in ("]", "")
            ):
                range_start = self.pos
                self.pos += 1
                high_char = self.text[self.pos]
                high_set = self.parse_escape(in_class=True) if high_char == "\\" else self.take(high_char)
                if len(high_set) != 1 or high_set[0][0] != high_set[0][1]:
                    raise self.error("bad character range", range_start)
                if high_set[0][0] < low_set[0][0]:
                    raise self.error("bad character range", range_start)
                intervals.append((low_set[0][0], high_set[0][0]))
            else:
                intervals.extend(low_set)
        chars = _normalise(intervals)
        return _complement(chars) if negate else chars

    def take(self, char: str) -> CharSet:
        self.pos += 1
        return _single(char)


@functools.lru_cache(maxsize=512)
def _parse_regex(pattern: str) -> tuple[tuple[_Item, ...], ...]:
    if not pattern:
        raise RegexError("empty regular expression", 0)
    return tuple(tuple(alternative) for alternative in _RegexParser(pattern).parse())


def check_regex(pattern: str) -> None:
    """Raise :class:`RegexError` unless ``pattern`` is in the supported subset."""
    _parse_regex(pattern)


@functools.lru_cache(maxsize=512)
def search(pattern: str) -> Language:
    """Every string in which the regular expression finds a match (``re.search`` semantics)."""
    alternatives = _parse_regex(pattern)
    builder = _Builder()
    nfa = builder.nfa
    branches = []
    for alternative in alternatives:
        parts = []
        for item in alternative:
            if item.kind in {"bol", "eol"}:
                start, end = nfa.state(), nfa.state()
                (nfa.bol if item.kind == "bol" else nfa.eol)[start].append(end)
                parts.append((start, end))
            else:
                parts.append(_repeat(builder, item.chars, item.low, item.high))
        branches.append(builder.concat(parts))
    fragment = builder.concat([builder.any_string(), builder.union(branches), builder.any_string()])
    return builder.language(f"%{pattern}%", fragment)


def _repeat(builder: _Builder, chars: CharSet, low: int, high: int | None) -> tuple[int, int]:
    parts = [builder.charset(chars) for _ in range(low)]
    if high is None:
        loop_start, loop_end = builder.nfa.state(), builder.nfa.state()
        inner = builder.charset(chars)
        builder.nfa.eps[loop_start] += [inner[0], loop_end]
        builder.nfa.eps[inner[1]].append(loop_start)
        parts.append((loop_start, loop_end))
    else:
        for _ in range(high - low):
            optional_start, optional_end = builder.nfa.state(), builder.nfa.state()
            inner = builder.charset(chars)
            builder.nfa.eps[optional_start] += [inner[0], optional_end]
            builder.nfa.eps[inner[1]].append(optional_end)
            parts.append((optional_start, optional_end))
    return builder.concat(parts)


def python_regex(pattern: str) -> str:
    """The same regular expression for Python's ``re`` (``$`` becomes ``\\Z``: end of value)."""
    _parse_regex(pattern)
    out: list[str] = []
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            if char == "]" and not (out and out[-1] in ("[", "[^")):
                in_class = False
            out.append(char)
        elif char == "[":
            in_class = True
            if pattern[index + 1 : index + 2] == "^":
                out.append("[^")
                index += 2
                continue
            out.append(char)
        elif char == "$":
            out.append(r"\Z")
        else:
            out.append(char)
        index += 1
    return "".join(out)


# ------------------------------------------------------------------------------------ cells


@dataclass(frozen=True)
class Cell:
    """A combination of memberships (one bool per language) and a shortest string realising it."""

    memberships: tuple[bool, ...]
    example: str


def _classes(languages: Sequence[Language], extra_chars: str) -> list[int]:
    """One representative code point per class of characters that no language tells apart."""
    bounds = {0}
    for language in languages:
        for chars in language.charsets():
            for lo, hi in chars:
                bounds.add(lo)
                if hi < MAX_CODE_POINT:
                    bounds.add(hi + 1)
    for char in extra_chars:
        bounds.add(ord(char))
        bounds.add(ord(char) + 1)
    starts = sorted(bound for bound in bounds if bound <= MAX_CODE_POINT)
    representatives = []
    for index, lo in enumerate(starts):
        hi = starts[index + 1] - 1 if index + 1 < len(starts) else MAX_CODE_POINT
        representatives.append(_readable(lo, hi))
    # Breadth-first search tries characters in this order, so examples read naturally.
    return sorted(representatives, key=lambda code: (_READABLE.find(chr(code)) % 1000, code))


def _readable(lo: int, hi: int) -> int:
    for char in _READABLE:
        if lo <= ord(char) <= hi:
            return ord(char)
    for code in range(max(lo, 0x21), min(hi, 0x7E) + 1):
        return code
    return lo


def cells(languages: Sequence[Language], limit: int = 200_000) -> list[Cell]:
    """Every membership combination over ``languages`` that some string realises.

    Breadth-first over the product of the languages' subset automata, so each cell's example is
    a shortest string (a non-empty one is preferred when the empty string is the only shortest).
    Raises ``OverflowError`` when the product exceeds ``limit`` states.
    """
    if not languages:
        return [Cell((), "x")]
    codes = _classes(languages, _READABLE[:3])
    steppers = [language.step for language in languages]
    dead: frozenset[int] = frozenset()

    # A product state also records whether no character has been read yet: "^" holds only then.
    State = tuple[bool, tuple[frozenset[int], ...]]
    start: State = (True, tuple(language.initial() for language in languages))
    parents: dict[State, tuple[State, int] | None] = {start: None}
    queue: deque[State] = deque([start])
    found: dict[tuple[bool, ...], State] = {}
    while queue:
        state = queue.popleft()
        at_start, parts = state
        vector = tuple(language.accepts_at_end(part, at_start) for language, part in zip(languages, parts, strict=True))
        previous = found.get(vector)
        if previous is None or (previous == start and state != start):
            found[vector] = state
        for code in codes:
            nxt: State = (
                False,
                tuple(dead if not part else stepper(part, code) for stepper, part in zip(steppers, parts, strict=True)),
            )
            if nxt not in parents:
                if len(parents) >= limit:
                    raise OverflowError(f"more than {limit} automaton states")
                parents[nxt] = (state, code)
                queue.append(nxt)
    result = []
    for vector, state in found.items():
        chars: list[str] = []
        cursor = state
        while (link := parents[cursor]) is not None:
            cursor, code = link
            chars.append(chr(code))
        result.append(Cell(vector, "".join(reversed(chars))))
    return result
