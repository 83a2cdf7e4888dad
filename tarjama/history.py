"""The editor page's history: recent articles with their edits, in one local SQLite file.

An editor who reloads the page, or comes back tomorrow, finds the articles they worked on with their
edited sentences, instead of translating again and redoing the edits.  Each entry belongs to an
*owner* — the browser session's cookie token — and is never listed, loaded or deleted for another
owner: the page may serve several people, and an article under edit is not theirs to read.

An article is saved under a *key* the page chooses (its source, its text's digest): saving the same
key again replaces the entry and moves it to the top, so the list holds articles, not versions.
Each owner keeps the newest ``limit`` entries (``DEFAULT_HISTORY``); ``limit=0`` keeps nothing.

The file is private (0600, its folder 0700 when created here): it holds unpublished copy.  Several
threads share one connection under a lock, several processes one file (WAL journal, busy timeout,
``BEGIN IMMEDIATE`` writes).  A file that is not a database, or a place that cannot be written, turns
the history off for this process with one warning (``available`` False, ``problem`` says why): the page
goes on without it.  Standard library only.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_HISTORY = 50                 # entries kept per owner
MAX_STATE_BYTES = 5 * 1024 * 1024    # one article's state, serialised: far above any news article with edits
_MAX_STATE_TEXT = "5 MB"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY, owner TEXT NOT NULL, key TEXT NOT NULL, headline TEXT, saved_at REAL,
    languages TEXT, edits INTEGER, state TEXT NOT NULL, UNIQUE (owner, key));
CREATE INDEX IF NOT EXISTS articles_owner_saved ON articles (owner, saved_at);
"""
_NEWEST_FIRST = "ORDER BY saved_at DESC, id DESC"


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the page's history list: what it shows without loading the article's state."""

    id: int
    headline: str
    saved_at: float
    owner: str
    languages: tuple[str, ...]
    edits: int  # sentences the editor changed


class History:
    """Recent articles per owner in one SQLite file (see the module's docstring)."""

    def __init__(self, path: str | Path, *, limit: int = DEFAULT_HISTORY, timeout: float = 30.0) -> None:
        if limit < 0:
            raise ValueError(f"limit must be 0 (keep nothing) or more, not {limit!r}")
        self.path = Path(path).expanduser()
        self.limit = limit
        self.available = False
        self.problem: str | None = None
        self._lock = threading.Lock()  # one connection shared by the page's threads
        self._db: sqlite3.Connection | None = None
        if limit == 0:
            return  # keeping nothing: no file either (``problem`` stays None: off by choice)
        try:
            self._db = _connect(self.path, timeout)
            self.available = True
        except (sqlite3.Error, OSError) as err:
            self._disable(err)

    # -- the page's calls ------------------------------------------------------------------------------

    def save(self, owner: str, key: str, headline: str, state: dict[str, Any], *,
             languages: Iterable[str] = (), edits: int = 0) -> int:
        """Save an article's state for ``owner`` (replacing the entry with the same key, now the newest);
        returns its id, or 0 when nothing is kept (``limit=0``, history off).

        Raises (when history is on) ValueError for an empty owner (every cookie-less caller would share
        it) or a state over ``MAX_STATE_BYTES`` serialised, TypeError for a state JSON cannot hold.
        """
        if not self.available:
            return 0
        if not owner:
            raise ValueError("history entries need an owner (the session's token); got an empty one")
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict, not {type(state).__name__}")
        row = (headline, json.dumps(list(languages), ensure_ascii=False), int(edits), _serialise(state))
        with self._lock:
            if self._db is None:  # closed, or turned off, by another thread meanwhile
                return 0
            try:
                with self._transaction(self._db) as db:
                    entry = _upsert(db, owner, key, row)
                    db.execute(f"DELETE FROM articles WHERE owner = ? AND id NOT IN "
                               f"(SELECT id FROM articles WHERE owner = ? {_NEWEST_FIRST} LIMIT ?)",
                               (owner, owner, self.limit))
                return entry
            except sqlite3.Error as err:
                self._disable(err)
                return 0

    def list(self, owner: str) -> builtins.list[HistoryEntry]:
        """``owner``'s entries, newest first (never another owner's)."""
        rows = self._query(f"SELECT id, headline, saved_at, owner, languages, edits FROM articles "
                           f"WHERE owner = ? {_NEWEST_FIRST}", (owner,))
        return [HistoryEntry(i, h or "", t or 0.0, o, _languages(lang), e or 0) for i, h, t, o, lang, e in rows]

    def load(self, owner: str, id: int) -> dict[str, Any] | None:
        """The state saved as entry ``id``; None when there is none of ``owner``'s by that id."""
        rows = self._query("SELECT state FROM articles WHERE owner = ? AND id = ?", (owner, id))
        if not rows:
            return None
        try:
            state = json.loads(rows[0][0])
        except ValueError:  # written by us as JSON: only damage gets here
            log.warning("tarjama: history entry %s in %s is damaged; skipping it", id, self.path)
            return None
        return state if isinstance(state, dict) else None

    def delete(self, owner: str, id: int) -> bool:
        """Delete ``owner``'s entry ``id``; False when there was none (or it is another owner's)."""
        if not self.available or not owner:
            return False
        with self._lock:
            if self._db is None:
                return False
            try:
                with self._transaction(self._db) as db:
                    return db.execute("DELETE FROM articles WHERE owner = ? AND id = ?", (owner, id)).rowcount > 0
            except sqlite3.Error as err:
                self._disable(err)
                return False

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self.available = False

    # -- plumbing ----------------------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple) -> builtins.list[tuple]:
        """Rows of a read; none for an empty owner or when history is off (which a failure turns it)."""
        if not self.available or not params[0]:
            return []
        with self._lock:
            if self._db is None:
                return []
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as err:
                self._disable(err)
                return []

    @staticmethod
    @contextlib.contextmanager
    def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``: the write lock up front, so two writers (another History's
        threads, other processes) queue on the busy timeout instead of failing on a lock upgrade."""
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _disable(self, err: BaseException) -> None:
        """History off for this process, with one warning; called under the lock (or before any thread)."""
        self.available = False
        self.problem = f"{type(err).__name__}: {err}"
        log.warning("tarjama: history file %s is not usable (%s); the page goes on without a history",
                    self.path, self.problem)
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    """Open (creating it private) and prepare the file; raises what makes it unusable."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # SQLite gives -wal and -shm the same mode
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise sqlite3.OperationalError("cannot switch to the WAL journal")
        db.execute("PRAGMA synchronous = NORMAL")
        db.executescript(_SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


def _serialise(state: dict[str, Any]) -> str:
    text = json.dumps(state, ensure_ascii=False)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_STATE_BYTES:
        raise ValueError(f"this article's state is {size / 1_048_576:.1f} MB serialised, over the history's "
                         f"{_MAX_STATE_TEXT} limit; it is not saved")
    return text


def _upsert(db: sqlite3.Connection, owner: str, key: str, row: tuple[str, str, int, str]) -> int:
    """Insert or replace the (owner, key) entry as the owner's newest; its id.

    ``saved_at`` is kept above the owner's newest so the order holds within a clock tick or after the
    clock steps back; the id of a re-saved article stays, so the page's selection keeps pointing at it.
    """
    newest = db.execute("SELECT MAX(saved_at) FROM articles WHERE owner = ?", (owner,)).fetchone()[0]
    now = max(time.time(), (newest or 0.0) + 1e-6)
    found = db.execute("SELECT id FROM articles WHERE owner = ? AND key = ?", (owner, key)).fetchone()
    if found:
        db.execute("UPDATE articles SET headline = ?, languages = ?, edits = ?, state = ?, saved_at = ? "
                   "WHERE id = ?", (*row, now, found[0]))
        return found[0]
    cursor = db.execute("INSERT INTO articles (owner, key, headline, languages, edits, state, saved_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", (owner, key, *row, now))
    return cursor.lastrowid


def _languages(text: str | None) -> tuple[str, ...]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()
