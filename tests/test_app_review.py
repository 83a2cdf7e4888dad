"""The editor's page, second edition, in real Chromium over the tiny models: no lost work (re-run, reload,
undo, the history), review state, sentence links, one-sentence re-translation, flags in words with
readable colours in both themes, a run that can be cancelled, headline-named exports, a 390 px screen.

The tiny models' output is noise: these tests check what the page does with it, never its quality.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SEED
from test_app import (  # noqa: F401 - browser_context is a fixture
    ARTIFACTS,
    RUN_TIMEOUT_MS,
    SHORT,
    Browser,
    Served,
    _close_toasts,
    _download,
    _free_port,
    _open,
    _open_fresh,
    _toast,
    browser_context,
)

pytestmark = pytest.mark.browser

ARTICLE = ("مؤتمر أممي يدعو للتمكين الاقتصادي للمهاجرات\n\n"
           "قال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل في العاصمة. وأضاف أن الوزير سيحضر.\n\n"
           "وفي سياق آخر، أعلنت الحكومة عن خطة جديدة للتنمية الاقتصادية. وقالت إن الخطة ستبدأ العام المقبل.")


@pytest.fixture(scope="module")
def served(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The page with a history file of its own; no translation memory, so every run really runs."""
    import app
    from tarjama.history import History
    from tarjama.pipeline import Pipeline

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TARJAMA_MODELS", str(models_yaml))
        history = History(tmp_path_factory.mktemp("history") / "history.sqlite", limit=5)
        editor = app.EditorApp(Pipeline.from_config(memory=None), history=history)
        running = app.launch(editor.build(), port=_free_port(), block=False)
    yield Served(running.url, editor)
    running.close()


@pytest.fixture
def browser(browser_context, served: Served) -> Iterator[Browser]:  # noqa: F811
    b = _open_fresh(browser_context, served.url)
    yield b
    b.page.close()


def _run(page, text: str | None = None) -> None:
    """Translate and wait for this run's own "Done" (the status names the run's time, to the second)."""
    if text is not None:
        page.fill("#article textarea", text)
    old = page.inner_text("#run-status")
    page.click("#run")
    page.wait_for_function("old => { const t = document.querySelector('#run-status').innerText; "
                           "return t.includes('Done') && t !== old; }", arg=old, timeout=RUN_TIMEOUT_MS)
    page.locator("#run:not([disabled])").wait_for(timeout=30_000)


def _cell(page, lang: str, row: int, col: int):
    return page.locator(f'#table-{lang} [data-testid="cell-{row}-{col}"]')


def _edit(page, lang: str, row: int, text: str) -> None:
    """Type a correction into a table cell, as an editor does, and wait until the server has counted it.

    A cell opened while Gradio still re-renders the table (a run's last update, the page's restore on load)
    can lose its editor or its text: the fresh-clone CI, on a loaded machine, caught one. So an edit the
    page never reported (#edits-status unchanged) is typed again, up to three times; the callers still check
    exactly what the page counted."""
    cell, status = _cell(page, lang, row, 4), page.locator("#edits-status")
    before = status.inner_text()
    for attempt in range(3):
        try:
            cell.dblclick()
            box = cell.locator("textarea")
            box.wait_for(timeout=5_000)
            box.fill(text)
            page.keyboard.press("Enter")
            page.wait_for_function("old => document.querySelector('#edits-status').innerText !== old",
                                   arg=before, timeout=10_000)
            return
        except Exception:  # playwright's TimeoutError, or a textarea detached mid-fill
            if attempt == 2:
                raise
            page.keyboard.press("Escape")


def _wait_text(page, selector: str, text: str, timeout: float = 60_000) -> None:
    """Wait for ``selector`` to show ``text``; on a timeout, say what it showed instead (the CI's logs are
    all there is to read when a loaded machine is slower than a desk)."""
    try:
        page.locator(selector, has_text=text).first.wait_for(timeout=timeout)
    except Exception as err:  # playwright's TimeoutError
        shown = page.locator(selector).first.inner_text(timeout=5_000) if page.locator(selector).count() else None
        raise AssertionError(f"{selector} did not show {text!r} within {timeout / 1000:.0f} s; "
                             f"it shows {shown!r}") from err


# -- no lost work ------------------------------------------------------------------------------------------


def test_edits_survive_a_rerun_a_reload_and_undo(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    _run(page, ARTICLE)
    _edit(page, "en", 1, "The spokesman said the meeting is on Monday (EDITED)")
    _wait_text(page, "#edits-status", "1 edited sentence")
    _edit(page, "en", 2, "He added that the minister will attend (EDITED)")
    _wait_text(page, "#edits-status", "2 edited sentences")
    assert _cell(page, "en", 1, 2).inner_text().strip() == "✎"  # the warning is settled, said in words
    assert "edited" in _cell(page, "en", 1, 6).inner_text().lower()

    page.click("#undo")  # the last edit goes, the one before stays
    _wait_text(page, "#edits-status", "1 edited sentence")
    assert "(EDITED)" not in _cell(page, "en", 2, 4).inner_text()
    assert "(EDITED)" in _cell(page, "en", 1, 4).inner_text()
    _edit(page, "en", 2, "He added that the minister will attend (EDITED)")
    _wait_text(page, "#edits-status", "2 edited sentences")

    page.fill("#summary-en textarea", "")  # summaries are editable too (typed: fill() sends no key input)
    page.locator("#summary-en textarea").press_sequentially("An editor's summary (EDITED)")
    _wait_text(page, "#edits-status", "1 edited summary")
    page.wait_for_timeout(1500)  # the last keystroke's save (the page saves as one types, the latest last)

    _run(page)  # the same article again: every correction kept, and the page says so
    assert "kept 2 corrections" in page.inner_text("#run-status")
    assert "(EDITED)" in _cell(page, "en", 1, 4).inner_text()
    assert page.input_value("#summary-en textarea") == "An editor's summary (EDITED)"

    page.reload()  # the work in progress comes back from the browser's storage
    _wait_text(page, "#run-status", "Restored", timeout=60_000)
    assert "(EDITED)" in _cell(page, "en", 2, 4).inner_text()
    assert "(EDITED)" in page.inner_text("#pane-en .tj-edited")

    # A changed source sentence: the page asks before a run discards its correction.
    page.fill("#article textarea", ARTICLE.replace("سيعقد يوم الاثنين", "سيعقد يوم الثلاثاء"))
    page.click("#run")
    _wait_text(page, "#confirm", "2 corrections would be lost")  # a sentence and the summary
    page.click("#confirm-keep")
    page.locator("#confirm").wait_for(state="hidden")
    assert "(EDITED)" in _cell(page, "en", 1, 4).inner_text()  # nothing ran, nothing lost
    page.click("#run")
    page.click("#confirm-run")
    page.locator("#run-status", has_text="kept 1 correction").wait_for(timeout=RUN_TIMEOUT_MS)
    assert "(EDITED)" not in _cell(page, "en", 1, 4).inner_text()  # its Arabic changed: discarded, as agreed
    assert "(EDITED)" in _cell(page, "en", 2, 4).inner_text()  # its Arabic is the same: kept
    assert browser.dialogs == []


def test_review_marks_filter_counter_and_escape(browser: Browser) -> None:
    page = browser.page
    _run(page, ARTICLE)
    count = page.inner_text("#review-count")
    assert "5 of 5 to review" in count  # random weights: every sentence is low-confidence

    _cell(page, "en", 0, 7).locator("input[type=checkbox]").check()
    _wait_text(page, "#review-count", "4 of 5 to review")
    assert _cell(page, "en", 0, 2).inner_text().strip() == "✓"

    cell = _cell(page, "en", 3, 4)  # Escape cancels a cell edit
    before = cell.inner_text()
    cell.dblclick()
    cell.locator("textarea").fill("THIS MUST NOT BE SAVED")
    page.keyboard.press("Escape")
    page.wait_for_timeout(1500)
    assert "THIS MUST NOT BE SAVED" not in page.inner_text("#table-en")
    assert cell.inner_text() == before
    assert "Exports hold the model output" in page.inner_text("#edits-status")

    page.get_by_label("Only sentences to review").check()
    grid = page.locator("#table-en [role=grid]")
    page.wait_for_function("() => document.querySelector('#table-en [role=grid]').getAttribute('aria-rowcount') == '5'")
    assert int(grid.get_attribute("aria-rowcount")) == 4 + 1  # the header row
    _edit(page, "en", 0, "An edit in the filtered table (EDITED)")  # row 0 of the filter is sentence 2
    _wait_text(page, "#review-count", "3 of 5 to review")
    page.get_by_label("Only sentences to review").uncheck()
    page.wait_for_function("() => document.querySelector('#table-en [role=grid]').getAttribute('aria-rowcount') == '6'")
    assert "(EDITED)" in _cell(page, "en", 1, 4).inner_text()

    page.locator("#article textarea").click()
    page.keyboard.press("Alt+n")  # the next sentence to review gets the focus
    page.wait_for_timeout(500)
    assert page.evaluate("document.querySelector('#table-en').dataset.tjAt") == "2"
    assert browser.dialogs == []


def test_exports_say_reviewed_and_edited_are_settled(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    _run(page, ARTICLE)
    _edit(page, "en", 1, "Edited sentence (EDITED)")
    _wait_text(page, "#edits-status", "1 edited sentence")
    md = _download(page, "#export-md", tmp_path / "a.md").read_text(encoding="utf-8")
    review = md.split("Sentences to review", 1)[1]
    assert "(EDITED)" not in review  # corrected: no longer listed to review
    data = json.loads(_download(page, "#export-json", tmp_path / "a.json").read_text(encoding="utf-8"))
    second = data["translations"]["en"]["paragraphs"][1][0]
    assert "edited" in second["flags"] and "low_confidence" in second["flags"]  # the record keeps both


def test_the_work_in_the_browser_survives_a_server_restart(browser_context, models_yaml: Path) -> None:  # noqa: F811
    import app
    from tarjama.pipeline import Pipeline

    port = _free_port()

    def start():
        return app.launch(app.EditorApp(Pipeline.from_config(models_yaml, memory=None)).build(), port=port,
                          block=False)

    first = start()
    page = _open_fresh(browser_context, first.url).page
    try:
        page.get_by_role("checkbox", name="Summaries").uncheck()
        _run(page, ARTICLE)
        _edit(page, "en", 1, "Kept across a restart (EDITED)")
        _wait_text(page, "#edits-status", "1 edited sentence")
        first.close()
        second = start()  # a new process would read the same key from tarjama's cache
        try:
            page.reload()
            page.wait_for_selector("#article textarea")
            _wait_text(page, "#run-status", "Restored", timeout=60_000)
            assert "(EDITED)" in _cell(page, "en", 1, 4).inner_text()
        finally:
            second.close()
    finally:
        page.close()


# -- sentence links, side by side ---------------------------------------------------------------------------


def test_hover_links_a_sentence_to_its_source(browser: Browser) -> None:
    page = browser.page
    page.fill("#article textarea", ARTICLE)
    page.keyboard.press("Control+Enter")  # the keyboard translates too
    page.locator("#run-status", has_text="Done").wait_for(timeout=RUN_TIMEOUT_MS)
    pane = page.locator("#pane-en")
    target = pane.locator(".tj-tr .tj-s-2")
    target.hover()
    lit = pane.locator(".tj-s.tj-hl")
    assert lit.count() == 2
    assert all("tj-s-2" in (lit.nth(k).get_attribute("class") or "").split() for k in range(2))
    assert pane.locator(".tj-src .tj-s.tj-hl").inner_text() == page.locator(
        '#table-en [data-testid="cell-2-3"]').inner_text().strip()
    page.mouse.move(0, 0)
    assert pane.locator(".tj-s.tj-hl").count() == 0
    pane.locator(".tj-src .tj-s-0").focus()  # keyboard too
    lit = pane.locator(".tj-s.tj-hl")
    assert lit.count() == 2 and all("tj-s-0" in (e.get_attribute("class") or "").split() for e in lit.all())

    page.get_by_role("tab", name="Side by side").click()
    side = page.locator("#pane-all")
    side.locator(".tj-head").first.wait_for()
    assert side.locator(".tj-head").count() == 3  # Arabic, English, Spanish
    side.locator(".tj-src .tj-s-3").hover()
    assert side.locator(".tj-s.tj-hl").count() == 3


# -- one sentence again -------------------------------------------------------------------------------------


def test_retranslate_one_sentence_and_pick_an_alternative(browser: Browser, served: Served, tmp_path: Path) -> None:
    page = browser.page
    _run(page, ARTICLE)
    _cell(page, "en", 2, 3).click()  # the Arabic cell: opens the re-translate panel on that sentence
    _wait_text(page, "#retr-which", "Sentence 3")
    source = page.locator("#retr-source textarea")
    assert source.input_value() == page.locator('#table-en [data-testid="cell-2-3"]').inner_text().strip()
    source.fill("وأضاف أن الوزير سيحضر الاجتماع.")  # the editor corrects the Arabic
    page.click("#retr-run")
    page.locator("#retr-choices label").first.wait_for(timeout=RUN_TIMEOUT_MS)
    choices = page.locator("#retr-choices label")
    assert choices.count() == 3
    assert all("confidence" in choices.nth(k).inner_text() for k in range(3))
    picked = choices.nth(1).inner_text().split(" — ")[0].split(". ", 1)[1]
    choices.nth(1).click()
    page.click("#retr-use")
    _wait_text(page, "#edits-status", "1 edited sentence")
    assert _cell(page, "en", 2, 4).inner_text().strip() == picked
    # the pane re-renders after the status line: wait for the sentence itself (the pane's legend is .tj-edited too)
    page.locator("#pane-en .tj-edited", has_text=picked).first.wait_for()
    data = json.loads(_download(page, "#export-json", tmp_path / "a.json").read_text(encoding="utf-8"))
    sent = [s for p in data["translations"]["en"]["paragraphs"] for s in p][2]
    assert sent["text"] == picked and "alternative 2 of 3" in sent["details"]["edited"]
    assert "corrected Arabic" in sent["details"]["edited"]


# -- flags in words, colours ---------------------------------------------------------------------------------


CONTRAST_JS = """(sel) => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
    out.push((Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05));
  }
  return out;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_flagged_and_edited_text_passes_wcag_aa_in_both_themes(browser_context, served: Served, scheme: str) -> None:  # noqa: F811
    b = _open(browser_context, served.url, fresh=True, scheme=scheme)
    page = b.page
    try:
        assert page.evaluate("document.body.classList.contains('dark') || "
                             "!!document.querySelector('.gradio-container.dark, .dark')") == (scheme == "dark")
        _run(page, ARTICLE)
        _edit(page, "en", 0, "An edited sentence (EDITED)")
        _wait_text(page, "#edits-status", "1 edited sentence")
        page.locator("#pane-en .tj-edited").wait_for()
        page.click("#headline")  # no table cell selected (a selected cell has Gradio's own colours)
        for sel in ("#pane-en .tj-flag", "#pane-en .tj-edited", '#table-en [data-testid="cell-1-4"] span.text',
                    '#table-en [data-testid="cell-0-4"] span.text', '#table-en [data-testid="cell-1-6"] span.text',
                    "#legend", "#review-count"):
            ratios = page.evaluate(CONTRAST_JS, sel)
            assert ratios and min(ratios) >= 4.5, (scheme, sel, ratios)
        page.screenshot(path=str(ARTIFACTS / f"page-{scheme}.png"), full_page=True)
    finally:
        page.close()


def test_flags_are_explained_in_words_with_a_legend(browser: Browser) -> None:
    from tarjama.translate.flags import EXPLANATIONS, Flag

    page = browser.page
    _run(page, ARTICLE)
    why = _cell(page, "en", 0, 6).inner_text()
    assert EXPLANATIONS[Flag.LOW_CONFIDENCE].split(":")[0] in why  # in the table, not only on hover
    page.click("#legend button, #legend .label-wrap")
    page.locator("#legend", has_text=EXPLANATIONS[Flag.MEMORY]).wait_for()  # the accordion renders on opening
    legend = page.inner_text("#legend")
    for flag in (Flag.MEMORY, Flag.GLOSSARY_MISSED, Flag.ENTITY_MISSED, Flag.UNKNOWN, Flag.LOW_CONFIDENCE):
        assert EXPLANATIONS[flag] in legend


# -- a run that tells the truth and can be stopped -----------------------------------------------------------


def test_cancel_stops_the_run_at_the_next_batch(browser: Browser, served: Served) -> None:
    page = browser.page
    engine = served.editor.pipeline.translator("en").engine
    big = "\n\n".join(f"{p} رقم {k}." for k in range(60) for p in ARTICLE.split("\n\n")[1:])  # ~240 sentences
    page.fill("#article textarea", big)
    page.get_by_role("checkbox", name="Summaries").uncheck()
    before = engine.calls
    page.click("#run")
    page.locator("#run[disabled]").wait_for(timeout=30_000)  # no second run while this one works
    page.locator("#cancel").wait_for()
    deadline = time.monotonic() + 120
    while engine.calls == before and time.monotonic() < deadline:  # the first batch is running
        time.sleep(0.05)
    page.click("#cancel")
    _toast(page, "Cancelled", timeout=120_000)
    stopped = engine.calls
    time.sleep(3)
    assert engine.calls == stopped, "the engine kept translating after Cancel"
    assert stopped - before < 8, "the run went far past the batch it was in"
    page.locator("#run:not([disabled])").wait_for(timeout=30_000)
    assert not page.locator("#cancel").is_visible()


def test_closing_the_tab_stops_its_run(browser_context, served: Served) -> None:  # noqa: F811
    b = _open(browser_context, served.url)
    page = b.page
    engine = served.editor.pipeline.translator("en").engine
    big = "\n\n".join(f"{p} رقم {k}." for k in range(60) for p in ARTICLE.split("\n\n")[1:])
    page.fill("#article textarea", big)
    page.get_by_role("checkbox", name="Summaries").uncheck()
    before = engine.calls
    page.click("#run")
    deadline = time.monotonic() + 120
    while engine.calls == before and time.monotonic() < deadline:
        time.sleep(0.05)
    page.close()  # the editor gives up: nobody is left to read the result
    time.sleep(5)  # the page's unload reaches the server; the run stops at its next batch
    stopped = engine.calls
    time.sleep(3)
    assert engine.calls == stopped, "a closed tab's run kept the engine busy"
    assert stopped - before < 12


def test_progress_sits_next_to_the_button_with_stage_and_counts(browser: Browser) -> None:
    page = browser.page
    page.fill("#article textarea", SEED.read_text(encoding="utf-8"))
    page.click("#run")
    seen = page.locator("#run-status .progress-text, #run-status", has_text="of").first
    seen.wait_for(timeout=60_000)
    page.locator("#run-status", has_text="Done").wait_for(timeout=RUN_TIMEOUT_MS)


# -- headline and exports ------------------------------------------------------------------------------------


def test_headline_names_the_exports_and_the_zip_holds_everything(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    _run(page, ARTICLE)
    headline = page.inner_text("#headline")
    assert "مؤتمر أممي يدعو للتمكين الاقتصادي للمهاجرات" in headline
    with page.expect_download() as info:
        page.click("#export-zip")
    name = info.value.suggested_filename
    path = tmp_path / name
    info.value.save_as(path)
    stem = name.removesuffix(".zip")
    assert stem[:4].isdigit() and stem[4] == "-" and stem != "article"  # YYYY-MM-DD-<slug of the headline>
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    assert {f"{stem}.md", f"{stem}.json", f"{stem}.docx", f"{stem}.ar.md", f"{stem}.en.md", f"{stem}.es.md"} <= names
    with page.expect_download() as info:
        page.click("#export-md")
    assert info.value.suggested_filename == f"{stem}.md"


# -- history -------------------------------------------------------------------------------------------------


def test_history_reopens_and_deletes(browser: Browser) -> None:
    page = browser.page
    _run(page, ARTICLE)
    _edit(page, "en", 1, "Kept in the history (EDITED)")
    _wait_text(page, "#edits-status", "1 edited sentence")
    _run(page, SHORT)
    page.click("#history button, #history .label-wrap")
    rows = page.locator("#history-table [data-testid^='cell-'][data-testid$='-1']")
    _wait_text(page, "#history-table", "مؤتمر أممي")
    headlines = [rows.nth(k).inner_text() for k in range(rows.count())]
    k = next(k for k, h in enumerate(headlines) if "مؤتمر أممي" in h)
    page.locator(f'#history-table [data-testid="cell-{k}-1"]').click()
    _wait_text(page, "#run-status", "Reopened")
    assert "(EDITED)" in _cell(page, "en", 1, 4).inner_text()
    before = page.inner_text("#history-table").count("مؤتمر أممي")
    k = 0  # reopened, it is the newest again
    assert "مؤتمر أممي" in page.locator('#history-table [data-testid="cell-0-1"]').inner_text()
    page.locator(f'#history-table [data-testid="cell-{k}-5"]').click()
    _toast(page, "Deleted from the history")
    page.wait_for_function("n => document.querySelector('#history-table').innerText.split('مؤتمر أممي').length - 1 < n",
                           arg=before)
    _close_toasts(page)


# -- a phone ---------------------------------------------------------------------------------------------------


def test_390px_screen_keeps_every_column_and_stacks_the_pane(browser_context, served: Served) -> None:  # noqa: F811
    b = _open(browser_context, served.url, fresh=True)
    page = b.page
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        _run(page, ARTICLE)
        widths = page.evaluate("[...document.querySelectorAll('#table-en thead th')].map(th => "
                               "th.getBoundingClientRect().width)")
        assert len(widths) == 8 and min(widths) > 20, widths
        flags = page.locator('#table-en [data-testid="cell-0-6"]').bounding_box()
        assert flags and flags["width"] > 120  # words, not a letter per line
        scroll = page.evaluate("(() => { const v = document.querySelector('#table-en .virtual-table-viewport');"
                               " return [v.scrollWidth, v.clientWidth]; })()")
        assert scroll[0] > scroll[1]  # the table scrolls sideways, the page does not
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
        src = page.locator("#pane-en .tj-src:not(.tj-head)").first.bounding_box()
        tr = page.locator("#pane-en .tj-tr:not(.tj-head)").first.bounding_box()
        assert src and tr and tr["y"] >= src["y"] + src["height"] - 1  # Arabic above its translation
        assert src["width"] > 300
        page.screenshot(path=str(ARTIFACTS / "page-390px.png"), full_page=True)
    finally:
        page.close()


def test_readme_screenshot(browser: Browser) -> None:
    """The README's picture of the page, taken from the page itself (copied by hand to docs/screenshot.png)."""
    page = browser.page
    page.set_viewport_size({"width": 1366, "height": 900})
    _run(page, SEED.read_text(encoding="utf-8"))
    _edit(page, "en", 2, "The fourth edition of the regional conference on migrant women (EDITED)")
    _wait_text(page, "#edits-status", "1 edited sentence")
    page.locator("#pane-en .tj-tr .tj-s-3").hover()
    page.screenshot(path=str(ARTIFACTS / "readme-page.png"), full_page=False)
