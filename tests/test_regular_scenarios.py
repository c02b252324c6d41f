"""Scenarios of the regular languages behind filter-pattern coverage (rulelib/cis_regular.py).

A filter pattern's ``%regex%`` searched in an event value, its ``*`` wildcards and its terms are
regular languages; the coverage engine asks for a shortest readable value that one filter counts
and others miss. The tables here are those questions in the words of a filter pattern: the regular
expression, the value, whether it is found; an unsupported expression and the sentence the pack
reports; two filters and the value that tells them apart.
"""

from __future__ import annotations

import re
import time

import pytest

import cis_regular
from cis_regular import (
    Budget,
    Language,
    RegexError,
    Undecided,
    check_regex,
    contains,
    exact,
    glob,
    python_regex,
    search,
    witness,
)
from cispack.testing.caches import forget_remembered_answers


def case_id(value: object) -> str:
    """A test id that pytest and mutmut both read back: ASCII, no backslash (mutmut doubles it)."""
    text = ascii(value) if not isinstance(value, str) or not value.isascii() or not value.isprintable() else value
    return text.replace("\\", "(backslash)")


@pytest.fixture(autouse=True)
def _build_afresh() -> None:
    """Each scenario builds its own automata: the module's caches would otherwise hand back what an
    earlier test built (mutation testing forks each mutant from a process that ran the tests)."""
    forget_remembered_answers([cis_regular])


# ---------------------------------------------------------------- what an expression finds


@pytest.mark.parametrize(
    ("regex", "value", "found"),
    [
        ("Delete.*Policy", "DeleteRolePolicy", True),
        ("Delete.*Policy", "PolicyDelete", False),
        ("^Delete", "DeleteTrail", True),
        ("^Delete", "xDeleteTrail", False),
        ("Trail$", "DeleteTrail", True),
        ("Trail$", "DeleteTrail\n", False),
        ("Trail$", "TrailEvent", False),
        ("^$", "", True),
        ("^$", "x", False),
        ("a^b", "a^b", False),
        ("x*", "", True),
        ("^x+$", "", False),
        ("^x+$", "xxx", True),
        ("^x?$", "xx", False),
        ("^x?$", "", True),
        ("^x??y$", "xy", True),
        ("^x*?y$", "xxy", True),
        ("^x{2}$", "xx", True),
        ("^x{2}$", "xxx", False),
        ("^x{2}$", "x", False),
        ("^x{2,}$", "xxxxx", True),
        ("^x{2,}$", "x", False),
        ("^x{1,3}$", "xxx", True),
        ("^x{1,3}$", "xxxx", False),
        ("^x{1,3}$", "", False),
        ("^x{,2}$", "", True),
        ("^x{,2}$", "xxx", False),
        ("^x{0}y$", "y", True),
        ("^a{x}$", "a{x}", True),
        ("^a{2$", "a{2", True),
        ("^a.c$", "abc", True),
        ("^a.c$", "a\nc", False),
        ("^a.c$", "aéc", True),
        ("^[abc]+$", "cab", True),
        ("^[abc]+$", "abd", False),
        ("^[a-c]$", "b", True),
        ("^[a-c]$", "d", False),
        ("^[ac]$", "b", False),
        ("^[^a]$", "b", True),
        ("^[^a]$", "a", False),
        ("^[a-a]$", "a", True),
        ("^[^\\D]+$", "123", True),
        ("^[^\\W]$", "_", True),
        ("^[^\\s\\d]$", " ", False),
        ("[^\\d\\D]", "anything", False),
        ("^a{1,x}$", "a{1,x}", True),
        ("^x{2,2}$", "xx", True),
        ("^[ac]$", "c", True),
        ("^[a-zb]$", "q", True),
        ("^[b-da-b]$", "d", True),
        ("^[^a-c]$", "d", True),
        ("^[^a-c]$", "b", False),
        ("^[^a-c]$", "", False),
        ("^[]a]$", "]", True),
        ("^[^]a]$", "]", False),
        ("^[^]a]$", "b", True),
        ("^[a-]$", "-", True),
        ("^[-a]$", "-", True),
        ("^[\\]]$", "]", True),
        ("^[\\--/]$", ".", True),
        ("^[a\\-z]$", "b", False),
        ("^[\\w.]+$", "kms.amazonaws_com-x", False),
        ("^[\\w.]+$", "kms.amazonaws_com", True),
        ("^\\d+$", "0123456789", True),
        ("^\\d+$", "12a", False),
        ("^\\D+$", "abc", True),
        ("^\\D+$", "a1c", False),
        ("^\\w+$", "Az09_", True),
        ("^\\w+$", "a-b", False),
        ("^\\W$", "-", True),
        ("^\\W$", "_", False),
        ("^\\s$", "\t", True),
        ("^\\s$", "\v", True),
        ("^\\s$", "x", False),
        ("^\\S$", " ", False),
        ("^\\S$", "x", True),
        ("^a\\tb$", "a\tb", True),
        ("^a\\nb$", "a\nb", True),
        ("^a\\rb\\fc$", "a\rb\fc", True),
        ("^\\.$", ".", True),
        ("^\\.$", "x", False),
        ("^\\*\\{$", "*{", True),
        ("Put|Delete", "DeleteBucket", True),
        ("Put|Delete", "GetBucket", False),
        ("^Put$|^Delete$", "Delete", True),
        ("^Put$|^Delete$", "PutDelete", False),
        ("|x", "anything", True),
        ("Key", "DisableKey", True),
        ("Key", "key", False),
    ],
    ids=lambda value: case_id(value) if isinstance(value, str) else None,
)
def test_what_a_filter_regex_finds_in_a_value(regex: str, value: str, found: bool) -> None:
    assert search(regex).matches(value) is found
    assert (re.search(python_regex(regex), value, re.ASCII) is not None) is found


@pytest.mark.parametrize(
    ("regex", "python"),
    [
        ("Trail$", "Trail\\Z"),
        ("^a$|^b$", "^a\\Z|^b\\Z"),
        ("[$]", "[$]"),
        ("[^$]$", "[^$]\\Z"),
        ("[]$]$", "[]$]\\Z"),
        ("[^]$]$", "[^]$]\\Z"),
        ("\\$$", "\\$\\Z"),
        ("[\\]$]$", "[\\]$]\\Z"),
        ("a{2,3}?", "a{2,3}?"),
    ],
    ids=case_id,
)
def test_a_filter_regex_reads_the_same_in_python_with_dollar_at_the_very_end(regex: str, python: str) -> None:
    assert python_regex(regex) == python


# ------------------------------------------------------------ expressions the pack refuses


@pytest.mark.parametrize(
    ("regex", "sentence"),
    [
        ("a(b", "parentheses are not supported in filter-pattern regular expressions (at position 1)"),
        ("a)b", "parentheses are not supported in filter-pattern regular expressions (at position 1)"),
        ("[a(]", "parentheses are not supported in filter-pattern regular expressions (at position 2)"),
        ("aé", "character 'é' is not supported in regular expressions (at position 1)"),
        ("a\x01", "character '\\x01' is not supported in regular expressions (at position 1)"),
        ("[é]", "character 'é' is not supported in regular expressions (at position 1)"),
        ("[\t]", "character '\\t' is not supported in regular expressions (at position 1)"),
        ("*a", "nothing to repeat (at position 0)"),
        ("^*", "nothing to repeat (at position 1)"),
        ("$+", "nothing to repeat (at position 1)"),
        ("a|?", "nothing to repeat (at position 2)"),
        ("{2}", "nothing to repeat (at position 0)"),
        ("a**", "multiple repeat (at position 2)"),
        ("a+?*", "multiple repeat (at position 3)"),
        ("a{2}{3}", "multiple repeat (at position 4)"),
        ("a{3,2}", "min repeat greater than max repeat (at position 1)"),
        ("a{1001}", "repeat counts above 1000 are not supported (at position 1)"),
        ("a{1001,}", "repeat counts above 1000 are not supported (at position 1)"),
        ("a{0,1001}", "repeat counts above 1000 are not supported (at position 1)"),
        ("a*+", "possessive quantifiers are not supported (at position 2)"),
        ("\\", "bad escape (end of pattern) (at position 0)"),
        ("a\\", "bad escape (end of pattern) (at position 1)"),
        ("[a\\", "bad escape (end of pattern) (at position 2)"),
        ("[a-", "unterminated character class (at position 0)"),
        ("[a-\\w]", "bad character range (at position 2)"),
        ("\\b", "escape \\b is not supported (at position 0)"),
        ("\\1", "escape \\1 is not supported (at position 0)"),
        ("[\\x]", "escape \\x is not supported (at position 1)"),
        ("[", "unterminated character class (at position 0)"),
        ("x[a", "unterminated character class (at position 1)"),
        ("[]", "unterminated character class (at position 0)"),
        ("[^]", "unterminated character class (at position 0)"),
        ("[z-a]", "bad character range (at position 2)"),
        ("[a-\\d]", "bad character range (at position 2)"),
        ("a{65}", "its bounded repeats spell out 65 characters, more than the 64 the pack decides (at position 0)"),
        (
            "a{33}b{2,32}",
            "its bounded repeats spell out 65 characters, more than the 64 the pack decides (at position 0)",
        ),
        (
            "a{30}|b{35}",
            "its bounded repeats spell out 65 characters, more than the 64 the pack decides (at position 0)",
        ),
        (
            "a{0,1000}",
            "its bounded repeats spell out 1,000 characters, more than the 64 the pack decides (at position 0)",
        ),
        (
            ".{1000}",
            "its bounded repeats spell out 1,000 characters, more than the 64 the pack decides (at position 0)",
        ),
        (
            "a{1000,}b{100,}",
            "it spells out 1,102 character positions, more than the 1,024 the pack decides (at position 0)",
        ),
        ("", "empty regular expression (at position 0)"),
    ],
    ids=case_id,
)
def test_an_unsupported_filter_regex_is_reported_in_one_sentence(regex: str, sentence: str) -> None:
    with pytest.raises(RegexError) as caught:
        check_regex(regex)
    assert str(caught.value) == sentence
    with pytest.raises(RegexError):
        python_regex(regex)


@pytest.mark.parametrize(
    "regex",
    ["a{64}", "a{32}b{32}", "a{2}" * 32, "a{1000,}" + "x" * 23, "x" * 1024, "a{1}" * 65],
    ids=["64 spelt out", "two of 32", "32 pairs", "1024 positions", "1024 letters", "65 single repeats"],
)
def test_a_filter_regex_at_the_limits_is_accepted(regex: str) -> None:
    check_regex(regex)


# ------------------------------------------------------------------ wildcards and values


@pytest.mark.parametrize(
    ("value_in_pattern", "value", "counted"),
    [
        ("=AccessDenied", "AccessDenied", True),
        ("=AccessDenied", "AccessDeniedException", False),
        ("=", "", True),
        ("*Denied", "AccessDenied", True),
        ("*Denied", "Denied", True),
        ("*Denied", "DeniedX", False),
        ("Access*", "AccessDenied", True),
        ("Access*", "xAccess", False),
        ("Access", "Access", True),
        ("Access", "Accessx", False),
        ("*", "", True),
        ("*Unauthorized*", "Client.UnauthorizedOperation", True),
        ("*Unauthorized*", "unauthorized", False),
        ("**", "", True),
    ],
    ids=case_id,
)
def test_what_a_value_with_wildcards_counts(value_in_pattern: str, value: str, counted: bool) -> None:
    assert _language(value_in_pattern).matches(value) is counted


# ------------------------------------------------------- a value that tells filters apart


@pytest.mark.parametrize(
    ("counted", "missed", "value"),
    [
        (["%Delete.*Policy%"], [], "DeletePolicy"),
        (["%^Delete%"], ["%Policy$%"], "Delete"),
        (["%Put%"], ["%^Put%"], "xPut"),
        (["%\\d{3}%"], [], "000"),
        (["%[^a-z]%"], [], "A"),
        (["%a|b%"], ["%a%"], "b"),
        (["%a|b%"], ["%a%", "%b%"], None),
        (["*Denied"], ["=AccessDenied"], "Denied"),
        (["Access*"], ["*Denied"], "Access"),
        (["*Key*"], ["*Disable*"], "Key"),
        (["=DisableKey"], ["%Key$%"], None),
        (["=DisableKey"], ["%^Enable%"], "DisableKey"),
        (["=DisableKey", "*Key"], [], "DisableKey"),
        (["=DisableKey", "Enable*"], [], None),
        (["="], [], ""),
        ([], [], "x"),
        ([], ["%x%"], "y"),
        ([], ["%.%"], "\n"),
        ([], ["%^%"], None),
        ([], ["%x%", "=y", "*z"], "a"),
        ([], ["%^x%", "=y"], "z"),
        ([], ["%y$%", "x*"], "z"),
        (['%^["-#]$%'], [], "#"),
        (["%^[!-#]$%"], [], "!"),
        (["%^[a-x]$%"], [], "x"),
        (["%^[^\\d\\D]%"], [], None),
        (["%\\d%"], ["%^[a-z]+$%", "=0"], "1"),
        (["%^$%"], [], ""),
        (["%x*%"], [], "x"),
        (["%\\s%"], [], " "),
        (["%\\W%"], [], "-"),
        (["%\\D%"], ["%\\D\\D%"], "x"),
        (["%\\S+$%"], ["%[x-z]%"], "a"),
        (["%^.{3}$%"], ["%[a-z]%"], "AAA"),
        (["%^[0-9]{2,3}$%"], ["%^1%", "%^[2-9]%"], "00"),
        (["%^[ -!]$%"], ["% %"], "!"),
        (["%^[^ -~]$%"], [], "\x00"),
        (["%^[^ -/]$%"], ["%[0-9A-Za-z:]%"], "_"),
        (["%ab%", "%ba%"], [], "aba"),
        (["%a{2,}%"], ["%a{3}%"], "aa"),
        (["%a{,2}b%"], ["%ab%", "%^b%"], "xb"),
        (["%^b%"], ["%^b%"], None),
        (["%^b$%"], ["*b*"], None),
        (["*"], ["%.%"], "\n"),
        (["*x*"], ["%^x%", "%x$%"], "yxy"),
    ],
    ids=case_id,
)
def test_the_shortest_readable_value_one_filter_counts_and_others_miss(
    counted: list[str], missed: list[str], value: str | None
) -> None:
    found = witness([_language(text) for text in counted], [_language(text) for text in missed], Budget(5, 100_000))
    assert found == value
    if found is not None:
        assert all(_language(text).matches(found) for text in counted)
        assert not any(_language(text).matches(found) for text in missed)


def _language(text: str) -> Language:
    """``%regex%``, ``=value`` or a value with ``*`` at its ends, as a filter pattern writes them."""
    if text.startswith("%"):
        return search(text[1:-1])
    if text.startswith("="):
        return exact(text[1:])
    if text.strip("*") == "":
        return glob("", True, False)
    if text.startswith("*") and text.endswith("*"):
        return contains(text[1:-1])
    return glob(text.strip("*"), text.startswith("*"), text.endswith("*"))


# ----------------------------------------------------------------------------------- budgets


def test_a_question_beyond_its_bound_of_states_is_undecided() -> None:
    with pytest.raises(Undecided) as caught:
        witness([search("a.{30}b")], [search("a.{29}b")], Budget(60, 50))
    assert caught.value.reason == "within its bound of 50 automaton states"
    assert str(caught.value) == "within its bound of 50 automaton states"


def test_a_question_beyond_its_bound_of_states_names_it_with_thousands_separated() -> None:
    budget = Budget(60, 1500)
    budget.charge(1500)
    with pytest.raises(Undecided, match=r"^within its bound of 1,500 automaton states$"):
        budget.charge()
    assert budget.spent == 1501


def test_a_literal_question_costs_its_length_per_language() -> None:
    budget = Budget(60, 1000)
    assert witness([exact("abcd"), contains("b")], [contains("z")], budget) == "abcd"
    assert budget.spent == 4 * 3 + 1


def test_a_question_past_its_seconds_is_undecided() -> None:
    with pytest.raises(Undecided, match=r"^within 0 s$"):
        Budget(0, 10**9).charge()


def test_a_question_within_its_seconds_looks_at_the_clock_every_64_steps() -> None:
    budget = Budget(0.1, 10**9)
    budget.charge()
    time.sleep(0.15)
    for _ in range(63):
        budget.charge()
    with pytest.raises(Undecided, match=r"^within 0\.1 s$"):
        budget.charge()
