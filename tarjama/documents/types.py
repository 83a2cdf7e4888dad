"""What reading an article produces: a ``Document``, or an ``InputError`` with a reason, a message and a hint.

Also how messages name a source (stdin as "standard input") and how a document without an id of its
own is named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# The reasons the documents modules raise; callers may add their own (the pipeline uses "usage").
REASONS = frozenset(
    {"empty", "not_arabic", "undecodable", "binary", "too_long", "unsupported", "malformed", "missing"}
)

# What the user should do, one sentence per reason: the hint an InputError of that reason carries where
# its raiser has nothing more specific to say.
HINTS: Mapping[str, str] = MappingProxyType(
    {
        "empty": "give an Arabic article that has some text in it",
        "not_arabic": "tarjama translates from Arabic: give it the Arabic original",
        "undecodable": "save the text as UTF-8 (iconv -f windows-1256 -t utf-8 converts the Arabic Windows encoding)",
        "binary": "give the text: .txt .md .html .htm .docx, or .jsonl/.csv records",
        "too_long": "split it into several articles (tarjama batch translates many in one run)",
        "unsupported": "give an article as .txt .md .html .htm .docx, or many as .jsonl/.csv records",
        "malformed": "fix or remove the bad part; the message says where it is",
        "missing": "check the path",
    }
)


class InputError(ValueError):
    """Bad input, with a machine-readable reason, a one-line human message and what to do (``hint``)."""

    def __init__(self, reason: str, message: str, source: str = "<text>", *, hint: str = ""):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.source = source
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # Default exception pickling replays only args=(message,); batch workers need all four.
        return (type(self), (self.reason, self.message, self.source), {"hint": self.hint})

    def __repr__(self) -> str:
        hint = f", hint={self.hint!r}" if self.hint else ""
        return f"InputError({self.reason!r}, {self.message!r}, source={self.source!r}{hint})"


@dataclass(frozen=True)
class Document:
    """One article's text as read from its source, before any cleaning.

    ``date``: the article's date (ISO ``YYYY-MM-DD``) where its source says it.  ``dropped``: what
    extraction left out that an editor would want to know (an HTML page's byline, date line,
    navigation), each ``{"kind": "byline"|"date"|"navigation"|"other", "line": 0, "text": ...}`` like the
    segmenter's removals (line 0: not in the text); the page shows them with those.
    """

    text: str
    title: str | None = None
    id: str | None = None
    source: str = "<text>"
    row: int | None = None
    format: str = "txt"
    date: str | None = None
    dropped: list[dict[str, Any]] = field(default_factory=list, hash=False)


# --------------------------------------------------------------------------- naming sources


STDIN_NAME = "standard input"
TEXT_SOURCE, TEXT_NAME = "<text>", "the text"  # a Document made from a string (the API, the page's text box)


def source_name(source: str, row: int | None = None) -> str:
    """How messages name a source: the path (``path:row``) as given, but ``-`` as "standard input"
    ("standard input, record 3"); "-: the file is empty" reads like a bug, not like advice."""
    if source == "-":
        return STDIN_NAME if row is None else f"{STDIN_NAME}, record {row}"
    if source == TEXT_SOURCE:
        return TEXT_NAME
    return source if row is None else f"{source}:{row}"


def the_file(source: str) -> str:
    """Messages say "the file", or "the input" for stdin (which is no file the user could open)."""
    return "the input" if source == "-" else "the file"


def fallback_id(source: str, row: int, text: str) -> str:
    """Files: their path and row. Stdin has no stable position, so its rows are named by content."""
    if source == "-":
        return "sha1:" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{source}:{row}"
