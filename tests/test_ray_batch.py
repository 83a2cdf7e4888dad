"""``tarjama batch --engine ray`` on a real Ray instance: the same output as the local engine, exactly once
when a Ray worker or the main process is killed, resumable across engines, Ctrl-C, and no Ray installed.

One Ray instance serves the module (starting one costs ~10 s here): the runs join it with ``--ray-address``,
as they would join a cluster; one run starts its own private instance, the default.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from test_batch import ENGLISH, build_poison_batch, good_articles, jsonl, read_jsonl
from test_batch_cli import lines_in, wait_for_lines

from tarjama.batch.ray_engine import RAY_INSTALL

pytestmark = pytest.mark.slow
ACTOR = "ChunkTranslator"  # Ray Data names the pool's actors MapWorker(MapBatches(ChunkTranslator))


@pytest.fixture(scope="module")
def models_yaml(one_thread_models_yaml: Path) -> Path:
    """One thread a model; each Ray worker gets --cpus-per-worker 1: the same threads as the local engine."""
    return one_thread_models_yaml


@pytest.fixture(scope="module")
def cluster() -> str:
    """A Ray instance on 127.0.0.1 with its dashboard (the state API lists actors through it); its address."""
    os.environ.update(RAY_USAGE_STATS_ENABLED="0", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",
                      RAY_DATA_DISABLE_PROGRESS_BARS="1")
    import ray

    temp = tempfile.mkdtemp(prefix="tj-ray-")  # short: Ray's sockets live under it (AF_UNIX paths ≤ 107 bytes)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = ray.init(address="local", num_cpus=2, include_dashboard=True, dashboard_host="127.0.0.1",
                       dashboard_port=port, log_to_driver=False, logging_level=logging.WARNING, _temp_dir=temp)
    os.environ["RAY_DASHBOARD_ADDRESS"] = f"http://127.0.0.1:{port}"
    yield context.address_info["gcs_address"]
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def ray_args(cluster: str, workers: int = 2) -> tuple[str, ...]:
    return ("--engine", "ray", "--ray-address", cluster, "--num-workers", str(workers), "--cpus-per-worker", "1")


def batch(*args: str, models_yaml: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return run_cli("batch", *args, "--models", str(models_yaml), "--no-memory", timeout=timeout)


def start(*args: str, models_yaml: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tarjama", "batch", *args, "--models", str(models_yaml),
                             "--no-memory"], cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def by_id(path: Path) -> dict[str, dict]:
    """Output lines by id, timings aside (the only field that differs between two runs of the same work)."""
    rows = read_jsonl(path)
    assert len(rows) == len({r["id"] for r in rows}), "an id was written twice"
    return {r["id"]: {k: v for k, v in r.items() if k != "timings"} for r in rows}


def accounted(out: Path, errors: Path) -> list[str]:
    """Every id in output ∪ errors (duplicate_id lines, which repeat an id by design, aside)."""
    return [r["id"] for r in read_jsonl(out)] + [e["id"] for e in read_jsonl(errors) if e["reason"] != "duplicate_id"]


def chunk_actors() -> list:
    from ray.util.state import list_actors

    return [a for a in list_actors(address=os.environ["RAY_DASHBOARD_ADDRESS"], detail=True, limit=1000)
            if ACTOR in (a.class_name or "")]


# --------------------------------------------------------------------------- the same output


@pytest.fixture(scope="module")
def poison(tmp_path_factory, corpus: Path) -> tuple[list[str], Path]:
    root = tmp_path_factory.mktemp("ray-poison")
    inputs, _, _, _ = build_poison_batch(root, corpus)  # 205 articles, poison of every kind, duplicate ids
    return inputs, root


def test_ray_output_equals_the_local_engine_id_for_id(poison, models_yaml: Path, cluster: str) -> None:
    inputs, root = poison
    outs = {}
    for engine, extra in (("local", ()), ("ray", ray_args(cluster))):
        out = root / f"{engine}.jsonl"
        proc = batch(*inputs, "--to", "en", "--summary", "--out", str(out), "--chunk", "8", *extra,
                     models_yaml=models_yaml)
        assert proc.returncode == 1, proc.stderr.decode()[-3000:]  # 1: some records failed, as they must
        outs[engine] = (out, root / f"{engine}.errors.jsonl", proc.stderr.decode())
    (local, local_errors, _), (ray_out, ray_errors, ray_log) = outs["local"], outs["ray"]
    assert len(by_id(local)) >= 200
    assert by_id(ray_out) == by_id(local)  # translations, scores, flags, summaries: identical
    key = lambda e: (e["id"], e["source"])  # noqa: E731
    assert sorted(read_jsonl(ray_errors), key=key) == sorted(read_jsonl(local_errors), key=key)
    ids = accounted(ray_out, ray_errors)
    assert len(ids) == len(set(ids))
    manifests = [json.loads((root / f"{engine}.manifest.json").read_text()) for engine in ("local", "ray")]
    assert manifests[0] == manifests[1]  # so either engine may resume the other's run
    assert "batch done:" in ray_log and "Traceback" not in ray_log


# --------------------------------------------------------------------------- faults


@pytest.fixture(scope="module")
def feed(tmp_path_factory, corpus: Path) -> tuple[Path, set[str]]:
    """120 short corpus articles and 3 English ones, as JSONL: (path, every id)."""
    arts = good_articles(corpus, 120)
    rows = arts[:30] + [{"id": f"en-{i}", "text": ENGLISH} for i in range(3)] + arts[30:]
    path = tmp_path_factory.mktemp("ray-feed") / "feed.jsonl"
    path.write_bytes(jsonl(rows))
    return path, {r["id"] for r in rows}


def assert_exactly_once(out: Path, errors: Path, ids: set[str]) -> None:
    got = accounted(out, errors)
    assert len(got) == len(set(got)), "an id was written twice"
    assert set(got) == ids
    assert {e["id"] for e in read_jsonl(errors)} == {"en-0", "en-1", "en-2"}
    assert out.read_bytes().endswith(b"\n")


def test_a_killed_ray_worker_is_restarted_and_nothing_is_lost_or_doubled(tmp_path: Path, feed, models_yaml: Path,
                                                                         cluster: str) -> None:
    path, ids = feed
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    proc = start(str(path), "--to", "en", "--out", str(out), "--batch-articles", "2", *ray_args(cluster, 1),
                 models_yaml=models_yaml)
    wait_for_lines(proc, out, 4)
    [actor] = [a for a in chunk_actors() if a.state == "ALIVE" and a.pid]  # through Ray's state API
    os.kill(actor.pid, signal.SIGKILL)
    at_kill = lines_in(out)
    assert at_kill < len(ids) - 20, "the run was nearly over before the kill"
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, stderr.decode()[-3000:]  # as the local engine: 3 records failed
    assert_exactly_once(out, errors, ids)
    after = chunk_actors()
    assert any(a.actor_id == actor.actor_id and (a.num_restarts or 0) >= 1 for a in after), after  # restarted
    with pytest.raises(ProcessLookupError):
        os.kill(actor.pid, 0)


def test_main_process_killed_then_resumed_on_ray_exactly_once(tmp_path: Path, feed, models_yaml: Path,
                                                             cluster: str) -> None:
    path, ids = feed
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    args = (str(path), "--to", "en", "--out", str(out), "--batch-articles", "2", *ray_args(cluster))
    first = start(*args, models_yaml=models_yaml)
    wait_for_lines(first, out, 8)
    first.send_signal(signal.SIGKILL)
    assert first.wait(30) == -signal.SIGKILL
    done = lines_in(out) + lines_in(errors)
    assert 8 <= done < len(ids)
    final = batch(*args, "--resume", models_yaml=models_yaml)
    err = final.stderr.decode()
    assert final.returncode == 1, err[-3000:]
    assert f"{done} already done" in err
    assert_exactly_once(out, errors, ids)


def test_resume_moves_between_engines(tmp_path: Path, feed, models_yaml: Path, cluster: str) -> None:
    """Started local, continued on Ray, finished local: one output, each id once, equal to a local run's."""
    path, ids = feed
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    args = (str(path), "--to", "en", "--out", str(out), "--chunk", "4")
    for extra in (("--limit", "40"), ("--resume", "--limit", "40", *ray_args(cluster)), ("--resume",)):
        proc = batch(*args, *extra, models_yaml=models_yaml)
        assert proc.returncode in (0, 1), proc.stderr.decode()[-3000:]
    assert_exactly_once(out, errors, ids)
    reference = tmp_path / "reference.jsonl"
    assert batch(str(path), "--to", "en", "--out", str(reference), "--chunk", "4",
                 models_yaml=models_yaml).returncode == 1
    assert by_id(out) == by_id(reference)


def test_ctrl_c_stops_a_ray_run_and_prints_the_resume_command(tmp_path: Path, feed, models_yaml: Path,
                                                              cluster: str) -> None:
    path, ids = feed
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    args = (str(path), "--to", "en", "--out", str(out), "--batch-articles", "2", *ray_args(cluster))
    proc = start(*args, models_yaml=models_yaml)
    wait_for_lines(proc, out, 8)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    err = stderr.decode()
    assert proc.returncode == 130, err[-3000:]
    [resume] = [line.split("resume with: ", 1)[1] for line in err.splitlines() if "resume with: " in line]
    assert "--engine ray" in resume and f"--ray-address {cluster}" in resume and resume.endswith("--resume")
    assert "Traceback" not in err
    final = batch(*args, "--resume", models_yaml=models_yaml)
    assert final.returncode == 1, final.stderr.decode()[-3000:]
    assert_exactly_once(out, errors, ids)


def test_without_an_address_a_private_ray_starts_and_stops(tmp_path: Path, feed, models_yaml: Path) -> None:
    """The default: Ray on this machine for the run only; nothing of it is left afterwards."""
    path, _ = feed
    rows = read_jsonl(path)[25:37]  # the 3 English rows among them
    small = tmp_path / "small.jsonl"
    small.write_bytes(jsonl(rows))
    out = tmp_path / "out.jsonl"
    before = set(Path(tempfile.gettempdir()).glob("tarjama-ray-*"))
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
    proc = subprocess.Popen([sys.executable, "-m", "tarjama", "batch", str(small), "--to", "en", "--out", str(out),
                             "--engine", "ray", "--models", str(models_yaml), "--no-memory"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_lines(proc, out, 1)  # Ray is up, its actor is translating
    addresses = listening(proc.pid)
    assert addresses, "found no listening socket of the run's Ray processes"
    assert addresses == {"127.0.0.1"}, addresses
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, stderr.decode()[-3000:]  # the 3 English rows
    assert len(read_jsonl(out)) == len(rows) - 3
    assert set(Path(tempfile.gettempdir()).glob("tarjama-ray-*")) == before  # its session folder removed
    left = subprocess.run(["pgrep", "-f", "tarjama-ray-"], capture_output=True, text=True).stdout.split()
    assert not left, f"Ray processes of the run still alive: {left}"


def listening(root: int) -> set[str]:
    """The local addresses of every listening TCP socket held by ``root`` or a process below it."""
    import ipaddress

    parents = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            parents[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    mine = {root}
    for _ in range(6):
        mine |= {p for p, parent in parents.items() if parent in mine}
    inodes = set()
    for pid in mine:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                raw = bytes.fromhex(fields[1].split(":")[0])
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, width, 4))  # per-word host order
                address = ipaddress.ip_address(words)
                found.add(str(getattr(address, "ipv4_mapped", None) or address))  # ::ffff:127.0.0.1 → 127.0.0.1
    return found


def test_without_ray_installed_the_message_says_how_to_install(tmp_path: Path, feed, models_yaml: Path) -> None:
    path, _ = feed
    out = tmp_path / "out.jsonl"
    code = ("import sys; sys.modules['ray'] = None\n"  # what an environment without Ray gives `import ray`
            "from tarjama.cli import main\n"
            f"sys.exit(main(['batch', {str(path)!r}, '--to', 'en', '--out', {str(out)!r}, '--engine', 'ray', "
            f"'--models', {str(models_yaml)!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert RAY_INSTALL in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_the_cluster_must_hold_the_workers_asked_for(tmp_path: Path, feed, models_yaml: Path, cluster: str) -> None:
    path, _ = feed
    proc = batch(str(path), "--to", "en", "--out", str(tmp_path / "out.jsonl"), "--engine", "ray",
                 "--ray-address", cluster, "--cpus-per-worker", "64", models_yaml=models_yaml, timeout=120)
    assert proc.returncode == 2
    assert "--cpus-per-worker 64: no Ray node has that many CPUs (the largest has 2)" in proc.stderr.decode()
    started = time.monotonic()
    proc = batch(str(path), "--to", "en", "--out", str(tmp_path / "out.jsonl"), *ray_args(cluster, 3),
                 models_yaml=models_yaml, timeout=120)
    assert proc.returncode == 2 and time.monotonic() - started < 120
    assert "the Ray cluster holds 2 such workers" in proc.stderr.decode()
