"""Annotations stay within AWS Config's 256 however the limit is counted: UTF-16 code units
(Java's and JavaScript's length) and UTF-8 bytes (the wire), cut at a code point boundary."""

from __future__ import annotations

import unicodedata

import pytest

from cis_rule import MAX_ANNOTATION, annotation

WOMAN_TECHNOLOGIST = "\U0001f469\u200d\U0001f4bb"  # three code points joined by a zero-width joiner


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize(
    ("case", "name"),
    [
        ("ascii", "a" * 400),
        ("emoji (4 UTF-8 bytes, 2 UTF-16 units each)", "\U0001f600" * 114),
        ("emoji joined by zero-width joiners", WOMAN_TECHNOLOGIST * 60),
        ("CJK (3 UTF-8 bytes each)", "\u8a8d\u8a3c" * 100),
        ("accents as combining marks", "e\u0301" * 200),
        ("flag with variation selector", "\u2764\ufe0f" * 100),
    ],
)
def test_a_long_name_is_cut_within_every_count(case: str, name: str) -> None:
    text = annotation(f"User {name} has an active access key that was never used")
    assert _utf16_units(text) <= MAX_ANNOTATION, case
    assert len(text.encode("utf-8")) <= MAX_ANNOTATION, case
    assert text.startswith("User ") and text.endswith("....")
    cut = text.removesuffix("....")
    assert cut[-1] != "\u200d" and not unicodedata.combining(cut[-1]) and cut[-1] != "\ufe0f", case
    assert name.startswith(cut.removeprefix("User ")), "cut between code points of the name"


def test_the_issue_example_is_refused_no_more() -> None:
    # 228 emoji: 456 UTF-16 units, 912 bytes, 228 Python characters (which the old cut let through).
    text = annotation("\U0001f600" * 228)
    assert len(text.encode("utf-8")) <= MAX_ANNOTATION and _utf16_units(text) <= MAX_ANNOTATION
    assert text == "\U0001f600" * 63 + "...."


@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("short, gets its period", "Root used today", "Root used today."),
        ("whitespace folded", "Root  used\n today.", "Root used today."),
        ("exactly 256 bytes stays whole", "x" * 255, "x" * 255 + "."),
        ("257 is cut", "x" * 256, "x" * 252 + "...."),
        ("non-ASCII within the limit stays whole", "Bucket caf\u00e9 is public", "Bucket caf\u00e9 is public."),
    ],
)
def test_short_annotations_are_kept(case: str, text: str, expected: str) -> None:
    assert annotation(text) == expected, case
