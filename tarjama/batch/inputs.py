"""Inputs → a stable list of sources → one lazy stream of records (Document, Failure or Known)."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tarjama.batch.config import BatchError, Failure, Fields, Item, Known, where
from tarjama.documents import Document, InputError, input_kind, iter_records, read_document, validate_text

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


DEFAULT_FIELDS = Fields()


def iter_items(sources: Iterable[Source], fields: Fields = DEFAULT_FIELDS,
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
    from tarjama.translate.segment import segment

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
