"""Inputs → a stable list of sources → one lazy stream of records (Document, Failure or Known)."""

from __future__ import annotations

import io
import os
import shlex
import sys
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tarjama.batch.config import BatchError, Failure, Fields, Item, Known
from tarjama.documents import (
    InputError,
    RecordSample,
    arabic_ratio,
    count_records,
    input_kind,
    iter_records,
    json_lines_problem,
    read_document,
    sample_records,
    source_name,
)

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
    """How many records the sources hold, counted as the reader numbers them (a CSV row is one record
    however many lines its text spans), or None when stdin is among them."""
    total = 0
    for src in sources:
        if src.path == "-":
            return None
        total += _records_in(src)
    return total


def _records_in(src: Source) -> int:
    """A record file's records; one for a document, or for a file that will fail as a whole."""
    if src.kind != "records":
        return 1
    try:
        return max(count_records(src.path), 1)
    except (InputError, OSError):
        return 1


# --------------------------------------------------------------------------- checks before the run


SAMPLE_RECORDS = 20     # records read per file to check the text field before any model loads
_STDIN_HEAD = 8192      # bytes of stdin looked at (peeked, so the reader still gets them)
_TEXT_NAMES = ("body", "content", "article", "story", "text_ar", "article_text", "full_text", "nass", "matn")
_TEXT_MIN_CHARS = 20    # mean length of a field's values for it to be taken for the article text


def preflight(sources: Sequence[Source], fields: Fields) -> None:
    """Usage errors the first records show, raised (exit 2) before any model loads or output is made.

    Plain text on stdin or a wrong --text-field would otherwise surface minutes later as one
    ``malformed`` line per record, none saying what to change.
    """
    for src in sources:
        if src.kind != "records":
            continue
        sample = _stdin_sample() if src.path == "-" else _file_sample(src.path)
        if sample is not None:
            _check_text_field(src.path, sample, fields)


def _file_sample(path: str) -> RecordSample | None:
    try:
        return sample_records(path, limit=SAMPLE_RECORDS)
    except (InputError, OSError):
        return None  # a whole-file problem: the run records it as that file's failure


def _stdin_sample() -> RecordSample | None:
    """Refuse stdin that is not JSON Lines; sample the records wholly inside its first bytes."""
    if sys.stdin is None:
        raise BatchError("- reads JSON Lines from standard input, but there is no standard input")
    if sys.stdin.isatty():
        raise BatchError("- reads JSON Lines from standard input, but standard input is a terminal: pipe the "
                         "records in (cat feed.jsonl | tarjama batch - ...), or name the file instead of -")
    head = _stdin_head()
    problem = json_lines_problem(head)
    if problem is not None:
        raise BatchError(f"standard input is not JSON Lines but {problem}: `tarjama batch -` reads one JSON "
                         'object per line, {"id": …, "text": …}; to translate a single article from standard '
                         "input, use `tarjama translate -`")
    try:
        return sample_records("-", stream=io.BytesIO(head[: head.rfind(b"\n") + 1]), limit=SAMPLE_RECORDS)
    except InputError:
        return None


def _stdin_head() -> bytes:
    """The first bytes of stdin, left for the reader: peeked from a pipe, or read and sought back."""
    raw = getattr(sys.stdin, "buffer", sys.stdin)
    if hasattr(raw, "peek"):
        return raw.peek(_STDIN_HEAD)[:_STDIN_HEAD]
    if raw.seekable():
        start = raw.tell()
        head = raw.read(_STDIN_HEAD)
        raw.seek(start)
        return head
    return b""


def _check_text_field(path: str, sample: RecordSample, fields: Fields) -> None:
    """No record has the text field: name the fields found and the flag that picks the likely one."""
    is_csv = path != "-" and Path(path).suffix.lower() == ".csv"
    if is_csv:
        missing = bool(sample.columns) and fields.text not in sample.columns
    else:
        missing = bool(sample.records) and not any(fields.text in record for record in sample.records)
    if not missing:
        return
    what = "column" if is_csv else "key"
    guess = _likely_text_field(sample, fields)
    fix = f"add --text-field {shlex.quote(guess)}" if guess else "name the text field with --text-field NAME"
    scope = "" if is_csv else f" in its first {SAMPLE_RECORDS} records"
    if not is_csv and len(sample.records) < SAMPLE_RECORDS:
        scope = " in its records"
    raise BatchError(f"{source_name(path)}: no {fields.text!r} {what}{scope} ({what}s: {', '.join(sample.columns)}); "
                     f"{fix}")


def _likely_text_field(sample: RecordSample, fields: Fields) -> str | None:
    """The field holding the most (Arabic) text in the sample: the article, not its title or id; for a
    header without rows, a usual name for the text column."""
    def weight(name: str) -> tuple[float, int]:
        values = [v for record in sample.records if isinstance(v := record.get(name), str)]
        return sum(len(v) * arabic_ratio(v) for v in values), sum(map(len, values))

    names = [c for c in sample.columns if c not in (fields.id, fields.title)]
    best = max(names, key=weight, default=None)
    if best is not None and weight(best)[1] >= _TEXT_MIN_CHARS * max(len(sample.records), 1):
        return best
    return next((c for c in names if c.lower() in _TEXT_NAMES), None)


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

