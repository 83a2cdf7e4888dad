"""translate.markup: format=html — only Arabic text changes, everything else comes back byte for byte.

Every translator here is a fake: ``english`` turns each Arabic word into "en" and keeps the markers, the
others model a misbehaving model (markers dropped, reordered, duplicated, glued, the output empty)."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from tarjama.translate.markup import MARKERS, html_runs, tokenize, translate_html, visible_text
from tarjama.translate.segment import has_arabic_letter as has_arabic

MARK = re.compile(r"ZX[A-Z]{2}")
ARABIC_WORD = re.compile(r"[\u0621-\u064a]+")  # letters (and tatweel), not "،"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}

MENTION = '<a href="https://example.com/@user" class="u-url mention">@<span>user</span></a>'
LINK = ('<a href="https://example.com/x" rel="nofollow noopener" target="_blank"><span class="invisible">https://'
        '</span><span class="">example.com/x</span><span class="invisible"></span></a>')
EMOJI = '<span translate="no">:blobcat:</span>'
STATUS = f"<p>نص عربي {MENTION} و {LINK} {EMOJI}</p>"


# --- fake translators -----------------------------------------------------------------------------------

def identity(runs: list[str]) -> list[str]:
    return list(runs)


def _en(run: str) -> str:
    return ARABIC_WORD.sub("en", run)


def english(runs: list[str]) -> list[str]:
    return [_en(r) for r in runs]


def brackets(runs: list[str]) -> list[str]:
    return [f"<<{r}>> & co" for r in runs]


def drop_markers(runs: list[str]) -> list[str]:
    return [re.sub(r" ?ZX[A-Z]{2}", "", _en(r)).strip() for r in runs]


def drop_last_marker(runs: list[str]) -> list[str]:
    out = []
    for r in map(_en, runs):
        found = list(re.finditer(r" ?ZX[A-Z]{2}", r))
        out.append((r[:found[-1].start()] + r[found[-1].end():]).strip() if found else r)
    return out


def reverse_words(runs: list[str]) -> list[str]:
    return [" ".join(reversed(_en(r).split())) for r in runs]


def swap_first_markers(runs: list[str]) -> list[str]:
    out = []
    for r in map(_en, runs):
        found = MARK.findall(r)
        if len(found) >= 2:
            a, b = found[:2]
            r = r.replace(a, "\0").replace(b, a).replace("\0", b)
        out.append(r)
    return out


def duplicate_markers(runs: list[str]) -> list[str]:
    return [f"{_en(r)} {' '.join(MARK.findall(r))}" for r in runs]


def glue_markers(runs: list[str]) -> list[str]:
    return [re.sub(r"\s*(ZX[A-Z]{2})\s*", r"\1", _en(r)) for r in runs]


def empty(runs: list[str]) -> list[str]:
    return ["" for _ in runs]


def markers_only(runs: list[str]) -> list[str]:
    return [" ".join(MARK.findall(r)) for r in runs]


def shuffled(seed: int) -> Callable[[list[str]], list[str]]:
    def translate(runs: list[str]) -> list[str]:
        rng = random.Random(seed)
        out = []
        for r in map(_en, runs):
            words = r.split()
            rng.shuffle(words)
            out.append(" ".join(words))
        return out
    return translate


MISBEHAVING = [identity, english, brackets, drop_markers, drop_last_marker, reverse_words, swap_first_markers,
               duplicate_markers, glue_markers, empty, markers_only, *(shuffled(s) for s in range(12))]


class Recorder:
    """A translator that remembers what it was sent."""

    def __init__(self, inner: Callable[[list[str]], list[str]] = english) -> None:
        self.inner, self.calls = inner, []

    def __call__(self, runs: list[str]) -> list[str]:
        self.calls.append(list(runs))
        return self.inner(runs)


def never(runs: list[str]) -> list[str]:
    raise AssertionError(f"translate should not be called, got {runs}")


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and (not self.stack or self.stack.pop() != tag):
            self.ok = False


def balanced(html: str) -> bool:
    """Every non-void element closed, in order (html.parser's reading)."""
    parser = _Balance()
    parser.feed(html)
    parser.close()
    return parser.ok and not parser.stack


# --- the tokenizer --------------------------------------------------------------------------------------

WEIRD = [
    "", "plain text", "نص عربي فقط", "<<<>>>", "<p", "</", "</>", "< p>", "<!--", "<!-- unclosed <p>نص",
    "<!---->", "<!-->", "<!--->x", "<!DOCTYPE html>", "<!doctype", "<?xml version='1.0'?>", "<?pi",
    "<![CDATA[ <p> ]]>", "<![CDATA[", '<a href="x>y">t</a>', "<a href='x>y' title=\"'\">", '<a b="unclosed>',
    "<a b=c=d>", "<a b= 'c' d = \"e\">", "<br/><br /><BR>", "<P CLASS=x>t</P >", "</p foo=bar>",
    "<script>if (a<b && c>d) s = '</p>'; </script>", "<script>never closed", "<SCRIPT>x</script >y",
    "<style>p>b{}</style>", "<textarea><p>نص</p></textarea>", "a < b > c", "x<1 and y>2", "&amp;&lt;&#1605;&bogus;",
    "<p>نص <b", "<a<b>c</b>", "<a =x>", "<a \"q\" 'r'>", "<img src=x/>", "\x00<p>\x00</p>",
]


@pytest.mark.parametrize("html", WEIRD)
def test_tokens_give_the_input_back(html: str) -> None:
    assert "".join(t.src for t in tokenize(html)) == html


def test_random_markup_soup_gives_the_input_back() -> None:
    rng = random.Random(7)
    alphabet = ["<", ">", "/", "!", "-", "?", "=", '"', "'", " ", "a", "b", "p", "script", "[CDATA[", "]]", "\n",
                "نص", "&amp;", "translate=no"]
    for _ in range(300):
        html = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        assert "".join(t.src for t in tokenize(html)) == html
        out = translate_html(html, english)
        assert isinstance(out, str)
        if not html_runs(html):
            assert out == html


@pytest.mark.parametrize(("html", "kinds"), [
    ('<a href="x>y">t</a>', [("start", "a"), ("text", ""), ("end", "a")]),
    ("<!-- a <b> -->t", [("comment", ""), ("text", "")]),
    ("<script>if (a<b) s='</p>'</script>", [("start", "script"), ("raw", ""), ("end", "script")]),
    ("<P Class=x>", [("start", "p")]),
    ("<br/>", [("start", "br")]),
    ("</DIV >", [("end", "div")]),
    ("<<<>>>", [("text", "")]),
    ("a <p", [("text", ""), ("bogus", "")]),
    ("<!DOCTYPE html><?php x ?><![CDATA[y]]>", [("decl", ""), ("pi", ""), ("cdata", "")]),
    ("<!-- never closed <p>x</p>", [("comment", "")]),
])
def test_token_kinds(html: str, kinds: list[tuple[str, str]]) -> None:
    assert [(t.kind, t.name) for t in tokenize(html)] == kinds


def test_a_self_closing_tag_is_void_but_script_is_not() -> None:
    br, script = tokenize("<br/>")[0], tokenize("<script/>x</script>")[0]
    assert br.void and not script.void


# --- what is translated, what is kept -------------------------------------------------------------------

@pytest.mark.parametrize(("html", "expected"), [
    ("<p>نص</p>", "<p>en</p>"),
    ("<P CLASS='a'>نص</P>", "<P CLASS='a'>en</P>"),
    ('<p class=\'x\' data-a="1>2" title=عربي>نص</p>', '<p class=\'x\' data-a="1>2" title=عربي>en</p>'),
    ('<a href="a?b=1&amp;c=2" title="نص">رابط</a>', '<a href="a?b=1&amp;c=2" title="نص">en</a>'),
    ("<!DOCTYPE html>\n<!-- تعليق -->\n<p>نص</p>", "<!DOCTYPE html>\n<!-- تعليق -->\n<p>en</p>"),
    ("<html><head><title>عنوان</title></head><body><h1>عنوان</h1></body></html>",
     "<html><head><title>en</title></head><body><h1>en</h1></body></html>"),
    ('<script>var s = "</p>نص"; if (a<b) {}</script><p>نص</p>',
     '<script>var s = "</p>نص"; if (a<b) {}</script><p>en</p>'),
    ('<style>p::after { content: "نص" }</style><p>نص</p>', '<style>p::after { content: "نص" }</style><p>en</p>'),
    ("<textarea>نص <b>نص</b></textarea>", "<textarea>نص <b>نص</b></textarea>"),
    ("<pre>نص\n  <b>نص</b></pre><p>نص <code>كود عربي</code> نص</p>",
     "<pre>نص\n  <b>نص</b></pre><p>en <code>كود عربي</code> en</p>"),
    ("<p>نص <kbd>مفتاح</kbd>، <var>س</var> <time>أمس</time></p>",
     "<p>en <kbd>مفتاح</kbd>، <var>س</var> <time>أمس</time></p>"),
    ('<p>نص <span translate="no">لا تترجم</span> نص</p>', '<p>en <span translate="no">لا تترجم</span> en</p>'),
    ("<p>نص <span translate=no>لا</span> نص</p>", "<p>en <span translate=no>لا</span> en</p>"),
    ("<p>نص <b translate='no'>لا</b> نص</p>", "<p>en <b translate='no'>لا</b> en</p>"),
    ('<p>نص <SPAN TRANSLATE="NO">لا</SPAN> نص</p>', '<p>en <SPAN TRANSLATE="NO">لا</SPAN> en</p>'),
    ('<p>نص <span class="x notranslate">لا</span></p>', '<p>en <span class="x notranslate">لا</span></p>'),
    ('<p>نص <span title="translate=no">نعم</span></p>', '<p>en <span title="translate=no">en</span></p>'),
    ('<div translate="no"><p>نص</p><div>نص</div></div><p>نص</p>',
     '<div translate="no"><p>نص</p><div>نص</div></div><p>en</p>'),
    ('<span translate="no">أ <span>ب</span> ج</span> د', '<span translate="no">أ <span>ب</span> ج</span> en'),
    ("<svg><text>نص</text></svg><math><mi>س</mi></math><p>نص</p>",
     "<svg><text>نص</text></svg><math><mi>س</mi></math><p>en</p>"),
    ("<p>نص</p><code>نص <p>نص</p>", "<p>en</p><code>نص <p>نص</p>"),  # an opaque element never closed
    ("<?xml version='1.0'?><![CDATA[نص]]><p>نص</p>", "<?xml version='1.0'?><![CDATA[نص]]><p>en</p>"),
    ("<p>نص <img src='a.png' alt='صورة'> نص</p>", "<p>en <img src='a.png' alt='صورة'> en</p>"),
    ("<p>\n  نص  طويل\n</p>", "<p>\n  en en\n</p>"),  # the run's own whitespace kept, inner whitespace one space
    ("<ul>\n  <li>أ</li>\n  <li>English</li>\n</ul>", "<ul>\n  <li>en</li>\n  <li>English</li>\n</ul>"),
    ("<p>نص <!-- تعليق --> نص</p>", "<p>en <!-- تعليق --> en</p>"),
])
def test_only_arabic_text_changes(html: str, expected: str) -> None:
    assert translate_html(html, english) == expected


@pytest.mark.parametrize("html", [
    "", "   \n", "<p>English only</p>", "<p>123 ٤٥٦ https://example.com/x</p>", '<p title="عنوان">x</p>',
    "<script>نص</script>", "<pre>نص</pre>", '<p><span translate="no">نص</span></p>', "<p><code>نص</code></p>",
    "<!-- نص -->", "<p>a &amp; b &nbsp;&copy; &#x41;</p>", "<<<>>>", "<p", "<!--", "<![CDATA[نص", "<p>، ؟ ٪</p>",
])
def test_nothing_arabic_means_no_call_and_the_same_bytes(html: str) -> None:
    assert translate_html(html, never) == html
    assert html_runs(html) == []


def test_entities_are_decoded_for_the_translator_and_escaped_after() -> None:
    html = "<p>نص &amp; &lt;b&gt; &#1605;&quot;</p><p>a &amp; b &nbsp;&copy;</p>"
    recorder = Recorder(brackets)
    out = translate_html(html, recorder)
    assert recorder.calls == [['نص & <b> م"']]
    assert out == '<p>&lt;&lt;نص &amp; &lt;b&gt; م"&gt;&gt; &amp; co</p><p>a &amp; b &nbsp;&copy;</p>'


# --- runs -----------------------------------------------------------------------------------------------

def test_blocks_and_line_breaks_make_runs_sent_in_one_call() -> None:
    html = ("<h1>عنوان</h1><p>أول<br>ثان<br/>\n ثالث</p><p>English</p><div> </div>"
            "<table><tr><td>خلية</td><td>42</td></tr></table><p>نص <b>مهم</b> هنا</p>")
    recorder = Recorder()
    out = translate_html(html, recorder)
    assert recorder.calls == [["عنوان", "أول", "ثان", "ثالث", "خلية", "نص ZXAA مهم ZXAB هنا"]]
    assert out == ("<h1>en</h1><p>en<br>en<br/>\n en</p><p>English</p><div> </div>"
                   "<table><tr><td>en</td><td>42</td></tr></table><p>en <b>en</b> en</p>")


@pytest.mark.parametrize(("html", "runs"), [
    ("", []),
    ("<p>كلمة <b>مهمة</b> هنا</p>", ["كلمة مهمة هنا"]),
    (STATUS, ["نص عربي و"]),
    ("<p>أ</p>\n<p>ب<br>ج</p><p>English</p>", ["أ", "ب", "ج"]),
    ("<p>نص &amp; &#1605;</p>", ["نص & م"]),
    ("<p>كلمة<b>مهمة</b>.</p>", ["كلمةمهمة."]),
    ("<p>  نص\n\tنص  </p>", ["نص نص"]),
])
def test_html_runs_are_the_plain_texts(html: str, runs: list[str]) -> None:
    assert html_runs(html) == runs


def test_the_translator_gets_markers_as_words() -> None:
    recorder = Recorder()
    translate_html("<p>كلمة<b>مهمة</b>. و<i>أخرى</i></p>", recorder)
    assert recorder.calls == [["كلمة ZXAA مهمة ZXAB. و ZXAC أخرى ZXAD"]]
    assert all(re.fullmatch(r"ZX[ABCDEFGHJKLMNPRSTUVWXY]{2}", m) for m in MARKERS) and len(set(MARKERS)) == 484


def test_a_marker_already_in_the_text_is_not_used() -> None:
    recorder = Recorder(identity)
    out = translate_html("<p>ZXAA نص &#90;XAB <b>ب</b></p>", recorder)
    assert recorder.calls == [["ZXAA نص ZXAB ZXAC ب ZXAD"]]
    assert out == "<p>ZXAA نص ZXAB <b>ب</b></p>"


def test_translate_is_called_once_and_must_return_one_string_per_run() -> None:
    recorder = Recorder()
    translate_html("<p>أ</p>" * 50, recorder)
    assert len(recorder.calls) == 1 and len(recorder.calls[0]) == 50
    with pytest.raises(ValueError, match="1 translations for 2 runs"):
        translate_html("<p>أ</p><p>ب</p>", lambda runs: runs[:1])
    with pytest.raises(ValueError, match="3 translations for 2 runs"):
        translate_html("<p>أ</p><p>ب</p>", lambda runs: [*runs, "x"])
    with pytest.raises(ValueError, match="0 translations for 1 runs"):
        translate_html("<p>أ</p>", lambda runs: [])


def test_has_arabic_wants_a_letter() -> None:
    assert has_arabic("نص") and has_arabic("\ufdf2") and has_arabic("ﻻ")
    assert not has_arabic("٤٥٦ ، ؟ ٪ abc")


# --- markers put back -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("fake", "expected"), [
    (identity, "<p>كلمة <b>مهمة</b> هنا</p>"),
    (english, "<p>en <b>en</b> en</p>"),
    (glue_markers, "<p>en <b>en</b> en</p>"),
    (drop_last_marker, "<p>en en en</p>"),
    (drop_markers, "<p>en en en</p>"),
    (reverse_words, "<p>en en en</p>"),
    (duplicate_markers, "<p>en en en</p>"),
    (swap_first_markers, "<p>en en en</p>"),
    (empty, "<p></p>"),
])
def test_a_pair_is_kept_or_unwrapped(fake: Callable[[list[str]], list[str]], expected: str) -> None:
    assert translate_html("<p>كلمة <b>مهمة</b> هنا</p>", fake) == expected


def test_crossing_pairs_are_unwrapped_until_they_nest() -> None:
    html = "<p>أ <b>ب <i>ج</i> د</b> هـ</p>"

    def crossing(runs: list[str]) -> list[str]:  # "A ZXAA B ZXAB C ZXAC D ZXAD E" -> <b> <i> </b> </i>
        return [_en(r).replace("ZXAC", "\0").replace("ZXAD", "ZXAC").replace("\0", "ZXAD") for r in runs]

    out = translate_html(html, crossing)
    assert balanced(out)
    assert out.count("<b>") + out.count("<i>") == 1 and out.count("</b>") + out.count("</i>") == 1
    assert out.replace("<b>", "").replace("</b>", "").replace("<i>", "").replace("</i>", "") == "<p>en en en en en</p>"


def test_atomic_markers_are_never_lost() -> None:
    recorder = Recorder(identity)
    assert translate_html(STATUS, recorder) == STATUS
    assert recorder.calls == [["نص عربي ZXAA و ZXAB ZXAC"]]
    assert translate_html(STATUS, drop_markers) == f"<p>en en و {MENTION} {LINK} {EMOJI}</p>".replace("و", "en")
    assert translate_html(STATUS, english) == f"<p>en en {MENTION} en {LINK} {EMOJI}</p>"
    assert translate_html(STATUS, reverse_words) == f"<p>{EMOJI} {LINK} en {MENTION} en en</p>"


@pytest.mark.parametrize("fake", MISBEHAVING)
def test_a_status_keeps_every_link_in_its_paragraph(fake: Callable[[list[str]], list[str]]) -> None:
    html = f"{STATUS}\n<p>سطر <b>ثان</b> {MENTION}</p>"
    out = translate_html(html, fake)
    first, second = out.split("\n")
    assert first.startswith("<p>") and first.endswith("</p>") and second.startswith("<p>") and second.endswith("</p>")
    for source in (MENTION, LINK, EMOJI):
        assert first.count(source) == 1
    assert second.count(MENTION) == 1
    assert balanced(out)


def test_spaces_are_tidied_where_markers_were_taken_out() -> None:
    assert translate_html("<p>نص <b>مهم</b>. ثم</p>", drop_markers) == "<p>en en. en</p>"
    assert translate_html("<p>نص <b>مهم</b> ثم</p>", lambda runs: ["en ZXAA en  ZXAB , en ZXAB"]) == "<p>en en, en</p>"
    assert translate_html("<p>نص <b>مهم</b> ثم</p>", lambda runs: ["ZXAB en ZXAA en"]) == "<p>en en</p>"


def test_escaping_of_translated_text_but_not_of_sources() -> None:
    html = '<p>نص <a href="?a=1&amp;b=2">x &amp; y</a></p>'
    assert translate_html(html, lambda runs: ["<i>A & B</i> ZXAA"]) == (
        '<p>&lt;i&gt;A &amp; B&lt;/i&gt; <a href="?a=1&amp;b=2">x &amp; y</a></p>')


WELL_FORMED = [
    STATUS,
    "<p>كلمة <b>مهمة</b> هنا</p>",
    "<p>أ <b>ب <i>ج</i> د</b> هـ <u>و</u> ز</p>",
    "<div><p>أ <em>ب</em></p><p>ج <strong>د <a href='/x'>هـ</a></strong> و</p></div>",
    '<a href="/u"><div>نص</div>نص <b>مهم</b> نص</a>',
    "<p><b>أ<div>ب</div>ج</b> د <i>هـ<div>و</div>ز</i></p>",
    "<p><b>أ<div>ب</div>ج</b> <u>د</u> هـ</p>",
    "<div><b>أ <i>ب<div>ج</div>د</i> هـ</b></div>",
    "<p>نص <span>أ <span>ب</span> ج</span> <code>x</code> <img src=x> د<br>هـ <sub>2</sub></p>",
    "<table><tr><td>أ <b>ب</b></td><td><i>ج</i> د</td></tr></table>",
    "<blockquote><p>نص <q>مقتبس <cite>مصدر</cite></q>.</p></blockquote>",
]


@pytest.mark.parametrize("fake", MISBEHAVING)
@pytest.mark.parametrize("html", WELL_FORMED)
def test_well_formed_in_well_formed_out(html: str, fake: Callable[[list[str]], list[str]]) -> None:
    assert balanced(html)
    out = translate_html(html, fake)
    assert balanced(out), out
    for tag in ("img", "br", "code", "span translate"):  # no atomic item is lost or doubled
        assert out.count(f"<{tag}") == html.count(f"<{tag}")


@pytest.mark.parametrize("html", [
    "<p>نص <b>غير مغلق</p>", "<p>نص</b> نص</p>", "<b><i>نص</b></i>", "<p>نص <b", '<p>نص <a href="', "<p>نص <!--",
    "<p>نص</p><!-- نص", "</p>نص<p>", "<<<نص>>>", "<p>نص & < > نص</p>", "<i>" * 600 + "نص", "<b>نص</b>" * 600,
    "<p>" + "<img src=x>نص " * 600 + "</p>", "<p>" + "<b>نص</b> " * 300 + "</p>",
])
@pytest.mark.parametrize("fake", [english, drop_markers, reverse_words, duplicate_markers, empty, shuffled(3)])
def test_garbage_never_raises(html: str, fake: Callable[[list[str]], list[str]]) -> None:
    out = translate_html(html, fake)
    assert isinstance(out, str)
    assert out.count("<img") == html.count("<img")


def test_more_pairs_than_markers_are_unwrapped_more_atomics_than_markers_stay_as_they_are() -> None:
    pairs = "<p>" + "<b>نص</b> " * 300 + "</p>"
    out = translate_html(pairs, english)
    assert balanced(out) and 0 < out.count("<b>") <= 242 and out.count("en") == 300
    atomics = "<p>" + "نص <img src=x> " * 500 + "</p>"
    assert translate_html(atomics, never) == atomics


# --- size -----------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("unit", [
    '<p>نص <b>مهم</b> و <a href="https://x.y/z">https://x.y/z</a> هنا.</p>\n', "<", "<a ", '<a x="', "نص ",
    "<b>نص ", "</b>نص ", "<!-- x -->", '<span translate="no">', "<p", "&amp;",
])
def test_a_megabyte_in_linear_time(unit: str) -> None:
    html = unit * (1_000_000 // len(unit))
    start = time.perf_counter()
    out = translate_html(html, identity)
    assert time.perf_counter() - start < 30  # seconds, on a busy two-core machine; quadratic would be hours
    assert len(out) > 0 and "".join(t.src for t in tokenize(html)) == html


@pytest.mark.parametrize(("html", "text"), [
    ("<p>The quick <b>brown</b> fox &amp; co.</p>", "The quick\nbrown\nfox & co."),
    ("<p>نص</p><script>var x = 'hidden';</script><code>x = 1</code><span translate=\"no\">:emoji:</span>", "نص"),
    ("", ""),
])
def test_visible_text_keeps_every_language_and_skips_what_is_never_read(html: str, text: str) -> None:
    assert visible_text(html) == text
