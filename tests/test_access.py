"""API keys and limits: the key file's refusals name the line, keys are checked and limited, and a key never
appears in a message.  The clock is a fake, so windows and day boundaries are exact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tarjama.server.access import (
    INVALID_KEY,
    NEED_KEY,
    Access,
    AccessDenied,
    ApiKeysError,
    load_api_keys,
    loose_permissions,
)

KEY_A = "k-mastodon-0123456789abcdef"
KEY_B = "k-weblate-0123456789abcdef"
HEADER = "key,name,requests_per_minute,characters_per_day"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keys.csv"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_a_key_file_is_read(tmp_path: Path) -> None:
    keys = load_api_keys(_file(tmp_path, f"# clients\n{HEADER}\n{KEY_A},mastodon,2,100\n\n{KEY_B},weblate,,\n"))
    by_name = {k.name: k for k in keys.values()}
    assert by_name["mastodon"].requests_per_minute == 2 and by_name["mastodon"].characters_per_day == 100
    assert by_name["weblate"].requests_per_minute == -1 and by_name["weblate"].characters_per_day == -1
    assert KEY_A not in repr(keys)  # only digests are kept


def test_a_tab_separated_file_is_read(tmp_path: Path) -> None:
    keys = load_api_keys(_file(tmp_path, HEADER.replace(",", "\t") + f"\n{KEY_A}\tmastodon\t5\t\n"))
    assert [k.requests_per_minute for k in keys.values()] == [5]


@pytest.mark.parametrize(("text", "says"), [
    ("", "line 1: the first row must be the header"),
    ("key,name\nabc,x\n", "line 1: the first row must be the header"),
    (f"{HEADER}\n", "no keys below the header"),
    (f"{HEADER}\nshort,x,,\n", "line 2: a key must be at least 16 characters"),
    (f"{HEADER}\n{KEY_A},,,\n", "line 2: give each key a name"),
    (f"{HEADER}\n{KEY_A},a,,\n{KEY_B},a,,\n", "line 3: give each key a name of its own"),
    (f"{HEADER}\n{KEY_A},a,,\n{KEY_A},b,,\n", "line 3: this key is already on an earlier line"),
    (f"{HEADER}\n{KEY_A},a,ten,\n", "line 2: requests_per_minute must be a whole number"),
    (f"{HEADER}\n{KEY_A},a,,0\n", "line 2: characters_per_day must be a whole number above 0"),
    (f"{HEADER}\n{KEY_A},a,1,2,3\n", "line 2: 5 columns"),
])
def test_a_bad_key_file_names_the_line(tmp_path: Path, text: str, says: str) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(ApiKeysError) as err:
        load_api_keys(path)
    assert str(path) in str(err.value) and says in str(err.value)
    assert KEY_A not in str(err.value) and KEY_B not in str(err.value)


def test_an_unreadable_key_file(tmp_path: Path) -> None:
    with pytest.raises(ApiKeysError, match="cannot read"):
        load_api_keys(tmp_path / "missing.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ApiKeysError):
        load_api_keys(tmp_path / "bin.csv")


def test_loose_permissions_are_noticed(tmp_path: Path) -> None:
    path = _file(tmp_path, f"{HEADER}\n{KEY_A},a,,\n")
    assert not loose_permissions(path)
    path.chmod(0o644)
    assert loose_permissions(path)


def _access(tmp_path: Path, now: list[float], **kwargs) -> Access:
    keys = load_api_keys(_file(tmp_path, f"{HEADER}\n{KEY_A},mastodon,2,100\n{KEY_B},weblate,,\n"))
    return Access(keys, clock=lambda: now[0], **kwargs)


@pytest.mark.parametrize(("require", "key", "status", "message"), [
    (False, KEY_A + "x", 403, INVALID_KEY),
    (True, KEY_A + "x", 403, INVALID_KEY),
    (True, None, 400, NEED_KEY),
    (True, "", 400, NEED_KEY),
])
def test_keys_are_checked(tmp_path: Path, require: bool, key: str | None, status: int, message: str) -> None:
    access = _access(tmp_path, [0.0], require_key=require)
    with pytest.raises(AccessDenied) as err:
        access.identify(key)
    assert (err.value.status, str(err.value)) == (status, message)


def test_known_keys_and_no_key(tmp_path: Path) -> None:
    access = _access(tmp_path, [0.0])
    assert access.identify(KEY_A).name == "mastodon"
    assert access.identify(None) is None  # allowed without --require-key
    assert Access().identify("anything at all") is None  # keys off: any value is ignored, as LibreTranslate


def test_requests_per_minute_slide(tmp_path: Path) -> None:
    now = [1000.0]
    access = _access(tmp_path, now)
    key = access.identify(KEY_A)
    access.admit(key, "c", 1, 10)
    now[0] += 20
    access.admit(key, "c", 1, 10)
    with pytest.raises(AccessDenied) as err:
        access.admit(key, "c", 1, 10)
    assert err.value.status == 429 and str(err.value) == "Slowdown: 2 per 1 minute"
    assert err.value.headers == {"Retry-After": "40"}  # the first request leaves the window 40 s from now
    now[0] += 40.5
    access.admit(key, "c", 1, 10)
    unlimited = access.identify(KEY_B)
    for _ in range(50):
        access.admit(unlimited, "c", 1, 10)


def test_a_batch_counts_one_request_per_text(tmp_path: Path) -> None:
    access = _access(tmp_path, [0.0])
    key = access.identify(KEY_A)
    access.admit(key, "c", 1, 0)
    with pytest.raises(AccessDenied, match="Slowdown: 2 per 1 minute"):
        access.admit(key, "c", 2, 0)
    with pytest.raises(AccessDenied) as err:  # more than a minute's allowance: waiting would never help
        access.admit(key, "c", 3, 0)
    assert err.value.status == 400 and "send smaller batches" in str(err.value)


def test_a_refused_request_is_refunded(tmp_path: Path) -> None:
    access = _access(tmp_path, [0.0])
    key = access.identify(KEY_A)
    access.admit(key, "c", 2, 90)
    access.refund(key, "c", 2, 90)  # e.g. the model queue was full
    access.admit(key, "c", 2, 100)


def test_idle_clients_are_forgotten(tmp_path: Path) -> None:
    now = [0.0]
    access = _access(tmp_path, now, req_limit=5)
    for i in range(100):
        access.admit(None, f"10.0.0.{i}")
    now[0] += 3 * 86400
    access.admit(None, "10.0.1.1")
    assert access.tracked == 1


def test_characters_per_day_reset_at_utc_midnight(tmp_path: Path) -> None:
    day = dt.datetime(2026, 12, 1, 23, 0, tzinfo=dt.timezone.utc).timestamp()
    now = [day]
    access = _access(tmp_path, now)
    key = access.identify(KEY_A)
    access.admit(key, "c", 1, 90)
    now[0] += 61
    with pytest.raises(AccessDenied) as err:
        access.admit(key, "c", 1, 20)
    assert err.value.status == 429 and "100 characters per 1 day" in str(err.value)
    assert int(err.value.headers["Retry-After"]) == 3600 - 61
    now[0] += 3600  # the next UTC day
    access.admit(key, "c", 1, 100)


def test_clients_without_a_key_are_limited_per_address(tmp_path: Path) -> None:
    access = _access(tmp_path, [0.0], req_limit=1)
    access.admit(None, "10.0.0.1")
    access.admit(None, "10.0.0.2")
    with pytest.raises(AccessDenied, match="Slowdown: 1 per 1 minute"):
        access.admit(None, "10.0.0.1")


def test_require_key_needs_keys() -> None:
    with pytest.raises(ApiKeysError, match="--require-key needs --api-keys"):
        Access(None, require_key=True)
