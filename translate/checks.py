"""Faithfulness checks over one source sentence and its translation: numbers, length, quotations.

A model that drops a figure, changes a year, stops halfway or loses a quotation produces fluent text that
reads as correct; these checks look for what a reader cannot see without the source. Each check is one
function returning a ``Finding`` (the flag and a sentence an editor reads on hover) or None; ``run_checks``
runs them all in a fixed order.

The source is Arabic. Only the standard library is used; the length bounds are data, measured on the
team's corpus by ``bench/length_bounds.py`` into ``length_bounds.json`` beside this file.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tarjama.translate.flags import Flag

__all__ = [
    "ARABIC_DIGITS",
    "BOUNDS_FILE",
    "MIN_SOURCE_CHARS",
    "Finding",
    "Number",
    "check_length",
    "check_numbers",
    "check_quotes",
    "length_ratio",
    "load_bounds",
    "numbers",
    "quoted_spans",
    "run_checks",
    "text_length",
]


@dataclass(frozen=True)
class Finding:
    """A check's verdict on one sentence: its flag, and what an editor reads on hover (names the values)."""

    flag: Flag
    detail: str


# ===================================================================================================
# numbers

# The one home of the digit table: Arabic-Indic (U+0660..) and Eastern Arabic-Indic/Persian (U+06F0..) digits.
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_AR_DECIMAL, _AR_THOUSANDS = "\u066b", "\u066c"  # ٫ ٬: unambiguous, unlike "." and ","
# The one home of their Latin forms (the Translator's model input and passthrough use it too).
ARABIC_SEPARATORS = {_AR_DECIMAL: ".", _AR_THOUSANDS: ","}
_DISPLAY = str.maketrans({**ARABIC_SEPARATORS, "٪": "%"})

# A run of digits joined by separators; the lookbehind keeps a match from starting inside a number.
_CHUNK = re.compile(r"(?<![0-9])[0-9]+(?:[.,\u066b\u066c][0-9]+)*")
# Spaces that group thousands ("1 000 000"): the no-break ones are typography, never a gap between numbers.
_GROUP_SPACES = "\u00a0\u202f\u2009"
_SPACE_GROUP = re.compile(rf"[ {_GROUP_SPACES}]")
_HEAD = re.compile(r"[1-9][0-9]{0,2}")                   # first group of a space-grouped number
_TAIL = re.compile(r"[0-9]{3}(?:[.,\u066b][0-9]+)?")     # a following group (the last may carry decimals)
_PERCENT_SIGN = "%٪"
# Percent words after a number, in the languages a translation may be in (and the Arabic source's own).
_PERCENT_WORD = re.compile(
    r"\s*-?\s*(?:per\s?cent|percent|pct\b|por\s?ciento|pour\s?cent|prozent|"
    r"(?:في\s*ال|بال)م(?:ئة|ائة|اءة|ية))",
    re.IGNORECASE,
)
_PERCENT_AFTER = re.compile(rf"[ {_GROUP_SPACES}]?[{_PERCENT_SIGN}]")
# Between the two ends of a range ("20-30%", "٢٠ إلى ٣٠٪"): the first end shares the second's percent.
_RANGE_JOIN = re.compile(r"\s*(?:[-–—]|to|and|a|al|y|et|bis|إلى|الى|و|حتى)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Number:
    """A number as written (``text``, Arabic digits and separators shown Western), every value it can be
    read as (canonical decimals: "1000", "3.5"), whether it is a percentage, and its offset."""

    text: str
    values: frozenset[str]
    percent: bool
    start: int

    def __str__(self) -> str:
        return f"{self.text}%" if self.percent and not self.text.endswith("%") else self.text


def numbers(text: str, others: frozenset[str] | None = None) -> list[Number]:
    """The numbers of ``text`` in order, each with all its plausible readings (see ``check_numbers``).

    ``others`` are the values found in the other side of the pair: a group of digits separated by plain spaces
    ("1 000 000") is read as one number only when that number is among them, else as separate numbers
    ("March 15 100 people"). No-break and thin spaces always group.
    """
    digits = text.translate(ARABIC_DIGITS)
    chunks = list(_CHUNK.finditer(digits))
    found: list[Number] = []
    i = 0
    while i < len(chunks):
        end = _space_group_end(digits, chunks, i, others or frozenset())
        start, stop = chunks[i].start(), chunks[end].end()
        found += _read(digits, text, start, stop)
        i = end + 1
    return _share_range_percent(digits, found)


def _space_group_end(digits: str, chunks: Sequence[re.Match[str]], i: int, others: frozenset[str]) -> int:
    """Index of the last chunk of a space-grouped number starting at chunk ``i`` (``i`` itself if none)."""
    if not _HEAD.fullmatch(chunks[i].group()):
        return i
    end, always = i, True
    while end + 1 < len(chunks):
        gap = digits[chunks[end].end() : chunks[end + 1].start()]
        if not (_SPACE_GROUP.fullmatch(gap) and _TAIL.fullmatch(chunks[end + 1].group())):
            break
        always = always and gap in _GROUP_SPACES
        end += 1
        if not re.fullmatch(r"[0-9]{3}", chunks[end].group()):
            break  # a decimal part ends the number
    if end == i:
        return i
    joined = _SPACE_GROUP.sub("", digits[chunks[i].start() : chunks[end].end()])
    return end if always or _readings(joined) & others else i


def _read(digits: str, text: str, start: int, stop: int) -> list[Number]:
    """One Number for ``digits[start:stop]``, or one per digit run where no reading fits ("1.2.3", "3.5.2020")."""
    written = _SPACE_GROUP.sub("", digits[start:stop])
    values = _readings(written)
    shown = text[start:stop].translate(ARABIC_DIGITS).translate(_DISPLAY)
    if values:
        return [Number(shown, values, _is_percent(digits, start, stop), start)]
    parts = list(re.finditer(r"[0-9]+", digits[start:stop]))
    return [Number(p.group(), frozenset({_canonical(p.group(), "")}),
                   _is_percent(digits, start + p.start(), start + p.end()), start + p.start()) for p in parts]


def _readings(written: str) -> frozenset[str]:
    """Every value ``written`` (Western digits, separators . , ٫ ٬) can stand for.

    ٫ is a decimal point and ٬ a thousands separator. "." and "," are either: a thousands separator is
    followed by groups of exactly three digits after a first group of 1-3 digits not starting with 0; a decimal
    point occurs once, after every thousands separator; each character keeps one role in a number and the two
    characters never share one. "1,000" reads 1000 or 1; "3,5" reads 3.5; "1.234,5" reads 1234.5.
    """
    groups = re.split(r"[.,\u066b\u066c]", written)
    seps = re.findall(r"[.,\u066b\u066c]", written)
    if not seps:
        return frozenset({_canonical(written, "")})
    ambiguous = sorted(set(seps) & {".", ","})
    roles = [{}]  # each: separator character -> "t" (thousands) or "d" (decimal)
    for ch in ambiguous:
        roles = [{**r, ch: role} for r in roles for role in "td"]
    out = set()
    for r in roles:
        role = {_AR_DECIMAL: "d", _AR_THOUSANDS: "t", **r}
        if len(ambiguous) == 2 and role["."] == role[","]:
            continue
        value = _interpret(groups, [role[s] for s in seps])
        if value is not None:
            out.add(value)
    return frozenset(out)


def _interpret(groups: list[str], roles: list[str]) -> str | None:
    """The value of digit ``groups`` joined by separators of the given roles, or None where they cannot be."""
    if roles.count("d") > 1 or ("d" in roles and roles[-1] != "d"):
        return None
    thousands = roles[:-1] if roles[-1] == "d" else roles
    if thousands:
        if not re.fullmatch(r"[1-9][0-9]{0,2}", groups[0]):
            return None
        if any(len(g) != 3 for g in groups[1 : len(thousands) + 1]):
            return None
    whole = "".join(groups[: len(thousands) + 1])
    fraction = groups[-1] if roles[-1] == "d" else ""
    return _canonical(whole, fraction)


def _canonical(whole: str, fraction: str) -> str:
    """A decimal without leading or trailing zeros ("007" → "7", "3.50" → "3.5", "2.0" → "2")."""
    whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def _is_percent(digits: str, start: int, stop: int) -> bool:
    """A percent sign after the number (or directly before it: "٪٥٠"), or a percent word after it."""
    if _PERCENT_AFTER.match(digits, stop) or _PERCENT_WORD.match(digits, stop):
        return True
    before = digits[start - 1] if start else ""
    return bool(before) and before in _PERCENT_SIGN and not (start > 1 and digits[start - 2].isdigit())


def _share_range_percent(digits: str, found: list[Number]) -> list[Number]:
    """"20-30%" is two percentages: the first end of a range takes the second's percent."""
    out = list(found)
    for k in range(len(out) - 2, -1, -1):
        a, b = out[k], out[k + 1]
        gap = digits[a.start + len(a.text) : b.start]
        if b.percent and not a.percent and _RANGE_JOIN.fullmatch(gap):
            out[k] = Number(a.text, a.values, True, a.start)
    return out


_MAX_PATH = 100  # augmenting-path length: far beyond any sentence's ambiguity, well within Python's recursion


def _values(found: Sequence[Number]) -> frozenset[str]:
    return frozenset(v for n in found for v in n.values)


def _fits(source: Number, translated: Number) -> bool:
    """A translated number renders a source number: a reading in common, and a source percentage stays one."""
    return bool(source.values & translated.values) and (translated.percent or not source.percent)


def _match(source: Sequence[Number], translated: Sequence[Number]) -> dict[int, int]:
    """The most source numbers paired with distinct translated numbers they fit, as {source index: translated
    index}: each takes the first free fit in order, then augmenting paths let an ambiguous number give up its
    reading for one that leaves another matched ("1,000" read as 1 frees it for a source 1000)."""
    by_value: dict[str, list[int]] = {}
    for t, number in enumerate(translated):
        for value in number.values:
            by_value.setdefault(value, []).append(t)
    fits = [sorted({t for v in s.values for t in by_value.get(v, ()) if _fits(s, translated[t])}) for s in source]
    owner: dict[int, int] = {}  # translated index -> source index
    for s, candidates in enumerate(fits):
        free = next((t for t in candidates if t not in owner), None)
        if free is not None:
            owner[free] = s

    def place(s: int, seen: set[int], depth: int) -> bool:
        for t in fits[s]:
            if t not in seen and depth < _MAX_PATH:
                seen.add(t)
                if t not in owner or place(owner[t], seen, depth + 1):
                    owner[t] = s
                    return True
        return False

    matched = set(owner.values())
    for s in range(len(source)):
        if s not in matched and fits[s]:
            place(s, set(), 0)
    return {s: t for t, s in owner.items()}


def check_numbers(source: str, translation: str, target: str = "en") -> Finding | None:
    """Flag numbers missing from the translation, extra in it, or changed (Flag.NUMBERS).

    Digits may be Western, Arabic-Indic or Persian; ٫ is a decimal point, ٬ a thousands separator. Because
    models write either convention whatever the target, "." and "," are read under every plausible role (see
    ``_readings``): "1,000" is 1000 or 1, "3,5" is 3.5, "1.000.000" and "1 000 000" are 1000000, and a
    number matches a source number when any of its readings equals any of the source's. ``target`` does
    not narrow the readings for that reason. Signs are not read: "2017-2020" is the two numbers of a range,
    never a negative one. A percentage (% ٪ or a percent word: percent, per cent, por ciento, pour cent,
    prozent, في المئة) must stay a percentage: "50" for "٥٠٪" is changed. Both sides are compared as
    multisets; leftover missing and extra numbers are paired in order of appearance as changed.

    Numbers written as words (خمسة, مليون, "five", "3.5 million" for 3,500,000) are out of scope: only
    digits are compared.
    """
    del target  # every convention is read for every target (above)
    src = numbers(source, _values(numbers(translation)))
    out = numbers(translation, _values(src))
    if not src and not out:
        return None
    pairs = _match(src, out)
    missing = [str(n) for i, n in enumerate(src) if i not in pairs]
    used = set(pairs.values())
    extra = [str(n) for i, n in enumerate(out) if i not in used]
    if not missing and not extra:
        return None
    k = min(len(missing), len(extra))
    parts = []
    if k:
        parts.append("changed " + ", ".join(f"{a} → {b}" for a, b in zip(missing[:k], extra[:k])))
    if missing[k:]:
        parts.append("missing " + ", ".join(missing[k:]))
    if extra[k:]:
        parts.append("extra " + ", ".join(extra[k:]))
    return Finding(Flag.NUMBERS, "; ".join(parts))


# ===================================================================================================
# length

BOUNDS_FILE = Path(__file__).with_name("length_bounds.json")
# Below this many counted characters a source is too short for its ratio to mean anything ("نعم." → "Yes.").
MIN_SOURCE_CHARS = 20


def text_length(text: str) -> int:
    """Characters that are neither whitespace nor combining marks (Mn).

    Whitespace is left out so that detokenization spacing ("word ." / "word.") does not move the ratio; Arabic
    vowel marks (harakat) are left out so that a vowelled quotation is not counted twice as long.
    """
    return sum(1 for ch in text if not ch.isspace() and unicodedata.category(ch) != "Mn")


def length_ratio(source: str, translation: str) -> float | None:
    """``text_length(translation) / text_length(source)``, or None for a source under MIN_SOURCE_CHARS.

    The one definition: ``bench/length_bounds.py`` measures the bounds with it.
    """
    n = text_length(source)
    return text_length(translation) / n if n >= MIN_SOURCE_CHARS else None


@lru_cache(maxsize=1)
def load_bounds() -> dict[str, tuple[float, float]]:
    """The measured bounds by pair ("ar-en": (1st, 99th percentile)) from ``length_bounds.json``."""
    pairs = json.loads(BOUNDS_FILE.read_text(encoding="utf-8"))["pairs"]
    return {pair: (float(b["low"]), float(b["high"])) for pair, b in pairs.items()}


def check_length(source: str, translation: str, target: str,
                 bounds: Mapping[str, tuple[float, float]] | None = None) -> Finding | None:
    """Flag a translation whose length ratio (``length_ratio``) is outside the pair's bounds (Flag.LENGTH_RATIO).

    The bounds are the 1st and 99th percentiles of the ratio on the team's parallel corpus, so about 2% of
    good human translations are flagged too: a hint to look, not a verdict. A truncated or looping output
    is what it is for. The pair is ``ar-{target}``; a pair without bounds, and a source under
    MIN_SOURCE_CHARS counted characters, are not checked.
    """
    pair = f"ar-{target}"
    limits = (load_bounds() if bounds is None else bounds).get(pair)
    ratio = length_ratio(source, translation)
    if limits is None or ratio is None:
        return None
    low, high = limits
    if low <= ratio <= high:
        return None
    return Finding(Flag.LENGTH_RATIO, f"translation is {ratio:.2f}× the source's length; {pair} translations "
                                      f"measured {low:.2f}–{high:.2f}× (1st–99th percentile)")


# ===================================================================================================
# quotations

_SINGLE_OPEN = "'‘‚"
_SINGLE_CLOSE = "'’"
_BEFORE_OPEN = "([{«“„\"‹—–-/:"
_BEFORE_CLOSE = ".!?,;:…"


def quoted_spans(text: str) -> int:
    """How many quoted spans ``text`` holds, over all quotation styles.

    « » and ‹ › pair by nesting; curly doubles pair in order whichever way they face (“…”, „…“, and Arabic
    typing's ”…“); straight " pair in order. A quotation that a sentence break cut counts too: an opener left
    open at the end, or a closer with no opener. Single quotes (' ‘ ’ ‚) count as a word-initial opener and
    a word-final closer, a cut one only when it cannot be an apostrophe (an opener before a letter at the
    end, a closer after punctuation: "bit!'"), so don't, l'Europe, the students' union and '90s make no span.
    """
    return _guillemets(text) + _curly_doubles(text) + (text.count('"') + 1) // 2 + _singles(text)


def _guillemets(text: str) -> int:
    spans = 0
    for opener, closer in ("«»", "‹›"):
        depth = 0
        for ch in text:
            if ch == opener:
                depth += 1
            elif ch == closer:
                spans += 1  # closes an open span, or ends one opened in an earlier sentence
                depth = max(depth - 1, 0)
        spans += depth
    return spans


def _curly_doubles(text: str) -> int:
    """Closed pairs, plus one left open; a closer with no opener reads as an opener left open (same count)."""
    spans, open_ = 0, False
    for ch in text:
        if not open_ and ch in "“”„":
            open_ = True
        elif open_ and ch in "”“":
            spans, open_ = spans + 1, False
    return spans + open_


def _singles(text: str) -> int:
    spans, opened = 0, None  # offset of the open quote
    for i, ch in enumerate(text):
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if opened is None and ch in _SINGLE_OPEN and (before.isspace() or before in _BEFORE_OPEN) \
                and not after.isspace():
            opened = i
        elif ch in _SINGLE_CLOSE and not before.isspace() and not after.isalnum():
            if opened is not None:
                spans, opened = spans + 1, None
            elif before in _BEFORE_CLOSE:
                spans += 1  # "I got bit!'": the quotation began in an earlier sentence
    if opened is not None and opened + 1 < len(text) and text[opened + 1].isalpha():
        spans += 1  # "said: 'The investigation": it goes on in the next sentence
    return spans


def check_quotes(source: str, translation: str) -> Finding | None:
    """Flag a translation with fewer quoted spans than its source (Flag.QUOTES): a quotation lost its marks,
    so a reader can no longer tell whose words they are. Any style renders any other (« » as "…" is fine)."""
    have, need = quoted_spans(translation), quoted_spans(source)
    if have >= need:
        return None
    return Finding(Flag.QUOTES, f"source has {need} quoted span{'s' * (need != 1)}, translation {have}")


# ===================================================================================================


def run_checks(source: str, translation: str, target: str) -> list[Finding]:
    """Every check's finding for one sentence, in a fixed order: numbers, length, quotes."""
    found = (check_numbers(source, translation, target), check_length(source, translation, target),
             check_quotes(source, translation))
    return [f for f in found if f is not None]
