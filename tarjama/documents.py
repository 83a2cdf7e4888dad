"""Read articles from every input format tarjama accepts, and refuse bad input clearly.

One article per file for .txt .md .html .htm .docx (``read_document``); one article per record
for .jsonl and .csv (``iter_records``, streaming, one bad record never stops the others). Records are
numbered as records, not lines: a JSONL record per non-blank line, a CSV row however many lines its
quoted fields span (the header being row 1, as a spreadsheet shows it).
Every refusal is an ``InputError`` whose message names the source (stdin as "standard input") and says
what to do.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import itertools
import json
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

__all__ = [
    "DOCUMENT_SUFFIXES",
    "MAX_CHARS",
    "MAX_FILE_BYTES",
    "MIN_ARABIC",
    "REASONS",
    "RECORD_SUFFIXES",
    "Document",
    "InputError",
    "RecordSample",
    "arabic_ratio",
    "count_records",
    "decode_bytes",
    "docx_to_document",
    "html_to_document",
    "input_kind",
    "iter_records",
    "json_lines_problem",
    "read_document",
    "sample_records",
    "source_name",
    "validate_text",
]

MAX_CHARS = 100_000
MIN_ARABIC = 0.5
DOCUMENT_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx")
RECORD_SUFFIXES = (".jsonl", ".csv")
# A whole-file read is refused above this size: far beyond any article, and it keeps a stray
# multi-gigabyte file from being pulled into memory. Record files stream and have no cap.
MAX_FILE_BYTES = 64 * 1024 * 1024
# The reasons this module raises; callers may add their own (the pipeline uses "usage").
REASONS = frozenset(
    {"empty", "not_arabic", "undecodable", "binary", "too_long", "unsupported", "malformed", "missing"}
)

_SNIFF_BYTES = 8192
_CP1256 = "-f windows-1256 -t utf-8"
_ICONV_HINT = f"iconv {_CP1256}"
_TITLE_CHARS = 120  # a .txt's first line longer than this is a lede, not a headline: it is cut at a word
# (magic prefix, what to call it): checked before any decoding so a renamed file is named for what it is.
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office 97-2003 file (.doc/.xls)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"{\\rtf", "an RTF document"),
)
_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_ARABIC_RANGES = (
    (0x0600, 0x06FF),  # Arabic
    (0x0750, 0x077F),  # Arabic Supplement
    (0x0870, 0x08FF),  # Arabic Extended-B and -A
    (0xFB50, 0xFDFF),  # Arabic Presentation Forms-A
    (0xFE70, 0xFEFF),  # Arabic Presentation Forms-B
    (0x1EE00, 0x1EEFF),  # Arabic Mathematical Alphabetic Symbols
)


class InputError(ValueError):
    """Bad input, with a machine-readable reason and a one-line human message."""

    def __init__(self, reason: str, message: str, source: str = "<text>"):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # Default exception pickling replays only args=(message,); batch workers need all three.
        return (type(self), (self.reason, self.message, self.source))

    def __repr__(self) -> str:
        return f"InputError({self.reason!r}, {self.message!r}, source={self.source!r})"


@dataclass(frozen=True)
class Document:
    """One article's text as read from its source, before any cleaning."""

    text: str
    title: str | None = None
    id: str | None = None
    source: str = "<text>"
    row: int | None = None
    format: str = "txt"


# --------------------------------------------------------------------------- naming sources


STDIN_NAME = "standard input"


def source_name(source: str, row: int | None = None) -> str:
    """How messages name a source: the path (``path:row``) as given, but ``-`` as "standard input"
    ("standard input, record 3"); "-: the file is empty" reads like a bug, not like advice."""
    if source == "-":
        return STDIN_NAME if row is None else f"{STDIN_NAME}, record {row}"
    return source if row is None else f"{source}:{row}"


def _the(source: str) -> str:
    """Messages say "the file", or "the input" for stdin (which is no file the user could open)."""
    return "the input" if source == "-" else "the file"


def _convert_hint(source: str, iconv_args: str, out: str) -> str:
    """The iconv command that fixes an encoding: run on the file, or put in the pipe for stdin."""
    if source == "-":
        return f"pipe it through `iconv {iconv_args}` first"
    return f"convert it first: iconv {iconv_args} '{source}' > {out}"


# --------------------------------------------------------------------------- text checks


def _is_arabic(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _ARABIC_RANGES)


def arabic_ratio(text: str) -> float:
    """Share of letters that are Arabic script; digits, punctuation and marks don't count."""
    letters = arabic = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            arabic += _is_arabic(ch)
    return arabic / letters if letters else 0.0


def validate_text(
    text: str, source: str = "<text>", *, max_chars: int = MAX_CHARS, min_arabic: float = MIN_ARABIC
) -> str:
    """Return ``text`` unchanged if it is a translatable Arabic article, else raise InputError."""
    name = source_name(source)
    if not text.strip():
        raise InputError("empty", f"{name}: no text to translate (it is empty or only whitespace)", source)
    if len(text) > max_chars:
        raise InputError(
            "too_long",
            f"{name}: {len(text):,} characters is over the {max_chars:,}-character limit for one article; "
            "split it into several articles",
            source,
        )
    ratio = arabic_ratio(text)
    if ratio < min_arabic:
        has_letters = any(c.isalpha() for c in text)
        found = f"only {ratio:.0%} of its letters are Arabic script" if has_letters else "it has no letters"
        what = "input" if source == "-" else "file"
        raise InputError(
            "not_arabic",
            f"{name}: does not look like Arabic text ({found}; at least {min_arabic:.0%} is needed); "
            f"tarjama translates from Arabic, so check that this is the right {what}",
            source,
        )
    return text


# --------------------------------------------------------------------------- decoding


def _magic_kind(data: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            if kind == "a ZIP archive" and _zip_has(data, "word/document.xml"):
                return "a Word .docx document"
            return kind
    return None


def _zip_has(data: bytes, member: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return member in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _looks_like_bomless_utf16(head: bytes) -> bool:
    """NULs all on one byte parity is the signature of UTF-16 text (its ASCII half), not of binary."""
    even = head[0::2].count(0)
    odd = head[1::2].count(0)
    return (even == 0) != (odd == 0) and len(head) % 2 == 0


def _bom_codec(data: bytes) -> tuple[str, int] | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None


def _undecodable(source: str, err: UnicodeDecodeError, codec: str, base: int = 0) -> InputError:
    bad = err.object[err.start : err.start + 1].hex()
    where = f"byte offset {base + err.start}"
    if codec == "utf-8":
        out = f"converted{Path(source).suffix or '.txt'}"
        hint = f"if it is in the Arabic Windows encoding, {_convert_hint(source, _CP1256, out)}"
    else:
        hint = f"{_the(source)} is damaged or not really {codec}; re-save it as UTF-8"
    return InputError(
        "undecodable",
        f"{source_name(source)}: not valid {codec.upper()} text (byte 0x{bad} at {where}); {hint}",
        source,
    )


def _refuse_binary(data: bytes, source: str) -> None:
    """Raise for content that is not text at all, naming what it appears to be."""
    kind = _magic_kind(data[:_SNIFF_BYTES]) if not data.startswith(b"PK") else _magic_kind(data)
    name = source_name(source)
    if kind:
        what = "rename it to .docx" if "docx" in kind else "give tarjama the article as text, HTML or .docx"
        raise InputError("binary", f"{name}: this is {kind}, not text; {what}", source)
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        if _looks_like_bomless_utf16(head):
            raise InputError(
                "undecodable",
                f"{name}: looks like UTF-16 text without a byte-order mark; "
                + _convert_hint(source, "-f utf-16le -t utf-8", "converted.txt"),
                source,
            )
        raise InputError(
            "binary",
            f"{name}: contains NUL bytes, so it is binary data, not text; "
            "give tarjama the article as text, HTML or .docx",
            source,
        )


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(data: bytes, source: str) -> str:
    """Decode a text file: UTF-8 (BOM stripped) or UTF-16/32 with a BOM; newlines become ``\\n``.

    Never guesses a legacy encoding: a wrong guess turns Arabic into fluent-looking nonsense.
    """
    if not data:
        return ""
    bom = _bom_codec(data)
    if bom is None:
        _refuse_binary(data, source)
    codec, skip = bom or ("utf-8", 0)
    try:
        text = data[skip:].decode(codec)
    except UnicodeDecodeError as err:
        raise _undecodable(source, err, codec.removesuffix("-le").removesuffix("-be"), skip) from None
    return _normalize_newlines(text)


# --------------------------------------------------------------------------- single documents


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


def _unsupported(source: str, suffix: str) -> InputError:
    if suffix in RECORD_SUFFIXES:
        why = f"a {suffix} file holds many articles, one per row; run it with `tarjama batch`"
    elif suffix in DOCUMENT_SUFFIXES:
        why = f"a {suffix} file is one article; run it with `tarjama translate`"
    else:
        what = f"'{suffix}' files are" if suffix else "files without a suffix are"
        why = (
            f"{what} not supported; an article can be {' '.join(DOCUMENT_SUFFIXES)}, "
            f"a batch {' '.join(RECORD_SUFFIXES)}"
        )
    return InputError("unsupported", f"{source}: {why}", source)


def _cannot_read(source: str, err: OSError) -> InputError:
    if isinstance(err, FileNotFoundError):
        return InputError("missing", f"{source}: no such file; check the path", source)
    if isinstance(err, IsADirectoryError):
        return InputError("unsupported", f"{source}: is a directory; pass the files in it", source)
    return InputError("missing", f"{source}: cannot be read ({err.strerror}); check the path", source)


def _read_file(path: Path, source: str) -> bytes:
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", source)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _file_too_big(source, size)
        return path.read_bytes()
    except OSError as err:
        raise _cannot_read(source, err) from None


def _file_too_big(source: str, size: int) -> InputError:
    return InputError(
        "too_long",
        f"{source_name(source)}: {size / 2**20:.0f} MiB is far larger than one article "
        f"(limit {MAX_FILE_BYTES // 2**20} MiB per file); split it, or put many articles in a .jsonl file",
        source,
    )


def _require_text(text: str, source: str, what: str) -> str:
    if not text.strip():
        raise InputError("empty", f"{source_name(source)}: {what}", source)
    return text


def read_document(path: str | Path, data: bytes | None = None) -> Document:
    """Read one article from a document file, or from ``data`` (an upload or stdin) without touching disk.

    Does not validate language or length (callers choose their limits); raises ``empty`` when the
    file holds no text at all.
    """
    source = str(path)
    suffix = "" if source == "-" else Path(source).suffix.lower()
    if source != "-" and suffix not in DOCUMENT_SUFFIXES:
        raise _unsupported(source, suffix)
    if data is None and source == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    if data is None:
        data = _read_file(Path(path), source)
    elif len(data) > MAX_FILE_BYTES:
        raise _file_too_big(source, len(data))
    if suffix == ".docx":
        return docx_to_document(data, source)
    if suffix in (".html", ".htm"):
        return html_to_document(_decode_html(data, source), source)
    text = decode_bytes(data, source)
    if source == "-" and _looks_like_html(text):
        return html_to_document(text, source)
    _require_text(text, source, f"{_the(source)} is empty (or only whitespace); nothing to translate")
    doc_id = _fallback_id(source, 0, text) if source == "-" else source
    if suffix == ".md":
        return Document(text=text, id=doc_id, source=source, format="md")
    return Document(text=text, title=_first_line_title(text), id=doc_id, source=source, format="txt")


def _first_line_title(text: str) -> str | None:
    """A .txt has no markup naming its headline, but wire copy and scrapes put it first (often twice:
    the segmenter drops the repeat), so the first line with a letter is the title; without one every
    export is headed "Article". A long first line is a lede, so it is cut at a word."""
    line = next((ln for ln in text.split("\n") if any(c.isalpha() for c in ln)), None)
    if line is None:
        return None
    title = " ".join(line.split())
    return title if len(title) <= _TITLE_CHARS else title[:_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html"))


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _decode_html(data: bytes, source: str) -> str:
    """Honour a page's declared charset (saved Arabic pages are often windows-1256).

    Bytes that are valid UTF-8 stay UTF-8 whatever the page declares: a page re-saved as UTF-8
    often keeps its old declaration, and reading it as windows-1256 would garble it silently.
    """
    match = _META_CHARSET.search(data[:4096])
    if match is None or _bom_codec(data) is not None:
        return decode_bytes(data, source)
    label = match.group(1).decode("ascii").lower()
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return decode_bytes(data, source)
    _refuse_binary(data, source)
    try:
        return _normalize_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        if codec == "utf-8":
            return decode_bytes(data, source)  # the error message with offset and iconv hint
    try:
        return _normalize_newlines(data.decode(codec))
    except UnicodeDecodeError as err:
        raise InputError(
            "undecodable",
            f"{source}: declares charset {label} but byte 0x{data[err.start : err.start + 1].hex()} at byte "
            f"offset {err.start} is not valid in it; re-save the page as UTF-8",
            source,
        ) from None


# Boilerplate class/id names that trafilatura's own rules miss on div-only layouts ("advertisement",
# "most-read"). Matched only at the start of a class/id token ("sidebar-left", not "has-sidebar"), and
# never on an element holding the headline, so a page wrapper is not pruned with its article.
_BOILERPLATE_TOKENS = (
    "ads?|advert[a-z]*|ad-?(?:slot|unit|box|container|wrapper|banner)|dfp|gpt-ad|sponsor[a-z]*|promo[a-z]*"
    "|cookie[a-z]*|consent|gdpr|newsletter|subscribe|paywall"
    "|related[a-z]*|recommend[a-z]*|most-?(?:read|viewed|popular|shared)|popular|trending|read-?more"
    "|share|sharing|social|breadcrumbs?|site-?footer|footer|copyright|site-?nav|main-?nav|main-?menu"
    "|navbar|menu|sidebar|byline"
)
_BOILERPLATE_XPATH = (
    "//*[self::div or self::section or self::aside or self::nav or self::header or self::footer"
    " or self::ul or self::ol or self::p or self::span]"
    f"[re:test(concat(@class, ' ', @id), '(^|\\s)({_BOILERPLATE_TOKENS})([\\s_-]|$)', 'i')]"
    "[not(.//h1) and not(.//article)]"
)


# Blocks of trafilatura's output tree that end a paragraph; a table cell is one paragraph, as in .docx.
_BLOCK_TAGS = frozenset({"p", "head", "item", "cell", "quote", "code", "list", "table", "row", "lb"})
# trafilatura's own rescue for a short extraction flattens an <article> into one paragraph; below this
# length we fall back to the page's paragraphs ourselves, which keeps their boundaries.
_SHORT_EXTRACTION = 250
_FALLBACK_GAIN = 1.5
_FALLBACK_SKIP = frozenset({"p", "blockquote", "pre", "nav", "header", "footer", "aside", "a"})


def _paragraphs(text: str) -> str:
    return "\n\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


def _tree_text(element) -> str:
    """Text of an extraction tree, one line per block element (lb included)."""
    parts: list[str] = []

    def walk(el) -> None:
        block = el.tag in _BLOCK_TAGS
        parts.append("\n" if block else "")
        parts.append(el.text or "")
        for child in el:
            walk(child)
        parts.append("\n" if block else "")
        parts.append(el.tail or "")

    walk(element)
    return "".join(parts)


def _page_paragraphs(tree) -> str:
    """Every outermost <p>/<blockquote>/<pre> of the (pruned) page outside page chrome, one per line."""
    texts = []
    for el in tree.iter("p", "blockquote", "pre"):
        if not any(anc.tag in _FALLBACK_SKIP for anc in el.iterancestors()):
            texts.append(" ".join(el.text_content().split()))
    return "\n".join(texts)


def _extraction_config():
    """trafilatura's settings with its flattening short-text rescue switched off (a private copy)."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "0")
    return config


def html_to_document(html: str, source: str) -> Document:
    """The article text of an HTML page, without navigation, ads, related links or footers.

    trafilatura works offline on the string given; each extracted block becomes a paragraph.
    """
    from lxml import etree
    from trafilatura import bare_extraction, load_html

    if not re.search(r"<(?:html|body)\b", html[:4096], re.IGNORECASE):
        html = f"<html><body>{html}</body></html>"  # trafilatura rejects bare fragments
    tree = load_html(html)
    text, title = "", None
    if tree is not None:
        prune = etree.XPath(_BOILERPLATE_XPATH, namespaces={"re": "http://exslt.org/regular-expressions"})
        for element in prune(tree):
            element.drop_tree()
        result = bare_extraction(
            tree,
            config=_extraction_config(),
            include_comments=False,
            include_tables=True,
            include_links=False,
            include_images=False,
            with_metadata=True,
        )
        if result is not None:
            text, title = _paragraphs(_tree_text(result.body)), (result.title or "").strip() or None
        if len(text) < _SHORT_EXTRACTION:
            fallback = _paragraphs(_page_paragraphs(tree))
            if len(fallback) > _FALLBACK_GAIN * len(text):
                text = fallback
    _require_text(text, source, "no article text found in this HTML page; save the article page itself")
    return Document(text=text, title=title, id=source, source=source, format="html")


def docx_to_document(data: bytes, source: str) -> Document:
    """Paragraphs and table cells of a Word document in reading order, blank-line separated."""
    _check_docx_container(data, source)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises many kinds on damaged parts
        raise InputError(
            "malformed",
            f"{source}: damaged Word document ({' '.join(str(err).split())}); open and re-save it in Word",
            source,
        ) from None
    paragraphs: list[str] = []
    title: str | None = (document.core_properties.title or "").strip() or None
    for para in _docx_paragraphs(document):
        text = para.text.strip()
        if not text:
            continue
        if title is None and _is_heading(para):
            title = text
        paragraphs.append(text)
    text = "\n\n".join(paragraphs)
    _require_text(text, source, "the Word document has no text; nothing to translate")
    return Document(text=text, title=title, id=source, source=source, format="docx")


def _check_docx_container(data: bytes, source: str) -> None:
    if not data.startswith(b"PK"):
        kind = _magic_kind(data[:_SNIFF_BYTES])
        if kind:
            fix = "save it as .docx from Word" if "Office" in kind else "export the article as .docx or text"
            raise InputError("binary", f"{source}: this is {kind}, not a Word .docx document; {fix}", source)
        raise InputError(
            "malformed",
            f"{source}: not a Word .docx document (it is not a ZIP package, perhaps plain text renamed); "
            "give it the right suffix (.txt, .html) or save it as .docx from Word",
            source,
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("word/document.xml")
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError(
            "malformed", f"{source}: damaged .docx (the ZIP package is broken); re-save it in Word", source
        ) from None
    except KeyError:
        raise InputError(
            "malformed",
            f"{source}: a ZIP archive but not a Word document (no word/document.xml); "
            "save the article as .docx from Word",
            source,
        ) from None
    if info.file_size > MAX_FILE_BYTES:
        raise _file_too_big(source, info.file_size)


def _docx_paragraphs(container) -> Iterator:
    """Body paragraphs and table-cell paragraphs in document order; merged cells once."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if not isinstance(block, Table):
            yield block
            continue
        seen = set()  # lxml elements: holding them keeps their identity stable
        for row in block.rows:
            for cell in row.cells:
                if cell._tc not in seen:
                    seen.add(cell._tc)
                    yield from _docx_paragraphs(cell)


def _is_heading(para) -> bool:
    name = (para.style.name if para.style is not None else "") or ""
    return name == "Title" or name.startswith("Heading")


# --------------------------------------------------------------------------- record files


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
        raise _unsupported(source, suffix)
    return source, suffix


def _open_records(source: str) -> BinaryIO:
    try:
        if Path(source).is_dir():
            raise IsADirectoryError(21, "Is a directory", source)
        return open(source, "rb")  # the caller's with closes it
    except OSError as err:
        raise _cannot_read(source, err) from None


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
            "empty", f"{source_name(source)}: has no records ({_the(source)} is empty or only blank lines)", source
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
    bom = _bom_codec(head)
    if _magic_kind(head) or b"\x00" in head or (bom is not None and bom[0] != "utf-8"):
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
    head = raw.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
    _refuse_binary(head, source)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        hint = _convert_hint(source, "-f utf-16 -t utf-8", "out" + Path(source).suffix)
        raise InputError("undecodable", f"{source_name(source)}: is UTF-16, not UTF-8; {hint}", source)
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
                f"if {_the(source)} is in the Arabic Windows encoding, convert it: {_ICONV_HINT}"
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
    if not text.strip():
        return _malformed(source, row, f"the {text_field!r} field is empty", line)
    raw_id = record.get(id_field)
    if isinstance(raw_id, bool) or (raw_id is not None and not isinstance(raw_id, (str, int))):
        return _malformed(source, row, f"the {id_field!r} field must be a string or an integer", line)
    doc_id = _fallback_id(source, row, text) if raw_id is None or raw_id == "" else str(raw_id)
    title = record.get(title_field)
    title = title.strip() or None if isinstance(title, str) else None
    return Document(text=text, title=title, id=doc_id, source=source, row=row, format=fmt)


def _fallback_id(source: str, row: int, text: str) -> str:
    """Files: their path and row. Stdin has no stable position, so its rows are named by content."""
    if source == "-":
        return "sha1:" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{source}:{row}"


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
        cut = f"is cut off ({_the(source)} looks truncated)"
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
        raise InputError("malformed", f"{source}:1: the header row is unreadable ({header})", f"{source}:1")
    header = [name.strip() for name in header]
    text_field = fields[1]
    if text_field not in header:
        raise InputError(
            "malformed",
            f"{source}: no {text_field!r} column in the header (columns: {', '.join(header)}); "
            "name the text column with the text-field option",
            source,
        )
    for row, line, parsed in rows:
        if isinstance(parsed, str):
            yield _malformed(source, row, parsed, line)
        elif len(parsed) != len(header):
            yield _malformed(source, row, f"has {len(parsed)} fields but the header has {len(header)}", line)
        else:
            yield _make_document(dict(zip(header, parsed, strict=True)), source, (row, line), fields, "csv")


# --------------------------------------------------------------------------- writing


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes: a DOCX) to a temporary file beside ``path``, fsync it, rename it into
    place: a crash leaves the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
