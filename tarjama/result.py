"""ArticleResult: everything one article run produced, and its JSON / Markdown forms.

The JSON form is the contract of every front door (CLI, batch, web export); its schema is
``tarjama/schema/article.schema.json`` and ``SCHEMA_ID`` names its version.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tarjama.translate.flags import Flag

# /2: timings are honest: "load" apart from "segment", and in a many-article call the shared stages are
# "chunk_*" (with "chunk_articles"), never one article's.  /3: each sentence's "details" (what a flag is
# about), "glossary" (terms and how they got in) and "protected" (Latin-script tokens), and per language
# "counts".  ``from_dict`` reads /1 and /2 as well.
SCHEMA_ID = "tarjama.article/3"
HOW = ("kept", "placeholder", "missed")  # how a glossary term or protected token reached a translation
# Said wherever output of generated random-weight models (``models.yaml`` with ``demo: true``) can end up.
DEMO_NOTICE = "generated random-weight models. This output is noise, not a translation."
LANGUAGE_NAMES = {"ar": "Arabic", "en": "English", "es": "Spanish", "fr": "French", "de": "German"}


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

    @property
    def text(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs)

    def sentences(self) -> list[str]:
        return [s for p in self.paragraphs for s in p]

    def with_edits(self, edits: Mapping[str, Mapping[int, str]]) -> ArticleResult:
        """A copy with an editor's corrections: ``edits[lang][i]`` replaces sentence ``i`` (article order).

        A changed sentence is flagged ``edited`` so every export shows which text a person wrote;
        its score stays the model's. Text equal to the model's output changes nothing, so applying
        the editor's whole table to the original result is idempotent. Whitespace runs (a newline
        typed in a cell) become one space: paragraphs come from the source, never from an edit.
        """
        edited = copy.deepcopy(self)
        for lang, changes in edits.items():
            sentences = edited.translations[lang].sentences()
            for i, text in changes.items():
                if not 0 <= i < len(sentences):
                    raise IndexError(f"{lang}: no sentence {i} (the article has {len(sentences)})")
                sent, text = sentences[i], " ".join(str(text).split())
                if text != " ".join(sent.text.split()):
                    sent.text = text
                    if Flag.EDITED not in sent.flags:
                        sent.flags.append(Flag.EDITED.value)
        return edited

    # -- JSON -----------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = {"schema": SCHEMA_ID, "id": self.id, "title": self.title, "source": self.source,
                "demo": self.demo, "source_lang": "ar", "paragraphs": self.paragraphs,
                "translations": {}, "summaries": self.summaries, "summary_info": self.summary_info,
                "removed": self.removed, "models": [asdict(m) for m in self.models], "timings": self.timings}
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
        """An ArticleResult from ``to_dict``'s form, of this schema, /2 (no details, glossary, protected, counts)
        or /1 (which differs from /2 only in timings)."""
        translations = {
            lang: LanguageResult(lang, t["model"], t["revision"], t["engine"],
                                 [[SentenceResult(**s) for s in p] for p in t["paragraphs"]])
            for lang, t in data["translations"].items()
        }
        return cls(paragraphs=data["paragraphs"], translations=translations, summaries=data["summaries"],
                   summary_info=data.get("summary_info"), removed=data.get("removed", []),
                   models=[ModelInfo(**m) for m in data.get("models", [])], timings=data.get("timings", {}),
                   id=data.get("id"), title=data.get("title"), source=data.get("source") or {},
                   demo=bool(data.get("demo")))

    # -- Markdown / text ------------------------------------------------------------------------------

    def _demo_markdown(self) -> list[str]:
        return [f"> **DEMO**: {DEMO_NOTICE}", ""] if self.demo else []

    def language_markdown(self, lang: str) -> str:
        """One translation alone (a batch folder's ``ID.<lang>.md``): the DEMO notice if any, then the text."""
        return "\n".join([*self._demo_markdown(), self.translations[lang].text, ""])

    def summaries_markdown(self) -> str:
        """The summaries alone (a batch folder's ``ID.summary.md``), a section per language."""
        parts = [f"## {LANGUAGE_NAMES.get(k, k)}\n\n{v}\n" for k, v in self.summaries.items()]
        return "\n".join([*self._demo_markdown(), *parts])

    def to_markdown(self) -> str:
        """A readable report: a demo warning, the summaries, each translation, then what was removed."""
        out: list[str] = self._demo_markdown()
        out += [f"# {self.title}" if self.title else "# Article", ""]
        if self.summaries:
            out += ["## Summaries", ""]
            out += [f"- **{LANGUAGE_NAMES.get(k, k)}**: {v}" for k, v in self.summaries.items()]
            out.append("")
        for lang, tr in self.translations.items():
            out += [f"## {LANGUAGE_NAMES.get(lang, lang)}", "", tr.text, ""]
        flagged = [(lang, s) for lang, tr in self.translations.items() for s in tr.sentences() if s.flags]
        if flagged:
            out += ["## Sentences to review", ""]
            out += [f"- {lang}: {', '.join(s.flags)}: {s.source} → {s.text}"
                    + "".join(f"\n  - {flag}: {why}" for flag, why in s.details.items()) for lang, s in flagged]
            out.append("")
        if self.removed:
            out += ["## Removed while cleaning", ""]
            out += [f"- {r['kind']} (line {r['line']}): {r['text']}" for r in self.removed]
            out.append("")
        models = ", ".join(f"{m.key}: {m.model}@{m.revision} ({m.engine})" for m in self.models)
        out += [f"_Models: {models}_", ""]
        return "\n".join(out)

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
