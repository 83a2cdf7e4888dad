"""The HTTP API's limits: one home for each default (``tarjama serve``'s flags read them from here), and the
request-body limit, enforced before any route reads a byte of an oversized body.

LibreTranslate's flag names are kept where it has one (``--char-limit``, ``--batch-limit``, ``--req-limit``,
``--alternatives-limit``), with its meaning: -1 is "no limit".  tarjama's defaults are finite where a
CPU server would otherwise take one request for hours: a text up to the longest article tarjama accepts
anywhere (``tarjama.documents.MAX_CHARS``), a hundred texts a request (Weblate sends 20, Mastodon a handful).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tarjama.documents import MAX_CHARS
from tarjama.translate.translator import ALTERNATIVES

NO_LIMIT = -1
# An upload (the page's) or a file to translate (the API's): far above any article, far below what a CPU
# would translate in a request's time.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
DEFAULT_CHAR_LIMIT = MAX_CHARS          # characters of one request (all the texts of a list q together)
DEFAULT_BATCH_LIMIT = 100               # items of a list q
DEFAULT_REQ_LIMIT = NO_LIMIT            # requests a minute from one client without a key (LibreTranslate's default)
DEFAULT_ALTERNATIVES_LIMIT = ALTERNATIVES
# A request body: the largest upload, with room for the multipart framing around it.
DEFAULT_BODY_LIMIT = MAX_UPLOAD_BYTES + 64 * 1024
DEFAULT_QUEUE_SIZE = 32                 # model jobs waiting (besides the one running); more get 503
DEFAULT_QUEUE_WAIT_S = 300.0            # a job waiting longer than this gets 503, never an unbounded hang


@dataclass(frozen=True)
class Limits:
    """What one request may ask for; ``NO_LIMIT`` (-1) turns a limit off."""

    char_limit: int = DEFAULT_CHAR_LIMIT
    batch_limit: int = DEFAULT_BATCH_LIMIT
    alternatives_limit: int = DEFAULT_ALTERNATIVES_LIMIT
    body_limit: int = DEFAULT_BODY_LIMIT

    @staticmethod
    def over(value: int, limit: int) -> bool:
        return limit != NO_LIMIT and value > limit


async def json_error(send: Send, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    """LibreTranslate's error shape, ``{"error": message}``, sent from ASGI code that has no Response class."""
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse (413, JSON) a request body over ``limit`` bytes on the API's paths, before the route runs.

    The body is read here, at most ``limit`` + 1 bytes of it, and handed on whole: API bodies are small, so
    buffering costs nothing, and a route never starts on a body it would have to drop half-way.  The page's
    paths are left to Gradio, which has its own upload limit."""

    def __init__(self, app: ASGIApp, limit: int, paths: re.Pattern[str]) -> None:
        self.app = app
        self.limit = limit
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit == NO_LIMIT or not self.paths.fullmatch(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send, int(declared))
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(send, None)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), message, receive), send)

    async def _refuse(self, send: Send, size: int | None) -> None:
        said = f"{size} bytes" if size is not None else f"more than {self.limit} bytes"
        await json_error(send, 413, f"Request body too large: {said}, over the limit of {self.limit} bytes "
                                    "(the server's --body-limit); send less, or split the batch")


def _replay(body: bytes, last: Message, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered body once, then the client's own messages (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if last["type"] != "http.request":  # the client left while the body was being read
                return last
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
