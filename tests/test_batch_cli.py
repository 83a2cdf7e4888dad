"""``tarjama batch`` as a real process: kill -9 twice and resume, Ctrl-C, worker processes."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from test_batch import ARABIC, ENGLISH, ERROR_KEYS, good_articles, jsonl, multiline_csv, read_jsonl, record_pairs

from tarjama.batch import BarProgress, BatchConfig, run_batch

N_GOOD = 60


@pytest.fixture(scope="module")
def models_yaml(one_thread_models_yaml: Path) -> Path:
    return one_thread_models_yaml


@pytest.fixture(scope="module")
def feed(tmp_path_factory, corpus: Path) -> tuple[Path, set[str], set[str]]:
    """60 short corpus articles and 3 English ones, as JSONL: (path, good ids, bad ids)."""
    arts = good_articles(corpus, N_GOOD)
    rows = arts[:20] + [{"id": f"en-{i}", "text": ENGLISH} for i in range(3)] + arts[20:]
    path = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    path.write_bytes(jsonl(rows))
    return path, {a["id"] for a in arts}, {f"en-{i}" for i in range(3)}


def start(*args: str, models_yaml: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "tarjama", "batch", *args, "--models", str(models_yaml)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def lines_in(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def wait_for_lines(proc: subprocess.Popen, path: Path, k: int, timeout: float = 240) -> int:
    """Poll until the output holds ``k`` complete lines (the run is mid-way), then return the count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (n := lines_in(path)) >= k:
            return n
        if proc.poll() is not None:
            pytest.fail(f"the batch ended (rc {proc.returncode}) before {k} lines: {proc.stderr.read().decode()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"no {k} lines in {timeout}s")


def assert_exactly_once_so_far(out: Path, errors: Path, good: set[str], bad: set[str], *, complete: bool) -> None:
    """No id twice in output ∪ errors, every line whole; when ``complete``, no id missing either."""
    results, failures = read_jsonl(out), read_jsonl(errors)
    ids = [r["id"] for r in results] + [e["id"] for e in failures]
    assert len(ids) == len(set(ids)), "an id was written twice"
    assert {r["id"] for r in results} <= good and {e["id"] for e in failures} <= bad
    assert all(set(e) == ERROR_KEYS and e["reason"] == "not_arabic" for e in failures)
    if complete:
        assert set(ids) == good | bad


def test_kill_9_twice_then_resume_exactly_once(tmp_path: Path, feed, models_yaml: Path) -> None:
    """Crash at two different points (the second during a resume); nothing lost, nothing doubled."""
    path, good, bad = feed
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    args = (str(path), "--to", "en", "--out", str(out), "--chunk", "4", "--no-memory")
    total = len(good) + len(bad)

    first = start(*args, models_yaml=models_yaml)
    wait_for_lines(first, out, 8)
    first.send_signal(signal.SIGKILL)
    assert first.wait(30) == -signal.SIGKILL
    done_1 = lines_in(out) + lines_in(errors)
    assert 8 <= done_1 < total
    assert_exactly_once_so_far(out, errors, good, bad, complete=False)

    second = start(*args, "--resume", models_yaml=models_yaml)
    wait_for_lines(second, out, done_1 + 16)
    second.send_signal(signal.SIGKILL)
    assert second.wait(30) == -signal.SIGKILL
    done_2 = lines_in(out) + lines_in(errors)
    assert done_1 < done_2 < total
    assert_exactly_once_so_far(out, errors, good, bad, complete=False)

    with out.open("ab") as f:  # what a kill in the middle of writing a line would leave
        f.write(b'{"schema": "tarjama.article/1", "id": "' + sorted(good)[0].encode() + b'", "tit')
    final = run_cli("batch", *args, "--resume", "--models", str(models_yaml))
    err = final.stderr.decode()
    assert final.returncode == 1, err
    assert f"repaired {out}: removed a torn last line" in err
    assert f"{done_2} already done" in err
    assert_exactly_once_so_far(out, errors, good, bad, complete=True)
    assert out.read_bytes().endswith(b"\n")


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path: Path, feed, models_yaml: Path) -> None:
    rows = read_jsonl(feed[0])[:24]
    path = tmp_path / "feed.jsonl"
    path.write_bytes(jsonl(rows))
    good, bad = {r["id"] for r in rows} & feed[1], {r["id"] for r in rows} & feed[2]
    out, errors = tmp_path / "out dir" / "night.jsonl", tmp_path / "out dir" / "night.errors.jsonl"
    proc = start(str(path), "--to", "en", "--out", str(out), "--chunk", "4", "--no-memory", models_yaml=models_yaml)
    wait_for_lines(proc, out, 8)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    err = stderr.decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "tarjama: interrupted: " in err
    assert out.read_bytes().endswith(b"\n")
    assert_exactly_once_so_far(out, errors, good, bad, complete=False)
    assert lines_in(out) + lines_in(errors) < len(good) + len(bad)
    command = err.split("tarjama: resume with: ", 1)[1].splitlines()[0]
    argv = shlex.split(command)
    assert argv[:2] == ["tarjama", "batch"] and argv[-1] == "--resume" and str(out) in argv
    resumed = run_cli(*argv[1:])
    assert resumed.returncode == 1, resumed.stderr.decode()
    assert_exactly_once_so_far(out, errors, good, bad, complete=True)


def test_workers_split_the_cores_and_one_process_writes(tmp_path: Path, feed, models_yaml: Path) -> None:
    path, good, bad = feed
    cfg = BatchConfig(inputs=(str(path),), out=tmp_path / "out.jsonl", targets=("en",), workers=2, chunk=8,
                      models=str(models_yaml), memory=False, limit=40)
    report = run_batch(cfg)
    assert (report.translated + report.failed, report.interrupted) == (40, None)
    assert_exactly_once_so_far(cfg.out, cfg.errors_path, good, bad, complete=False)
    resumed = run_batch(BatchConfig(**{**cfg.__dict__, "resume": True, "limit": None}))
    assert resumed.skipped == 40
    assert_exactly_once_so_far(cfg.out, cfg.errors_path, good, bad, complete=True)


def test_progress_bar_shows_done_total_and_failures() -> None:
    stream = io.StringIO()
    bar = BarProgress(stream)
    bar.start(10)
    bar.advance(ok=3, failed=1)
    bar.close()
    text = stream.getvalue()
    assert "4/10" in text and "failed=1" in text and "article/s" in text


def test_progress_lines_at_the_start_and_after_the_first_article(tmp_path: Path, feed, models_yaml: Path) -> None:
    """Without a terminal: a line at once (0/total) and one after article 1, not 10 s or a chunk later."""
    path = tmp_path / "feed.jsonl"
    path.write_bytes(jsonl(read_jsonl(feed[0])[:5]))
    proc = run_cli("batch", str(path), "--to", "en", "--out", str(tmp_path / "out.jsonl"), "--no-memory",
                   "--models", str(models_yaml))
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == 0, lines
    at_start = next(i for i, line in enumerate(lines) if line.startswith("tarjama: 0/5 articles (0 failed); "))
    after_one = next(i for i, line in enumerate(lines) if line.startswith("tarjama: 1/5 articles (0 failed), "))
    done = next(i for i, line in enumerate(lines) if line.startswith("tarjama: batch done: 5 translated"))
    assert at_start < after_one < done
    loading = lines.index("tarjama: loading models (ar-en) …")
    ready = next(i for i, line in enumerate(lines) if re.match(r"tarjama: models ready in \d+\.\d s$", line))
    assert loading < ready < at_start  # the models' load is said, not seconds of silence


def test_plain_text_piped_to_batch_is_one_message(tmp_path: Path, models_yaml: Path) -> None:
    article = f"{ARABIC}\n\nوأضاف أن الوفد غادر.\n\nوتابع: سنعود الأسبوع المقبل.\n".encode()
    proc = run_cli("batch", "-", "--to", "en", "--out", str(tmp_path / "out.jsonl"), "--models", str(models_yaml),
                   stdin=article, timeout=60)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    (line,) = [line for line in err.splitlines() if line.startswith("tarjama: error: ")]
    assert "standard input" in line and "JSON Lines" in line and "tarjama translate -" in line
    assert not (tmp_path / "out.errors.jsonl").exists()


def test_duplicates_exactly_once_across_limit_and_resume(tmp_path: Path, feed, models_yaml: Path) -> None:
    """Every input record, as (id, source), once in output ∪ errors after --limit, --resume, --resume."""
    arts = read_jsonl(feed[0])[:6]
    dup = {"id": arts[0]["id"], "text": ARABIC}
    rows = [arts[0], arts[1], dup, arts[2], {"id": "en-0", "text": ENGLISH}, {"id": "en-0", "text": ARABIC},
            arts[3], dup, arts[4]]
    path = tmp_path / "feed.jsonl"
    path.write_bytes(jsonl(rows))
    table = multiline_csv(tmp_path / "feed.csv", 3, header="id,title,text", ids=True)
    table.write_text(table.read_text(encoding="utf-8").replace("\nn1,", f"\n{arts[5]['id']},"), encoding="utf-8")
    table.write_text(table.read_text(encoding="utf-8") + f'{arts[1]["id"]},,"{ARABIC}\n{ARABIC}"\n', encoding="utf-8")
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    args = ("batch", str(path), str(table), "--to", "en", "--out", str(out), "--chunk", "2", "--no-memory",
            "--models", str(models_yaml))
    expected = Counter([(r["id"], f"{path}:{n}") for n, r in enumerate(rows, start=1)]
                       + [(i, f"{table}:{n}") for n, i in enumerate(["n0", arts[5]["id"], "n2", arts[1]["id"]], 2)])
    for extra in (("--limit", "4"), ("--resume", "--limit", "4")):
        proc = run_cli(*args, *extra)
        assert proc.returncode in (0, 1) and "stopped at --limit" in proc.stderr.decode(), proc.stderr.decode()
    so_far = sum(record_pairs(out, errors).values())
    final = run_cli(*args, "--resume")
    err = final.stderr.decode()
    assert final.returncode == 1 and f"{so_far} already done" in err, err
    assert record_pairs(out, errors) == expected
    dups = {e["source"] for e in read_jsonl(errors) if e["reason"] == "duplicate_id"}
    assert dups == {f"{path}:3", f"{path}:6", f"{path}:8", f"{table}:5"}


@pytest.mark.slow
def test_bench_batch_runs_on_tiny_models(models_yaml: Path, corpus: Path) -> None:
    """bench/batch.py end to end, tiny: both modes run and report; speed is never asserted."""
    proc = subprocess.run([sys.executable, "bench/batch.py", "--models", str(models_yaml), "--articles", "3",
                           "--repeats", "1", "--to", "en", "--json"], capture_output=True, text=True, cwd=REPO,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    modes = json.loads(proc.stdout)["modes"]
    assert set(modes) == {"article", "batch"} and modes["article"]["ratio_vs_article"] == 1.0
    assert all(m["articles_per_min_median"] > 0 for m in modes.values())
