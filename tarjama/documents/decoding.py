"""Bytes to text: UTF-8, or UTF-16/32 with a byte-order mark; binary content refused by name.

Never guesses a legacy encoding: a wrong guess turns Arabic into fluent-looking nonsense. Messages
give the iconv command that converts what they refuse.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

from tarjama.documents.types import HINTS, InputError, source_name, the_file

SNIFF_BYTES = 8192  # how much of a file's head the binary sniff reads
CP1256_ICONV_ARGS = "-f windows-1256 -t utf-8"  # iconv's arguments for the Arabic Windows encoding
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


def convert_hint(source: str, iconv_args: str, out: str) -> str:
    """The iconv command that fixes an encoding: run on the file, or put in the pipe for stdin."""
    if source == "-":
        return f"pipe it through `iconv {iconv_args}` first"
    return f"convert it first: iconv {iconv_args} '{source}' > {out}"


def magic_kind(data: bytes) -> str | None:
    """What a file's first bytes say it is ("a PDF document"), or None for no known binary format."""
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


def bom_codec(data: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) of data that starts with a byte-order mark, else None."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None


def _undecodable(source: str, err: UnicodeDecodeError, codec: str, base: int = 0) -> InputError:
    bad = err.object[err.start : err.start + 1].hex()
    where = f"byte offset {base + err.start}"
    if codec == "utf-8":
        out = f"converted{Path(source).suffix or '.txt'}"
        hint = f"if it is in the Arabic Windows encoding, {convert_hint(source, CP1256_ICONV_ARGS, out)}"
        what_to_do = HINTS["undecodable"]
    else:
        hint = f"{the_file(source)} is damaged or not really {codec}; re-save it as UTF-8"
        what_to_do = "re-save it as UTF-8"
    return InputError(
        "undecodable",
        f"{source_name(source)}: not valid {codec.upper()} text (byte 0x{bad} at {where}); {hint}",
        source,
        hint=what_to_do,
    )


def refuse_binary(data: bytes, source: str) -> None:
    """Raise for content that is not text at all, naming what it appears to be."""
    kind = magic_kind(data[:SNIFF_BYTES]) if not data.startswith(b"PK") else magic_kind(data)
    name = source_name(source)
    if kind:
        what = "rename it to .docx" if "docx" in kind else "give tarjama the article as text, HTML or .docx"
        hint = "rename it to .docx" if "docx" in kind else HINTS["binary"]
        raise InputError("binary", f"{name}: this is {kind}, not text; {what}", source, hint=hint)
    head = data[:SNIFF_BYTES]
    if b"\x00" in head:
        if _looks_like_bomless_utf16(head):
            raise InputError(
                "undecodable",
                f"{name}: looks like UTF-16 text without a byte-order mark; "
                + convert_hint(source, "-f utf-16le -t utf-8", "converted.txt"),
                source,
                hint="convert it to UTF-8 (iconv -f utf-16le -t utf-8)",
            )
        raise InputError(
            "binary",
            f"{name}: contains NUL bytes, so it is binary data, not text; "
            "give tarjama the article as text, HTML or .docx",
            source,
            hint=HINTS["binary"],
        )


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` become ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(data: bytes, source: str) -> str:
    """Decode a text file: UTF-8 (BOM stripped) or UTF-16/32 with a BOM; newlines become ``\\n``.

    Never guesses a legacy encoding: a wrong guess turns Arabic into fluent-looking nonsense.
    """
    if not data:
        return ""
    bom = bom_codec(data)
    if bom is None:
        refuse_binary(data, source)
    codec, skip = bom or ("utf-8", 0)
    try:
        text = data[skip:].decode(codec)
    except UnicodeDecodeError as err:
        raise _undecodable(source, err, codec.removesuffix("-le").removesuffix("-be"), skip) from None
    return normalize_newlines(text)
