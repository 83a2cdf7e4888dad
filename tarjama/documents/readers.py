"""Read one article per file: .txt .md (text), .html .htm (the article, without page chrome, via
trafilatura), .docx (paragraphs and table cells, via python-docx); and pasted text (``text_document``).
Each reader also gives the article's date where its source says it, and HTML what extraction dropped.

trafilatura, lxml and python-docx are imported inside the readers that use them, so importing this
module stays light.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

from tarjama.documents.dates import parse_date
from tarjama.documents.decoding import (
    SNIFF_BYTES,
    bom_codec,
    decode_bytes,
    magic_kind,
    normalize_newlines,
    refuse_binary,
)
from tarjama.documents.files import DOCUMENT_SUFFIXES, MAX_FILE_BYTES, cannot_read, file_too_big, unsupported
from tarjama.documents.page_meta import read_page
from tarjama.documents.types import HINTS, Document, InputError, fallback_id, source_name, the_file

_TITLE_CHARS = 120  # a .txt's first line longer than this is a lede, not a headline: it is cut at a word
_DATE_LINES = 3     # a .txt's date is a line of its own among its first lines (wire copy's dateline)


def _read_file(path: Path, source: str) -> bytes:
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", source)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise file_too_big(source, size)
        return path.read_bytes()
    except OSError as err:
        raise cannot_read(source, err) from None


def _require_text(text: str, source: str, what: str, hint: str = HINTS["empty"]) -> str:
    if not text.strip():
        raise InputError("empty", f"{source_name(source)}: {what}", source, hint=hint)
    return text


def read_document(path: str | Path, data: bytes | None = None) -> Document:
    """Read one article from a document file, or from ``data`` (an upload or stdin) without touching disk.

    Does not validate language or length (callers choose their limits); raises ``empty`` when the
    file holds no text at all.
    """
    source = str(path)
    suffix = "" if source == "-" else Path(source).suffix.lower()
    if source != "-" and suffix not in DOCUMENT_SUFFIXES:
        raise unsupported(source, suffix)
    if data is None and source == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    if data is None:
        data = _read_file(Path(path), source)
    elif len(data) > MAX_FILE_BYTES:
        raise file_too_big(source, len(data))
    if suffix == ".docx":
        return docx_to_document(data, source)
    if suffix in (".html", ".htm"):
        return html_to_document(decode_html(data, source), source)
    text = decode_bytes(data, source)
    if source == "-" and _looks_like_html(text):
        return html_to_document(text, source)
    _require_text(text, source, f"{the_file(source)} is empty (or only whitespace); nothing to translate")
    doc_id = fallback_id(source, 0, text) if source == "-" else source
    if suffix == ".md":
        return Document(text=text, id=doc_id, source=source, format="md", date=_text_date(text))
    return Document(text=text, title=_first_line_title(text), id=doc_id, source=source, format="txt",
                    date=_text_date(text))


def text_document(text: str) -> Document:
    """A pasted article (the page's text box, the API), titled and dated as a .txt file would be, so
    its exports are headed and dated the same whichever way it came in.

    Does not validate (the pipeline refuses empty or non-Arabic text with its own messages).
    """
    return Document(text=text, title=_first_line_title(text), date=_text_date(text))


def _first_line_title(text: str) -> str | None:
    """A .txt has no markup naming its headline, but wire copy and scrapes put it first (often twice:
    the segmenter drops the repeat), so the first line with a letter is the title; without one every
    export is headed "Article". A long first line is a lede, so it is cut at a word. A dateline
    ("16 مايو 2018") is the article's date, not its headline."""
    line = next((ln for ln in text.split("\n") if any(c.isalpha() for c in ln) and not parse_date(ln)), None)
    if line is None:
        return None
    title = " ".join(line.split())
    return title if len(title) <= _TITLE_CHARS else title[:_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def _text_date(text: str) -> str | None:
    """The date of a text article: one of its first non-blank lines when that line is a date and nothing
    else (a date inside a sentence may be any event's)."""
    lines = [ln for ln in text.split("\n", 20)[:20] if ln.strip()][:_DATE_LINES]
    return next(filter(None, map(parse_date, lines)), None)


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html"))


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def decode_html(data: bytes, source: str) -> str:
    """Honour a page's declared charset (saved Arabic pages are often windows-1256).

    Public so that whole-file translation (``tarjama.server.files``) reads a page exactly as this reader
    does, refusals included.

    Bytes that are valid UTF-8 stay UTF-8 whatever the page declares: a page re-saved as UTF-8
    often keeps its old declaration, and reading it as windows-1256 would garble it silently.
    """
    match = _META_CHARSET.search(data[:4096])
    if match is None or bom_codec(data) is not None:
        return decode_bytes(data, source)
    label = match.group(1).decode("ascii").lower()
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return decode_bytes(data, source)
    refuse_binary(data, source)
    try:
        return normalize_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        if codec == "utf-8":
            return decode_bytes(data, source)  # the error message with offset and iconv hint
    try:
        return normalize_newlines(data.decode(codec))
    except UnicodeDecodeError as err:
        raise InputError(
            "undecodable",
            f"{source}: declares charset {label} but byte 0x{data[err.start : err.start + 1].hex()} at byte "
            f"offset {err.start} is not valid in it; re-save the page as UTF-8",
            source,
            hint="re-save the page as UTF-8",
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
    """trafilatura's settings with its flattening short-text rescue switched off (a private copy), and
    dates read from markup only: its text search takes a footer's "© 2018" for the article's date."""
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "0")
    config.set("DEFAULT", "EXTENSIVE_DATE_SEARCH", "off")
    return config


def html_to_document(html: str, source: str) -> Document:
    """The article text of an HTML page, without navigation, ads, related links or footers; its date;
    and the byline, date line and navigation extraction dropped (``Document.dropped``).

    trafilatura works offline on the string given; each extracted block becomes a paragraph.
    """
    from trafilatura import load_html

    if not re.search(r"<(?:html|body)\b", html[:4096], re.IGNORECASE):
        html = f"<html><body>{html}</body></html>"  # trafilatura rejects bare fragments
    tree = load_html(html)
    text, title, date, dropped = "", None, None, []
    if tree is not None:
        page = read_page(tree)  # before pruning, which removes bylines and menus
        text, title, meta = _extract(tree)
        date, dropped = page.date(meta.get("date")), page.dropped(text, meta.get("author"))
    _require_text(
        text,
        source,
        "no article text found in this HTML page; save the article page itself",
        "save the article's own page (not a front page or an index), or give its text as .txt",
    )
    return Document(text=text, title=title, id=source, source=source, format="html", date=date, dropped=dropped)


def _extract(tree) -> tuple[str, str | None, dict[str, str | None]]:
    """Text, title and metadata (date, author) of a page's article; prunes ``tree`` in place.

    trafilatura's extraction, or the page's own paragraphs where that finds (much) less.
    """
    from lxml import etree
    from trafilatura import bare_extraction

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
    text, title, meta = "", None, {}
    if result is not None:
        text, title = _paragraphs(_tree_text(result.body)), (result.title or "").strip() or None
        meta = {"date": result.date, "author": result.author}
    if len(text) < _SHORT_EXTRACTION:
        fallback = _paragraphs(_page_paragraphs(tree))
        if len(fallback) > _FALLBACK_GAIN * len(text):
            text = fallback
    return text, title, meta


def docx_to_document(data: bytes, source: str) -> Document:
    """Paragraphs and table cells of a Word document in reading order, blank-line separated."""
    document = open_docx(data, source)
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
    _require_text(
        text,
        source,
        "the Word document has no text; nothing to translate",
        "check that this is the right document (a scanned page is an image, with no text to read)",
    )
    return Document(text=text, title=title, id=source, source=source, format="docx", date=_docx_date(document))


def open_docx(data: bytes, source: str):
    """A python-docx ``Document`` of ``data``, or the ``InputError`` this reader raises for a file that is not
    a Word document or is damaged. Public so that whole-file translation refuses exactly what this reader
    refuses, with the same messages."""
    _check_docx_container(data, source)
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises many kinds on damaged parts
        raise InputError(
            "malformed",
            f"{source}: damaged Word document ({' '.join(str(err).split())}); open and re-save it in Word",
            source,
            hint="open and re-save it in Word",
        ) from None


# python-docx's own template carries this creation stamp: a file generated by a script that never set
# one says 2013-12-23, which is no article's date.
_PYTHON_DOCX_STAMP = dt.datetime(2013, 12, 23, 23, 15)  # UTC


def _docx_date(document) -> str | None:
    """The document's creation date (core properties, its UTC day), which Word sets when the story is
    written; None where the file does not say."""
    created = document.core_properties.created
    if created is None or created.replace(tzinfo=None) == _PYTHON_DOCX_STAMP:
        return None
    return created.date().isoformat()


def _check_docx_container(data: bytes, source: str) -> None:
    if not data.startswith(b"PK"):
        kind = magic_kind(data[:SNIFF_BYTES])
        if kind:
            fix = "save it as .docx from Word" if "Office" in kind else "export the article as .docx or text"
            raise InputError("binary", f"{source}: this is {kind}, not a Word .docx document; {fix}", source, hint=fix)
        raise InputError(
            "malformed",
            f"{source}: not a Word .docx document (it is not a ZIP package, perhaps plain text renamed); "
            "give it the right suffix (.txt, .html) or save it as .docx from Word",
            source,
            hint="give it the right suffix (.txt, .html), or save it as .docx from Word",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("word/document.xml")
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError(
            "malformed",
            f"{source}: damaged .docx (the ZIP package is broken); re-save it in Word",
            source,
            hint="re-save it in Word",
        ) from None
    except KeyError:
        raise InputError(
            "malformed",
            f"{source}: a ZIP archive but not a Word document (no word/document.xml); "
            "save the article as .docx from Word",
            source,
            hint="save the article as .docx from Word",
        ) from None
    if info.file_size > MAX_FILE_BYTES:
        raise file_too_big(source, info.file_size)


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
