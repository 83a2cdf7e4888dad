"""A batch run's settings, its usage errors, and the records that are not results (failures, known ids)."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from tarjama.documents import Document, InputError, source_name

ENGINES = ("local", "ray")

# /2: JSONL/CSV rows are numbered by record, not by line (ids PATH:ROW and sources changed for CSV text
# fields holding newlines and for JSONL with blank lines), so a /1 output cannot be resumed exactly once.
MANIFEST_SCHEMA = "tarjama.batch/2"
CHUNK_ARTICLES = 16       # articles per run_many call: enough to fill the model's batches
CHUNK_CHARS = 64_000      # ... or this much text, so a run of long articles does not make one huge call
# Extra failure reasons this module adds to tarjama.documents.REASONS.
BATCH_REASONS = frozenset({"duplicate_id", "model_error"})


class BatchError(Exception):
    """A run that cannot start (usage, incompatible output); ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class RayOptions:
    """``--engine ray``: ``--ray-address --num-workers --cpus-per-worker --gpus-per-worker``."""

    address: str | None = None          # None: start a private instance on this machine, stop it at the end
    num_workers: int | None = None      # None: as many actors as the cluster's CPUs (and GPUs) hold
    cpus_per_worker: int | None = None  # None: ray_engine.CPUS_PER_WORKER, at most the largest node's CPUs
    gpus_per_worker: float = 0.0


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
    targets: tuple[str, ...] = ()  # () : every target of models.yaml (resolved by the runner)
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
    glossary: str | None = None  # --glossary FILE, on top of models.yaml's glossaries
    engine: Literal["local", "ray"] = "local"  # where chunks run: this machine's processes, or Ray
    ray: RayOptions | None = None  # --engine ray's options (None: RayOptions())

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


def label(position: str) -> str:
    """A position as messages name it: stdin's ``-:3`` is "standard input, record 3" (the errors file
    keeps ``-:3`` as ``source``, the key a resume matches)."""
    head, _, row = position.partition(":")
    if head == "-" and (not row or row.isdigit()):
        return source_name("-", int(row) if row else None)
    return position


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
    if cfg.engine != "local":
        argv += ["--engine", cfg.engine]
        ray, defaults_ray = cfg.ray or RayOptions(), RayOptions()
        for flag, name in (("--ray-address", "address"), ("--num-workers", "num_workers"),
                           ("--cpus-per-worker", "cpus_per_worker"), ("--gpus-per-worker", "gpus_per_worker")):
            if getattr(ray, name) != getattr(defaults_ray, name):
                argv += [flag, f"{getattr(ray, name):g}" if name == "gpus_per_worker" else str(getattr(ray, name))]
    return shlex.join([*argv, "--resume"])
