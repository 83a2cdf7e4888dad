"""The run: stream → skip/dedupe → chunk → validate and translate (the pipeline) → write; Ctrl-C between writes."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from dataclasses import dataclass, field, replace
from typing import Any

from tarjama.batch.config import BatchConfig, BatchError, Failure, Item, Known, RayOptions, label, resume_command, where
from tarjama.batch.executors import Executor, InlineExecutor, Outcome, PoolExecutor
from tarjama.batch.inputs import Source, enumerate_inputs, estimate_records, iter_items, preflight
from tarjama.batch.outputs import Outputs, signature
from tarjama.batch.progress import NoProgress, Progress
from tarjama.documents import Document

# --------------------------------------------------------------------------- interrupts


class Interrupts:
    """Ctrl-C / SIGTERM stop the run between writes, never inside one.

    The handler raises KeyboardInterrupt at once (abandoning the chunk being translated: nothing of it
    is written yet) unless a write is in progress; then it is raised right after that write.
    """

    def __init__(self) -> None:
        self.signal: int | None = None
        self.depth = 0
        self._saved: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: object) -> None:
        self.signal = signum
        if self.depth == 0:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def protected(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if self.signal is not None and self.depth == 0:
            raise KeyboardInterrupt


# --------------------------------------------------------------------------- the run


@dataclass
class BatchReport:
    translated: int = 0
    failed: int = 0
    skipped: int = 0                      # already done by an earlier run
    reasons: Counter = field(default_factory=Counter)
    earlier: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    interrupted: int | None = None        # the signal that stopped the run
    limited: bool = False
    elapsed: float = 0.0

    @property
    def failed_total(self) -> int:
        return self.failed + self.earlier["failed"]


class Runner:
    """The loop: stream → skip/dedupe → chunk → validate and translate → write, single writer (each article
    is validated once, by the pipeline, which returns an outcome per article)."""

    def __init__(self, cfg: BatchConfig, outputs: Outputs, executor: Executor, progress: Progress,
                 interrupts: Interrupts) -> None:
        self.cfg, self.outputs, self.executor = cfg, outputs, executor
        self.progress, self.interrupts = progress, interrupts
        self.report = BatchReport(earlier=outputs.earlier, notes=outputs.notes)
        self.seen: dict[str, str] = {}
        self.chunk: list[Document] = []
        self.chunk_chars = 0
        self.submitted = 0                # chunks handed to the executor
        self.pending: deque[Future] = deque()
        self.taken = 0
        self.written: set[str] = set()    # ids this run wrote

    def run(self, items: Iterable[Item]) -> None:
        for item in items:
            if self.cfg.limit is not None and self.taken >= self.cfg.limit:
                self.report.limited = True
                break
            self.take(item)
        self.flush_chunk()
        self.executor.flush()
        self.drain(until=0)

    def take(self, item: Item) -> None:
        record_id = item.id or where(item)
        source = item.source if isinstance(item, Failure | Known) else where(item)
        if record_id in self.seen:
            self.duplicate(record_id, source)
            return
        self.seen[record_id] = source
        if record_id in self.outputs.done or isinstance(item, Known):
            self.report.skipped += 1
            return
        self.taken += 1
        if isinstance(item, Failure):
            self.fail(item)
            return
        self.chunk.append(item if item.id else _with_id(item, record_id))
        self.chunk_chars += len(item.text)
        if self.chunk_full():
            self.flush_chunk()

    def duplicate(self, record_id: str, source: str) -> None:
        """A later record reusing an id: not translated, but accounted for once by its own position
        (``source``): written as ``duplicate_id`` now, or skipped if an earlier run wrote it."""
        if source in self.outputs.dup_sources:
            self.report.skipped += 1
            return
        self.taken += 1
        self.fail(Failure(record_id, source, "duplicate_id",
                          f"{label(source)}: id {record_id!r} was already used by {label(self.seen[record_id])}; "
                          "ids must be unique (this record was not translated)"))

    def chunk_full(self) -> bool:
        """The first article goes alone, so the first result and progress line come after one article's
        time, not a whole chunk's; later chunks hold ``--chunk`` articles (or ``chunk_chars`` of text)."""
        articles = self.cfg.chunk if self.submitted else 1
        return len(self.chunk) >= articles or self.chunk_chars >= self.cfg.chunk_chars

    def flush_chunk(self) -> None:
        if self.chunk:
            self.pending.append(self.executor.submit(self.chunk))
            self.submitted += 1
            self.chunk, self.chunk_chars = [], 0
        self.drain(until=self.executor.capacity)

    def drain(self, until: int) -> None:
        """Write finished chunks; block while more than ``until`` are in flight."""
        while self.pending and (len(self.pending) > until or self.pending[0].done()):
            if not self.pending[0].done():
                wait(self.pending, return_when=FIRST_COMPLETED)
            for future in [f for f in self.pending if f.done()]:
                self.pending.remove(future)
                self.write(future.result())

    def write(self, outcomes: list[Outcome]) -> None:
        """One chunk's outcomes, each id once: an engine that retries (Ray runs a chunk again when its worker
        died) may deliver an id again, and that copy is dropped here."""
        outcomes = [o for o in outcomes if o.id not in self.written]
        with self.interrupts.protected():
            for outcome in outcomes:
                if isinstance(outcome, Failure):
                    self._append_failure(outcome)
                else:
                    self.outputs.results.append(outcome.result)
                    self.report.translated += 1
                self.written.add(outcome.id)
            self.outputs.sync()
        failed = sum(isinstance(o, Failure) for o in outcomes)
        self.progress.advance(ok=len(outcomes) - failed, failed=failed)

    def fail(self, failure: Failure) -> None:
        with self.interrupts.protected():
            self._append_failure(failure)
        self.progress.advance(failed=1)

    def _append_failure(self, failure: Failure) -> None:
        self.outputs.errors.append(failure.to_dict())
        self.report.failed += 1
        self.report.reasons[failure.reason] += 1


def _with_id(doc: Document, record_id: str) -> Document:
    from dataclasses import replace

    return replace(doc, id=record_id)


def run_batch(cfg: BatchConfig, pipeline: Any = None, *, progress: Progress | None = None,
              log: Callable[[str], None] | None = None) -> BatchReport:
    """Run a batch to the end (or to Ctrl-C); the report says what happened.

    ``pipeline`` (a ``Pipeline``) is used in this process; without it one is built from
    ``cfg.models`` (or, with ``cfg.workers > 1``, one per worker process). ``log`` gets notes such
    as a repaired torn line as soon as they happen.
    """
    started = time.perf_counter()
    progress = progress or NoProgress()
    registry = pipeline.registry if pipeline is not None else load_registry(cfg.models)
    if not cfg.targets:  # no --to: every target of models.yaml, as `tarjama translate`
        cfg = replace(cfg, targets=registry.targets)
    _check_request(cfg, registry)
    outputs = Outputs(cfg)
    sources = enumerate_inputs(cfg.inputs, exclude=outputs.exclude())
    preflight(sources, cfg.fields)  # before the lock, the manifest and the models: a usage error costs nothing
    glossary = _glossary(cfg, log or (lambda _: None))
    rules = _glossary_fingerprint(registry, cfg.targets, glossary)
    try:
        outputs.prepare()
        for note in outputs.notes:
            (log or (lambda _: None))(note)
        outputs.check(signature(cfg.targets, cfg.summarize, cfg.format, _spec_rows(registry, cfg), rules),
                      engines=False)
        executor = _executor(cfg, pipeline, glossary)
        keys = [row["key"] for row in _spec_rows(registry, cfg)]
        report = _run(cfg, outputs, executor, sources, progress, log or (lambda _: None), keys, rules)
    finally:
        outputs.close()
    report.elapsed = time.perf_counter() - started
    return report


def _run(cfg: BatchConfig, outputs: Outputs, executor: Executor, sources: list[Source],
         progress: Progress, log: Callable[[str], None], keys: list[str], rules: str | None) -> BatchReport:
    abandon = True
    with Interrupts() as interrupts:
        runner = Runner(cfg, outputs, executor, progress, interrupts)
        try:
            log(f"loading models ({', '.join(keys)}) …")
            loading = time.perf_counter()
            described = executor.describe()  # loads (or converts) the models: seconds of silence otherwise
            log(f"models ready in {time.perf_counter() - loading:.1f} s")
            current = signature(cfg.targets, cfg.summarize, cfg.format, described, rules)
            outputs.check(current, engines=True)
            outputs.start(current)
            progress.start(_total(cfg, sources, outputs))
            runner.run(iter_items(sources, cfg.fields, outputs.done))
            abandon = False
        except KeyboardInterrupt:
            runner.report.interrupted = interrupts.signal or signal.SIGINT
        except BrokenExecutor:
            raise BatchError(f"a worker process died (out of memory?) after {runner.report.translated} articles; "
                             f"what is written is whole: resume with: {resume_command(cfg)}", 1) from None
        except OSError as err:
            raise BatchError(f"stopped by an I/O error ({err}); what is written is whole: fix the cause (disk "
                             f"space, permissions), then resume with: {resume_command(cfg)}", 1) from None
        finally:
            progress.close()
            executor.close(abandon=abandon)
            with contextlib.suppress(OSError):
                outputs.sync()
    return runner.report


def _total(cfg: BatchConfig, sources: list[Source], outputs: Outputs) -> int | None:
    total = estimate_records(sources)
    if total is not None:  # records an earlier run accounted for: results, failures, duplicates
        total = max(total - len(outputs.done) - len(outputs.dup_sources), 0)
    if cfg.limit is not None:
        total = cfg.limit if total is None else min(total, cfg.limit)
    return total


def load_registry(models: str | None):
    from tarjama.registry import Registry

    return Registry.load(models)


def _check_request(cfg: BatchConfig, registry: Any) -> None:
    if not cfg.targets:
        raise BatchError("no target language given (--to en,es)")
    for target in cfg.targets:
        registry.translation_spec(target)  # ConfigError names what is available
    if cfg.summarize:
        registry.summarization_spec()
    for name, value in (("--workers", cfg.workers), ("--chunk", cfg.chunk)):
        if value < 1:
            raise BatchError(f"{name} must be at least 1")
    if cfg.engine == "ray":
        if cfg.workers > 1:
            raise BatchError("--workers is the local engine's; with --engine ray use --num-workers")
        from tarjama.batch.ray_engine import require

        require(cfg.ray or RayOptions())
    if cfg.limit is not None and cfg.limit < 0:
        raise BatchError("--limit must be 0 or more")


def _spec_rows(registry: Any, cfg: BatchConfig) -> list[dict[str, Any]]:
    """Models and revisions this run will use, known before any model loads."""
    specs = [registry.translation_spec(t) for t in cfg.targets]
    if cfg.summarize:
        specs.append(registry.summarization_spec())
    return [{"task": s.task, "key": s.key, "model": s.model, "revision": s.revision} for s in specs]


def _glossary(cfg: BatchConfig, log: Callable[[str], None]) -> Any:
    """``--glossary`` read once, before any model loads; unusable rows are notes, an unreadable file a usage error."""
    if not cfg.glossary:
        return None
    from tarjama.translate.glossary import GlossaryError, load_glossary

    try:
        glossary = load_glossary(cfg.glossary)
    except GlossaryError as err:
        raise BatchError(str(err)) from None
    for problem in glossary.problems:
        log(f"warning: glossary {problem}")
    return glossary


def _glossary_fingerprint(registry: Any, targets: Sequence[str], glossary: Any) -> str | None:
    """What the run's glossary rules are (models.yaml's for its targets, then --glossary), as a digest the
    manifest keeps: a resume with other rules would mix two glossaries in one output. None: no rules."""
    from tarjama.pipeline import configured_glossary

    merged = configured_glossary(registry, targets, glossary)
    return merged.fingerprint() if len(merged) else None


def _executor(cfg: BatchConfig, pipeline: Any, glossary: Any = None) -> Executor:
    if cfg.engine == "ray":
        if pipeline is not None:
            raise BatchError("--engine ray builds a pipeline in each Ray worker; do not pass one")
        from tarjama.batch.ray_engine import RayExecutor

        return RayExecutor(cfg, glossary)
    if cfg.workers > 1:
        if pipeline is not None:
            raise BatchError("--workers > 1 builds its own pipelines; do not pass one")
        return PoolExecutor(cfg, glossary)
    if pipeline is None:
        from tarjama.pipeline import Pipeline

        pipeline = Pipeline.from_config(cfg.models, memory=cfg.memory, backend=cfg.backend)
    return InlineExecutor(pipeline, cfg.targets, cfg.summarize, glossary)
