"""The only writers: whole JSONL lines or renamed files, the manifest, and resume bookkeeping."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tarjama.atomic import write_atomic
from tarjama.batch.config import MANIFEST_SCHEMA, BatchConfig, BatchError

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
        from tarjama.result import ArticleResult

        base = safe_name(entry["id"])
        result = ArticleResult.from_dict(entry)  # the one Markdown renderer, as the CLI and the page use
        for lang in result.translations:
            write_atomic(self.path / f"{base}.{lang}.md", result.language_markdown(lang))
        if result.summaries:
            write_atomic(self.path / f"{base}.summary.md", result.summaries_markdown())
        write_atomic(self.path / f"{base}.json", json.dumps(entry, ensure_ascii=False, indent=2) + "\n")

    def sync(self) -> None:
        pass  # every file was fsynced before its rename

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------- manifest


def signature(targets: Sequence[str], summarize: bool, fmt: str, models: Iterable[Any],
              glossary: str | None = None) -> dict[str, Any]:
    """What makes two runs' results interchangeable: targets, summaries, models (with engines), glossary rules
    (their fingerprint; None when there are none)."""
    rows = []
    for m in models:
        m = m if isinstance(m, dict) else asdict(m)
        rows.append({k: m.get(k) for k in ("task", "key", "model", "revision", "engine", "compute_type")})
    return {"schema": MANIFEST_SCHEMA, "format": fmt, "targets": sorted(targets), "summary": bool(summarize),
            "models": sorted(rows, key=lambda r: (r["task"] or "", r["key"] or "")), "glossary": glossary}


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
    if old.get("glossary") != new.get("glossary"):
        out.append("other glossary rules" if old.get("glossary") and new.get("glossary") else
                   ("with" if old.get("glossary") else "without") + " a glossary (this run: "
                   + ("with" if new.get("glossary") else "without") + ")")
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
        if self.previous.get("schema") != current["schema"]:
            raise BatchError(f"{self.cfg.out} was started by an older tarjama ({self.previous.get('schema')}), which "
                             "numbered JSONL/CSV rows by line, not by record; resuming it could translate a row twice "
                             "under a new id: finish it with that version, or write to a new --out")
        diff = differences(self.previous, current, engines=engines)
        if diff:
            raise BatchError(f"{self.cfg.out} was made by a different run: " + "; ".join(diff)
                             + ". Resume with the same --to/--summary/--models/--backend/--glossary, or write to a new "
                             "--out")

    def start(self, current: dict[str, Any]) -> None:
        """Open for appending; a fresh run records its signature first."""
        if self.previous is None:
            write_atomic(self.cfg.manifest_path, json.dumps(current, indent=2) + "\n")
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
