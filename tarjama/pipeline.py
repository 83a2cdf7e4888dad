"""Pipeline: article text in, ArticleResult out — the one path behind the CLI, batch runs and the web page.

Order of work for one article or many (``run_many`` batches across articles):
clean and segment → Arabic summary (mT5, chunk-merge when long) → per target, one Translator
call over every sentence of every article plus the summary sentences → ArticleResults.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tarjama.documents import Document, InputError, validate_text
from tarjama.engines import ENGINES, EngineCache, cache_dir
from tarjama.registry import ModelNotAvailable, ModelSpec, Registry
from tarjama.result import ArticleResult, LanguageResult, ModelInfo, SentenceResult
from tarjama.summarize.summarizer import BATCH_TOKENS, MANY_BATCH_TOKENS, Summarizer, Summary
from tarjama.translate.memory import SQLiteMemory
from tarjama.translate.segment import Segmented, segment
from tarjama.translate.translator import NON_LATIN_TARGETS, Memory, Translator

StageProgress = Callable[[str, float], None]  # (stage, fraction of that stage done)


@dataclass(frozen=True)
class _Prepared:
    doc: Document
    seg: Segmented


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

    @classmethod
    def from_config(cls, path: str | Path | None = None, *, memory: Memory | bool | str | Path | None = True,
                    backend: str | None = None) -> Pipeline:
        """Read models.yaml (``path``, else $TARJAMA_MODELS, else the default) without loading models.

        ``memory``: True (default) is the translation memory at ``<tarjama cache>/memory.sqlite``
        (``tarjama.engines.cache_dir()``); a path is a memory file there; False or None runs without
        one (``--no-memory``); a ``Memory`` object is used as is.
        """
        return cls(Registry.load(path), memory=open_memory(memory), backend=backend)

    @property
    def targets(self) -> tuple[str, ...]:
        return self.registry.targets

    def translator(self, target: str) -> Translator:
        spec = self.registry.translation_spec(target)
        return Translator(self._engine(spec), spec.generate, max_sentence_tokens=spec.max_sentence_tokens,
                          low_confidence=spec.low_confidence, memory=self.memory,
                          ascii_digits=target not in NON_LATIN_TARGETS)

    def summarizer(self, batch_tokens: int = BATCH_TOKENS) -> Summarizer:
        spec = self.registry.summarization_spec()
        return Summarizer(self._engine(spec), spec.generate, max_input_tokens=spec.max_input_tokens,
                          batch_tokens=batch_tokens, memory=self.memory, strategy=spec.strategy)

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

    def run(self, text: str | Document, targets: Sequence[str] = ("en", "es"), summarize: bool = True, *,
            progress: StageProgress | None = None) -> ArticleResult:
        """Translate (and summarize) one article; raises InputError for empty, non-Arabic or huge text."""
        return self.run_many([text], targets, summarize, progress=progress)[0]

    def run_many(self, items: Sequence[str | Document], targets: Sequence[str] = ("en", "es"),
                 summarize: bool = True, *, progress: StageProgress | None = None) -> list[ArticleResult]:
        """Many articles at once: sentences of all of them share the translation batches."""
        targets = self._targets(targets)
        started = time.perf_counter()
        prepared = [self._prepare(item) for item in items]
        self.preload(targets, summarize)
        timings = {"segment": time.perf_counter() - started}
        summaries: list[Summary | None] = [None] * len(prepared)
        if summarize:
            t = time.perf_counter()
            self._tick(progress, "summarize", 0.0)
            budget = MANY_BATCH_TOKENS if len(prepared) > 1 else BATCH_TOKENS
            summaries = self.summarizer(budget).summarize_many([p.seg.text for p in prepared])
            timings["summarize"] = time.perf_counter() - t
        summary_sents = [[s.text for s in segment(x.text).sentences()] if x else [] for x in summaries]
        translated: dict[str, tuple[list[list[SentenceResult]], list[str]]] = {}
        for lang in targets:
            t = time.perf_counter()
            translated[lang] = self._translate(lang, prepared, summary_sents, progress)
            timings[f"translate_{lang}"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - started
        timings = {k: round(v, 3) for k, v in timings.items()}
        models = [self._info(self.registry.translation_spec(t)) for t in targets]
        if summarize:
            models.append(self._info(self.registry.summarization_spec()))
        return [self._result(i, p, summaries[i], translated, models, timings) for i, p in enumerate(prepared)]

    # -- steps ----------------------------------------------------------------------------------------

    def _targets(self, targets: Sequence[str]) -> list[str]:
        targets = list(dict.fromkeys(targets))
        if not targets:
            raise InputError("usage", "no target language given (available: " + ", ".join(self.targets) + ")")
        for t in targets:
            self.registry.translation_spec(t)  # raises ConfigError naming what is available
        return targets

    def _prepare(self, item: str | Document) -> _Prepared:
        doc = item if isinstance(item, Document) else Document(text=item)
        validate_text(doc.text, doc.source)
        seg = segment(doc.text)
        if not seg.paragraphs:
            removed = "; ".join(r.text for r in seg.removed)[:200]
            raise InputError("empty", f"{doc.source}: nothing left to translate after cleaning (removed: {removed})",
                             doc.source)
        return _Prepared(doc, seg)

    def _translate(self, lang: str, prepared: list[_Prepared], summary_sents: list[list[str]],
                   progress: StageProgress | None) -> tuple[list[list[SentenceResult]], list[str]]:
        """One Translator call for every sentence of every article and every summary."""
        article_sents = [[s.text for s in p.seg.sentences()] for p in prepared]
        flat = [s for sents in article_sents for s in sents] + [s for sents in summary_sents for s in sents]
        stage = f"translate {lang}"
        self._tick(progress, stage, 0.0)
        out = self.translator(lang).translate(flat, lambda done, total: self._tick(progress, stage, done / total))
        results = [SentenceResult(o.source, o.text, o.score, list(o.flags)) for o in out]
        per_article, i = [], 0
        for sents in article_sents:
            per_article.append(results[i : i + len(sents)])
            i += len(sents)
        summary_texts = []
        for sents in summary_sents:
            summary_texts.append(" ".join(r.text for r in results[i : i + len(sents)] if r.text))
            i += len(sents)
        return per_article, summary_texts

    def _result(self, i: int, p: _Prepared, summary: Summary | None,
                translated: dict[str, tuple[list[list[SentenceResult]], list[str]]],
                models: list[ModelInfo], timings: dict[str, float]) -> ArticleResult:
        shape = [len(par.sentences) for par in p.seg.paragraphs]
        translations = {}
        for lang, (per_article, _) in translated.items():
            info = next(m for m in models if m.task == "translation" and m.key.endswith(f"-{lang}"))
            translations[lang] = LanguageResult(lang, info.model, info.revision, info.engine,
                                                _reshape(per_article[i], shape))
        summaries, summary_info = {}, None
        if summary is not None:
            summaries = {"ar": summary.text, **{lang: t[1][i] for lang, t in translated.items()}}
            info = next(m for m in models if m.task == "summarization")
            summary_info = {"model": info.model, "revision": info.revision, "strategy": summary.strategy,
                            "chunks": summary.chunks, "rounds": summary.rounds,
                            "input_tokens": summary.input_tokens, "score": summary.score}
        return ArticleResult(
            paragraphs=[[s.text for s in par.sentences] for par in p.seg.paragraphs],
            translations=translations, summaries=summaries, summary_info=summary_info,
            removed=[asdict(r) for r in p.seg.removed], models=models, timings=dict(timings),
            id=p.doc.id, title=p.doc.title,
            source={k: v for k, v in (("file", p.doc.source), ("row", p.doc.row)) if v not in (None, "<text>")},
            demo=self.registry.demo,
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


def open_memory(memory: Memory | bool | str | Path | None = True) -> Memory | None:
    """The translation memory ``Pipeline.from_config(memory=...)`` describes (see there); never raises:
    an unusable file gives a memory that warns once and stays off."""
    if memory is None or memory is False:
        return None
    if memory is True:
        memory = cache_dir() / "memory.sqlite"
    if isinstance(memory, (str, Path)):
        return SQLiteMemory(memory)
    return memory


def _reshape(flat: list[SentenceResult], shape: list[int]) -> list[list[SentenceResult]]:
    out, i = [], 0
    for n in shape:
        out.append(flat[i : i + n])
        i += n
    return out
