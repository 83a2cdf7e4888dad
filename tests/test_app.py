"""The editor's page (app.py) served on 127.0.0.1 over the tiny models, driven in a real browser
(Debian chromium through Playwright) and through gradio_client.

The tiny models' output is noise: these tests check what the page does with it (paragraph and
sentence alignment, edits, exports, messages, escaping, isolation of concurrent requests),
never translation quality.  Screenshots land in artifacts/app/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO, SEED

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
ARTIFACTS = REPO / "artifacts" / "app"
SCHEMA = REPO / "tarjama" / "schema" / "article.schema.json"
RUN_TIMEOUT_MS = 180_000  # a full article on the tiny models takes seconds; shared CI cores are slow
SHORT = "قال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل في العاصمة. وأضاف أن الوزير سيحضر."
XSS = ("قال المتحدث باسم وزارة الخارجية إن الاجتماع <img src=x onerror=alert(1)> سيعقد يوم الاثنين المقبل "
       "في العاصمة بحضور الوزراء.\n\n"
       "وأضاف المتحدث أن <script>alert(2)</script> الحكومة ستعلن عن خطتها الجديدة للتنمية الاقتصادية قريبا.\n\n"
       "ولمزيد من المعلومات يمكن زيارة [الموقع الرسمي للوزارة](javascript:alert(3)) أو الاتصال بمكتب الإعلام.")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    url: str
    editor: object  # app.EditorApp


@pytest.fixture(scope="module")
def served(models_yaml: Path) -> Iterator[Served]:
    """The page on a free port of 127.0.0.1; TARJAMA_MODELS points at the tiny models, as a user would."""
    import app
    from tarjama.pipeline import Pipeline

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TARJAMA_MODELS", str(models_yaml))
        pipeline = Pipeline.from_config(memory=None)  # no translation memory: every run really runs
        editor = app.EditorApp(pipeline)
        running = app.launch(editor.build(), port=_free_port(), block=False)
    yield Served(running.url, editor)
    running.close()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory):
    """One headless chromium with a fresh profile for the module; pages are opened per test."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium; run `make browser` "
                    "(CI does this in `make test`)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        yield ctx
        ctx.close()


@dataclass
class Browser:
    """A page with everything it requested and every JavaScript dialog that fired."""

    page: object
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def _open(ctx, url: str, *, fresh: bool = False, scheme: str | None = None) -> Browser:
    """A new tab on the page.  ``fresh``: with no work in progress from an earlier test in the browser's storage
    (a run would ask first, or carry its corrections); ``scheme``: light or dark, before the page loads."""
    page = ctx.new_page()
    b = Browser(page)
    page.on("request", lambda r: b.requests.append(r.url))
    page.on("websocket", lambda w: b.requests.append(w.url))
    page.on("dialog", lambda d: (b.dialogs.append(d.message), d.dismiss()))
    if scheme:
        page.emulate_media(color_scheme=scheme)
    if fresh:
        # Cleared from a same-origin document that runs no page script.  Clearing from the page itself races
        # its restore-on-load, whose answer writes the work back into storage (caught on a loaded machine).
        page.goto(url.rstrip("/") + "/tarjama-test-blank")
        page.evaluate("localStorage.clear()")
    page.goto(url)
    page.wait_for_selector("#article textarea")
    return b


def _open_fresh(ctx, url: str) -> Browser:
    return _open(ctx, url, fresh=True)


@pytest.fixture
def browser(browser_context, served: Served) -> Iterator[Browser]:
    b = _open_fresh(browser_context, served.url)
    yield b
    b.page.close()


def _run(page, text: str | None = None) -> None:
    """Paste (fill) an article, press Translate, wait until the run reported its timings."""
    if text is not None:
        page.fill("#article textarea", text)
    page.click("#run")
    page.locator("#timings", has_text="total").wait_for(timeout=RUN_TIMEOUT_MS)


def _toast(page, text: str, timeout: float = 30_000) -> str:
    toast = page.locator(".toast-body", has_text=text).last
    toast.wait_for(timeout=timeout)
    return toast.inner_text()


def _close_toasts(page) -> None:
    """Close every toast at once (clicking them one by one races their slide-out animation)."""
    page.evaluate("document.querySelectorAll('.toast-close').forEach(b => b.click())")
    page.locator(".toast-body").first.wait_for(state="detached", timeout=10_000)


def _download(page, selector: str, dest: Path) -> Path:
    with page.expect_download() as info:
        page.click(selector)
    info.value.save_as(dest)
    return dest


def _edit_cell(page, lang: str, row: int, text: str) -> None:
    cell = page.locator(f'#table-{lang} [data-testid="cell-{row}-4"]')
    cell.dblclick()
    cell.locator("textarea").fill(text)
    page.keyboard.press("Enter")


def _expected_shape(text: str) -> list[int]:
    from tarjama.translate.segment import segment

    return [len(p.sentences) for p in segment(text).paragraphs]


# -- the editor's main path -----------------------------------------------------------------------------


@pytest.mark.browser
def test_paste_run_review_edit_export(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    seed = SEED.read_text(encoding="utf-8")
    shape = _expected_shape(seed)
    assert page.eval_on_selector("#article textarea", "e => getComputedStyle(e).direction") == "rtl"
    assert "DEMO" in page.inner_text("#demo-banner")

    page.fill("#article textarea", seed)
    page.click("#run")
    # a progress indicator while the article runs
    page.locator(".progress-level-inner", has_text="%").first.wait_for(timeout=30_000)
    page.locator("#timings", has_text="total").wait_for(timeout=RUN_TIMEOUT_MS)

    for lang, tab in (("es", "Arabic | Spanish"), ("en", "Arabic | English")):  # English shown last
        page.get_by_role("tab", name=tab).click()
        pane = page.locator(f"#pane-{lang}")
        pane.locator(".tj-tr").first.wait_for()
        assert pane.locator(".tj-src:not(.tj-head)").count() == len(shape)
        assert pane.locator(".tj-tr").count() == len(shape)
        assert pane.locator(".tj-src").nth(1).evaluate("e => getComputedStyle(e).direction") == "rtl"
        grid = page.locator(f"#table-{lang} [role=grid]")
        assert int(grid.get_attribute("aria-rowcount")) == sum(shape) + 1  # + the header row
        first = page.locator(f'#table-{lang} [data-testid="cell-0-2"]')
        assert first.inner_text().strip() == "⚠"  # random weights: every sentence is low-confidence
        assert "background-color" in (first.get_attribute("style") or "")
    for lang in ("ar", "en", "es"):
        assert page.input_value(f"#summary-{lang} textarea").strip(), f"no {lang} summary"
    assert "قد يعجبك ايضا" in page.inner_text("#removed")  # the web boilerplate cleaning dropped
    status = page.inner_text("#status")
    for needed in ("opus-mt-ar-en", "opus-mt-ar-es", "mt5-xlsum", "transformers", "cpu", "Apache-2.0",
                   "CC-BY-NC-SA-4.0", "total"):
        assert needed in status
    page.screenshot(path=str(ARTIFACTS / "page-after-run.png"), full_page=True)

    # only the translation column is editable
    source_cell = page.locator('#table-en [data-testid="cell-0-3"]')
    source_cell.dblclick()
    assert source_cell.locator("textarea").count() == 0
    page.keyboard.press("Escape")
    _edit_cell(page, "en", 0, "The UN conference calls for migrant women's economic empowerment (EDITED)")
    page.locator("#edits-status", has_text="1 edited sentence").wait_for(timeout=30_000)
    assert "(EDITED)" in page.inner_text("#pane-en .tj-edited")
    page.locator('#table-en [data-testid="cell-1-4"]').click(button="right")  # no add/delete row menu
    assert not page.locator("#table-en .cell-menu").is_visible()
    assert not page.locator("#table-en .cell-menu-button").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "page-after-edit.png"))

    md = _download(page, "#export-md", tmp_path / "article.md").read_text(encoding="utf-8")
    assert "The UN conference calls for migrant women's economic empowerment (EDITED)" in md

    data = json.loads(_download(page, "#export-json", tmp_path / "article.json").read_text(encoding="utf-8"))
    import jsonschema

    jsonschema.validate(data, json.loads(SCHEMA.read_text(encoding="utf-8")))
    first = data["translations"]["en"]["paragraphs"][0][0]
    assert first["text"].endswith("(EDITED)") and "edited" in first["flags"]
    assert [len(p) for p in data["paragraphs"]] == shape
    assert not any("edited" in s["flags"] for p in data["translations"]["es"]["paragraphs"] for s in p)

    import docx

    document = docx.Document(str(_download(page, "#export-docx", tmp_path / "article.docx")))
    texts = [p.text for p in document.paragraphs]
    assert any(t.endswith("(EDITED)") for t in texts)
    arabic = next(p for p in document.paragraphs if p.text == " ".join(data["paragraphs"][-1]))
    assert arabic._p.pPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}bidi") is not None
    assert browser.dialogs == []


# -- feedback -------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_clear_messages_for_bad_input(browser: Browser) -> None:
    page = browser.page
    page.click("#run")  # empty
    assert "paste an Arabic article" in _toast(page, "Nothing to translate")
    _close_toasts(page)

    page.fill("#article textarea", "The minister said on Monday that the meeting would take place next week.")
    page.click("#run")
    _toast(page, "does not look like Arabic")
    page.wait_for_timeout(800)  # the toast slides in
    page.screenshot(path=str(ARTIFACTS / "toast-not-arabic.png"))
    _close_toasts(page)

    page.fill("#article textarea", SHORT * (100_001 // len(SHORT) + 1))
    page.click("#run")
    assert "split it into several articles" in _toast(page, "100,000-character limit")  # the hint
    _close_toasts(page)

    page.fill("#article textarea", SHORT)
    page.get_by_role("checkbox", name="English").uncheck()
    page.get_by_role("checkbox", name="Spanish").uncheck()
    page.click("#run")
    _toast(page, "Tick at least one target language")
    assert browser.dialogs == []


@pytest.mark.browser
def test_uploads(browser: Browser, tmp_path: Path) -> None:
    import docx

    page = browser.page
    upload = page.locator("#upload input[type=file]")

    doc = docx.Document()
    doc.add_heading("مؤتمر أممي يدعو للتمكين الاقتصادي للمهاجرات", 1)
    doc.add_paragraph("قال المتحدث إن الاجتماع سيعقد يوم الاثنين. وأضاف أن الوزير سيحضر.")
    doc.add_paragraph("وفي سياق آخر، أعلنت الحكومة عن خطة جديدة للتنمية.")
    doc.save(tmp_path / "article.docx")
    upload.set_input_files(tmp_path / "article.docx")
    assert "3 paragraphs" in _toast(page, "article.docx")
    text = page.input_value("#article textarea")
    assert text.split("\n\n")[1] == "قال المتحدث إن الاجتماع سيعقد يوم الاثنين. وأضاف أن الوزير سيحضر."
    _close_toasts(page)
    page.locator("#upload button[aria-label='Clear']").click()

    (tmp_path / "page.html").write_text(
        "<html><head><title>خبر</title></head><body><nav>الرئيسية | الأخبار | الرياضة</nav><article>"
        "<h1>الحكومة تعلن خطة جديدة</h1><p>قال المتحدث إن الاجتماع سيعقد يوم الاثنين في العاصمة بحضور عدد من "
        "الوزراء والمسؤولين.</p><p>وأضاف أن الوزير سيحضر الاجتماع لمناقشة الخطة الجديدة للتنمية الاقتصادية.</p>"
        "</article><footer>جميع الحقوق محفوظة</footer></body></html>", encoding="utf-8")
    upload.set_input_files(tmp_path / "page.html")
    _toast(page, "page.html")
    text = page.input_value("#article textarea")
    assert "لمناقشة الخطة الجديدة" in text and "الرياضة" not in text and "محفوظة" not in text
    _close_toasts(page)
    page.locator("#upload button[aria-label='Clear']").click()

    big = tmp_path / "big.txt"
    big.write_text("قال المتحدث إن الاجتماع سيعقد. " * 200_000, encoding="utf-8")  # ~11 MB
    upload.set_input_files(big)
    assert "big.txt" in _toast(page, "exceed the maximum allowed size of 5.0 Mb")  # refused by the browser
    _close_toasts(page)

    fake = tmp_path / "report.txt"
    fake.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    upload.set_input_files(fake)
    assert "give tarjama the article as text, HTML or .docx" in _toast(page, "this is a PDF document, not text")
    assert browser.dialogs == []


def test_upload_handler_checks_what_the_browser_checks(served: Served, tmp_path: Path) -> None:
    """Gradio checks file types only in the browser: a direct upload of anything reaches the handler."""
    import gradio as gr
    import httpx

    import app

    big = tmp_path / "big.txt"
    big.write_bytes("ا".encode() * (app.MAX_UPLOAD_BYTES // 2 + 1))
    cases = {
        big: "over the 5 MB upload limit",
        tmp_path / "report.pdf": "'.pdf' files are not supported",
        tmp_path / "report.txt": "this is a PDF document, not text",
        tmp_path / "notes.txt": "does not look like Arabic",
    }
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "report.txt").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "notes.txt").write_text("Meeting notes, in English.", encoding="utf-8")
    for path, message in cases.items():
        with pytest.raises(gr.Error, match=message):
            served.editor.load_file(str(path))
    # the server refuses an oversized upload itself (HTTP 413), whatever the browser does
    with big.open("rb") as f:
        response = httpx.post(served.url + "gradio_api/upload", files={"files": ("big.txt", f)}, timeout=60)
    assert response.status_code == 413


def test_an_unexpected_failure_reading_an_upload_says_what_happened(served: Served, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    import app

    def broken(*args: object) -> None:
        raise RuntimeError("the reader broke")

    path = tmp_path / "article.txt"
    path.write_text(SHORT, encoding="utf-8")
    monkeypatch.setattr(app, "read_document", broken)
    with pytest.raises(gr.Error, match=r"article.txt: could not be read \(RuntimeError: the reader broke\)"):
        served.editor.load_file(str(path))
    assert path.exists()  # the user's own file is never deleted (only the page's uploaded copies are)


def test_a_table_that_lost_its_shape_is_restored_with_the_corrections(served: Served) -> None:
    import app
    from tarjama.work import Work

    editor = served.editor
    result = editor.pipeline.run(SHORT, targets=["en", "es"], summarize=False)
    stored = Work(result.to_dict(), "article", "key").to_json()
    en = app.review_table(result, "en")["data"]
    en[1][app.TEXT_COLUMN] = "He added that the minister will attend."
    out = editor.edit_table("en", stored, en)
    stored = out[editor.out.work]
    assert Work.from_json(stored).edits["en"] == {1: "He added that the minister will attend."}
    shown = out[editor.out.tables["en"]]["data"]
    assert shown[1][2] == "✎" and "edited" in shown[1][6].lower()  # settled, said in words

    en[0][app.SOURCE_COLUMN] = "نص آخر"  # a read-only column changed by a client: not this article's row
    with pytest.warns(UserWarning, match="restored, with your corrections"):
        out = editor.edit_table("en", stored, en)
    restored = out[editor.out.tables["en"]]["data"]
    assert len(restored) == 2 and restored[1][app.TEXT_COLUMN] == "He added that the minister will attend."
    assert restored[0][app.SOURCE_COLUMN] != "نص آخر"
    only_one = editor.edit_table("en", out[editor.out.work], [restored[1]])  # a filtered table: one row
    assert Work.from_json(only_one[editor.out.work]).edits["en"] == {1: "He added that the minister will attend."}


# -- safety ---------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_user_text_is_shown_literally_never_run(browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    _run(page, XSS)
    page.wait_for_timeout(500)
    sources = page.locator("#pane-en .tj-src:not(.tj-head)").all_inner_texts()
    assert "<img src=x onerror=alert(1)>" in sources[0]
    assert "<script>alert(2)</script>" in sources[1]
    assert "[الموقع الرسمي للوزارة](javascript:alert(3))" in sources[2]
    assert page.locator('#table-en [data-testid="cell-1-3"]').inner_text().count("<script>alert(2)</script>") == 1
    for pane in ("#pane-en", "#pane-es"):
        assert page.locator(f"{pane} img, {pane} script").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0

    hostile = tmp_path / "<img src=x onerror=alert(4)>.txt"  # a file name is user input too
    hostile.write_text(SHORT, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(hostile)
    assert "src=x onerror=alert(4)" in _toast(page, "onerror=alert(4)")  # Gradio drops < > from upload names
    page.wait_for_timeout(800)
    assert page.locator(".toast-body img").count() == 0
    assert browser.dialogs == []


# -- serving --------------------------------------------------------------------------------------------


def test_translate_endpoint_and_20_concurrent_requests(served: Served) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(served.url, verbose=False)
    one = client.predict(SHORT, "en,es", True, api_name="/translate")
    assert one["schema"] == "tarjama.article/4" and set(one["translations"]) == {"en", "es"}
    assert set(one["summaries"]) == {"ar", "en", "es"}
    with pytest.raises(AppError, match="does not look like Arabic"):
        client.predict("Hello, world.", "en", False, api_name="/translate")

    texts = [f"قال المتحدث إن عدد الزوار بلغ {1000 + i} شخص في اليوم رقم {i}." for i in range(20)]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda t: client.predict(t, "en", False, api_name="/translate"), texts))
    for text, answer in zip(texts, answers):
        assert answer["paragraphs"] == [[text]]  # each answer is its own article, none mixed up
        assert answer["translations"]["en"]["paragraphs"][0][0]["source"] == text


@pytest.mark.browser
def test_no_request_leaves_the_machine(browser_context, served: Served, tmp_path: Path) -> None:
    b = _open(browser_context, served.url)
    try:
        b.page.get_by_text("UN conference calls for migrant women").click()  # the one-click example
        b.page.wait_for_function("() => document.querySelector('#article textarea').value.length > 0")
        assert b.page.input_value("#article textarea") == SEED.read_text(encoding="utf-8")
        b.page.get_by_role("checkbox", name="Summaries").uncheck()
        _run(b.page)
        _download(b.page, "#export-docx", tmp_path / "a.docx")
    finally:
        b.page.close()
    hosts = {urlsplit(u).hostname for u in b.requests if not u.startswith(("data:", "blob:"))}
    assert b.requests and hosts == {"127.0.0.1"}, hosts


def test_serving_defaults(served: Served) -> None:
    import gradio as gr

    import app
    from tarjama.cli import build_parser

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert app.build_parser().parse_args([]).host == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    assert urlsplit(served.url).hostname == "127.0.0.1"
    blocks: gr.Blocks = served.editor.blocks  # type: ignore[attr-defined]
    assert blocks.analytics_enabled is False
    ids = {fn.concurrency_id: fn.concurrency_limit for fn in blocks.fns.values()}
    queue = served.editor.service.queue  # type: ignore[attr-defined]
    assert queue.slots == 1  # one model run at a time; Gradio lets through what the model queue can hold
    assert ids["models"] == queue.slots + queue.max_waiting and ids["edits"] == app.LIGHT_CONCURRENCY


def test_python_app_py_serves_with_the_default_pipeline(models_yaml: Path, tmp_path: Path) -> None:
    """`python app.py` as a user runs it: models loaded and reported before serving, translation memory on."""
    import httpx
    from gradio_client import Client

    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    temp, cache = tmp_path / "temp", tmp_path / "cache"
    temp.mkdir()
    env = {**os.environ, "TARJAMA_MODELS": str(models_yaml), "GRADIO_TEMP_DIR": str(temp), "TARJAMA_CACHE": str(cache)}
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_served(f"http://127.0.0.1:{port}/", proc, timeout=180)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        first, again = (client.predict(SHORT, "en", False, api_name="/translate") for _ in range(2))
        upload = httpx.post(f"http://127.0.0.1:{port}/gradio_api/upload", files={"files": ("a.txt", SHORT.encode())})
        [kept] = upload.json()
        assert Path(kept).is_file() and Path(kept).is_relative_to(temp)  # the page's own temp folder
        assert oct(Path(kept).stat().st_mode & 0o777) == "0o600"  # this user's alone (umask 077)
    finally:
        proc.terminate()  # SIGTERM, as a service manager stops it
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == 0
    assert list(temp.iterdir()) == []  # nothing an editor uploaded or exported outlives the server
    assert (cache / "memory.sqlite").is_file()
    output = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "3 of 3 models loaded" in output and "DEMO" in output
    assert output.index("models loaded") < output.index(f"http://127.0.0.1:{port}")
    sentences = [s for p in again["translations"]["en"]["paragraphs"] for s in p]
    assert all("memory" in s["flags"] for s in sentences)  # the second request came from the memory
    assert [s["text"] for p in first["translations"]["en"]["paragraphs"] for s in p] == [s["text"] for s in sentences]


@pytest.mark.browser
def test_model_not_available_page_still_starts(browser_context, tmp_path: Path) -> None:
    """A hub model that is neither cached nor downloadable: the page starts, says so, and says what to do."""
    models = tmp_path / "models.yaml"
    models.write_text("translation:\n  ar-en: {model: Helsinki-NLP/opus-mt-ar-en, revision: main}\n"
                      "summarization:\n  ar: {model: csebuetnlp/mT5_multilingual_XLSum, revision: main}\n",
                      encoding="utf-8")
    port = _free_port()
    temp, cache = tmp_path / "temp", tmp_path / "cache"
    temp.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "empty-hf-home"), "PYTHONUNBUFFERED": "1",
           "GRADIO_TEMP_DIR": str(temp), "TARJAMA_CACHE": str(cache)}
    env.pop("TARJAMA_MODELS", None)
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "tarjama", "serve", "--port", str(port), "--models", str(models),
                             "--no-memory", "--no-history"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_served(url, proc, timeout=180)
        b = _open(browser_context, url)
        banner = b.page.inner_text("#model-error")
        assert "Helsinki-NLP/opus-mt-ar-en" in banner and "tarjama models pull" in banner
        assert "not available" in b.page.inner_text("#models-table")
        _run_expecting_error(b, SHORT)
        b.page.click("#history .label-wrap")
        b.page.locator("#history", has_text="History is off").wait_for()
        b.page.close()
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == 0 and list(temp.iterdir()) == []
    assert not (cache / "memory.sqlite").exists() and not (cache / "history.sqlite").exists()  # --no-memory/history
    output = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "translation memory off; history off" in output
    assert "0 of 2 models loaded" in output and "tarjama models pull" in output, output[-2000:]


def _run_expecting_error(b: Browser, text: str) -> None:
    b.page.fill("#article textarea", text)
    b.page.click("#run")
    message = _toast(b.page, "not available")
    assert "tarjama models pull" in message and "models.yaml" in message
    b.page.wait_for_timeout(800)
    b.page.screenshot(path=str(ARTIFACTS / "toast-model-not-available.png"))


def _wait_until_served(url: str, proc: subprocess.Popen, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s")
