"""The editor page's history: real SQLite files, real threads.

Newest first, a re-saved article moves to the top, each owner keeps its newest ``limit``; no owner
sees, loads or deletes another's entries; the file is private; a bad file turns history off without
an exception; entries survive a restart.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from tarjama.history import DEFAULT_HISTORY, MAX_STATE_BYTES, History, HistoryEntry
from tarjama.paths import history_file, memory_file

HEADLINE = "المنظمة الدولية للهجرة تطلق برنامجا جديدا"


def state(n: int = 0) -> dict:
    return {"text": f"أعلنت المنظمة اليوم عن برنامج جديد رقم {n}.", "edits": {"en": {"0": f"edit {n}"}}}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "history.sqlite"


@pytest.fixture
def history(path: Path) -> History:
    opened = History(path)
    yield opened
    opened.close()


def save(history: History, owner: str, n: int, **kw) -> int:
    return history.save(owner, f"key-{n}", f"{HEADLINE} {n}", state(n), **kw)


# --------------------------------------------------------------------------- saving and listing


def test_save_then_list_newest_first(history: History) -> None:
    ids = [save(history, "A", n, languages=("en", "es"), edits=n) for n in range(3)]
    entries = history.list("A")
    assert [e.id for e in entries] == ids[::-1]
    newest = entries[0]
    assert isinstance(newest, HistoryEntry)
    assert (newest.headline, newest.owner, newest.languages, newest.edits) == (f"{HEADLINE} 2", "A", ("en", "es"), 2)
    assert entries[0].saved_at > entries[1].saved_at > entries[2].saved_at > 0


def test_resaving_an_article_updates_it_and_moves_it_to_the_top(history: History) -> None:
    first, _, _ = (save(history, "A", n) for n in range(3))
    again = history.save("A", "key-0", "عنوان معدل", {"text": "نص معدل"}, languages=("en",), edits=4)
    assert again == first  # the same entry: the page's selection still points at it
    entries = history.list("A")
    assert len(entries) == 3 and entries[0].id == first
    assert (entries[0].headline, entries[0].languages, entries[0].edits) == ("عنوان معدل", ("en",), 4)
    assert history.load("A", first) == {"text": "نص معدل"}


@pytest.mark.parametrize(("limit", "saved", "kept"), [(1, 3, 1), (3, 5, 3), (3, 2, 2), (DEFAULT_HISTORY, 52, 50)])
def test_each_owner_keeps_its_newest_limit(path: Path, limit: int, saved: int, kept: int) -> None:
    history = History(path, limit=limit)
    ids = [save(history, "A", n) for n in range(saved)]
    others = [save(history, "B", n) for n in range(2)]  # B's saves never prune A's entries, nor A's B's
    assert [e.id for e in history.list("A")] == ids[::-1][:kept]
    assert [e.id for e in history.list("B")] == others[::-1][: min(limit, 2)]
    assert all(history.load("A", i) is None for i in ids[: saved - kept])


def test_load_gives_back_the_state_and_stores_arabic_as_is(history: History, path: Path) -> None:
    entry = save(history, "A", 7)
    assert history.load("A", entry) == state(7)
    assert history.load("A", entry + 100) is None
    with sqlite3.connect(path) as db:
        (raw,) = db.execute("SELECT state FROM articles WHERE id = ?", (entry,)).fetchone()
    assert "أعلنت" in raw and "\\u" not in raw  # ensure_ascii=False: readable, and half the size


def test_delete(history: History) -> None:
    keep, gone = save(history, "A", 0), save(history, "A", 1)
    assert history.delete("A", gone) is True
    assert history.delete("A", gone) is False
    assert [e.id for e in history.list("A")] == [keep]
    assert history.load("A", gone) is None


# --------------------------------------------------------------------------- owners


@pytest.mark.parametrize(
    ("call", "nothing"),
    [
        pytest.param(lambda h, owner, i: h.list(owner), [], id="list"),
        pytest.param(lambda h, owner, i: h.load(owner, i), None, id="load"),
        pytest.param(lambda h, owner, i: h.delete(owner, i), False, id="delete"),
    ],
)
@pytest.mark.parametrize("intruder", ["B", "", "a"])
def test_no_owner_reaches_another_owners_entries(history: History, call, nothing, intruder: str) -> None:
    entry = save(history, "A", 0)
    assert call(history, intruder, entry) == nothing
    assert [e.id for e in history.list("A")] == [entry]
    assert history.load("A", entry) == state(0)


def test_the_same_key_under_two_owners_is_two_entries(history: History) -> None:
    a, b = save(history, "A", 0), save(history, "B", 0)
    assert a != b
    history.save("B", "key-0", "B's headline", {"text": "B"})
    assert history.load("A", a) == state(0) and history.load("B", b) == {"text": "B"}


def test_an_empty_owner_cannot_save(history: History) -> None:
    with pytest.raises(ValueError, match="owner"):
        history.save("", "k", HEADLINE, state())


# --------------------------------------------------------------------------- limits


def test_limit_zero_keeps_nothing_and_makes_no_file(path: Path) -> None:
    history = History(path, limit=0)
    assert history.save("A", "k", HEADLINE, state()) == 0
    assert history.list("A") == [] and history.load("A", 1) is None and history.delete("A", 1) is False
    assert (history.available, history.problem) == (False, None)
    assert not path.exists() and not path.parent.exists()


def test_a_negative_limit_is_refused(path: Path) -> None:
    with pytest.raises(ValueError, match="limit"):
        History(path, limit=-1)


def test_a_state_too_large_is_refused_naming_the_limit(history: History) -> None:
    big = {"text": "ب" * (MAX_STATE_BYTES // 2 + 10)}  # two bytes per letter in UTF-8
    with pytest.raises(ValueError, match="5 MB"):
        history.save("A", "k", HEADLINE, big)
    assert history.list("A") == [] and history.available
    assert history.save("A", "k", HEADLINE, {"text": "ب" * (MAX_STATE_BYTES // 2 - 100)}) > 0


def test_a_state_that_is_not_a_dict_is_refused(history: History) -> None:
    with pytest.raises(TypeError, match="dict"):
        history.save("A", "k", HEADLINE, ["not", "a", "dict"])


# --------------------------------------------------------------------------- the file


def test_the_file_and_its_new_folder_are_private(history: History, path: Path) -> None:
    save(history, "A", 0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600  # SQLite copies the database's mode


def test_history_file_is_beside_the_memory(tarjama_cache: Path) -> None:
    assert history_file() == tarjama_cache / "history.sqlite"
    assert history_file().parent == memory_file().parent


def _random_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite"
    path.write_bytes(os.urandom(4096))
    return path


def _a_folder(tmp_path: Path) -> Path:
    (tmp_path / "history.sqlite").mkdir()
    return tmp_path / "history.sqlite"


def _under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("not a folder")
    return tmp_path / "a-file" / "history.sqlite"


@pytest.mark.parametrize("make", [_random_bytes, _a_folder, _under_a_file], ids=["not-a-database", "a-folder",
                                                                                 "under-a-file"])
def test_an_unusable_file_turns_history_off_with_one_warning(tmp_path: Path, make, caplog) -> None:
    path = make(tmp_path)
    with caplog.at_level(logging.WARNING, logger="tarjama.history"):
        history = History(path)
        assert history.save("A", "k", HEADLINE, state()) == 0
        assert history.list("A") == [] and history.load("A", 1) is None and history.delete("A", 1) is False
    assert history.available is False and history.problem
    warnings = [r for r in caplog.records if r.name == "tarjama.history"]
    assert len(warnings) == 1 and str(path) in warnings[0].getMessage()


def test_damage_found_later_also_turns_history_off(path: Path, caplog) -> None:
    history = History(path, limit=500)
    for n in range(300):
        save(history, "A", n)
    history.close()
    history = History(path)  # opens fine: the damage is found on first use
    with open(path, "r+b") as f:  # every page after the first overwritten (a disk fault, a bad copy)
        f.seek(4096)
        f.write(os.urandom(path.stat().st_size - 4096))
    with caplog.at_level(logging.WARNING, logger="tarjama.history"):
        history.list("A")
        history.load("A", 5)
        assert save(history, "A", 999) == 0  # no exception
    assert history.available is False and "not usable" in caplog.text


def test_entries_survive_a_restart(path: Path) -> None:
    history = History(path)
    ids = [save(history, owner, n, languages=("es",), edits=1) for owner in "AB" for n in range(3)]
    before = history.list("A")
    history.close()
    assert history.list("A") == [] and history.save("A", "k", "h", {}) == 0  # closed: off, no error
    reopened = History(path)
    assert reopened.list("A") == before
    assert reopened.load("B", ids[-1]) == state(2)


# --------------------------------------------------------------------------- threads


@pytest.mark.parametrize("shared", [True, False], ids=["one-instance", "two-instances"])
def test_two_threads_save_at_once(path: Path, shared: bool) -> None:
    histories = [History(path, limit=1000)] * 2 if shared else [History(path, limit=1000) for _ in range(2)]
    n, errors, ids = 100, [], [[], []]
    barrier = threading.Barrier(2)

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(n):
                ids[worker].append(histories[worker].save("A", f"w{worker}-{i}", f"{worker}-{i}", {"i": i}))
                histories[worker].list("A")
        except Exception as err:  # the assertion below names it
            errors.append(err)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and all(h.available for h in histories)
    assert all(ids[0] + ids[1]) and len(set(ids[0] + ids[1])) == 2 * n
    entries = histories[0].list("A")
    assert len(entries) == 2 * n
    assert [e.headline for e in entries if e.headline.startswith("0-")] == [f"0-{i}" for i in reversed(range(n))]
    assert histories[1].load("A", ids[0][5]) == {"i": 5}
