"""The translation memory: real SQLite files, real processes, real (tiny) models.

A second run over the same article makes no model call; entries are keyed by model, settings and
normalized source; several processes write one file at once; the file stays bounded; a corrupt or
unwritable file turns the memory off with a warning and translation goes on.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SEED, run_cli
from tarjama.translate.engine import GenerationOptions, Hypothesis, TransformersEngine
from tarjama.translate.flags import Flag
from tarjama.translate.memory import SQLiteMemory, namespace, normalize
from tarjama.translate.translator import Translator

from tarjama.engines import EngineCache
from tarjama.pipeline import Pipeline, open_memory
from tarjama.registry import Registry

SENTENCES = ["قال المتحدث إن الاجتماع سيعقد يوم الاثنين.", "وأضاف أن 3.5 مليون شخص تأثروا بالفيضانات.",
             "قال الوزير."]


def hyp(text: str, score: float = -1.5) -> Hypothesis:
    return Hypothesis(text, score, 3, (5, 6, 0))


@pytest.fixture
def pipe(models_yaml: Path, tmp_path: Path) -> Pipeline:
    """Fresh engines (so call counts start at 0) and a memory file of this test's own."""
    return Pipeline(Registry.load(models_yaml), engines=EngineCache(), memory=SQLiteMemory(tmp_path / "tm.sqlite"))


def calls(pipe: Pipeline) -> int:
    return sum(e.calls for e in pipe.engines.loaded())


def test_second_run_of_an_article_makes_no_model_call(pipe: Pipeline) -> None:
    text = SEED.read_text(encoding="utf-8")
    first = pipe.run(text, targets=("en", "es"), summarize=True)
    made = calls(pipe)
    assert made >= 3  # ar-en, ar-es, mT5 all worked
    again = pipe.run(text, targets=("en", "es"), summarize=True)
    assert calls(pipe) == made, "the second run called a model"
    for lang in ("en", "es"):
        a, b = first.translations[lang].sentences(), again.translations[lang].sentences()
        assert [(s.text, s.score) for s in a] == [(s.text, s.score) for s in b]
        assert [set(s.flags) - {Flag.MEMORY} for s in a] == [set(s.flags) - {Flag.MEMORY} for s in b]
        assert all(Flag.MEMORY in s.flags for s in b if "passthrough" not in s.flags)
    assert again.summaries == first.summaries
    assert again.summary_info["score"] == first.summary_info["score"]


def test_settings_and_models_have_their_own_entries(models_yaml: Path, tmp_path: Path) -> None:
    memory = SQLiteMemory(tmp_path / "tm.sqlite")
    engine = TransformersEngine(models_yaml.parent / "opus-mt-ar-en", device="cpu", threads=1)
    greedy = Translator(engine, GenerationOptions(num_beams=1, max_new_tokens=8), memory=memory)
    greedy.translate(SENTENCES)
    before = engine.calls
    greedy.translate(SENTENCES)
    assert engine.calls == before
    Translator(engine, GenerationOptions(num_beams=2, max_new_tokens=8), memory=memory).translate(SENTENCES)
    assert engine.calls > before  # other settings: other namespace (the repetition guard may add a call)
    other = TransformersEngine(models_yaml.parent / "opus-mt-ar-es", device="cpu", threads=1)
    Translator(other, GenerationOptions(num_beams=1, max_new_tokens=8), memory=memory).translate(SENTENCES)
    assert other.calls >= 1  # other model: other namespace
    ns = namespace(engine, greedy.options)
    for part in ("transformers", str(models_yaml.parent / "opus-mt-ar-en"), "float32", "num_beams=1"):
        assert part in ns


def test_sources_are_normalized(tmp_path: Path) -> None:
    memory = SQLiteMemory(tmp_path / "tm.sqlite")
    decomposed = "قال الوزير إن\u0627\u0653لاف"  # alef + combining madda: NFC composes it to آ
    memory.store("ns", {f"  {decomposed}\n ": hyp("x")})
    assert normalize(decomposed) != decomposed
    found = memory.lookup("ns", ["قال  الوزير إنآلاف", "other"])
    assert list(found) == ["قال  الوزير إنآلاف"]  # keys as asked
    assert found["قال  الوزير إنآلاف"] == hyp("x")
    assert memory.lookup("other-ns", ["قال الوزير إنآلاف"]) == {}


_WRITER = """
import sys, time
from tarjama.translate.engine import Hypothesis
from tarjama.translate.memory import SQLiteMemory
path, worker, n, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
memory = SQLiteMemory(path, timeout=60)
assert memory.enabled, memory.problem
time.sleep(max(0.0, go - time.time()))  # all writers start together
start = time.time()
for i in range(n):  # many small transactions, interleaved with the other writers
    memory.store("shared", {f"s{i}": Hypothesis(f"t{i}", -1.0, 1, (i,))})
    memory.store(f"w{worker}", {f"s{i}": Hypothesis(f"w{worker}-{i}", -float(worker), 2, (worker, i))})
    memory.lookup("shared", [f"s{i}", f"s{i + 1}"])
print("ok", memory.enabled, start, time.time())
"""


def test_several_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "tm.sqlite"
    workers, n, go = 4, 1000, time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(w), str(n), str(go)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for w in range(workers)]
    outs = [p.communicate(timeout=300) for p in procs]
    spans = []
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()
        ok, enabled, start, end = out.decode().split()
        assert (ok, enabled) == ("ok", "True"), err.decode()  # never disabled by a lock timeout
        spans.append((float(start), float(end)))
    assert max(s for s, _ in spans) < min(e for _, e in spans), "the writers did not overlap"
    memory = SQLiteMemory(path)
    assert memory.count() == n + workers * n
    shared = memory.lookup("shared", [f"s{i}" for i in range(n)])
    assert {k: v.text for k, v in shared.items()} == {f"s{i}": f"t{i}" for i in range(n)}
    for w in range(workers):
        mine = memory.lookup(f"w{w}", [f"s{i}" for i in range(n)])
        assert all(mine[f"s{i}"] == Hypothesis(f"w{w}-{i}", -float(w), 2, (w, i)) for i in range(n))


def test_eviction_drops_the_least_recently_used(tmp_path: Path) -> None:
    memory = SQLiteMemory(tmp_path / "tm.sqlite", max_entries=10)
    for i in range(10):
        memory.store("ns", {f"s{i}": hyp(f"t{i}")})
    assert memory.lookup("ns", ["s0", "s1"]).keys() == {"s0", "s1"}  # used again: now the most recent
    memory.store("ns", {"s10": hyp("t10")})  # 11 > 10: trim to 9, oldest use first
    kept = set(memory.lookup("ns", [f"s{i}" for i in range(11)]))
    assert memory.count() == 9
    assert kept == {"s0", "s1", "s10", *(f"s{i}" for i in range(4, 10))}


def test_a_corrupt_file_means_no_memory_and_a_warning(models_yaml: Path, tmp_path: Path, caplog) -> None:
    path = tmp_path / "tm.sqlite"
    path.write_bytes(os.urandom(4096))
    with caplog.at_level(logging.WARNING, logger="tarjama.translate.memory"):
        pipe = Pipeline.from_config(models_yaml, memory=path)
        result = pipe.run("قال المتحدث إن الاجتماع سيعقد يوم الاثنين.", targets=("en",), summarize=False)
    assert result.translations["en"].sentences()[0].text
    assert pipe.memory.enabled is False
    assert "not usable" in caplog.text and str(path) in caplog.text


def test_corruption_found_later_also_degrades(tmp_path: Path, caplog) -> None:
    path = tmp_path / "tm.sqlite"
    memory = SQLiteMemory(path)
    memory.store("ns", {f"s{i}": hyp(f"t{i}") for i in range(2000)})
    memory.close()
    memory = SQLiteMemory(path)  # opens fine: the damage is found on first use
    size = path.stat().st_size
    with open(path, "r+b") as f:  # every page after the first overwritten (a disk fault, a bad copy)
        f.seek(4096)
        f.write(os.urandom(size - 4096))
    with caplog.at_level(logging.WARNING, logger="tarjama.translate.memory"):
        assert memory.lookup("ns", ["s1", "s1999"]) == {}
        memory.store("ns", {"b": hyp("y")})  # no exception
    assert memory.enabled is False and "malformed" in caplog.text


def test_an_unwritable_place_means_no_memory_and_a_warning(models_yaml: Path, tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="tarjama.translate.memory"):
        memory = open_memory(blocker / "tm.sqlite")
        translator = Translator(TransformersEngine(models_yaml.parent / "opus-mt-ar-en", device="cpu", threads=1),
                                GenerationOptions(num_beams=1, max_new_tokens=8), memory=memory)
        out = translator.translate(SENTENCES)
    assert memory.enabled is False and "not usable" in caplog.text
    assert all(o.text for o in out) and not any(Flag.MEMORY in o.flags for o in out)


def test_from_config_memory_choices(models_yaml: Path, tmp_path: Path, tarjama_cache: Path) -> None:
    assert Pipeline.from_config(models_yaml, memory=False).memory is None
    assert Pipeline.from_config(models_yaml, memory=None).memory is None
    default = Pipeline.from_config(models_yaml).memory
    assert isinstance(default, SQLiteMemory) and default.path == tarjama_cache / "memory.sqlite"
    assert Pipeline.from_config(models_yaml, memory=tmp_path / "x.sqlite").memory.path == tmp_path / "x.sqlite"
    mine = SQLiteMemory(tmp_path / "y.sqlite")
    assert Pipeline.from_config(models_yaml, memory=mine).memory is mine


def test_cli_uses_the_memory_unless_told_not_to(models_yaml: Path, tmp_path: Path) -> None:
    env = {"TARJAMA_MODELS": str(models_yaml), "TARJAMA_CACHE": str(tmp_path)}
    args = ("translate", "-", "--to", "en", "--format", "json")
    text = "قال المتحدث إن الاجتماع سيعقد يوم الاثنين. وأضاف أن الوفد غادر."
    off = run_cli(*args, "--no-memory", env=env, stdin=text.encode())
    assert off.returncode == 0, off.stderr.decode()
    assert not (tmp_path / "memory.sqlite").exists()
    first = run_cli(*args, env=env, stdin=text.encode())
    second = run_cli(*args, env=env, stdin=text.encode())
    assert first.returncode == second.returncode == 0
    assert (tmp_path / "memory.sqlite").is_file()
    flags = [[s["flags"] for s in json.loads(run.stdout)["translations"]["en"]["paragraphs"][0]]
             for run in (first, second)]
    assert all("memory" not in f for f in flags[0]) and all("memory" in f for f in flags[1])
    assert json.loads(second.stdout)["translations"]["en"]["counts"]["flags"]["memory"] == 2


def test_regenerated_weights_are_not_served_old_entries(models_yaml: Path, tmp_path: Path) -> None:
    """The revision as written ("main", "generated") may stay while the weights change: entries follow
    the weights loaded (Hub snapshot commit, or a local folder's fingerprint)."""
    import shutil

    root = tmp_path / "models"
    shutil.copytree(models_yaml.parent, root, symlinks=True)
    memory = SQLiteMemory(tmp_path / "tm.sqlite")
    sentence = ["قال المتحدث إن الاجتماع سيعقد يوم الاثنين."]

    def run() -> int:
        pipe = Pipeline(Registry.load(root / "models.yaml"), engines=EngineCache(), memory=memory)
        pipe.translator("en").translate(sentence)
        return calls(pipe)

    assert run() >= 1
    assert run() == 0  # same weights: from memory
    config = root / "opus-mt-ar-en" / "generation_config.json"
    config.write_text(config.read_text() + "\n")  # the folder regenerated in place
    assert run() >= 1


def _age(path: Path, sources: list[str], days: float) -> None:
    """Mark entries last used ``days`` ago, from outside (another process would see the same file)."""
    import sqlite3

    with sqlite3.connect(path) as db:
        db.executemany("UPDATE entries SET used = ? WHERE source = ?",
                       [(time.time() - days * 86_400, s) for s in sources])
    db.close()


def test_entries_unused_past_max_age_are_forgotten_on_open(tmp_path: Path) -> None:
    path = tmp_path / "tm.sqlite"
    memory = SQLiteMemory(path)
    memory.store("ns", {f"s{i}": hyp(f"t{i}") for i in range(6)})
    memory.close()
    _age(path, ["s0", "s1", "s2"], days=3)
    _age(path, ["s3"], days=0.5)
    assert SQLiteMemory(path).count() == 6  # no max_age_days: kept however old
    memory = SQLiteMemory(path, max_age_days=1)
    assert set(memory.lookup("ns", [f"s{i}" for i in range(6)])) == {"s3", "s4", "s5"}
    assert memory.count() == 3


def test_max_age_is_swept_at_most_hourly_while_open(tmp_path: Path, monkeypatch) -> None:
    from types import SimpleNamespace

    import tarjama.translate.memory as memory_module

    clock = [time.time()]
    monkeypatch.setattr(memory_module, "time", SimpleNamespace(time=lambda: clock[0]))
    path = tmp_path / "tm.sqlite"
    memory = SQLiteMemory(path, max_age_days=1)
    memory.store("ns", {"old": hyp("a"), "kept": hyp("b")})
    _age(path, ["old"], days=2)
    clock[0] += 60
    memory.store("ns", {"new": hyp("c")})
    assert memory.count() == 3  # swept at open, not again within the hour
    clock[0] += memory_module.EXPIRE_EVERY
    memory.store("ns", {"newer": hyp("d")})
    assert set(memory.lookup("ns", ["old", "kept", "new", "newer"])) == {"kept", "new", "newer"}


@pytest.mark.parametrize("days", [0, -1, float("nan")])
def test_max_age_must_be_positive(tmp_path: Path, days: float) -> None:
    with pytest.raises(ValueError, match="max_age_days"):
        SQLiteMemory(tmp_path / "tm.sqlite", max_age_days=days)
    assert not (tmp_path / "tm.sqlite").exists()  # refused before touching the disk
