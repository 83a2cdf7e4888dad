"""Who may use the HTTP API, and how much: API keys (``--api-keys FILE``), per-key and per-client limits.

The key file is a CSV (or TSV) with a header row::

    key,name,requests_per_minute,characters_per_day
    9f2c…,mastodon,120,2000000
    41aa…,weblate,,

An empty limit is none of that kind; lines starting with ``#`` are comments.  A key is a secret: this
process keeps only its sha256, compares digests in constant time, and never writes a key to a log or an
error message.
Answers follow LibreTranslate's: an unknown key is 403 "Invalid API key"; with ``--require-key`` a request
without one is 400 "Please contact the server operator to get an API key"; over a limit is 429
"Slowdown: …" with ``Retry-After``.  Without a key, a client is limited by ``--req-limit`` (requests a
minute per client address), as LibreTranslate does.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import math
import os
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tarjama.server.limits import DEFAULT_REQ_LIMIT, NO_LIMIT

KEYS_HEADER = ("key", "name", "requests_per_minute", "characters_per_day")
MIN_KEY_CHARS = 16
NEED_KEY = "Please contact the server operator to get an API key"
INVALID_KEY = "Invalid API key"


class ApiKeysError(ValueError):
    """The key file is wrong: one line naming the file, the line and what to do."""


class AccessDenied(Exception):
    """A request refused before any work: ``status`` 400, 403 or 429, a message safe to show the client
    (never the key), and the headers to send (``Retry-After`` on 429)."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


@dataclass(frozen=True)
class ApiKey:
    """One key of the file; a limit of ``NO_LIMIT`` (-1) is none."""

    digest: str  # sha256 of the key: what this process keeps to find it
    name: str
    requests_per_minute: int = NO_LIMIT
    characters_per_day: int = NO_LIMIT


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load_api_keys(path: str | Path) -> dict[str, ApiKey]:
    """The keys of ``path`` by digest; raises :class:`ApiKeysError` naming the line that is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ApiKeysError(f"{path}: cannot read the API key file ({err}); give a readable UTF-8 CSV") from None
    rows = [(n, row) for n, row in _rows(text) if any(c.strip() for c in row)]
    if not rows or tuple(c.strip().lower() for c in rows[0][1]) != KEYS_HEADER:
        raise ApiKeysError(f"{path}: line {rows[0][0] if rows else 1}: the first row must be the header "
                           f"{','.join(KEYS_HEADER)}")
    keys: dict[str, ApiKey] = {}
    names: set[str] = set()
    for n, row in rows[1:]:
        key = _key(path, n, row, names)
        if key.digest in keys:
            raise ApiKeysError(f"{path}: line {n}: this key is already on an earlier line; give each client its own")
        keys[key.digest] = key
    if not keys:
        raise ApiKeysError(f"{path}: no keys below the header; add one line per client")
    return keys


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each line that is not a comment; tab-separated when the header is."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if not line.lstrip().startswith("#")]
    header = next((line for _, line in lines if line.strip()), "")
    dialect = "excel-tab" if "\t" in header else "excel"
    return [(n, next(csv.reader(io.StringIO(line), dialect=dialect), [])) for n, line in lines]


def _key(path: Path, n: int, row: list[str], names: set[str]) -> ApiKey:
    cells = [c.strip() for c in row] + [""] * (len(KEYS_HEADER) - len(row))
    if len(row) > len(KEYS_HEADER):
        raise ApiKeysError(f"{path}: line {n}: {len(row)} columns; expected {len(KEYS_HEADER)} "
                           f"({','.join(KEYS_HEADER)})")
    key, name, per_minute, per_day = cells[:4]
    if len(key) < MIN_KEY_CHARS or any(c.isspace() for c in key):
        raise ApiKeysError(f"{path}: line {n}: a key must be at least {MIN_KEY_CHARS} characters without spaces; "
                           "make one with: python -c \"import secrets; print(secrets.token_urlsafe(24))\"")
    if not name or name in names:
        raise ApiKeysError(f"{path}: line {n}: give each key a name of its own (it names the client in messages)")
    names.add(name)
    return ApiKey(_digest(key), name, _limit(path, n, "requests_per_minute", per_minute),
                  _limit(path, n, "characters_per_day", per_day))


def _limit(path: Path, n: int, column: str, value: str) -> int:
    if value in ("", "-1"):
        return NO_LIMIT
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ApiKeysError(f"{path}: line {n}: {column} must be a whole number above 0, or empty for no limit "
                           f"(found {value[:40]!r})")
    return int(value)


def bearer_key(headers: Mapping[str, str]) -> str | None:
    """The key of an ``Authorization: Bearer KEY`` header (the API's and the page's API's second way)."""
    auth = headers.get("authorization", "") or ""
    return (auth[7:].strip() or None) if auth.lower().startswith("bearer ") else None


def loose_permissions(path: str | Path) -> bool:
    """Can users other than the owner read the key file?  ``serve`` warns then."""
    try:
        return bool(os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


class _Window:
    """Requests in the last minute and characters today (UTC) of one client, for its limits."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        self.day = ""
        self.chars = 0


class Access:
    """Decides, per request, whether it may go on: its key, then its limits.  Thread-safe."""

    def __init__(self, keys: dict[str, ApiKey] | None = None, *, require_key: bool = False,
                 req_limit: int = DEFAULT_REQ_LIMIT, clock: Callable[[], float] = time.time) -> None:
        if require_key and not keys:
            raise ApiKeysError("--require-key needs --api-keys FILE: there is no key to require")
        self.keys = keys or {}
        self.require_key = require_key
        self.req_limit = req_limit
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._pruned = 0.0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    @property
    def tracked(self) -> int:
        """Clients (keys or addresses) whose recent use is remembered for their limits."""
        return len(self._windows)

    def identify(self, api_key: str | None) -> ApiKey | None:
        """The key's entry; None without a key (or with keys off: then any value is ignored, as LibreTranslate
        does, so clients that must send something work).  Raises AccessDenied for an unknown or missing one."""
        if not self.keys:
            return None
        if not api_key:
            if self.require_key:
                raise AccessDenied(400, NEED_KEY)
            return None
        digest = _digest(api_key)
        for known in self.keys:  # constant time per comparison, whatever the key's position
            if hmac.compare_digest(known, digest):
                return self.keys[known]
        raise AccessDenied(403, INVALID_KEY)

    def admit(self, key: ApiKey | None, client: str, requests: int = 1, chars: int = 0) -> None:
        """Count ``requests`` (LibreTranslate counts a list q as one request per text) and ``chars`` against
        the key's limits, or the client's ``--req-limit`` without a key; AccessDenied(429) when over."""
        per_minute, per_day = self._limits(key)
        if per_minute == NO_LIMIT and per_day == NO_LIMIT:
            return
        if per_minute != NO_LIMIT and requests > per_minute:  # waiting would never help: say so
            raise AccessDenied(400, f"Invalid request: {requests} texts in one request is more than the "
                                    f"{per_minute} a minute allowed; send smaller batches")
        now = self.clock()
        with self._lock:
            self._prune(now)
            window = self._windows.setdefault(self._who(key, client), _Window())
            self._check_minute(window, now, per_minute, requests)
            self._check_day(window, now, per_day, chars)
            window.times.extend([now] * requests)
            window.chars += chars

    def refund(self, key: ApiKey | None, client: str, requests: int = 1, chars: int = 0) -> None:
        """Take back what ``admit`` counted for a request that was refused after all (a full queue)."""
        with self._lock:
            window = self._windows.get(self._who(key, client))
            if window is None:
                return
            for _ in range(min(requests, len(window.times))):
                window.times.pop()
            window.chars = max(0, window.chars - chars)

    def _limits(self, key: ApiKey | None) -> tuple[int, int]:
        return (key.requests_per_minute, key.characters_per_day) if key else (self.req_limit, NO_LIMIT)

    @staticmethod
    def _who(key: ApiKey | None, client: str) -> str:
        return f"key:{key.digest}" if key else f"client:{client}"

    def _prune(self, now: float) -> None:
        """Forget clients with nothing in the last minute and nothing today, once a minute: one entry per
        address that ever called would otherwise grow without end."""
        if now - self._pruned < 60:
            return
        self._pruned = now
        today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date().isoformat()
        for who in [w for w, win in self._windows.items()
                    if (not win.times or win.times[-1] <= now - 60) and (win.day != today or not win.chars)]:
            del self._windows[who]

    @staticmethod
    def _check_minute(window: _Window, now: float, limit: int, requests: int) -> None:
        while window.times and window.times[0] <= now - 60:
            window.times.popleft()
        if limit != NO_LIMIT and len(window.times) + requests > limit:
            wait = window.times[0] + 60 - now if window.times else 60
            raise AccessDenied(429, f"Slowdown: {limit} per 1 minute", max(1, math.ceil(wait)))

    @staticmethod
    def _check_day(window: _Window, now: float, limit: int, chars: int) -> None:
        today = dt.datetime.fromtimestamp(now, dt.timezone.utc)
        if window.day != today.date().isoformat():
            window.day, window.chars = today.date().isoformat(), 0
        if limit != NO_LIMIT and window.chars + chars > limit:
            midnight = dt.datetime.combine(today.date() + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
            raise AccessDenied(429, f"Slowdown: {limit} characters per 1 day (UTC); {window.chars} used today",
                               max(1, math.ceil((midnight - today).total_seconds())))
