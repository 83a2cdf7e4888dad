"""Glossaries: an Arabic term and its translation per target language, read from CSV, TSV or YAML, and found
in real Arabic text.

A file is a table whose header row names languages (``ar,en,es``): one row is one term and its
translations, the "equivalent term set" shape translation tools exchange.  An empty cell is no rule for
that language.  A row that cannot be used is a ``GlossaryProblem`` naming the file, row and problem; the
other rows still load.  YAML holds the same rows, as a list of mappings (``- {ar: …, en: …}``) or as a
mapping of Arabic terms (``المنظمة الدولية للهجرة: {en: …, es: …}``).

Matching is spelling-insensitive the way Arabic news varies: diacritics and tatweel are ignored and the
letters folded (أ إ آ ٱ → ا, ة → ه, ى → ي) on both sides; a term may carry attached clitics
(و ف, then ب ل ك, then the article ال, with ل + ال written لل), so «وللمنظمة الدولية للهجرة» is the term
«المنظمة الدولية للهجرة».  A match always starts at a word's start and ends at a word's end (no suffix:
«المنظمات» is not «المنظمة»), words are separated as in the term, and of overlapping matches the
longest (in words, then letters) wins.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tarjama.translate.languages import LANGUAGES
from tarjama.translate.segment import ARABIC_FOLD, ARABIC_MARKS

SOURCE_LANG = "ar"
FORMATS = (".csv", ".tsv", ".yaml", ".yml")
_MARK = re.compile(f"[{ARABIC_MARKS}]")
_WORD = re.compile(r"\w+")
_CONJUNCTIONS = ("", "و", "ف")
_PREPOSITIONS = ("", "ب", "ل", "ك")


def _clitics() -> tuple[tuple[str, bool], ...]:
    """Every attached prefix, longest first, with whether it ends in the article (ال, or ل + ال = لل)."""
    out = {}
    for c in _CONJUNCTIONS:
        for p in _PREPOSITIONS:
            out[c + p] = False
            out[c + ("ل" if p == "ل" else p + "ا") + "ل"] = True  # وال, بال, لل, فلل, ...
    return tuple(sorted(out.items(), key=lambda kv: -len(kv[0])))


CLITICS = _clitics()


class GlossaryError(ValueError):
    """A glossary file that cannot be read at all (missing, not UTF-8, not CSV/TSV/YAML, no Arabic column)."""


@dataclass(frozen=True)
class GlossaryProblem:
    """One row left out of a glossary, and why."""

    file: str
    row: int
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.problem}"


@dataclass(frozen=True)
class Term:
    """One glossary row: the Arabic term as written, its translations, where it came from."""

    source: str
    targets: Mapping[str, str]
    file: str = ""
    row: int = 0


@dataclass(frozen=True)
class Match:
    """A term found in a text. ``start``/``end`` cover the term's letters (marks included) in the original
    text; ``prefix`` is the attached clitic as written there ("" when none), starting at ``start - len(prefix)``."""

    start: int
    end: int
    prefix: str
    term: str
    target: str

    @property
    def word_start(self) -> int:
        return self.start - len(self.prefix)


def fold(text: str) -> str:
    """The matching form of a text: letters folded, diacritics and tatweel dropped, Latin lower-cased."""
    return _MARK.sub("", text.translate(ARABIC_FOLD)).lower()


def contains(translation: str, target: str) -> bool:
    """Does ``translation`` hold the term translation ``target``: any case, whitespace runs alike, whole words?"""
    words = target.split()
    if not words:
        return False
    pattern = r"\s+".join(re.escape(w) for w in words)
    return re.search(rf"(?<!\w){pattern}(?!\w)", translation, re.IGNORECASE) is not None


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` character by character, with each folded character's offset in ``text``."""
    chars, offsets = [], []
    for i, ch in enumerate(text):
        f = fold(ch)
        chars.append(f)
        offsets += [i] * len(f)
    return "".join(chars), offsets


def _words(folded: str) -> tuple[list[str], list[str]]:
    """The words of a folded text and the separators between them: whitespace dropped from each, so
    «كوفيد - 19» and «كوفيد-19» separate alike, and a separator of only whitespace is one space."""
    found = list(_WORD.finditer(folded))
    gaps = ["".join(folded[a.end() : b.start()].split()) or " " for a, b in itertools.pairwise(found)]
    return [m.group() for m in found], gaps


@dataclass(frozen=True)
class _Entry:
    words: tuple[str, ...]
    gaps: tuple[str, ...]
    term: str
    target: str

    @property
    def letters(self) -> int:
        return sum(len(w) for w in self.words)


def _prefix_length(word: str, first: str) -> int | None:
    """Letters of ``word`` before the term's first word ``first`` (both folded), or None when it is not the term.

    A term written with the article keeps it: «والمنظمة» is و + «المنظمة»; only «للمنظمة» (ل + ال) merges
    the article into the clitic."""
    if word == first:
        return 0
    bare = first[2:] if first.startswith("ال") and len(first) > 3 else None
    for clitic, article in CLITICS:
        if clitic and not article and word == clitic + first:
            return len(clitic)
    for clitic, article in CLITICS:
        if article and word == clitic + (bare if bare is not None else first):
            return len(clitic)
    return None


class TargetGlossary:
    """A glossary's rules for one target language, indexed for matching."""

    def __init__(self, lang: str, terms: Iterable[Term]) -> None:
        self.lang = lang
        self._by_first: dict[str, list[_Entry]] = {}
        for term in terms:
            target = term.targets.get(lang, "").strip()
            words, gaps = _words(fold(term.source))
            if not target or not words:
                continue
            entry = _Entry(tuple(words), tuple(gaps), term.source, target)
            first = words[0]
            keys = {first, first[2:]} if first.startswith("ال") and len(first) > 3 else {first}
            for key in keys:
                self._by_first.setdefault(key, []).append(entry)
        for entries in self._by_first.values():
            entries.sort(key=lambda e: (-len(e.words), -e.letters))

    def __len__(self) -> int:
        return len({id(e) for entries in self._by_first.values() for e in entries})

    def find(self, text: str) -> list[Match]:
        """Every term in ``text``, left to right, longest first where matches overlap."""
        if not self._by_first:
            return []
        folded, offsets = _folded_with_offsets(text)
        spans = list(_WORD.finditer(folded))
        words, gaps = _words(folded)
        out: list[Match] = []
        i = 0
        while i < len(words):
            found = self._match_at(words, gaps, i)
            if found is None:
                i += 1
                continue
            entry, prefix = found
            last = spans[i + len(entry.words) - 1]
            start = offsets[spans[i].start() + prefix]
            word_start = offsets[spans[i].start()]
            end = _end_with_marks(text, offsets[last.end() - 1] + 1)
            out.append(Match(start, end, text[word_start:start], entry.term, entry.target))
            i += len(entry.words)
        return out

    def _match_at(self, words: list[str], gaps: list[str], i: int) -> tuple[_Entry, int] | None:
        word = words[i]
        candidates: list[_Entry] = []
        for clitic, _ in CLITICS:
            if word.startswith(clitic):
                candidates += self._by_first.get(word[len(clitic) :], [])
        best: tuple[_Entry, int] | None = None
        for entry in candidates:
            n = len(entry.words)
            if best and (n, entry.letters) <= (len(best[0].words), best[0].letters):
                continue
            prefix = _prefix_length(word, entry.words[0])
            if (prefix is not None and tuple(words[i + 1 : i + n]) == entry.words[1:]
                    and tuple(gaps[i : i + n - 1]) == entry.gaps):
                best = (entry, prefix)
        return best


def _end_with_marks(text: str, end: int) -> int:
    """``end`` moved past diacritics and tatweel that belong to the last letter."""
    while end < len(text) and fold(text[end]) == "" and not text[end].isspace():
        end += 1
    return end


@dataclass(frozen=True)
class Glossary:
    """Terms by their Arabic form; ``problems`` lists the rows left out when it was read."""

    terms: tuple[Term, ...] = ()
    problems: tuple[GlossaryProblem, ...] = ()
    _cache: dict[str, TargetGlossary] = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def languages(self) -> list[str]:
        return sorted({lang for t in self.terms for lang, v in t.targets.items() if v})

    def for_target(self, lang: str) -> TargetGlossary:
        """The rules for translations into ``lang`` (built once)."""
        if lang not in self._cache:
            self._cache[lang] = TargetGlossary(lang, self.terms)
        return self._cache[lang]

    def find(self, text: str, lang: str) -> list[Match]:
        return self.for_target(lang).find(text)

    def merged(self, other: Glossary | None) -> Glossary:
        """This glossary with ``other``'s rows added; for a term in both, ``other``'s translations win per language."""
        if other is None or not other.terms:
            return self
        by_key: dict[str, Term] = {fold(t.source): t for t in self.terms}
        for t in other.terms:
            key = fold(t.source)
            old = by_key.get(key)
            targets = {**old.targets, **{k: v for k, v in t.targets.items() if v}} if old else dict(t.targets)
            first = old or t  # the spelling and place of the rule's first appearance
            by_key[key] = Term(first.source, targets, first.file, first.row)
        return Glossary(tuple(by_key.values()), self.problems + other.problems)

    def rows(self, languages: Sequence[str] | None = None) -> list[list[str]]:
        """The glossary as a table: a header of languages (Arabic first), then one row per term."""
        langs = [SOURCE_LANG, *(languages or self.languages)]
        return [langs] + [[t.source, *(t.targets.get(lang, "") for lang in langs[1:])] for t in self.terms]

    def fingerprint(self) -> str:
        """A short digest of the rules (terms in order, every language): equal rules, equal fingerprints."""
        return hashlib.sha256(self.to_csv().encode("utf-8")).hexdigest()[:16]

    def to_csv(self, languages: Sequence[str] | None = None) -> str:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(self.rows(languages))
        return out.getvalue()


# -- reading ----------------------------------------------------------------------------------------------

def load_glossary(path: str | Path) -> Glossary:
    """Read a CSV, TSV or YAML glossary; rows that cannot be used are ``problems`` (see the module docstring).

    Raises GlossaryError when the file as a whole cannot be read."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise GlossaryError(f"{path}: unknown glossary format '{path.suffix}' (use {', '.join(FORMATS)})")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise GlossaryError(f"{path}: glossary file not found") from None
    except OSError as err:
        raise GlossaryError(f"{path}: cannot read the glossary: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise GlossaryError(f"{path}: not UTF-8 text (save the glossary as UTF-8)") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return glossary_from_yaml(text, str(path))
    return glossary_from_table(text, str(path), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")


def glossary_from_table(text: str, name: str = "<glossary>", delimiter: str = ",") -> Glossary:
    """A glossary from CSV/TSV text whose first row names the languages."""
    try:
        table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as err:
        raise GlossaryError(f"{name}: not a valid {'TSV' if delimiter == chr(9) else 'CSV'} table: {err}") from None
    table = [(i, row) for i, row in enumerate(table, start=1) if any(cell.strip() for cell in row)]
    if not table:
        raise GlossaryError(f"{name}: empty glossary (expected a header row of languages, e.g. ar,en,es)")
    header_row, header = table[0]
    return glossary_from_rows(header, [row for _, row in table[1:]], name,
                              numbers=[i for i, _ in table[1:]], header_row=header_row)


def glossary_from_rows(header: Sequence[str], rows: Iterable[Sequence[Any]], name: str = "<glossary>", *,
                       numbers: Sequence[int] | None = None, header_row: int = 1) -> Glossary:
    """A glossary from a header of language codes and rows of cells (a CSV's, or the page's table)."""
    langs = [str(h or "").strip().lower() for h in header]
    if SOURCE_LANG not in langs:
        raise GlossaryError(f"{name}: row {header_row}: the header has no 'ar' column (expected language codes, "
                            "e.g. ar,en,es)")
    problems = [GlossaryProblem(name, header_row, f"column '{lang}' is not a language code (ISO 639-1); ignored")
                for lang in langs if lang and lang not in LANGUAGES]
    usable = [i for i, lang in enumerate(langs) if lang in LANGUAGES]
    records = []
    for k, row in enumerate(rows):
        cells = ["" if c is None else str(c).strip() for c in row]
        number = numbers[k] if numbers else header_row + 1 + k
        if len(cells) > len(langs) and any(cells[len(langs) :]):
            problems.append(GlossaryProblem(name, number, f"{len(cells)} cells for {len(langs)} columns"))
            continue
        records.append((number, {langs[i]: cells[i] for i in usable if i < len(cells)}))
    terms, more = _terms(records, name)
    return Glossary(terms, tuple(problems) + more)


def glossary_from_yaml(text: str, name: str = "<glossary>") -> Glossary:
    """A glossary from YAML: a list of ``{ar: …, en: …}`` rows, or a mapping of Arabic terms to ``{en: …}``."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise GlossaryError(f"{name}: not valid YAML: {str(err).splitlines()[0]}") from None
    if isinstance(data, Mapping):
        data = [{SOURCE_LANG: k, **(v if isinstance(v, Mapping) else {"?": v})} for k, v in data.items()]
    if not isinstance(data, list):
        raise GlossaryError(f"{name}: expected a list of rows ({{ar: …, en: …}}) or a mapping of Arabic terms")
    records, problems = [], []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, Mapping):
            problems.append(GlossaryProblem(name, number, "not a mapping of language codes to text"))
            continue
        bad = [str(k) for k in item if str(k).strip().lower() not in LANGUAGES]
        if bad:
            problems.append(GlossaryProblem(name, number, f"'{bad[0]}' is not a language code (ISO 639-1)"))
            continue
        records.append((number, {str(k).strip().lower(): "" if v is None else str(v).strip() for k, v in item.items()}))
    terms, more = _terms(records, name)
    return Glossary(terms, tuple(problems) + more)


def _terms(records: Iterable[tuple[int, dict[str, str]]],
           name: str) -> tuple[tuple[Term, ...], tuple[GlossaryProblem, ...]]:
    """Rows → terms: an Arabic term and at least one translation; a term repeated with other targets is refused."""
    terms: dict[str, Term] = {}
    problems = []
    for number, cells in records:
        source = cells.get(SOURCE_LANG, "")
        targets = {k: v for k, v in cells.items() if k != SOURCE_LANG and v}
        if not source:
            problems.append(GlossaryProblem(name, number, "no Arabic term (the 'ar' cell is empty)"))
        elif not _WORD.search(fold(source)):
            problems.append(GlossaryProblem(name, number, f"'{source}' has no letters to match"))
        elif not targets:
            problems.append(GlossaryProblem(name, number, f"'{source}': no translation in any language"))
        elif (key := " ".join(_words(fold(source))[0])) in terms:
            earlier = terms[key]
            if any(earlier.targets.get(k, v) != v for k, v in targets.items()):
                problems.append(GlossaryProblem(name, number, f"'{source}' repeats row {earlier.row} with other "
                                                              "translations; the first row is kept"))
            else:
                terms[key] = Term(earlier.source, {**earlier.targets, **targets}, name, earlier.row)
        else:
            terms[key] = Term(source, targets, name, number)
    return tuple(terms.values()), tuple(problems)
