"""An article's date as written by Arabic news copy, to ISO ``YYYY-MM-DD``.

Exports name the article's date, and an editor checking a translation wants it; wire copy and saved
pages give it as ``2018-05-16``, ``16/05/2018`` (day first, as the Arab press writes it),
``16 مايو 2018`` (Egyptian and Gulf month names), ``16 أيار 2018`` (Levantine), ``16 أيار/مايو 2018``
(both), ``الأربعاء 16 مايو 2018م`` (a weekday before, the Gregorian-era ``م`` after), in Western or
Arabic-Indic digits.  Hijri dates are not read: they are a different calendar, not a different spelling.
"""

from __future__ import annotations

import datetime as dt
import re

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ـ": None})  # hamza/ya spellings, tatweel
_MARKS = re.compile(r"[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")  # bidi marks around copied dates

# Month names as _prepare spells them (plain alef, ya), by month: Egyptian/Gulf, Levantine and Iraqi,
# Algerian/Tunisian, Moroccan.
_MONTH_NAMES = (
    "يناير|كانون الثاني|كانون ثاني|جانفي",
    "فبراير|شباط|فيفري",
    "مارس|اذار",
    "ابريل|نيسان|افريل",
    "مايو|ايار|ماي",
    "يونيو|يونيه|حزيران|جوان",
    "يوليو|يوليه|تموز|جويلية|يوليوز",
    "اغسطس|اب|اوت|غشت",
    "سبتمبر|ايلول|شتنبر",
    "اكتوبر|تشرين الاول|تشرين اول",
    "نوفمبر|تشرين الثاني|تشرين ثاني|نونبر",
    "ديسمبر|كانون الاول|كانون اول|دجنبر",
)
_MONTHS = {name: month for month, names in enumerate(_MONTH_NAMES, start=1) for name in names.split("|")}

_MONTH = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_WEEKDAY = r"(?:(?:يوم\s+)?(?:ال)?(?:احد|اثنين|ثلاثاء|اربعاء|خميس|جمعة|سبت)\s*[،,-]?\s*)?"
_DATE = re.compile(
    rf"""{_WEEKDAY}(?<!\d)(?:
        (?P<iy>\d{{4}})[-/.](?P<im>\d{{1,2}})[-/.](?P<id>\d{{1,2}})            # 2018-05-16
      | (?P<nd>\d{{1,2}})[-/.](?P<nm>\d{{1,2}})[-/.](?P<ny>\d{{4}})            # 16/05/2018
      | (?P<wd>\d{{1,2}})\s+(?:من\s+)?(?P<wm>{_MONTH})(?:\s*/\s*(?P<wm2>{_MONTH}))?\s*[،,]?\s+(?P<wy>\d{{4}})
    )(?!\d)(?:\s*م)?""",
    re.VERBOSE,
)
_FRAME = " \t\u00a0.,،:-–—()[]*_#|"  # what a date line may carry around the date (Markdown emphasis too)


def parse_date(text: str) -> str | None:
    """``text`` as ``YYYY-MM-DD`` when the whole of it (give or take surrounding punctuation) is a date."""
    match = _DATE.fullmatch(_prepare(text).strip(_FRAME))
    return _iso(match) if match else None


def find_date(text: str) -> str | None:
    """The first date written anywhere in ``text`` (a byline, a page's date line), as ``YYYY-MM-DD``.

    For text known to hold the article's date; an article body mentions other dates."""
    for match in _DATE.finditer(_prepare(text)):
        if iso := _iso(match):
            return iso
    return None


def iso_date(value: str | None) -> str | None:
    """A date from page metadata (``2018-05-16T10:30:00+03:00``, ``2018/05/16``, ``16 مايو 2018``) as
    ``YYYY-MM-DD``: its own calendar day, whatever its time zone."""
    if not value:
        return None
    head = re.match(r"\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2})(?=$|[T\s])", value.translate(_DIGITS))
    return parse_date(head.group(1)) if head else parse_date(value)


def _prepare(text: str) -> str:
    return " ".join(_MARKS.sub("", text).translate(_DIGITS).translate(_LETTERS).split())


def _iso(match: re.Match[str]) -> str | None:
    """The match as an ISO date; None for one that no calendar has (31/02), or a month/month pair that disagrees."""
    g = match.groupdict()
    if g["iy"]:
        year, month, day = int(g["iy"]), int(g["im"]), int(g["id"])
    elif g["ny"]:
        year, month, day = int(g["ny"]), int(g["nm"]), int(g["nd"])
    else:
        year, month, day = int(g["wy"]), _MONTHS[g["wm"]], int(g["wd"])
        if g["wm2"] and _MONTHS[g["wm2"]] != month:
            return None
    if not 1900 <= year <= 2100:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None
