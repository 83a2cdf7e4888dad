"""A smoke check that catches garbage output from real checkpoints.

A wrong revision, tokenizer files that do not match the weights, or a broken conversion make a Marian
checkpoint write fluent-looking nonsense without any error (transformers issue #26216): nothing fails,
the words are English, and only a reader who knows Arabic notices.  So every model is run, once, on
text whose human translations and summaries are known and shipped with tarjama (``tarjama/data/smoke``,
see SOURCES.md there): 20 FLORES-200 dev sentences (scored with corpus chrF against the references) and
one short EASC Wikipedia article (the summary must be non-empty, not looping and mostly Arabic).

``tarjama models check`` runs it every time; ``tarjama translate`` runs it on the first use of each model,
revision, loaded weights, engine and compute type, and afterwards reads the verdict from
``<tarjama cache>/smoke/<hash>.json`` (``check_once``).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tarjama.paths import DATA as PACKAGE_DATA
from tarjama.paths import smoke_enabled, smoke_root
from tarjama.translate.segment import arabic_share
from tarjama.translate.translator import is_looping

if TYPE_CHECKING:
    from tarjama.pipeline import Pipeline
    from tarjama.registry import ModelSpec
    from tarjama.translate.engine import Engine

DATA = PACKAGE_DATA / "smoke"
VERSION = 1  # part of every cache key: a change of the data or the verdict rules re-checks every model
WARN = "tarjama: WARNING: "

# Minimum corpus chrF (sacrebleu, 0-100) on the 20 shipped FLORES-200 dev sentences; below it a direction is
# "garbage".  Sources: the model cards report Tatoeba test scores, chr-F 0.661 / BLEU 49.4 for
# Helsinki-NLP/opus-mt-ar-en (Tatoeba.ar.en) and chr-F 0.641 / BLEU 46.0 for Helsinki-NLP/opus-mt-ar-es
# (Tatoeba-test.ara.spa, the card's opus-2020-07-03 weights; it says 0.641, not 0.620), i.e. chrF ~64-66
# on short everyday sentences.  FLORES news sentences are longer and harder, so a working model scores
# lower there (opus-mt-tc-big-ar-en, a bigger successor, reports BLEU 42.6 on flores101-devtest), but
# still far above what garbage scores on these 20 lines: fluent but unrelated sentences (the references
# shifted by one line) score 17.8 (en) / 19.0 (es); copying the Arabic source 1.0 / 0.7; empty output 0.
# Output in the wrong target language (the Spanish reference scored as English) scores 26.4 / 23.1.
# 30 sits above all of these and still about half what the cards' scores lead one to expect; a model
# under it writes no translation, whatever its fluency.  Override per model id in MIN_CHRF, or pass
# ``thresholds=`` to run_smoke.
DEFAULT_MIN_CHRF = 30.0
MIN_CHRF: dict[str, float] = {
    "Helsinki-NLP/opus-mt-ar-en": 30.0,
    "Helsinki-NLP/opus-mt-ar-es": 30.0,
}
MIN_ARABIC_SHARE = 0.5  # the summary is written in the language of its input: Arabic

LIKELY_CAUSES = (
    "a wrong revision: pin `revision:` in models.yaml to the commit the model card describes",
    "tokenizer files (source.spm, target.spm, vocab.json; spiece.model) that do not match the weights",
    "a broken CTranslate2 conversion: rerun with --backend transformers to tell (fine there = the conversion; "
    "then delete its folder under <tarjama cache>/ct2/)",
    "random or untrained weights (a generated test model, a truncated download, a base model not fine-tuned)",
)


# -- the shipped data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmokeData:
    """The shipped test text: FLORES-200 sentences with references, one article with reference summaries."""

    sources: list[str]                 # Arabic (arb_Arab)
    references: dict[str, list[str]]   # by target language: line i translates sources[i]
    lines: list[int]                   # 1-based line numbers in the FLORES-200 dev files
    article: str
    summaries: list[str]               # human (extractive) reference summaries of the article


@lru_cache(maxsize=1)
def load_data(folder: Path = DATA) -> SmokeData:
    """Read ``tarjama/data/smoke`` (a few KB; cached for the process)."""

    def lines(name: str) -> list[str]:
        return (folder / name).read_text(encoding="utf-8").splitlines()

    article = json.loads((folder / "easc_article.json").read_text(encoding="utf-8"))
    return SmokeData(sources=lines("flores200.dev.ar"),
                     references={lang: lines(f"flores200.dev.{lang}") for lang in ("en", "es")},
                     lines=[int(n) for n in lines("flores200.dev.lines")],
                     article=article["text"], summaries=list(article["summaries"]))


# -- verdicts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRun:
    """Which model produced a check's output: what the verdict holds for (and what the cache keys on)."""

    key: str            # models.yaml entry: "ar-en", "ar"
    model: str
    revision: str
    weights: str        # snapshot commit (hub) or folder fingerprint (local): tarjama.engines.load_engine
    engine: str
    device: str
    compute_type: str


@dataclass(frozen=True)
class DirectionCheck:
    """One translation direction: corpus chrF of the 20 sentences against their references."""

    target: str
    run: ModelRun
    chrf: float
    threshold: float
    sample: str          # the first sentence's translation, for the reader of the report
    seconds: float

    @property
    def ok(self) -> bool:
        return self.chrf >= self.threshold


@dataclass(frozen=True)
class SummaryCheck:
    """The summary of the shipped article; ``reason`` is None when it is usable."""

    run: ModelRun
    text: str
    reason: str | None
    overlap: float       # unigram F1 with the best reference: information only, never a verdict
    seconds: float

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass
class SmokeReport:
    """Every check of one run (or read from the cache)."""

    directions: list[DirectionCheck] = field(default_factory=list)
    summary: SummaryCheck | None = None
    seconds: float = 0.0
    unchecked: list[str] = field(default_factory=list)  # targets without shipped references

    @property
    def garbage(self) -> bool:
        return any(not d.ok for d in self.directions) or (self.summary is not None and not self.summary.ok)

    def lines(self) -> list[str]:
        """One verdict line per check (``tarjama models check`` prints them)."""
        out = [direction_line(d) for d in self.directions]
        out += [f"ar-{lang}: not checked (no shipped reference translations into {lang})" for lang in self.unchecked]
        return out + ([summary_line(self.summary)] if self.summary else [])


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (sacrebleu's defaults: character 6-grams, beta 2), 0-100."""
    import sacrebleu

    return float(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score)


def summary_verdict(text: str, article: str = "") -> str | None:
    """Why a summary is garbage (empty, looping, not Arabic), or None when it is usable."""
    if not text.strip():
        return "empty"
    if is_looping(text, article):
        return "looping (a phrase repeated back to back)"
    share = arabic_share(text)
    if share < MIN_ARABIC_SHARE:
        return f"not mostly Arabic script: {share:.0%} of its letters are Arabic"
    return None


_DIACRITICS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")  # harakat, tatweel
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


def tokens(text: str) -> list[str]:
    """Unicode word tokens, case-folded, Arabic diacritics dropped and alef/ya/ta-marbuta spellings folded
    (EASC's summaries spell hamzas differently from its articles)."""
    text = unicodedata.normalize("NFKC", _DIACRITICS.sub("", text)).translate(_ARABIC_FOLD).casefold()
    return re.findall(r"[^\W_]+", text)


def unigram_overlap(candidate: str, references: Sequence[str]) -> float:
    """ROUGE-1-like F1 of word multisets, the best over ``references`` (0 for an empty candidate)."""
    cand = Counter(tokens(candidate))
    best = 0.0
    for ref in references:
        want = Counter(tokens(ref))
        common = sum((cand & want).values())
        if common:
            p, r = common / sum(cand.values()), common / sum(want.values())
            best = max(best, 2 * p * r / (p + r))
    return best


def direction_line(d: DirectionCheck) -> str:
    verdict = "ok" if d.ok else "GARBAGE"
    return (f"{d.run.key}: {_model(d.run)}  chrF {d.chrf:.1f} (garbage below {d.threshold:g}) on "
            f"{len(load_data().sources)} FLORES-200 sentences: {verdict}")


def summary_line(s: SummaryCheck) -> str:
    verdict = "ok" if s.ok else f"GARBAGE: {s.reason}"
    return f"summary {s.run.key}: {_model(s.run)}  unigram overlap {s.overlap:.2f} (information only): {verdict}"


def _model(run: ModelRun) -> str:
    weights = f", weights {run.weights[:12]}" if run.weights and run.weights != run.revision else ""
    return f"{run.model} revision {run.revision}{weights}  engine {run.engine} {run.device} {run.compute_type}"


# -- running the checks -------------------------------------------------------------------------------


def run_smoke(pipeline: Pipeline, targets: Sequence[str], summarize: bool, *,
              thresholds: Mapping[str, float] | None = None) -> SmokeReport:
    """Translate the shipped sentences into each target, summarize the shipped article, judge both.

    The pipeline's engines are reused, its translation memory is not: the check is of the model, and
    garbage must not land in the memory.  ``thresholds``: minimum chrF by model id, over MIN_CHRF and
    DEFAULT_MIN_CHRF.  Targets without shipped references are listed as ``unchecked``.
    """
    probe = _without_memory(pipeline)
    started = time.perf_counter()
    known = load_data().references
    targets = list(dict.fromkeys(targets))
    report = SmokeReport([_check_direction(probe, lang, thresholds or {}) for lang in targets if lang in known],
                         unchecked=[lang for lang in targets if lang not in known])
    if summarize and probe.registry.summarization:
        report.summary = _check_summary(probe)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _without_memory(pipeline: Pipeline) -> Pipeline:
    from tarjama.pipeline import Pipeline

    return Pipeline(pipeline.registry, engines=pipeline.engines, memory=None, backend=pipeline.backend)


def _check_direction(pipe: Pipeline, lang: str, thresholds: Mapping[str, float]) -> DirectionCheck:
    data = load_data()
    spec = pipe.registry.translation_spec(lang)
    started = time.perf_counter()
    translator = pipe.translator(lang)
    out = [t.text for t in translator.translate(data.sources)]
    threshold = thresholds.get(spec.model, MIN_CHRF.get(spec.model, DEFAULT_MIN_CHRF))
    return DirectionCheck(lang, _run(spec, translator.engine), round(chrf(out, data.references[lang]), 2),
                          threshold, out[0] if out else "", round(time.perf_counter() - started, 3))


def _check_summary(pipe: Pipeline) -> SummaryCheck:
    data = load_data()
    started = time.perf_counter()
    summarizer = pipe.summarizer()
    text = summarizer.summarize(data.article).text
    return SummaryCheck(_run(pipe.registry.summarization_spec(), summarizer.engine), text,
                        summary_verdict(text, data.article), round(unigram_overlap(text, data.summaries), 3),
                        round(time.perf_counter() - started, 3))


def _run(spec: ModelSpec, engine: Engine) -> ModelRun:
    return ModelRun(spec.key, spec.model, spec.revision, str(getattr(engine, "weights", "") or ""),
                    engine.name, engine.device, engine.compute_type)


def load_models(pipe: Pipeline, stream: IO[str] | None = None) -> list[ModelSpec]:
    """Load every model of the registry, one line each; a failure is reported, not raised, so that
    ``tarjama models check`` names every broken model in one go.  Returns the specs that loaded."""
    from tarjama.registry import ConfigError, ModelNotAvailable

    stream = stream or sys.stdout
    loaded = []
    for spec in pipe.registry.specs():
        started = time.perf_counter()
        try:
            engine = pipe.engines.get(spec, backend=pipe.backend)
        except (ModelNotAvailable, ConfigError) as err:
            print(f"{spec.key}: FAILED to load {spec.model} revision {spec.revision}: {str(err).splitlines()[0]}",
                  file=stream)
            continue
        print(f"{spec.key}: loaded {spec.model} revision {spec.revision} ({engine.name} {engine.device} "
              f"{engine.compute_type}) in {time.perf_counter() - started:.1f} s", file=stream)
        loaded.append(spec)
    return loaded


# -- the warning --------------------------------------------------------------------------------------


def warning_lines(report: SmokeReport, *, demo: bool = False, cached: str | None = None) -> list[str]:
    """The loud block printed whenever a check is garbage (``cached``: where the verdict was read from)."""
    bar = WARN + "=" * 72
    out = [bar, WARN + "GARBAGE OUTPUT: these models do not translate/summarize; do not publish their output."]
    for d in report.directions:
        if not d.ok:
            out.append(WARN + f"  {d.run.key} ({d.run.model}@{d.run.revision}, {d.run.engine} {d.run.compute_type}): "
                       f"chrF {d.chrf:.1f} on known sentences, a working model scores far above {d.threshold:g}")
            out.append(WARN + f"    e.g. {d.sample[:100]!r}")
    if report.summary is not None and not report.summary.ok:
        s = report.summary
        out.append(WARN + f"  summary {s.run.key} ({s.run.model}@{s.run.revision}, {s.run.engine} "
                   f"{s.run.compute_type}): {s.reason}")
    if demo:
        out.append(WARN + "  (DEMO models: random weights, garbage is expected)")
    out.append(WARN + "Likely causes:")
    out += [WARN + f"  - {cause}" for cause in LIKELY_CAUSES]
    if cached:
        out.append(WARN + f"(verdict cached in {cached}; `tarjama models check` checks again)")
    return [*out, bar]


# -- first use: the cached verdict --------------------------------------------------------------------


def check_once(pipe: Pipeline, targets: Sequence[str], summarize: bool,
               stream: IO[str] | None = None) -> SmokeReport | None:
    """The smoke check for the models a ``tarjama translate`` run uses, run once per model and cached.

    Runs the check for models without a cached verdict (and says how long it took), reads the others,
    and prints the warning block on ``stream`` when any verdict is garbage — every run, never stopping
    it.  Skipped (None) for DEMO registries (noise by construction) and when TARJAMA_SMOKE=0.  Loading
    errors are raised as by ``Pipeline.preload`` (all missing models at once).  ``stream``: stderr.
    """
    stream = stream or sys.stderr
    if not smoke_enabled() or pipe.registry.demo:
        return None
    summarize = bool(summarize and pipe.registry.summarization)
    pipe.preload(list(dict.fromkeys(targets)), summarize)
    targets = [lang for lang in dict.fromkeys(targets) if lang in load_data().references]
    report, missing = _read_cache(pipe, targets, summarize)
    fresh = missing["targets"] or missing["summary"]
    if fresh:
        new = run_smoke(pipe, missing["targets"], missing["summary"])
        _store(pipe, new, stream)
        names = [d.run.key for d in new.directions] + ([new.summary.run.key] if new.summary else [])
        print(f"tarjama: smoke check (first use of {', '.join(names)}): {new.seconds:.1f} s; verdict cached "
              f"in {smoke_dir()}", file=stream)
        report = _merge(report, new)
    report = _ordered(report, targets)
    if report.garbage:
        for line in warning_lines(report, cached=None if fresh else str(smoke_dir())):
            print(line, file=stream)
    return report


def smoke_dir() -> Path:

    return smoke_root()


def cache_path(pipe: Pipeline, spec: ModelSpec, check: str) -> Path:
    """``<cache>/smoke/<hash>.json`` for one model as loaded now (``check``: "translation-en", "summary")."""
    engine = pipe.engines.get(spec, backend=pipe.backend)
    key = {"check": check, "model": str(spec.local_path() or spec.model), "revision": spec.revision,
           "weights": str(getattr(engine, "weights", "") or ""), "engine": engine.name, "device": engine.device,
           "compute_type": engine.compute_type, "generate": spec.generate.as_dict(), "version": VERSION}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return smoke_dir() / f"{digest}.json"


def _paths(pipe: Pipeline, targets: Sequence[str], summarize: bool) -> dict[str, Path]:
    reg = pipe.registry
    paths = {lang: cache_path(pipe, reg.translation_spec(lang), f"translation-{lang}") for lang in targets}
    if summarize:
        paths["summary"] = cache_path(pipe, reg.summarization_spec(), "summary")
    return paths


def _read_cache(pipe: Pipeline, targets: Sequence[str], summarize: bool) -> tuple[SmokeReport, dict[str, Any]]:
    """The cached verdicts, and what still has to run (``{"targets": [...], "summary": bool}``)."""
    report, missing = SmokeReport(), {"targets": [], "summary": False}
    for name, path in _paths(pipe, targets, summarize).items():
        check = _load_check(path, summary=name == "summary")
        if check is None:
            if name == "summary":
                missing["summary"] = True
            else:
                missing["targets"].append(name)
        elif isinstance(check, SummaryCheck):
            report.summary = check
        else:
            report.directions.append(check)
    return report, missing


def _load_check(path: Path, *, summary: bool) -> DirectionCheck | SummaryCheck | None:
    """A cached verdict, or None when absent or unreadable (then the check simply runs again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["check"]
        run = ModelRun(**data.pop("run"))
        return SummaryCheck(run=run, **data) if summary else DirectionCheck(run=run, **data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(pipe: Pipeline, report: SmokeReport, stream: IO[str]) -> None:
    """Write each verdict to its cache file (atomically); an unwritable cache warns and moves on."""
    from tarjama.atomic import write_atomic

    checks: list[tuple[str, DirectionCheck | SummaryCheck]] = [(d.target, d) for d in report.directions]
    if report.summary is not None:
        checks.append(("summary", report.summary))
    paths = _paths(pipe, [d.target for d in report.directions], report.summary is not None)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for name, check in checks:
        body = {"checked_at": stamp, "verdict": "ok" if check.ok else "garbage", "check": asdict(check)}
        try:
            paths[name].parent.mkdir(parents=True, exist_ok=True)
            write_atomic(paths[name], json.dumps(body, ensure_ascii=False, indent=1) + "\n")
        except OSError as err:
            print(f"tarjama: smoke check: cannot cache the verdict in {paths[name]} ({err}); it runs again next "
                  "time", file=stream)


def store(pipe: Pipeline, report: SmokeReport, stream: IO[str] | None = None) -> None:
    """Cache the verdicts of a fresh ``run_smoke`` (``tarjama models check`` does, so translate needn't)."""
    if not pipe.registry.demo:
        _store(pipe, report, stream or sys.stderr)


def _merge(a: SmokeReport, b: SmokeReport) -> SmokeReport:
    return SmokeReport(a.directions + b.directions, b.summary or a.summary, a.seconds + b.seconds)


def _ordered(report: SmokeReport, targets: Sequence[str]) -> SmokeReport:
    order = {lang: i for i, lang in enumerate(targets)}
    return SmokeReport(sorted(report.directions, key=lambda d: order.get(d.target, len(order))), report.summary,
                       report.seconds)
