"""Which reader a path needs (by suffix), the size cap on whole-file reads, and the refusals that concern
a file as a whole: an unsupported suffix, a path that cannot be read, a file far too big for an article."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from tarjama.documents.types import HINTS, InputError, source_name

DOCUMENT_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx")
RECORD_SUFFIXES = (".jsonl", ".csv")
# A whole-file read is refused above this size: far beyond any article, and it keeps a stray
# multi-gigabyte file from being pulled into memory. Record files stream and have no cap.
MAX_FILE_BYTES = 64 * 1024 * 1024


def input_kind(path: str | Path) -> Literal["document", "records", "unsupported"]:
    """Which reader a path needs, by suffix; ``-`` (stdin) is JSON Lines for batch runs."""
    if str(path) == "-":
        return "records"
    suffix = Path(path).suffix.lower()
    if suffix in DOCUMENT_SUFFIXES:
        return "document"
    if suffix in RECORD_SUFFIXES:
        return "records"
    return "unsupported"


def unsupported(source: str, suffix: str) -> InputError:
    """The refusal of a file whose suffix the reader at hand does not take."""
    if suffix in RECORD_SUFFIXES:
        why = f"a {suffix} file holds many articles, one per row; run it with `tarjama batch`"
        hint = "run .jsonl and .csv files with tarjama batch"
    elif suffix in DOCUMENT_SUFFIXES:
        why = f"a {suffix} file is one article; run it with `tarjama translate`"
        hint = "run one-article files (.txt .md .html .htm .docx) with tarjama translate"
    else:
        what = f"'{suffix}' files are" if suffix else "files without a suffix are"
        why = (
            f"{what} not supported; an article can be {' '.join(DOCUMENT_SUFFIXES)}, "
            f"a batch {' '.join(RECORD_SUFFIXES)}"
        )
        hint = HINTS["unsupported"]
    return InputError("unsupported", f"{source}: {why}", source, hint=hint)


def cannot_read(source: str, err: OSError) -> InputError:
    """The refusal of a path that cannot be opened: missing, a directory, or unreadable."""
    if isinstance(err, FileNotFoundError):
        return InputError("missing", f"{source}: no such file; check the path", source, hint=HINTS["missing"])
    if isinstance(err, IsADirectoryError):
        return InputError(
            "unsupported",
            f"{source}: is a directory; pass the files in it",
            source,
            hint="pass the files in the folder (tarjama batch reads a whole folder)",
        )
    return InputError(
        "missing",
        f"{source}: cannot be read ({err.strerror}); check the path",
        source,
        hint="check the path, and that you may read the file",
    )


def file_too_big(source: str, size: int) -> InputError:
    """The refusal of a file over ``MAX_FILE_BYTES``."""
    return InputError(
        "too_long",
        f"{source_name(source)}: {size / 2**20:.0f} MiB is far larger than one article "
        f"(limit {MAX_FILE_BYTES // 2**20} MiB per file); split it, or put many articles in a .jsonl file",
        source,
        hint="split it into articles, or put many articles in a .jsonl file for tarjama batch",
    )
