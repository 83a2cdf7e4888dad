"""Pipeline: article text in, ArticleResult out — the one path behind the CLI, batch runs and the web page.

Order of work for one article or many (``run_many`` batches across articles):
validate, clean and segment each article once (``prepare``) → load the models → Arabic summary
(mT5, chunk-merge when long, from the segmented paragraphs) → per target, one Translator call over
every sentence of every article plus the summary sentences and the headlines → ArticleResults.

Timings (``ArticleResult.timings``, seconds): ``segment`` (validating and segmenting the article),
``load`` (models loaded or converted during the call), ``summarize``, ``translate_<lang>``, ``total``.
When one ``run_many`` call holds several articles only ``segment`` is each article's own; the shared
stages are the call's, named ``chunk_load``, ``chunk_summarize``, ``chunk_translate_<lang>``,
``chunk_total``, with ``chunk_articles`` saying how many articles shared them.
"""

from __future__ import annotations

import datetime
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from tarjama.documents import Document, InputError, source_name, validate_text
from tarjama.engines import ENGINES, EngineCache
from tarjama.paths import memory_file
from tarjama.registry import ModelNotAvailable, ModelSpec, Registry
from tarjama.result import ArticleResult, LanguageResult, ModelInfo, SentenceResult
from tarjama.summarize.summarizer import Summarizer, Summary
from tarjama.translate.glossary import Glossary, TargetGlossary, load_glossary
from tarjama.translate.languages import NON_LATIN_TARGETS
from tarjama.translate.memory import SQLiteMemory
from tarjama.translate.segment import Segmented, clean, segment
from tarjama.translate.translator import Memory, SentenceTranslation, Translator

StageProgress = Callable[[str, float], None]  # (stage, fraction of that stage done)
GlossaryLike = Glossary | str | Path | None    # a Glossary, or the path of a CSV/TSV/YAML glossary file
log = logging.getLogger(__name__)

# ``InputError.hint`` of the errors raised here (validate_text's own come from tarjama.documents.HINTS).
CLEANED_EMPTY_HINT = ("give the article's body: what is there is only page chrome (share, follow or newsletter "
                      "lines), separators or a repeated title")
NO_TARGET_HINT = "name at least one target language"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Translated(NamedTuple):
    """One target's output of the shared Translator call, per article: sentences, summary, headline."""

    sentences: list[list[SentenceResult]]
    summaries: list[str]
    headlines: list[str | None]


@dataclass(frozen=True)
class PreparedArticle:
    """One article validated and segmented (``Pipeline.prepare``): every later stage reads ``seg``, so no
    front door or stage checks or cuts the text again."""

    doc: Document
    seg: Segmented
    seconds: float = 0.0  # validating and segmenting it took this long: the article's own "segment" stage

    @property
    def paragraphs(self) -> list[list[str]]:
        """The cleaned article as paragraphs of sentence texts (what the summarizer reads)."""
        return [[s.text for s in p.sentences] for p in self.seg.paragraphs]

    @property
    def headline(self) -> str | None:
        """The Arabic headline: the document's title cleaned as the article's lines are, so a title the
        article repeats as its first line is the very text of its first sentence (translated once).
        None without a title, or when cleaning leaves nothing (a title that is only page chrome)."""
        if not self.doc.title:
            return None
        return " ".join(clean(self.doc.title)[0].split()) or None


def prepare_article(item: str | Document) -> PreparedArticle:
    """Validate and segment one article: the only place either happens. Raises InputError (with a hint)."""
    started = time.perf_counter()
    doc = item if isinstance(item, Document) else Document(text=item)
    name = doc.source if doc.row is None else source_name(doc.source, doc.row)  # a batch row: "path:row"
    validate_text(doc.text, name)
    seg = segment(doc.text)
    if not seg.paragraphs:
        removed = "; ".join(r.text for r in seg.removed)[:200]
        raise InputError("empty", f"{source_name(name)}: nothing left to translate after cleaning (removed: {removed})",
                         name, hint=CLEANED_EMPTY_HINT)
    return PreparedArticle(doc, seg, time.perf_counter() - started)


class Pipeline:
    """``Pipeline.from_config().run(text, targets=("en", "es"), summarize=True)``.

    Models load lazily on first use, once per process (``tarjama.engines.ENGINES``).
    """

    def __init__(self, registry: Registry, *, engines: EngineCache = ENGINES, memory: Memory | None = None,
                 backend: str | None = None) -> None:
        self.registry = registry
        self.engines = engines
        self.memory = memory
        self.backend = backend
        self._glossaries: dict[tuple[Path, float], Glossary] = {}

    @classmethod
    def from_config(cls, path: str | Path | None = None, *, memory: Memory | bool | str | Path | None = True,
                    backend: str | None = None) -> Pipeline:
        """Read models.yaml (``path``, else $TARJAMA_MODELS, else the default) without loading models.

        ``memory``: True (default) is the translation memory at ``<tarjama cache>/memory.sqlite``
        (``tarjama.paths.memory_file()``); a path is a memory file there; False or None runs without
        one (``--no-memory``); a ``Memory`` object is used as is.
        """
        return cls(Registry.load(path), memory=open_memory(memory), backend=backend)

    @property
    def targets(self) -> tuple[str, ...]:
        return self.registry.targets

    def translator(self, target: str, glossary: GlossaryLike = None) -> Translator:
        """The Translator into ``target``, with models.yaml's glossaries for it and ``glossary`` on top."""
        spec = self.registry.translation_spec(target)
        return Translator(self._engine(spec), spec.generate, max_sentence_tokens=spec.max_sentence_tokens,
                          batch_tokens=spec.batch_tokens, max_batch_size=spec.max_batch_size,
                          low_confidence=spec.low_confidence, memory=self.memory,
                          ascii_digits=target not in NON_LATIN_TARGETS, repetition_guard=spec.repetition_guard,
                          enforce=spec.enforce, target=target, glossary=self.glossary(target, glossary))

    def glossary(self, target: str, extra: GlossaryLike = None) -> TargetGlossary | None:
        """The glossary rules for ar→``target``: models.yaml's (top-level, then the pair's), then ``extra``;
        a later one wins on a term it shares with an earlier. None when there is no rule for ``target``."""
        rules = configured_glossary(self.registry, [target], as_glossary(extra), self._glossary_file).for_target(target)
        return rules if len(rules) else None

    def _glossary_file(self, path: Path) -> Glossary:
        """A models.yaml glossary, read once per version of the file; its unusable rows are logged once."""
        key = (path, path.stat().st_mtime)
        if key not in self._glossaries:
            self._glossaries[key] = glossary = load_glossary(path)
            for problem in glossary.problems:
                log.warning("glossary %s", problem)
        return self._glossaries[key]

    def summarizer(self, many: bool = False) -> Summarizer:
        """The summarizer of models.yaml; ``many``: several articles at once, in fuller passes
        (``many_batch_tokens``)."""
        spec = self.registry.summarization_spec()
        return Summarizer(self._engine(spec), spec.generate, max_input_tokens=spec.max_input_tokens,
                          batch_size=spec.max_batch_size, memory=self.memory, strategy=spec.strategy,
                          batch_tokens=spec.many_batch_tokens if many else spec.batch_tokens)

    def preload(self, targets: Iterable[str] | None = None, summarize: bool = True) -> list[ModelInfo]:
        """Load every model a run needs now, and describe them.

        All unavailable models are reported together (one line each), so a user fixes them in one go.
        """
        specs = [self.registry.translation_spec(t) for t in (targets or self.targets)]
        if summarize and self.registry.summarization:
            specs.append(self.registry.summarization_spec())
        infos, missing = [], []
        for spec in specs:
            try:
                infos.append(self._info(spec))
            except ModelNotAvailable as err:
                missing.append(str(err))
        if missing:
            raise ModelNotAvailable("\n".join(missing))
        return infos

    def prepare(self, item: str | Document) -> PreparedArticle:
        """Validate and segment one article, before any model loads (``prepare_article``); a front door that
        wants to refuse bad input early calls this and hands the result to ``run``, which never re-checks it."""
        return prepare_article(item)

    def run(self, item: str | Document | PreparedArticle, targets: Sequence[str] | None = None,
            summarize: bool = True, *, progress: StageProgress | None = None,
            glossary: GlossaryLike = None) -> ArticleResult:
        """Translate (and summarize) one article; raises its InputError (empty, non-Arabic, huge text).

        ``glossary``: terms to enforce on top of models.yaml's (a Glossary or a glossary file's path)."""
        [outcome] = self.run_many([item], targets, summarize, progress=progress, glossary=glossary)
        if isinstance(outcome, InputError):
            raise outcome
        return outcome

    def run_many(self, items: Sequence[str | Document | PreparedArticle], targets: Sequence[str] | None = None,
                 summarize: bool = True, *, progress: StageProgress | None = None,
                 glossary: GlossaryLike = None) -> list[ArticleResult | InputError]:
        """Many articles at once, their sentences sharing the translation batches. One outcome per item, in
        order: its result, or its InputError, so one bad article never fails the others. No model loads
        when every article is bad. ``glossary`` as in ``run``."""
        targets = self._targets(targets)
        glossary = as_glossary(glossary)  # a bad file fails before any article is read
        earlier = sum(i.seconds for i in items if isinstance(i, PreparedArticle))  # prepared before this call
        clock = time.perf_counter() - earlier  # "total" counts every article's validating and segmenting
        outcomes = [self._outcome(item) for item in items]
        good = [o for o in outcomes if isinstance(o, PreparedArticle)]
        if not good:
            return list(outcomes)
        results = iter(self._run_prepared(good, targets, summarize, progress, clock, glossary))
        return [next(results) if isinstance(o, PreparedArticle) else o for o in outcomes]

    # -- steps ----------------------------------------------------------------------------------------

    def _targets(self, targets: Sequence[str] | None) -> list[str]:
        """``targets``, each once; None: every target of models.yaml."""
        targets = list(dict.fromkeys(self.targets if targets is None else targets))
        if not targets:
            raise InputError("usage", "no target language given (available: " + ", ".join(self.targets) + ")",
                             hint=NO_TARGET_HINT)
        for t in targets:
            self.registry.translation_spec(t)  # raises ConfigError naming what is available
        return targets

    @staticmethod
    def _outcome(item: str | Document | PreparedArticle) -> PreparedArticle | InputError:
        """An item prepared now (never again when it already is), or the InputError that refuses it."""
        if isinstance(item, PreparedArticle):
            return item
        try:
            return prepare_article(item)
        except InputError as err:
            return err

    def _run_prepared(self, prepared: list[PreparedArticle], targets: list[str], summarize: bool,
                      progress: StageProgress | None, clock: float,
                      glossary: Glossary | None) -> list[ArticleResult]:
        """The model stages over good articles, each timed once for the whole call (``shared``)."""
        shared: dict[str, float] = {}
        t = time.perf_counter()
        self.preload(targets, summarize)
        shared["load"] = time.perf_counter() - t
        summaries: list[Summary | None] = [None] * len(prepared)
        if summarize:
            t = time.perf_counter()
            self._tick(progress, "summarize", 0.0)
            summaries = list(self._summarize(prepared))
            shared["summarize"] = time.perf_counter() - t
        summary_sents = [[s.text for s in segment(x.text).sentences()] if x else [] for x in summaries]
        translated: dict[str, Translated] = {}
        for lang in targets:
            t = time.perf_counter()
            translated[lang] = self._translate(lang, prepared, summary_sents, progress, glossary)
            shared[f"translate_{lang}"] = time.perf_counter() - t
        shared["total"] = time.perf_counter() - clock
        models = [self._info(self.registry.translation_spec(t)) for t in targets]
        if summarize:
            models.append(self._info(self.registry.summarization_spec()))
        return [self._result(i, p, summaries[i], translated, models, _timings(p, shared, len(prepared)))
                for i, p in enumerate(prepared)]

    def _summarize(self, prepared: list[PreparedArticle]) -> list[Summary]:
        """Arabic summaries from the articles' own paragraphs: the summarizer never segments an article again."""
        return self.summarizer(many=len(prepared) > 1).summarize_segmented([p.paragraphs for p in prepared])

    def _translate(self, lang: str, prepared: list[PreparedArticle], summary_sents: list[list[str]],
                   progress: StageProgress | None, glossary: Glossary | None) -> Translated:
        """One Translator call for every sentence of every article, every summary and every headline (the
        Translator decodes each distinct text once, so a headline that is the first sentence costs nothing)."""
        article_sents = [[s.text for s in p.seg.sentences()] for p in prepared]
        headlines = [p.headline for p in prepared]
        flat = ([s for sents in article_sents for s in sents] + [s for sents in summary_sents for s in sents]
                + [h for h in headlines if h])
        stage = f"translate {lang}"
        self._tick(progress, stage, 0.0)
        out = self.translator(lang, glossary).translate(
            flat, lambda done, total: self._tick(progress, stage, done / total))
        results = [sentence_result(o) for o in out]
        per_article, i = [], 0
        for sents in article_sents:
            per_article.append(results[i : i + len(sents)])
            i += len(sents)
        summary_texts = []
        for sents in summary_sents:
            summary_texts.append(" ".join(r.text for r in results[i : i + len(sents)] if r.text))
            i += len(sents)
        rest = iter(results[i:])
        return Translated(per_article, summary_texts, [next(rest).text if h else None for h in headlines])

    def _result(self, i: int, p: PreparedArticle, summary: Summary | None, translated: dict[str, Translated],
                models: list[ModelInfo], timings: dict[str, float]) -> ArticleResult:
        shape = [len(par.sentences) for par in p.seg.paragraphs]
        translations = {}
        for lang, (per_article, _, _) in translated.items():
            info = next(m for m in models if m.task == "translation" and m.key.endswith(f"-{lang}"))
            translations[lang] = LanguageResult(lang, info.model, info.revision, info.engine,
                                                _reshape(per_article[i], shape))
        summaries, summary_info = {}, None
        if summary is not None:
            summaries = {"ar": summary.text, **{lang: t.summaries[i] for lang, t in translated.items()}}
            info = next(m for m in models if m.task == "summarization")
            summary_info = {"model": info.model, "revision": info.revision, "strategy": summary.strategy,
                            "chunks": summary.chunks, "rounds": summary.rounds,
                            "input_tokens": summary.input_tokens, "score": summary.score}
        return ArticleResult(
            paragraphs=[[s.text for s in par.sentences] for par in p.seg.paragraphs],
            translations=translations, summaries=summaries, summary_info=summary_info,
            removed=[*dropped_items(p.doc), *(asdict(r) for r in p.seg.removed)], models=models,
            timings=dict(timings), id=p.doc.id, title=p.doc.title,
            source={k: v for k, v in (("file", p.doc.source), ("row", p.doc.row)) if v not in (None, "<text>")},
            demo=self.registry.demo, date=iso_date(getattr(p.doc, "date", None)),
            headline=_headline(p.headline, {lang: t.headlines[i] for lang, t in translated.items()}),
        )

    def _engine(self, spec: ModelSpec):
        return self.engines.get(spec, backend=self.backend)

    def _info(self, spec: ModelSpec) -> ModelInfo:
        engine = self._engine(spec)
        return ModelInfo(spec.task, spec.key, spec.model, spec.revision, engine.name, engine.device,
                         engine.compute_type, spec.license)

    @staticmethod
    def _tick(progress: StageProgress | None, stage: str, fraction: float) -> None:
        if progress:
            progress(stage, fraction)


def configured_glossary(registry: Registry, targets: Sequence[str], extra: Glossary | None = None,
                        load: Callable[[Path], Glossary] = load_glossary) -> Glossary:
    """The one order glossaries combine in: models.yaml's top-level file, each target pair's own, then ``extra``;
    a later one wins on a term it shares with an earlier."""
    merged = Glossary()
    for path in dict.fromkeys(p for t in targets for p in registry.glossary_files(t)):
        merged = merged.merged(load(path))
    return merged.merged(extra)


def as_glossary(glossary: GlossaryLike) -> Glossary | None:
    """A Glossary from ``run``'s ``glossary=``: as is, or read from a path (GlossaryError when unreadable;
    its unusable rows are logged and left out)."""
    if glossary is None or isinstance(glossary, Glossary):
        return glossary
    loaded = load_glossary(glossary)
    for problem in loaded.problems:
        log.warning("glossary %s", problem)
    return loaded


def sentence_result(t: SentenceTranslation) -> SentenceResult:
    """The JSON-facing form of one translated sentence."""
    return SentenceResult(
        t.source, t.text, t.score, list(t.flags), dict(t.details),
        glossary=[{"term": e.source, "target": e.target, "how": e.how} for e in t.enforced if e.kind == "term"],
        protected=[{"token": e.source, "how": e.how} for e in t.enforced if e.kind == "token"])


def dropped_items(doc: Document) -> list[dict[str, Any]]:
    """What the reader dropped before cleaning (HTML bylines, dates, navigation) as ``removed`` items.

    Read with getattr: a Document without ``dropped`` (an older reader, a Document built by hand) dropped
    nothing. Only the schema's keys are kept, so a reader's extra keys never break the JSON contract."""
    return [{"kind": str(d.get("kind", "dropped")), "text": str(d.get("text", "")), "line": int(d.get("line") or 0)}
            for d in getattr(doc, "dropped", None) or []]


def iso_date(value: object) -> str | None:
    """The article's date as YYYY-MM-DD (a longer ISO timestamp is cut to its date), or None when the
    source gives none or something that is not a real calendar date."""
    text = str(value or "")[:10]
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return None
    return text


def open_memory(memory: Memory | bool | str | Path | None = True) -> Memory | None:
    """The translation memory ``Pipeline.from_config(memory=...)`` describes (see there); never raises:
    an unusable file gives a memory that warns once and stays off."""
    if memory is None or memory is False:
        return None
    if memory is True:
        memory = memory_file()
    if isinstance(memory, (str, Path)):
        return SQLiteMemory(memory)
    return memory


def _timings(article: PreparedArticle, shared: dict[str, float], articles: int) -> dict[str, float]:
    """The article's own ``segment``, then the call's shared stages: under their plain names when the call
    held only this article (they are all its own), else as ``chunk_*`` with ``chunk_articles``, so a
    chunk's time is never passed off as one article's."""
    if articles == 1:
        timings = {"segment": article.seconds, **shared}
    else:
        timings = {"segment": article.seconds, "chunk_articles": articles,
                   **{f"chunk_{k}": v for k, v in shared.items()}}
    return {k: round(v, 3) for k, v in timings.items()}


def _headline(arabic: str | None, translations: dict[str, str | None]) -> dict[str, str]:
    """``ArticleResult.headline``: the Arabic under "ar", then each target's translation; {} without one."""
    return {"ar": arabic, **{lang: text or "" for lang, text in translations.items()}} if arabic else {}


def _reshape(flat: list[SentenceResult], shape: list[int]) -> list[list[SentenceResult]]:
    out, i = [], 0
    for n in shape:
        out.append(flat[i : i + n])
        i += n
    return out
