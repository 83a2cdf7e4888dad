"""Whole-file translation (tarjama.server.files): each format round-trips through a fake translator, bad
files are refused with the document readers' own messages, and the download store keeps files private,
unguessable, traversal-proof and short-lived. No model is loaded."""

from __future__ import annotations

import io
import os
import random
import re
import stat
import time
import uuid
from pathlib import Path

import docx
import pytest
from conftest import zip_bytes
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement

from tarjama.documents import MAX_FILE_BYTES, InputError
from tarjama.server.files import (
    FILE_MAX_AGE_S,
    FILE_SUFFIXES,
    FileStore,
    declare_utf8,
    download_name,
    download_part,
    translate_file,
)

ARABIC = "أعلنت الحكومة اليوم عن خطة جديدة.\nوقال الوزير إن الخطة ستبدأ غدا."


class FakeTranslator:
    """"EN:" before each plain text; in HTML, before each text node. Records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def text(self, texts: list[str]) -> list[str]:
        self.calls.append(("text", list(texts)))
        return ["EN:" + t for t in texts]

    def html(self, texts: list[str]) -> list[str]:
        self.calls.append(("html", list(texts)))
        return [re.sub(r">([^<>]*\S[^<>]*)<", lambda m: f">EN:{m.group(1)}<", t) for t in texts]


@pytest.fixture
def fake() -> FakeTranslator:
    return FakeTranslator()


def test_constants():
    assert set(FILE_SUFFIXES) >= {".txt", ".html", ".htm", ".docx"}
    assert FILE_MAX_AGE_S == 30 * 60


# --------------------------------------------------------------------------- .txt


@pytest.mark.parametrize(
    "data",
    [
        ARABIC.encode("utf-8"),
        b"\xef\xbb\xbf" + ARABIC.encode("utf-8"),
        ARABIC.encode("utf-16"),  # with its BOM
        ARABIC.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "crlf"],
)
def test_txt_round_trip(fake, data):
    name, out = translate_file("report.txt", data, "en", fake)
    assert name == "report_en.txt"
    assert out.decode("utf-8") == "EN:" + ARABIC
    assert fake.calls == [("text", [ARABIC])]  # the whole text, once


def test_md_is_the_text_path(fake):
    name, out = translate_file("notes.md", f"# عنوان\n\n{ARABIC}".encode(), "es", fake)
    assert name == "notes_es.md"
    assert out.decode("utf-8") == f"EN:# عنوان\n\n{ARABIC}"


def test_txt_in_windows_1256_is_refused_as_the_reader_does(fake):
    """The readers never guess a legacy encoding for .txt (a wrong guess is fluent nonsense): the message
    gives the iconv command instead."""
    with pytest.raises(InputError) as caught:
        translate_file("old.txt", ARABIC.encode("cp1256"), "en", fake)
    assert caught.value.reason == "undecodable"
    assert "old.txt" in caught.value.message
    assert "iconv -f windows-1256 -t utf-8" in caught.value.message
    assert fake.calls == []


@pytest.mark.parametrize("data", [b"", b"  \n\t\n"])
def test_empty_txt_refused(fake, data):
    with pytest.raises(InputError) as caught:
        translate_file("blank.txt", data, "en", fake)
    assert caught.value.reason == "empty"
    assert "blank.txt" in caught.value.message and "empty" in caught.value.message
    assert fake.calls == []


@pytest.mark.parametrize(
    ("magic", "kind"),
    [(b"\x89PNG\r\n\x1a\n" + bytes(64), "a PNG image"), (b"%PDF-1.7\n%\xe2\xe3\n", "a PDF document")],
)
@pytest.mark.parametrize("suffix", [".txt", ".html"])
def test_binary_refused_with_the_readers_message(fake, magic, kind, suffix):
    with pytest.raises(InputError) as caught:
        translate_file(f"scan{suffix}", magic, "en", fake)
    assert caught.value.reason == "binary"
    assert caught.value.message.startswith(f"scan{suffix}: this is {kind}, not text")
    assert fake.calls == []


@pytest.mark.parametrize("filename", ["article.pdf", "article.doc", "article", "article.jsonl", ""])
def test_unsupported_suffix(fake, filename):
    with pytest.raises(InputError) as caught:
        translate_file(filename, ARABIC.encode(), "en", fake)
    err = caught.value
    assert err.reason == "unsupported"
    assert ".txt" in err.message and ".html" in err.message and ".docx" in err.message
    assert (filename or "the uploaded file") in err.message
    assert fake.calls == []


def test_oversize_refused(fake):
    with pytest.raises(InputError) as caught:
        translate_file("huge.txt", bytes(MAX_FILE_BYTES + 1), "en", fake)
    assert caught.value.reason == "too_long"
    assert caught.value.message.startswith("huge.txt: ")
    assert fake.calls == []


def test_translator_miscount_is_a_server_error(fake):
    class Short(FakeTranslator):
        def text(self, texts):
            return []

    with pytest.raises(RuntimeError, match="0 translations for 1"):
        translate_file("a.txt", ARABIC.encode(), "en", Short())


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("filename", "target", "expected"),
    [
        ("report.docx", "en", "report_en.docx"),
        ("تقرير الأحد.TXT", "es", "تقرير_الأحد_es.txt"),
        ("C:\\Users\\me\\خبر.html", "en", "خبر_en.html"),
        ("../../etc/passwd.txt", "en", "passwd_en.txt"),
        ("..txt", "en", "document_en.txt"),
        ("a..b<script>.htm", "en", "a.b_script_en.htm"),
        ("مُحَرَّر.txt", "en", "مُحَرَّر_en.txt"),  # Arabic diacritics (marks) kept
    ],
)
def test_download_name(filename, target, expected):
    assert download_name(filename, target) == expected


def test_download_name_is_capped():
    assert len(download_name("x" * 500 + ".txt", "en")) == 100 + len("_en.txt")
    assert len(download_name("ع" * 500 + ".txt", "en").encode()) <= 150 + len("_en.txt")


# --------------------------------------------------------------------------- .html


def test_html_charset_rewritten_and_output_utf8(fake):
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
        "<title>خبر</title></head><body><p>أعلنت الحكومة اليوم</p></body></html>"
    )
    name, out = translate_file("page.html", page.encode("cp1256"), "en", fake)
    assert name == "page_en.html"
    text = out.decode("utf-8")  # raises if the bytes are not UTF-8
    assert "charset=utf-8" in text and "windows-1256" not in text
    assert "<p>EN:أعلنت الحكومة اليوم</p>" in text
    assert fake.calls[0][0] == "html" and "أعلنت الحكومة اليوم" in fake.calls[0][1][0]


def test_html_meta_charset_and_no_declaration(fake):
    _, out = translate_file("a.htm", b'<meta charset="ISO-8859-6"><p>\xc7\xe4\xea\xe6\xe5</p>', "en", fake)
    assert out.decode("utf-8").startswith('<meta charset="utf-8">')
    _, out = translate_file("b.html", "<html><head></head><body><p>نص</p></body></html>".encode(), "en", fake)
    assert '<head><meta charset="utf-8"></head>' in out.decode("utf-8")


def test_declare_utf8_leaves_utf8_declarations_alone():
    page = '<?xml version="1.0" encoding="UTF-8"?><html><head><meta charset="UTF-8"></head></html>'
    assert declare_utf8(page) == page
    assert declare_utf8('<?xml version="1.0" encoding="windows-1256"?><p>x</p>').startswith(
        '<?xml version="1.0" encoding="utf-8"?>'
    )


def test_html_without_text_refused(fake):
    with pytest.raises(InputError) as caught:
        translate_file("shell.html", b"<html><head><script>var a = 1;</script></head><body> </body></html>", "en", fake)
    assert caught.value.reason == "empty"


# --------------------------------------------------------------------------- .docx


def _add_hyperlink(paragraph, text: str, url: str) -> None:
    rel = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink", {qn("r:id"): rel})
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _set_toggle(element, tag: str, value: str | None = None) -> None:
    attrs = {} if value is None else {qn("w:val"): value}
    element.append(OxmlElement(tag, attrs))


def _sample_docx() -> bytes:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "رأس الصفحة"
    document.sections[0].footer.paragraphs[0].text = "تذييل الصفحة"
    document.add_heading("عنوان الخبر", level=1)
    para = document.add_paragraph()
    bold = para.add_run("عاجل: ")
    bold.bold = True
    para.add_run("أعلنت الحكومة ")
    para.add_run("اليوم").italic = True
    document.add_paragraph("")  # an empty paragraph: kept, not sent
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "الاسم"
    table.cell(0, 1).text = "القيمة"
    inner = table.cell(1, 0).add_table(rows=1, cols=1)
    inner.cell(0, 0).text = "خلية داخلية"
    _set_toggle(table._tbl.tblPr, "w:bidiVisual")
    rtl = document.add_paragraph()
    rtl_run = rtl.add_run("فقرة من اليمين")
    rtl_pr = rtl_run._r.get_or_add_rPr()
    rtl_pr.get_or_add_rtl()
    rtl_pr.get_or_add_cs()
    _set_toggle(rtl._p.get_or_add_pPr(), "w:bidi")
    broken = document.add_paragraph()
    run = broken.add_run("سطر أول")
    run.add_break()
    run.add_text("سطر ثان")
    linked = document.add_paragraph()
    linked.add_run("انظر ")
    _add_hyperlink(linked, "الموقع", "https://example.com/a")
    only_link = document.add_paragraph()
    _add_hyperlink(only_link, "رابط كامل", "https://example.com/b")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _body_paragraphs(document) -> list:
    return list(document.element.body.iter(qn("w:p")))


def _text(p) -> str:
    return "".join(r.text for r in p.xpath("./w:r | ./w:hyperlink/w:r"))


def test_docx_round_trip(fake):
    data = _sample_docx()
    before = docx.Document(io.BytesIO(data))
    before_texts = [_text(p) for p in _body_paragraphs(before)]
    before_styles = [p.style.name for p in before.paragraphs]

    name, out = translate_file("خبر.docx", data, "en", fake)

    assert name == "خبر_en.docx"
    after = docx.Document(io.BytesIO(out))
    after_texts = [_text(p) for p in _body_paragraphs(after)]
    assert len(after_texts) == len(before_texts)
    assert after_texts == [("EN:" + t) if t.strip() else t for t in before_texts]
    assert [p.style.name for p in after.paragraphs] == before_styles
    assert after.sections[0].header.paragraphs[0].text == "EN:رأس الصفحة"
    assert after.sections[0].footer.paragraphs[0].text == "EN:تذييل الصفحة"
    assert after.core_properties.language == "en"
    # one call, every text paragraph, in reading order: header, body (nested cell in place), footer
    assert len(fake.calls) == 1
    sent = fake.calls[0][1]
    assert sent == ["رأس الصفحة", *[t for t in before_texts if t.strip()], "تذييل الصفحة"]
    assert sent.index("الاسم") < sent.index("القيمة") < sent.index("خلية داخلية")


def test_docx_runs_formatting_and_line_breaks(fake):
    after = docx.Document(io.BytesIO(translate_file("a.docx", _sample_docx(), "en", fake)[1]))
    para = next(p for p in after.paragraphs if p.text.startswith("EN:عاجل"))
    runs = para.runs
    assert runs[0].text == "EN:عاجل: أعلنت الحكومة اليوم" and runs[0].bold
    assert [r.text for r in runs[1:]] == ["", ""]
    assert runs[2].italic  # the emptied runs keep their formatting
    broken = next(p for p in after.paragraphs if p.text.startswith("EN:سطر"))
    assert broken.text == "EN:سطر أول\nسطر ثان"


def test_docx_hyperlinks_kept(fake):
    after = docx.Document(io.BytesIO(translate_file("a.docx", _sample_docx(), "en", fake)[1]))
    linked = next(p for p in after.paragraphs if p.text.startswith("EN:انظر"))
    assert linked.runs[0].text == "EN:انظر الموقع"  # the sentence stays outside the link
    assert [h.address for h in linked.hyperlinks] == ["https://example.com/a"]
    only_link = next(p for p in after.paragraphs if p.text.startswith("EN:رابط"))
    assert [(h.address, h.text) for h in only_link.hyperlinks] == [("https://example.com/b", "EN:رابط كامل")]


def test_docx_right_to_left_settings_removed(fake):
    after = docx.Document(io.BytesIO(translate_file("a.docx", _sample_docx(), "en", fake)[1]))
    body = after.element.body
    assert body.xpath(".//w:bidi") == []
    assert body.xpath(".//w:rPr/w:rtl") == [] and body.xpath(".//w:rPr/w:cs") == []
    assert body.xpath(".//w:tblPr/w:bidiVisual") == []
    rtl = next(p for p in after.paragraphs if p.text == "EN:فقرة من اليمين")
    assert rtl._p.pPr.find(qn("w:bidi")) is None


def test_docx_inherited_bidi_turned_off_without_touching_styles(fake):
    """Arabic templates put bidi and rtl in the Normal style: the paragraph gets an explicit "off"."""
    document = docx.Document()
    normal = document.styles["Normal"].element
    _set_toggle(normal.get_or_add_pPr(), "w:bidi")
    _set_toggle(normal.get_or_add_rPr(), "w:rtl")
    run = document.add_paragraph().add_run("نص")
    _set_toggle(run._r.get_or_add_rPr(), "w:bCs")
    _set_toggle(run._r.get_or_add_rPr(), "w:szCs", "32")
    buf = io.BytesIO()
    document.save(buf)

    after = docx.Document(io.BytesIO(translate_file("a.docx", buf.getvalue(), "en", fake)[1]))
    para = after.paragraphs[0]
    assert para._p.pPr.find(qn("w:bidi")).get(qn("w:val")) == "0"
    rpr = para.runs[0]._r.rPr
    assert rpr.find(qn("w:rtl")).get(qn("w:val")) == "0"
    assert para.runs[0].bold and rpr.find(qn("w:sz")).get(qn("w:val")) == "32"  # complex-script look kept
    style = after.styles["Normal"].element
    assert style.pPr.find(qn("w:bidi")) is not None and style.rPr.find(qn("w:rtl")) is not None


def test_docx_without_text_refused(fake):
    document = docx.Document()
    document.add_paragraph("   ")
    buf = io.BytesIO()
    document.save(buf)
    with pytest.raises(InputError) as caught:
        translate_file("blank.docx", buf.getvalue(), "en", fake)
    assert caught.value.reason == "empty"
    assert fake.calls == []


@pytest.mark.parametrize(
    ("data", "reason", "says"),
    [
        (zip_bytes({"content.xml": b"<x/>"}), "malformed", "no word/document.xml"),
        (random.Random(7).randbytes(2048), "malformed", "not a ZIP package"),
        (b"PK\x03\x04" + b"\x00" * 100, "malformed", "ZIP package is broken"),
        (zip_bytes({"word/document.xml": b"<not-word/>", "[Content_Types].xml": b"<bad"}), "malformed", "damaged"),
        (b"%PDF-1.4\n", "binary", "this is a PDF document"),
    ],
    ids=["zip-without-document", "random-bytes", "broken-zip", "bad-parts", "pdf"],
)
def test_damaged_docx_refused(fake, data, reason, says):
    with pytest.raises(InputError) as caught:
        translate_file("broken.docx", data, "en", fake)
    assert caught.value.reason == reason
    assert caught.value.message.startswith("broken.docx: ")
    assert says in caught.value.message
    assert fake.calls == []


# --------------------------------------------------------------------------- FileStore


@pytest.fixture
def store():
    with FileStore() as files:
        yield files


def test_store_round_trip(store):
    stored = store.save("report_en.txt", b"hello")
    assert re.fullmatch(r"[0-9a-f]{32}\.report_en\.txt", stored)
    assert uuid.UUID(stored[:32]).version == 4
    assert store.open(stored) == ("report_en.txt", b"hello")
    assert download_part(stored) == "report_en.txt"


def test_store_arabic_name(store):
    name = download_name("تقرير.docx", "en")
    assert store.open(store.save(name, b"x")) == (name, b"x")


def test_store_names_unique(store):
    names = {store.save("a_en.txt", b"x") for _ in range(50)}
    assert len(names) == 50


def test_store_permissions(store):
    stored = store.save("a_en.txt", b"x")
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE((store.root / stored).stat().st_mode) == 0o600


def test_store_given_root(tmp_path):
    made = tmp_path / "made" / "files"
    files = FileStore(made)
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    files.save("a_en.txt", b"x")
    files.close()
    assert not made.exists()
    kept = FileStore(tmp_path)  # the caller's folder: used, not removed
    kept.save("a_en.txt", b"x")
    kept.close()
    assert tmp_path.is_dir()


@pytest.mark.parametrize(
    "name",
    ["../x", "a/b", "..", ".", "%2e%2e", "", "report_en.txt", "secret.txt", "\x00", "a\\b", "/etc/passwd"],
)
def test_store_refuses_foreign_names(store, name):
    (store.root / "secret.txt").write_bytes(b"not yours")
    assert store.open(name) is None


def test_store_refuses_traversal_with_a_valid_prefix(store, tmp_path):
    stored = store.save("a_en.txt", b"x")
    prefix = stored[:32]
    outside = store.root.parent / f"{prefix}.leak"
    for name in (
        f"{prefix}./../{outside.name}",
        f"{prefix}..{os.sep}{outside.name}",
        f"{prefix}.a_en.txt\x00",
        f"{prefix}.\\..\\x",
        f"{prefix}.",
        stored.upper(),
        stored + "/",
        f"{uuid.uuid1().hex}.a_en.txt",  # not a uuid4
    ):
        assert store.open(name) is None, name
    assert store.open(stored) == ("a_en.txt", b"x")


def test_store_ignores_symlinks(store, tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_bytes(b"secret")
    link = f"{uuid.uuid4().hex}.a_en.txt"
    (store.root / link).symlink_to(target)
    assert store.open(link) is None


def test_store_refuses_unsafe_download_names(store):
    for bad in ("../x", "a/b", "", "a..b", "x\x00"):
        with pytest.raises(ValueError):
            store.save(bad, b"x")


def _age(store: FileStore, stored: str, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(store.root / stored, (old, old))


def test_store_expiry(tmp_path):
    files = FileStore(tmp_path / "s", max_age_s=60)
    fresh, stale = files.save("a_en.txt", b"a"), files.save("b_en.txt", b"b")
    _age(files, stale, 61)
    assert files.open(stale) is None
    assert not (files.root / stale).exists()  # an expired file is deleted when asked for
    assert files.open(fresh) == ("a_en.txt", b"a")
    files.close()


def test_store_prune(tmp_path):
    files = FileStore(tmp_path / "s", max_age_s=60)
    names = [files.save(f"{i}_en.txt", b"x") for i in range(4)]
    (files.root / "not-ours.txt").write_bytes(b"x")
    os.utime(files.root / "not-ours.txt", (0, 0))
    for stored in names[:3]:
        _age(files, stored, 120)
    assert files.prune() == 3
    assert sorted(p.name for p in files.root.iterdir()) == sorted([names[3], "not-ours.txt"])
    assert files.prune() == 0
    _age(files, names[3], 120)
    files.save("new_en.txt", b"y")  # save prunes first
    assert not (files.root / names[3]).exists()
    files.close()


def test_store_close_removes_folder():
    files = FileStore()
    root = files.root
    files.save("a_en.txt", b"x")
    assert root.is_dir() and stat.S_IMODE(root.stat().st_mode) == 0o700
    files.close()
    assert not root.exists()
    files.close()  # twice is harmless
    assert files.open("x") is None and files.prune() == 0


def test_translate_then_store(store, fake):
    name, data = translate_file("خبر.txt", ARABIC.encode(), "en", fake)
    stored = store.save(name, data)
    assert store.open(stored) == (name, ("EN:" + ARABIC).encode())
    assert Path(store.root, stored).name == stored
