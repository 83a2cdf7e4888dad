"""The page's glossary: upload a file or type rows, the next run enforces them, the table downloads as CSV.
On the trained copy model in a real browser, so the terms really come back through placeholders."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_app import Browser, Served, _download, _free_port, _open, _run, _toast, browser_context  # noqa: F401

IOM_AR = "المنظمة الدولية للهجرة"
IOM_EN = "International Organization for Migration"
ARTICLE = "قالت وللمنظمة الدولية للهجرة في مصر إن الاجتماع انتهى."


@pytest.fixture(scope="module")
def served_copy(copy_models: Path) -> Iterator[Served]:
    import app
    from tarjama.pipeline import Pipeline

    editor = app.EditorApp(Pipeline.from_config(copy_models, memory=None))
    running = app.launch(editor.build(), port=_free_port(), block=False)
    yield Served(running.url, editor)
    running.close()


@pytest.fixture
def page(browser_context, served_copy: Served) -> Iterator[Browser]:  # noqa: F811
    b = _open(browser_context, served_copy.url)
    yield b
    b.page.close()


def _glossary_cell(page, row: int, col: int):
    return page.locator(f'#glossary-table [data-testid="cell-{row}-{col}"]')


def _type_cell(page, row: int, col: int, text: str) -> None:
    cell = _glossary_cell(page, row, col)
    cell.dblclick()
    cell.locator("textarea").fill(text)
    page.keyboard.press("Enter")


@pytest.mark.browser
def test_glossary_upload_edit_run_and_download(page: Browser, tmp_path: Path) -> None:
    p = page.page
    p.click("#glossary button")  # open the accordion
    terms = tmp_path / "terms.csv"
    terms.write_text(f"ar,en,es\n{IOM_AR},{IOM_EN},Organización Internacional para las Migraciones\n,no term,\n",
                     encoding="utf-8")
    p.locator("#glossary-file input[type=file]").set_input_files(terms)
    assert "no Arabic term" in _toast(p, "row 3")  # the unusable row is named; the rest loads
    _toast(p, "1 terms loaded")
    assert _glossary_cell(p, 0, 0).inner_text().strip() == IOM_AR
    # A term typed into the table applies to the next run too.
    _type_cell(p, 1, 0, "مصر")
    _type_cell(p, 1, 1, "Egypt")
    _run(p, ARTICLE)
    pane = p.locator("#pane-en").inner_text()
    assert IOM_EN in pane and "Egypt" in pane
    table = p.locator("#table-en").inner_text()
    assert "glossary_missed" not in table
    csv_file = _download(p, "#glossary-download", tmp_path / "glossary.csv")
    rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    assert rows[0] == ["ar", "en", "es"]
    assert rows[1][:2] == [IOM_AR, IOM_EN] and rows[2][:2] == ["مصر", "Egypt"]
    assert page.dialogs == []


def test_handlers_apply_the_table_and_name_bad_rows(served_copy: Served) -> None:
    import app

    editor = served_copy.editor
    rows = app.glossary_table(None, editor.targets)
    rows[0][:2] = [IOM_AR, IOM_EN]
    rows[1][:2] = ["", "orphan"]
    glossary = app.table_glossary(rows, editor.targets)
    assert len(glossary) == 1 and [str(p) for p in glossary.problems] == [
        "glossary table: row 2: no Arabic term (the 'ar' cell is empty)"]
    assert app.table_glossary(app.glossary_table(None, editor.targets), editor.targets) is None
    result = editor._run(editor._prepared(ARTICLE, None), ["en"], False, glossary=glossary)
    [sent] = result.translations["en"].sentences()
    assert sent.glossary == [{"term": IOM_AR, "target": IOM_EN, "how": "placeholder"}]
    assert app.flag_notes(app.SentenceResult("s", "t", -1.0, ["numbers", "split"], {"numbers": "missing 3.5"})) \
        == "numbers: missing 3.5; split"
