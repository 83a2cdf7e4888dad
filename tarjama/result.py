"""ArticleResult: everything one article run produced, and its JSON / Markdown forms.

The JSON form is the contract of every front door (CLI, batch, web export); its schema is
``tarjama/schema/article.schema.json`` and ``SCHEMA_ID`` names its version.
"""

from __future__ import annotations

import copy
import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tarjama.translate.flags import EXPLANATIONS, Flag, needs_review
from tarjama.translate.segment import is_arabic_script

# /2: timings are honest: "load" apart from "segment", and in a many-article call the shared stages are
# "chunk_*" (with "chunk_articles"), never one article's.  /3: each sentence's "details" (what a flag is
# about), "glossary" (terms and how they got in) and "protected" (Latin-script tokens), and per language
# "counts".  /4: the article's "headline" (Arabic and each translation) and "date", the flag "reviewed",
# and "summary_info.edited" (summaries an editor rewrote).  ``from_dict`` reads /1, /2 and /3 as well.
SCHEMA_ID = "tarjama.article/4"
READABLE_SCHEMAS = frozenset(f"tarjama.article/{n}" for n in range(1, 5))
SOURCE_LANG = "ar"
HOW = ("kept", "placeholder", "missed")  # how a glossary term or protected token reached a translation
# Said wherever output of generated random-weight models (``models.yaml`` with ``demo: true``) can end up.
DEMO_NOTICE = "generated random-weight models. This output is noise, not a translation."
LANGUAGE_NAMES = {"ar": "Arabic", "en": "English", "es": "Spanish", "fr": "French", "de": "German"}
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})
_EXPLAIN = {flag.value: text for flag, text in EXPLANATIONS.items()}


@dataclass
class SentenceResult:
    source: str
    text: str
    score: float | None
    flags: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # flag → what it is about (hover text, exports)
    glossary: list[dict[str, str]] = field(default_factory=list)   # {term, target, how}
    protected: list[dict[str, str]] = field(default_factory=list)  # {token, how}


@dataclass
class LanguageResult:
    """One target language: sentences aligned one-to-one with the source, in its paragraphs."""

    lang: str
    model: str
    revision: str
    engine: str
    paragraphs: list[list[SentenceResult]]

    @property
    def text(self) -> str:
        return "\n\n".join(" ".join(s.text for s in p if s.text) for p in self.paragraphs)

    def sentences(self) -> list[SentenceResult]:
        return [s for p in self.paragraphs for s in p]

    def counts(self) -> dict[str, dict[str, int]]:
        """Sentences per flag; glossary terms and protected tokens per way they got in (kept/placeholder/missed)."""
        sentences = self.sentences()
        flags = Counter(str(f) for s in sentences for f in s.flags)
        return {"flags": dict(sorted(flags.items())),
                "glossary": {how: sum(g["how"] == how for s in sentences for g in s.glossary) for how in HOW},
                "protected": {how: sum(p["how"] == how for s in sentences for p in s.protected) for how in HOW}}


@dataclass
class ModelInfo:
    task: str
    key: str
    model: str
    revision: str
    engine: str
    device: str
    compute_type: str
    license: str


@dataclass
class ArticleResult:
    """The result of ``Pipeline.run``."""

    paragraphs: list[list[str]]                      # source sentences by paragraph (cleaned)
    translations: dict[str, LanguageResult]
    summaries: dict[str, str]                        # "ar" and each target
    summary_info: dict[str, Any] | None              # model, chunks, rounds, strategy, input_tokens, score
    removed: list[dict[str, Any]]                    # what cleaning removed: kind, text, line
    models: list[ModelInfo]
    timings: dict[str, float]                        # seconds per stage (see tarjama.pipeline)
    id: str | None = None
    title: str | None = None
    source: dict[str, Any] = field(default_factory=dict)  # file/row when read from a file
    demo: bool = False                               # generated random-weight models: not a translation
    headline: dict[str, str] = field(default_factory=dict)  # "ar": the Arabic headline, each target its translation
    date: str | None = None                          # the article's date (YYYY-MM-DD) when known

    @property
    def text(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs)

    def sentences(self) -> list[str]:
        return [s for p in self.paragraphs for s in p]

    def with_edits(self, edits: Mapping[str, Mapping[int, str]], *,
                   reviewed: Mapping[str, Iterable[int]] | None = None,
                   summaries: Mapping[str, str] | None = None,
                   notes: Mapping[str, Mapping[int, str]] | None = None) -> ArticleResult:
        """A copy with an editor's work: ``edits[lang][i]`` replaces sentence ``i`` (article order).

        A changed sentence is flagged ``edited`` so every export shows which text a person wrote;
        its score and original flags stay the model's (the JSON keeps the record). Text equal to the
        model's output changes nothing, so applying the editor's whole table to the original result is
        idempotent. Whitespace runs (a newline typed in a cell) become one space: paragraphs come from
        the source, never from an edit.

        ``reviewed[lang]``: sentences an editor settled as they are (flag ``reviewed``). ``summaries[lang]``:
        a rewritten summary; the languages that changed are listed in ``summary_info["edited"]``.
        ``notes[lang][i]``: where an edited sentence's text came from (``details["edited"]``, e.g.
        "alternative 2 of 3"); a note on a sentence that is not edited is ignored, as its text is the model's.
        """
        edited = copy.deepcopy(self)
        for lang, changes in edits.items():
            for i, text in changes.items():
                _apply_edit(edited._sentence(lang, i), text)
        for lang, indexes in (reviewed or {}).items():
            for i in indexes:
                _add_flag(edited._sentence(lang, i), Flag.REVIEWED)
        for lang, by_sentence in (notes or {}).items():
            for i, note in by_sentence.items():
                _set_note(edited._sentence(lang, i), note)
        edited._edit_summaries(summaries or {})
        return edited

    def _sentence(self, lang: str, i: int) -> SentenceResult:
        sentences = self.translations[lang].sentences()
        if not 0 <= i < len(sentences):
            raise IndexError(f"{lang}: no sentence {i} (the article has {len(sentences)})")
        return sentences[i]

    def _edit_summaries(self, summaries: Mapping[str, str]) -> None:
        """Replace summary texts in place; record which languages changed (an unchanged text is no edit)."""
        changed = []
        for lang, text in summaries.items():
            if lang not in self.summaries:
                raise KeyError(f"no {lang} summary (the article has: {', '.join(self.summaries) or 'none'})")
            text = _one_line(text)
            if text != _one_line(self.summaries[lang]):
                self.summaries[lang] = text
                changed.append(lang)
        if changed:
            info = self.summary_info if self.summary_info is not None else {}
            info["edited"] = sorted({*info.get("edited", []), *changed})
            self.summary_info = info

    # -- JSON -----------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = {"schema": SCHEMA_ID, "id": self.id, "title": self.title, "headline": self.headline,
                "date": self.date, "source": self.source, "demo": self.demo, "source_lang": SOURCE_LANG,
                "paragraphs": self.paragraphs, "translations": {}, "summaries": self.summaries,
                "summary_info": self.summary_info, "removed": self.removed,
                "models": [asdict(m) for m in self.models], "timings": self.timings}
        for lang, tr in self.translations.items():
            data["translations"][lang] = {
                "model": tr.model, "revision": tr.revision, "engine": tr.engine, "text": tr.text,
                "counts": tr.counts(), "paragraphs": [[asdict(s) for s in p] for p in tr.paragraphs],
            }
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleResult:
        """An ArticleResult from ``to_dict``'s form, of this schema, /3 (no headline, date, reviewed flag or
        summary_info.edited), /2 (no details, glossary, protected, counts) or /1 (which differs from /2 only
        in timings). Any other schema id is refused rather than misread."""
        schema = data.get("schema")
        if schema is not None and schema not in READABLE_SCHEMAS:
            raise ValueError(f"not a tarjama article result this version reads: schema {schema!r}")
        translations = {
            lang: LanguageResult(lang, t["model"], t["revision"], t["engine"],
                                 [[SentenceResult(**s) for s in p] for p in t["paragraphs"]])
            for lang, t in data["translations"].items()
        }
        return cls(paragraphs=data["paragraphs"], translations=translations, summaries=data["summaries"],
                   summary_info=data.get("summary_info"), removed=data.get("removed", []),
                   models=[ModelInfo(**m) for m in data.get("models", [])], timings=data.get("timings", {}),
                   id=data.get("id"), title=data.get("title"), source=data.get("source") or {},
                   demo=bool(data.get("demo")), headline=dict(data.get("headline") or {}),
                   date=data.get("date"))

    # -- Markdown / text ------------------------------------------------------------------------------
    # Every text from the article or an editor goes through ``markdown_text``; every paragraph of a
    # right-to-left language is its own ``<div dir="rtl" lang="..">`` block (``_block``), so no line of
    # the Markdown holds two directions.

    def _demo_markdown(self) -> list[str]:
        return [f"> **DEMO**: {DEMO_NOTICE}", ""] if self.demo else []

    def _paragraph_texts(self, lang: str) -> list[str]:
        if lang == SOURCE_LANG:
            return [" ".join(p) for p in self.paragraphs]
        return [" ".join(s.text for s in p if s.text) for p in self.translations[lang].paragraphs]

    def language_markdown(self, lang: str) -> str:
        """One language alone (a batch folder's ``ID.<lang>.md``, an export's ``STEM.<lang>.md``; "ar" is
        the Arabic article): the DEMO notice if any, its headline as the heading, then its paragraphs."""
        out = self._demo_markdown()
        if self.headline.get(lang):
            out += _block(self.headline[lang], lang, "# ")
        for text in self._paragraph_texts(lang):
            out += _block(text, lang)
        return "\n".join(out)

    def summaries_markdown(self) -> str:
        """The summaries alone (a batch folder's ``ID.summary.md``), a section per language."""
        out = self._demo_markdown()
        for lang, text in self.summaries.items():
            out += [f"## {_language_name(lang)}", "", *_block(text, lang)]
        return "\n".join(out)

    def to_markdown(self) -> str:
        """A readable report: a demo warning, the headline (translated, then Arabic), the summaries, the Arabic
        article, each translation, the sentences still to review, what cleaning removed, the models."""
        out = [*self._demo_markdown(), *self._heading_markdown()]
        if self.summaries:
            out += ["## Summaries", ""]
            for lang, text in self.summaries.items():
                out += [f"**{_language_name(lang)}**", "", *_block(text, lang)]
        out += ["## العربية (Arabic)", ""]
        for text in self._paragraph_texts(SOURCE_LANG):
            out += _block(text, SOURCE_LANG)
        for lang in self.translations:
            out += [f"## {_language_name(lang)}", ""]
            for text in self._paragraph_texts(lang):
                out += _block(text, lang)
        out += [*self._review_markdown(), *self._removed_markdown()]
        models = ", ".join(f"{m.key}: {m.model}@{m.revision} ({m.engine})" for m in self.models)
        out += [f"_Models: {markdown_text(models)}_", ""]
        return "\n".join(out)

    def display_headline(self) -> tuple[str, str]:
        """The headline a report is titled with, and its language: the first translated headline, else the
        Arabic headline or the title, else "Article"."""
        for lang in self.translations:
            if self.headline.get(lang):
                return self.headline[lang], lang
        text = self.headline.get(SOURCE_LANG) or self.title
        if not text:
            return "Article", "en"
        return text, SOURCE_LANG if any(is_arabic_script(c) for c in text) else "und"

    def _heading_markdown(self) -> list[str]:
        text, lang = self.display_headline()
        out = _block(text, lang, "# ")
        arabic = self.headline.get(SOURCE_LANG)
        if arabic and lang != SOURCE_LANG and arabic != text:
            out += _block(arabic, SOURCE_LANG)
        return out + ([f"Date: {markdown_text(self.date)}", ""] if self.date else [])

    def _review_markdown(self) -> list[str]:
        """Each sentence still to review (``needs_review``): Arabic, then translation, then what its flags mean."""
        out = []
        for lang, tr in self.translations.items():
            for i, sent in enumerate(tr.sentences()):
                if needs_review(sent.flags):
                    out += [f"**{_language_name(lang)}, sentence {i + 1}**", ""]
                    out += [*_block(sent.source, SOURCE_LANG), *_block(sent.text, lang)]
                    out += [f"- {markdown_text(f)}: {markdown_text(sent.details.get(f) or _EXPLAIN.get(f, ''))}"
                            for f in sent.flags] + [""]
        return ["## Sentences to review", "", *out] if out else []

    def _removed_markdown(self) -> list[str]:
        out = []
        for r in self.removed:
            label = f"**{markdown_text(str(r['kind']))}**" + (f", line {int(r['line'])}" if r.get("line") else "")
            text = str(r["text"])
            if any(is_arabic_script(c) for c in text):
                out += [label, "", *_block(text, SOURCE_LANG)]
            else:
                out += [f"{label}: {markdown_text(text)}", ""]
        return ["## Removed while cleaning", "", *out] if out else []

    def to_text(self, lang: str | None = None) -> str:
        """Plain text: one language, or every translation and summary under a header line."""
        demo = f"[DEMO] {DEMO_NOTICE}\n\n" if self.demo else ""
        if lang:
            return demo + self.translations[lang].text
        parts = [demo.strip()] if demo else []
        for code, tr in self.translations.items():
            parts.append(f"[{code}]\n{tr.text}")
            if code in self.summaries:
                parts.append(f"[{code} summary]\n{self.summaries[code]}")
        return "\n\n".join(parts) + "\n"


# -- editing -----------------------------------------------------------------------------------------------


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _add_flag(sent: SentenceResult, flag: Flag) -> None:
    if flag not in sent.flags:
        sent.flags.append(flag.value)


def _apply_edit(sent: SentenceResult, text: str) -> None:
    """An editor's text for one sentence; the same text as now (spaces aside) is no edit."""
    text = _one_line(text)
    if text != _one_line(sent.text):
        sent.text = text
        _add_flag(sent, Flag.EDITED)


def _set_note(sent: SentenceResult, note: str) -> None:
    """Where an edited sentence's text came from; an empty note removes it."""
    if Flag.EDITED not in sent.flags:
        return
    note = _one_line(note)
    if note:
        sent.details[Flag.EDITED.value] = note
    else:
        sent.details.pop(Flag.EDITED.value, None)


# -- Markdown ----------------------------------------------------------------------------------------------

# A backslash, code spans, link and image brackets, and the "(" of "](" and "!" of "![" (so the text holds no
# link or image syntax even to a plain-text scan); other parentheses and "!" mean nothing and stay readable.
_MARKUP = re.compile(r"([\\`\[\]]|(?<=\])\(|!(?=\[))")
_LIST_NUMBER = re.compile(r"^(\d{1,9})([.)])")          # "1." / "1)" would open an ordered list
_LINE_MARKS = frozenset("#>+*-=_~|")                   # a heading, quote, list, rule, setext line or fence


def markdown_text(text: str) -> str:
    """``text`` (from the article or an editor) as one line of Markdown that shows exactly that text.

    Whitespace runs become one space, so a fragment never opens a block of its own; ``& < >`` become
    entities, so nothing is raw HTML or an autolink; backslashes, backticks, brackets, the ``(`` of ``](``
    and the ``!`` of ``![`` are escaped, so nothing is code, a link or an image (other parentheses and
    ``!`` mean nothing without brackets and stay readable: "(AFP)"); a leading heading, quote, list, rule
    or fence mark is escaped. Bare ``http(s)://`` URLs are left as written: a GFM renderer may link them,
    showing the URL itself.
    """
    text = html.escape(_one_line(text), quote=False)
    text = _MARKUP.sub(r"\\\1", text)
    if _LIST_NUMBER.match(text):
        return _LIST_NUMBER.sub(r"\1\\\2", text, count=1)
    return "\\" + text if text[:1] in _LINE_MARKS else text


def _block(text: str, lang: str, prefix: str = "") -> list[str]:
    """One paragraph as Markdown lines, a blank line after: a right-to-left language's inside a
    ``<div dir="rtl" lang="..">`` block (blank lines around the text keep it Markdown, escaped);
    ``prefix`` is Markdown of ours ("# " for a heading). Nothing for empty text."""
    body = markdown_text(text)
    if not body:
        return []
    if lang in RTL_LANGUAGES:
        return [f'<div dir="rtl" lang="{html.escape(lang)}">', "", prefix + body, "", "</div>", ""]
    return [prefix + body, ""]


def _language_name(lang: str) -> str:
    return LANGUAGE_NAMES.get(lang) or markdown_text(lang)
