"""The HTTP API: LibreTranslate's endpoints, as its clients send them, and tarjama's own under ``/v1``.

LibreTranslate-compatible (``docs/libretranslate-compat.md`` has the wire-level reference, sourced):
``POST /translate``, ``POST /detect``, ``GET /languages``, ``POST /translate_file`` + ``GET /download_file/<name>``,
``GET /frontend/settings``, ``GET /health``.  Their fields come from a JSON body, a form body, or the query
string even on a POST (deep-translator sends them there), as LibreTranslate's ``request.values`` reads them;
``q`` may be a list in JSON.  Every error is LibreTranslate's ``{"error": "…"}``: 400 for a bad or missing
field, an unsupported language or pair, a text or batch over its limit, JSON that is not an object; 403 for an
invalid key; 413 for a body over ``--body-limit``; 429 ``Slowdown: …`` over a rate limit (with
``Retry-After``); 503 with ``Retry-After`` when the model queue is full; 500 only when a model fails, saying
which.  FastAPI's own 422 validation answers become such 400s.

Native: ``POST /v1/articles`` (the article JSON of ``tarjama translate --format json``, schema
``tarjama.article``), ``GET /v1/models``.  ``/openapi.json`` describes all of it; ``/docs`` is Swagger UI,
served from this process (the files of the ``fastapi-offline`` package), so it works offline and under
the page's Content-Security-Policy.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from tarjama.documents import InputError
from tarjama.registry import ConfigError
from tarjama.result import SCHEMA_ID
from tarjama.server.access import Access, AccessDenied, ApiKey, bearer_key
from tarjama.server.files import FILE_MAX_AGE_S, FILE_SUFFIXES, download_part
from tarjama.server.limits import Limits
from tarjama.server.queue import QueueFull
from tarjama.server.service import (
    FORMATS,
    SOURCE,
    ApiError,
    ClientGone,
    ModelFailure,
    Service,
    language_name,
    request_glossary,
)
from tarjama.translate.detect import Detection
from tarjama.translate.glossary import GlossaryError

# The API's paths: the security layer answers refusals on them as JSON and sets no page cookie there, and
# the body limit guards them.  Everything else is the page's (Gradio's).
API_PATHS = re.compile(r"/(translate|translate_file|detect|languages|health|frontend/settings|download_file/.*|"
                       r"v1/.*|openapi\.json|docs(/.*)?)$")
DOCS_ASSETS = "/docs/assets"
log = logging.getLogger(__name__)
NOT_JSON = "Invalid JSON format"  # LibreTranslate's words for a JSON body that is not an object
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


# -- shapes (for /openapi.json, and schemathesis' conformance checks) -------------------------------------------


class ErrorBody(BaseModel):
    error: str


class DetectedLanguage(BaseModel):
    confidence: float = Field(ge=0, le=100)
    language: str


class TranslateResponse(BaseModel):
    translatedText: str | list[str]
    detectedLanguage: DetectedLanguage | list[DetectedLanguage] | None = Field(
        None, description="only when source is auto; one per text for a list q")
    alternatives: list[str] | list[list[str]] | None = Field(None, description="only when alternatives > 0")


class LanguageEntry(BaseModel):
    code: str
    name: str
    targets: list[str]


class FileResponseBody(BaseModel):
    translatedFileUrl: str


class Health(BaseModel):
    status: Literal["ok"]


class ArticleRequest(BaseModel):
    text: str = Field(description="the Arabic article (plain text; paragraphs separated by blank lines)")
    targets: list[str] | None = Field(None, description="target language codes; default every configured one")
    summary: bool = Field(True, description="also summarize (Arabic, then translated)")
    glossary: list[dict[str, str]] | None = Field(
        None, description='terms to enforce on top of the server\'s, e.g. [{"ar": "…", "en": "…", "es": "…"}]')
    api_key: str | None = None


ERRORS = {400: {"model": ErrorBody, "description": "bad request: a field missing or wrong, a limit exceeded"},
          403: {"model": ErrorBody, "description": "invalid API key"},
          413: {"model": ErrorBody, "description": "request body over --body-limit"},
          429: {"model": ErrorBody, "description": "over a rate limit (Retry-After says when to retry)"},
          500: {"model": ErrorBody, "description": "a model failed; the message says which"},
          503: {"model": ErrorBody, "description": "the model queue is full (Retry-After says when to retry)"}}


# -- building the app -----------------------------------------------------------------------------------------


def create_api(service: Service, access: Access | None = None, limits: Limits | None = None,
               title: str = "tarjama") -> FastAPI:
    """The API over ``service``; app.py mounts the page on the same app (``gr.mount_gradio_app``)."""
    access = access or Access()
    limits = limits or Limits()
    api = FastAPI(title=f"{title} — Arabic news translation API", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="LibreTranslate-compatible endpoints for Arabic sources, and tarjama's article API.")
    _handlers(api)
    Routes(service, access, limits).register(api)
    _docs(api)
    _openapi_with_article_schema(api)
    return api


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _handlers(api: FastAPI) -> None:
    def handle(kind: type[Exception], answer: Callable[[Any], JSONResponse]) -> None:
        async def handler(_request: Request, err: Any) -> JSONResponse:
            return answer(err)

        api.add_exception_handler(kind, handler)

    handle(ApiError, lambda e: _error(e.status, str(e)))
    handle(InputError, lambda e: _error(400, str(e)))
    handle(ConfigError, lambda e: _error(400, str(e)))
    handle(GlossaryError, lambda e: _error(400, f"Invalid request: {e}"))
    handle(AccessDenied, lambda e: _error(e.status, str(e), e.headers))
    handle(QueueFull, lambda e: _error(503, f"Service unavailable: {e}", {"Retry-After": str(e.retry_after)}))
    handle(ModelFailure, lambda e: _error(500, str(e)))
    handle(RequestValidationError, lambda e: _error(400, _validation_message(e)))
    handle(StarletteHTTPException, lambda e: _error(e.status_code, str(e.detail), getattr(e, "headers", None)))
    handle(Exception, _unexpected)


def _unexpected(err: Exception) -> JSONResponse:
    """A bug, not the client's doing: a 500 in the API's shape, the details in the server log."""
    log.error("API request failed", exc_info=err)
    return _error(500, f"Internal error ({type(err).__name__}); the server log has the details")


def _validation_message(err: RequestValidationError) -> str:
    parts = []
    for item in err.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


async def fields(request: Request) -> dict[str, Any]:
    """The request's fields as LibreTranslate reads them: a JSON object, or the form body and the query
    string (the query string wins, as in Werkzeug's ``request.values``)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json" or (ctype.startswith("application/") and ctype.endswith("+json")):
        try:
            data = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError, RecursionError) as err:
            raise ApiError(f"Invalid request: the body is not valid JSON ({str(err)[:200]})") from None
        if not isinstance(data, dict):
            raise ApiError(NOT_JSON)
        return _unicode_checked(data)
    out: dict[str, Any] = {}
    if ctype in FORM_TYPES:
        try:
            form = await request.form()
        except Exception as err:  # a malformed multipart or urlencoded body
            raise ApiError(f"Invalid request: the form body cannot be read ({str(err)[:200]})") from None
        out.update({k: form.getlist(k)[0] for k in form})
    out.update({k: request.query_params.getlist(k)[0] for k in request.query_params})
    return _unicode_checked(out)


def _unicode_checked(data: dict[str, Any]) -> dict[str, Any]:
    """Refuse text that is not Unicode a model can read: JSON's ``\\ud800`` escapes decode to lone surrogates."""
    for name, value in data.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and not _encodable(text):
                raise ApiError(f"Invalid request: {str(name)[:40]} holds an unpaired surrogate (not valid Unicode)")
    return data


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(d: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = d.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(f"Invalid request: missing {name} parameter")
        return None
    if not isinstance(value, str):
        raise ApiError(f"Invalid request: {name} must be a string")
    return value


def _texts(d: dict[str, Any], limits: Limits) -> tuple[list[str], bool]:
    """``q`` as a list, and whether it was one; the limits on it.  ``--char-limit`` bounds the whole request
    (LibreTranslate bounds each text): a hundred texts of the limit would hold the one model slot for
    hours."""
    q = d.get("q")
    if not q:
        raise ApiError("Invalid request: missing q parameter")
    many = isinstance(q, list)
    items = q if many else [q]
    if not all(isinstance(t, str) for t in items):
        raise ApiError("Invalid request: q must be a string or a list of strings")
    if many and limits.over(len(items), limits.batch_limit):
        raise ApiError(f"Invalid request: request ({len(items)} texts) exceeds the batch limit "
                       f"({limits.batch_limit}, the server's --batch-limit)")
    _check_chars(sum(len(t) for t in items), limits)
    return items, many


def _check_chars(chars: int, limits: Limits) -> None:
    if limits.over(chars, limits.char_limit):
        raise ApiError(f"Invalid request: request ({chars} characters) exceeds text limit "
                       f"({limits.char_limit}, the server's --char-limit)")


def _alternatives(d: dict[str, Any], limits: Limits) -> int:
    value = d.get("alternatives", 0)
    if isinstance(value, (bool, float)):
        raise ApiError("Invalid request: alternatives parameter is not a number")
    try:
        n = max(0, int(value or 0))
    except (TypeError, ValueError, OverflowError):
        raise ApiError("Invalid request: alternatives parameter is not a number") from None
    if limits.over(n, limits.alternatives_limit):
        raise ApiError(f"Invalid request: alternatives parameter must be <= {limits.alternatives_limit}")
    return n


def _key(d: dict[str, Any], request: Request) -> str | None:
    """The key from ``api_key`` (LibreTranslate's way) or an ``Authorization: Bearer`` header."""
    value = d.get("api_key")
    if isinstance(value, str) and value:
        return value
    return bearer_key(request.headers)


def _detections(found: list[Detection]) -> list[dict[str, Any]]:
    return [{"confidence": d.confidence, "language": d.language} for d in found]


def _body(model: type[BaseModel], media: tuple[str, ...], **overrides: Any) -> dict[str, Any]:
    """An OpenAPI requestBody for a route that reads its fields itself (JSON, form or query)."""
    schema = model.model_json_schema()
    schema["properties"].update(overrides)
    form = {**schema, "properties": {k: ({"type": "string"} if k == "q" else v)
                                     for k, v in schema["properties"].items()}}
    content = {m: {"schema": schema if m == "application/json" else form} for m in media}
    return {"requestBody": {"required": True, "content": content}}


class TranslateRequest(BaseModel):
    q: str | list[str]
    source: str = Field(description='"ar", or "auto" to detect (tarjama translates from Arabic)')
    target: str
    format: Literal["text", "html"] = "text"
    alternatives: int = Field(0, ge=0)
    api_key: str | None = None


class DetectRequest(BaseModel):
    q: str | list[str]
    api_key: str | None = None


class Routes:
    """The route functions, over one service, one access policy, one set of limits."""

    def __init__(self, service: Service, access: Access, limits: Limits) -> None:
        self.service = service
        self.access = access
        self.limits = limits

    def register(self, api: FastAPI) -> None:
        targets = list(self.service.targets)
        translate_body = _body(TranslateRequest, ("application/json", "application/x-www-form-urlencoded"),
                               source={"type": "string", "enum": [SOURCE, "auto"]},
                               target={"type": "string", "enum": targets or [""]})
        api.post("/translate", response_model=TranslateResponse, responses=ERRORS, openapi_extra=translate_body,
                 summary="Translate text or HTML (LibreTranslate)")(self.translate)
        api.post("/detect", response_model=list[DetectedLanguage], responses=ERRORS,
                 openapi_extra=_body(DetectRequest, ("application/json", "application/x-www-form-urlencoded")),
                 summary="Detect the language (LibreTranslate)")(self.detect)
        api.get("/languages", response_model=list[LanguageEntry], summary="Languages and their targets")(
            self.languages)
        api.post("/translate_file", response_model=FileResponseBody, responses=ERRORS,
                 openapi_extra=self._file_body(targets), summary="Translate a .txt, .html or .docx file")(
            self.translate_file)
        api.get("/download_file/{name:path}", response_class=Response, summary="Download a translated file",
                responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"},
                           400: ERRORS[400], 404: {"model": ErrorBody, "description": "unknown or expired"}},
                )(self.download_file)
        api.get("/frontend/settings", summary="Settings (LibreTranslate's web UI reads them)")(self.settings)
        api.get("/health", response_model=Health, summary="Is the server up")(self.health)
        api.post("/v1/articles", responses={200: {"description": f"the article ({SCHEMA_ID})"}, **ERRORS},
                 summary="Translate and summarize one article: the full tarjama result")(self.article)
        api.get("/v1/models", summary="The models loaded, and the queue")(self.models)
        for path in ("/translate", "/detect", "/translate_file", "/v1/articles"):
            api.api_route(path, methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)(_post_only)
        for path in ("/languages", "/health", "/frontend/settings", "/v1/models", "/download_file/{name:path}"):
            api.api_route(path, methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)(_get_only)

    @staticmethod
    def _file_body(targets: list[str]) -> dict[str, Any]:
        schema = {"type": "object", "required": ["file", "source", "target"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "source": {"type": "string", "enum": [SOURCE, "auto"]},
            "target": {"type": "string", "enum": targets or [""]},
            "api_key": {"type": "string"}}}
        return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}

    def _key(self, request: Request, d: dict[str, Any]) -> ApiKey | None:
        """The request's key entry (403 for an unknown one, 400 for none with --require-key), first thing."""
        return self.access.identify(_key(d, request))

    async def _charged(self, request: Request, key: ApiKey | None, requests: int, chars: int,
                       fn: Callable[..., Any], *args: Any) -> Any:
        """Count the request against its limits, then run ``fn``; a request refused on the way (a bad field
        found late, a full queue) is not counted, so a client retrying after Retry-After loses no quota."""
        client = request.client.host if request.client else "unknown"
        self.access.admit(key, client, requests, chars)
        try:
            return await self._work(request, fn, *args)
        except (QueueFull, ApiError, InputError, ConfigError, ClientGone):
            self.access.refund(key, client, requests, chars)
            raise

    async def _work(self, request: Request, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args, cancelled=event)`` in a worker thread (it may wait for the model queue), the event set
        if the client hangs up meanwhile: a job whose client is gone is dropped when its turn comes."""
        _enough_threads(self.service.queue.max_waiting + self.service.queue.slots + 8)
        gone = threading.Event()
        watcher = asyncio.create_task(_watch_disconnect(request, gone))
        try:
            return await run_in_threadpool(functools.partial(fn, *args, cancelled=gone))
        finally:
            watcher.cancel()

    async def translate(self, request: Request) -> JSONResponse:
        d = await fields(request)
        key = self._key(request, d)  # 403 before reading further, as LibreTranslate
        items, many = _texts(d, self.limits)
        source, target = _text(d, "source"), _text(d, "target")
        fmt = _text(d, "format", required=False) or "text"
        n = _alternatives(d, self.limits)
        self.service.check_pair(source, target)
        if fmt not in FORMATS:
            raise ApiError(f"{fmt} format is not supported")
        done = await self._charged(request, key, max(1, len(items)), sum(len(t) for t in items),
                                   self.service.translate, items, source, target, fmt, n)
        body: dict[str, Any] = {"translatedText": done.texts if many else done.texts[0]}
        if source == "auto":
            detected = _detections(done.detected)[0]
            body["detectedLanguage"] = [detected] * len(items) if many else detected
        if done.alternatives is not None:
            body["alternatives"] = done.alternatives if many else done.alternatives[0]
        return JSONResponse(body)

    async def detect(self, request: Request) -> JSONResponse:
        d = await fields(request)
        key = self._key(request, d)
        items, _ = _texts(d, self.limits)
        client = request.client.host if request.client else "unknown"
        self.access.admit(key, client, 1, sum(len(t) for t in items))
        return JSONResponse(_detections(await run_in_threadpool(self.service.detect, items)))

    async def languages(self) -> JSONResponse:
        return JSONResponse(self.service.languages())

    async def translate_file(self, request: Request) -> JSONResponse:
        d = await fields(request)
        key = self._key(request, d)
        upload = d.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError("Invalid request: missing file parameter (send the file as multipart/form-data)")
        source, target = _text(d, "source"), _text(d, "target")
        if not upload.filename:
            raise ApiError("Invalid request: empty file")
        self.service.check_pair(source, target)
        data = await upload.read()
        chars = await run_in_threadpool(self.service.file_chars, upload.filename, data)  # a bad file: 400 now
        _check_chars(chars, self.limits)
        stored = await self._charged(request, key, 1, chars, self.service.translate_file, upload.filename, data,
                                     source, target, chars)
        return JSONResponse({"translatedFileUrl": str(request.url_for("download_file", name=stored))})

    async def download_file(self, name: str) -> Response:
        if download_part(name) is None:
            raise ApiError("Invalid filename")
        found = self.service.files.open(name)
        if found is None:
            raise ApiError(f"File not found: unknown, or expired (translated files are kept "
                           f"{FILE_MAX_AGE_S // 60:.0f} minutes)", status=404)
        download, data = found
        disposition = f"attachment; filename*=UTF-8''{quote(download)}"
        return Response(data, media_type=_media_type(download), headers={"Content-Disposition": disposition})

    async def settings(self) -> JSONResponse:
        targets = sorted(self.service.targets)
        target = targets[0] if targets else SOURCE
        return JSONResponse({
            "charLimit": self.limits.char_limit, "frontendTimeout": 500, "apiKeys": self.access.enabled,
            "keyRequired": self.access.require_key, "suggestions": False, "filesTranslation": True,
            "supportedFilesFormat": list(FILE_SUFFIXES),
            "language": {"source": {"code": "auto", "name": "Auto Detect"},
                         "target": {"code": target, "name": language_name(target)}}})

    async def health(self) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def article(self, body: ArticleRequest, request: Request) -> JSONResponse:
        key = self._key(request, {"api_key": body.api_key})
        _check_chars(len(body.text), self.limits)
        glossary = request_glossary(body.glossary)
        return JSONResponse(await self._charged(request, key, 1, len(body.text), self.service.article, body.text,
                                                body.targets, body.summary, glossary))

    async def models(self) -> JSONResponse:
        return JSONResponse(self.service.models())


async def _post_only() -> JSONResponse:
    return _error(405, "Method not allowed: use POST", {"Allow": "POST"})


async def _get_only() -> JSONResponse:
    return _error(405, "Method not allowed: use GET", {"Allow": "GET, HEAD"})


async def _watch_disconnect(request: Request, gone: threading.Event) -> None:
    while not gone.is_set():
        if await request.is_disconnected():
            gone.set()
            return
        await asyncio.sleep(0.25)


def merge_slashes(app: Any) -> Any:
    """An ASGI wrapper: ``//translate`` is ``/translate`` (a base URL configured with a trailing slash, as
    Werkzeug under LibreTranslate merges them); paths of the page are left as they are."""
    async def merged(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and "//" in path:
            single = re.sub(r"/{2,}", "/", path)
            if API_PATHS.fullmatch(single):
                scope = {**scope, "path": single, "raw_path": single.encode("utf-8")}
        await app(scope, receive, send)

    return merged


def _media_type(name: str) -> str:
    return {".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
            # a translated page is a download, never rendered on this origin
            ".html": "application/octet-stream", ".htm": "application/octet-stream",
            ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            }.get(Path(name).suffix.lower(), "application/octet-stream")


def _enough_threads(n: int) -> None:
    import anyio.to_thread

    limiter = anyio.to_thread.current_default_thread_limiter()
    if limiter.total_tokens < n:
        limiter.total_tokens = n


def _docs(api: FastAPI) -> None:
    """Swagger UI at /docs from the fastapi-offline package's copy of its files (Swagger UI 5, which reads
    OpenAPI 3.1; no CDN)."""
    import fastapi_offline
    from starlette.staticfiles import StaticFiles

    assets = Path(fastapi_offline.__file__).parent / "static"
    api.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    async def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=api.title,
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")

    api.get("/docs", include_in_schema=False)(docs)


def article_schema() -> dict[str, Any]:
    """``tarjama/schema/article.schema.json``, the one description of the article JSON."""
    return json.loads(resources.files("tarjama.schema").joinpath("article.schema.json").read_text("utf-8"))


def _openapi_with_article_schema(api: FastAPI) -> None:
    """/openapi.json with ``/v1/articles``' 200 described by the article schema (its $defs become components)."""
    default: Callable[[], dict[str, Any]] = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        spec = default()
        schema = article_schema()
        defs = schema.pop("$defs", {})
        for key in ("$schema", "$id"):
            schema.pop(key, None)
        text = json.dumps(schema | {"_defs": defs}).replace('"#/$defs/', '"#/components/schemas/Article_')
        rewritten = json.loads(text)
        components = spec.setdefault("components", {}).setdefault("schemas", {})
        components.update({f"Article_{k}": v for k, v in rewritten.pop("_defs").items()})
        components["Article"] = rewritten
        spec["paths"]["/v1/articles"]["post"]["responses"]["200"]["content"] = {
            "application/json": {"schema": {"$ref": "#/components/schemas/Article"}}}
        api.openapi_schema = spec
        return spec

    api.openapi = openapi  # type: ignore[method-assign]

