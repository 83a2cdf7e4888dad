"""Resumable batch runs: many inputs in, every record accounted for exactly once.

    tarjama batch wire/ extra.jsonl --to en,es --summary --out night.jsonl [--resume]

The pieces, in the order a record meets them:

- ``enumerate_inputs``: files and directories (recursive, sorted, hidden names skipped) → a stable
  list of sources, decided before anything is read, so a rerun sees the same order.
- ``iter_items``: one lazy stream of ``Document`` (a good record) or ``Failure`` (a bad one) per
  record; files are read only when reached, so a file that vanishes meanwhile is a ``missing`` record.
- ``Runner``: drops records already done (resume), turns a repeated id into a ``duplicate_id``
  failure, validates, gathers good records into chunks and translates each chunk with one
  ``Pipeline.run_many`` call (sentences of many articles share batches). A chunk that raises is
  re-run one article at a time, so one bad article costs only itself (``model_error``).
- ``JsonlLog`` / ``DirOutput``: the only writers. A JSONL entry is written with one ``os.write`` of
  the complete line; a dir entry is files written to a temporary name and renamed, ``ID.json`` last.
  A crash therefore leaves whole entries plus at most one torn last line, which the next
  ``--resume`` cuts off (and says so) before appending.
- ``Manifest`` (``OUT`` stem + ``.manifest.json``): the run's targets, summary flag and models; a
  resume with different ones is refused rather than mixing two kinds of result in one file.

Exactly-once is by id: each id lands once in output ∪ errors. A later record reusing an id is
written to the errors file as ``duplicate_id`` keyed by its own position (``source``), so it too is
accounted for once, and a resume recognises it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from tarjama.documents import Document, InputError, input_kind, iter_records, read_document, validate_text

__all__ = ["BatchConfig", "BatchError", "BatchReport", "Failure", "add_parser", "enumerate_inputs",
           "iter_items", "run_batch", "safe_name"]

MANIFEST_SCHEMA = "tarjama.batch/1"
CHUNK_ARTICLES = 16       # articles per run_many call: enough to fill the model's batches
CHUNK_CHARS = 64_000      # ... or this much text, so a run of long articles does not make one huge call
LOG_INTERVAL_S = 10.0     # progress log lines when stderr is not a terminal
# Extra failure reasons this module adds to tarjama.documents.REASONS.
BATCH_REASONS = frozenset({"duplicate_id", "model_error"})


class BatchError(Exception):
    """A run that cannot start (usage, incompatible output); ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Fields:
    """Names of the id, text and title fields of JSONL/CSV records."""

    id: str = "id"
    text: str = "text"
    title: str = "title"


@dataclass(frozen=True)
class BatchConfig:
    inputs: tuple[str, ...]
    out: Path
    targets: tuple[str, ...] = ("en", "es")
    summarize: bool = False
    format: Literal["jsonl", "dir"] = "jsonl"
    errors: Path | None = None
    resume: bool = False
    fields: Fields = field(default_factory=Fields)
    limit: int | None = None
    workers: int = 1
    chunk: int = CHUNK_ARTICLES
    chunk_chars: int = CHUNK_CHARS
    models: str | None = None
    backend: str | None = None
    memory: bool = True       # the shared translation memory (Pipeline.from_config's default)

    @property
    def errors_path(self) -> Path:
        return self.errors or _beside(self.out, ".errors.jsonl")

    @property
    def manifest_path(self) -> Path:
        return _beside(self.out, ".manifest.json")


def _beside(out: Path, suffix: str) -> Path:
    """``night.jsonl`` → ``night`` + suffix; a folder ``night/`` → ``night`` + suffix next to it."""
    stem = out.stem if out.suffix.lower() == ".jsonl" else out.name
    return out.parent / (stem + suffix)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Failure:
    """One record that will not be translated: a line of the errors file."""

    id: str
    source: str
    reason: str
    message: str

    @classmethod
    def of(cls, err: InputError, record_id: str | None = None) -> Failure:
        return cls(record_id or err.source, err.source, err.reason, err.message)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Known:
    """A document file already done in an earlier run: accounted for without reading it again."""

    id: str
    source: str


Item = Document | Failure | Known


def where(doc: Document) -> str:
    """A record's position: ``path`` for a document file, ``path:row`` for a JSONL/CSV row."""
    return f"{doc.source}:{doc.row}" if doc.row is not None else doc.source


# --------------------------------------------------------------------------- input enumeration


@dataclass(frozen=True)
class Source:
    path: str
    kind: Literal["document", "records", "unsupported"]


def enumerate_inputs(inputs: Sequence[str], exclude: Collection[Path] = ()) -> list[Source]:
    """Expand directories (recursively, sorted) into a stable list of sources, each path once.

    Paths in ``exclude`` (this run's own output, errors and manifest) and anything under them are
    left out, so an output written inside an input folder is never read back as input.
    """
    if not inputs:
        raise BatchError("no input given: name files, folders, or - for JSON Lines on stdin")
    skip = {p.resolve() for p in exclude}
    sources: list[Source] = []
    seen: set[str] = set()

    def add(path: Path | str) -> None:
        key = "-" if path == "-" else str(Path(path).resolve())
        if key in seen or (key != "-" and _excluded(Path(key), skip)):
            return
        seen.add(key)
        sources.append(Source(str(path), input_kind(path)))

    for raw in inputs:
        path = Path(raw)
        if raw == "-":
            add("-")
        elif path.is_dir():
            for found in _walk(path):
                add(found)
        elif path.exists():
            add(path)
        else:
            raise BatchError(f"{raw}: no such file or directory")
    return sources


def _excluded(path: Path, skip: set[Path]) -> bool:
    return any(path == s or s in path.parents for s in skip)


def _walk(top: Path) -> Iterator[Path]:
    """Files under ``top`` in a stable order; hidden names (.git, editor temp files) are skipped."""
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def estimate_records(sources: Sequence[Source]) -> int | None:
    """How many records the sources hold (rows counted by lines), or None when stdin is among them."""
    total = 0
    for src in sources:
        if src.path == "-":
            return None
        if src.kind != "records":
            total += 1
            continue
        try:
            total += _count_rows(Path(src.path))
        except OSError:
            total += 1
    return total


def _count_rows(path: Path) -> int:
    lines = 0
    with path.open("rb") as f:
        for line in f:
            lines += bool(line.strip())
    return max(lines - 1, 0) if path.suffix.lower() == ".csv" else lines


# --------------------------------------------------------------------------- record stream


def iter_items(sources: Iterable[Source], fields: Fields = Fields(),
               done: Collection[str] = frozenset()) -> Iterator[Item]:
    """A ``Document`` or ``Failure`` per record, reading each file only when it is reached.

    Document files already in ``done`` are not read again (``Known``): resuming a folder of
    thousands of files costs a directory listing, not a re-read.
    """
    for src in sources:
        if src.kind == "records":
            yield from _record_items(src.path, fields)
        elif src.path in done:
            yield Known(src.path, src.path)
        else:
            try:
                yield read_document(src.path)
            except InputError as err:
                yield Failure.of(err, src.path)


def _record_items(path: str, fields: Fields) -> Iterator[Item]:
    try:
        for item in iter_records(path, id_field=fields.id, text_field=fields.text, title_field=fields.title):
            yield Failure.of(item) if isinstance(item, InputError) else item
    except InputError as err:  # the file as a whole: missing, binary, no text column, no rows
        yield Failure.of(err, path)


def check_document(doc: Document) -> Failure | None:
    """The checks ``Pipeline.run_many`` makes, done first: one bad article must not fail its chunk."""
    from translate.segment import segment

    try:
        validate_text(doc.text, where(doc))
    except InputError as err:
        return Failure.of(err, doc.id)
    seg = segment(doc.text)
    if not seg.paragraphs:
        removed = "; ".join(r.text for r in seg.removed)[:120]
        return Failure(doc.id or where(doc), where(doc), "empty",
                       f"{where(doc)}: nothing left to translate after cleaning (removed: {removed})")
    return None


# --------------------------------------------------------------------------- output: JSON Lines


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _line(entry: dict[str, Any]) -> bytes:
    return (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")


_BRIEF = ("id", "source", "reason")


class JsonlLog:
    """An append-only JSON Lines file written by one process: one ``os.write`` per complete line.

    ``os.write`` bypasses user-space buffers, so a killed process never loses a line it wrote; the
    only damage a crash can do is a torn last line, which ``load`` cuts off.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def load(self, repair: bool) -> tuple[list[dict[str, Any]], int]:
        """Entries already in the file (the first whole, the others as id/source/reason only, so a
        resume of a huge output stays small), and the bytes of a torn last line (cut off if ``repair``).
        """
        entries: list[dict[str, Any]] = []
        good_end = 0
        if not self.path.exists():
            return entries, 0
        with self.path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                if not raw.endswith(b"\n"):
                    break  # torn: the process died in the middle of writing this line
                entry = self._parse(raw, number)
                entries.append(entry if not entries else {k: entry.get(k) for k in _BRIEF})
                good_end += len(raw)
            size = f.seek(0, os.SEEK_END)
        torn = size - good_end
        if torn and repair:
            os.truncate(self.path, good_end)
        return entries, torn

    def _parse(self, raw: bytes, number: int) -> dict[str, Any]:
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise BatchError(f"{self.path}:{number}: not a tarjama batch entry (a JSON object with an id); "
                             "this file was changed by something else: fix or remove that line, then resume")
        return entry

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, entry: dict[str, Any]) -> None:
        assert self.fd is not None
        _write_all(self.fd, _line(entry))

    def sync(self) -> None:
        if self.fd is not None:
            os.fsync(self.fd)

    def close(self) -> None:
        if self.fd is not None:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None


# --------------------------------------------------------------------------- output: a folder


_UNSAFE = re.compile(r"[^\w.-]|^\.")
_MAX_NAME = 150


def safe_name(record_id: str) -> str:
    """A file name for an id: letters, digits, ``_ . -`` kept, anything else as %XX (injective).

    ``a/b:1`` → ``a%2Fb%3A1``. Very long ids keep a prefix plus a hash of the whole id.
    """
    import hashlib

    name = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), record_id)
    if len(name.encode("utf-8")) > _MAX_NAME:
        digest = hashlib.sha1(record_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        name = name.encode("utf-8")[:_MAX_NAME - 17].decode("utf-8", "ignore") + "~" + digest
    return name


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class DirOutput:
    """One folder, per article ``ID.<lang>.md``, ``ID.summary.md`` and ``ID.json`` (written last).

    ``ID.json`` is the commit mark: an article counts as done once it exists, so markdown files of an
    article interrupted before its JSON are simply rewritten by the resume.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[dict[str, Any]]:
        entries = []
        if not self.path.is_dir():
            return entries
        for tmp in self.path.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)  # an interrupted atomic write
        for file in sorted(self.path.glob("*.json")):
            try:
                entry = json.loads(file.read_bytes())
            except ValueError:
                entry = None
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise BatchError(f"{file}: not a tarjama result; remove it or choose another --out")
            entries.append(entry if not entries else {k: entry.get(k) for k in _BRIEF})
        return entries

    def open(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def append(self, entry: dict[str, Any]) -> None:
        base = safe_name(entry["id"])
        demo = "> **DEMO**: random-weight models; this is noise, not a translation.\n\n" if entry.get("demo") else ""
        for lang, tr in entry["translations"].items():
            _atomic_write(self.path / f"{base}.{lang}.md", demo + tr["text"] + "\n")
        if entry.get("summaries"):
            from tarjama.result import LANGUAGE_NAMES

            parts = [f"## {LANGUAGE_NAMES.get(k, k)}\n\n{v}\n" for k, v in entry["summaries"].items()]
            _atomic_write(self.path / f"{base}.summary.md", demo + "\n".join(parts))
        _atomic_write(self.path / f"{base}.json", json.dumps(entry, ensure_ascii=False, indent=2) + "\n")

    def sync(self) -> None:
        pass  # every file was fsynced before its rename

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- manifest


def signature(targets: Sequence[str], summarize: bool, fmt: str, models: Iterable[Any]) -> dict[str, Any]:
    """What makes two runs' results interchangeable: targets, summaries, models (with engines)."""
    rows = []
    for m in models:
        m = m if isinstance(m, dict) else asdict(m)
        rows.append({k: m.get(k) for k in ("task", "key", "model", "revision", "engine", "compute_type")})
    return {"schema": MANIFEST_SCHEMA, "format": fmt, "targets": sorted(targets), "summary": bool(summarize),
            "models": sorted(rows, key=lambda r: (r["task"] or "", r["key"] or ""))}


def signature_of_entry(entry: dict[str, Any], fmt: str) -> dict[str, Any]:
    """The signature an output line written without a manifest implies."""
    return signature(list(entry.get("translations", {})), bool(entry.get("summaries")), fmt,
                     entry.get("models", []))


def differences(old: dict[str, Any], new: dict[str, Any], *, engines: bool = True) -> list[str]:
    """Human-readable differences between two signatures (empty: compatible)."""
    out = []
    if old.get("format") != new.get("format"):
        out.append(f"format {old.get('format')} (this run: {new.get('format')})")
    if old.get("targets") != new.get("targets"):
        out.append(f"targets {','.join(old.get('targets', []))} (this run: {','.join(new['targets'])})")
    if old.get("summary") != new.get("summary"):
        out.append(("with" if old.get("summary") else "without") + " summaries (this run: "
                   + ("with" if new["summary"] else "without") + ")")
    keys = ("model", "revision", "engine", "compute_type") if engines else ("model", "revision")
    old_models = {m["key"]: m for m in old.get("models", [])}
    for m in new.get("models", []):
        before = old_models.get(m["key"])
        if before is not None and any(before.get(k) != m.get(k) for k in keys):
            out.append(f"{m['key']}: {_model_label(before, keys)} (this run: {_model_label(m, keys)})")
    return out


def _model_label(m: dict[str, Any], keys: Sequence[str]) -> str:
    label = f"{m.get('model')}@{m.get('revision')}"
    return label + (f" {m.get('engine')}/{m.get('compute_type')}" if "engine" in keys else "")


# --------------------------------------------------------------------------- the output set


class Outputs:
    """Output (JSONL or folder), errors file and manifest of one run, and what they already hold."""

    def __init__(self, cfg: BatchConfig) -> None:
        self.cfg = cfg
        self.results: JsonlLog | DirOutput = DirOutput(cfg.out) if cfg.format == "dir" else JsonlLog(cfg.out)
        self.errors = JsonlLog(cfg.errors_path)
        self.done: set[str] = set()          # ids in output ∪ errors (duplicate_id lines excepted)
        self.dup_sources: set[str] = set()   # positions already written as duplicate_id
        self.earlier = Counter()             # "translated" / "failed" before this run
        self.notes: list[str] = []
        self.previous: dict[str, Any] | None = None
        self._lock: int | None = None

    def exclude(self) -> list[Path]:
        return [self.cfg.out, self.cfg.errors_path, self.cfg.manifest_path]

    def prepare(self) -> None:
        """Check the output paths, take the lock, and (on resume) repair and read what is there."""
        self._check_paths()
        self._take_lock()
        results, torn_out = self._load_results()
        errors, torn_err = self.errors.load(repair=self.cfg.resume)
        if not self.cfg.resume and (results or errors or torn_out or torn_err):
            raise BatchError(f"{self.cfg.out} already holds results (or {self.cfg.errors_path} errors): add "
                             "--resume to continue that run, or remove them / choose another --out")
        for path, torn in ((self.cfg.out, torn_out), (self.cfg.errors_path, torn_err)):
            if torn:
                self.notes.append(f"repaired {path}: removed a torn last line ({torn} bytes) left by a crash")
        self.done.update(e["id"] for e in results)
        for e in errors:
            if e.get("reason") == "duplicate_id":
                self.dup_sources.add(str(e.get("source")))
            else:
                self.done.add(e["id"])
        self.earlier.update(translated=len(results), failed=len(errors))
        # A fresh run (outputs checked empty above) records its own manifest over any stale one.
        self.previous = self._previous_signature(results) if self.cfg.resume else None

    def _check_paths(self) -> None:
        out = self.cfg.out
        if self.cfg.format == "dir" and out.exists() and not out.is_dir():
            raise BatchError(f"{out} is a file; --format dir needs a folder (or use --format jsonl)")
        if self.cfg.format == "jsonl" and out.is_dir():
            raise BatchError(f"{out} is a folder; --format jsonl needs a file path (or use --format dir)")
        if self.cfg.errors_path.resolve() == out.resolve():
            raise BatchError("--errors must differ from --out")

    def _take_lock(self) -> None:
        """Two runs appending to one output would break exactly-once: the errors file is the lock."""
        import fcntl

        self.cfg.errors_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.cfg.errors_path, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise BatchError(f"another tarjama batch is writing {self.cfg.out}; wait for it to finish") from None
        self._lock = fd

    def _load_results(self) -> tuple[list[dict[str, Any]], int]:
        if isinstance(self.results, DirOutput):
            return self.results.load(), 0
        return self.results.load(repair=self.cfg.resume)

    def _previous_signature(self, results: list[dict[str, Any]]) -> dict[str, Any] | None:
        path = self.cfg.manifest_path
        if path.exists():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                raise BatchError(f"{path}: unreadable run manifest; remove it to resume without the "
                                 "compatibility check") from None
        return signature_of_entry(results[0], self.cfg.format) if results else None

    def check(self, current: dict[str, Any], *, engines: bool) -> None:
        """Refuse to resume into an output made with other targets, summaries or models."""
        if self.previous is None:
            return
        diff = differences(self.previous, current, engines=engines)
        if diff:
            raise BatchError(f"{self.cfg.out} was made by a different run: " + "; ".join(diff)
                             + ". Resume with the same --to/--summary/--models/--backend, or write to a new --out")

    def start(self, current: dict[str, Any]) -> None:
        """Open for appending; a fresh run records its signature first."""
        if self.previous is None:
            _atomic_write(self.cfg.manifest_path, json.dumps(current, indent=2) + "\n")
        self.results.open()
        self.errors.open()

    def sync(self) -> None:
        self.results.sync()
        self.errors.sync()

    def close(self) -> None:
        self.results.close()
        self.errors.close()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


# --------------------------------------------------------------------------- translating chunks


@dataclass(frozen=True)
class Done:
    id: str
    result: dict[str, Any]


Outcome = Done | Failure


class PipelineLike(Protocol):
    def run_many(self, items: Sequence[Document], targets: Sequence[str], summarize: bool) -> list[Any]: ...


def translate_chunk(pipe: PipelineLike, docs: Sequence[Document], targets: Sequence[str],
                    summarize: bool) -> list[Outcome]:
    """One ``run_many`` over the chunk; if it raises, each article alone, so only the culprit fails."""
    try:
        return [Done(d.id, r.to_dict()) for d, r in zip(docs, pipe.run_many(docs, targets, summarize))]
    except Exception as err:
        if len(docs) == 1:
            return [_failure(err, docs[0])]
    return [_run_one(pipe, d, targets, summarize) for d in docs]


def _run_one(pipe: PipelineLike, doc: Document, targets: Sequence[str], summarize: bool) -> Outcome:
    try:
        return Done(doc.id, pipe.run_many([doc], targets, summarize)[0].to_dict())
    except Exception as err:
        return _failure(err, doc)


def _failure(err: Exception, doc: Document) -> Failure:
    """The failure of one article, or a re-raise when the fault is not the article's (models, config)."""
    from tarjama.registry import ConfigError, ModelNotAvailable

    if isinstance(err, InputError):
        return Failure(doc.id, where(doc), err.reason, err.message)
    if isinstance(err, (ConfigError, ModelNotAvailable)):
        raise err
    message = " ".join(f"{type(err).__name__}: {err}".split())[:500]
    return Failure(doc.id, where(doc), "model_error",
                   f"{where(doc)}: the model failed on this article ({message})")


class Executor(Protocol):
    def describe(self) -> list[Any]: ...
    def submit(self, docs: list[Document]) -> Future: ...
    def close(self, abandon: bool) -> None: ...


class InlineExecutor:
    """Chunks run in this process, one after another; the models use every core for each chunk."""

    def __init__(self, pipe: Any, targets: Sequence[str], summarize: bool) -> None:
        self.pipe, self.targets, self.summarize = pipe, tuple(targets), summarize

    def describe(self) -> list[Any]:
        return self.pipe.preload(self.targets, self.summarize)

    def submit(self, docs: list[Document]) -> Future:
        future: Future = Future()
        future.set_result(translate_chunk(self.pipe, docs, self.targets, self.summarize))
        return future

    def close(self, abandon: bool) -> None:
        pass


_WORKER: dict[str, Any] = {}


def _worker_init(models: str | None, backend: str | None, memory: bool, targets: tuple[str, ...],
                 summarize: bool, cores: Any) -> None:
    """A worker process: ignores Ctrl-C (the parent decides), keeps to its share of the cores."""
    from dataclasses import replace

    from tarjama.cli import _quiet_libraries
    from tarjama.pipeline import Pipeline

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    share = cores.get(timeout=60)
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, share)
    _quiet_libraries()
    pipe = Pipeline.from_config(models, memory=memory, backend=backend)
    reg = pipe.registry  # threads = this worker's cores, whatever models.yaml says (no oversubscription)
    pipe.registry = replace(reg, translation={k: replace(s, threads=len(share)) for k, s in reg.translation.items()},
                            summarization={k: replace(s, threads=len(share)) for k, s in reg.summarization.items()})
    _WORKER.update(pipe=pipe, targets=targets, summarize=summarize)


def _worker_describe() -> list[Any]:
    return _WORKER["pipe"].preload(_WORKER["targets"], _WORKER["summarize"])


def _worker_chunk(docs: list[Document]) -> list[Outcome]:
    return translate_chunk(_WORKER["pipe"], docs, _WORKER["targets"], _WORKER["summarize"])


class PoolExecutor:
    """``--workers N``: N processes, each pinned to cores/N cores with its own models; this process
    stays the single writer. Costs N times the model memory.
    """

    def __init__(self, cfg: BatchConfig) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")  # never fork a process that may hold torch threads
        cores = ctx.Queue()
        for share in _split_cores(cfg.workers):
            cores.put(share)
        args = (cfg.models, cfg.backend, cfg.memory, cfg.targets, cfg.summarize, cores)
        self.pool = ProcessPoolExecutor(cfg.workers, mp_context=ctx, initializer=_worker_init, initargs=args)

    def describe(self) -> list[Any]:
        return self.pool.submit(_worker_describe).result()

    def submit(self, docs: list[Document]) -> Future:
        return self.pool.submit(_worker_chunk, docs)

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


# --------------------------------------------------------------------------- progress


class Progress(Protocol):
    def start(self, total: int | None) -> None: ...
    def advance(self, ok: int = 0, failed: int = 0) -> None: ...
    def close(self) -> None: ...


class NoProgress:
    def start(self, total: int | None) -> None:
        pass

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        pass

    def close(self) -> None:
        pass


class BarProgress:
    """A tqdm bar on a terminal: articles done/total, articles/s, ETA, failures in the postfix."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.bar: Any = None
        self.failed = 0

    def start(self, total: int | None) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="article", desc="batch", file=self.stream, dynamic_ncols=True)
        self.bar.set_postfix(failed=0)

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        self.failed += failed
        if failed:
            self.bar.set_postfix(failed=self.failed, refresh=False)
        self.bar.update(ok + failed)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class LogProgress:
    """Without a terminal: one line every ``interval`` seconds (logs of cron jobs stay readable)."""

    def __init__(self, stream: Any = None, interval: float = LOG_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.interval, self.clock = interval, clock
        self.total: int | None = None
        self.done = self.failed = 0

    def start(self, total: int | None) -> None:
        self.total = total
        self.started = self.last = self.clock()
        todo = "an unknown number of" if total is None else f"{total}"
        print(f"tarjama: {todo} records to do; a progress line every {self.interval:g} s", file=self.stream,
              flush=True)

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        self.done += ok + failed
        self.failed += failed
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            print(f"tarjama: {self.line(now)}", file=self.stream, flush=True)

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        of = f"/{self.total}" if self.total is not None else ""
        eta = ""
        if self.total is not None and rate > 0:
            eta = f", ETA {_duration(max(self.total - self.done, 0) / rate)}"
        return f"{self.done}{of} articles ({self.failed} failed), {rate:.2f} articles/s{eta}"

    def close(self) -> None:
        pass


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def make_progress(quiet: bool, stream: Any = None) -> Progress:
    stream = stream or sys.stderr
    if quiet:
        return NoProgress()
    return BarProgress(stream) if stream.isatty() else LogProgress(stream)


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
    """The loop: stream → skip/dedupe → validate → chunk → translate → write, single writer."""

    def __init__(self, cfg: BatchConfig, outputs: Outputs, executor: Executor, progress: Progress,
                 interrupts: Interrupts) -> None:
        self.cfg, self.outputs, self.executor = cfg, outputs, executor
        self.progress, self.interrupts = progress, interrupts
        self.report = BatchReport(earlier=outputs.earlier, notes=outputs.notes)
        self.seen: dict[str, str] = {}
        self.chunk: list[Document] = []
        self.chunk_chars = 0
        self.pending: deque[Future] = deque()
        self.taken = 0

    def run(self, items: Iterable[Item]) -> None:
        for item in items:
            if self.cfg.limit is not None and self.taken >= self.cfg.limit:
                self.report.limited = True
                break
            self.take(item)
        self.flush_chunk()
        self.drain(until=0)

    def take(self, item: Item) -> None:
        record_id = item.id or where(item)
        source = item.source if isinstance(item, Failure | Known) else where(item)
        if record_id in self.seen:
            if source not in self.outputs.dup_sources:
                self.taken += 1
                self.fail(Failure(record_id, source, "duplicate_id",
                                  f"{source}: id {record_id!r} was already used by {self.seen[record_id]}; "
                                  "ids must be unique (this record was not translated)"))
            return
        self.seen[record_id] = source
        if record_id in self.outputs.done or isinstance(item, Known):
            self.report.skipped += 1
            return
        self.taken += 1
        if isinstance(item, Failure):
            self.fail(item)
            return
        failure = check_document(item)
        if failure is not None:
            self.fail(failure)
            return
        self.chunk.append(item if item.id else _with_id(item, record_id))
        self.chunk_chars += len(item.text)
        if len(self.chunk) >= self.cfg.chunk or self.chunk_chars >= self.cfg.chunk_chars:
            self.flush_chunk()

    def flush_chunk(self) -> None:
        if self.chunk:
            self.pending.append(self.executor.submit(self.chunk))
            self.chunk, self.chunk_chars = [], 0
        self.drain(until=self.cfg.workers + (self.cfg.workers > 1))  # keep one chunk queued for the pool

    def drain(self, until: int) -> None:
        """Write finished chunks; block while more than ``until`` are in flight."""
        while self.pending and (len(self.pending) > until or self.pending[0].done()):
            if not self.pending[0].done():
                wait(self.pending, return_when=FIRST_COMPLETED)
            for future in [f for f in self.pending if f.done()]:
                self.pending.remove(future)
                self.write(future.result())

    def write(self, outcomes: list[Outcome]) -> None:
        with self.interrupts.protected():
            for outcome in outcomes:
                if isinstance(outcome, Failure):
                    self._append_failure(outcome)
                else:
                    self.outputs.results.append(outcome.result)
                    self.report.translated += 1
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
    registry = pipeline.registry if pipeline is not None else _registry(cfg.models)
    _check_request(cfg, registry)
    outputs = Outputs(cfg)
    sources = enumerate_inputs(cfg.inputs, exclude=outputs.exclude())
    try:
        outputs.prepare()
        for note in outputs.notes:
            (log or (lambda _: None))(note)
        outputs.check(signature(cfg.targets, cfg.summarize, cfg.format, _spec_rows(registry, cfg)), engines=False)
        executor = _executor(cfg, pipeline)
        report = _run(cfg, outputs, executor, sources, progress)
    finally:
        outputs.close()
    report.elapsed = time.perf_counter() - started
    return report


def _run(cfg: BatchConfig, outputs: Outputs, executor: Executor, sources: list[Source],
         progress: Progress) -> BatchReport:
    abandon = True
    with Interrupts() as interrupts:
        runner = Runner(cfg, outputs, executor, progress, interrupts)
        try:
            current = signature(cfg.targets, cfg.summarize, cfg.format, executor.describe())
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
    if total is not None:
        total = max(total - len(outputs.done), 0)
    if cfg.limit is not None:
        total = cfg.limit if total is None else min(total, cfg.limit)
    return total


def _registry(models: str | None):
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
    if cfg.limit is not None and cfg.limit < 0:
        raise BatchError("--limit must be 0 or more")


def _spec_rows(registry: Any, cfg: BatchConfig) -> list[dict[str, Any]]:
    """Models and revisions this run will use, known before any model loads."""
    specs = [registry.translation_spec(t) for t in cfg.targets]
    if cfg.summarize:
        specs.append(registry.summarization_spec())
    return [{"task": s.task, "key": s.key, "model": s.model, "revision": s.revision} for s in specs]


def _executor(cfg: BatchConfig, pipeline: Any) -> Executor:
    if cfg.workers > 1:
        if pipeline is not None:
            raise BatchError("--workers > 1 builds its own pipelines; do not pass one")
        return PoolExecutor(cfg)
    if pipeline is None:
        from tarjama.pipeline import Pipeline

        pipeline = Pipeline.from_config(cfg.models, memory=cfg.memory, backend=cfg.backend)
    return InlineExecutor(pipeline, cfg.targets, cfg.summarize)


# --------------------------------------------------------------------------- command line


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``tarjama batch``: its options."""
    from tarjama.cli import _languages

    p = sub.add_parser(
        "batch", parents=[common], help="translate many articles (files, folders, JSONL/CSV) into one output, "
        "resumably", description="Translate many Arabic articles: every input record ends up exactly once in "
        "the output or in the errors file, a crash loses nothing, --resume continues.",
        epilog=BATCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files (.txt .md .html .htm .docx, .jsonl .csv "
                   "one article per row), folders (recursive), or - for JSON Lines on stdin")
    p.add_argument("--to", type=_languages, default=["en", "es"], metavar="LANGS",
                   help="target languages, comma-separated (default: en,es)")
    p.add_argument("--summary", action="store_true", help="also summarize (Arabic + each target)")
    p.add_argument("--out", required=True, metavar="PATH", help="JSON Lines file, or a folder with --format dir")
    p.add_argument("--format", choices=("jsonl", "dir"), default="jsonl",
                   help="jsonl: one result per line (default); dir: ID.<lang>.md, ID.summary.md, ID.json")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run into the same --out")
    p.add_argument("--errors", metavar="PATH", help="errors file (default: OUT's name + .errors.jsonl)")
    p.add_argument("--id-field", default="id", metavar="NAME", help="record id field (default: id)")
    p.add_argument("--text-field", default="text", metavar="NAME", help="article text field (default: text)")
    p.add_argument("--title-field", default="title", metavar="NAME", help="title field (default: title)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes, each with its own models and cores/N threads (default: 1)")
    p.add_argument("--limit", type=int, metavar="N", help="stop after N records (not counting resumed ones)")
    p.add_argument("--chunk", type=int, default=CHUNK_ARTICLES, metavar="N",
                   help=f"articles translated together in one model pass (default: {CHUNK_ARTICLES})")
    p.add_argument("--backend", choices=("auto", "transformers", "ctranslate2"),
                   help="override the backend of models.yaml")
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="do not use (or fill) the translation memory")
    p.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")
    p.set_defaults(func=cmd_batch)


BATCH_EPILOG = """ids: the record's id field, else PATH:ROW (files: the path as given), else for stdin a content hash.
A second record with an id already used goes to the errors file as duplicate_id.
errors file: JSON Lines {id, source, reason, message}; reasons: empty, not_arabic, undecodable, binary,
too_long, unsupported, malformed, missing, duplicate_id, model_error.
exit codes: 0 every record translated; 1 some records failed (see the errors file); 2 usage error or an
output made by a different run; 130 interrupted (resume with --resume).

examples:
  tarjama batch wire/ --to en,es --summary --out night.jsonl
  tarjama batch wire/ --to en,es --summary --out night.jsonl --resume     # after a crash or Ctrl-C
  tarjama batch feed.csv --text-field body --id-field guid --to en --format dir --out night/
  cat feed.jsonl | tarjama batch - --to es --out es.jsonl
"""


def config_from_args(args: argparse.Namespace) -> BatchConfig:
    return BatchConfig(
        inputs=tuple(args.inputs), out=Path(args.out), targets=tuple(dict.fromkeys(args.to)),
        summarize=args.summary, format=args.format, errors=Path(args.errors) if args.errors else None,
        resume=args.resume, fields=Fields(args.id_field, args.text_field, args.title_field), limit=args.limit,
        workers=args.workers, chunk=args.chunk, models=args.models, backend=args.backend, memory=args.memory)


def resume_command(cfg: BatchConfig) -> str:
    """The command that continues this run."""
    argv = ["tarjama", "batch", *cfg.inputs, "--to", ",".join(cfg.targets), "--out", str(cfg.out)]
    if cfg.summarize:
        argv.append("--summary")
    if cfg.format != "jsonl":
        argv += ["--format", cfg.format]
    if cfg.errors:
        argv += ["--errors", str(cfg.errors)]
    defaults = Fields()
    for name in ("id", "text", "title"):
        if getattr(cfg.fields, name) != getattr(defaults, name):
            argv += [f"--{name}-field", getattr(cfg.fields, name)]
    for flag, value, default in (("--workers", cfg.workers, 1), ("--chunk", cfg.chunk, CHUNK_ARTICLES),
                                 ("--models", cfg.models, None), ("--backend", cfg.backend, None)):
        if value != default:
            argv += [flag, str(value)]
    if not cfg.memory:
        argv.append("--no-memory")
    return shlex.join([*argv, "--resume"])


def cmd_batch(args: argparse.Namespace) -> int:
    from tarjama.cli import CliError, _quiet_libraries

    cfg = config_from_args(args)
    _quiet_libraries()
    progress = make_progress(args.quiet)
    if _registry(cfg.models).demo:
        print("tarjama: DEMO MODE: generated random-weight models; the output is noise, not a translation.",
              file=sys.stderr)
    try:
        report = run_batch(cfg, progress=progress, log=lambda note: print(f"tarjama: {note}", file=sys.stderr))
    except BatchError as err:
        raise CliError(str(err), err.code) from None
    print(f"tarjama: {summary_line(cfg, report)}", file=sys.stderr)
    if report.interrupted is not None:
        print(f"tarjama: resume with: {resume_command(cfg)}", file=sys.stderr)
        return 128 + report.interrupted
    return 1 if report.failed_total else 0


def summary_line(cfg: BatchConfig, report: BatchReport) -> str:
    head = "interrupted" if report.interrupted is not None else ("stopped at --limit" if report.limited
                                                                 else "batch done")
    parts = [f"{report.translated} translated", f"{report.failed} failed"]
    if report.reasons:
        parts[-1] += " (" + ", ".join(f"{k} {v}" for k, v in sorted(report.reasons.items())) + ")"
    if report.skipped:
        parts.append(f"{report.skipped} already done")
    line = f"{head}: " + ", ".join(parts) + f" in {_duration(report.elapsed)} → {cfg.out}"
    if report.earlier["failed"]:
        line += f"; {report.earlier['failed']} failed in earlier runs"
    if report.failed_total:
        line += f"; see {cfg.errors_path}"
    return line
