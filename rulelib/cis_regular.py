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
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "MAX_BOUNDED_REPEATS",
    "MAX_REGEX_POSITIONS",
    "MAX_REPEAT",
    "Budget",
    "Language",
    "RegexError",
    "Undecided",
    "contains",
    "exact",
    "glob",
    "python_regex",
    "search",
    "witness",
]

MAX_CODE_POINT: Final = 0x10FFFF
MAX_REPEAT: Final = 1000
#: Characters the bounded repeats (``{m,n}`` with n > 1) of one regular expression may spell out,
#: and character positions the whole expression may spell out once they are expanded.
MAX_BOUNDED_REPEATS: Final = 64
MAX_REGEX_POSITIONS: Final = 1024
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
    steps are memoised on the language (a bounded cache), so a language is determinised lazily,
    only as far as a question explores it. Subsets keep only *live* states (those from which the
    accepting state can be reached): a subset that becomes empty is a dead end."""

    description: str
    nfa: _Nfa
    start: int
    accept: int
    literal: str | None = None
    """The one string of the language, when it has exactly one (``exact``)."""
    middle: tuple[str, str] | None = None
    """For a language of strings that contain something (``contains``, ``search``): what, as
    ``("text", ...)`` or ``("regex", ...)``, so that a union of such languages shares one
    automaton with one leading and one trailing ``.*`` (:func:`_union`)."""
    _steps: dict[tuple[frozenset[int], int], frozenset[int]] = field(default_factory=dict, repr=False)
    _ends: dict[tuple[frozenset[int], bool], bool] = field(default_factory=dict, repr=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def live(self) -> frozenset[int]:
        """States from which the accepting state can be reached (assertions read as satisfiable)."""
        found = self._derived.get("live")
        if found is None:
            incoming: list[list[int]] = [[] for _ in self.nfa.chars]
            for state in range(len(self.nfa.chars)):
                targets = [t for _, t in self.nfa.chars[state]] + self.nfa.eps[state]
                targets += self.nfa.bol[state] + self.nfa.eol[state]
                for target in targets:
                    incoming[target].append(state)
            seen = {self.accept}
            stack = [self.accept]
            while stack:
                for source in incoming[stack.pop()]:
                    if source not in seen:
                        seen.add(source)
                        stack.append(source)
            found = self._derived["live"] = frozenset(seen)
        return found

    @property
    def universal(self) -> frozenset[int]:
        """States from which every continuation is accepted: a state looping on every character
        whose closure at the end of the text accepts (the trailing ``.*`` of a search)."""
        found = self._derived.get("universal")
        if found is None:
            found = self._derived["universal"] = frozenset(
                state
                for state, edges in enumerate(self.nfa.chars)
                if (ANY, state) in edges and self.accept in self.closure((state,), at_start=False, at_end=True)
            )
        return found

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
        return self.closure((self.start,), at_start=True) & self.live

    def step(self, states: frozenset[int], code: int) -> frozenset[int]:
        key = (states, code)
        found = self._steps.get(key)
        if found is None:
            if len(self._steps) >= _STEP_CACHE:
                self._steps.clear()
            moved = [target for state in states for chars, target in self.nfa.chars[state] if _in_charset(code, chars)]
            found = self._steps[key] = self.closure(moved, at_start=False) & self.live
        return found

    def accepts_at_end(self, states: frozenset[int], at_start: bool) -> bool:
        key = (states, at_start)
        found = self._ends.get(key)
        if found is None:
            if len(self._ends) >= _STEP_CACHE:
                self._ends.clear()
            found = self._ends[key] = self.accept in self.closure(states, at_start=at_start, at_end=True)
        return found

    def outgoing(self, states: frozenset[int]) -> frozenset[tuple[int, int]]:
        """The intervals of the character sets on which the states of ``states`` move."""
        return frozenset(interval for state in states for chars, _ in self.nfa.chars[state] for interval in chars)

    def matches(self, text: str) -> bool:
        """Membership by simulation: time linear in the text (times the automaton's size), never
        backtracking. ``tests/test_coverage_decision.py`` checks it against Python's ``re``."""
        if self.literal is not None:
            return text == self.literal
        states = self.initial()
        for char in text:
            if not states:
                return False
            states = self.step(states, ord(char))
        return self.accepts_at_end(states, at_start=text == "")


#: Bound on each language's memo of subset steps; beyond it the memo starts again (memory bound).
_STEP_CACHE: Final = 20_000


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

    def merged(self, language: Language) -> tuple[int, int]:
        """A copy of ``language``'s automaton inside this builder's: its (start, accept)."""
        offset = len(self.nfa.chars)
        source = language.nfa
        for state in range(len(source.chars)):
            self.nfa.state()
            self.nfa.chars[-1].extend((chars, target + offset) for chars, target in source.chars[state])
            self.nfa.eps[-1].extend(target + offset for target in source.eps[state])
            self.nfa.bol[-1].extend(target + offset for target in source.bol[state])
            self.nfa.eol[-1].extend(target + offset for target in source.eol[state])
        return language.start + offset, language.accept + offset


@functools.lru_cache(maxsize=1024)
def exact(text: str) -> Language:
    """The one string ``text``."""
    builder = _Builder()
    start, end = builder.literal(text)
    return Language(f"= {text!r}", builder.nfa, start, end, literal=text)


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
    start, end = builder.concat(parts)
    middle = ("text", text) if leading and trailing else None
    return Language(f"glob {text!r}", builder.nfa, start, end, middle=middle)


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
    alternatives = tuple(tuple(alternative) for alternative in _RegexParser(pattern).parse())
    # Each bounded repeat is spelled out in the automaton, and the subsets of "a.{1,n}b" searched
    # anywhere grow with n: refuse large bounded repeats (and huge automata) before building any.
    repeated = sum(
        item.high
        for alternative in alternatives
        for item in alternative
        if item.kind == "chars" and item.high is not None and item.high > 1
    )
    if repeated > MAX_BOUNDED_REPEATS:
        raise RegexError(
            f"its bounded repeats spell out {repeated:,} characters, more than the {MAX_BOUNDED_REPEATS} "
            "the pack decides",
            0,
        )
    positions = sum(
        item.high if item.high is not None else item.low + 1
        for alternative in alternatives
        for item in alternative
        if item.kind == "chars"
    )
    if positions > MAX_REGEX_POSITIONS:
        raise RegexError(
            f"it spells out {positions:,} character positions, more than the {MAX_REGEX_POSITIONS:,} the pack decides",
            0,
        )
    return alternatives


def check_regex(pattern: str) -> None:
    """Raise :class:`RegexError` unless ``pattern`` is in the supported subset."""
    _parse_regex(pattern)


@functools.lru_cache(maxsize=512)
def search(pattern: str) -> Language:
    """Every string in which the regular expression finds a match (``re.search`` semantics)."""
    builder = _Builder()
    start, end = builder.concat([builder.any_string(), _regex_fragment(builder, pattern), builder.any_string()])
    return Language(f"%{pattern}%", builder.nfa, start, end, middle=("regex", pattern))


def _regex_fragment(builder: _Builder, pattern: str) -> tuple[int, int]:
    """The regular expression itself (anchored where it is found), inside ``builder``'s automaton."""
    nfa = builder.nfa
    branches = []
    for alternative in _parse_regex(pattern):
        parts = []
        for item in alternative:
            if item.kind in {"bol", "eol"}:
                start, end = nfa.state(), nfa.state()
                (nfa.bol if item.kind == "bol" else nfa.eol)[start].append(end)
                parts.append((start, end))
            else:
                parts.append(_repeat(builder, item.chars, item.low, item.high))
        branches.append(builder.concat(parts))
    return builder.union(branches)


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


# ---------------------------------------------------------------------------------- witnesses


class Undecided(Exception):
    """A question the search could not settle within its :class:`Budget`; ``reason`` completes
    "could not decide ..." (e.g. "within 10 s")."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Budget:
    """What one decision may spend: wall-clock seconds (tied to the invocation's deadline by the
    caller) and automaton-state units (each stored product state costs the size of its subsets,
    which bounds the memory the search holds)."""

    def __init__(self, seconds: float, units: int) -> None:
        self.seconds = seconds
        self.units = units
        self.spent = 0
        self._deadline = time.monotonic() + seconds
        self._ticks = 0

    def charge(self, units: int = 1) -> None:
        self.spent += units
        if self.spent > self.units:
            raise Undecided(f"within its bound of {self.units:,} automaton states")
        self._ticks += 1
        if self._ticks % 64 == 1 and time.monotonic() > self._deadline:
            raise Undecided(f"within {self.seconds:g} s")


@functools.lru_cache(maxsize=256)
def _union(languages: tuple[Language, ...]) -> Language:
    if len(languages) == 1:
        return languages[0]
    builder = _Builder()
    description = " | ".join(language.description for language in languages)
    if all(language.middle is not None for language in languages):
        # "contains one of them": one leading and one trailing .* for all, so the subsets hold
        # the partial matches only, not one loop per language.
        middles = []
        for language in languages:
            assert language.middle is not None
            kind, text = language.middle
            middles.append(builder.literal(text) if kind == "text" else _regex_fragment(builder, text))
        fragment = builder.concat([builder.any_string(), builder.union(middles), builder.any_string()])
        return builder.language(description, fragment)
    return builder.language(description, builder.union([builder.merged(language) for language in languages]))


def _representatives(bounds: set[int], keep: CharSet | None) -> list[int]:
    starts = sorted(bound for bound in bounds if bound <= MAX_CODE_POINT)
    codes = []
    for index, lo in enumerate(starts):
        hi = starts[index + 1] - 1 if index + 1 < len(starts) else MAX_CODE_POINT
        code = _readable(lo, hi)
        if keep is None or _in_charset(code, keep):
            codes.append(code)
    return sorted(codes, key=lambda code: (_READABLE.find(chr(code)) % 1000, code))


def _readable(lo: int, hi: int) -> int:
    for char in _READABLE:
        if lo <= ord(char) <= hi:
            return ord(char)
    # Printable ASCII first, but not the two characters JSON escapes.
    for code in range(max(lo, 0x21), min(hi, 0x7E) + 1):
        if chr(code) not in '"\\':
            return code
    return lo


def witness(positives: Sequence[Language], negatives: Sequence[Language], budget: Budget) -> str | None:
    """A shortest (readable) string in every language of ``positives`` and in none of
    ``negatives``, or ``None`` when no string is. Exact: breadth-first over the product of the
    positives' subset automata and one subset automaton of the negatives' union, explored only as
    far as the question needs; a product state where a positive is dead, or the negatives'
    union can no longer fail, is pruned. A literal positive decides by plain membership."""
    literal = next((language.literal for language in positives if language.literal is not None), None)
    if literal is not None:
        budget.charge(len(literal) * (len(positives) + len(negatives)) + 1)
        if all(language.matches(literal) for language in positives) and not any(
            language.matches(literal) for language in negatives
        ):
            return literal
        return None
    languages = list(positives)
    union = _union(tuple(negatives)) if negatives else None
    if union is not None:
        languages.append(union)
    if not languages:
        return "x"
    count = len(positives)
    universal = union.universal if union is not None else frozenset()

    def dead(parts: tuple[frozenset[int], ...]) -> bool:
        return any(not part for part in parts[:count]) or (union is not None and not parts[-1].isdisjoint(universal))

    def accepting(at_start: bool, parts: tuple[frozenset[int], ...]) -> bool:
        if not all(languages[index].accepts_at_end(parts[index], at_start) for index in range(count)):
            return False
        return union is None or not union.accepts_at_end(parts[-1], at_start)

    def codes(parts: tuple[frozenset[int], ...]) -> list[int]:
        bounds = {0}
        for language, part in zip(languages, parts, strict=True):
            for lo, hi in language.outgoing(part):
                bounds.add(lo)
                bounds.add(hi + 1)
        return _representatives(bounds, _normalise(languages[0].outgoing(parts[0])) if count else None)

    State = tuple[bool, tuple[frozenset[int], ...]]
    start: State = (True, tuple(language.initial() for language in languages))
    if dead(start[1]):
        return None
    parents: dict[State, tuple[State, int] | None] = {start: None}
    queue: deque[State] = deque([start])
    empty_accepted = accepting(*start)
    while queue:
        state = queue.popleft()
        if state is not start and accepting(*state):
            chars: list[str] = []
            cursor = state
            while (link := parents[cursor]) is not None:
                cursor, code = link
                chars.append(chr(code))
            return "".join(reversed(chars))
        for code in codes(state[1]):
            parts = tuple(language.step(part, code) for language, part in zip(languages, state[1], strict=True))
            following: State = (False, parts)
            if following in parents or dead(parts):
                continue
            budget.charge(1 + sum(len(part) for part in parts))
            parents[following] = (state, code)
            queue.append(following)
        if empty_accepted:
            # The empty string is a witness; a one-character one reads better when there is one.
            return next((chr(code) for child, (_, code) in _children(parents, start) if accepting(*child)), "")
    return None


def _children(parents: Mapping[Any, Any], start: Any) -> Iterator[tuple[Any, Any]]:
    return ((state, link) for state, link in parents.items() if link is not None and link[0] is start)
