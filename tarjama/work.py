"""An editor's work on one article: corrections, reviewed marks, summary edits and an undo, over the
model's result — and what of it a re-run of the article keeps.

The page holds a ``Work`` in the browser (its JSON form) and in the history; nothing here knows the
page.  The model's result is kept as it came (``original``); ``article()`` applies the work to it, so
an export is always "the model's output plus what a person changed", and the JSON keeps both.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tarjama.result import ArticleResult
from tarjama.translate.flags import needs_review

UNDO_DEPTH = 50  # edits an editor can step back through
WORK_VERSION = 1


def _int_keys(mapping: dict | None) -> dict[str, dict[int, str]]:
    """JSON turns sentence numbers into strings; the work uses ints."""
    return {lang: {int(i): str(t) for i, t in items.items()} for lang, items in (mapping or {}).items()}


@dataclass
class Work:
    """One article as an editor is working on it."""

    result: dict[str, Any]                   # ArticleResult.to_dict() of the model's run, never edited
    stem: str                                # export file names: "2018-05-16-un-conference…"
    key: str                                 # the article's identity for the history (text digest)
    edits: dict[str, dict[int, str]] = field(default_factory=dict)     # lang → sentence → corrected text
    reviewed: dict[str, list[int]] = field(default_factory=dict)       # lang → sentences marked reviewed
    summaries: dict[str, str] = field(default_factory=dict)            # lang → corrected summary
    notes: dict[str, dict[int, str]] = field(default_factory=dict)     # lang → sentence → how the edit came
    undo: list[dict[str, Any]] = field(default_factory=list)           # earlier states, newest last
    only_review: bool = False                                          # the tables show sentences to review

    # -- JSON (the browser's storage, the history) ------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"version": WORK_VERSION, "result": self.result, "stem": self.stem, "key": self.key,
                **self._edits_json(), "undo": self.undo, "only_review": self.only_review}

    def _edits_json(self) -> dict[str, Any]:
        return {"edits": {k: {str(i): t for i, t in v.items()} for k, v in self.edits.items()},
                "reviewed": {k: sorted(v) for k, v in self.reviewed.items()},
                "summaries": dict(self.summaries),
                "notes": {k: {str(i): t for i, t in v.items()} for k, v in self.notes.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Work | None:
        """The work stored by ``to_json``; None for nothing, another version or a damaged value (the
        browser's storage is the user's to clear, and a page must open whatever it finds there)."""
        if not isinstance(data, dict) or data.get("version") != WORK_VERSION or not data.get("result"):
            return None
        try:
            work = cls(data["result"], str(data.get("stem") or "article"), str(data.get("key") or ""),
                       only_review=bool(data.get("only_review")), undo=list(data.get("undo") or [])[-UNDO_DEPTH:])
            work._load_edits(data)
            ArticleResult.from_dict(work.result)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        return work

    def _load_edits(self, data: dict[str, Any]) -> None:
        self.edits = _int_keys(data.get("edits"))
        self.notes = _int_keys(data.get("notes"))
        self.reviewed = {k: sorted({int(i) for i in v}) for k, v in (data.get("reviewed") or {}).items()}
        self.summaries = {k: str(v) for k, v in (data.get("summaries") or {}).items()}

    # -- the article with the work applied ---------------------------------------------------------------

    def original(self) -> ArticleResult:
        return ArticleResult.from_dict(self.result)

    def article(self) -> ArticleResult:
        """The model's result with every correction, reviewed mark and summary edit applied."""
        return self.original().with_edits(self.edits, reviewed=self.reviewed, summaries=self.summaries,
                                          notes=self.notes)

    def counts(self, article: ArticleResult | None = None) -> dict[str, tuple[int, int]]:
        """Per language: (sentences still to review, sentences); ``article`` is ``self.article()`` if the caller
        has it already (it is a copy of the whole result)."""
        out = {}
        for lang, tr in (article or self.article()).translations.items():
            sents = tr.sentences()
            out[lang] = (sum(needs_review(s.flags) for s in sents), len(sents))
        return out

    def edited(self) -> int:
        """Corrections that differ from the model's output (what the exports mark ``edited``)."""
        original = self.original()
        return sum(1 for lang, items in self.edits.items() if lang in original.translations
                   for i, text in items.items()
                   if " ".join(text.split()) != " ".join(original.translations[lang].sentences()[i].text.split()))

    # -- changes (each one undoable) ----------------------------------------------------------------------

    def _remember(self) -> None:
        self.undo = [*self.undo, self._edits_json()][-UNDO_DEPTH:]

    def set_text(self, lang: str, i: int, text: str, note: str | None = None) -> bool:
        """Correct sentence ``i`` of ``lang``; False (and nothing remembered) when the text is what it was."""
        text = " ".join(str(text).split())
        current = self.article().translations[lang].sentences()[i].text
        if text == " ".join(current.split()) and note is None:
            return False
        self._remember()
        self.edits.setdefault(lang, {})[i] = text
        if note:
            self.notes.setdefault(lang, {})[i] = note
        else:
            self.notes.get(lang, {}).pop(i, None)
        return True

    def set_reviewed(self, lang: str, i: int, on: bool) -> bool:
        marked = set(self.reviewed.get(lang, []))
        if (i in marked) == on:
            return False
        self._remember()
        self.reviewed[lang] = sorted(marked | {i} if on else marked - {i})
        return True

    def set_summary(self, lang: str, text: str) -> bool:
        text = " ".join(str(text).split())
        if text == " ".join(self.article().summaries.get(lang, "").split()):
            return False
        self._remember()
        self.summaries[lang] = text
        return True

    def step_back(self) -> bool:
        """Undo the last change; False when there is none."""
        if not self.undo:
            return False
        *self.undo, last = self.undo
        self._load_edits(last)
        return True

    # -- a re-run of the article --------------------------------------------------------------------------

    def carried(self, new: ArticleResult, stem: str, key: str) -> tuple[Work, int, int]:
        """A Work over ``new`` keeping every correction and reviewed mark whose Arabic sentence is still there
        (matched by its text, nearest position first), and the summary edits when the article is the same;
        with how many corrections were kept and how many could not be (their source changed or is gone)."""
        work = Work(new.to_dict(), stem, key, only_review=self.only_review)
        old = self.original().sentences()
        where = _matches(old, new.sentences())
        kept = dropped = 0
        for lang, items in self.edits.items():
            for i, text in items.items():
                j = where.get(i)
                if j is None or lang not in new.translations:
                    dropped += 1
                    continue
                work.edits.setdefault(lang, {})[j] = text
                if i in self.notes.get(lang, {}):
                    work.notes.setdefault(lang, {})[j] = self.notes[lang][i]
                kept += 1
        for lang, marked in self.reviewed.items():
            if lang in new.translations:
                work.reviewed[lang] = sorted(where[i] for i in marked if where.get(i) is not None)
        if key == self.key:
            work.summaries = {k: v for k, v in self.summaries.items() if k in new.summaries}
        dropped += len(self.summaries) - len(work.summaries)
        return work, kept, dropped

    def would_drop(self, sentences: list[str], targets: Iterable[str], key: str) -> int:
        """How many corrections a re-run over ``sentences`` into ``targets`` could not keep (before running)."""
        where = _matches(self.original().sentences(), sentences)
        targets = set(targets)
        lost = sum(1 for lang, items in self.edits.items() for i in items
                   if lang not in targets or where.get(i) is None)
        return lost + (len(self.summaries) if key != self.key else 0)


def _matches(old: list[str], new: list[str]) -> dict[int, int]:
    """Old sentence index → new index of the same text: the same position when it holds it, else the nearest
    unused occurrence (an inserted paragraph shifts the rest)."""
    positions: dict[str, list[int]] = {}
    for j, text in enumerate(new):
        positions.setdefault(text, []).append(j)
    used: set[int] = set()
    out: dict[int, int] = {}
    for i, text in enumerate(old):
        free = [j for j in positions.get(text, []) if j not in used]
        if free:
            j = min(free, key=lambda j: abs(j - i))
            used.add(j)
            out[i] = j
    return out


def copy_work(work: Work) -> Work:
    """An independent copy (the page never mutates the value Gradio handed it)."""
    return copy.deepcopy(work)
