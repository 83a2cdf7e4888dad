"""Editor corrections (ArticleResult.with_edits), the DOCX export, and the page's escaping helpers,
on a hand-built result: fast, no models, no browser."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tarjama.result import ArticleResult, LanguageResult, ModelInfo, SentenceResult

SCHEMA = Path(__file__).resolve().parents[1] / "tarjama" / "schema" / "article.schema.json"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _result() -> ArticleResult:
    src = [["قال المتحدث <img src=x onerror=alert(1)> إن الاجتماع سيعقد.", "وأضاف أن الوزير سيحضر."],
           ["أعلنت الحكومة عن خطة جديدة & مهمة."]]
    en = [[SentenceResult(src[0][0], "The spokesman said the meeting would be held.", -0.2, []),
           SentenceResult(src[0][1], "He added that the minister would attend attend attend.", -1.7,
                          ["low_confidence", "repetition"])],
          [SentenceResult(src[1][0], "The government announced a new plan.", None, ["passthrough"])]]
    return ArticleResult(
        paragraphs=src, translations={"en": LanguageResult("en", "opus-mt-ar-en", "main", "transformers", en)},
        summaries={"ar": "ملخص المقال.", "en": "Summary\x01 of the article."},
        summary_info=None, removed=[{"kind": "boilerplate", "text": "اقرأ أيضا", "line": 9}],
        models=[ModelInfo("translation", "ar-en", "opus-mt-ar-en", "main", "transformers", "cpu", "float32",
                          "Apache-2.0")],
        timings={"total": 1.0}, title="مؤتمر", demo=True)


# -- corrections ----------------------------------------------------------------------------------------


def test_with_edits_replaces_flags_and_leaves_the_original_alone() -> None:
    import jsonschema

    original = _result()
    edited = original.with_edits({"en": {1: "He added that the minister\nwould attend."}})
    sent = edited.translations["en"].paragraphs[0][1]
    assert sent.text == "He added that the minister would attend."  # a newline typed in a cell is a space
    assert sent.flags == ["low_confidence", "repetition", "edited"] and sent.score == -1.7
    assert "minister would attend." in edited.translations["en"].text.split("\n\n")[0]
    assert "edited" not in original.translations["en"].paragraphs[0][1].flags
    assert original.translations["en"].paragraphs[0][1].text.endswith("attend attend attend.")
    jsonschema.validate(edited.to_dict(), json.loads(SCHEMA.read_text(encoding="utf-8")))


def test_with_edits_of_unchanged_text_changes_nothing() -> None:
    original = _result()
    same = {i: s.text for i, s in enumerate(original.translations["en"].sentences())}
    assert original.with_edits({"en": same}).to_dict() == original.to_dict()
    spaced = {0: "  The spokesman said   the meeting would be held. "}
    assert original.with_edits({"en": spaced}).to_dict() == original.to_dict()


def test_with_edits_refuses_a_sentence_that_does_not_exist() -> None:
    with pytest.raises(IndexError, match="no sentence 3"):
        _result().with_edits({"en": {3: "extra"}})


# -- DOCX -----------------------------------------------------------------------------------------------


def test_docx_has_every_part_with_arabic_right_to_left() -> None:
    import docx

    from tarjama.export import to_docx

    result = _result().with_edits({"en": {0: "The spokesman said the meeting will take place."}})
    document = docx.Document(io.BytesIO(to_docx(result)))
    texts = [p.text for p in document.paragraphs]
    assert document.core_properties.title == "مؤتمر"
    assert any(t.startswith("DEMO") for t in texts)
    assert "English: Summary of the article." in texts  # the control character is dropped, not fatal
    arabic = [p for p in document.paragraphs if p.text == " ".join(result.paragraphs[0])]
    assert arabic and arabic[0]._p.pPr.find(f"{W}bidi") is not None
    assert "The spokesman said the meeting will take place. He added that the minister would attend attend " \
           "attend." in texts
    table = document.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows == [["Language", "Flags", "Arabic", "Translation"],  # the edited sentence is settled: not listed
                    ["en", "low_confidence, repetition", result.paragraphs[0][1],
                     "He added that the minister would attend attend attend."]]


# -- what the page shows --------------------------------------------------------------------------------


def test_paragraph_view_escapes_user_text_and_keeps_alignment() -> None:
    import app

    view = app.pairs_markdown(_result(), "en")
    assert "<img" not in view and "&lt;img src=x onerror=alert(1)&gt;" in view and "&amp; مهمة" in view
    assert view.count('class="tj-src"') == 2 and view.count('class="tj-tr"') == 2
    assert "\n\n" not in view  # one HTML block: a blank line would hand the rest to the Markdown parser
    # every sentence a focusable span numbered as in the review table, on both sides (the page's links)
    assert '<span class="tj-s tj-flag tj-s-1" tabindex="0" title="low_confidence; repetition">' in view
    assert view.count("tj-s-1") == 2 and view.count("tj-s-2") == 2 and view.count('tabindex="0"') == 6
    removed = app.removed_markdown(_result())
    assert "اقرأ أيضا" in removed and "\n\n" not in removed


def test_review_table_one_row_per_sentence() -> None:
    import app

    table = app.review_table(_result(), "en")
    assert table["headers"] == ["#", "¶", "", "Arabic", "English", "Confidence", "Why it is flagged", "Reviewed"]
    assert [r[:3] for r in table["data"]] == [["1", "1", ""], ["2", "1", "⚠"], ["3", "2", ""]]
    assert table["data"][1][6].startswith("Low confidence — The model was unsure")  # flags in words
    assert [r[7] for r in table["data"]] == [False, False, False]
    assert [r[0] for r in app.review_table(_result(), "en", only_review=True)["data"]] == ["2"]
    assert [r[5] for r in table["data"]] == ["82%", "18%", "—"]  # exp(mean log-prob); none for passthrough
    assert table["data"][0][3].startswith("قال المتحدث <img")  # a Dataframe "str" cell shows it as text
    assert table["metadata"]["styling"][1][0] and not table["metadata"]["styling"][0][0]


def test_messages_for_pasted_text_speak_of_the_page() -> None:
    import app
    from tarjama.documents import InputError, validate_text

    with pytest.raises(InputError) as err:
        validate_text("Hello there")
    message = app._input_message(err.value, pasted=True)
    assert message.startswith("The text: does not look like Arabic") and "give it the Arabic original" in message
    assert err.value.hint and err.value.hint in app._input_message(err.value, pasted=False)  # the hint, not a rewrite
    with pytest.raises(InputError) as err:
        validate_text("   ")
    assert app._input_message(err.value, pasted=True).startswith("Nothing to translate")
