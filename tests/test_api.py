"""The HTTP API, end to end: a real ``tarjama serve`` process on 127.0.0.1 over the generated models, and real
clients — libretranslatepy and deep-translator from the package index, unmodified; requests shaped exactly as
Mastodon and Weblate send them (docs/libretranslate-compat.md); httpx for everything else.  Nothing in the
HTTP layer is mocked.  The generated models' output is noise: tests check shapes, order, preservation and
errors, never what a translation says."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import REPO, SEED
from test_app import _free_port, browser_context  # noqa: F401
from test_markup import balanced

ARTICLE = SEED.read_text(encoding="utf-8")
SENTENCES = [line.strip() for line in ARTICLE.splitlines() if len(line.strip()) > 60]
SHORT = "عقدت البلدان اجتماعا في العاصمة."
KEY_PLENTY = "plenty-0123456789abcdefABCDEF"
KEY_THREE = "three-a-minute-0123456789abcdef"
KEY_DAILY = "fifty-chars-a-day-0123456789abc"


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def post(self, path: str, **kwargs) -> httpx.Response:
        return httpx.post(self.url + path, timeout=120, **kwargs)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **kwargs)


def _start(tmp: Path, models_yaml: Path, *args: str, host: str | None = None) -> Server:
    port = _free_port()
    (tmp / "gradio").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TARJAMA_CACHE": str(tmp / "cache"),
           "GRADIO_TEMP_DIR": str(tmp / "gradio")}
    log = tmp / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tarjama", "serve", "--models", str(models_yaml), "--port",
                                 str(port), *(["--host", host] if host else []), "--no-memory", "--no-history",
                                 *args],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"tarjama serve exited with {proc.returncode}:\n{server.output()[-3000:]}")
        try:
            if httpx.get(server.url + "/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    pytest.fail(f"tarjama serve did not answer within 180 s:\n{server.output()[-3000:]}")


def _stop(server: Server) -> None:
    server.proc.send_signal(signal.SIGINT)
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="module")
def server(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Open (no keys), bound to 0.0.0.0 so its start-up warning can be checked; small limits to test them."""
    s = _start(tmp_path_factory.mktemp("api"), models_yaml, "--queue-size", "64", "--char-limit", "6000",
               "--batch-limit", "20", "--body-limit", "200000", "--alternatives-limit", "3", host="0.0.0.0")
    yield s
    _stop(s)


@pytest.fixture(scope="module")
def keyed(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Keys required; a queue with no room to wait, so a second model job while one runs gets 503."""
    tmp = tmp_path_factory.mktemp("api-keys")
    keys = tmp / "keys.csv"
    keys.write_text("key,name,requests_per_minute,characters_per_day\n"
                    f"{KEY_PLENTY},plenty,,\n{KEY_THREE},three,3,\n{KEY_DAILY},daily,,50\n", encoding="utf-8")
    keys.chmod(0o600)
    s = _start(tmp, models_yaml, "--api-keys", str(keys), "--require-key", "--queue-size", "0")
    yield s
    _stop(s)


# -- the LibreTranslate clients, unmodified ------------------------------------------------------------------


def test_libretranslatepy(server: Server) -> None:
    from libretranslatepy import LibreTranslateAPI

    lt = LibreTranslateAPI(server.url)
    languages = lt.languages()
    arabic = next(x for x in languages if x["code"] == "ar")
    assert arabic["name"] == "Arabic" and arabic["targets"] == ["en", "es"]
    assert {x["code"] for x in languages} == {"ar", "en", "es"}
    out = lt.translate(SHORT, "ar", "en")
    assert isinstance(out, str) and out.strip()
    detected = lt.detect(SENTENCES[0])
    assert detected[0]["language"] == "ar" and detected[0]["confidence"] >= 90
    assert lt.detect("The conference called for economic empowerment.")[0]["language"] == "en"


def test_deep_translator(server: Server) -> None:
    """deep-translator sends its fields in the query string of a POST with an empty body."""
    from deep_translator import LibreTranslator

    translator = LibreTranslator(source="ar", target="en", api_key="unused", custom_url=server.url + "/")
    out = translator.translate(SHORT)
    assert isinstance(out, str) and out.strip()
    assert out == server.post("/translate", json={"q": SHORT, "source": "ar", "target": "en"}).json()[
        "translatedText"]


MASTODON_STATUS = (
    '<p>{text} <a href="https://social.example/tags/%D8%BA%D8%B2%D8%A9" class="mention hashtag" rel="tag">'
    '#<span>غزة</span></a> <span class="h-card" translate="no"><a href="https://social.example/@editor" '
    'class="u-url mention">@<span>editor</span></a></span> <a href="https://news.example/a?x=1&amp;y=2" '
    'target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">https://</span>'
    '<span class="">news.example/a?x=1&amp;y=2</span><span class="invisible"></span></a> '
    '<span translate="no">:blobcat:</span></p><p>{second}<br>سطر ثان</p>')


def test_mastodon_shaped_request(server: Server) -> None:
    """Mastodon: JSON, q a list (status, escaped spoiler, poll options), source auto, format html, api_key null;
    it maps translatedText by index and reads detectedLanguage[i].language."""
    statuses = [MASTODON_STATUS.format(text=SENTENCES[0], second=SENTENCES[1]), "تحذير: محتوى حساس", "نعم", "لا"]
    languages = server.get("/languages", headers={"Content-Type": "application/json"})
    assert languages.status_code == 200 and "en" in next(x for x in languages.json() if x["code"] == "ar")["targets"]
    r = server.post("/translate", headers={"Content-Type": "application/json"},
                    content=json.dumps({"q": statuses, "source": "auto", "target": "en", "format": "html",
                                        "api_key": None}))
    assert r.status_code == 200, r.text
    data = r.json()
    assert isinstance(data["translatedText"], list) and len(data["translatedText"]) == len(statuses)
    assert [d["language"] for d in data["detectedLanguage"]] == ["ar"] * len(statuses)
    content = data["translatedText"][0]
    for kept in ['<span class="h-card" translate="no"><a href="https://social.example/@editor" '
                 'class="u-url mention">@<span>editor</span></a></span>',
                 '<span class="">news.example/a?x=1&amp;y=2</span>', '<span translate="no">:blobcat:</span>']:
        assert kept in content  # links, mentions and emoji: whole, byte for byte (the hashtag is Arabic: translated)
    assert content.startswith("<p>") and content.endswith("</p>") and content.count("<br>") == 1
    assert balanced(content)


def test_weblate_shaped_request(server: Server) -> None:
    """Weblate: JSON with a list q of up to 20 strings and no format; it indexes translatedText."""
    texts = SENTENCES[:5]
    r = server.post("/translate", json={"api_key": "", "q": texts, "source": "ar", "target": "es"},
                    headers={"Accept": "application/json; charset=utf-8", "Referer": "https://weblate.example/"})
    assert r.status_code == 200 and len(r.json()["translatedText"]) == 5
    assert "detectedLanguage" not in r.json() and "alternatives" not in r.json()


# -- /translate's fields and answers --------------------------------------------------------------------------


def test_three_ways_to_send_fields_give_one_answer(server: Server) -> None:
    fields = {"q": SHORT, "source": "ar", "target": "en"}
    as_json = server.post("/translate", json=fields).json()
    as_form = server.post("/translate", data=fields).json()
    as_query = server.post("/translate", params=fields).json()
    as_multipart = server.post("/translate", data=fields, files={"unused": ("x.txt", b"x")}).json()
    assert as_json == as_form == as_query == as_multipart and set(as_json) == {"translatedText"}


def test_paragraphs_and_line_breaks_are_kept(server: Server) -> None:
    text = f"{SENTENCES[0]}\n{SENTENCES[1]}\n\n  {SENTENCES[2]}\nhttps://example.com/x\n"
    out = server.post("/translate", json={"q": text, "source": "ar", "target": "en"}).json()["translatedText"]
    lines = out.split("\n")
    assert len(lines) == 6 and lines[2] == "" and lines[3].startswith("  ") and lines[5] == ""
    assert lines[4] == "https://example.com/x"  # no Arabic: carried verbatim


def test_alternatives(server: Server) -> None:
    one = server.post("/translate", json={"q": SHORT, "source": "ar", "target": "en", "alternatives": 2}).json()
    assert isinstance(one["alternatives"], list) and len(one["alternatives"]) <= 2
    assert all(isinstance(a, str) and a != one["translatedText"] for a in one["alternatives"])
    assert len(set(one["alternatives"])) == len(one["alternatives"])
    many = server.post("/translate", json={"q": [SHORT, SENTENCES[0]], "source": "ar", "target": "en",
                                           "alternatives": 1}).json()
    assert len(many["alternatives"]) == 2 and all(isinstance(a, list) for a in many["alternatives"])
    html = server.post("/translate", json={"q": f"<p>{SHORT}</p>", "source": "ar", "target": "en", "format": "html",
                                           "alternatives": 2}).json()
    assert html["alternatives"] == []  # as LibreTranslate: none for HTML


def test_detected_language_only_for_auto(server: Server) -> None:
    auto = server.post("/translate", json={"q": SHORT, "source": "auto", "target": "en"}).json()
    assert auto["detectedLanguage"]["language"] == "ar" and 90 <= auto["detectedLanguage"]["confidence"] <= 100
    assert "detectedLanguage" not in server.post("/translate", json={"q": SHORT, "source": "ar", "target": "en"}).json()
    english = server.post("/translate", json={"q": "Hello there, how are you today?", "source": "auto",
                                              "target": "en"})
    assert english.status_code == 400 and english.json() == {"error": "en is not supported"}
    english_html = server.post("/translate", json={"q": "<p>The meeting <b>ended</b> late.</p>", "source": "auto",
                                                   "target": "en", "format": "html"})
    assert english_html.status_code == 400 and english_html.json() == {"error": "en is not supported"}
    digits = server.post("/translate", json={"q": "12345 :)", "source": "auto", "target": "en"}).json()
    assert digits == {"translatedText": "12345 :)", "detectedLanguage": {"confidence": 0.0, "language": "en"}}


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"source": "ar", "target": "en"}, 400, "Invalid request: missing q parameter"),
    ({"q": "", "source": "ar", "target": "en"}, 400, "Invalid request: missing q parameter"),
    ({"q": [], "source": "ar", "target": "en"}, 400, "Invalid request: missing q parameter"),
    ({"q": SHORT, "target": "en"}, 400, "Invalid request: missing source parameter"),
    ({"q": SHORT, "source": "ar"}, 400, "Invalid request: missing target parameter"),
    ({"q": SHORT, "source": "fr", "target": "en"}, 400, "fr is not supported"),
    ({"q": SHORT, "source": "ar", "target": "zz"}, 400, "zz is not supported"),
    ({"q": SHORT, "source": "ar", "target": "ar"}, 400,
     "Arabic (ar) is not available as a target language from Arabic (ar)"),
    ({"q": SHORT, "source": "ar", "target": "en", "format": "pdf"}, 400, "pdf format is not supported"),
    ({"q": SHORT, "source": "ar", "target": "en", "alternatives": "many"}, 400,
     "Invalid request: alternatives parameter is not a number"),
    ({"q": SHORT, "source": "ar", "target": "en", "alternatives": 4}, 400,
     "Invalid request: alternatives parameter must be <= 3"),
    ({"q": [SHORT, 5], "source": "ar", "target": "en"}, 400,
     "Invalid request: q must be a string or a list of strings"),
    ({"q": [SHORT] * 21, "source": "ar", "target": "en"}, 400,
     "Invalid request: request (21 texts) exceeds the batch limit (20, the server's --batch-limit)"),
    ({"q": "ب" * 6001, "source": "ar", "target": "en"}, 400,
     "Invalid request: request (6001 characters) exceeds text limit (6000, the server's --char-limit)"),
    ({"q": ["ب" * 3500, "ب" * 3500], "source": "ar", "target": "en"}, 400,  # the limit is the request's
     "Invalid request: request (7000 characters) exceeds text limit (6000, the server's --char-limit)"),
    ({"q": "\ud800", "source": "ar", "target": "en"}, 400,
     "Invalid request: q holds an unpaired surrogate (not valid Unicode)"),
    ({"q": SHORT, "source": "\udfff", "target": "en"}, 400,
     "Invalid request: source holds an unpaired surrogate (not valid Unicode)"),
    ({"q": SHORT, "source": ["ar"], "target": "en"}, 400, "Invalid request: source must be a string"),
])
def test_translate_errors(server: Server, body: dict, status: int, error: str) -> None:
    r = server.post("/translate", content=json.dumps(body).encode(),  # \u-escaped, lone surrogates too
                    headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()) == (status, {"error": error})
    assert r.headers["content-type"] == "application/json"


@pytest.mark.parametrize(("content", "ctype", "says"), [
    (b'{"q": "x", ', "application/json", "Invalid request: the body is not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", "Invalid request: the body is not valid JSON"),
    (b'{"q": "\\ud800", "source": "ar", "target": "en"}', "application/json",
     "Invalid request: q holds an unpaired surrogate"),
    ('{"q": "نص", "source": "ar", "target": "en", "alternatives": 1e999}'.encode(), "application/json",
     "Invalid request: alternatives parameter is not a number"),
    (b'["q", "x"]', "application/json", "Invalid JSON format"),
    (b"\xff\xfe\xfa", "application/json", "Invalid request: the body is not valid JSON"),
    (b"q=x", "text/plain", "Invalid request: missing q parameter"),
    (b"--xyz\r\nbroken", "multipart/form-data; boundary=xyz", "Invalid request"),
])
def test_malformed_bodies_get_a_json_400(server: Server, content: bytes, ctype: str, says: str) -> None:
    r = server.post("/translate", content=content, headers={"Content-Type": ctype})
    assert r.status_code == 400 and r.json()["error"].startswith(says), r.text


def test_an_oversized_body_gets_413_before_the_route(server: Server) -> None:
    big = json.dumps({"q": "ب" * 150_000, "source": "ar", "target": "en"}).encode()
    r = server.post("/translate", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "over the limit of 200000 bytes" in r.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(30):
            yield b"x" * 10_000

    r = server.post("/translate", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "more than 200000 bytes" in r.json()["error"]


def test_wrong_methods_are_405_and_double_slashes_merge(server: Server) -> None:
    r = server.get("/translate")
    assert r.status_code == 405 and r.json() == {"error": "Method not allowed: use POST"}
    for path in ("/languages", "/health"):  # LibreTranslate's tests assert these
        r = server.post(path)
        assert r.status_code == 405 and r.json() == {"error": "Method not allowed: use GET"}
    # a client configured with a trailing-slash base URL ("http://host:port/" + "/translate")
    r = server.post("//translate", json={"q": SHORT, "source": "ar", "target": "en"})
    assert r.status_code == 200 and r.json()["translatedText"]
    assert server.get("//health").json() == {"status": "ok"}


def test_non_file_in_the_file_field(server: Server) -> None:
    r = server.post("/translate_file", json={"file": {"name": "x.txt"}, "source": "ar", "target": "en"})
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid request: missing file parameter")


# -- HTML ------------------------------------------------------------------------------------------------------


HTML_DOC = (
    '<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{t}</title>'
    '<style>p {{ color: red; }} /* نص */</style>\n'
    '<script>var s = "</p> نص عربي لا يترجم"; if (1 < 2 && s) {{ console.log(s); }}</script></head>\n'
    '<body class="a" data-x=\'1 > 0\'><!-- تعليق يبقى -->\n'
    '<h1 id="t">{t}</h1>\n<p class="lead">{a} <b class="x">{b}</b> &amp; <a href="/x?a=1&amp;b=2">{c}</a>.</p>\n'
    '<pre>كود &lt;لا&gt; يترجم</pre><p>English stays &amp; so do &lt;entities&gt;.</p>\n'
    '<ul><li>{d}</li><li><code>x = 1</code> {e}</li></ul><img src="a.png" alt="صورة"></body></html>')


def test_html_round_trip(server: Server) -> None:
    words = SENTENCES[0].split()
    doc = HTML_DOC.format(t=" ".join(words[:4]), a=" ".join(words[4:8]), b=" ".join(words[8:10]),
                          c=" ".join(words[10:12]), d=SENTENCES[1], e=" ".join(words[12:16]))
    r = server.post("/translate", json={"q": doc, "source": "ar", "target": "en", "format": "html"})
    assert r.status_code == 200, r.text
    out = r.json()["translatedText"]
    assert balanced(out)
    for untouched in ['<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>',
                      '<style>p { color: red; } /* نص */</style>',
                      '<script>var s = "</p> نص عربي لا يترجم"; if (1 < 2 && s) { console.log(s); }</script>',
                      "<body class=\"a\" data-x='1 > 0'><!-- تعليق يبقى -->", '<h1 id="t">',
                      '<p class="lead">', "<pre>كود &lt;لا&gt; يترجم</pre>",
                      "<p>English stays &amp; so do &lt;entities&gt;.</p>", "<ul><li>", "<code>x = 1</code>",
                      '<img src="a.png" alt="صورة"></body></html>']:
        assert untouched in out
    tags = re.findall(r"<[^>]+>", doc)
    kept = re.findall(r"<[^>]+>", out)
    optional = {'<b class="x">', "</b>", '<a href="/x?a=1&amp;b=2">', "</a>"}  # unwrapped if the model drops them
    assert [t for t in kept if t not in optional] == [t for t in tags if t not in optional]


# -- files -------------------------------------------------------------------------------------------------------


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["article.txt", "page.html", "report.docx"])
def test_translate_file_and_download(server: Server, name: str) -> None:
    data = {"article.txt": ("\n\n".join(SENTENCES[:3])).encode(),
            "page.html": f"<html><body><p>{SENTENCES[0]}</p><p>{SENTENCES[1]}</p></body></html>".encode(),
            "report.docx": _docx(SENTENCES[:3])}[name]
    r = server.post("/translate_file", data={"source": "ar", "target": "en"}, files={"file": (name, data)})
    assert r.status_code == 200, r.text
    url = r.json()["translatedFileUrl"]
    assert url.startswith(server.url + "/download_file/") and url.endswith(name.replace(".", "_en."))
    got = httpx.get(url, timeout=30)
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    if name.endswith(".docx"):
        import docx

        paragraphs = [p.text for p in docx.Document(io.BytesIO(got.content)).paragraphs]
        assert len(paragraphs) == 3 and all(p.strip() for p in paragraphs) and paragraphs != SENTENCES[:3]
    elif name.endswith(".txt"):
        assert got.content.decode("utf-8").count("\n\n") == 2
    else:
        assert got.content.decode("utf-8").count("<p>") == 2


@pytest.mark.parametrize(("files", "fields", "status", "says"), [
    (None, {"source": "ar", "target": "en"}, 400, "Invalid request: missing file parameter"),
    ({"file": ("a.pdf", b"%PDF-1.4")}, {"source": "ar", "target": "en"}, 400,
     "a.pdf: '.pdf' files are not supported for file translation; send one of .txt .md .html .htm .docx"),
    ({"file": ("a.txt", b"\x89PNG\r\n\x1a\n" + bytes(200))}, {"source": "ar", "target": "en"}, 400, "a.txt"),
    ({"file": ("a.docx", b"not a zip")}, {"source": "ar", "target": "en"}, 400, "a.docx"),
    ({"file": ("a.txt", SHORT.encode())}, {"source": "ar"}, 400, "Invalid request: missing target parameter"),
    ({"file": ("a.txt", SHORT.encode())}, {"source": "ar", "target": "xx"}, 400, "xx is not supported"),
])
def test_translate_file_errors(server: Server, files, fields: dict, status: int, says: str) -> None:
    r = server.post("/translate_file", data=fields, files=files or {"other": ("x.txt", b"x")})
    assert r.status_code == status and r.json()["error"].startswith(says), r.text


@pytest.mark.parametrize(("name", "status", "says"), [
    ("0123.x_en.txt", 400, "Invalid filename"),          # not a name the server makes
    ("..%2F..%2Fetc%2Fpasswd", 400, "Invalid filename"),
    ("..%5Cwin.ini", 400, "Invalid filename"),
    ("9b2f4c1e8a7d4e5fb3c2a1d0e9f8a7b6.a_en.txt", 404, "File not found: unknown, or expired"),
])
def test_download_refusals(server: Server, name: str, status: int, says: str) -> None:
    r = server.get("/download_file/" + name)
    assert r.status_code == status and r.json()["error"].startswith(says), r.text


# -- the rest of LibreTranslate's routes, and the native ones ----------------------------------------------------


def test_health_settings_and_detect(server: Server) -> None:
    assert server.get("/health").json() == {"status": "ok"}
    settings = server.get("/frontend/settings").json()
    assert settings["charLimit"] == 6000 and settings["apiKeys"] is False and settings["filesTranslation"] is True
    assert ".docx" in settings["supportedFilesFormat"] and settings["language"]["source"]["code"] == "auto"
    found = server.post("/detect", data={"q": SENTENCES[0]}).json()
    assert found[0] == {"confidence": found[0]["confidence"], "language": "ar"} and found[0]["confidence"] >= 90
    assert server.post("/detect", json={}).json() == {"error": "Invalid request: missing q parameter"}


def test_native_article_endpoint(server: Server) -> None:
    import jsonschema

    from tarjama.server.api import article_schema

    body = {"text": ARTICLE, "targets": ["en"], "summary": True,
            "glossary": [{"ar": "المنظمة الدولية للهجرة", "en": "IOM"}]}
    r = server.post("/v1/articles", json=body)
    assert r.status_code == 200, r.text
    result = r.json()
    jsonschema.validate(result, article_schema())
    assert set(result["translations"]) == {"en"} and set(result["summaries"]) == {"ar", "en"}
    assert any(g["term"] == "المنظمة الدولية للهجرة" and g["target"] == "IOM"
               for p in result["translations"]["en"]["paragraphs"] for s in p for g in s["glossary"])
    for bad, says in [({"text": "Hello world, this is English."}, "does not look like Arabic"),
                      ({"text": ARTICLE, "targets": ["zz"]}, "zz is not supported"),
                      ({"text": ARTICLE, "glossary": [{"en": "x"}]}, "Invalid request"),
                      ({"targets": ["en"]}, "Invalid request: text: Field required"),
                      ({"text": 5}, "Invalid request: text")]:
        r = server.post("/v1/articles", json=bad)
        assert r.status_code == 400 and says in r.json()["error"], r.text


def test_models_openapi_and_docs(server: Server) -> None:
    models = server.get("/v1/models").json()
    assert {m["key"] for m in models["models"]} == {"ar-en", "ar-es", "ar"} and models["demo"] is True
    assert all(m["status"] == "loaded" and m["license"] for m in models["models"])
    spec = server.get("/openapi.json").json()
    routes = {"/translate", "/detect", "/languages", "/translate_file", "/v1/articles", "/v1/models"}
    assert routes <= set(spec["paths"])
    assert not any(p.startswith("/gradio_api") for p in spec["paths"])
    assert spec["paths"]["/translate"]["post"]["responses"]["400"]
    docs = server.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', docs.text):
        assert server.get(asset).status_code == 200, asset
    assert "cdn.jsdelivr" not in docs.text


@pytest.mark.browser
def test_docs_render_in_a_browser_under_the_csp(browser_context, server: Server) -> None:  # noqa: F811
    """Swagger UI at /docs runs in real Chromium with the page's Content-Security-Policy: its script is
    this server's own, its inline start-up script allowed by hash; no request leaves the machine."""
    page = browser_context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url + "/docs")
    page.locator(".opblock-summary-path", has_text="/translate").first.wait_for(timeout=30_000)
    assert page.locator(".opblock").count() >= 9
    assert all(r.startswith(server.url) for r in requests), requests
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.close()


# -- security -------------------------------------------------------------------------------------------------


def test_the_page_protections_cover_the_api(server: Server) -> None:
    evil_host = server.post("/translate", json={"q": SHORT, "source": "ar", "target": "en"},
                            headers={"Host": "evil.example"})
    assert evil_host.status_code == 400 and evil_host.json()["error"].startswith("Host not allowed")
    foreign = server.post("/translate", json={"q": SHORT, "source": "ar", "target": "en"},
                          headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["error"].startswith("Cross-origin request refused")
    ok = server.post("/translate", json={"q": SHORT, "source": "ar", "target": "en"})
    assert ok.headers["x-content-type-options"] == "nosniff" and "set-cookie" not in ok.headers
    assert "access-control-allow-origin" not in ok.headers  # CORS off by default
    assert "warning: --host 0.0.0.0 opens the API to the network with no API keys" in server.output()


def test_cors_and_a_model_that_fails(models_yaml: Path, tmp_path: Path) -> None:
    """A second server: CORS opened for one origin; its ar-es model folder is missing, so es requests fail
    with a 500 that says which model and why (the rest keeps serving)."""
    broken = tmp_path / "models.yaml"
    text = models_yaml.read_text(encoding="utf-8").replace("model: opus-mt-ar-es", f"model: {tmp_path / 'gone'}")
    text = re.sub(r"model: (opus-mt-ar-en|mt5-xlsum)", lambda m: f"model: {models_yaml.parent / m[1]}", text)
    broken.write_text(text, encoding="utf-8")
    s = _start(tmp_path, broken, "--cors-origins", "https://cms.example")
    try:
        failed = s.post("/translate", json={"q": SHORT, "source": "ar", "target": "es"})
        assert failed.status_code == 500 and failed.json()["error"].startswith(
            f"Translating into es ({tmp_path / 'gone'}) failed: model not available"), failed.text
        assert s.post("/translate", json={"q": SHORT, "source": "ar", "target": "en"}).status_code == 200
        statuses = {m["key"]: m["status"] for m in s.get("/v1/models").json()["models"]}
        assert statuses == {"ar-en": "loaded", "ar-es": "not available", "ar": "loaded"}
        pre = httpx.options(s.url + "/translate", headers={
            "Origin": "https://cms.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "https://cms.example"
        r = s.post("/detect", json={"q": SHORT}, headers={"Origin": "https://cms.example"})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://cms.example"
        assert s.post("/detect", json={"q": SHORT}, headers={"Origin": "https://other.example"}).status_code == 403
        assert "serving the page and the API on http://127.0.0.1:" in s.output()  # the default address
        assert "warning: --host" not in s.output()
    finally:
        _stop(s)


# -- keys, limits, the queue ---------------------------------------------------------------------------------


def test_keys_as_libretranslate(keyed: Server) -> None:
    fields = {"q": SHORT, "source": "ar", "target": "en"}
    no_key = keyed.post("/translate", json=fields)
    assert (no_key.status_code, no_key.json()) == (400, {"error": "Please contact the server operator to get an "
                                                                  "API key"})
    bad = keyed.post("/translate", json={**fields, "api_key": "not-a-key-at-all-123456"})
    assert (bad.status_code, bad.json()) == (403, {"error": "Invalid API key"})
    assert keyed.post("/translate", json={**fields, "api_key": KEY_PLENTY}).status_code == 200
    assert keyed.post("/translate", data={**fields, "api_key": KEY_PLENTY}).status_code == 200
    assert keyed.post("/translate", json=fields, headers={"Authorization": f"Bearer {KEY_PLENTY}"}).status_code == 200
    assert keyed.get("/languages").status_code == 200  # no key needed to list, as LibreTranslate
    assert keyed.get("/frontend/settings").json()["keyRequired"] is True


def test_per_minute_limit_is_429_with_retry_after(keyed: Server) -> None:
    fields = {"q": "بيان.", "source": "ar", "target": "en", "api_key": KEY_THREE}
    assert [keyed.post("/translate", json=fields).status_code for _ in range(3)] == [200, 200, 200]
    over = keyed.post("/translate", json=fields)
    assert over.status_code == 429 and over.json() == {"error": "Slowdown: 3 per 1 minute"}
    assert 1 <= int(over.headers["retry-after"]) <= 60


def test_characters_per_day_limit(keyed: Server) -> None:
    fields = {"source": "ar", "target": "en", "api_key": KEY_DAILY}
    assert keyed.post("/translate", json={**fields, "q": "ب" * 40}).status_code == 200
    over = keyed.post("/translate", json={**fields, "q": "ب" * 20})
    assert over.status_code == 429 and "50 characters per 1 day" in over.json()["error"]
    assert int(over.headers["retry-after"]) >= 1


def test_a_full_queue_answers_503_with_retry_after(keyed: Server) -> None:
    """--queue-size 0: while one model job runs, the next is refused at once instead of waiting."""
    long = {"text": "\n\n".join([ARTICLE] * 3), "summary": True, "api_key": KEY_PLENTY}
    results: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: results.append(keyed.post("/v1/articles", json=long)))
    worker.start()
    deadline = time.monotonic() + 60
    while keyed.get("/v1/models").json()["queue"]["running"] == 0:
        assert worker.is_alive() and time.monotonic() < deadline, "the long job never started"
        time.sleep(0.02)
    busy = keyed.post("/translate", json={"q": SHORT, "source": "ar", "target": "en", "api_key": KEY_PLENTY})
    worker.join(300)
    assert busy.status_code == 503 and busy.json()["error"].startswith("Service unavailable: the server is busy")
    assert int(busy.headers["retry-after"]) >= 1
    assert results[0].status_code == 200  # the running job was not disturbed


def test_the_pages_api_needs_a_key_too(keyed: Server) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Please contact the server operator"):
        Client(keyed.url + "/", verbose=False).predict(SHORT, "en", False, api_name="/translate")
    client = Client(keyed.url + "/", verbose=False, headers={"Authorization": f"Bearer {KEY_PLENTY}"})
    assert client.predict(SHORT, "en", False, api_name="/translate")["paragraphs"] == [[SHORT]]


def test_a_batch_over_the_per_minute_limit_is_400_not_a_retry(keyed: Server) -> None:
    r = keyed.post("/translate", json={"q": ["بيان."] * 4, "source": "ar", "target": "en", "api_key": KEY_THREE})
    assert r.status_code == 400 and "more than the 3 a minute allowed" in r.json()["error"]


def test_keys_are_never_logged(keyed: Server) -> None:
    keyed.post("/translate", json={"q": SHORT, "source": "ar", "target": "en", "api_key": "wrong-key-9876543210"})
    keyed.post("/translate", params={"q": SHORT, "source": "ar", "target": "en", "api_key": KEY_PLENTY})
    keyed.post("/detect", data={"q": SHORT}, headers={"Authorization": f"Bearer {KEY_DAILY}"})
    keyed.post("/translate", json={"q": SHORT, "source": "ar", "target": "en"},
               headers={"Authorization": "Bearer wrong-bearer-0123456789"})
    log = keyed.output()
    assert "API keys: 3 from" in log and "a key is required" in log
    for key in (KEY_PLENTY, KEY_THREE, KEY_DAILY, "wrong-key-9876543210", "wrong-bearer-0123456789"):
        assert key not in log


# -- 40 at once -------------------------------------------------------------------------------------------------


def test_40_concurrent_requests_across_api_and_page(server: Server) -> None:
    """/translate, /v1/articles and the page's own API at once: every answer is the one that request gets
    alone (the generated models are deterministic), so none was mixed up with another."""
    from gradio_client import Client

    texts = [f"قال المتحدث إن عدد الزوار بلغ {1000 + i} شخص في اليوم رقم {i}." for i in range(40)]
    client = Client(server.url + "/", verbose=False)

    def call(i: int) -> object:
        kind = i % 3
        if kind == 0:
            return server.post("/translate", json={"q": texts[i], "source": "ar", "target": "en"}).json()
        if kind == 1:
            result = server.post("/v1/articles", json={"text": texts[i], "targets": ["es"], "summary": False}).json()
            return result["paragraphs"], [s["text"] for p in result["translations"]["es"]["paragraphs"] for s in p]
        result = client.predict(texts[i], "en", False, api_name="/translate")
        return result["paragraphs"], [s["text"] for p in result["translations"]["en"]["paragraphs"] for s in p]

    alone = [call(i) for i in range(0, 40, 7)]  # a sample of each kind, one at a time
    with ThreadPoolExecutor(40) as pool:
        together = list(pool.map(call, range(40)))
    assert [together[i] for i in range(0, 40, 7)] == alone
    for i, answer in enumerate(together):
        if i % 3:
            assert answer[0] == [[texts[i]]]
        else:
            assert isinstance(answer["translatedText"], str)


# -- schemathesis -------------------------------------------------------------------------------------------------


def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(server: Server, tmp_path: Path) -> None:
    """schemathesis, from the package index, against /openapi.json: examples and fuzzing (bounded), every API
    route; no 5xx, and every response matches the schema documented for its status."""
    pytest.importorskip("schemathesis", reason="schemathesis needs Python >= 3.11")
    cmd = [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
           "run", server.url + "/openapi.json", "--checks", "not_a_server_error,response_schema_conformance",
           "--phases", "examples,fuzzing", "--max-examples", "25", "--seed", "1", "--request-timeout", "60",
           "--workers", "1", "--no-color"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=420, cwd=tmp_path,
                          env={**os.environ, "NO_COLOR": "1"})
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    assert re.search(r"Tested: 9\b", report) and re.search(r"\d+ generated, \d+ passed", report), report[-3000:]
