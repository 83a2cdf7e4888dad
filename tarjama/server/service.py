"""What the server does, without HTTP: one Service over one Pipeline, shared by the page and the API.

Models load once, at start-up (``load_models``: the status panel's and ``GET /v1/models``' facts), and every
model run of either front door goes through one :class:`~tarjama.server.queue.ModelQueue`.  The HTTP layer
(``tarjama.server.api``) only parses requests and shapes answers; the page (app.py) calls the same
methods.  Errors a client caused are :class:`ApiError` (400); a model that fails is :class:`ModelFailure`
(500, saying which model and what it raised).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tarjama.documents import InputError
from tarjama.pipeline import Pipeline
from tarjama.registry import ConfigError, ModelNotAvailable
from tarjama.result import LANGUAGE_NAMES
from tarjama.server.files import FileStore, translate_file
from tarjama.server.queue import ModelQueue
from tarjama.server.texts import layout, translate_texts
from tarjama.translate.detect import Detection, detect_language
from tarjama.translate.glossary import SOURCE_LANG, Glossary, GlossaryError, glossary_from_rows
from tarjama.translate.markup import translate_html, visible_text
from tarjama.translate.translator import Translator

log = logging.getLogger(__name__)
SOURCE = SOURCE_LANG  # tarjama translates from Arabic; "auto" is accepted and checked by detection
FORMATS = ("text", "html")


class ApiError(Exception):
    """A request the server cannot do as asked: ``status`` and a message for the client."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ModelFailure(Exception):
    """A model run failed (500): the message names the model and what went wrong."""


class ClientGone(Exception):
    """The client hung up while its job waited: the job is dropped when its turn comes, not run for nobody."""


@dataclass
class ModelReport:
    """What start-up loading found: one row per model of models.yaml, and what is missing."""

    rows: list[list[str]]
    missing: str | None
    seconds: float
    demo: bool

    HEADERS = ("key", "model", "engine", "device", "compute_type", "license", "status")  # /v1/models' fields
    LABELS = ("Key", "Model", "Engine", "Device", "Compute", "Licence", "Status")        # the page's columns

    def summary(self) -> str:
        loaded = sum(r[-1] == "loaded" for r in self.rows)
        return f"{loaded} of {len(self.rows)} models loaded in {self.seconds:.1f} s"


def load_models(pipeline: Pipeline) -> ModelReport:
    """Load every model now, once, so the first request does not wait; never let a missing one stop serving."""
    rows, missing = [], []
    started = time.perf_counter()
    for spec in pipeline.registry.specs():
        try:
            engine = pipeline.engines.get(spec, backend=pipeline.backend)
            rows.append([spec.key, spec.model, engine.name, engine.device, engine.compute_type, spec.license,
                         "loaded"])
        except Exception as err:  # ModelNotAvailable, or a damaged folder: report it, keep serving
            rows.append([spec.key, spec.model, "—", "—", "—", spec.license, "not available"])
            missing.append(str(err))
    return ModelReport(rows, "\n".join(missing) or None, time.perf_counter() - started, pipeline.registry.demo)


def missing_help(missing: str) -> str:
    return ("Models not available: translating fails until they are. What to do: run `tarjama models pull` "
            "where there is network (and copy the Hugging Face cache here), or set `model:` in models.yaml to a "
            f"local folder; then restart `tarjama serve`.\n{missing}")


def job_cost(chars: int, targets: int = 1, summary: bool = False) -> int:
    """A model job's size for the queue's ordering: characters times the passes over them."""
    return chars * (max(1, targets) + int(summary))


@dataclass
class Translation:
    """``POST /translate``'s outcome for its texts, in order."""

    texts: list[str]
    alternatives: list[list[str]] | None = None
    detected: list[Detection] = field(default_factory=list)


class Service:
    """The page's and the API's one way to the models."""

    def __init__(self, pipeline: Pipeline, report: ModelReport | None = None, *, queue: ModelQueue | None = None,
                 files: FileStore | None = None) -> None:
        self.pipeline = pipeline
        self.report = report if report is not None else load_models(pipeline)
        self.queue = queue or ModelQueue()
        self.files = files or FileStore()

    @property
    def targets(self) -> tuple[str, ...]:
        return self.pipeline.targets

    @contextmanager
    def model_work(self, cost: int, what: str, cancelled: threading.Event | None = None) -> Iterator[None]:
        """A queue slot for one job (dropped if ``cancelled`` is set by then); a model's own exception becomes
        ModelFailure naming ``what`` it was."""
        with self.queue.slot(cost):
            if cancelled is not None and cancelled.is_set():
                raise ClientGone("the client disconnected before its turn")
            try:
                yield
            except (InputError, ApiError, ConfigError, GlossaryError, ClientGone):
                raise
            except ModelNotAvailable as err:
                raise ModelFailure(f"{what} failed: model not available: {' '.join(str(err).split())}") from err
            except Exception as err:
                log.exception("%s failed", what)
                raise ModelFailure(f"{what} failed: {type(err).__name__}: {err}") from err

    # -- LibreTranslate's operations ------------------------------------------------------------------------

    def languages(self) -> list[dict[str, Any]]:
        """``GET /languages``: Arabic with every target, then each target (which tarjama does not translate from)."""
        targets = sorted(self.targets)
        out = [{"code": SOURCE, "name": language_name(SOURCE), "targets": targets}]
        return out + [{"code": t, "name": language_name(t), "targets": []} for t in targets if t != SOURCE]

    def detect(self, texts: Sequence[str], html: bool = False) -> list[Detection]:
        """The language of ``texts`` taken together (of all their visible text when ``html``)."""
        return detect_language([visible_text(t) for t in texts] if html else list(texts))

    def check_pair(self, source: str, target: str) -> None:
        """LibreTranslate's refusals for a language it does not have, or a pair it cannot do."""
        if source not in (SOURCE, "auto"):
            raise ApiError(f"{source} is not supported")
        if target not in self.targets:
            if target == SOURCE:
                raise ApiError(f"{language_name(target)} ({target}) is not available as a target language "
                               f"from {language_name(SOURCE)} ({SOURCE})")
            raise ApiError(f"{target} is not supported")

    def translate(self, texts: Sequence[str], source: str, target: str, fmt: str = "text",
                  alternatives: int = 0, *, cancelled: threading.Event | None = None) -> Translation:
        """``POST /translate``: each text through segmentation, batching, the configured glossary and checks."""
        self.check_pair(source, target)
        if fmt not in FORMATS:
            raise ApiError(f"{fmt} format is not supported")
        detected: list[Detection] = []
        if source == "auto":
            detected = self.detect(texts, html=fmt == "html")
            if detected[0].language != SOURCE and detected[0].confidence > 0:
                raise ApiError(f"{detected[0].language} is not supported")
        if source == "auto" and detected[0].confidence == 0:  # no letters at all: as is (LibreTranslate too)
            return Translation(list(texts), [[] for _ in texts] if alternatives else None, detected)
        chars = sum(len(t) for t in texts)
        with self.model_work(job_cost(chars), f"Translating into {target} ({self._model(target)})", cancelled):
            translator = self.pipeline.translator(target)
            if fmt == "html":
                out = _Texts(translator).html(list(texts))
                alts = [[] for _ in texts] if alternatives else None  # as LibreTranslate: none for HTML
            else:
                out = _Texts(translator).text(list(texts))
                alts = [_alternatives(translator, t, main, alternatives) for t, main in zip(texts, out)] \
                    if alternatives else None
        return Translation(out, alts, detected)

    @staticmethod
    def file_chars(filename: str, data: bytes) -> int:
        """The characters a file would send to the model: it is read (and refused, InputError) here, before
        it waits for the model, and its size in the queue is its text's, not its bytes'."""
        counting = _Counting()
        translate_file(filename, data, SOURCE, counting)
        return counting.chars

    def translate_file(self, filename: str, data: bytes, source: str, target: str, chars: int | None = None, *,
                       cancelled: threading.Event | None = None) -> str:
        """``POST /translate_file``: the stored name of the translated file (``/download_file/<name>``)."""
        self.check_pair(source, target)
        cost = job_cost(self.file_chars(filename, data) if chars is None else chars)
        with self.model_work(cost, f"Translating {filename} into {target} ({self._model(target)})", cancelled):
            name, out = translate_file(filename, data, target, _Texts(self.pipeline.translator(target)))
        return self.files.save(name, out)

    # -- tarjama's own ---------------------------------------------------------------------------------------

    def article(self, text: str, targets: Sequence[str] | None = None, summary: bool = True,
                glossary: Glossary | None = None, *, cancelled: threading.Event | None = None) -> dict[str, Any]:
        """``POST /v1/articles``: the JSON ``tarjama translate --format json`` prints (``tarjama.article``)."""
        prepared = self.pipeline.prepare(text)  # InputError (400) before the queue
        targets = list(targets) if targets else list(self.targets)
        for t in targets:
            self.check_pair(SOURCE, t)
        chars = sum(len(s) for p in prepared.paragraphs for s in p)
        with self.model_work(job_cost(chars, len(targets), summary), "Translating the article", cancelled):
            result = self.pipeline.run(prepared, targets, summary, glossary=glossary)
        return result.to_dict()

    def models(self) -> dict[str, Any]:
        """``GET /v1/models``: the status panel's facts."""
        rows = [dict(zip(ModelReport.HEADERS, row)) for row in self.report.rows]
        return {"models": rows, "summary": self.report.summary(), "demo": self.report.demo,
                "missing": self.report.missing, "targets": list(self.targets),
                "queue": {"running": self.queue.running, "waiting": self.queue.waiting,
                          "ordering": self.queue.ordering}}

    def _model(self, target: str) -> str:
        return self.pipeline.registry.translation_spec(target).model

    def close(self) -> None:
        self.files.close()


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def request_glossary(rows: Sequence[dict[str, Any]] | None) -> Glossary | None:
    """A glossary from the API's rows (``[{"ar": "…", "en": "…"}]``); ApiError naming the first bad row."""
    if not rows:
        return None
    header = list(dict.fromkeys(k for r in rows for k in r))
    try:
        glossary = glossary_from_rows(header, [[r.get(h, "") for h in header] for r in rows], "glossary")
    except GlossaryError as err:
        raise ApiError(f"Invalid request: {err}") from None
    if glossary.problems:
        raise ApiError("Invalid request: " + "; ".join(str(p) for p in glossary.problems))
    return glossary


def _sentences(translator: Translator) -> Callable[[list[str]], list[str]]:
    return lambda sentences: [t.text for t in translator.translate(sentences)]


def _alternatives(translator: Translator, text: str, main: str, n: int) -> list[str]:
    """Up to ``n`` other translations of ``text``: the k-th n-best translation of each of its sentences (the
    best one where a sentence has fewer), distinct and not the main translation — LibreTranslate's shape."""
    lay = layout(text)
    if not lay.slots:
        return []
    per_sentence = [[a.text for a in translator.alternatives(s, n + 1)] for s in lay.sentences]
    out: list[str] = []
    for k in range(1, n + 1):
        candidate = lay.rebuild([alts[k] if k < len(alts) else alts[0] for alts in per_sentence])
        if candidate != main and candidate not in out:
            out.append(candidate)
    return out[:n]


class _Counting:
    """A TextTranslate that translates nothing and counts what it is given (``Service.file_chars``)."""

    def __init__(self) -> None:
        self.chars = 0

    def text(self, texts: list[str]) -> list[str]:
        self.chars += sum(len(t) for t in texts)
        return list(texts)

    def html(self, texts: list[str]) -> list[str]:
        return self.text(texts)


class _Texts:
    """Plain texts and HTML through one Translator (``tarjama.server.files.TextTranslate``); markup hands over
    HTML runs with their source's line wrapping already undone, so a sentence wrapped in the markup is
    translated whole."""

    def __init__(self, translator: Translator) -> None:
        self.sentences = _sentences(translator)

    def text(self, texts: list[str]) -> list[str]:
        return translate_texts(texts, self.sentences)

    def html(self, texts: list[str]) -> list[str]:
        return [translate_html(t, self.text) for t in texts]


__all__ = ["ApiError", "ClientGone", "ModelFailure", "ModelReport", "Service", "Translation", "job_cost",
           "load_models", "missing_help", "request_glossary"]
