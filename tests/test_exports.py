"""The editor's second-edition exports on hand-built results (fast, no models): flag explanations and
``needs_review``, ``with_edits`` (reviewed, summaries, notes), the escaped right-to-left Markdown, the
DOCX review table, export names and the zip of every export."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from tarjama.translate.flags import EXPLANATIONS, NEEDS_REVIEW, Flag, needs_review

from tarjama.export import export_files, export_stem, result_stem, to_docx, to_zip
from tarjama.result import SCHEMA_ID, ArticleResult, LanguageResult, ModelInfo, SentenceResult, markdown_text

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "tarjama" / "schema" / "article.schema.json")
                    .read_text(encoding="utf-8"))
ATTACKS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
           "<javascript:alert(1)>", "![y](javascript:alert(1))"]
RTL_DIV = '<div dir="rtl" lang="ar">'
ARABIC_LETTER = re.compile("[\u0600-\u06ff]")


def _result(source_extra: str = "") -> ArticleResult:
    """Three sentences into English: a clean one, one the model was unsure of, one copied (passthrough)."""
    src = [[f"قال المتحدث {source_extra} إن الاجتماع سيعقد.".replace("  ", " "), "وأضاف أن الوزير سيحضر."],
           ["أعلنت الحكومة عن خطة جديدة & مهمة."]]
    en = [[SentenceResult(src[0][0], "The spokesman said the meeting would be held.", -0.2, []),
           SentenceResult(src[0][1], "He added that the minister would attend attend.", -1.7,
                          ["low_confidence", "repetition"], {"repetition": "re-decoded"})],
          [SentenceResult(src[1][0], "The government announced a new plan.", -0.3, ["numbers", "memory"],
                          {"numbers": "missing 3.5"})]]
    return ArticleResult(
        paragraphs=src, translations={"en": LanguageResult("en", "opus-mt-ar-en", "main", "transformers", en)},
        summaries={"ar": "ملخص المقال.", "en": "Summary of the article."},
        summary_info={"model": "mt5", "revision": "main", "strategy": "single", "chunks": 1, "rounds": 1,
                      "input_tokens": 40, "score": -0.5},
        removed=[{"kind": "boilerplate", "text": "اقرأ أيضا", "line": 9},
                 {"kind": "invisible", "text": "U+200F ×2", "line": 1}],
        models=[ModelInfo("translation", "ar-en", "opus-mt-ar-en", "main", "transformers", "cpu", "float32",
                          "Apache-2.0")],
        timings={"total": 1.0}, title="مؤتمر الأمم المتحدة", demo=False,
        headline={"ar": "مؤتمر الأمم المتحدة", "en": "UN conference calls for economic empowerment"},
        date="2018-05-16")


# -- flags ----------------------------------------------------------------------------------------------


def test_every_flag_has_a_one_sentence_explanation() -> None:
    assert set(EXPLANATIONS) == set(Flag)
    for flag, text in EXPLANATIONS.items():
        assert text[0].isupper() and text.endswith(".") and len(text) < 130, flag
    assert "translation memory" in EXPLANATIONS[Flag.MEMORY] and "<unk>" in EXPLANATIONS[Flag.UNKNOWN]
    assert Flag.REVIEWED == "reviewed" and Flag.REVIEWED not in NEEDS_REVIEW


@pytest.mark.parametrize(("flags", "expected"), [
    ([], False),
    (["memory"], False),
    (["passthrough"], False),
    (["low_confidence"], True),
    ([Flag.NUMBERS, Flag.MEMORY], True),
    (["numbers", "edited"], False),
    (["glossary_missed", "reviewed"], False),
    (("split", "quotes"), True),
    (["edited"], False),
])
def test_needs_review(flags: list[str], expected: bool) -> None:
    assert needs_review(flags) is expected
    assert needs_review(iter(flags)) is expected  # any iterable, read once


# -- with_edits -----------------------------------------------------------------------------------------


def test_reviewed_summaries_and_notes() -> None:
    original = _result()
    edited = original.with_edits({"en": {1: "He added that the minister would attend."}},
                                 reviewed={"en": [2]}, summaries={"en": "  A new\nsummary. "},
                                 notes={"en": {1: "alternative 2 of 3, from corrected Arabic «…»", 0: "ignored"}})
    first, second, third = edited.translations["en"].sentences()
    assert second.flags == ["low_confidence", "repetition", "edited"]  # the model's flags stay on record
    assert second.details == {"repetition": "re-decoded", "edited": "alternative 2 of 3, from corrected Arabic «…»"}
    assert first.details == {} and first.flags == []  # a note on a sentence nobody edited is no edit
    assert third.flags == ["numbers", "memory", "reviewed"]
    assert edited.summaries["en"] == "A new summary." and edited.summary_info["edited"] == ["en"]
    assert original.summary_info.get("edited") is None and original.summaries["en"] == "Summary of the article."
    jsonschema.validate(edited.to_dict(), SCHEMA)
    assert edited.to_dict()["schema"] == SCHEMA_ID == "tarjama.article/4"
    assert ArticleResult.from_dict(json.loads(edited.to_json())).to_dict() == edited.to_dict()


def test_edits_are_idempotent() -> None:
    work = dict(edits={"en": {1: "He added that the minister would attend."}}, reviewed={"en": [2, 2]},
                summaries={"ar": "ملخص جديد.", "en": "A new summary."}, notes={"en": {1: "alternative 2 of 3"}})
    once = _result().with_edits(**work)
    assert once.with_edits(**work).to_dict() == once.to_dict() == _result().with_edits(**work).to_dict()
    assert once.translations["en"].sentences()[2].flags.count("reviewed") == 1
    assert once.summary_info["edited"] == ["ar", "en"]  # sorted
    same = {"ar": "ملخص  المقال.", "en": "Summary of the article."}
    assert _result().with_edits({}, summaries=same).to_dict() == _result().to_dict()  # unchanged: no edit


def test_a_summary_edit_without_a_summarizer_record_still_validates() -> None:
    result = _result()
    result.summary_info = None
    edited = result.with_edits({}, summaries={"en": "Edited."})
    assert edited.summary_info == {"edited": ["en"]}
    jsonschema.validate(edited.to_dict(), SCHEMA)


def test_edits_name_what_does_not_exist() -> None:
    with pytest.raises(IndexError, match="no sentence 3"):
        _result().with_edits({}, reviewed={"en": [3]})
    with pytest.raises(KeyError, match="no es summary"):
        _result().with_edits({}, summaries={"es": "Resumen."})


# -- Markdown -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("plain words", "plain words"),
    ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
    ("[x](javascript:alert(1))", r"\[x\]\(javascript:alert(1))"),
    ("![y](src)", r"\!\[y\]\(src)"),
    ("(AFP) said: wow!", "(AFP) said: wow!"),  # parentheses and "!" alone stay readable
    ("`code` and \\", r"\`code\` and \\"),
    ("# not a heading", r"\# not a heading"),
    ("- not a list", r"\- not a list"),
    ("+ not a list", r"\+ not a list"),
    ("* not a list", r"\* not a list"),
    ("1. not a list", r"1\. not a list"),
    ("2018) not a list", r"2018\) not a list"),
    ("> not a quote", "&gt; not a quote"),
    ("=== not a heading", r"\=== not a heading"),
    ("~~~ not a fence", r"\~~~ not a fence"),
    ("two\n\nparagraphs   joined", "two paragraphs joined"),
    ("5 - 3 # mid-line marks stay", "5 - 3 # mid-line marks stay"),
])
def test_markdown_text(text: str, expected: str) -> None:
    assert markdown_text(text) == expected


class _Tags(HTMLParser):
    """Every start tag of an HTML document with its attributes, and the text a reader sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _render(markdown: str) -> _Tags:
    from markdown_it import MarkdownIt

    parser = _Tags()
    parser.feed(MarkdownIt("commonmark").render(markdown))  # commonmark: raw HTML on, as GitHub and most viewers
    parser.close()
    return parser


def _assert_inert(markdown: str) -> str:
    """No markup from the text, raw or rendered; returns the text the rendered page shows."""
    for raw in ("<script", "<img", "](javascript:", "<javascript:"):
        assert raw not in markdown, raw
    rendered = _render(markdown)
    tags = rendered.tags
    assert not [t for t, _ in tags if t in ("script", "img", "a")]
    for _, attrs in tags:
        assert not any(name.startswith("on") for name in attrs)
        assert not any("javascript:" in (value or "") for value in attrs.values())
    assert {t for t, _ in tags} <= {"div", "p", "h1", "h2", "strong", "em", "ul", "li", "blockquote"}
    return "".join(rendered.text)


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_never_lets_article_or_editor_text_become_markup(attack: str) -> None:
    result = _result(attack)
    result.headline = {"ar": attack, "en": attack}
    result.removed.append({"kind": attack, "text": attack, "line": 3})
    edited = result.with_edits({"en": {0: attack, 1: f"# {attack}"}}, summaries={"ar": attack, "en": attack})
    edited.translations["en"].paragraphs[0][0].flags.remove("edited")  # keep it listed for review...
    edited.translations["en"].paragraphs[0][0].flags.append("numbers")
    edited.translations["en"].paragraphs[0][0].details["numbers"] = attack  # ...with a hostile detail
    for markdown in (edited.to_markdown(), edited.language_markdown("en"), edited.language_markdown("ar"),
                     edited.summaries_markdown()):
        assert attack in _assert_inert(markdown)  # shown as the very text, not swallowed
    assert f"# {attack}" in _assert_inert(edited.to_markdown())


def test_markdown_report_layout() -> None:
    md = _result().with_edits({"en": {1: "He added that the minister would attend."}}).to_markdown()
    lines = md.split("\n")
    assert lines[0] == "# UN conference calls for economic empowerment"
    assert lines[1:5] == ["", RTL_DIV, "", "مؤتمر الأمم المتحدة"]  # the Arabic headline on its own
    assert "Date: 2018-05-16" in lines and "## العربية (Arabic)" in lines and "## English" in lines
    # every Arabic line stands alone, inside its own right-to-left block: never two directions on a line
    for i, line in enumerate(lines):
        if ARABIC_LETTER.search(line) and line != "## العربية (Arabic)" and not line.startswith("- numbers"):
            assert not re.search("[A-Za-z]", re.sub("&[a-z]+;", "", line)), line
            assert lines[i - 2 : i] == [RTL_DIV, ""] and lines[i + 1 : i + 3] == ["", "</div>"], line
    review = md.split("## Sentences to review")[1].split("## Removed while cleaning")[0]
    assert "sentence 3" in review and "sentence 2" not in review and "sentence 1" not in review  # edited: settled
    assert "The government announced a new plan." in review and "أعلنت الحكومة" in review
    assert "- numbers: missing 3.5" in review  # a flag's detail where it has one...
    assert f"- memory: {EXPLANATIONS[Flag.MEMORY]}" in review  # ...else what it means
    summaries = md.split("## Summaries")[1].split("## العربية")[0]
    assert "**Arabic**" in summaries and "ملخص المقال." in summaries and "Summary of the article." in summaries
    assert "**invisible**, line 1: U+200F ×2" in md


def test_reviewed_sentences_leave_the_review_list() -> None:
    md = _result().with_edits({}, reviewed={"en": [1, 2]}).to_markdown()
    assert "## Sentences to review" not in md
    assert _result().to_markdown().count("**English, sentence") == 2


def test_heading_falls_back_to_the_title_then_article() -> None:
    result = _result()
    result.headline = {}
    assert result.to_markdown().startswith(f"{RTL_DIV}\n\n# مؤتمر الأمم المتحدة\n\n</div>")
    result.title = None
    assert result.to_markdown().startswith("# Article\n")
    result.demo = True
    assert result.to_markdown().startswith("> **DEMO**")


def test_language_and_summary_files() -> None:
    result = _result()
    ar = result.language_markdown("ar")
    assert ar.startswith(f"{RTL_DIV}\n\n# مؤتمر الأمم المتحدة\n\n</div>") and ar.count(RTL_DIV) == 3
    assert "خطة جديدة &amp; مهمة." in ar
    en = result.language_markdown("en")
    assert en.startswith("# UN conference") and en.strip().endswith("The government announced a new plan.")
    summary = result.summaries_markdown()
    assert "## Arabic" in summary and "## English" in summary and RTL_DIV in summary


# -- DOCX -----------------------------------------------------------------------------------------------


def test_docx_lists_only_what_is_still_to_review_with_the_headline_as_title() -> None:
    import docx

    result = _result().with_edits({"en": {1: "He added that the minister would attend."}})
    document = docx.Document(io.BytesIO(to_docx(result)))
    texts = [p.text for p in document.paragraphs]
    assert document.core_properties.title == texts[0] == "UN conference calls for economic empowerment"
    assert texts[1] == "مؤتمر الأمم المتحدة" and "Date: 2018-05-16" in texts
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert rows == [["Language", "Flags", "Arabic", "Translation"],
                    ["en", "numbers, memory\nnumbers: missing 3.5", result.paragraphs[1][0],
                     "The government announced a new plan."]]
    assert f"memory: {EXPLANATIONS[Flag.MEMORY]}" in texts and f"numbers: {EXPLANATIONS[Flag.NUMBERS]}" in texts
    assert to_docx(result) == to_docx(result)  # no clock in the bytes


# -- names and bundles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("headline", "date", "expected"), [
    ("UN conference calls for economic empowerment", "2018-05-16",
     "2018-05-16-un-conference-calls-for-economic-empowerment"),
    ("UN conference calls for economic empowerment", None, "un-conference-calls-for-economic-empowerment"),
    ("Ça, c'est déjà l'été!", "2018-05-16", "2018-05-16-ca-c-est-deja-l-ete"),
    ("  --Hello   World--  ", None, "hello-world"),
    ("The UN conference calls for the economic empowerment of migrant women in the region",
     None, "the-un-conference-calls-for-the-economic-empowerment-of"),  # 60 at most, at a word
    ("a" * 70, None, "a" * 60),  # one long word: cut where it must be
    ("مؤتمر الأمم المتحدة", "2018-05-16", "2018-05-16-article"),  # no Latin letters: the fallback
    (None, None, "article"),
    ("", "not a date", "article"),
    ("Title", "2018-05-16T09:30:00Z", "2018-05-16-title"),
    ("Title", "16/05/2018", "title"),  # not ISO: no date rather than a wrong one
])
def test_export_stem(headline: str | None, date: str | None, expected: str) -> None:
    stem = export_stem(headline, date)
    assert stem == expected
    assert len(stem.removeprefix(f"{date}-" if date else "")) <= 60


def test_export_stem_fallback() -> None:
    assert export_stem(None, None, fallback="wire-2024-1") == "wire-2024-1"
    assert export_stem("مؤتمر", None, fallback="مؤتمر") == "article"  # a fallback is made file-safe too
    assert result_stem(_result()) == "2018-05-16-un-conference-calls-for-economic-empowerment"


def test_export_files_and_zip() -> None:
    result = _result()
    files = export_files(result, "s")
    assert sorted(files) == ["s.ar.md", "s.docx", "s.en.md", "s.json", "s.md"]
    assert files["s.md"].decode() == result.to_markdown()
    assert files["s.en.md"].decode() == result.language_markdown("en")
    assert json.loads(files["s.json"]) == result.to_dict()
    data = to_zip(result, "s")
    assert data == to_zip(result, "s")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(files)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
        assert {i.filename: zf.read(i) for i in infos} == files
