"""Glossary files, term matching in real Arabic spellings, protected tokens and placeholders: tables of
(input, expected), no model."""

from __future__ import annotations

from pathlib import Path

import pytest
from tarjama.translate.glossary import (
    Glossary,
    GlossaryError,
    contains,
    glossary_from_rows,
    glossary_from_table,
    glossary_from_yaml,
    load_glossary,
)
from tarjama.translate.placeholders import PLACEHOLDERS, Replacement, mask, restore
from tarjama.translate.protected import carried, protected_spans

IOM = "المنظمة الدولية للهجرة"
TABLE = f"""ar,en,es
{IOM},International Organization for Migration,Organización Internacional para las Migraciones
المنظمة,the Organization,
مصر,Egypt,Egipto
كوفيد-19,COVID-19,
وزارة الصحة,Ministry of Health,Ministerio de Salud
الصحة,health,salud
مستشفى,hospital,
"""


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    g = glossary_from_table(TABLE, "terms.csv")
    assert not g.problems
    return g


def found(glossary: Glossary, text: str, lang: str = "en") -> list[tuple[str, str, str]]:
    """(what was matched in the text, the clitic before the term, the target) per match."""
    return [(text[m.word_start : m.end], m.prefix, m.target) for m in glossary.find(text, lang)]


@pytest.mark.parametrize(("text", "expected"), [
    # the term as written
    (f"قالت {IOM} اليوم", [(IOM, "", "International Organization for Migration")]),
    # attached clitics: و ف, ب ل ك, the article, ل + ال = لل
    ("وللمنظمة الدولية للهجرة مكتب", [("وللمنظمة الدولية للهجرة", "ولل", "International Organization for Migration")]),
    ("بالمنظمة الدولية للهجرة", [("بالمنظمة الدولية للهجرة", "ب", "International Organization for Migration")]),
    ("فالمنظمة", [("فالمنظمة", "ف", "the Organization")]),
    ("وبمصر ولمصر كمصر فمصر", [("وبمصر", "وب", "Egypt"), ("ولمصر", "ول", "Egypt"), ("كمصر", "ك", "Egypt"),
                               ("فمصر", "ف", "Egypt")]),
    ("والمستشفى وللمستشفى", [("والمستشفى", "وال", "hospital"), ("وللمستشفى", "ولل", "hospital")]),
    # normalisation on the text's side: hamza alefs, diacritics, tatweel, ta marbuta / ha, alef maqsura / ya
    ("أكدت المنظمةُ الدوليـة للهجره", [("المنظمةُ الدوليـة للهجره", "", "International Organization for Migration")]),
    ("في مَصْرَ", [("مَصْرَ", "", "Egypt")]),
    ("مستشفي", [("مستشفي", "", "hospital")]),
    # longest match wins: the whole name, not المنظمة alone; وزارة الصحة, not الصحة
    (f"{IOM} و المنظمة", [(IOM, "", "International Organization for Migration"), ("المنظمة", "", "the Organization")]),
    ("وزارة الصحة والصحة", [("وزارة الصحة", "", "Ministry of Health"), ("والصحة", "و", "health")]),
    # word edges: never inside a word, no suffix
    ("المنظمات الدولية", []),
    ("مصري ومصريون", []),
    ("انمصر", []),
    # words separated as in the term: punctuation between them is not the term
    ("المنظمة، الدولية للهجرة", [("المنظمة", "", "the Organization")]),
    ("كوفيد - 19 وكوفيد-19", [("كوفيد - 19", "", "COVID-19"), ("وكوفيد-19", "و", "COVID-19")]),
    ("لا شيء هنا", []),
])
def test_matching(glossary: Glossary, text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found(glossary, text) == expected


def test_the_glossary_normalises_its_own_terms_too() -> None:
    g = glossary_from_table("ar,en\nإِدارةُ الهِجْرة,Migration Department\n")
    assert found(g, "وإدارة الهجرة") == [("وإدارة الهجرة", "و", "Migration Department")]
    assert found(g, "ادارة الهجرة") == [("ادارة الهجرة", "", "Migration Department")]


def test_empty_cell_is_no_rule_for_that_language(glossary: Glossary) -> None:
    assert found(glossary, "المنظمة", "es") == []
    assert found(glossary, "مصر", "es") == [("مصر", "", "Egipto")]
    assert found(glossary, "مصر", "fr") == []


def test_offsets_cover_the_term_and_its_marks(glossary: Glossary) -> None:
    text = "زار وبمصرَ أمس"
    [m] = glossary.find(text, "en")
    assert (text[m.word_start : m.start], text[m.start : m.end]) == ("وب", "مصرَ")


@pytest.mark.parametrize(("table", "problems", "terms"), [
    ("ar,en\n,Egypt\nمصر,Egypt\n", ["terms.csv: row 2: no Arabic term (the 'ar' cell is empty)"], 1),
    ("ar,en,xx\nمصر,Egypt,E\n", ["terms.csv: row 1: column 'xx' is not a language code (ISO 639-1); ignored"], 1),
    ("ar,en\nمصر,Egypt\nمصر,Misr\n", ["terms.csv: row 3: 'مصر' repeats row 2 with other translations; the first "
                                        "row is kept"], 1),
    ("ar,en\nمصر,Egypt\nمَصر,Egypt\n", [], 1),  # the same rule twice is no problem
    ("ar,en,es\nمصر,,\nتونس,Tunisia,\n", ["terms.csv: row 2: 'مصر': no translation in any language"], 1),
    ("ar,en\nمصر,Egypt,extra\n", ["terms.csv: row 2: 3 cells for 2 columns"], 0),
    ("ar,en\n...,dots\n", ["terms.csv: row 2: '...' has no letters to match"], 0),
    ("ar,en\n\nمصر,Egypt\n\n,x\n", ["terms.csv: row 5: no Arabic term (the 'ar' cell is empty)"], 1),  # blank lines
])
def test_unusable_rows_are_named_and_the_rest_loads(table: str, problems: list[str], terms: int) -> None:
    g = glossary_from_table(table, "terms.csv")
    assert [str(p) for p in g.problems] == problems
    assert len(g) == terms


@pytest.mark.parametrize(("name", "content", "error"), [
    ("g.csv", "en,es\nEgypt,Egipto\n", "row 1: the header has no 'ar' column"),
    ("g.csv", "", "empty glossary"),
    ("g.txt", "ar,en\n", "unknown glossary format '.txt'"),
    ("g.yaml", "[1, 2", "not valid YAML"),
    ("g.yaml", "just a string", "expected a list of rows"),
])
def test_files_that_cannot_be_read(tmp_path: Path, name: str, content: str, error: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(GlossaryError, match=error):
        load_glossary(tmp_path / name)


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(GlossaryError, match="not found"):
        load_glossary(tmp_path / "none.csv")
    (tmp_path / "latin1.csv").write_bytes("ar,en\nmisr,Égypte\n".encode("latin-1"))
    with pytest.raises(GlossaryError, match="not UTF-8"):
        load_glossary(tmp_path / "latin1.csv")


def test_csv_tsv_and_both_yaml_shapes_load_alike(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_bytes(("\ufeff" + "ar,en,es\nمصر,Egypt,Egipto\n").encode("utf-8"))  # a BOM, as Excel
    (tmp_path / "g.tsv").write_text("ar\ten\tes\nمصر\tEgypt\tEgipto\n", encoding="utf-8")
    (tmp_path / "rows.yaml").write_text("- {ar: مصر, en: Egypt, es: Egipto}\n", encoding="utf-8")
    (tmp_path / "terms.yml").write_text("مصر: {en: Egypt, es: Egipto}\n", encoding="utf-8")
    loaded = [load_glossary(tmp_path / n) for n in ("g.csv", "g.tsv", "rows.yaml", "terms.yml")]
    assert {g.fingerprint() for g in loaded} == {loaded[0].fingerprint()}
    assert all(not g.problems and found(g, "لمصر", "es") == [("لمصر", "ل", "Egipto")] for g in loaded)


def test_yaml_rows_with_bad_entries() -> None:
    g = glossary_from_yaml("- {ar: مصر, en: Egypt}\n- not a mapping\n- {ar: تونس, english: Tunisia}\n", "g.yaml")
    assert [str(p) for p in g.problems] == ["g.yaml: row 2: not a mapping of language codes to text",
                                           "g.yaml: row 3: 'english' is not a language code (ISO 639-1)"]
    assert len(g) == 1


def test_merged_later_rules_win_per_language() -> None:
    base = glossary_from_rows(["ar", "en", "es"], [["مصر", "Egypt", "Egipto"], ["تونس", "Tunisia", ""]])
    extra = glossary_from_rows(["ar", "en"], [["مَصر", "Misr"], ["ليبيا", "Libya"]])
    merged = base.merged(extra)
    assert merged.rows() == [["ar", "en", "es"], ["مصر", "Misr", "Egipto"],
                             ["تونس", "Tunisia", ""], ["ليبيا", "Libya", ""]]
    assert glossary_from_table(merged.to_csv()).fingerprint() == merged.fingerprint()  # CSV round trip


@pytest.mark.parametrize(("translation", "target", "held"), [
    ("The International Organization for Migration said", "International Organization for Migration", True),
    ("the international organization for  migration", "International Organization for Migration", True),
    ("The Organization for Migration said", "International Organization for Migration", False),
    ("Egyptian officials", "Egypt", False),
    ("in Egypt.", "Egypt", True),
])
def test_contains(translation: str, target: str, held: bool) -> None:
    assert contains(translation, target) is held


@pytest.mark.parametrize(("text", "tokens"), [
    ("قالت المنظمة الدولية للهجرة IOM إن", ["IOM"]),
    ("منصة E-Campus وبرنامج Pro-Tempore", ["E-Campus", "Pro-Tempore"]),
    ("فيروس COVID-19 وSARS-CoV-2", ["COVID-19", "SARS-CoV-2"]),
    ("انظر https://www.iom.int/ar/news?id=5. ثم", ["https://www.iom.int/ar/news?id=5"]),
    ("راسلوا info@iom.int أو @UN_Women و#WorldRefugeeDay", ["info@iom.int", "@UN_Women", "#WorldRefugeeDay"]),
    ("قالت لـCNN وبIOM", ["CNN", "IOM"]),  # a clitic glued in front
    ("التقى Roger Stone أمس", ["Roger Stone"]),
    ("#مصر و ٣٫٥ و 2023", []),  # Arabic hashtags are words to translate; numbers are the numbers check's
    ("حرف A وحده", []),  # one letter is not a token
])
def test_protected_spans(text: str, tokens: list[str]) -> None:
    assert [s.text for s in protected_spans(text)] == tokens
    assert all(text[s.start : s.end] == s.text for s in protected_spans(text))


@pytest.mark.parametrize(("token", "translation", "held"), [
    ("IOM", "IOM's office", True),
    ("IOM", "IOMX office", False),
    ("IOM", "the iom", False),  # verbatim: case counts
    ("https://iom.int/x", "see https://iom.int/x.", True),
])
def test_carried(token: str, translation: str, held: bool) -> None:
    assert carried(token, translation) is held


@pytest.mark.parametrize(("text", "spans", "masked"), [
    ("قالت وللمنظمة الدولية للهجرة إن", [Replacement(8, 28, "IOM", "ولل")], "قالت ول ZQA إن"),
    ("في مصر وبمصر", [Replacement(3, 6, "Egypt"), Replacement(9, 12, "Egypt", "وب")], "في ZQA وب ZQB"),
    ("والمستشفى", [Replacement(3, 9, "hospital", "وال")], "و ZQA"),
    ("ZQA قال IOM", [Replacement(8, 11, "IOM")], "ZQA قال ZQB"),  # a placeholder already there is never used
])
def test_mask(text: str, spans: list[Replacement], masked: str) -> None:
    out, mapping = mask(text, spans)
    assert out == masked
    assert sorted(mapping.values()) == sorted(s.restore for s in spans)


@pytest.mark.parametrize(("translation", "restored"), [
    ("ZQA met ZQB", "IOM met Egypt"),
    ("ZQA met ZQA and ZQB", None),   # twice
    ("ZQA met", None),               # ZQB missing
    ("ZQAB met ZQB", None),          # inside a word is not the placeholder
    ("(ZQA) met ZQB.", "(IOM) met Egypt."),
])
def test_restore(translation: str, restored: str | None) -> None:
    assert restore(translation, {"ZQA": "IOM", "ZQB": "Egypt"}) == restored


def test_placeholders_are_distinct_latin_capitals() -> None:
    assert len(set(PLACEHOLDERS)) == len(PLACEHOLDERS) >= 20
    assert all(p.isascii() and p.isupper() and p.isalpha() for p in PLACEHOLDERS)
