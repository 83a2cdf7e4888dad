"""tarjama.server.security against a real server: a tiny Starlette app wrapped in SecurityMiddleware, served
by uvicorn on a free port of 127.0.0.1 and asked over real sockets (httpx), plus real chromium for the CSP.

Websockets are checked in-process (Starlette's TestClient speaks the ASGI websocket protocol): this venv has
neither `websockets` nor `wsproto`, without which uvicorn answers an upgrade as plain HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket
from test_app import CHROMIUM, CHROMIUM_ARGS, _free_port

from tarjama.server import SESSION_COOKIE, SecurityMiddleware, SecurityPolicy, inline_script_hashes, session_of

CMS = "https://cms.example"
WS_URL = "ws://127.0.0.1:8000/ws"  # the in-process websocket tests' server
BLOCKED = (r"/gradio_api/(call|run|api)/page_.*",)
TOKEN = "A" * 43  # a well-formed session token (secrets.token_urlsafe(32) is 43 url-safe characters)
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>csp</title>
<script>
  window.first = true; window.violations = [];
  document.addEventListener("securitypolicyviolation", e => window.violations.push(e.violatedDirective));
</script>
<script src="/ext.js"></script>
</head><body><p id="x">page</p>
<script>
  window.second = true;
  const s = document.createElement("script");
  s.textContent = "window.injected = true;";
  document.head.appendChild(s);
</script>
<img src="/nothing.png" onerror="window.handler = true">
</body></html>
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


EXPECTED_HASHES = {_sha256(t) for t in re.findall(r"<script>(.*?)</script>", PAGE, re.S)}


# -- the app under the middleware ------------------------------------------------------------------------


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def streamed(request: Request) -> Response:
    """The page in many chunks, without Content-Length: the middleware must buffer it whole."""
    async def chunks():
        for i in range(0, len(PAGE), 50):
            yield PAGE[i:i + 50].encode()
    return StreamingResponse(chunks(), media_type="text/html")


async def ext(request: Request) -> Response:
    return Response("window.external_ok = true;", media_type="text/javascript")


async def whoami(request: Request) -> Response:
    """What the inner app sees of the session: Gradio's handlers read request.cookies."""
    return JSONResponse({"cookies": dict(request.cookies), "state": request.state.tarjama_session,
                         "accept_encoding": request.headers.get("accept-encoding")})


async def endpoint(request: Request) -> Response:
    """Like Gradio's: permissive CORS headers of its own, which the middleware must strip."""
    return JSONResponse({"name": request.path_params["name"]},
                        headers={"access-control-allow-origin": "*", "access-control-allow-credentials": "true"})


async def file(request: Request) -> Response:
    return PlainTextResponse(request.path_params["path"])


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"state": websocket.scope["state"][SESSION_COOKIE],
                               "cookie": websocket.cookies.get(SESSION_COOKIE)})
    await websocket.close()


INNER = Starlette(routes=[
    Route("/", page), Route("/streamed", streamed), Route("/ext.js", ext),
    Route("/upload", whoami, methods=["GET", "POST"]),
    Route("/gradio_api/{kind}/{name}", endpoint, methods=["GET", "POST"]),
    Route("/mount/gradio_api/{kind}/{name}", endpoint, methods=["GET", "POST"]),
    Route("/gradio_api/file={path:path}", file), Route("/gradio_api/file/{path:path}", file),
    WebSocketRoute("/ws", socket),
])


@dataclass
class Guard:
    """The file guard app.py will implement: here, a session owns everything under /x/."""

    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def __call__(self, path: str, session: str | None) -> bool:
        self.calls.append((path, session))
        return session is not None and path.startswith("/x/")


@dataclass
class Served:
    url: str
    port: int
    guard: Guard

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


def _wrapped(port: int, guard: Guard) -> SecurityMiddleware:
    policy = SecurityPolicy.for_address("127.0.0.1", port, cors_origins=(CMS,), blocked_paths=BLOCKED)
    return SecurityMiddleware(GZipMiddleware(INNER, minimum_size=10), policy, file_guard=guard)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    port, guard = _free_port(), Guard()
    config = uvicorn.Config(_wrapped(port, guard), host="127.0.0.1", port=port, lifespan="off", log_level="warning",
                            proxy_headers=True, forwarded_allow_ips="127.0.0.1")  # X-Forwarded-Proto: https tested
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", port, guard)
    server.should_exit = True
    thread.join(10)


def _get(served: Served, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    filled = {k: v.format(port=served.port) for k, v in headers.items()}
    with served.client() as client:
        return client.request(method, path, headers=filled)


# -- what gets through --------------------------------------------------------------------------------------

PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
CASES = [
    ("host-attacker", "GET", "/", {"host": "attacker.example"}, 400),
    ("host-attacker-port", "GET", "/", {"host": "attacker.example:{port}"}, 400),
    ("host-localhost", "GET", "/", {"host": "localhost:{port}"}, 200),
    ("host-localhost-uppercase", "GET", "/", {"host": "LocalHost:{port}"}, 200),
    ("host-127", "GET", "/", {}, 200),
    ("host-other-port", "GET", "/", {"host": "localhost:1"}, 400),
    ("post-cross-origin", "POST", "/upload", {"origin": "http://evil.example"}, 403),
    ("post-other-port", "POST", "/upload", {"origin": "http://127.0.0.1:1"}, 403),
    ("post-other-scheme", "POST", "/upload", {"origin": "https://127.0.0.1:{port}"}, 403),
    ("post-same-origin", "POST", "/upload", {"origin": "http://127.0.0.1:{port}"}, 200),
    ("post-same-origin-localhost", "POST", "/upload", {"host": "localhost:{port}", "origin": "http://localhost:{port}"},
     200),
    ("post-no-origin", "POST", "/upload", {}, 200),
    ("post-null-origin", "POST", "/upload", {"origin": "null"}, 403),
    ("post-cors-origin", "POST", "/upload", {"origin": CMS}, 200),
    ("post-cross-site-no-origin", "POST", "/upload", {"sec-fetch-site": "cross-site"}, 403),
    ("post-cross-site-cors-origin", "POST", "/upload", {"sec-fetch-site": "cross-site", "origin": CMS}, 200),
    ("post-same-origin-fetch", "POST", "/upload", {"sec-fetch-site": "same-origin",
                                                  "origin": "http://127.0.0.1:{port}"}, 200),
    ("get-cross-origin", "GET", "/upload", {"origin": "http://evil.example"}, 200),
    ("blocked-call", "POST", "/gradio_api/call/page_translate", {}, 404),
    ("blocked-call-get", "GET", "/gradio_api/call/page_translate", {}, 404),
    ("blocked-run", "POST", "/gradio_api/run/page_translate", {}, 404),
    ("blocked-api", "POST", "/gradio_api/api/page_edit_en", {}, 404),
    ("blocked-percent-encoded", "POST", "/gradio_api/call/page%5Ftranslate", {}, 404),
    ("blocked-under-mount", "POST", "/mount/gradio_api/call/page_translate", {}, 404),
    ("public-call", "POST", "/gradio_api/call/translate", {}, 200),
    ("public-run", "POST", "/gradio_api/run/translate", {}, 200),
    ("public-under-mount", "POST", "/mount/gradio_api/call/translate", {}, 200),
    ("preflight-cors-origin", "OPTIONS", "/gradio_api/call/translate", {"origin": CMS, **PREFLIGHT}, 204),
    ("preflight-cross-origin", "OPTIONS", "/gradio_api/call/translate", {"origin": "http://evil.example", **PREFLIGHT},
     403),
    ("file-no-session", "GET", "/gradio_api/file=/x/y.txt", {}, 404),
    ("file-session", "GET", "/gradio_api/file=/x/y.txt", {"cookie": f"{SESSION_COOKIE}={TOKEN}"}, 200),
    ("file-not-owned", "GET", "/gradio_api/file=/etc/passwd", {"cookie": f"{SESSION_COOKIE}={TOKEN}"}, 404),
    ("file-deprecated-route", "GET", "/gradio_api/file//etc/passwd", {"cookie": f"{SESSION_COOKIE}={TOKEN}"}, 404),
    ("file-bad-session", "GET", "/gradio_api/file=/x/y.txt", {"cookie": f"{SESSION_COOKIE}=short"}, 404),
]


@pytest.mark.parametrize(("method", "path", "headers", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_what_gets_through(served: Served, method: str, path: str, headers: dict[str, str], status: int) -> None:
    response = _get(served, method, path, headers)
    assert response.status_code == status, response.text
    if status in (400, 403, 404):
        assert response.headers["content-type"].startswith("text/plain")
    if status == 400:
        assert response.text.startswith("Host not allowed: ")
    if status == 404:
        assert response.text == "Not found"
    if status == 403:
        assert response.text.startswith("Cross-origin request refused: ")


@pytest.mark.parametrize(("method", "path", "headers", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_security_headers_on_every_response(served: Served, method: str, path: str, headers: dict[str, str],
                                            status: int) -> None:
    response = _get(served, method, path, headers)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    csp = _csp(response)
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["default-src"] == ["'self'"]


def _csp(response: httpx.Response) -> dict[str, list[str]]:
    directives = [d.split() for d in response.headers["content-security-policy"].split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


# -- CORS --------------------------------------------------------------------------------------------------


def test_cors_only_for_the_allowed_origin(served: Served) -> None:
    allowed = _get(served, "POST", "/gradio_api/call/translate", {"origin": CMS})
    assert allowed.headers["access-control-allow-origin"] == CMS
    assert "access-control-allow-credentials" not in allowed.headers  # the app's own CORS headers are gone
    assert "Origin" in allowed.headers["vary"]
    for origin in ("http://evil.example", "http://localhost:3000", "null"):
        refused = _get(served, "GET", "/gradio_api/call/translate", {"origin": origin})
        assert refused.status_code == 200
        assert not [h for h in refused.headers if h.lower().startswith("access-control-")], refused.headers
    plain = _get(served, "GET", "/gradio_api/call/translate", {})
    assert not [h for h in plain.headers if h.lower().startswith("access-control-")]


def test_preflight_answer(served: Served) -> None:
    response = _get(served, "OPTIONS", "/gradio_api/call/translate",
                    {"origin": CMS, "access-control-request-method": "POST",
                     "access-control-request-headers": "content-type, x-custom"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == CMS
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "content-type, x-custom"
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["vary"] == "Origin"
    refused = _get(served, "OPTIONS", "/gradio_api/call/translate",
                   {"origin": "http://evil.example", "access-control-request-method": "POST"})
    assert not [h for h in refused.headers if h.lower().startswith("access-control-")]


# -- the CSP's script hashes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "encoding"), [("/", "identity"), ("/", "gzip"), ("/streamed", "identity"),
                                                 ("/streamed", "gzip")])
def test_csp_hashes_the_inline_scripts(served: Served, path: str, encoding: str) -> None:
    with served.client() as client:
        response = client.get(path, headers={"accept-encoding": encoding})
    assert response.status_code == 200
    assert response.headers.get("content-encoding", "identity") == encoding
    assert response.text == PAGE
    assert int(response.headers["content-length"]) == response.num_bytes_downloaded
    script_src = _csp(response)["script-src"]
    assert script_src[0] == "'self'"
    assert set(script_src[1:]) == EXPECTED_HASHES and len(EXPECTED_HASHES) == 2
    assert set(inline_script_hashes(PAGE)) == EXPECTED_HASHES
    assert f"ws://127.0.0.1:{served.port}" in _csp(response)["connect-src"]


def test_streamed_html_gets_its_content_length(served: Served) -> None:
    with served.client() as client, client.stream("GET", "/streamed", headers={"accept-encoding": "identity"}) as r:
        body = r.read()
        assert r.headers["content-length"] == str(len(body))
        assert "transfer-encoding" not in r.headers


def test_navigations_are_asked_in_encodings_the_middleware_can_read(served: Served) -> None:
    """br and zstd would leave the page's HTML unreadable, so its scripts unhashed; assets keep them."""
    page = _get(served, "GET", "/upload", {"accept": "text/html,*/*", "accept-encoding": "gzip, deflate, br, zstd"})
    assert page.json()["accept_encoding"].replace(" ", "") == "gzip,deflate"
    asset = _get(served, "GET", "/upload", {"accept": "*/*", "accept-encoding": "gzip, br"})
    assert asset.json()["accept_encoding"] == "gzip, br"


def test_inline_script_hashes_follow_the_browsers_parser() -> None:
    html = ('<script type="module">\r\nlet a = "&amp;";\r\n</script><script src="x.js">ignored</script>'
            '<SCRIPT data-x="a>b">b()</SCRIPT><script>b()</script><script></script>')
    assert inline_script_hashes(html) == (_sha256('\nlet a = "&amp;";\n'), _sha256("b()"), _sha256(""))


# -- the session cookie -------------------------------------------------------------------------------------


def _set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def test_session_cookie_set_once_and_seen_by_the_app_at_once(served: Served) -> None:
    first = _get(served, "POST", "/upload", {"cookie": "a=1; b=2"})
    [cookie] = _set_cookies(first)
    token = cookie.split(";")[0].removeprefix(f"{SESSION_COOKIE}=")
    attributes = {a.strip() for a in cookie.split(";")[1:]}
    assert attributes == {"HttpOnly", "SameSite=Strict", "Path=/"}
    assert len(token) >= 32 and session_of({SESSION_COOKIE: token}) == token
    assert first.json() == {"cookies": {"a": "1", "b": "2", SESSION_COOKIE: token}, "state": token,
                            "accept_encoding": first.json()["accept_encoding"]}
    again = _get(served, "GET", "/upload", {"cookie": f"a=1; {SESSION_COOKIE}={token}"})
    assert _set_cookies(again) == []
    assert again.json()["state"] == token and again.json()["cookies"][SESSION_COOKIE] == token


def test_a_malformed_session_is_replaced(served: Served) -> None:
    response = _get(served, "GET", "/upload", {"cookie": f"x=1; {SESSION_COOKIE}=short; y=2"})
    [cookie] = _set_cookies(response)
    token = cookie.split(";")[0].removeprefix(f"{SESSION_COOKIE}=")
    assert token != "short" and response.json()["cookies"] == {"x": "1", "y": "2", SESSION_COOKIE: token}


def test_two_browsers_get_two_sessions(served: Served) -> None:
    tokens = {_get(served, "GET", "/upload", {}).json()["state"] for _ in range(3)}
    assert len(tokens) == 3


def test_session_cookie_is_secure_over_https(served: Served) -> None:
    [cookie] = _set_cookies(_get(served, "GET", "/upload", {"x-forwarded-proto": "https"}))
    assert "Secure" in {a.strip() for a in cookie.split(";")}


def test_session_of() -> None:
    assert session_of({SESSION_COOKIE: TOKEN}) == TOKEN
    assert session_of({}) is None
    assert session_of({SESSION_COOKIE: "short"}) is None
    assert session_of({SESSION_COOKIE: "A" * 40 + "<>;"}) is None
    assert session_of({"other": TOKEN}, name="other") == TOKEN


# -- the file guard -----------------------------------------------------------------------------------------


def test_file_guard_gets_the_decoded_path_and_the_session(served: Served) -> None:
    served.guard.calls.clear()
    owned = _get(served, "GET", "/gradio_api/file=/x/y%20z.txt", {"cookie": f"{SESSION_COOKIE}={TOKEN}"})
    assert owned.status_code == 200 and owned.text == "/x/y z.txt"
    assert _get(served, "GET", "/gradio_api/file=/x/y%20z.txt", {}).status_code == 404
    assert _get(served, "HEAD", "/gradio_api/file//x/a.txt", {}).status_code == 404
    assert _get(served, "POST", "/gradio_api/file=/x/y.txt", {}).status_code == 405  # not a read: not asked
    assert served.guard.calls == [("/x/y z.txt", TOKEN), ("/x/y z.txt", None), ("/x/a.txt", None)]


# -- the policy ---------------------------------------------------------------------------------------------


def test_policy_for_address() -> None:
    loopback = {"localhost", "localhost:7860", "127.0.0.1", "127.0.0.1:7860", "[::1]", "[::1]:7860"}
    assert set(SecurityPolicy.for_address("0.0.0.0", 7860).allowed_hosts) == loopback
    assert set(SecurityPolicy.for_address("::", 7860).allowed_hosts) == loopback
    bound = SecurityPolicy.for_address("192.0.2.7", 7860, extra_hosts=("Newsroom-PC", "fe80::1", "proxy.example:443"))
    assert set(bound.allowed_hosts) == loopback | {"192.0.2.7", "192.0.2.7:7860", "newsroom-pc", "newsroom-pc:7860",
                                                   "[fe80::1]", "[fe80::1]:7860", "proxy.example:443"}
    assert bound.host_allowed("NEWSROOM-PC:7860") and not bound.host_allowed("newsroom-pc:7861")
    assert SecurityPolicy(("a",), cors_origins=("HTTPS://CMS.Example/",)).cors_origins == (CMS,)
    assert SecurityPolicy(("a",), cors_origins=("https://cms.example:443",)).cors_origins == (CMS,)


@pytest.mark.parametrize("bad", [{"allowed_hosts": ("*",)}, {"allowed_hosts": ("*.example",)},
                                 {"allowed_hosts": ("a",), "cors_origins": ("null",)},
                                 {"allowed_hosts": ("a",), "cors_origins": ("*",)},
                                 {"allowed_hosts": ("a",), "cors_origins": ("https://cms.example/path",)},
                                 {"allowed_hosts": ("a",), "blocked_paths": ("/gradio_api/(",)}])
def test_policy_refuses_wildcards_and_bad_patterns(bad: dict) -> None:
    with pytest.raises(ValueError):
        SecurityPolicy(**bad)


# -- websockets (in-process: see the module docstring) ---------------------------------------------------------


@pytest.fixture
def local() -> Iterator[TestClient]:
    with TestClient(_wrapped(8000, Guard()), base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.mark.parametrize(("headers", "status"), [({"origin": "http://evil.example"}, 403), ({"origin": "null"}, 403),
                                                  ({"host": "attacker.example"}, 400)])
def test_websocket_refused(local: TestClient, headers: dict[str, str], status: int) -> None:
    with pytest.raises(WebSocketDenialResponse) as refused, local.websocket_connect(WS_URL, headers=dict(headers)):
        pass
    assert refused.value.status_code == status


@pytest.mark.parametrize("headers", [{"origin": "http://127.0.0.1:8000"}, {"origin": CMS}, {}])
def test_websocket_accepted(local: TestClient, headers: dict[str, str]) -> None:
    with local.websocket_connect(WS_URL, headers=dict(headers)) as ws:
        seen = ws.receive_json()
    assert seen["state"] == seen["cookie"] and session_of({SESSION_COOKIE: seen["state"]})


def test_websocket_refused_with_1008_where_the_server_has_no_http_response() -> None:
    sent: list[dict] = []
    scope = {"type": "websocket", "scheme": "ws", "path": "/ws", "headers": [
        (b"host", b"127.0.0.1:8000"), (b"origin", b"http://evil.example")]}

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(_wrapped(8000, Guard())(scope, receive, send))
    assert [m["type"] for m in sent] == ["websocket.close"] and sent[0]["code"] == 1008


def test_lifespan_passes_through() -> None:
    """Gradio starts its queue and its cache cleaner in the lifespan: the middleware must not swallow it."""
    seen: list[str] = []

    async def inner(scope, receive, send) -> None:
        seen.append(scope["type"])
        message = await receive()
        await send({"type": message["type"] + ".complete"})

    async def receive() -> dict:
        return {"type": "lifespan.startup"}

    async def send(message: dict) -> None:
        seen.append(message["type"])

    asyncio.run(SecurityMiddleware(inner, SecurityPolicy(("localhost",)))({"type": "lifespan"}, receive, send))
    assert seen == ["lifespan", "lifespan.startup.complete"]


# -- real chromium ----------------------------------------------------------------------------------------


@pytest.mark.browser
def test_hashed_inline_scripts_run_injected_ones_do_not(served: Served, tmp_path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium (`make browser`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=str(CHROMIUM),
                                                    args=CHROMIUM_ARGS, headless=True)
        try:
            page = ctx.new_page()
            console: list[str] = []
            page.on("console", lambda m: console.append(m.text))
            page.goto(served.url + "/")
            # Functions, not expression strings: Playwright evaluates a polled string with eval, which the CSP forbids.
            page.wait_for_function("() => window.second === true && window.external_ok === true")
            page.wait_for_function("() => window.violations.length >= 2", timeout=10_000)
            seen = page.evaluate("({first: window.first, injected: window.injected, handler: window.handler, "
                                 "violations: window.violations})")
        finally:
            ctx.close()
    assert seen["first"] is True
    assert seen.get("injected") is None and seen.get("handler") is None
    assert set(seen["violations"]) == {"script-src-elem", "script-src-attr"}
    assert any("Content Security Policy" in line for line in console), console
