"""The API's plain-text path: sentences out, the text rebuilt around their translations with every line
break, blank line and space where it was; text without Arabic carried verbatim."""

from __future__ import annotations

import pytest
from tarjama.translate.segment import has_arabic_letter

from tarjama.server.texts import layout, translate_texts


def _tagged(sentences: list[str]) -> list[str]:
    return [f"<{i}>" for i, _ in enumerate(sentences)]


@pytest.mark.parametrize(("text", "sentences", "rebuilt"), [
    ("ذهب الولد. عاد البنت.", ["ذهب الولد.", "عاد البنت."], "<0> <1>"),
    ("سطر أول\nسطر ثان", ["سطر أول", "سطر ثان"], "<0>\n<1>"),
    ("فقرة أولى.\n\nفقرة ثانية.", ["فقرة أولى.", "فقرة ثانية."], "<0>\n\n<1>"),
    ("  مسافة قبل وبعد  \r\n", ["مسافة قبل وبعد"], "  <0>  \r\n"),
    ("https://example.com/x\nنص عربي", ["نص عربي"], "https://example.com/x\n<0>"),
    ("Only English here.", [], "Only English here."),
    ("", [], ""),
    ("\n\n", [], "\n\n"),
    ("2024 - 2025\nقال. 12345", ["قال."], "2024 - 2025\n<0> 12345"),
])
def test_layout(text: str, sentences: list[str], rebuilt: str) -> None:
    lay = layout(text)
    assert lay.sentences == sentences
    assert lay.rebuild(_tagged(lay.sentences)) == rebuilt
    assert lay.rebuild(lay.sentences) == text  # the identity translation gives the text back exactly


def test_translate_texts_is_one_call_over_every_text() -> None:
    calls: list[list[str]] = []

    def fake(sentences: list[str]) -> list[str]:
        calls.append(sentences)
        return [s.upper() + "!" for s in sentences]

    out = translate_texts(["ذهب الولد. عاد البنت.", "hello", "جاء"], fake)
    assert calls == [["ذهب الولد.", "عاد البنت.", "جاء"]]
    assert out == ["ذهب الولد.! عاد البنت.!", "hello", "جاء!"]


def test_nothing_to_translate_calls_nothing() -> None:
    assert translate_texts(["", "no arabic"], lambda s: pytest.fail("called")) == ["", "no arabic"]


def test_a_wrong_count_is_an_error() -> None:
    with pytest.raises(ValueError, match="1 translations for 2 sentences"):
        translate_texts(["ذهب الولد. عاد البنت."], lambda s: ["x"])


@pytest.mark.parametrize(("text", "expected"), [("نص", True), ("abc 123", False), ("٣٤٥", False), ("", False),
                                                 ("x ب y", True)])
def test_has_arabic(text: str, expected: bool) -> None:
    assert has_arabic_letter(text) is expected
