"""CloudWatch Logs filter patterns on CloudTrail log events: parser, evaluator and renderer.

Three forms can stand on a CloudTrail log group and are supported:

* **JSON patterns** (``{ ... }``), the form of every CIS metric filter (grammar below);
* the **empty pattern** (``""``), which matches every event (:data:`EVERYTHING`);
* **term patterns** judged against the event's raw text (:class:`Terms`): space-separated terms
  that must all appear, ``-term`` exclusions that must not, or only ``?term`` alternatives of
  which one must appear; a term is a bare word, a double-quoted phrase or a ``%regex%``. A term
  *appears* when the raw text contains it (case-sensitive). The raw text of a CloudTrail event is
  its compact JSON (``{"eventVersion":"1.08",...}``, no spaces, non-ASCII unescaped), which is
  what :func:`raw_text` produces. Mixing ``?`` alternatives with plain terms or exclusions has
  no documented meaning and is rejected.

Space-delimited patterns (``[ip, user]``) split a line on spaces, which says nothing useful of a
JSON record, and are rejected with :class:`FilterPatternError`.

This is a flat module (it is copied next to other flat modules into Lambda zips), so it imports
only the standard library.

Grammar and semantics follow the CloudWatch Logs user guide, "Filter pattern syntax for metric
filters", section "Matching terms in JSON log events" (awsdocs/amazon-cloudwatch-logs-user-guide,
doc_source/FilterAndPatternSyntax.md), plus its regex section. Where the guide is silent the
engine takes the reading that matches *fewer* events, so that a filter is never credited with
matching an event that CloudWatch might not count::

    pattern    = ws "{" ws expression ws "}" ws
    expression = conjunction { ws "||" ws conjunction }
    conjunction= operand { ws "&&" ws operand }
    operand    = "(" ws expression ws ")" | selector ws test
    selector   = "$" ( "." name ) { "." name | "[" digits "]" }      name = [A-Za-z0-9_-]+
    test       = ("=" | "!=") ws value | ("<" | "<=" | ">" | ">=") ws number
               | "IS" ws+ ("NULL" | "TRUE" | "FALSE") | "NOT" ws+ "EXISTS"
    value      = '"' chars '"' | "%" regex "%" | bare-word

Decisions, each from the guide unless marked *(choice)*:

* **Precedence**: ``()`` binds tightest, then ``&&``, then ``||`` ("the syntax follows standard
  order of operations () > && > ||"). ``a || b && c`` is ``a || (b && c)``; the CIS v2.0.0+ 3.1
  pattern depends on this.
* **Selectors** start at ``$``; property names are alphanumeric plus ``-`` and ``_``; array
  elements are ``[NUMBER]`` and must follow a property (``$.a[0]``, ``$.c[0][1]``). There is no
  ``[*]`` or ``$.*`` wildcard selector, so those are rejected.
* **Value nodes**: a comparison applies only when the selector reaches a string or a number.
  If it reaches an object or an array, *both* ``=`` and ``!=`` are false (documented). If the
  selector reaches nothing, ``!=`` is false too: AWS's own "test pattern" console reports no
  match for ``$.userIdentity.invokedBy != "x"`` on an event without ``invokedBy``
  (DataBiosphere/azul#5884). ``null`` and booleans are not value nodes either *(choice)*: they
  are tested with ``IS NULL`` / ``IS TRUE`` / ``IS FALSE``.
* **Strings** may be double-quoted or bare; quoting does not change their meaning. ``*`` is a
  wildcard only at the start and/or end (``*Event``, ``Event*``, ``*vent*``); inside a word it is
  a literal asterisk ("Ev*ent will only match the actual string Ev*ent"). A value of only ``*``
  matches any value node (``{ $.latency = * }`` is the guide's own example). Bare words may not
  contain ``@``, ``$``, ``\\`` or non-ASCII characters ("must be enclosed in double quotes");
  inside quotes ``\\"`` and ``\\\\`` are the only escapes *(choice)*.
* **Numbers**: integer or decimal with optional sign and exponent (``10e-3``, ``+1000``).
  ``<``, ``<=``, ``>``, ``>=`` require a bare number and a JSON number in the event. ``=`` and
  ``!=`` with a bare number compare numerically against JSON numbers and textually against JSON
  strings *(choice)*. Strings and wildcards match a JSON number by its text (``4*`` matches
  ``404``).
* **Regular expressions** ``%...%`` are supported with ``=`` and ``!=`` and as terms, searched
  anywhere in the value's (or the raw event's) text, in the subset CloudWatch Logs documents
  (``cis_regular``: no parentheses, no multi-byte characters; ``$`` is the end of the text).
* **Limits**: a filter pattern is at most 1024 characters (PutMetricFilter API); parentheses
  nest at most 64 deep *(choice, keeps recursion bounded)*.
* Keywords (``IS NULL``, ``NOT EXISTS``, ...) are accepted in any letter case *(choice)*.

Public API: :func:`parse` (text -> immutable, hashable AST), :func:`matches` (pattern or AST,
decoded JSON event -> bool), :func:`render` (AST -> pattern text), :func:`normalize` (AST ->
canonical AST), :func:`raw_text`, :class:`FilterPatternError`.

Flat module: the standard library and ``cis_regular`` only.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from cis_regular import RegexError, check_regex, search

__all__ = [
    "EVERYTHING",
    "MAX_NESTING",
    "MAX_PATTERN_LENGTH",
    "And",
    "Check",
    "Comparison",
    "Everything",
    "FilterPatternError",
    "Node",
    "NumberValue",
    "Or",
    "RegexValue",
    "Selector",
    "StringValue",
    "Term",
    "Terms",
    "Value",
    "evaluate",
    "leaves",
    "matches",
    "normalize",
    "parse",
    "raw_text",
    "render",
]

MAX_PATTERN_LENGTH: Final = 1024
MAX_NESTING: Final = 64

EQUALITY_OPERATORS: Final = frozenset({"=", "!="})
RELATIONAL_OPERATORS: Final = frozenset({"<", "<=", ">", ">="})
CHECKS: Final = ("IS NULL", "NOT EXISTS", "IS TRUE", "IS FALSE")

_WHITESPACE: Final = frozenset(" \t\n\r\f\v")
_NAME_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# A bare word ends at whitespace or at a character that starts or ends another token.
_BARE_STOP: Final = frozenset('(){}"&|=!<>%') | _WHITESPACE
_BARE_FORBIDDEN: Final = frozenset("@$\\")
_NUMBER_RE: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_MAX_INDEX_DIGITS: Final = 9


class FilterPatternError(ValueError):
    """A filter pattern that this engine cannot parse; ``position`` is the 0-based offset."""

    def __init__(self, message: str, position: int) -> None:
        self.message = message
        self.position = position
        super().__init__(f"{message} (at position {position})")


# --------------------------------------------------------------------------------------- AST


@dataclass(frozen=True, slots=True)
class Selector:
    """``$.a.b[0]``: property names (str) and array indices (int), outermost first."""

    path: tuple[str | int, ...]

    def __str__(self) -> str:
        return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in self.path)


@dataclass(frozen=True, slots=True)
class StringValue:
    """A quoted or bare string; leading/trailing ``*`` are wildcards (see module docstring).
    ``literal`` values have no wildcards: the pack builds them (an alarm's dimension value),
    the parser never does."""

    text: str
    literal: bool = False

    @property
    def is_any(self) -> bool:
        return not self.literal and self.text != "" and set(self.text) == {"*"}

    @property
    def leading_wildcard(self) -> bool:
        return not self.literal and self.text.startswith("*")

    @property
    def trailing_wildcard(self) -> bool:
        return not self.literal and self.text.endswith("*") and len(self.text) > 1

    @property
    def core(self) -> str:
        """The text without its wildcard asterisks."""
        start = 1 if self.leading_wildcard else 0
        end = len(self.text) - 1 if self.trailing_wildcard else len(self.text)
        return self.text[start:end]

    def matches_text(self, text: str) -> bool:
        if self.is_any:
            return True
        core = self.core
        if self.leading_wildcard and self.trailing_wildcard:
            return core in text
        if self.leading_wildcard:
            return text.endswith(core)
        if self.trailing_wildcard:
            return text.startswith(core)
        return text == core


@dataclass(frozen=True, slots=True)
class NumberValue:
    """A bare number; ``text`` is kept for textual comparison against JSON strings."""

    number: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class RegexValue:
    """``%regex%``; ``pattern`` is the text between the percent signs."""

    pattern: str

    def search_in(self, text: str) -> bool:
        """Whether the expression matches somewhere in ``text``: the pack's own automaton, in
        time linear in the text (an account's pattern never reaches a backtracking engine)."""
        return search(self.pattern).matches(text)


Value = StringValue | NumberValue | RegexValue


@dataclass(frozen=True, slots=True)
class Node:
    """Base class of the AST nodes. Nodes are immutable and hashable."""


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    selector: Selector
    operator: str
    value: Value


@dataclass(frozen=True, slots=True)
class Check(Node):
    """``IS NULL``, ``NOT EXISTS``, ``IS TRUE`` or ``IS FALSE`` (the ``kind``)."""

    selector: Selector
    kind: str


@dataclass(frozen=True, slots=True)
class And(Node):
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or(Node):
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Everything(Node):
    """The empty filter pattern: every event matches."""


EVERYTHING: Final = Everything()


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a term pattern: literal text (bare word or quoted phrase) or ``%regex%``."""

    text: str
    regex: bool = False

    def found_in(self, text: str) -> bool:
        if self.regex:
            return search(self.text).matches(text)
        return self.text in text


@dataclass(frozen=True, slots=True)
class Terms(Node):
    """A term pattern: all of ``required`` and none of ``excluded`` appear, and, when ``any_of``
    is not empty, at least one of its terms does."""

    required: tuple[Term, ...] = ()
    excluded: tuple[Term, ...] = ()
    any_of: tuple[Term, ...] = ()


def raw_text(event: Any) -> str:
    """The raw text of a CloudTrail event as CloudWatch Logs receives it: compact JSON."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str)


# ------------------------------------------------------------------------------------ parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def error(self, message: str, position: int | None = None) -> FilterPatternError:
        return FilterPatternError(message, self.pos if position is None else position)

    def peek(self, length: int = 1) -> str:
        return self.text[self.pos : self.pos + length]

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1

    def describe_here(self) -> str:
        if self.pos >= len(self.text):
            return "end of pattern"
        return f"{self.text[self.pos]!r}"

    def parse_pattern(self) -> Node:
        if len(self.text) > MAX_PATTERN_LENGTH:
            raise self.error(f"filter pattern is longer than {MAX_PATTERN_LENGTH} characters", MAX_PATTERN_LENGTH)
        self.skip_ws()
        if self.pos == len(self.text):
            return EVERYTHING
        if self.peek() == "[":
            raise self.error("space-delimited filter patterns ([...]) are not supported on JSON log events")
        if self.peek() != "{":
            return self.parse_terms()
        self.pos += 1
        self.skip_ws()
        if self.peek() == "}":
            raise self.error("empty JSON filter pattern")
        node = self.parse_or()
        self.skip_ws()
        if self.peek() != "}":
            raise self.error(f"expected '&&', '||' or '}}' but found {self.describe_here()}")
        self.pos += 1
        self.skip_ws()
        if self.pos != len(self.text):
            raise self.error("unexpected text after the closing '}'")
        return node

    def parse_terms(self) -> Terms:
        groups: dict[str, list[Term]] = {"": [], "-": [], "?": []}
        while True:
            self.skip_ws()
            if self.pos == len(self.text):
                break
            prefix = self.peek() if self.peek() in "-?" else ""
            self.pos += len(prefix)
            start = self.pos
            char = self.peek()
            if char == '"':
                term = Term(self.parse_quoted())
                if not term.text:
                    raise self.error("empty quoted term", start)
            elif char == "%":
                term = Term(self.parse_regex().pattern, regex=True)
            else:
                while self.pos < len(self.text) and self.text[self.pos] not in _WHITESPACE:
                    self.pos += 1
                word = self.text[start : self.pos]
                if not word:
                    raise self.error(f"expected a term after '{prefix}'", start)
                if any(letter in '{}[]"' for letter in word):
                    raise self.error(f"term {word!r} must be double-quoted", start)
                term = Term(word)
            if self.pos < len(self.text) and self.text[self.pos] not in _WHITESPACE:
                raise self.error("expected a space between terms")
            groups[prefix].append(term)
        if groups["?"] and (groups[""] or groups["-"]):
            raise self.error("'?' terms mixed with other terms have no documented meaning", 0)
        return Terms(tuple(groups[""]), tuple(groups["-"]), tuple(groups["?"]))

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while True:
            self.skip_ws()
            if self.peek(2) != "||":
                break
            self.pos += 2
            self.skip_ws()
            operands.append(self.parse_and())
        return _combine(Or, operands)

    def parse_and(self) -> Node:
        operands = [self.parse_operand()]
        while True:
            self.skip_ws()
            if self.peek(2) != "&&":
                break
            self.pos += 2
            self.skip_ws()
            operands.append(self.parse_operand())
        return _combine(And, operands)

    def parse_operand(self) -> Node:
        char = self.peek()
        if char == "(":
            start = self.pos
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.error(f"parentheses nest deeper than {MAX_NESTING} levels")
            self.pos += 1
            self.skip_ws()
            node = self.parse_or()
            self.skip_ws()
            if self.peek() != ")":
                raise self.error(f"expected ')' to close the '(' at position {start} but found {self.describe_here()}")
            self.pos += 1
            self.depth -= 1
            return node
        if char == "$":
            selector = self.parse_selector()
            self.skip_ws()
            return self.parse_test(selector)
        if char in ("&", "|"):
            raise self.error(f"expected a condition before {self.describe_here()}")
        raise self.error(f"expected a selector ($.field) or '(' but found {self.describe_here()}")

    def parse_selector(self) -> Selector:
        start = self.pos
        self.pos += 1  # "$"
        path: list[str | int] = []
        while True:
            char = self.peek()
            if char == ".":
                self.pos += 1
                name_start = self.pos
                while self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
                    self.pos += 1
                if self.pos == name_start:
                    if self.peek() == "*":
                        raise self.error("wildcard selectors ($.*) are not supported by CloudWatch Logs")
                    raise self.error("expected a property name (letters, digits, '-' or '_') after '.'")
                path.append(self.text[name_start : self.pos])
            elif char == "[":
                if not path:
                    raise self.error("an array index must follow a property name ($.name[0])")
                self.pos += 1
                digits_start = self.pos
                while self.pos < len(self.text) and self.text[self.pos].isascii() and self.text[self.pos].isdigit():
                    self.pos += 1
                digits = self.text[digits_start : self.pos]
                if not digits:
                    if self.peek() == "*":
                        raise self.error("array wildcards ([*]) are not supported by CloudWatch Logs")
                    raise self.error("expected an array index (digits) after '['")
                if len(digits.lstrip("0")) > _MAX_INDEX_DIGITS:
                    raise self.error("array index is too large", digits_start)
                if self.peek() != "]":
                    raise self.error("expected ']' after the array index")
                self.pos += 1
                path.append(int(digits))
            else:
                break
        if not path:
            if self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
                raise self.error("expected '.' after '$' (selectors look like $.name)")
            raise self.error("a selector needs at least one property ($.name)", start)
        return Selector(tuple(path))

    def parse_test(self, selector: Selector) -> Node:
        start = self.pos
        two = self.peek(2)
        if two in ("!=", "<=", ">="):
            operator = two
        elif self.peek() in ("=", "<", ">"):
            operator = self.peek()
            if two == "==":
                raise self.error("'==' is not an operator; use '='")
        else:
            word = self.read_word()
            if word.upper() in ("IS", "NOT"):
                return self.parse_keyword_test(selector, word.upper())
            self.pos = start
            raise self.error(f"expected an operator (=, !=, <, <=, >, >=, IS, NOT) but found {self.describe_here()}")
        self.pos += len(operator)
        self.skip_ws()
        value_start = self.pos
        value = self.parse_value()
        if operator in RELATIONAL_OPERATORS and not isinstance(value, NumberValue):
            raise self.error(f"'{operator}' compares numbers; expected a bare number", value_start)
        return Comparison(selector, operator, value)

    def read_word(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isascii() and self.text[self.pos].isalpha():
            self.pos += 1
        return self.text[start : self.pos]

    def parse_keyword_test(self, selector: Selector, first: str) -> Node:
        gap = self.pos
        self.skip_ws()
        if self.pos == gap:
            raise self.error(f"expected a space after '{first}'")
        second_start = self.pos
        second = self.read_word().upper()
        allowed = ("NULL", "TRUE", "FALSE") if first == "IS" else ("EXISTS",)
        if second not in allowed:
            expected = " or ".join(f"'{first} {word}'" for word in allowed)
            raise self.error(f"expected {expected}", second_start)
        if self.pos < len(self.text) and self.text[self.pos] not in _BARE_STOP:
            raise self.error(f"unexpected character after '{first} {second}'")
        return Check(selector, f"{first} {second}")

    def parse_value(self) -> Value:
        char = self.peek()
        if char == '"':
            return StringValue(self.parse_quoted())
        if char == "%":
            return self.parse_regex()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _BARE_STOP:
            self.pos += 1
        word = self.text[start : self.pos]
        if not word:
            raise self.error(f"expected a value but found {self.describe_here()}")
        for offset, letter in enumerate(word):
            if letter in _BARE_FORBIDDEN or not letter.isascii() or not letter.isprintable():
                raise self.error(f"character {letter!r} must be inside a double-quoted string", start + offset)
        if _NUMBER_RE.fullmatch(word):
            try:
                number = Decimal(word)
            except (InvalidOperation, ValueError):  # pragma: no cover - the regex admits only valid numbers
                raise self.error(f"invalid number {word!r}", start) from None
            return NumberValue(number, word)
        return StringValue(word)

    def parse_quoted(self) -> str:
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in '"\\':
                chars.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            chars.append(char)
            self.pos += 1
        raise self.error("unterminated double-quoted string", start)

    def parse_regex(self) -> RegexValue:
        start = self.pos
        end = self.text.find("%", start + 1)
        if end < 0:
            raise self.error("unterminated regular expression (expected a closing '%')", start)
        body = self.text[start + 1 : end]
        if not body:
            raise self.error("empty regular expression", start)
        try:
            check_regex(body)
        except RegexError as exc:
            raise self.error(exc.message, start + 1 + exc.position) from None
        self.pos = end + 1
        return RegexValue(body)


def _combine(kind: type[And] | type[Or], operands: list[Node]) -> Node:
    """Build an n-ary node, flattening nested nodes of the same kind (parentheses are not kept)."""
    if len(operands) == 1:
        return operands[0]
    flat: list[Node] = []
    for operand in operands:
        if isinstance(operand, kind):
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return kind(tuple(flat))


@functools.lru_cache(maxsize=1024)
def _parse_cached(pattern: str) -> Node:
    return _Parser(pattern).parse_pattern()


def parse(pattern: str) -> Node:
    """Parse a JSON filter pattern into an immutable AST; raise :class:`FilterPatternError`.

    ``&&``/``||`` chains become flat :class:`And`/:class:`Or` nodes and parentheses disappear,
    so redundant parentheses never change the AST. Text and space-delimited patterns are
    rejected: only JSON patterns are supported.
    """
    if not isinstance(pattern, str):
        raise TypeError(f"filter pattern must be str, not {type(pattern).__name__}")
    return _parse_cached(pattern)


# --------------------------------------------------------------------------------- evaluator

_MISSING: Final = object()


def _resolve(event: Any, selector: Selector) -> Any:
    current = event
    for step in selector.path:
        if isinstance(step, str):
            if not isinstance(current, Mapping):
                return _MISSING
            try:
                current = current[step] if step in current else _MISSING
            except TypeError:
                return _MISSING
            if current is _MISSING:
                return _MISSING
        else:
            if not isinstance(current, list | tuple) or step >= len(current):
                return _MISSING
            current = current[step]
    return current


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value_text(value: Any) -> str | None:
    """The text a string or wildcard is compared with; ``None`` when the value is not a value node."""
    if isinstance(value, str):
        return value
    if _is_number(value):
        try:
            return json.dumps(value)
        except ValueError:  # ints beyond Python's int-to-str digit limit
            return None
    return None


def _as_decimal(value: int | float) -> Decimal | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError, OverflowError):
        return None
    return None if number.is_nan() else number


def _compare_numbers(left: Decimal, operator: str, right: Decimal) -> bool:
    if operator == "=":
        return left == right
    if operator == "!=":
        return left != right
    if operator == "<":
        return left < right
    if operator == "<=":
        return left <= right
    if operator == ">":
        return left > right
    return left >= right


def _test_value(value: Any, operator: str, pattern_value: Value) -> bool:
    if isinstance(pattern_value, NumberValue):
        if _is_number(value):
            number = _as_decimal(value)
            return number is not None and _compare_numbers(number, operator, pattern_value.number)
        if operator in RELATIONAL_OPERATORS or not isinstance(value, str):
            return False
        equal = value == pattern_value.text
    else:
        text = _value_text(value)
        if text is None:
            return False
        if isinstance(pattern_value, RegexValue):
            equal = pattern_value.search_in(text)
        else:
            equal = pattern_value.matches_text(text)
    return equal if operator == "=" else not equal


def evaluate(node: Node, event: Any) -> bool:
    """Evaluate a parsed pattern against a decoded JSON event (never raises)."""
    if isinstance(node, Or):
        return any(evaluate(operand, event) for operand in node.operands)
    if isinstance(node, And):
        return all(evaluate(operand, event) for operand in node.operands)
    if isinstance(node, Check):
        value = _resolve(event, node.selector)
        if node.kind == "NOT EXISTS":
            return value is _MISSING
        if node.kind == "IS NULL":
            return value is None
        return value is (node.kind == "IS TRUE")
    if isinstance(node, Comparison):
        return _test_value(_resolve(event, node.selector), node.operator, node.value)
    if isinstance(node, Everything):
        return True
    if isinstance(node, Terms):
        return _terms_match(node, raw_text(event))
    raise TypeError(f"not a filter-pattern node: {type(node).__name__}")


def _terms_match(node: Terms, text: str) -> bool:
    return (
        all(term.found_in(text) for term in node.required)
        and not any(term.found_in(text) for term in node.excluded)
        and (not node.any_of or any(term.found_in(text) for term in node.any_of))
    )


def matches(pattern_or_node: str | Node, event: Mapping[str, Any]) -> bool:
    """Whether CloudWatch Logs would count ``event`` (a decoded JSON object) for the pattern.

    A string is parsed first (:class:`FilterPatternError` if it cannot be). An event that is not
    a JSON object never matches; otherwise evaluation never raises.
    """
    node = parse(pattern_or_node) if isinstance(pattern_or_node, str) else pattern_or_node
    if not isinstance(node, Node):
        raise TypeError(f"expected a filter pattern or a parsed Node, not {type(node).__name__}")
    if not isinstance(event, Mapping):
        return False
    return evaluate(node, event)


# ------------------------------------------------------------------- rendering and utilities


def _render_value(value: Value) -> str:
    if isinstance(value, NumberValue):
        return value.text
    if isinstance(value, RegexValue):
        return f"%{value.pattern}%"
    return '"' + value.text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render(node: Node) -> str:
    if isinstance(node, Comparison):
        return f"{node.selector} {node.operator} {_render_value(node.value)}"
    if isinstance(node, Check):
        return f"{node.selector} {node.kind}"
    if isinstance(node, And | Or):
        separator = " && " if isinstance(node, And) else " || "
        return separator.join(f"({_render(operand)})" for operand in node.operands)
    raise TypeError(f"not a filter-pattern node: {type(node).__name__}")


def _render_term(term: Term) -> str:
    if term.regex:
        return f"%{term.text}%"
    return '"' + term.text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(node: Node) -> str:
    """Pattern text for an AST: every string quoted, every operand parenthesised.

    ``parse(render(node)) == node`` for every AST that :func:`parse` can produce.
    """
    if isinstance(node, Everything):
        return ""
    if isinstance(node, Terms):
        return " ".join(
            [_render_term(t) for t in node.required]
            + ["-" + _render_term(t) for t in node.excluded]
            + ["?" + _render_term(t) for t in node.any_of]
        )
    return "{ " + _render(node) + " }"


def normalize(node: Node) -> Node:
    """A canonical form: operands flattened, de-duplicated and sorted, so that two patterns that
    differ only in clause order, repetition, parentheses, whitespace or quoting compare equal."""
    if isinstance(node, And | Or):
        kind = type(node)
        flat: set[Node] = set()
        for operand in node.operands:
            canonical = normalize(operand)
            if isinstance(canonical, kind):
                flat.update(canonical.operands)
            else:
                flat.add(canonical)
        if len(flat) == 1:
            return next(iter(flat))
        return kind(tuple(sorted(flat, key=_render)))
    return node


def leaves(node: Node) -> Iterator[Comparison | Check]:
    """The comparisons and checks of a pattern, left to right."""
    if isinstance(node, And | Or):
        for operand in node.operands:
            yield from leaves(operand)
    elif isinstance(node, Comparison | Check):
        yield node
