"""Where chunks are translated: inline (this process) or in pinned worker processes (Ray: ray_engine.py)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from tarjama.batch.config import BatchConfig, Failure, label, where
from tarjama.documents import Document, InputError

# --------------------------------------------------------------------------- translating chunks


@dataclass(frozen=True)
class Done:
    id: str
    result: dict[str, Any]


Outcome = Done | Failure


class PipelineLike(Protocol):
    def run_many(self, items: Sequence[Document], targets: Sequence[str], summarize: bool, *,
                 glossary: Any = None) -> list[Any]: ...


def translate_chunk(pipe: PipelineLike, docs: Sequence[Document], targets: Sequence[str],
                    summarize: bool, glossary: Any = None) -> list[Outcome]:
    """One ``run_many`` over the chunk, whose per-article outcomes say which articles are bad (the pipeline
    checks each once; nothing is checked here). If the call itself raises (a model fault), each article
    alone, so only the culprit fails."""
    try:
        outcomes = pipe.run_many(docs, targets, summarize, **_rules(glossary))
    except Exception as err:
        if len(docs) == 1:
            return [_failure(err, docs[0])]
        return [_run_one(pipe, d, targets, summarize, glossary) for d in docs]
    return [_outcome(d, o) for d, o in zip(docs, outcomes)]


def _run_one(pipe: PipelineLike, doc: Document, targets: Sequence[str], summarize: bool,
             glossary: Any = None) -> Outcome:
    try:
        [outcome] = pipe.run_many([doc], targets, summarize, **_rules(glossary))
    except Exception as err:
        return _failure(err, doc)
    return _outcome(doc, outcome)


def _rules(glossary: Any) -> dict[str, Any]:
    """``glossary=`` only when there is one: a PipelineLike without glossary support still runs plain batches."""
    return {} if glossary is None else {"glossary": glossary}


def _outcome(doc: Document, outcome: Any) -> Outcome:
    """A result line, or the article's InputError as its Failure (keyed by the record's id)."""
    if isinstance(outcome, InputError):
        return _failure(outcome, doc)
    return Done(doc.id, outcome.to_dict())


def _failure(err: Exception, doc: Document) -> Failure:
    """The failure of one article, or a re-raise when the fault is not the article's (models, config)."""
    from tarjama.registry import ConfigError, ModelNotAvailable

    if isinstance(err, InputError):
        return Failure(doc.id, where(doc), err.reason, err.message)
    if isinstance(err, (ConfigError, ModelNotAvailable)):
        raise err
    message = " ".join(f"{type(err).__name__}: {err}".split())[:500]
    return Failure(doc.id, where(doc), "model_error",
                   f"{label(where(doc))}: the model failed on this article ({message})")


class Executor(Protocol):
    """Where chunks run. ``capacity``: chunks the runner may have in flight before it waits for the oldest;
    ``flush``: start whatever was submitted but is held back (an engine that sends chunks in groups)."""

    capacity: int

    def describe(self) -> list[Any]: ...
    def submit(self, docs: list[Document]) -> Future: ...
    def flush(self) -> None: ...
    def close(self, abandon: bool) -> None: ...


class InlineExecutor:
    """Chunks run in this process, one after another; the models use every core for each chunk."""

    capacity = 1

    def __init__(self, pipe: Any, targets: Sequence[str], summarize: bool, glossary: Any = None) -> None:
        self.pipe, self.targets, self.summarize, self.glossary = pipe, tuple(targets), summarize, glossary

    def describe(self) -> list[Any]:
        return self.pipe.preload(self.targets, self.summarize)

    def submit(self, docs: list[Document]) -> Future:
        future: Future = Future()
        future.set_result(translate_chunk(self.pipe, docs, self.targets, self.summarize, self.glossary))
        return future

    def flush(self) -> None:
        pass

    def close(self, abandon: bool) -> None:
        pass


_WORKER: dict[str, Any] = {}


def _worker_init(models: str | None, backend: str | None, memory: bool, targets: tuple[str, ...],
                 summarize: bool, cores: Any, glossary: Any = None) -> None:
    """A worker process: ignores Ctrl-C (the parent decides), keeps to its share of the cores."""
    from tarjama.cli.options import quiet_libraries

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    share = cores.get(timeout=60)
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, share)
    quiet_libraries()
    pipe = pipeline_for_worker(models, backend, memory, len(share))
    _WORKER.update(pipe=pipe, targets=targets, summarize=summarize, glossary=glossary)


def pipeline_for_worker(models: str | None, backend: str | None, memory: bool, threads: int) -> Any:
    """A worker's pipeline (a pool process, a Ray actor): every model with ``threads`` threads, this worker's
    cores, whatever models.yaml says, so that workers sharing a machine do not oversubscribe it."""
    from dataclasses import replace

    from tarjama.pipeline import Pipeline

    pipe = Pipeline.from_config(models, memory=memory, backend=backend)
    reg = pipe.registry
    pipe.registry = replace(reg, translation={k: replace(s, threads=threads) for k, s in reg.translation.items()},
                            summarization={k: replace(s, threads=threads) for k, s in reg.summarization.items()})
    return pipe


def _worker_describe() -> list[Any]:
    return _WORKER["pipe"].preload(_WORKER["targets"], _WORKER["summarize"])


def _worker_chunk(docs: list[Document]) -> list[Outcome]:
    return translate_chunk(_WORKER["pipe"], docs, _WORKER["targets"], _WORKER["summarize"], _WORKER["glossary"])


class PoolExecutor:
    """``--workers N``: N processes, each pinned to cores/N cores with its own models; this process
    stays the single writer. Costs N times the model memory.
    """

    def __init__(self, cfg: BatchConfig, glossary: Any = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")  # never fork a process that may hold torch threads
        cores = ctx.Queue()
        for share in _split_cores(cfg.workers):
            cores.put(share)
        args = (cfg.models, cfg.backend, cfg.memory, cfg.targets, cfg.summarize, cores, glossary)
        self.pool = ProcessPoolExecutor(cfg.workers, mp_context=ctx, initializer=_worker_init, initargs=args)
        self.capacity = cfg.workers + 1  # one chunk queued, so no worker waits for the writer

    def describe(self) -> list[Any]:
        return self.pool.submit(_worker_describe).result()

    def submit(self, docs: list[Document]) -> Future:
        return self.pool.submit(_worker_chunk, docs)

    def flush(self) -> None:
        pass

    def close(self, abandon: bool) -> None:
        if abandon:
            processes = list(getattr(self.pool, "_processes", {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for proc in processes:  # a chunk in flight is dropped; the resume redoes it
                proc.terminate()
        self.pool.shutdown(wait=True)


def _split_cores(workers: int) -> list[set[int]]:
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:
        cores = list(range(os.cpu_count() or 1))
    if workers > len(cores):
        return [set(cores)] * workers
    return [set(cores[i::workers]) for i in range(workers)]
