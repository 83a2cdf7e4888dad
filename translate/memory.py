"""Translation memory: hypotheses already computed, by model, settings and source sentence, in SQLite.

A sentence seen before (the same article run again, a boilerplate line shared by many articles,
a batch resumed) costs a lookup instead of a model call.  An entry's key is the *namespace* —
engine, model id, revision, compute type and every generation setting (``namespace()``) — plus
the normalized source sentence (Unicode NFC, runs of whitespace collapsed, ends stripped), so a
changed model or setting never serves an old translation.

Several processes may read and write one file at once (WAL journal, a busy timeout, short
``BEGIN IMMEDIATE`` write transactions).  The file is bounded: after a store that takes it past
``max_entries``, the least recently *used* entries (looked up or stored longest ago) are deleted
until ``EVICT_TO`` of the bound remains.  With ``max_age_days``, entries unused for longer than that are
deleted when the memory opens and, while it stays open, at most once every ``EXPIRE_EVERY`` seconds (on a
store), so a long-running page forgets what nobody has asked for in a while.  A file that is corrupt,
unreadable or unwritable turns the memory off for this process with one warning, never an error:
translation goes on without it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
import unicodedata
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path

from tarjama.translate.engine import Engine, GenerationOptions, Hypothesis

log = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 200_000  # ≈ 60–100 MB of typical news sentences with their translations
EVICT_TO = 0.9                 # after going over the bound, keep this share of it (most recently used)
EXPIRE_EVERY = 3600.0          # seconds between two sweeps for entries unused past max_age_days
_DAY = 86_400.0
_CHUNK = 500                   # sources per SELECT (SQLite's parameter limit is 999 on old builds)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS entries (
    ns INTEGER NOT NULL, source TEXT NOT NULL, text TEXT NOT NULL, score REAL NOT NULL,
    num_tokens INTEGER NOT NULL, token_ids BLOB NOT NULL, used REAL NOT NULL,
    PRIMARY KEY (ns, source)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_used ON entries (used);
"""


def namespace(engine: Engine, options: GenerationOptions) -> str:
    """What an entry depends on besides its source text: engine, model, revision, compute type, settings.

    An engine may also carry ``weights`` (the registry sets the Hub snapshot's commit or a local
    folder's fingerprint), so that a moving revision like ``main`` never serves another model's output.
    """
    settings = ",".join(f"{k}={v}" for k, v in sorted(options.as_dict().items()))
    revision = f"{engine.revision}@{engine.weights}" if getattr(engine, "weights", "") else engine.revision
    forced = getattr(engine, "forced_length", None)  # benchmarks' forced lengths: other outputs, other entries
    settings += f",forced={forced.tokens}/{forced.ratio}" if forced else ""
    return f"{engine.name}|{engine.model_id}|{revision}|{engine.compute_type}|{settings}"


def normalize(text: str) -> str:
    """The form a source sentence is stored under: NFC, whitespace runs collapsed to one space, stripped."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class SQLiteMemory:
    """The translation memory (``translate.translator.Memory``) in one SQLite file.

    ``enabled`` is False after the file proved unusable; lookups then find nothing and stores do nothing.
    """

    def __init__(self, path: str | Path, *, max_entries: int = DEFAULT_MAX_ENTRIES,
                 max_age_days: float | None = None, timeout: float = 30.0) -> None:
        if max_age_days is not None and not max_age_days > 0:  # `not >` also refuses NaN
            raise ValueError(f"max_age_days must be more than 0 days (or None to keep entries however old), "
                             f"not {max_age_days!r}")
        self.path = Path(path).expanduser()
        self.max_entries = max_entries
        self.max_age_days = max_age_days
        self._expired_at = 0.0  # when the last sweep for old entries ran (0: never)
        self.enabled = False
        self.problem: str | None = None
        self._lock = threading.Lock()  # one connection shared by the process's threads (the web app)
        self._ns: dict[str, int] = {}
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise sqlite3.OperationalError("cannot switch to the WAL journal")
            self._db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across app crashes
            self._db.executescript(_SCHEMA)
            self._expire(time.time())
            self.enabled = True
        except (sqlite3.Error, OSError) as err:
            self._disable(err)

    # -- Memory protocol ------------------------------------------------------------------------------

    def lookup(self, namespace: str, sources: Sequence[str]) -> dict[str, Hypothesis]:
        """Stored hypotheses for those of ``sources`` that have one (keys as given); marks them used."""
        if not self.enabled or not sources:
            return {}
        keys: dict[str, list[str]] = {}
        for s in sources:
            keys.setdefault(normalize(s), []).append(s)
        found: dict[str, Hypothesis] = {}
        try:
            with self._lock:
                ns = self._namespace(namespace, create=False)
                if ns is None:
                    return {}
                hits = []
                wanted = list(keys)
                for i in range(0, len(wanted), _CHUNK):
                    part = wanted[i : i + _CHUNK]
                    rows = self._db.execute(
                        f"SELECT source, text, score, num_tokens, token_ids FROM entries WHERE ns = ? "
                        f"AND source IN ({','.join('?' * len(part))})", (ns, *part)).fetchall()
                    for source, text, score, n, ids in rows:
                        hyp = Hypothesis(text, score, n, tuple(array("i", ids)))
                        found.update((original, hyp) for original in keys[source])
                        hits.append(source)
                if hits:
                    self._touch(ns, hits)
        except sqlite3.Error as err:
            self._disable(err)
            return {}
        return found

    def store(self, namespace: str, items: Mapping[str, Hypothesis]) -> None:
        """Remember ``items`` (source → hypothesis); then evict the least recently used past the bound."""
        if not self.enabled or not items:
            return
        now = time.time()
        rows = [(normalize(s), h.text, float(h.score), int(h.num_tokens), array("i", h.token_ids).tobytes(), now)
                for s, h in items.items()]
        try:
            with self._lock, self._transaction():
                ns = self._namespace(namespace, create=True)
                self._db.executemany(
                    "INSERT OR REPLACE INTO entries (ns, source, text, score, num_tokens, token_ids, used) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", [(ns, *r) for r in rows])
                self._evict()
                self._expire(now)
        except sqlite3.Error as err:
            self._disable(err)

    # -- housekeeping ---------------------------------------------------------------------------------

    def count(self) -> int:
        """Entries stored (all namespaces)."""
        if not self.enabled:
            return 0
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self.enabled = False

    def _namespace(self, name: str, *, create: bool) -> int | None:
        if name not in self._ns:
            if create:
                self._db.execute("INSERT OR IGNORE INTO namespaces (name) VALUES (?)", (name,))
            row = self._db.execute("SELECT id FROM namespaces WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            self._ns[name] = row[0]
        return self._ns[name]

    def _touch(self, ns: int, sources: list[str]) -> None:
        """Mark entries used now: eviction drops the least recently used first."""
        now = time.time()
        with self._transaction():
            self._db.executemany("UPDATE entries SET used = ? WHERE ns = ? AND source = ?",
                                 [(now, ns, s) for s in sources])

    def _evict(self) -> None:
        count = self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        if count > self.max_entries:
            drop = count - int(self.max_entries * EVICT_TO)
            self._db.execute("DELETE FROM entries WHERE (ns, source) IN "
                             "(SELECT ns, source FROM entries ORDER BY used LIMIT ?)", (drop,))

    def _expire(self, now: float) -> None:
        """Delete entries unused for more than ``max_age_days``; a sweep at most every ``EXPIRE_EVERY``
        seconds, so a busy page pays for one indexed DELETE an hour, not one per store."""
        if self.max_age_days is None or now - self._expired_at < EXPIRE_EVERY:
            return
        self._db.execute("DELETE FROM entries WHERE used < ?", (now - self.max_age_days * _DAY,))
        self._expired_at = now

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _disable(self, err: BaseException) -> None:
        self.enabled = False
        self.problem = f"{type(err).__name__}: {err}"
        log.warning("tarjama: translation memory %s is not usable (%s); going on without it", self.path,
                    self.problem)
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK``): the write lock is taken up front, so two
    writers queue on the busy timeout instead of failing on a read-to-write upgrade."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
