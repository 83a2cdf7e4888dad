"""The page is safe to open to a newsroom: each item of the issue as a real request to the real page
(uvicorn on 127.0.0.1, the security layer in front of Gradio) that must be refused or must carry what
it should.  The layer itself is tested table by table in tests/test_security.py."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from test_app import RUN_TIMEOUT_MS, SHORT, Browser, Served, _free_port, _open, browser_context  # noqa: F401


@pytest.fixture(scope="module")
def served(models_yaml: Path) -> Iterator[Served]:
    import app
    from tarjama.pipeline import Pipeline

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TARJAMA_MODELS", str(models_yaml))
        editor = app.EditorApp(Pipeline.from_config(memory=None))
        running = app.launch(editor.build(), port=_free_port(), block=False, allowed_hosts=["tarjama.newsroom.lan"])
    yield Served(running.url, editor)
    running.close()


def _get(url: str, **kw) -> httpx.Response:
    return httpx.get(url, timeout=30, **kw)


def _port(served: Served) -> int:
    return urlsplit(served.url).port or 80


@pytest.mark.parametrize(("host", "status"), [
    ("attacker.example", 400),           # DNS rebinding: a page that rebinds its name to 127.0.0.1
    ("attacker.example:{port}", 400),
    ("127.0.0.1:{port}", 200),
    ("localhost:{port}", 200),
    ("tarjama.newsroom.lan:{port}", 200),  # --allowed-hosts
])
def test_the_host_header_must_name_this_server(served: Served, host: str, status: int) -> None:
    response = _get(served.url, headers={"Host": host.format(port=_port(served))})
    assert response.status_code == status
    if status == 400:
        assert "Host not allowed" in response.text and "gradio" not in response.text.lower()


def test_cross_origin_uploads_and_calls_are_refused(served: Served) -> None:
    files = {"files": ("a.txt", "قال المتحدث إن الاجتماع سيعقد.".encode())}
    evil = httpx.post(served.url + "gradio_api/upload", files=files, headers={"Origin": "http://evil.example"},
                      timeout=30)
    assert evil.status_code == 403
    same = httpx.post(served.url + "gradio_api/upload", files=files, headers={"Origin": served.url.rstrip("/")},
                      timeout=30)
    assert same.status_code == 200
    join = httpx.post(served.url + "gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"},
                      headers={"Origin": "https://evil.example"}, timeout=30)
    assert join.status_code == 403
    assert "access-control-allow-origin" not in {k.lower() for k in evil.headers}


@pytest.mark.parametrize("path", ["gradio_api/call/page_translate", "gradio_api/run/page_translate",
                                  "gradio_api/api/page_start", "gradio_api/call/v2/page_translate"])
def test_the_pages_internal_endpoints_are_not_an_api(served: Served, path: str) -> None:
    response = httpx.post(served.url + path, json={"data": [None, None, None]}, timeout=30)
    assert response.status_code == 404


def test_the_public_api_still_answers(served: Served) -> None:
    response = httpx.post(served.url + "gradio_api/call/translate", json={"data": [SHORT, "en", False]}, timeout=30)
    assert response.status_code == 200 and response.json().get("event_id")


def test_every_response_carries_the_security_headers(served: Served) -> None:
    for url in (served.url, served.url + "config", served.url + "tarjama/page.js"):
        headers = _get(url).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    page = _get(served.url)
    assert "sha256-" in page.headers["content-security-policy"]  # Gradio's own inline scripts, hashed
    cookie = page.headers["set-cookie"]
    assert "tarjama_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


@pytest.fixture
def browser(browser_context, served: Served) -> Iterator[Browser]:  # noqa: F811
    b = _open(browser_context, served.url)
    yield b
    if not b.page.is_closed():
        b.page.close()


def _export_url(page, selector: str) -> str:
    href = page.locator(f"{selector} a, a{selector}").first.get_attribute("href") \
        if page.locator(f"{selector} a, a{selector}").count() else None
    if href:
        return href
    with page.expect_download() as info:
        page.click(selector)
    return info.value.url


@pytest.mark.browser
def test_exports_are_for_their_session_private_and_go_with_it(browser: Browser, served: Served) -> None:
    page = browser.page
    page.fill("#article textarea", SHORT)
    page.get_by_role("checkbox", name="Summaries").uncheck()
    page.click("#run")
    page.locator("#run-status", has_text="Done").wait_for(timeout=RUN_TIMEOUT_MS)
    url = _export_url(page, "#export-json")
    url = url if url.startswith("http") else served.url + url.lstrip("/")
    cookie = {c["name"]: c["value"] for c in page.context.cookies()}["tarjama_session"]
    assert _get(url, cookies={"tarjama_session": cookie}).status_code == 200  # its own session
    assert _get(url).status_code == 404  # anyone else who has the URL
    assert _get(url, cookies={"tarjama_session": "another-browser-session-token-0123456789"}).status_code == 404

    path = Path(unquote(url.split("file=", 1)[1]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    page.close()  # the tab closes: its page session's exports are deleted
    deadline = time.monotonic() + 30
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not path.exists()


def test_an_export_older_than_an_hour_is_gone(served: Served) -> None:
    import app

    store = served.editor.exports
    [path] = store.write("owner-a", "session-1", {"a.md": b"x"})
    assert store.allowed(str(path), "owner-a") and not store.allowed(str(path), "owner-b")
    old = time.time() - app.EXPORT_MAX_AGE_S - 1
    os.utime(path, (old, old))
    assert not store.allowed(str(path), "owner-a") and not path.exists()
    assert store.allowed("/usr/share/anything-else", None)  # not an export: Gradio's own checks apply


def test_serve_options_are_one_table_for_both_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app
    from tarjama.cli import build_parser

    page = app.build_parser().parse_args(["--allowed-hosts", "a.lan, b.lan", "--cors-origins", "https://cms.lan",
                                          "--memory-days", "30", "--history", "7"])
    cli = build_parser().parse_args(["serve", "--allowed-hosts", "a.lan, b.lan", "--cors-origins", "https://cms.lan",
                                     "--memory-days", "30", "--history", "7"])
    for name in ("host", "port", "allowed_hosts", "cors_origins", "memory", "memory_days", "history"):
        assert getattr(page, name) == getattr(cli, name), name
    assert page.allowed_hosts == ["a.lan", "b.lan"] and page.history == 7
    assert app.build_parser().parse_args(["--no-history"]).history == 0
    assert app.build_parser().parse_args([]).history == 50
    for bad in (["--memory-days", "0"], ["--memory-days", "-1"], ["--history", "-1"]):
        with pytest.raises(SystemExit):
            app.build_parser().parse_args(bad)
    monkeypatch.setenv("TARJAMA_CACHE", str(tmp_path))
    memory = app._memory(page)
    assert memory.max_age_days == 30 and Path(memory.path).parent == tmp_path
    assert app._memory(app.build_parser().parse_args(["--no-memory"])) is None
