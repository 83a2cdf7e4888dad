"""The faithfulness checks (tarjama.translate.checks) as tables of (source, translation, expected finding),
and the measured length bounds: the data file, and that it is what bench/length_bounds.py measures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO
from tarjama.translate.checks import (
    ARABIC_DIGITS,
    BOUNDS_FILE,
    MIN_SOURCE_CHARS,
    Finding,
    check_length,
    check_numbers,
    check_quotes,
    length_ratio,
    load_bounds,
    numbers,
    quoted_spans,
    run_checks,
    text_length,
)
from tarjama.translate.flags import Flag

from tarjama.paths import corpus_dir

# -- numbers: (source, translation, target, None when faithful, else substrings of the detail) ---------------

NUMBERS_OK = [
    ("في عام ٢٠٢٣", "in 2023", "en"),                                  # Arabic-Indic digits
    ("في عام ۲۰۲۳", "in 2023", "en"),                                  # Persian digits
    ("سنة ۱۴۰۲ هجري شمسي", "the year 1402", "en"),
    ("نما ٣٫٥ في المئة", "grew by 3.5 percent", "en"),
    ("تأثر ٣٫٥ مليون شخص", "3.5 million people", "en"),                 # ٫ is a decimal point
    ("تأثر ٣٫٥ مليون شخص", "3,5 millones de personas", "es"),          # Spanish decimal comma
    ("تأثر 3.5 مليون", "3,5 millones", "es"),
    ("٣٫٥٠ دولار", "$3.5", "en"),                                       # trailing zeros
    ("١٬٠٠٠ شخص", "1,000 people", "en"),                                # ٬ groups thousands
    ("١٬٠٠٠ شخص", "1000 people", "en"),
    ("١٬٠٠٠ شخص", "1.000 personas", "es"),
    ("1,000 شخص", "1000 people", "en"),
    ("١٬٠٠٠٬٠٠٠ شخص", "1,000,000 people", "en"),
    ("١٬٠٠٠٬٠٠٠ شخص", "1.000.000 personas", "es"),
    ("١٬٠٠٠٬٠٠٠ شخص", "1 000 000 personas", "es"),                     # space-grouped
    ("١٬٠٠٠٬٠٠٠ شخص", "1\u00a0000\u00a0000 personas", "es"),          # no-break spaces
    ("1000000 شخص", "1,000,000 people", "en"),
    ("١٬٢٣٤٫٥ طن", "1.234,5 toneladas", "es"),
    ("١٬٢٣٤٫٥ طن", "1,234.5 tonnes", "en"),
    ("٪٥٠ من السكان", "50% of the population", "en"),                  # percent sign before the digits
    ("٥٠٪ من السكان", "50 % de la población", "es"),
    ("٥٠٪ من السكان", "50 percent of the population", "en"),
    ("٥٠٪ من السكان", "50 per cent of the population", "en"),
    ("٥٠٪ من السكان", "el 50 por ciento de la población", "es"),
    ("٥٠ بالمئة من السكان", "50% of the population", "en"),             # Arabic percent words
    ("٥٠ في المائة من السكان", "50% of the population", "en"),
    ("٢٠-٣٠٪", "20% to 30%", "en"),                                     # a range shares its percent
    ("٢٠٪ - ٣٠٪", "between 20 and 30 percent", "en"),
    ("بين ٢٠١٧–٢٠٢٠", "from 2017 to 2020", "en"),                       # ranges: two numbers, never negative
    ("بين ٢٠١٧-٢٠٢٠", "2017–2020", "en"),
    ("بين ٢٠١٧—٢٠٢٠", "2017-2020", "en"),
    ("الساعة 09:30", "at 9:30", "en"),                                  # leading zeros
    ("قال الوزير إن الاجتماع انتهى", "The minister said the meeting ended", "en"),  # no numbers
    ("قتل ١٥ وجرح ١٠٠ شخص", "On March 15 100 people", "en"),            # a plain space does not join 15 and 100
    ("٢٠١٧ و٢٠١٧", "2017 and 2017", "en"),
    ("١ و١٬٠٠٠", "1,000 and 1", "en"),            # "1,000" gives up its reading 1 for the source's 1000
]


@pytest.mark.parametrize(("source", "translation", "target"), NUMBERS_OK)
def test_numbers_kept(source: str, translation: str, target: str) -> None:
    assert check_numbers(source, translation, target) is None


NUMBERS_FLAGGED = [
    ("تأثر ٣٫٥ مليون شخص", "35 million people", "en", ["changed 3.5 → 35"]),
    ("٥٠٪ من السكان", "50 of the population", "en", ["changed 50% → 50"]),
    ("بين ٢٠١٧–٢٠٢٠", "2017-2021", "en", ["changed 2020 → 2021"]),
    ("في عام ٢٠١٧", "in 2018", "en", ["changed 2017 → 2018"]),
    ("قتل ٥ أشخاص عام ٢٠٢٣", "Five people were killed in 2023", "en", ["missing 5"]),  # number words: out of scope
    ("قتل أشخاص", "7 people were killed", "en", ["extra 7"]),
    ("٢٠١٧ و٢٠١٧", "2017", "en", ["missing 2017"]),                      # a multiset: two are two
    ("في ٣ مدن و٤ قرى", "in 3 cities", "en", ["missing 4"]),
    ("١٬٠٠٠ شخص", "10,000 people", "en", ["changed 1,000 → 10,000"]),
    ("في ٢٠١٧ و٢٠١٨", "in 2019 and 2020 and 12", "en", ["changed 2017 → 2019, 2018 → 2020", "extra 12"]),
    ("٥ و٦ و٧", "5", "en", ["missing 6, 7"]),
]


@pytest.mark.parametrize(("source", "translation", "target", "parts"), NUMBERS_FLAGGED)
def test_numbers_flagged(source: str, translation: str, target: str, parts: list[str]) -> None:
    found = check_numbers(source, translation, target)
    assert found is not None and found.flag is Flag.NUMBERS
    for part in parts:
        assert part in found.detail, found.detail


@pytest.mark.parametrize(("text", "values"), [
    ("1,000", [{"1000", "1"}]),            # thousands, or 1.000
    ("3,5", [{"3.5"}]),                    # not a thousands group
    ("2,500", [{"2500", "2.5"}]),
    ("0,500", [{"0.5"}]),                  # a thousands group never follows a lone 0
    ("1,000,000", [{"1000000"}]),          # a decimal point occurs once
    ("1.000.000,50", [{"1000000.5"}]),
    ("٣٫٥", [{"3.5"}]),
    ("١٬٠٠٠", [{"1000"}]),
    ("۱۲", [{"12"}]),
    ("3.5.2020", [{"3"}, {"5"}, {"2020"}]),  # no reading fits: one number per digit run
    ("2017-2020", [{"2017"}, {"2020"}]),
    ("", []),
])
def test_every_plausible_reading(text: str, values: list[set[str]]) -> None:
    assert [set(n.values) for n in numbers(text)] == values


def test_percentages_are_read() -> None:
    assert [n.percent for n in numbers("٥٠٪ و٪٢٠ و30 percent و40 فقط")] == [True, True, True, False]
    assert [n.percent for n in numbers("50% 60")] == [True, False]


def test_the_digit_table() -> None:
    assert "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹".translate(ARABIC_DIGITS) == "01234567890123456789"


# -- length --------------------------------------------------------------------------------------------

SOURCE = "قال وزير الخارجية إن المحادثات ستستأنف الأسبوع المقبل في العاصمة."  # 56 counted characters
BOUNDS = {"ar-en": (0.5, 2.0)}


@pytest.mark.parametrize(("translation", "target", "bounds", "flagged"), [
    ("The foreign minister said talks would resume next week in the capital.", "en", BOUNDS, False),
    ("The foreign minister said.", "en", BOUNDS, True),                           # truncated
    ("The foreign minister said talks would resume. " * 4, "en", BOUNDS, True),  # looping
    ("", "en", BOUNDS, True),
    ("Dijo.", "es", BOUNDS, False),                                                # no bounds for ar-es here
    ("Dijo.", "fr", None, False),                                                  # nor for ar-fr in the file
])
def test_length_ratio(translation: str, target: str, bounds: dict | None, flagged: bool) -> None:
    found = check_length(SOURCE, translation, target, bounds)
    assert (found is not None) is flagged
    if found:
        assert found.flag is Flag.LENGTH_RATIO
        assert f"{length_ratio(SOURCE, translation):.2f}× the source's length" in found.detail
        assert "ar-en translations measured 0.50–2.00× (1st–99th percentile)" in found.detail


def test_short_sources_are_not_measured() -> None:
    short = "نعم، قال الوزير."
    assert text_length(short) < MIN_SOURCE_CHARS
    assert length_ratio(short, "Yes, the minister said so at considerable length today.") is None
    assert check_length(short, "Yes, the minister said so at considerable length today.", "en", BOUNDS) is None


def test_what_is_counted() -> None:
    """Whitespace and combining marks are not characters of the ratio: spacing and vowel marks do not move it."""
    assert text_length("a  b\t.") == text_length("ab.") == 3
    assert text_length("كَتَبَ") == text_length("كتب") == 3


def test_the_bounds_file() -> None:
    """Checked in (no corpus needed to read it): both pairs, plausible bounds around a ratio of 1."""
    data = json.loads(BOUNDS_FILE.read_text(encoding="utf-8"))
    assert data["command"] == "python bench/length_bounds.py"
    assert str(MIN_SOURCE_CHARS) in data["definition"]
    assert set(data["pairs"]) == {"ar-en", "ar-es"}
    for pair in data["pairs"].values():
        assert 0 < pair["low"] < 1 < pair["high"] < 3
        assert pair["low"] < pair["median"] < pair["high"]
        assert pair["sentences"] > 1000


def test_check_length_uses_the_bounds_file_by_default() -> None:
    pairs = json.loads(BOUNDS_FILE.read_text(encoding="utf-8"))["pairs"]
    assert load_bounds() == {p: (b["low"], b["high"]) for p, b in pairs.items()}
    low, high = load_bounds()["ar-en"]
    inside = "x" * round(text_length(SOURCE) * (low + high) / 2)
    below = "x" * int(text_length(SOURCE) * low * 0.9)
    assert check_length(SOURCE, inside, "en") is None
    found = check_length(SOURCE, below, "en")
    assert found is not None and f"measured {low:.2f}–{high:.2f}×" in found.detail


def test_the_bounds_are_what_the_corpus_measures() -> None:
    if corpus_dir() is None:
        pytest.skip("shared corpus not found (tarjama.paths.corpus_dir() is None; set TARJAMA_CORPUS)")
    proc = subprocess.run([sys.executable, "bench/length_bounds.py", "--check"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# -- quotes --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "translation", "expected"), [
    ("قال «سنعود»", 'He said "we will return"', None),                      # « » kept as straight quotes
    ("قال «سنعود»", "He said “we will return”", None),                      # as curly quotes
    ("قال «سنعود»", "Dijo «volveremos»", None),
    ("قال «سنعود»", "He said ‘we will return’", None),
    ("قال «سنعود»", "Er sagte „wir kommen zurück“", None),
    ('قال "سنعود"', "He said 'we will return'", None),
    ("قال ”سنعود“", "He said “we will return”", None),                      # Arabic typing's reversed curly pair
    ("قال «سنعود»", "He said we will return", "source has 1 quoted span, translation 0"),
    ('قال «سنعود» و"لن نستسلم"', 'He said "we will return" and will not give up',
     "source has 2 quoted spans, translation 1"),
    ("قال “سنعود”", "He said we'll return to the students' union", "source has 1 quoted span, translation 0"),
    ("قال: «سنعود", 'He said: "we will return', None),                      # a quotation cut by a sentence end
    ("قال: «سنعود", "He said: 'We will return", None),
    ("سنعود»", "We will return!'", None),
    ("لا اقتباس هنا", "No quotation here.", None),
    ("لا اقتباس هنا", 'An "extra" quotation.', None),                      # more is not flagged
])
def test_quotes(source: str, translation: str, expected: str | None) -> None:
    found = check_quotes(source, translation)
    assert (found.detail if found else None) == expected
    assert found is None or found.flag is Flag.QUOTES


@pytest.mark.parametrize(("text", "spans"), [
    ("don't l'Europe the students' union in the '90s", 0),   # apostrophes
    ("the 'rock' band's 'hit'", 2),
    ('«a «b» c» "d" “e” „f“ ‹g›', 6),
    ("", 0),
])
def test_quoted_spans(text: str, spans: int) -> None:
    assert quoted_spans(text) == spans


# -- all of them ---------------------------------------------------------------------------------------

def test_run_checks_in_order() -> None:
    source = "قال الوزير «تأثر ٣٫٥ مليون شخص في عام ٢٠٢٣ بالفيضانات الأخيرة»."
    assert run_checks(source, "The minister said “3.5 million people were affected by floods in 2023”.", "en") == []
    found = run_checks(source, "35 people.", "en")
    assert [f.flag for f in found] == [Flag.NUMBERS, Flag.LENGTH_RATIO, Flag.QUOTES]
    assert all(isinstance(f, Finding) and f.detail for f in found)
