"""Stream articles out of record files: one per non-blank line of JSON Lines (a file or stdin), one per
CSV row (a header naming the columns). One bad record never stops the others: each is yielded as an
``InputError`` keyed ``source:row``.

Records are numbered as records, not lines: a JSONL record per non-blank line, a CSV row however many
lines its quoted fields span (the header being row 1, as a spreadsheet shows it).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import itertools
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tarjama.documents.decoding import (
    CP1256_ICONV_ARGS,
    SNIFF_BYTES,
    bom_codec,
    convert_hint,
    magic_kind,
    refuse_binary,
)
from tarjama.documents.files import MAX_FILE_BYTES, RECORD_SUFFIXES, cannot_read, unsupported
from tarjama.documents.types import Document, InputError, fallback_id, source_name, the_file

_ICONV_HINT = f"iconv {CP1256_ICONV_ARGS}"


def iter_records(
    path: str | Path,
    *,
    stream: BinaryIO | None = None,
    id_field: str = "id",
    text_field: str = "text",
    title_field: str = "title",
) -> Iterator[Document | InputError]:
    """Stream one Document per good record of a .jsonl/.csv file (or stdin JSONL), an InputError per bad one.

    Problems with the file as a whole (missing, unsupported, binary, no text column, no records at all)
    are raised, not yielded, because no record could succeed.
    """
    source, suffix = _record_source(path)
    fields = (id_field, text_field, title_field)
    if stream is not None or source == "-":
        yield from _iter_stream(sys.stdin.buffer if stream is None else stream, source, suffix, fields)
        return
    with _open_records(source) as handle:
        yield from _iter_stream(handle, source, suffix, fields)


def _record_source(path: str | Path) -> tuple[str, str]:
    """(source, suffix) of a record file; ``-`` (stdin) is JSON Lines."""
    source = str(path)
    suffix = ".jsonl" if source == "-" else Path(source).suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        raise unsupported(source, suffix)
    return source, suffix


def _open_records(source: str) -> BinaryIO:
    try:
        if Path(source).is_dir():
            raise IsADirectoryError(21, "Is a directory", source)
        return open(source, "rb")  # the caller's with closes it
    except OSError as err:
        raise cannot_read(source, err) from None


def _iter_stream(
    stream: BinaryIO, source: str, suffix: str, fields: tuple[str, str, str]
) -> Iterator[Document | InputError]:
    lines = _numbered_lines(stream, source)
    reader = _jsonl_records if suffix == ".jsonl" else _csv_records
    records = reader(lines, source, fields)
    produced = False
    for item in records:
        produced = True
        yield item
    if not produced:
        raise InputError(
            "empty",
            f"{source_name(source)}: has no records ({the_file(source)} is empty or only blank lines)",
            source,
            hint="give one JSON object per line (.jsonl), or a header row and then one row per article (.csv)",
        )


def count_records(path: str | Path) -> int:
    """How many records ``iter_records`` yields for a file (good or bad), without building them.

    A progress total counted in lines is off by the paragraphs per article as soon as CSV text fields
    hold newlines. Raises InputError where ``iter_records`` would (missing, binary, UTF-16).
    """
    source, suffix = _record_source(path)
    with _open_records(source) as handle:
        lines = _numbered_lines(handle, source)
        if suffix == ".jsonl":
            return sum(not _blank(line) for line in lines)
        return max(sum(1 for _ in _csv_rows(lines)) - 1, 0)  # the header is no record


@dataclass(frozen=True)
class RecordSample:
    """Field names and the first records of a record file, as plain dicts."""

    columns: tuple[str, ...]  # the CSV header, or the JSONL keys in order of first appearance
    records: tuple[dict, ...]


def sample_records(path: str | Path, *, stream: BinaryIO | None = None, limit: int = 20) -> RecordSample:
    """The first ``limit`` records, unchecked: lets a batch refuse a wrong --text-field before any model
    loads, naming the fields there are. Bad records are left out; raises InputError like ``iter_records``."""
    source, suffix = _record_source(path)
    if stream is not None:
        return _sample(stream, source, suffix, limit)
    with _open_records(source) as handle:
        return _sample(handle, source, suffix, limit)


def _sample(stream: BinaryIO, source: str, suffix: str, limit: int) -> RecordSample:
    lines = _numbered_lines(stream, source)
    if suffix == ".csv":
        return _sample_csv(lines, limit)
    records = []
    for line in itertools.islice((ln for ln in lines if not _blank(ln)), limit):
        with contextlib.suppress(ValueError):
            value = json.loads(line.text)
            if isinstance(value, dict):
                records.append(value)
    return RecordSample(tuple(dict.fromkeys(k for r in records for k in r)), tuple(records))


def _sample_csv(lines: Iterator[_Line], limit: int) -> RecordSample:
    rows = _csv_rows(lines)
    first = next(rows, None)
    if first is None or isinstance(first[2], str):
        return RecordSample((), ())
    header = tuple(name.strip() for name in first[2])
    records = (dict(zip(header, f)) for _, _, f in rows if not isinstance(f, str) and len(f) == len(header))
    return RecordSample(header, tuple(itertools.islice(records, limit)))


def json_lines_problem(head: bytes) -> str | None:
    """What the first bytes of a stream are if they cannot begin JSON Lines, else None.

    Plain text read as JSON Lines fails on every line, one error each, none saying why; checking the
    first non-blank character once gives one message instead. Binary and UTF-16 data are left to the
    reader, whose messages name them.
    """
    bom = bom_codec(head)
    if magic_kind(head) or b"\x00" in head or (bom is not None and bom[0] != "utf-8"):
        return None
    text = head.removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace").lstrip()
    if not text or text.startswith("{"):
        return None
    if text.startswith("["):
        return "a JSON array (jq -c '.[]' turns one into JSON Lines)"
    first = " ".join(text.split("\n", 1)[0].split())
    return f"plain text (it starts with {first[:40] + ('…' if len(first) > 40 else '')!r})"


class _Line:
    """One physical line: its 1-based number, decoded text, and whether it ended with a newline."""

    __slots__ = ("complete", "error", "number", "text")

    def __init__(self, number: int, text: str, complete: bool, error: str | None):
        self.number, self.text, self.complete, self.error = number, text, complete, error


def _blank(line: _Line) -> bool:
    """A blank line is no record; a line too long to hold (no text, an error) is a bad one."""
    return line.error is None and not line.text.strip()


def _raw_lines(stream: BinaryIO, source: str) -> Iterator[bytes | None]:
    """Physical lines as bytes, after a sniff for binary content; None for a line too long to hold."""
    raw = getattr(stream, "buffer", stream)  # sys.stdin as well as sys.stdin.buffer
    if isinstance(raw, io.TextIOBase):  # a text stream with no bytes underneath (io.StringIO)
        raw = io.BytesIO(raw.read().encode("utf-8", "surrogateescape"))
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(raw)
    head = raw.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    refuse_binary(head, source)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        hint = convert_hint(source, "-f utf-16 -t utf-8", "out" + Path(source).suffix)
        raise InputError(
            "undecodable",
            f"{source_name(source)}: is UTF-16, not UTF-8; {hint}",
            source,
            hint="convert it to UTF-8 (iconv -f utf-16 -t utf-8)",
        )
    while line := raw.readline(MAX_FILE_BYTES):
        if len(line) == MAX_FILE_BYTES and not line.endswith(b"\n"):
            while (more := raw.readline(MAX_FILE_BYTES)) and not more.endswith(b"\n"):
                pass  # skip the rest of an absurdly long line without holding it
            yield None
        else:
            yield line


def _numbered_lines(stream: BinaryIO, source: str) -> Iterator[_Line]:
    """Decode line by line so one bad byte spoils only its own line."""
    for number, raw in enumerate(_raw_lines(stream, source), start=1):
        if raw is None:
            yield _Line(number, "", True, f"the line is longer than {MAX_FILE_BYTES // 2**20} MiB")
            continue
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        complete = raw.endswith(b"\n")
        body = raw.rstrip(b"\r\n")
        try:
            yield _Line(number, body.decode("utf-8"), complete, None)
        except UnicodeDecodeError as err:
            bad = body[err.start : err.start + 1].hex()
            error = (
                f"not valid UTF-8 (byte 0x{bad} at column {err.start + 1}); "
                f"if {the_file(source)} is in the Arabic Windows encoding, convert it: {_ICONV_HINT}"
            )
            yield _Line(number, body.decode("utf-8", "surrogateescape"), complete, error)


def _malformed(source: str, row: int, message: str, line: int | None = None) -> InputError:
    """A bad record, keyed ``source:row``; its line is named too where it differs from the row number,
    since that is what an editor shows (a CSV row's quoted fields can span many lines)."""
    at = f" (at line {line})" if line is not None and line != row else ""
    return InputError(
        "malformed",
        f"{source_name(source, row)}: {message}{at}; fix or remove this row (the other rows are still read)",
        f"{source}:{row}",
        hint="fix or remove this row; the other rows are still read",
    )


def _make_document(
    record: dict, source: str, at: tuple[int, int], fields: tuple[str, str, str], fmt: str
) -> Document | InputError:
    """The Document of a parsed record at ``at`` = (row, first line), or the reason it is bad."""
    id_field, text_field, title_field = fields
    row, line = at
    text = record.get(text_field)
    if text is None:
        present = ", ".join(map(str, record)) or "none"
        return _malformed(source, row, f"no {text_field!r} field (fields present: {present})", line)
    if not isinstance(text, str):
        return _malformed(source, row, f"the {text_field!r} field is {type(text).__name__}, not a string", line)
    # A blank text becomes a Document under its own id: the pipeline refuses it once, as reason "empty".
    raw_id = record.get(id_field)
    if isinstance(raw_id, bool) or (raw_id is not None and not isinstance(raw_id, (str, int))):
        return _malformed(source, row, f"the {id_field!r} field must be a string or an integer", line)
    doc_id = fallback_id(source, row, text) if raw_id is None or raw_id == "" else str(raw_id)
    title = record.get(title_field)
    title = title.strip() or None if isinstance(title, str) else None
    return Document(text=text, title=title, id=doc_id, source=source, row=row, format=fmt)


def _jsonl_records(
    lines: Iterable[_Line], source: str, fields: tuple[str, str, str]
) -> Iterator[Document | InputError]:
    """A record per non-blank line, numbered as records: a blank line shifts no id."""
    records = (line for line in lines if not _blank(line))
    for row, line in enumerate(records, start=1):
        yield _jsonl_record(line, source, row, fields)


def _jsonl_record(line: _Line, source: str, row: int, fields: tuple[str, str, str]) -> Document | InputError:
    if line.error:
        return _malformed(source, row, line.error, line.number)
    try:
        value = json.loads(line.text)
    except json.JSONDecodeError as err:
        cut = f"is cut off ({the_file(source)} looks truncated)"
        what = cut if not line.complete else "is not valid JSON"
        return _malformed(source, row, f"{what} ({err.msg}, column {err.colno})", line.number)
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
        return _malformed(source, row, f"is a JSON {kind}, not an object with a text field", line.number)
    return _make_document(value, source, (row, line.number), fields, "jsonl")


# CSV is parsed here rather than by the csv module: its per-process field-size limit (128 KiB) and its
# loss of sync after an error would let one bad row garble the rows after it.
_QUOTED_BODY = re.compile(r'[^"]*(?:""[^"]*)*')
_UNQUOTED = re.compile(r"[^,]*")


def _csv_rows(lines: Iterator[_Line]) -> Iterator[tuple[int, int, list[str] | str]]:
    """(row, first line, fields or an error) per record. Rows count records, the header being row 1 as in
    a spreadsheet, so a quoted field spanning lines does not shift the rows (and ids) after it."""
    records = (line for line in lines if not _blank(line))
    for row, line in enumerate(records, start=1):
        yield row, line.number, _parse_csv_record(line, lines)


def _parse_csv_record(first: _Line, lines: Iterator[_Line]) -> list[str] | str:
    buf, pos, fields, error = first.text, 0, [], first.error
    while True:
        if buf.startswith('"', pos):
            end = _QUOTED_BODY.match(buf, pos + 1).end()
            while end == len(buf):  # the quoted field goes on to the next line
                nxt = next(lines, None)
                if nxt is None:
                    return "a quoted field is never closed (the file looks truncated)"
                error = error or nxt.error
                buf += "\n" + nxt.text
                if len(buf) > MAX_FILE_BYTES:  # keep streaming bounded when a quote is never closed
                    return f"a quoted field runs on past {MAX_FILE_BYTES // 2**20} MiB (an unbalanced quote?)"
                end = _QUOTED_BODY.match(buf, end).end()
            fields.append(buf[pos + 1 : end].replace('""', '"'))
            pos = end + 1
            if pos < len(buf) and buf[pos] != ",":
                return f"unexpected text after a closing quote in field {len(fields)}"
        else:
            end = _UNQUOTED.match(buf, pos).end()
            fields.append(buf[pos:end])
            pos = end
        if pos >= len(buf):
            return error or fields
        pos += 1  # past the comma


def _csv_records(
    lines: Iterator[_Line], source: str, fields: tuple[str, str, str]
) -> Iterator[Document | InputError]:
    rows = _csv_rows(iter(lines))
    header_row = next(rows, None)
    if header_row is None:
        return
    *_, header = header_row
    if isinstance(header, str):
        raise InputError(
            "malformed",
            f"{source}:1: the header row is unreadable ({header})",
            f"{source}:1",
            hint="fix the header row: the column names, separated by commas",
        )
    header = [name.strip() for name in header]
    text_field = fields[1]
    if text_field not in header:
        raise InputError(
            "malformed",
            f"{source}: no {text_field!r} column in the header (columns: {', '.join(header)}); "
            "name the text column with the text-field option",
            source,
            hint="name the text column with the text-field option (tarjama batch --text-field NAME)",
        )
    for row, line, parsed in rows:
        if isinstance(parsed, str):
            yield _malformed(source, row, parsed, line)
        elif len(parsed) != len(header):
            yield _malformed(source, row, f"has {len(parsed)} fields but the header has {len(header)}", line)
        else:
            yield _make_document(dict(zip(header, parsed, strict=True)), source, (row, line), fields, "csv")
