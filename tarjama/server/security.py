"""A pure-ASGI layer that makes the editor's page safe to open to a newsroom network.

Gradio serves the page, its queue and its files to anyone who can reach the port, trusts any
``Host`` header, answers some cross-origin requests with permissive CORS headers of its own and
sends no security headers.  :class:`SecurityMiddleware` wraps the whole ASGI application and, before
the inner app sees a request:

* refuses a ``Host`` header the policy does not list (DNS rebinding: a hostile page's name resolving
  to this machine),
* refuses state-changing requests and websockets whose ``Origin`` is neither the page's own nor an
  allowed CORS origin (CSRF from a hostile page in the same browser),
* answers CORS only for the configured origins and strips whatever CORS headers the inner app added,
* hides internal endpoints (``blocked_paths``) and files a browser session does not own (``file_guard``),
* gives every browser an HttpOnly session cookie that the inner app can read on the very first request,
* adds security headers and a Content-Security-Policy whose ``script-src`` carries the hashes of the
  page's own inline scripts, so an injected inline script never runs.

It depends on the standard library and starlette only (never gradio), so the HTTP API can reuse it.

``unsafe-eval`` is deliberately not granted.  Gradio 6.31's frontend evaluates code only for features
the editor does not use: ``js=`` event handlers and ``gr.Blocks(js=...)`` go through the
AsyncFunction constructor (templates/frontend/assets/Blocks-D1GWYZdr.js, ``function z``:
``new L(`return (...)`)`` where ``L`` is ``Object.getPrototypeOf(async function(){}).constructor``
from core-Bdx9080F.js), ``gr.HTML`` templates and ``js_on_load`` use ``Function(...)``
(HTML-DBguWbVR.js), and vega plots compile expressions (embed-DW4PbMGc.js).  A page that adds any of
those needs ``'unsafe-eval'``; the editor's page loads and runs without it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import secrets
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
FileGuard = Callable[[str, str | None], bool]

SESSION_COOKIE = "tarjama_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WILDCARD_ADDRESSES = frozenset({"", "0.0.0.0", "::", "[::]"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
# Both of Gradio's file routes: /file=<path> and the deprecated /file/<path>, which serves the same
# files (gradio/routes.py, `file` and `file_deprecated`).
FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/")
PREFLIGHT_METHODS = "GET, HEAD, POST, OPTIONS"
PREFLIGHT_MAX_AGE = "600"
MAX_HTML_BYTES = 8 * 1024 * 1024  # past this an HTML body is passed on unhashed: its inline scripts won't run
DECODABLE_ENCODINGS = frozenset({"gzip", "deflate", "identity"})
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")
_HEADER_LIST = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~, -]*")  # a list of header names, as a preflight sends it


# -- the policy -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecurityPolicy:
    """What the middleware lets through.

    ``allowed_hosts`` are exact ``Host`` header values (``name`` or ``name:port``, case-insensitive);
    ``cors_origins`` exact origins (``https://cms.example``); ``blocked_paths`` regular expressions that
    must match a whole URL path (or the part of it after a mount root); ``api_paths`` one that matches the
    HTTP API's paths, whose refusals are JSON (``{"error": …}``, as an API client parses them) and which get
    no page session cookie.
    """

    allowed_hosts: tuple[str, ...]
    cors_origins: tuple[str, ...] = ()
    blocked_paths: tuple[str, ...] = ()
    api_paths: str | None = None
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hosts = tuple(h.strip().lower() for h in self.allowed_hosts)
        if any("*" in h or not h for h in hosts):
            raise ValueError(f"allowed_hosts must name hosts exactly (no '*', no empty names): {self.allowed_hosts}")
        origins = tuple(_checked_origin(o) for o in self.cors_origins)
        object.__setattr__(self, "allowed_hosts", hosts)
        object.__setattr__(self, "cors_origins", origins)
        object.__setattr__(self, "blocked_paths", tuple(self.blocked_paths))
        object.__setattr__(self, "_patterns", tuple(_compiled(p) for p in self.blocked_paths))

    @classmethod
    def for_address(cls, host: str, port: int, extra_hosts: Iterable[str] = (), cors_origins: Iterable[str] = (),
                    blocked_paths: Iterable[str] = (), api_paths: str | None = None) -> SecurityPolicy:
        """The policy for a server bound to ``host:port``.

        Loopback names always pass; so does the bound address unless it is a wildcard.  Bound to 0.0.0.0
        (or ::) without ``extra_hosts`` only loopback names pass: a newsroom reaching the machine by its
        name or IP needs those listed (``--allowed-hosts``), since accepting any Host header is what lets
        a DNS-rebinding page talk to the server.  A name without a port is accepted with and without
        ``:port``.
        """
        names = [*LOOPBACK_NAMES]
        if host.strip().lower() not in WILDCARD_ADDRESSES:
            names.append(_bracketed(host.strip()))
        names.extend(_bracketed(h.strip()) for h in extra_hosts)
        hosts: list[str] = []
        for name in names:
            for value in (name, f"{name}:{port}") if not _has_port(name) else (name,):
                if value.lower() not in hosts:
                    hosts.append(value.lower())
        return cls(tuple(hosts), tuple(cors_origins), tuple(blocked_paths), api_paths)

    def host_allowed(self, host: str | None) -> bool:
        return host is not None and host.lower() in self.allowed_hosts

    def cors_allowed(self, origin: str | None) -> bool:
        return origin is not None and origin in self.cors_origins

    def is_api(self, path: str) -> bool:
        return self.api_paths is not None and re.fullmatch(self.api_paths, path) is not None

    def blocked(self, path: str) -> bool:
        """Whether a pattern matches the whole path or its tail from any ``/``: the page mounted under a
        root (``/editor/gradio_api/...``) is hidden by the same patterns."""
        tails = [path[i:] for i, c in enumerate(path) if c == "/"] or [path]
        return any(p.fullmatch(tail) for p in self._patterns for tail in tails)


def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        raise ValueError(f"blocked path {pattern!r} is not a regular expression: {err}") from err


def _checked_origin(origin: str) -> str:
    """An origin as browsers send it (lowercase, no path, no default port); 'null' and '*' are refused
    because they would let sandboxed or arbitrary pages in."""
    value = normalize_origin(origin)
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("http", "https") or not rest or "/" in rest or "*" in rest:
        raise ValueError(f"cors origin must look like https://host[:port], got {origin!r}")
    return value


def _has_port(name: str) -> bool:
    """``name:port`` or ``[v6]:port``; a bare IPv6 literal has colons but no port."""
    if name.startswith("["):
        return "]:" in name
    return name.count(":") == 1


def _bracketed(host: str) -> str:
    """IPv6 literals appear bracketed in Host headers."""
    return f"[{host}]" if host.count(":") > 1 and not host.startswith("[") else host


def normalize_origin(origin: str) -> str:
    """Lowercase, no trailing slash, no default port: the form a browser's ``Origin`` header takes."""
    value = origin.strip().lower().rstrip("/")
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and rest.endswith(default):
        rest = rest[: -len(default)]
    return f"{scheme}://{rest}"


# -- sessions -----------------------------------------------------------------------------------------------


def session_of(cookies: Mapping[str, str], name: str = SESSION_COOKIE) -> str | None:
    """The session token in ``cookies`` (e.g. ``request.cookies``), or None when absent or malformed."""
    token = cookies.get(name)
    return token if token is not None and _TOKEN.fullmatch(token) else None


def _session_cookie(name: str, token: str, secure: bool) -> str:
    return f"{name}={token}; HttpOnly; SameSite=Strict; Path=/" + ("; Secure" if secure else "")


def _with_cookie(header: str, name: str, token: str) -> str:
    """The request's Cookie header with ``name`` replaced by ``token``, other cookies kept as sent."""
    kept = [c.strip() for c in header.split(";") if c.strip() and c.split("=", 1)[0].strip() != name]
    return "; ".join([*kept, f"{name}={token}"])


# -- the Content-Security-Policy -----------------------------------------------------------------------------


class _InlineScripts(HTMLParser):
    """Collects the text of every ``<script>`` without ``src``: the browser's HTML parser hands script
    text over raw (no entity decoding), as :class:`HTMLParser` does for CDATA content elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._current = None if any(name == "src" for name, _ in attrs) else []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
        if tag == "script":
            self._current = None


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """``'sha256-…'`` CSP sources for the page's inline scripts, in document order, without repeats.

    Text is hashed as the browser sees it: its input preprocessing turns CRLF and CR into LF and NUL
    into U+FFFD before a script's text exists."""
    parser = _InlineScripts()
    parser.feed(html.replace("\r\n", "\n").replace("\r", "\n"))
    parser.close()
    hashes: list[str] = []
    for text in parser.scripts:
        digest = hashlib.sha256(text.replace("\0", "\ufffd").encode("utf-8")).digest()
        source = f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
        if source not in hashes:
            hashes.append(source)
    return tuple(hashes)


def content_security_policy(host: str | None, script_hashes: Iterable[str] = ()) -> str:
    """The page's CSP.  Styles stay 'unsafe-inline' (Svelte and Gradio's theme set inline styles); scripts
    are 'self' plus the hashes of this response's inline scripts only.  base-uri is 'self', not 'none':
    Gradio's page sets ``<base href="./">`` (gradio/templates/frontend/index.html:14), which 'none' blocks.
    connect-src names ws:/wss: of the host explicitly for browsers whose 'self' does not cover websockets
    (an IPv6 literal is not a valid CSP host, so 'self' alone covers it)."""
    sockets = f" ws://{host} wss://{host}" if host and not host.startswith("[") else ""
    scripts = " ".join(["'self'", *script_hashes])
    return "; ".join([
        "default-src 'self'", f"script-src {scripts}", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:", "font-src 'self' data:", f"connect-src 'self'{sockets}",
        "media-src 'self' blob:", "worker-src 'self' blob:", "frame-ancestors 'none'", "base-uri 'self'",
        "form-action 'self'", "object-src 'none'",
    ])


def _decoded(body: bytes, encoding: str) -> bytes | None:
    """The body without its content-encoding, or None for an encoding the standard library can't undo."""
    try:
        if encoding in ("", "identity"):
            return body
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, EOFError, zlib.error):
        return None
    return None


def _html_text(body: bytes, content_type: str) -> str:
    match = re.search(r"charset=([\w-]+)", content_type, re.I)
    try:
        return body.decode(match.group(1) if match else "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


# -- one request, as the checks see it ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    host: str | None
    origin: str | None  # normalized Origin header
    own_origin: str | None
    fetch_site: str | None
    secure: bool
    headers: Mapping[str, str]

    @classmethod
    def of(cls, scope: Scope) -> _Request:
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", ()):
            name, text = key.decode("latin-1").lower(), value.decode("latin-1")
            headers[name] = f"{headers[name]}; {text}" if name == "cookie" and name in headers else text
        scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
        host = headers.get("host")
        origin = headers.get("origin")
        return cls(method=scope.get("method", "GET").upper(), path=scope.get("path", "/"), host=host,
                   origin=normalize_origin(origin) if origin is not None else None,
                   own_origin=normalize_origin(f"{scheme}://{host}") if host else None,
                   fetch_site=headers.get("sec-fetch-site", "").lower() or None, secure=scheme == "https",
                   headers=headers)

    @property
    def preflight(self) -> bool:
        return self.method == "OPTIONS" and self.origin is not None and "access-control-request-method" in self.headers

    def file_path(self) -> str | None:
        """The (already percent-decoded) path after Gradio's file route, for GET and HEAD only."""
        if self.method not in ("GET", "HEAD"):
            return None
        for route in FILE_ROUTES:
            at = self.path.find(route)
            if at >= 0:
                return self.path[at + len(route):]
        return None


def _refusal(policy: SecurityPolicy, request: _Request, websocket: bool) -> tuple[int, str] | None:
    """(status, message) when the request must not reach the app: wrong host, foreign origin, hidden path."""
    if not policy.host_allowed(request.host):
        return 400, f"Host not allowed: {(request.host or '(none)')[:200]}"
    if websocket or request.method not in SAFE_METHODS:
        foreign = request.origin is not None and request.origin != request.own_origin
        if (foreign or request.fetch_site == "cross-site") and not policy.cors_allowed(request.origin):
            return 403, f"Cross-origin request refused: {(request.origin or '(no origin)')[:200]}"
    if policy.blocked(request.path):
        return 404, "Not found"
    return None


# -- the middleware -----------------------------------------------------------------------------------------


class SecurityMiddleware:
    """Wraps an ASGI app (Gradio's, or the HTTP API's) with the checks and headers of :class:`SecurityPolicy`."""

    def __init__(self, app: ASGIApp, policy: SecurityPolicy, *, file_guard: FileGuard | None = None,
                 session_cookie: str = SESSION_COOKIE) -> None:
        self.app = app
        self.policy = policy
        self.file_guard = file_guard
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:  # lifespan: Gradio starts its queue and cache cleaner there
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = _Request.of(scope)
        refusal = _refusal(self.policy, request, websocket=False)
        if refusal is None and request.preflight:
            await self._preflight(request, send)
            return
        if self.policy.is_api(request.path):  # the API: JSON refusals, no page session
            if refusal is not None:
                await _plain(send, request, *refusal, as_json=True)
                return
            await self.app(scope, receive, _Response(send, self.policy, request, None))
            return
        token = session_of(cookie_parser(request.headers.get("cookie", "")), self.session_cookie)
        if refusal is None and self._file_denied(request, token):
            refusal = 404, "Not found"
        if refusal is not None:
            await _plain(send, request, *refusal)
            return
        minted = None if token else secrets.token_urlsafe(32)
        inner = self._inner_scope(scope, request, token or minted, rewrite_cookie=minted is not None)
        cookie = _session_cookie(self.session_cookie, minted, request.secure) if minted else None
        await self.app(inner, receive, _Response(send, self.policy, request, cookie))

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = _Request.of(scope)
        refusal = _refusal(self.policy, request, websocket=True)
        if refusal is not None:
            await _refuse_websocket(scope, receive, send, *refusal)
            return
        token = session_of(cookie_parser(request.headers.get("cookie", "")), self.session_cookie)
        inner = self._inner_scope(scope, request, token or secrets.token_urlsafe(32), rewrite_cookie=token is None)
        await self.app(inner, receive, send)

    def _file_denied(self, request: _Request, token: str | None) -> bool:
        """Ask the guard about a file request; it gets the session the browser came with (None for a
        client without one: a token minted now owns nothing)."""
        if self.file_guard is None:
            return False
        path = request.file_path()
        return path is not None and not self.file_guard(path, token)

    def _inner_scope(self, scope: Scope, request: _Request, token: str, rewrite_cookie: bool) -> Scope:
        """A copy of the scope with the session in ``scope["state"]`` and, for a new session, in the Cookie
        header as well: Gradio's handlers read ``request.cookies`` and must see it on the first request."""
        headers = list(scope.get("headers", ()))
        if rewrite_cookie:
            cookie = _with_cookie(request.headers.get("cookie", ""), self.session_cookie, token)
            headers = [(k, v) for k, v in headers if k.lower() != b"cookie"] + [(b"cookie", cookie.encode("latin-1"))]
        if "text/html" in request.headers.get("accept", "") and "accept-encoding" in request.headers:
            headers = _decodable_accept_encoding(headers)  # the page's HTML must be readable to hash its scripts
        return {**scope, "headers": headers, "state": {**(scope.get("state") or {}), self.session_cookie: token}}

    async def _preflight(self, request: _Request, send: Send) -> None:
        """Answer a CORS preflight here: allowed origins get their CORS headers, others a refusal."""
        if not self.policy.cors_allowed(request.origin):
            await _plain(send, request, 403, f"Cross-origin request refused: {(request.origin or '')[:200]}",
                         as_json=self.policy.is_api(request.path))
            return
        asked = request.headers.get("access-control-request-headers", "")
        headers = MutableHeaders({
            "access-control-allow-origin": request.origin or "", "access-control-allow-methods": PREFLIGHT_METHODS,
            "access-control-max-age": PREFLIGHT_MAX_AGE, "vary": "Origin", "content-length": "0"})
        if asked and _HEADER_LIST.fullmatch(asked):
            headers["access-control-allow-headers"] = asked
        _security_headers(headers, request.host, ())
        await send({"type": "http.response.start", "status": 204, "headers": headers.raw})
        await send({"type": "http.response.body", "body": b""})


def _decodable_accept_encoding(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Accept-Encoding without codings the standard library can't decode (br, zstd)."""
    out = []
    for key, value in headers:
        if key.lower() == b"accept-encoding":
            codings = [c for c in value.decode("latin-1").split(",")
                       if c.split(";")[0].strip().lower() in DECODABLE_ENCODINGS]
            value = ",".join(codings).strip().encode("latin-1")
        out.append((key, value))
    return out


def _security_headers(headers: MutableHeaders, host: str | None, script_hashes: Iterable[str]) -> None:
    headers["x-content-type-options"] = "nosniff"
    headers["referrer-policy"] = "no-referrer"
    headers["x-frame-options"] = "DENY"
    headers["content-security-policy"] = content_security_policy(host, script_hashes)


async def _plain(send: Send, request: _Request, status: int, text: str, as_json: bool = False) -> None:
    """A refusal as text/plain, or as the API's ``{"error": …}`` (never HTML: the message may quote what the
    client sent)."""
    body = json.dumps({"error": text}, ensure_ascii=False).encode("utf-8") if as_json else text.encode("utf-8")
    kind = "application/json" if as_json else "text/plain; charset=utf-8"
    headers = MutableHeaders({"content-type": kind, "content-length": str(len(body))})
    _security_headers(headers, request.host if request.host and status != 400 else None, ())
    await send({"type": "http.response.start", "status": status, "headers": headers.raw})
    await send({"type": "http.response.body", "body": body if request.method != "HEAD" else b""})


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    """Refuse before accepting: an HTTP response where the server supports it, else close code 1008."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        body = text.encode("utf-8")
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": text[:120]})


class _Response:
    """The ``send`` handed to the inner app: fixes CORS, adds the security headers and the session cookie,
    and holds an HTML response back until its body is complete, to hash its inline scripts."""

    def __init__(self, send: Send, policy: SecurityPolicy, request: _Request, cookie: str | None) -> None:
        self.send = send
        self.policy = policy
        self.request = request
        self.cookie = cookie
        self.start: Message | None = None  # a held-back HTML response start
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._started(message)
        elif message["type"] == "http.response.body" and self.start is not None:
            await self._body(message)
        else:
            await self.send(message)

    async def _started(self, message: Message) -> None:
        message = dict(message)
        message["headers"] = [(k.lower(), v) for k, v in message.get("headers", ())
                              if not k.lower().startswith(b"access-control-")]  # only this layer speaks CORS
        headers = MutableHeaders(scope=message)
        if self.request.origin is not None:
            headers.add_vary_header("Origin")
            if self.policy.cors_allowed(self.request.origin):
                headers["access-control-allow-origin"] = self.request.origin
        if self.cookie:
            headers.append("set-cookie", self.cookie)
        _security_headers(headers, self.request.host, ())
        holdable = self.request.method != "HEAD" and message.get("status") not in (204, 304)
        if holdable and headers.get("content-type", "").lower().startswith("text/html"):
            self.start = message
            return
        await self.send(message)

    async def _body(self, message: Message) -> None:
        self.body += message.get("body", b"")
        if message.get("more_body", False) and len(self.body) <= MAX_HTML_BYTES:
            return
        start, self.start = self.start, None
        assert start is not None
        headers = MutableHeaders(scope=start)
        text = _decoded(bytes(self.body), headers.get("content-encoding", "").strip().lower())
        hashes = inline_script_hashes(_html_text(text, headers.get("content-type", ""))) if text is not None else ()
        _security_headers(headers, self.request.host, hashes)
        if not message.get("more_body", False):
            headers["content-length"] = str(len(self.body))
        await self.send(start)
        await self.send({**message, "body": bytes(self.body)})
