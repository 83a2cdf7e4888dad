"""``tarjama batch --engine ray``: chunks translated by a Ray Data actor pool; this process stays the only writer.

The runner (tarjama/batch/runner.py) is the same for every engine: it reads, skips and dedupes the records,
cuts them into chunks and writes each chunk's outcomes with the exactly-once writers.  Here a run of chunks
(a *window*) becomes one Ray Dataset, one row per chunk; ``map_batches`` hands each row to an actor of an
``ActorPoolStrategy`` pool, and each actor loads its models once, in its constructor, and keeps them for
every chunk of the window.  Rows stream back in the order they finish and resolve the runner's futures.

Exactly once under failure: Ray restarts an actor whose process died and runs its task again (Ray Data's
actor pools default to unlimited restarts and task retries), so a chunk may be translated twice; only its
first arrival resolves the chunk's future, a second one is dropped, and the runner never writes an id twice.
An exception inside an actor would abort the whole Dataset (``DataContext.max_errored_blocks`` is 0), so
every per-article fault is caught there and comes back as that article's failure, as in the local engine;
a fault that is not the article's (models.yaml, a missing model) comes back as the chunk's ``fatal``.

Facts about Ray 2.60 this module relies on (read from its source; docs/ray.md has the references).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import asdict
from typing import Any

from tarjama.batch.config import BatchConfig, BatchError, Failure, RayOptions
from tarjama.batch.executors import Done, Outcome, pipeline_for_worker, translate_chunk
from tarjama.documents import Document

RAY_INSTALL = "pip install 'tarjama[ray]'"
CPUS_PER_WORKER = 2      # model threads per actor: 2 keeps CTranslate2 efficient and a node's cores busy
WINDOW_CHUNKS = 256      # chunks per Dataset (4,096 articles at 16 a chunk): bounds what this process holds
# Ray's environment for a run, read when Ray is imported: no usage reports, no Ray progress bars (the run has
# its own), and no Ray started behind our back: after an interrupted run's ray.shutdown(), a Dataset still
# winding down would otherwise call ray.init() itself and start a second, local instance.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DATA_DISABLE_PROGRESS_BARS": "1", "RAY_ENABLE_AUTO_CONNECT": "0"}
# A private local instance only: Ray then binds every listener to 127.0.0.1 (by default its GCS, raylet and
# workers listen on all interfaces).  Undocumented; ray/_private/services.py get_node_ip_address, Ray 2.60.
LOCAL_ONLY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
# This process's variables that the workers get too (Ray's runtime_env): where models, conversions and the
# translation memory live, offline mode, the corpus.  A worker on another node sees them as paths of its own.
FORWARDED_ENV = ("TARJAMA_", "HF_", "TRANSFORMERS_")


def require(options: RayOptions) -> None:
    """Ray importable (the ``ray`` extra), its environment set first; else the install command (exit 2)."""
    for key, value in {**RAY_ENV, **(LOCAL_ONLY_ENV if options.address is None else {})}.items():
        os.environ.setdefault(key, value)
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as err:
        raise BatchError(f"--engine ray needs Ray, which is not installed ({err}); install it with: "
                         f"{RAY_INSTALL}", 2) from None
    for name, value in (("--num-workers", options.num_workers), ("--cpus-per-worker", options.cpus_per_worker)):
        if value is not None and value < 1:
            raise BatchError(f"{name} must be at least 1")
    if options.gpus_per_worker < 0:
        raise BatchError("--gpus-per-worker must be 0 or more")


# --------------------------------------------------------------------------- the actors


class ChunkTranslator:
    """One Ray actor: its own pipeline, loaded once; each row it gets is one chunk of articles (JSON)."""

    def __init__(self, cfg: BatchConfig, threads: int, glossary: Any) -> None:
        from tarjama.cli.options import quiet_libraries

        quiet_libraries()
        self.pipe = pipeline_for_worker(cfg.models, cfg.backend, cfg.memory, threads)
        self.targets, self.summarize, self.glossary = cfg.targets, cfg.summarize, glossary

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        from tarjama.registry import ConfigError, ModelNotAvailable

        out: dict[str, list[Any]] = {"chunk": [], "outcomes": [], "fatal": [], "pid": []}
        for chunk, payload in zip(batch["chunk"], batch["docs"]):
            docs = [Document(**d) for d in json.loads(str(payload))]
            outcomes, fatal = [], ""
            try:
                outcomes = translate_chunk(self.pipe, docs, self.targets, self.summarize, self.glossary)
            except (ConfigError, ModelNotAvailable) as err:  # not the articles' fault: the run stops
                fatal = f"{type(err).__name__}: {err}"
            out["chunk"].append(int(chunk))
            out["outcomes"].append(json.dumps([encode(o) for o in outcomes], ensure_ascii=False))
            out["fatal"].append(fatal)
            out["pid"].append(os.getpid())
        return out


def encode(outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Failure):
        return {"failure": outcome.to_dict()}
    return {"id": outcome.id, "result": outcome.result}


def decode(entry: dict[str, Any]) -> Outcome:
    if "failure" in entry:
        return Failure(**entry["failure"])
    return Done(entry["id"], entry["result"])


def _describe(cfg: BatchConfig, threads: int) -> dict[str, Any]:
    """The models as one actor will load them (a Ray task on a worker node: its models, its paths)."""
    from tarjama.registry import ConfigError, ModelNotAvailable

    try:
        pipe = pipeline_for_worker(cfg.models, cfg.backend, cfg.memory, threads)
        return {"models": [asdict(m) for m in pipe.preload(cfg.targets, cfg.summarize)]}
    except (ConfigError, ModelNotAvailable) as err:
        return {"error": type(err).__name__, "message": str(err)}


# --------------------------------------------------------------------------- the executor


class RayExecutor:
    """Chunks go to Ray in windows of up to ``WINDOW_CHUNKS``, one Dataset each, run one after another in a
    background thread; each chunk's future resolves when its row comes back."""

    def __init__(self, cfg: BatchConfig, glossary: Any = None) -> None:
        import ray

        self.cfg, self.glossary, self.options = cfg, glossary, cfg.ray or RayOptions()
        self.capacity = 2 * WINDOW_CHUNKS  # one window running, the next one filling
        self.temp: str | None = None
        self._buffer: list[tuple[int, list[Document], Future]] = []
        self._next = 0
        self._windows: list[threading.Thread] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        logging.getLogger("ray").setLevel(logging.WARNING)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        self.owned = not ray.is_initialized()  # a caller already connected to Ray keeps its connection
        if self.owned and self.options.address is None:
            self.temp = tempfile.mkdtemp(prefix="tarjama-ray-")  # Ray never removes its session folders
            ray.init(address="local", num_cpus=len(_cores()), include_dashboard=False, log_to_driver=False,
                     logging_level=logging.WARNING, _temp_dir=self.temp)
        elif self.owned:
            try:
                ray.init(address=self.options.address, log_to_driver=False, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise BatchError(f"cannot reach the Ray cluster at {self.options.address}: {err}", 2) from None
        try:
            self.cpus, self.workers = self._fit()
        except BatchError:
            self.close(abandon=True)
            raise

    def _fit(self) -> tuple[int, int]:
        """CPUs per actor and actors, checked against what the cluster has: Ray would wait for ever for an
        actor no node can hold."""
        import ray

        nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
        largest = max((int(n.get("CPU", 0)) for n in nodes), default=0)
        total_cpus = sum(int(n.get("CPU", 0)) for n in nodes)
        total_gpus = sum(n.get("GPU", 0) for n in nodes)
        cpus = self.options.cpus_per_worker or max(1, min(CPUS_PER_WORKER, largest))
        if cpus > largest:
            raise BatchError(f"--cpus-per-worker {cpus}: no Ray node has that many CPUs (the largest has {largest})")
        gpus = self.options.gpus_per_worker
        if gpus and gpus > max((n.get("GPU", 0) for n in nodes), default=0):
            raise BatchError(f"--gpus-per-worker {gpus:g}: no Ray node has that many GPUs "
                             f"(the cluster has {total_gpus:g} in all)")
        fit = total_cpus // cpus
        if gpus:
            fit = min(fit, int(total_gpus // gpus))
        workers = self.options.num_workers or max(1, fit)
        if workers > fit:
            raise BatchError(f"--num-workers {workers} × --cpus-per-worker {cpus}"
                             + (f" (and {gpus:g} GPUs each)" if gpus else "")
                             + f": the Ray cluster holds {fit} such workers ({total_cpus} CPUs, {total_gpus:g} GPUs)")
        return cpus, workers

    def describe(self) -> list[Any]:
        import ray

        task = ray.remote(num_cpus=self.cpus, num_gpus=self.options.gpus_per_worker or None, max_calls=1,
                          runtime_env=_runtime_env())(_describe)  # max_calls=1: its worker exits, models and all
        try:
            answer = ray.get(task.remote(self.cfg, self.cpus))
        except ray.exceptions.RayError as err:  # e.g. tarjama missing or another version on a node
            message = " ".join(str(err).split())[-600:]
            raise BatchError(f"a Ray worker could not load the models: {message}", 2) from None
        if "error" in answer:
            from tarjama.registry import ConfigError, ModelNotAvailable

            raise {"ConfigError": ConfigError, "ModelNotAvailable": ModelNotAvailable}[answer["error"]](
                answer["message"])
        return answer["models"]

    def submit(self, docs: list[Document]) -> Future:
        future: Future = Future()
        self._buffer.append((self._next, list(docs), future))
        self._next += 1
        if len(self._buffer) >= WINDOW_CHUNKS:
            self.flush()
        return future

    def flush(self) -> None:
        """Hand the chunks gathered so far to Ray as one window (after the windows before it)."""
        if not self._buffer:
            return
        window, self._buffer = self._buffer, []
        previous = self._windows[-1] if self._windows else None
        thread = threading.Thread(target=self._run_window, args=(window, previous), daemon=True,
                                  name=f"tarjama-ray-window-{len(self._windows)}")
        self._windows.append(thread)
        thread.start()

    def _run_window(self, window: list[tuple[int, list[Document], Future]], previous: threading.Thread | None
                    ) -> None:
        if previous is not None:
            previous.join()
        futures = {index: future for index, _, future in window}
        try:
            for row in self._rows(window):
                if self._stop.is_set():
                    break
                self._arrived(futures, row)
            missing = [i for i, f in futures.items() if not f.done()]
            if missing and not self._stop.is_set():
                raise RuntimeError(f"Ray returned no result for {len(missing)} chunk(s)")
        except BaseException as err:  # the window failed as a whole: the runner sees it on the first future
            for future in futures.values():
                if not future.done():
                    future.set_exception(err if isinstance(err, Exception) else RuntimeError(repr(err)))

    def _rows(self, window: list[tuple[int, list[Document], Future]]) -> Any:
        import ray

        items = [{"chunk": index, "docs": json.dumps([asdict(d) for d in docs], ensure_ascii=False)}
                 for index, docs, _ in window]
        dataset = ray.data.from_items(items, override_num_blocks=len(items))
        strategy = ray.data.ActorPoolStrategy(size=min(self.workers, len(items)), max_tasks_in_flight_per_actor=1)
        gpus = self.options.gpus_per_worker or None
        translated = dataset.map_batches(ChunkTranslator, compute=strategy, batch_size=1, batch_format="numpy",
                                         fn_constructor_args=(self.cfg, self.cpus, self.glossary),
                                         num_cpus=self.cpus, num_gpus=gpus, runtime_env=_runtime_env())
        return translated.iter_rows()

    def _arrived(self, futures: dict[int, Future], row: dict[str, Any]) -> None:
        """One chunk back. A chunk Ray ran twice (its actor died after finishing) resolves once."""
        future = futures.get(int(row["chunk"]))
        with self._lock:
            if future is None or future.done():
                return
            if row["fatal"]:
                future.set_exception(BatchError(f"a Ray worker stopped the run: {row['fatal']}", 2))
                return
            future.set_result([decode(e) for e in json.loads(str(row["outcomes"]))])

    def close(self, abandon: bool) -> None:
        import ray

        if abandon:
            self._stop.set()
            for name in ("ray", "ray.data"):  # the Dataset being cut off logs its broken connection: not news
                logging.getLogger(name).setLevel(logging.CRITICAL)
        else:
            self.flush()
        if self.owned:
            with contextlib.suppress(Exception):
                ray.shutdown()  # a local instance stops; on a cluster, this run's actors go with its driver
        for thread in self._windows:
            thread.join(timeout=30)
        if self.temp:
            shutil.rmtree(self.temp, ignore_errors=True)


def _runtime_env() -> dict[str, Any] | None:
    env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_ENV)}
    return {"env_vars": env} if env else None


def _cores() -> Sequence[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:
        return list(range(os.cpu_count() or 1))
