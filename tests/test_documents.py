"""Reading every input format: decoding, extraction, records, and refusing bad input clearly."""

from __future__ import annotations

import gzip
import hashlib
import html
import io
import json
import pickle
import random
import socket
from pathlib import Path

import pytest
from conftest import zip_bytes

from tarjama.documents import (
    DOCUMENT_SUFFIXES,
    DROPPED_KINDS,
    MAX_CHARS,
    REASONS,
    RECORD_SUFFIXES,
    TEXT_SOURCE,
    Document,
    InputError,
    arabic_ratio,
    count_records,
    decode_bytes,
    docx_to_document,
    html_to_document,
    input_kind,
    iter_records,
    json_lines_problem,
    parse_date,
    read_document,
    sample_records,
    text_document,
    validate_text,
)
from tarjama.documents.page_meta import PageMeta

CORPUS = Path("/work/shared/corpus/news/ant_news_articles.shared.jsonl")
ARABIC = "أعلنت المنظمة الدولية للهجرة اليوم عن برنامج جديد لدعم العائدين."
ARABIC_2 = "وقال المتحدث باسم المنظمة إن البرنامج يبدأ الشهر المقبل."


# --------------------------------------------------------------------------- helpers


def _corpus_articles() -> list[dict]:
    if not CORPUS.is_file():
        pytest.skip(f"shared news corpus not found at {CORPUS}; HTML extraction tests need real articles")
    with CORPUS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _paras(article: dict) -> list[str]:
    return [p.strip() for p in article["text"].split("\n") if p.strip()]


@pytest.fixture(scope="module")
def long_articles() -> list[tuple[str, list[str]]]:
    """A spread of real multi-paragraph articles: (title, paragraphs)."""
    articles = [a for a in _corpus_articles() if len(_paras(a)) >= 3]
    return [(a["title"], _paras(a)) for a in articles[::10]]


@pytest.fixture(scope="module")
def short_articles() -> list[tuple[str, list[str]]]:
    """Real articles cut to two paragraphs under 250 characters, where trafilatura is weakest."""
    cut = [(a["title"], _paras(a)[:2]) for a in _corpus_articles() if len(_paras(a)) >= 2]
    return [(title, paras) for title, paras in cut if len(" ".join(paras)) < 250]


# Page furniture, each a string that must never reach the extracted text.
NAV = [f"قسم الأخبار رقم {i}" for i in range(20)]
MOST_READ = [f"خبر شائع عن موضوع مختلف تماما رقم {i} يثير اهتمام القراء" for i in range(5)]
RELATED = [f"مقال ذو صلة عن التطورات الأخيرة في المنطقة رقم {i}" for i in range(4)]
COOKIE = "نستخدم ملفات تعريف الارتباط لتحسين تجربتك، وبمتابعة التصفح فإنك توافق على سياسة الخصوصية."
AD_TOP = "إعلان: اشترك الآن واحصل على خصم خمسين بالمئة على جميع المنتجات"
AD_SIDE = "محتوى ممول: أفضل العروض على الهواتف الذكية هذا الأسبوع فقط"
NEWSLETTER = "اشترك في النشرة البريدية اليومية لتصلك آخر الأخبار مباشرة إلى بريدك"
COPYRIGHT = "جميع الحقوق محفوظة © 2018 قناة العربية"
FURNITURE = [COOKIE, AD_TOP, AD_SIDE, NEWSLETTER, COPYRIGHT, "من نحن", "الأكثر قراءة"]
BOILERPLATE = [*NAV, *MOST_READ, *RELATED, *FURNITURE]


def _links(items: list[str], prefix: str) -> str:
    return "".join(f'<li><a href="/ar/{prefix}/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(items))


def semantic_page(title: str, paragraphs: list[str]) -> str:
    """A saved news page with HTML5 landmarks."""
    t = html.escape(title)
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{t} | العربية نت</title><meta property="og:title" content="{t}">
<meta name="description" content="ملخص قصير">
<script>var ads = [];</script><style>p{{color:red}}</style></head>
<body>
<div id="cookie-banner" class="cookie-consent"><p>{COOKIE}</p><button>موافق</button></div>
<header><nav class="main-menu"><ul>{_links(NAV, "section")}</ul></nav></header>
<div class="ad ad-top" id="div-gpt-ad-1"><p>{AD_TOP}</p></div>
<main><article class="article"><h1>{t}</h1><div class="byline">بقلم المحرر - 1 مارس 2018</div>
<div class="article-body">
{body}
</div>
<div class="share">شارك على فيسبوك تويتر واتساب</div></article>
<section class="related-articles"><h2>مقالات ذات صلة</h2>
<ul>{_links(RELATED, "related")}</ul></section></main>
<aside class="sidebar"><h2>الأكثر قراءة</h2><ol>{_links(MOST_READ, "story")}</ol>
<div class="advertisement"><p>{AD_SIDE}</p></div></aside>
<footer class="site-footer"><p>{COPYRIGHT}</p><ul><li><a href="/about">من نحن</a></li></ul></footer>
</body></html>"""


def div_page(title: str, paragraphs: list[str]) -> str:
    """The same furniture in an older div-only layout (no nav/article/aside/footer tags)."""
    t = html.escape(title)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>{t}</title>
<meta property="og:title" content="{t}"></head>
<body class="single-post has-sidebar">
<div id="cookie-notice"><span>{COOKIE}</span><a class="btn">موافق</a></div>
<div id="wrapper" class="container with-sidebar">
<div id="top"><div class="logo"><a href="/"><img src="logo.png" alt="الوطن"></a></div>
<div class="main-nav"><ul>{_links(NAV, "section")}</ul></div></div>
<div class="ads-leaderboard"><p>{AD_TOP}</p></div>
<div class="row"><div class="col-md-8 content">
<div class="post"><h1 class="post-title">{t}</h1><div class="post-date">الخميس 1 مارس 2018</div>
<div class="entry">{body}</div>
<div class="share-buttons"><a>فيسبوك</a> <a>تويتر</a></div>
<div class="newsletter-box"><p>{NEWSLETTER}</p></div></div>
<div class="related-news"><h3>أخبار ذات صلة</h3><ul>{_links(RELATED, "related")}</ul></div>
</div>
<div class="col-md-4">
<div class="widget most-read"><h3>الأكثر قراءة</h3><ul>{_links(MOST_READ, "s")}</ul></div>
<div class="advertisement"><p>{AD_SIDE}</p></div></div>
</div></div>
<div id="footer"><p>{COPYRIGHT}</p><ul><li><a href="/about">من نحن</a></li></ul></div>
</body></html>"""


LAYOUTS = [pytest.param(semantic_page, id="semantic"), pytest.param(div_page, id="div-only")]


@pytest.fixture
def no_network(monkeypatch) -> list[tuple]:
    """Fail (and record) any attempt to open a connection or resolve a name."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted during extraction")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def _docx_bytes(build) -> bytes:
    import docx

    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _records(path: str, data: bytes, **fields) -> list[Document | InputError]:
    return list(iter_records(path, stream=io.BytesIO(data), **fields))


def _shape(items: list[Document | InputError]) -> list[tuple]:
    """(kind, row-or-source, id-or-reason) per item, for comparing whole sequences."""
    return [
        ("doc", item.row, item.id) if isinstance(item, Document) else ("err", item.source, item.reason)
        for item in items
    ]


# --------------------------------------------------------------------------- InputError


def test_input_error_carries_reason_source_and_message():
    err = InputError("empty", "a.txt: nothing here", "a.txt")
    assert (err.reason, err.source, str(err)) == ("empty", "a.txt", "a.txt: nothing here")
    assert isinstance(err, ValueError)


def test_input_error_survives_pickling_for_batch_workers():
    err = pickle.loads(pickle.dumps(InputError("binary", "x.pdf: is a PDF", "x.pdf")))
    assert (err.reason, err.source, str(err)) == ("binary", "x.pdf", "x.pdf: is a PDF")


# --------------------------------------------------------------------------- decode_bytes


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(ARABIC.encode("utf-8"), ARABIC, id="utf-8"),
        pytest.param(ARABIC.encode("utf-8-sig"), ARABIC, id="utf-8-bom"),
        pytest.param(ARABIC.encode("utf-16"), ARABIC, id="utf-16-bom-native"),
        pytest.param(b"\xff\xfe" + ARABIC.encode("utf-16-le"), ARABIC, id="utf-16-le-bom"),
        pytest.param(b"\xfe\xff" + ARABIC.encode("utf-16-be"), ARABIC, id="utf-16-be-bom"),
        pytest.param(f"{ARABIC}\r\n{ARABIC_2}\r\n".encode(), f"{ARABIC}\n{ARABIC_2}\n", id="crlf"),
        pytest.param(b"", "", id="empty"),
    ],
)
def test_decode_bytes_accepts_unicode_text(data, expected):
    assert decode_bytes(data, "a.txt") == expected


def test_decode_bytes_refuses_windows_1256_with_offset_and_iconv_hint():
    data = b"News: " + ARABIC.encode("cp1256")
    with pytest.raises(InputError) as info:
        decode_bytes(data, "old.txt")
    err = info.value
    assert err.reason == "undecodable"
    assert err.source == "old.txt"
    assert "offset 6" in str(err)
    assert "iconv -f windows-1256 -t utf-8" in str(err)


def test_decode_bytes_refuses_bomless_utf16_as_undecodable():
    with pytest.raises(InputError) as info:
        decode_bytes("Breaking news: الخبر".encode("utf-16-le"), "u16.txt")
    assert info.value.reason == "undecodable"
    assert "utf-16" in str(info.value).lower()


def _random_bytes() -> bytes:
    data = random.Random(1256).randbytes(4096)
    assert b"\x00" in data  # the property the detector relies on
    return data


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF", id="pdf"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG", id="png"),
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG", id="jpeg"),
        pytest.param(zip_bytes({"notes.txt": "hello"}), "ZIP", id="zip"),
        pytest.param(zip_bytes({"word/document.xml": "<w:document/>"}), "Word .docx", id="docx"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00" + bytes(8), "ELF", id="elf"),
        pytest.param(gzip.compress(ARABIC.encode()), "gzip", id="gzip"),
        pytest.param(_random_bytes(), "binary", id="random"),
    ],
)
def test_decode_bytes_refuses_binary_naming_the_kind(data, kind):
    with pytest.raises(InputError) as info:
        decode_bytes(data, "article.txt")
    assert info.value.reason == "binary"
    assert kind in str(info.value)
    assert str(info.value).startswith("article.txt:")


# --------------------------------------------------------------------------- validate_text


def test_arabic_ratio_counts_letters_only():
    assert arabic_ratio(ARABIC) == 1.0
    assert arabic_ratio("abc دجه") == 0.5
    assert arabic_ratio("2018 - 15% !") == 0.0
    assert arabic_ratio("مُحَمَّد 19") == 1.0  # diacritics and digits are not letters


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param(" \n\t\u00a0 \n", "empty", id="whitespace"),
        pytest.param("The International Organization for Migration said on Monday.", "not_arabic", id="en"),
        pytest.param("2018 — 15 % ، ؟ 3.5", "not_arabic", id="no-letters"),
        pytest.param("ا" * 300_000, "too_long", id="300k"),
        pytest.param("ا" * (MAX_CHARS + 1), "too_long", id="limit+1"),
    ],
)
def test_validate_text_refuses(text, reason):
    with pytest.raises(InputError) as info:
        validate_text(text, "in.txt")
    assert info.value.reason == reason
    assert str(info.value).startswith("in.txt:")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(ARABIC, id="arabic"),
        pytest.param(
            "قالت المنظمة الدولية للهجرة (IOM) إن جائحة COVID-19 أثرت على آلاف المهاجرين في ليبيا.",
            id="latin-names",
        ),
        pytest.param("ا" * MAX_CHARS, id="exactly-at-limit"),
    ],
)
def test_validate_text_accepts_and_returns_text_unchanged(text):
    assert validate_text(text) is text


def test_validate_text_limits_are_parameters():
    with pytest.raises(InputError, match="50-character limit"):
        validate_text(ARABIC, max_chars=50)
    mixed = "Reuters Reuters Reuters " + ARABIC  # about 60% Arabic letters
    assert validate_text(mixed, min_arabic=0.5) == mixed
    with pytest.raises(InputError) as info:
        validate_text(mixed, min_arabic=0.9)
    assert info.value.reason == "not_arabic"


# --------------------------------------------------------------------------- read_document (text files)


def test_read_document_reads_txt_from_disk(tmp_path):
    path = tmp_path / "article.txt"
    path.write_bytes(f"{ARABIC}\n\n{ARABIC_2}\n".encode("utf-8-sig"))
    doc = read_document(path)
    assert doc == Document(
        text=f"{ARABIC}\n\n{ARABIC_2}\n", title=ARABIC, id=str(path), source=str(path), format="txt"
    )


def test_txt_title_is_its_first_line_and_the_text_is_unchanged(tmp_path):
    text = f"\n  عنوان   الخبر \n\n{ARABIC}\n"
    path = tmp_path / "a.txt"
    path.write_text(text, encoding="utf-8")
    doc = read_document(path)
    assert (doc.title, doc.text) == ("عنوان الخبر", text)
    lede = read_document("lede.txt", data=((ARABIC + " ") * 5 + f"\n{ARABIC_2}").encode())
    assert lede.title.endswith("…") and len(lede.title) <= 121 and lede.text.startswith(lede.title[:-1])
    assert read_document("a.md", data=f"{ARABIC}\n{ARABIC_2}".encode()).title is None  # .md: no guess


def test_read_document_with_data_never_touches_the_filesystem(tmp_path):
    missing = tmp_path / "upload" / "Article.MD"  # does not exist; suffix case does not matter
    doc = read_document(missing, data=ARABIC.encode())
    assert (doc.text, doc.format, doc.source) == (ARABIC, "md", str(missing))


def test_read_document_stdin_gets_a_content_id():
    doc = read_document("-", data=ARABIC.encode())
    assert doc.source == "-"
    assert doc.id == "sha1:" + hashlib.sha1(ARABIC.encode()).hexdigest()[:12]


def test_read_document_stdin_without_data_reads_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ARABIC.encode()), encoding="utf-8"))
    assert read_document("-").text == ARABIC


def test_read_document_stdin_html_is_extracted():
    page = f"<!DOCTYPE html><html><body><article><p>{ARABIC}</p><p>{ARABIC_2}</p></article></body></html>"
    doc = read_document("-", data=page.encode())
    assert (doc.text, doc.format) == (f"{ARABIC}\n\n{ARABIC_2}", "html")


@pytest.mark.parametrize(
    ("name", "content", "reason", "needle"),
    [
        pytest.param("nope.txt", None, "missing", "no such file", id="missing"),
        pytest.param("report.pdf", b"%PDF-1.4", "unsupported", ".docx", id="pdf-suffix"),
        pytest.param("noext", b"x", "unsupported", "without a suffix", id="no-suffix"),
        pytest.param("scan.txt", b"%PDF-1.4\n%....", "binary", "PDF", id="pdf-renamed-txt"),
        pytest.param("photo.md", b"\x89PNG\r\n\x1a\n", "binary", "PNG", id="png-renamed-md"),
        pytest.param("empty.txt", b"", "empty", "empty", id="empty"),
        pytest.param("blank.txt", b"  \r\n\n\t", "empty", "empty", id="whitespace"),
        pytest.param("old.txt", ARABIC.encode("cp1256"), "undecodable", "windows-1256", id="cp1256"),
    ],
)
def test_read_document_refuses_bad_files(tmp_path, name, content, reason, needle):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_document(path)
    err = info.value
    assert (err.reason, err.source) == (reason, str(path))
    assert needle in str(err)
    assert str(err).startswith(str(path))


def test_read_document_unsupported_lists_supported_suffixes():
    with pytest.raises(InputError) as info:
        read_document("slides.pptx", data=b"PK")
    for suffix in DOCUMENT_SUFFIXES + RECORD_SUFFIXES:
        assert suffix in str(info.value)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        pytest.param(
            lambda: read_document("batch.jsonl", data=b"{}"), "tarjama batch", id="records-as-document"
        ),
        pytest.param(lambda: _records("one.txt", b"x"), "tarjama translate", id="document-as-records"),
    ],
)
def test_wrong_reader_points_to_the_right_command(call, needle):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.reason == "unsupported"
    assert needle in str(info.value)


def test_read_document_refuses_directory(tmp_path):
    folder = tmp_path / "articles.txt"
    folder.mkdir()
    with pytest.raises(InputError) as info:
        read_document(folder)
    assert info.value.reason == "unsupported"
    assert "directory" in str(info.value)


def test_read_document_docx_renamed_txt_says_so():
    data = _docx_bytes(lambda d: d.add_paragraph(ARABIC))
    with pytest.raises(InputError) as info:
        read_document("article.txt", data=data)
    assert info.value.reason == "binary"
    assert "Word .docx" in str(info.value) and "rename it to .docx" in str(info.value)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.txt", "document"), ("A.HTM", "document"), ("b.docx", "document"), ("c.jsonl", "records"),
     ("d.CSV", "records"), ("-", "records"), ("e.pdf", "unsupported"), ("f", "unsupported")],
)  # fmt: skip
def test_input_kind_by_suffix(name, kind):
    assert input_kind(name) == kind


# --------------------------------------------------------------------------- HTML


def _assert_clean_article(text: str, paragraphs: list[str]) -> None:
    blocks = text.split("\n\n")
    for paragraph in paragraphs:
        assert paragraph in blocks, f"article paragraph missing or merged: {paragraph[:60]}"
    for junk in BOILERPLATE:
        assert junk not in text, f"page furniture leaked into the article: {junk}"
    assert all(block == block.strip() and block for block in blocks)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_html_extracts_only_the_article(layout, long_articles, no_network):
    assert len(long_articles) >= 20
    for title, paragraphs in long_articles:
        doc = html_to_document(layout(title, paragraphs), "page.html")
        _assert_clean_article(doc.text, paragraphs)
        assert doc.title == title
        assert (doc.format, doc.source, doc.id) == ("html", "page.html", "page.html")
    assert no_network == []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_html_short_two_paragraph_article_still_extracts(layout, short_articles, no_network):
    assert len(short_articles) >= 10
    for title, paragraphs in short_articles:
        blocks = html_to_document(layout(title, paragraphs), "short.html").text.split("\n\n")
        _assert_clean_article("\n\n".join(blocks), paragraphs)
        glued = [b for b in blocks if b.startswith(title) and b != title]
        assert not glued, f"headline glued onto a paragraph: {glued[0][:60]}"
    assert no_network == []


def _link_words(paragraph: str) -> str:
    """The paragraph as HTML with its second and third words inside a link."""
    words = paragraph.split(" ")
    linked = f'<a href="/tag/x">{html.escape(" ".join(words[1:3]))}</a>'
    return " ".join([html.escape(words[0]), linked, *map(html.escape, words[3:])])


def test_html_short_paragraphs_with_links_are_kept(short_articles):
    """Links inside short paragraphs must not get them dropped as link-dense page furniture."""
    for title, paragraphs in short_articles:
        page = div_page(title, ["@@"] * len(paragraphs))
        for paragraph in paragraphs:
            page = page.replace("<p>@@</p>", f"<p>{_link_words(paragraph)}</p>", 1)
        _assert_clean_article(html_to_document(page, "links.html").text, paragraphs)


def test_html_falls_back_to_page_paragraphs_when_trafilatura_finds_nothing(monkeypatch):
    import trafilatura

    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *args, **kwargs: None)
    doc = html_to_document(div_page("عنوان", [ARABIC, ARABIC_2]), "fallback.html")
    assert doc.text.split("\n\n") == [ARABIC, ARABIC_2]  # boundaries kept, furniture still pruned


def test_html_layout_class_on_the_page_wrapper_does_not_prune_the_article(long_articles):
    title, paragraphs = long_articles[1]
    page = div_page(title, paragraphs).replace('class="container with-sidebar"', 'class="sidebar-right"')
    assert 'class="sidebar-right"' in page
    _assert_clean_article(html_to_document(page, "layout.html").text, paragraphs)


def test_html_table_cells_become_paragraphs_not_markdown():
    page = (
        "<html><head><title>نتائج</title></head><body><article>"
        f"<p>{ARABIC} {ARABIC_2}</p><p>{ARABIC_2} {ARABIC}</p>"
        "<table><tr><th>المدينة</th><th>عدد السكان</th></tr>"
        "<tr><td>القاهرة</td><td>عشرون مليونا</td></tr></table>"
        f"<p>{ARABIC}</p></article></body></html>"
    )
    blocks = html_to_document(page, "t.html").text.split("\n\n")
    assert [b for b in blocks if len(b) < 20] == ["المدينة", "عدد السكان", "القاهرة", "عشرون مليونا"]
    assert not any("|" in block for block in blocks)
    assert blocks[-1] == ARABIC  # order kept around the table


def test_html_line_breaks_separate_paragraphs():
    page = f"<html><body><article><div>{ARABIC}<br><br>{ARABIC_2}<br>{ARABIC}</div></article></body></html>"
    assert html_to_document(page, "br.html").text.split("\n\n") == [ARABIC, ARABIC_2, ARABIC]


def test_html_fragment_is_accepted():
    doc = html_to_document(f"<p>{ARABIC}</p><p>{ARABIC_2}</p>", "<text>")
    assert doc.text == f"{ARABIC}\n\n{ARABIC_2}"


@pytest.mark.parametrize(
    "page",
    [
        pytest.param("", id="empty"),
        pytest.param("<html><body></body></html>", id="empty-body"),
        pytest.param(
            f"<html><body><nav><ul>{_links(NAV, 's')}</ul></nav>"
            f"<footer><p>{COPYRIGHT}</p></footer></body></html>",
            id="chrome-only",
        ),
    ],
)
def test_html_without_article_text_is_empty(page):
    with pytest.raises(InputError) as info:
        html_to_document(page, "blank.html")
    assert (info.value.reason, info.value.source) == ("empty", "blank.html")


def test_html_declared_windows_1256_is_honoured_but_not_guessed():
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
        "<title>عنوان الخبر</title></head>"
        f"<body><article><p>{ARABIC}</p><p>{ARABIC_2}</p></article></body></html>"
    )
    doc = read_document("old.html", data=page.encode("cp1256"))
    assert doc.text == f"{ARABIC}\n\n{ARABIC_2}"
    assert doc.title == "عنوان الخبر"
    undeclared = page.replace("; charset=windows-1256", "").encode("cp1256")
    with pytest.raises(InputError) as info:
        read_document("old.html", data=undeclared)
    assert info.value.reason == "undecodable"


def test_html_valid_utf8_wins_over_a_stale_legacy_declaration():
    page = (
        '<html><head><meta charset="windows-1256"><title>عنوان</title></head>'
        f"<body><article><p>{ARABIC}</p><p>{ARABIC_2}</p></article></body></html>"
    )
    assert read_document("resaved.html", data=page.encode()).text == f"{ARABIC}\n\n{ARABIC_2}"


def test_read_document_dispatches_html_from_disk(tmp_path, long_articles):
    title, paragraphs = long_articles[0]
    path = tmp_path / "saved.htm"
    path.write_text(semantic_page(title, paragraphs), encoding="utf-8")
    doc = read_document(path)
    assert (doc.format, doc.title, doc.id) == ("html", title, str(path))
    _assert_clean_article(doc.text, paragraphs)


# --------------------------------------------------------------------------- DOCX


def _article_docx(document) -> None:
    document.add_heading("عنوان الخبر الرئيسي", level=1)
    for i in range(4):
        document.add_paragraph(f"الفقرة رقم {i + 1}: {ARABIC}")
    document.add_paragraph("")
    document.add_paragraph("   ")


def test_docx_keeps_paragraphs_in_order_blank_line_separated():
    doc = read_document("article.docx", data=_docx_bytes(_article_docx))
    expected = ["عنوان الخبر الرئيسي"] + [f"الفقرة رقم {i + 1}: {ARABIC}" for i in range(4)]
    assert doc.text == "\n\n".join(expected)
    assert (doc.title, doc.format, doc.id) == ("عنوان الخبر الرئيسي", "docx", "article.docx")


def test_docx_core_title_wins_and_tables_are_read_in_place():
    def build(document):
        document.core_properties.title = "العنوان في خصائص الملف"
        document.add_paragraph(ARABIC)
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "المدينة", "السكان"
        table.cell(1, 0).merge(table.cell(1, 1)).text = "خلية مدمجة"
        document.add_paragraph(ARABIC_2)

    doc = docx_to_document(_docx_bytes(build), "t.docx")
    assert doc.text.split("\n\n") == [ARABIC, "المدينة", "السكان", "خلية مدمجة", ARABIC_2]
    assert doc.title == "العنوان في خصائص الملف"


@pytest.mark.parametrize(
    ("data", "reason", "needle"),
    [
        pytest.param(ARABIC.encode(), "malformed", "not a Word .docx", id="plain-text"),
        pytest.param(b"%PDF-1.5\n...", "binary", "PDF", id="pdf"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "binary", "97-2003", id="old-doc"),
        pytest.param(zip_bytes({"content.xml": "<x/>"}), "malformed", "word/document.xml", id="other-zip"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 40, "malformed", "damaged", id="broken-zip"),
        pytest.param(_docx_bytes(lambda d: d.add_paragraph(" ")), "empty", "no text", id="no-text"),
    ],
)
def test_docx_refuses_bad_files(data, reason, needle):
    with pytest.raises(InputError) as info:
        read_document("upload.docx", data=data)
    assert (info.value.reason, info.value.source) == (reason, "upload.docx")
    assert needle in str(info.value)


# --------------------------------------------------------------------------- JSONL records


def _jsonl_fixture() -> bytes:
    lines = [
        json.dumps({"id": "a1", "title": "عنوان", "text": ARABIC}, ensure_ascii=False).encode(),  # 1
        b'{"id": "b2", "text": ',  # 2: broken JSON
        b"[1, 2, 3]",  # 3: not an object
        b'{"id": "c3", "title": "no text"}',  # 4: missing text
        json.dumps({"id": 42, "text": ARABIC_2}, ensure_ascii=False).encode(),  # 5: numeric id
        b"   ",  # 6: blank, skipped
        json.dumps({"text": ARABIC}, ensure_ascii=False).encode(),  # 7: no id
        b'{"id": "d4", "text": 17}',  # 8: text not a string
        b'{"id": "e5", "text": "  "}',  # 9: empty text
        b'{"id": "f6", "text": "' + ARABIC.encode("cp1256") + b'"}',  # 10: undecodable line
        json.dumps({"id": "g7", "text": ARABIC_2}, ensure_ascii=False).encode(),  # 11
    ]
    torn = json.dumps({"id": "h8", "text": ARABIC}, ensure_ascii=False).encode()[:30]  # 12: cut off
    return b"\n".join(lines) + b"\n" + torn


def test_jsonl_yields_documents_and_errors_in_order_and_continues():
    items = _records("in.jsonl", _jsonl_fixture())
    assert _shape(items) == [
        ("doc", 1, "a1"),
        ("err", "in.jsonl:2", "malformed"),
        ("err", "in.jsonl:3", "malformed"),
        ("err", "in.jsonl:4", "malformed"),
        ("doc", 5, "42"),
        ("doc", 6, "in.jsonl:6"),  # line 7: the blank line 6 is not a record
        ("err", "in.jsonl:7", "malformed"),
        ("doc", 8, "e5"),  # a blank text field: a Document under its id, which the pipeline refuses as empty
        ("err", "in.jsonl:9", "malformed"),
        ("doc", 10, "g7"),
        ("err", "in.jsonl:11", "malformed"),
    ]
    first = items[0]
    assert first == Document(text=ARABIC, title="عنوان", id="a1", source="in.jsonl", row=1, format="jsonl")
    messages = {item.source: str(item) for item in items if isinstance(item, InputError)}
    assert "not valid JSON" in messages["in.jsonl:2"]
    assert "array" in messages["in.jsonl:3"]
    assert "'text'" in messages["in.jsonl:4"]
    assert "windows-1256" in messages["in.jsonl:9"]
    assert "truncated" in messages["in.jsonl:11"] and "(at line 12)" in messages["in.jsonl:11"]
    assert "line" not in messages["in.jsonl:2"]  # record 2 is line 2: nothing to add
    assert all(message.startswith(source + ":") for source, message in messages.items())


def test_jsonl_from_disk_matches_stream(tmp_path):
    path = tmp_path / "batch.jsonl"
    path.write_bytes(_jsonl_fixture())
    from_disk = list(iter_records(path))
    from_stream = list(iter_records(str(path), stream=io.BytesIO(_jsonl_fixture())))
    assert _shape(from_disk) == _shape(from_stream)
    assert from_disk[5].id == f"{path}:6"


def test_jsonl_custom_field_names_and_bom():
    line = json.dumps({"uid": "x", "headline": "ع", "body": ARABIC}, ensure_ascii=False)
    (doc,) = _records("c.jsonl", b"\xef\xbb\xbf" + line.encode(), id_field="uid", text_field="body",
                      title_field="headline")  # fmt: skip
    assert (doc.id, doc.title, doc.text) == ("x", "ع", ARABIC)


def test_stdin_records_without_ids_get_stable_content_ids():
    data = "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in (ARABIC, ARABIC_2)).encode()
    first = list(iter_records("-", stream=io.BytesIO(data)))
    second = list(iter_records("-", stream=io.BytesIO(data)))
    expected = ["sha1:" + hashlib.sha1(t.encode()).hexdigest()[:12] for t in (ARABIC, ARABIC_2)]
    assert [d.id for d in first] == [d.id for d in second] == expected
    assert [(d.source, d.row) for d in first] == [("-", 1), ("-", 2)]


def test_records_stream_instead_of_reading_everything():
    line = json.dumps({"text": ARABIC * 10}, ensure_ascii=False).encode() + b"\n"
    data = line * 5000  # several MB

    class CountingStream(io.RawIOBase):
        def __init__(self):
            self.inner, self.served = io.BytesIO(data), 0

        def readable(self):
            return True

        def readinto(self, buffer):
            n = self.inner.readinto(buffer)
            self.served += n
            return n

    stream = CountingStream()
    records = iter_records("big.jsonl", stream=stream)
    assert isinstance(next(records), Document)
    assert stream.served < 64 * 1024 < len(data)


# --------------------------------------------------------------------------- CSV records


def test_csv_quoted_multiline_bom_custom_fields_and_bad_rows():
    bad_bytes = ARABIC.encode("cp1256")
    data = b"".join(
        [
            "\ufeffarticle_id,headline,body\r\n".encode(),  # 1: header with BOM, CRLF
            f'n1,عنوان,"{ARABIC}\r\n\r\n{ARABIC_2} ""اقتباس"", نهاية"\r\n'.encode(),  # 2-4: one record
            b"n2,short row\r\n",  # 5: too few fields
            b"\r\n",  # 6: blank
            f",,{ARABIC_2}\r\n".encode(),  # 7: no id, no title
            b"n3,title," + bad_bytes + b"\r\n",  # 8: undecodable
            f"n4,t,{ARABIC},extra\r\n".encode(),  # 9: too many fields
            f'n5,"t"x,{ARABIC}\r\n'.encode(),  # 10: text after closing quote
            f"n6,,{ARABIC}".encode(),  # 11: last line without newline is fine in CSV
        ]
    )
    items = _records("in.csv", data, id_field="article_id", text_field="body", title_field="headline")
    assert _shape(items) == [
        ("doc", 2, "n1"),  # rows count records, the header being row 1 (a spreadsheet's numbering)
        ("err", "in.csv:3", "malformed"),  # line 5: record n1 spans lines 2-4
        ("doc", 4, "in.csv:4"),
        ("err", "in.csv:5", "malformed"),
        ("err", "in.csv:6", "malformed"),
        ("err", "in.csv:7", "malformed"),
        ("doc", 8, "n6"),
    ]
    assert items[0].text == f'{ARABIC}\n\n{ARABIC_2} "اقتباس", نهاية'
    assert (items[0].title, items[0].format, items[2].title) == ("عنوان", "csv", None)
    assert "has 2 fields but the header has 3" in str(items[1]) and "(at line 5)" in str(items[1])


def test_csv_field_longer_than_csv_module_limit_is_read():
    """The stdlib csv module refuses fields over 128 KiB; an over-long article must reach validate_text."""
    body = "ا" * 300_000
    (doc,) = _records("long.csv", f'id,text\nbig,"{body}"\n'.encode())
    assert len(doc.text) == 300_000
    with pytest.raises(InputError) as info:
        validate_text(doc.text, f"long.csv:{doc.row}")
    assert info.value.reason == "too_long"


def test_csv_unterminated_quote_at_end_is_one_error():
    data = f'id,text\nok,{ARABIC}\ntorn,"{ARABIC}\n{ARABIC_2}'.encode()
    assert _shape(_records("t.csv", data)) == [("doc", 2, "ok"), ("err", "t.csv:3", "malformed")]


def test_csv_without_text_column_is_refused_naming_columns():
    with pytest.raises(InputError) as info:
        _records("cols.csv", b"id,content\n1,x\n")
    assert info.value.reason == "malformed"
    assert "'text'" in str(info.value) and "content" in str(info.value)


# --------------------------------------------------------------------------- record files as a whole


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        pytest.param("e.jsonl", b"", "empty", id="empty"),
        pytest.param("b.jsonl", b"\n \n\n", "empty", id="only-blank"),
        pytest.param("h.csv", b"id,text\n", "empty", id="header-only"),
        pytest.param("z.jsonl", gzip.compress(b'{"text": "x"}\n'), "binary", id="gzip"),
        pytest.param("u.csv", "id,text\n1,نص\n".encode("utf-16"), "undecodable", id="utf-16"),
        pytest.param("x.xlsx", b"PK", "unsupported", id="suffix"),
    ],
)
def test_record_file_problems_are_raised(name, data, reason):
    with pytest.raises(InputError) as info:
        _records(name, data)
    assert (info.value.reason, info.value.source) == (reason, name)
    assert str(info.value).startswith(name)


def test_missing_record_file_is_raised(tmp_path):
    path = tmp_path / "none.jsonl"
    with pytest.raises(InputError) as info:
        list(iter_records(path))
    assert (info.value.reason, info.value.source) == ("missing", str(path))


def test_suffix_tables_are_consistent():
    assert set(DOCUMENT_SUFFIXES).isdisjoint(RECORD_SUFFIXES)
    assert all(s.startswith(".") and s == s.lower() for s in DOCUMENT_SUFFIXES + RECORD_SUFFIXES)


ERROR_CASES = [
    pytest.param(lambda: validate_text("  ", "pasted"), "pasted", id="empty"),
    pytest.param(lambda: validate_text("Hello there", "pasted"), "pasted", id="not-arabic"),
    pytest.param(lambda: validate_text("ا" * 10, "a.txt", max_chars=5), "a.txt", id="too-long"),
    pytest.param(lambda: decode_bytes(b"\xe3\xe1", "a.txt"), "a.txt", id="undecodable"),
    pytest.param(lambda: decode_bytes(b"%PDF-1.4", "a.txt"), "a.txt", id="binary"),
    pytest.param(lambda: read_document("a.odt", data=b"x"), "a.odt", id="unsupported"),
    pytest.param(lambda: read_document("/nonexistent/a.txt"), "/nonexistent/a.txt", id="missing"),
    pytest.param(lambda: read_document("a.docx", data=b"plain"), "a.docx", id="docx-malformed"),
    pytest.param(lambda: html_to_document("", "p.html"), "p.html", id="html-empty"),
    pytest.param(lambda: _records("r.csv", b"id,body\n"), "r.csv", id="csv-no-text-column"),
]


@pytest.mark.parametrize(("call", "source"), ERROR_CASES)
def test_every_error_message_names_its_source(call, source):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.source == source
    assert info.value.reason in REASONS
    assert str(info.value).startswith(f"{source}: ")
    assert len(str(info.value).splitlines()) == 1


# --------------------------------------------------------------------------- records, not lines


def _multiline_csv(n: int) -> bytes:
    """``n`` records without an id column, each text field holding newlines (3 physical lines a record)."""
    rows = [f'عنوان {i},"{ARABIC}\n\n{ARABIC_2}"' for i in range(n)]
    return ("title,text\n" + "\n".join(rows) + "\n").encode()


def test_csv_ids_and_count_are_records_not_lines(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(_multiline_csv(9))
    docs = list(iter_records(path))
    assert [d.id for d in docs] == [f"{path}:{row}" for row in range(2, 11)]  # header = row 1, as before
    assert [d.row for d in docs] == list(range(2, 11))
    assert count_records(path) == 9


def test_jsonl_ids_and_count_skip_blank_lines(tmp_path):
    path = tmp_path / "feed.jsonl"
    line = json.dumps({"text": ARABIC}, ensure_ascii=False)
    path.write_text(f"\n{line}\n\n\n{line}\n   \n{{oops\n{line}\n", encoding="utf-8")
    items = list(iter_records(path))
    assert _shape(items) == [("doc", 1, f"{path}:1"), ("doc", 2, f"{path}:2"),
                             ("err", f"{path}:3", "malformed"), ("doc", 4, f"{path}:4")]
    assert "(at line 7)" in str(items[2])
    assert count_records(path) == 4


def test_count_records_refuses_what_iter_records_refuses(tmp_path):
    path = tmp_path / "packed.jsonl"
    path.write_bytes(gzip.compress(b'{"text": "x"}\n'))
    with pytest.raises(InputError):
        count_records(path)


def _assert_names_stdin(message: str) -> None:
    assert message.startswith("standard input"), message
    assert "-:" not in message and "'-'" not in message and "the file" not in message, message


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: _records("-", b"\n \n"), id="no-records"),
        pytest.param(lambda: _records("-", gzip.compress(b"{}")), id="binary"),
        pytest.param(lambda: _records("-", "{}".encode("utf-16")), id="utf-16"),
        pytest.param(lambda: validate_text("Hello there", "-"), id="not-arabic"),
        pytest.param(lambda: read_document("-", data=b" \n"), id="empty"),
        pytest.param(lambda: read_document("-", data=ARABIC.encode("cp1256")), id="undecodable"),
        pytest.param(lambda: read_document("-", data=ARABIC.encode("utf-16-le")), id="utf-16-no-bom"),
    ],
)
def test_stdin_errors_say_standard_input(call):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.source == "-"
    _assert_names_stdin(str(info.value))


def test_stdin_bad_rows_say_standard_input_record_n():
    items = _records("-", b'{"text": "x"}\n\n{oops\n{"text": "x"}\n')
    (bad,) = [i for i in items if isinstance(i, InputError)]
    assert bad.source == "-:2"  # the key stays machine-readable; the message is for people
    assert str(bad).startswith("standard input, record 2: ") and "(at line 3)" in str(bad)
    _assert_names_stdin(str(bad))


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        pytest.param(b'{"id": 1, "text": "\xd9', None, id="jsonl-cut-mid-line"),
        pytest.param(b"\xef\xbb\xbf\n\n  {", None, id="bom-blank-lines"),
        pytest.param(b"", None, id="nothing"),
        pytest.param(gzip.compress(b"{}"), None, id="binary-left-to-the-reader"),
        pytest.param(ARABIC.encode(), "plain text", id="plain-text"),
        pytest.param(b'[{"text": "x"}]', "a JSON array", id="json-array"),
    ],
)
def test_json_lines_problem(head, problem):
    found = json_lines_problem(head)
    assert found is None if problem is None else found.startswith(problem)


def test_sample_records_gives_columns_and_first_records():
    csv = sample_records("f.csv", stream=io.BytesIO(f'id,body\n1,"{ARABIC}\n{ARABIC_2}"\n2,short\n'.encode()))
    assert csv.columns == ("id", "body") and csv.records[0] == {"id": "1", "body": f"{ARABIC}\n{ARABIC_2}"}
    jsonl = sample_records("f.jsonl", stream=io.BytesIO(b'{"id": 1, "content": "x"}\n\nbad\n[1]\n{"lead": "y"}\n'))
    assert jsonl.columns == ("id", "content", "lead") and len(jsonl.records) == 2
    assert sample_records("h.csv", stream=io.BytesIO(b"id,body\n")).columns == ("id", "body")


# --------------------------------------------------------------------------- dates and what extraction dropped


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-05-16", "2018-05-16"),
        ("2018/5/6", "2018-05-06"),
        ("16/05/2018", "2018-05-16"),
        ("16-05-2018", "2018-05-16"),
        ("16.05.2018", "2018-05-16"),
        ("16 مايو 2018", "2018-05-16"),
        ("16 أيار 2018", "2018-05-16"),
        ("16 ايار 2018", "2018-05-16"),
        ("١٦ أيار ٢٠١٨", "2018-05-16"),
        ("۱۶ مايو ۲۰۱۸", "2018-05-16"),
        ("٢٠١٨-٠٥-١٦", "2018-05-16"),
        ("1 كانون الثاني 2019", "2019-01-01"),
        ("1 كانون ثاني 2019", "2019-01-01"),
        ("3 شباط 2020", "2020-02-03"),
        ("3 فبراير 2020", "2020-02-03"),
        ("7 آذار 2021", "2021-03-07"),
        ("7 نيسان 2021", "2021-04-07"),
        ("7 إبريل 2021", "2021-04-07"),
        ("7 أبريل 2021", "2021-04-07"),
        ("9 حزيران 2017", "2017-06-09"),
        ("9 يونيه 2017", "2017-06-09"),
        ("9 تموز 2017", "2017-07-09"),
        ("9 يوليو 2017", "2017-07-09"),
        ("15 آب 2016", "2016-08-15"),
        ("15 أغسطس 2016", "2016-08-15"),
        ("15 أيلول 2016", "2016-09-15"),
        ("15 تشرين الأول 2016", "2016-10-15"),
        ("15 أكتوبر 2016", "2016-10-15"),
        ("15 تشرين الثاني 2016", "2016-11-15"),
        ("15 كانون الأول 2016", "2016-12-15"),
        ("15 ديسمبر 2016", "2016-12-15"),
        ("15 جوان 2016", "2016-06-15"),
        ("16 أيار/مايو 2018", "2018-05-16"),
        ("16 مايو، 2018", "2018-05-16"),
        ("16 مايو 2018م", "2018-05-16"),
        ("الأربعاء 16 مايو 2018", "2018-05-16"),
        ("الاثنين، 14 أيار 2018", "2018-05-14"),
        ("  (16/05/2018)  ", "2018-05-16"),
        ("\u200f16 مايو 2018\u200f", "2018-05-16"),
        ("*16 مايو 2018*", "2018-05-16"),
        # not a date line: no date at all, more than a date, or no such day
        ("", None),
        ("عنوان الخبر", None),
        ("قال الوزير في 16 مايو 2018 إن", None),
        ("16 مايو", None),
        ("مايو 2018", None),
        ("05/16/2018", None),  # month first: the Arab press writes the day first
        ("31/02/2018", None),
        ("16 أيار/حزيران 2018", None),  # two months that disagree
        ("16/05/18", None),
        ("2018-05-166", None),
        ("16 رمضان 1439", None),  # Hijri: another calendar
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("head", "date", "title"),
    [
        ("16 مايو 2018\nعنوان الخبر", "2018-05-16", "عنوان الخبر"),
        ("عنوان الخبر\n\n2018-05-16", "2018-05-16", "عنوان الخبر"),
        ("عنوان الخبر\nالقاهرة\n\n16/05/2018", "2018-05-16", "عنوان الخبر"),
        ("عنوان الخبر\nسطر\nسطر آخر\n16/05/2018", None, "عنوان الخبر"),  # the fourth line: body
        ("عنوان الخبر\nقال الوزير في 16 مايو 2018 إن الاجتماع انتهى", None, "عنوان الخبر"),
        ("عنوان الخبر", None, "عنوان الخبر"),
    ],
)
def test_txt_and_pasted_text_date_and_title(head, date, title):
    text = f"{head}\n\n{ARABIC}\n{ARABIC_2}"
    doc = read_document("a.txt", data=text.encode())
    pasted = text_document(text)
    assert (doc.date, doc.title, doc.text) == (date, title, text)
    assert (pasted.date, pasted.title, pasted.text, pasted.dropped) == (date, title, text, [])
    assert (pasted.source, pasted.format, pasted.id) == (TEXT_SOURCE, "txt", None)


def test_docx_date_is_its_creation_date():
    import datetime as dt

    def build(document):
        document.core_properties.created = dt.datetime(2018, 5, 16, 9, 30)
        document.add_paragraph(ARABIC)

    assert docx_to_document(_docx_bytes(build), "t.docx").date == "2018-05-16"
    # python-docx's template stamp (2013-12-23) is no article's date
    assert docx_to_document(_docx_bytes(lambda d: d.add_paragraph(ARABIC)), "t.docx").date is None


BODY = "".join(f"<p>{p}</p>" for p in [ARABIC, ARABIC_2, ARABIC + " " + ARABIC_2, ARABIC_2 + " " + ARABIC])
MENU = '<nav class="main-menu"><ul>' + "".join(
    f'<li><a href="/{n}">{n}</a></li>' for n in ["Home", "World", "Sport", "Business"] * 3) + "</ul></nav>"


def _page(head: str = "", before: str = "", after: str = "", chrome: str = "") -> str:
    return (f'<!DOCTYPE html><html lang="ar"><head><meta charset="utf-8"><title>عنوان</title>{head}</head>'
            f"<body><header>{chrome}</header><article><h1>عنوان الخبر</h1>{before}"
            f'<div class="article-body">{BODY}</div>{after}</article></body></html>')


@pytest.mark.parametrize(
    ("page", "date", "kinds"),
    [
        pytest.param(_page(), None, [], id="plain"),
        pytest.param(_page('<meta property="article:published_time" content="2018-05-16T23:30:00-05:00">'),
                     "2018-05-16", [], id="article-published-time"),
        pytest.param(_page(before='<time datetime="2019-01-02T08:00">2 يناير 2019</time>'),
                     "2019-01-02", ["date"], id="time-datetime"),
        pytest.param(_page('<meta name="date" content="2020/03/04">'), "2020-03-04", [], id="meta-date"),
        pytest.param(_page('<meta name="Date" content="4 آذار 2020">'), "2020-03-04", [], id="meta-date-arabic"),
        pytest.param(_page(before='<div class="post-date">الأربعاء 16 مايو 2018</div>'), "2018-05-16", ["date"],
                     id="visible-date-line"),
        pytest.param(_page(before='<div class="byline">بقلم أحمد علي - <time>16 أيار 2018</time></div>'),
                     "2018-05-16", ["byline"], id="byline-with-its-date"),
        pytest.param(_page('<meta name="author" content="أحمد علي">'), None, ["byline"], id="meta-author"),
        pytest.param(_page(after='<p>بقلم <a rel="author" href="/a">أحمد علي</a></p>'), None, ["byline"],
                     id="rel-author"),
        pytest.param(_page(chrome=MENU), None, ["navigation"], id="navigation"),
        pytest.param(_page('<meta name="author" content="أحمد علي">'
                           '<meta property="article:published_time" content="2018-05-16">',
                           before='<span class="author">أحمد علي</span><span class="date">16/05/2018</span>',
                           chrome=MENU), "2018-05-16", ["byline", "date", "navigation"], id="all"),
        # what is not the article's: a footer's copyright year, a sidebar's dates and authors, the site's date
        pytest.param(_page(after="<footer><p>جميع الحقوق محفوظة © 2018</p></footer>"), None, [], id="copyright"),
        pytest.param(_page(after='<aside class="sidebar"><div class="date">1 مارس 2017</div>'
                                 '<span class="author">كاتب آخر</span></aside>'), None, [], id="sidebar"),
        pytest.param(_page(after='<div class="related-news"><a href="/x">خبر آخر</a>'
                                 '<time datetime="2017-03-01">1 مارس 2017</time></div>'), None, [], id="related"),
        pytest.param(_page(chrome='<div class="today-date">الأحد 5 يناير 2025</div>'), None, [], id="site-header"),
    ],
)
def test_html_date_and_dropped(page, date, kinds, no_network):
    doc = html_to_document(page, "page.html")
    assert doc.date == date
    assert [d["kind"] for d in doc.dropped] == kinds
    assert all(set(d) == {"kind", "line", "text"} and d["line"] == 0 and d["text"] for d in doc.dropped)
    assert {d["kind"] for d in doc.dropped} <= set(DROPPED_KINDS)
    assert doc.text.startswith(ARABIC) or doc.text.startswith("عنوان الخبر")  # the article itself is kept


def test_html_dropped_texts_are_short_summaries():
    page = _page('<meta name="author" content="أحمد علي">', before='<div class="byline">بقلم أحمد علي</div>'
                 '<div class="post-date">16 مايو 2018</div>', chrome=MENU)
    dropped = html_to_document(page, "page.html").dropped
    assert [d["text"] for d in dropped] == [
        "بقلم أحمد علي",  # the meta author's name is in it: listed once
        "16 مايو 2018",
        "navigation: 12 links (Home, World, Sport, …)",
    ]


def test_html_date_and_dropped_come_through_read_document(tmp_path):
    path = tmp_path / "a.html"
    path.write_text(_page('<meta property="article:published_time" content="2018-05-16">', chrome=MENU))
    doc = read_document(path)
    assert doc.date == "2018-05-16" and [d["kind"] for d in doc.dropped] == ["navigation"]


@pytest.mark.parametrize(
    ("meta", "text", "expected"),
    [
        (PageMeta(bylines=["بقلم أحمد علي"]), "بقلم أحمد علي\n\nنص", []),  # kept in the text: not dropped
        (PageMeta(bylines=["بقلم   أحمد\nعلي"]), "نص", [("byline", "بقلم أحمد علي")]),
        (PageMeta(links=["الرئيسية"]), "نص", [("navigation", "navigation: 1 link (الرئيسية)")]),
        (PageMeta(links=["أ", "ب", "أ", "ج"]), "نص", [("navigation", "navigation: 4 links (أ, ب, ج)")]),
        (PageMeta(bylines=["كاتب"], date_lines=["16 مايو 2018"]), "16 مايو 2018", [("byline", "كاتب")]),
    ],
)
def test_page_meta_lists_only_what_the_text_lacks(meta, text, expected):
    assert [(d["kind"], d["text"]) for d in meta.dropped(text)] == expected
