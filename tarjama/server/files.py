"""Whole-file translation for the HTTP API: LibreTranslate's ``POST /translate_file`` and
``GET /download_file/<name>`` (docs/libretranslate-compat.md §1.6-1.7), without the HTTP.

``translate_file`` turns an uploaded .txt/.md/.html/.htm/.docx into the same kind of file in the target
language; ``FileStore`` keeps the translated copies for download until they expire (30 minutes, as
LibreTranslate does).

Decoding and refusals are the document readers' own (``tarjama.documents``): a file the CLI or the page
would refuse is refused here with the same message, which names the file and says what to do. The routes
(another module) map an ``InputError`` to LibreTranslate's 400 reply; nothing here knows about HTTP, so
none of it imports a web framework.
"""

from __future__ import annotations

import codecs
import html as html_lib
import io
import os
import re
import shutil
import stat
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from tarjama.documents.decoding import decode_bytes
from tarjama.documents.files import MAX_FILE_BYTES, file_too_big
from tarjama.documents.readers import decode_html, open_docx
from tarjama.documents.types import InputError, source_name

FILE_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx")  # what /translate_file accepts
FILE_MAX_AGE_S = 30 * 60  # translated files expire this long after they are written (LibreTranslate: 30 min)

_STEM_CHARS = 100  # a download name's stem is cut to this many characters...
_STEM_BYTES = 150  # ...and UTF-8 bytes, so "<uuid>.<stem>_<target><ext>" stays under the 255-byte name limit
_TARGET_CHARS = 20
_UPLOAD_NAME = "the uploaded file"  # how messages name an upload that came without a file name


class TextTranslate(Protocol):
    """What ``translate_file`` needs from the translator: plain texts and HTML, in batches."""

    def text(self, texts: list[str]) -> list[str]:
        """Plain texts -> their translations, in order; line breaks kept."""
        ...

    def html(self, texts: list[str]) -> list[str]:
        """HTML documents or fragments -> translated HTML, markup kept."""
        ...


# --------------------------------------------------------------------------- translate_file


def translate_file(filename: str, data: bytes, target: str, translator: TextTranslate) -> tuple[str, bytes]:
    """Translate an uploaded file into ``target``: (download name, translated file's bytes).

    The output is the same format as the input, always UTF-8 for text formats. Raises
    ``tarjama.documents.InputError`` for a file that cannot be translated (unsupported suffix, too big,
    binary, undecodable, empty, damaged .docx); its message names the file and says what to do.
    """
    name = _base_name(filename)
    source = name or _UPLOAD_NAME
    suffix = _suffix(name)
    if suffix not in FILE_SUFFIXES:
        raise unsupported_file(source, suffix)
    if len(data) > MAX_FILE_BYTES:
        raise file_too_big(source, len(data))
    translate = _BY_SUFFIX[suffix]
    return download_name(name, target), translate(data, source, target, translator)


def unsupported_file(source: str, suffix: str) -> InputError:
    """The refusal of an upload whose suffix file translation does not take, listing those it does."""
    what = f"'{suffix}' files are" if suffix else "files without a suffix are"
    accepted = " ".join(FILE_SUFFIXES)
    return InputError(
        "unsupported",
        f"{source_name(source)}: {what} not supported for file translation; send one of {accepted}",
        source,
        hint=f"send the document as {accepted}",
    )


def _translate_text(data: bytes, source: str, target: str, translator: TextTranslate) -> bytes:
    """.txt/.md: the whole text in one call, so the translator sees the article, not fragments."""
    text = decode_bytes(data, source)
    _require_text(text, source)
    return _expect(translator.text([text]), 1)[0].encode("utf-8")


def _translate_html(data: bytes, source: str, target: str, translator: TextTranslate) -> bytes:
    """.html/.htm: decoded as the HTML reader does (declared charset honoured), written back as UTF-8."""
    page = decode_html(data, source)
    _require_text(_visible_text(page), source)
    return declare_utf8(_expect(translator.html([page]), 1)[0]).encode("utf-8")


def _translate_docx(data: bytes, source: str, target: str, translator: TextTranslate) -> bytes:
    """.docx: every paragraph with text, translated in one call and written back in place."""
    document = open_docx(data, source)
    found = _docx_text_paragraphs(document)
    if not found:
        raise InputError(
            "empty",
            f"{source_name(source)}: the Word document has no text; nothing to translate",
            source,
            hint="check that this is the right document (a scanned page is an image, with no text to read)",
        )
    translations = _expect(translator.text([text for _, _, text in found]), len(found))
    styles = document.styles.element
    for (para, runs, _), translation in zip(found, translations):
        carrier = _put_text(runs, translation)
        _make_left_to_right(para, runs, carrier, styles)
    for root in _story_roots(document):
        _drop_layout_rtl(root)
    document.core_properties.language = target
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


_BY_SUFFIX: dict[str, Callable[[bytes, str, str, TextTranslate], bytes]] = {
    ".txt": _translate_text,
    ".md": _translate_text,
    ".html": _translate_html,
    ".htm": _translate_html,
    ".docx": _translate_docx,
}


def _require_text(text: str, source: str) -> None:
    if not text.strip():
        raise InputError(
            "empty",
            f"{source_name(source)}: the file is empty (or only whitespace); nothing to translate",
            source,
            hint="send a file that has some text in it",
        )


def _expect(translations: list[str], count: int) -> list[str]:
    """The translator's answer, checked: a short or odd list would misplace every translation after it."""
    if not isinstance(translations, list) or len(translations) != count:
        got = len(translations) if isinstance(translations, list) else type(translations).__name__
        raise RuntimeError(f"the translator returned {got} translations for {count} texts")
    if not all(isinstance(t, str) for t in translations):
        raise RuntimeError("the translator returned a translation that is not a string")
    return translations


# --------------------------------------------------------------------------- names


def _base_name(filename: str) -> str:
    """The file's own name: browsers on Windows (and crafted requests) may send a whole path."""
    return re.split(r"[/\\]", filename or "")[-1].strip()


def _suffix(name: str) -> str:
    """The lower-cased suffix, with a name that is only a suffix (".txt") still counted as one."""
    _, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot else ""


def download_name(filename: str, target: str) -> str:
    """LibreTranslate's name for the translation, ``<stem>_<target><ext>`` (report.docx -> report_en.docx),
    made safe: Unicode letters, digits and marks (Arabic names stay Arabic), ``-``, ``_`` and single ``.``;
    anything else becomes ``_``; at most 100 characters (150 UTF-8 bytes); an empty stem is "document"."""
    name = _base_name(filename)
    ext = _suffix(name)
    stem = name[: len(name) - len(ext)] if ext else name
    return f"{_safe_stem(stem)}_{_safe_part(target, _TARGET_CHARS) or 'xx'}{ext}"


def _safe_stem(stem: str) -> str:
    safe = _safe_part(stem, _STEM_CHARS)
    while len(safe.encode("utf-8")) > _STEM_BYTES:
        safe = safe[:-1]
    return safe.strip("._") or "document"


def _safe_part(text: str, limit: int) -> str:
    """Letters, digits, marks, ``-``, ``_`` and ``.`` kept, others ``_``; a run of dots or underscores one
    (so never ".."); none at the ends ("report (final)" -> "report_final")."""
    text = unicodedata.normalize("NFC", text)
    safe = "".join(c if c in "-_." or unicodedata.category(c)[0] in "LNM" else "_" for c in text)
    safe = re.sub(r"_{2,}", "_", re.sub(r"\.{2,}", ".", safe))
    return safe.strip("._")[:limit].strip("._")


# --------------------------------------------------------------------------- HTML


_META_CHARSET = re.compile(r"""(<meta\b[^>]*?\bcharset\s*=\s*["']?\s*)([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(r"""\A(\s*<\?xml\b[^>]*?\bencoding\s*=\s*["'])([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_NOT_TEXT = re.compile(r"<!--.*?-->|<(script|style|template)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)


def declare_utf8(page: str) -> str:
    """Make the page say the encoding it is written in: a page saved as windows-1256 keeps declaring it,
    and a browser would read the UTF-8 output as windows-1256 mojibake. Every ``<meta charset>`` /
    ``<meta http-equiv content="...; charset=...">`` and the XML declaration's ``encoding`` naming another
    encoding are rewritten to utf-8; a page with a ``<head>`` and no declaration gets ``<meta charset="utf-8">``.
    """
    page, metas = _META_CHARSET.subn(_to_utf8, page)
    page = _XML_ENCODING.sub(_to_utf8, page, count=1)
    head = _HEAD.search(page) if not metas else None
    if head is not None:
        page = f'{page[: head.end()]}<meta charset="utf-8">{page[head.end() :]}'
    return page


def _to_utf8(match: re.Match[str]) -> str:
    label = match.group(2)
    try:
        if codecs.lookup(label).name == "utf-8":
            return match.group(0)
    except LookupError:
        pass
    return match.group(1) + "utf-8"


def _visible_text(page: str) -> str:
    """Roughly what a reader would see: tags, comments, scripts and styles removed, entities resolved."""
    return html_lib.unescape(_NOT_TEXT.sub(" ", page))


# --------------------------------------------------------------------------- .docx


# Run content that python-docx reads as text (CT_R.text); a page or column break reads as "" and stays.
_TEXT_CHILDREN = "w:t | w:tab | w:cr | w:noBreakHyphen | w:ptab | w:br[not(@w:type) or @w:type='textWrapping']"
# Runs whose text is the paragraph's text, as python-docx's Paragraph.text reads it (hyperlinks included).
_PARAGRAPH_RUNS = "./w:r | ./w:hyperlink/w:r"
_OFF = ("0", "false", "off")
# What may follow w:bidi in w:pPr (ECMA-376 CT_PPrBase order): where an explicit "bidi off" must go.
_BIDI_SUCCESSORS = (
    "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
_BASED_ON_DEPTH = 20  # a style chain longer than this is a loop in a damaged file
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _w(tag: str) -> str:
    """Clark notation of a WordprocessingML name (python-docx's ``qn("w:...")`` without importing it)."""
    return f"{{{_W_NS}}}{tag}"


def _story_roots(document: Any) -> list[Any]:
    """The XML roots holding a document's text, in reading order: headers, the body, footers.

    Only headers/footers a section defines itself: asking a "linked to previous" one for its part would
    add an empty definition to the document.
    """
    headers: list[Any] = []
    footers: list[Any] = []
    for section in document.sections:
        for bucket, parts in (
            (headers, (section.first_page_header, section.header, section.even_page_header)),
            (footers, (section.first_page_footer, section.footer, section.even_page_footer)),
        ):
            for part in parts:
                if not part.is_linked_to_previous and not any(part.part.element is r for r in bucket):
                    bucket.append(part.part.element)
    return [*headers, document.element.body, *footers]


def _docx_text_paragraphs(document: Any) -> list[tuple[Any, list[Any], str]]:
    """(w:p, its text runs, its text) for every paragraph with text: body, table cells at any depth,
    text boxes, content controls, headers and footers."""
    found = []
    for root in _story_roots(document):
        for para in _iter_paragraphs(root):
            runs = para.xpath(_PARAGRAPH_RUNS)
            text = "".join(run.text for run in runs)
            if text.strip():
                found.append((para, runs, text))
    return found


def _iter_paragraphs(root: Any) -> Iterator[Any]:
    """Every w:p under root in document order, nested ones (table cells, text boxes) included."""
    yield from root.iter(_w("p"))


def _put_text(runs: list[Any], translation: str) -> Any:
    """Write the translation into the paragraph's first run with text, keeping that run's formatting, and
    empty the others' text (their formatting, pictures and fields stay). A run outside a hyperlink is
    preferred, so that one link in a sentence does not make the whole translated sentence a link; a
    paragraph that is only a link keeps its translation inside the link. Returns the run written to."""
    with_text = [run for run in runs if run.text.strip()]
    plain = [run for run in with_text if run.getparent().tag != _w("hyperlink")]
    carrier = (plain or with_text)[0]
    for run in runs:
        for child in run.xpath(_TEXT_CHILDREN):
            run.remove(child)
    for piece in re.split(r"(\t|\r\n|\r|\n)", translation):
        if piece == "\t":
            carrier.add_tab()
        elif piece in ("\r\n", "\r", "\n"):
            carrier.add_br()
        elif piece:
            carrier.add_t(piece)
    return carrier


def _make_left_to_right(para: Any, runs: list[Any], carrier: Any, styles: Any) -> None:
    """The translation is in a left-to-right language: drop the paragraph's ``w:bidi`` and the runs'
    ``w:rtl``/``w:cs`` (right-to-left reading, complex-script formatting), which would put an English
    sentence's punctuation at the wrong end. Where the paragraph or run *style* turns one on (Arabic
    templates set bidi in Normal), an explicit "off" is written instead, as styles are left unchanged."""
    ppr = para.pPr
    _remove_children(ppr, "w:bidi")
    style_id = ppr.pStyle.val if ppr is not None and ppr.pStyle is not None else None
    if _style_turns_on(styles, style_id, "paragraph", "pPr", "bidi"):
        ppr = para.get_or_add_pPr()
        ppr.insert_element_before(ppr.makeelement(_w("bidi"), {_w("val"): "0"}), *_BIDI_SUCCESSORS)
    for run in runs:
        _remove_children(run.rPr, "w:rtl", "w:cs")
    rpr = carrier.get_or_add_rPr()
    _promote_complex_script(rpr)
    run_style = rpr.rStyle.val if rpr.rStyle is not None else None
    for tag in ("rtl", "cs"):
        inherited = _style_turns_on(styles, run_style, None, "rPr", tag)
        if inherited is None:
            inherited = _style_turns_on(styles, style_id, "paragraph", "rPr", tag)
        if inherited:
            getattr(rpr, f"get_or_add_{tag}")().val = False


def _promote_complex_script(rpr: Any) -> None:
    """Arabic text is shown with the complex-script settings (``w:bCs``, ``w:iCs``, ``w:szCs``); English
    with the plain ones. Where a run sets only the complex-script one, copy it, so the translation looks
    as bold, italic and large as the original did."""
    for cs_tag, plain in (("bCs", "b"), ("iCs", "i"), ("szCs", "sz")):
        source = rpr.find(_w(cs_tag))
        if source is None or getattr(rpr, plain) is not None:
            continue
        value = source.get(_w("val"))
        if plain == "sz" and value is None:
            continue
        added = getattr(rpr, f"get_or_add_{plain}")()
        if value is not None:
            added.set(_w("val"), value)


def _drop_layout_rtl(root: Any) -> None:
    """Right-to-left table column order (``w:bidiVisual``) and section layout (``w:sectPr/w:bidi``): an
    English reader expects a table's first column on the left."""
    for tbl_pr in root.iter(_w("tblPr")):
        _remove_children(tbl_pr, "w:bidiVisual")
    for sect_pr in root.iter(_w("sectPr")):
        _remove_children(sect_pr, "w:bidi")


def _remove_children(element: Any, *tags: str) -> None:
    if element is None:
        return
    for child in element.xpath(" | ".join(tags)):
        element.remove(child)


def _style_turns_on(styles: Any, style_id: str | None, kind: str | None, container: str, tag: str) -> bool | None:
    """Whether a style (following ``basedOn``), or failing that the document defaults, turns ``tag`` on
    in its ``container`` (pPr, rPr); None where none of them says. ``kind`` ("paragraph"): the style type
    whose default applies without a style id; None (character styles): no default, no document defaults."""
    path = f"{_w(container)}/{_w(tag)}"
    style = styles.get_by_id(style_id) if style_id else _default_style(styles, kind)
    for _ in range(_BASED_ON_DEPTH):
        if style is None:
            break
        setting = style.find(path)
        if setting is not None:
            return _is_on(setting)
        style = styles.get_by_id(style.basedOn_val) if style.basedOn_val else None
    if kind is None:
        return None
    defaults = styles.find(f"{_w('docDefaults')}/{_w(container + 'Default')}/{path}")
    return None if defaults is None else _is_on(defaults)


def _default_style(styles: Any, kind: str | None) -> Any:
    if kind is None:
        return None
    found = styles.xpath(f"w:style[@w:type='{kind}' and (@w:default='1' or @w:default='true')]")
    return found[-1] if found else None  # Word uses the last one where a damaged file marks several


def _is_on(toggle: Any) -> bool:
    value = toggle.get(_w("val"))
    return value is None or value.lower() not in _OFF


# --------------------------------------------------------------------------- FileStore


# "<uuid4 hex>.<download name>": what FileStore.save names a file, and all FileStore.open will open.
_STORED_NAME = re.compile(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}\.([^/\\\x00-\x1f\x7f]+)")
_NAME_BYTES = 255


def download_part(stored_name: str) -> str | None:
    """The download name inside a stored name, or None for anything FileStore could not have made: a
    path (``/``, ``\\``, ``..``), a NUL or control character, or no uuid prefix. The route's traversal check."""
    if not isinstance(stored_name, str) or ".." in stored_name:
        return None
    if len(stored_name.encode("utf-8", "surrogatepass")) > _NAME_BYTES:
        return None
    match = _STORED_NAME.fullmatch(stored_name)
    return match.group(1) if match else None


class FileStore:
    """Translated files, kept for download until they are ``max_age_s`` old (by modification time).

    Files are written 0600 in a 0700 folder (a private temporary one by default): translations are the
    users' documents, so no other account on the machine may read them. Names are
    ``<uuid4 hex>.<download name>``, unguessable, so one user cannot fetch another's by trying names.
    """

    def __init__(self, root: Path | None = None, max_age_s: float = FILE_MAX_AGE_S):
        self.max_age_s = max_age_s
        if root is None:
            self.root = Path(tempfile.mkdtemp(prefix="tarjama-files-"))  # 0700 by mkdtemp
            self._made = True
        else:
            self.root = Path(root)
            self._made = self._make_folder(self.root)

    @staticmethod
    def _make_folder(root: Path) -> bool:
        """Create a 0700 folder; False where it already existed (it is the caller's, left as it is)."""
        root.parent.mkdir(parents=True, exist_ok=True)
        try:
            root.mkdir(mode=0o700)
        except FileExistsError:
            return False
        os.chmod(root, 0o700)  # mkdir's mode passes through the umask
        return True

    def save(self, download_name: str, data: bytes) -> str:
        """Store a translated file; returns its stored name (the ``/download_file/<name>`` part).
        Expired files are pruned first, so the folder never holds more than ``max_age_s`` worth."""
        stored = f"{uuid.uuid4().hex}.{download_name}"
        if download_part(stored) != download_name:
            raise ValueError(f"not a safe download name: {download_name!r}")
        self.prune()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.root / stored, flags, 0o600)
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # the umask can only narrow 0600, but say it outright
            fh.write(data)
        return stored

    def open(self, stored_name: str) -> tuple[str, bytes] | None:
        """(download name, bytes) of a stored file; None if the name is unknown, expired (then deleted), or
        not a name ``save`` makes (a traversal attempt). Never follows a symlink or reads a non-file."""
        download = download_part(stored_name)
        if download is None:
            return None
        path = self.root / stored_name
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            if self._expired(info.st_mtime, time.time()):
                _unlink(path)
                return None
            return download, fh.read()

    def prune(self) -> int:
        """Delete the expired files (only names ``save`` makes: a caller's folder may hold others);
        returns how many were deleted."""
        now, removed = time.time(), 0
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return 0
        for entry in entries:
            if download_part(entry.name) is None:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode) and self._expired(info.st_mtime, now) and _unlink(Path(entry.path)):
                removed += 1
        return removed

    def close(self) -> None:
        """Remove the folder if this store made it (a folder the caller gave is the caller's)."""
        if self._made:
            shutil.rmtree(self.root, ignore_errors=True)
            self._made = False

    def _expired(self, mtime: float, now: float) -> bool:
        return now - mtime > self.max_age_s

    def __enter__(self) -> FileStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unlink(path: Path) -> bool:
    """Delete; False where another thread or process got there first."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
