"""bench/run.py end to end on the tiny models: every case runs, and the comparison is like for like.

Speed is never asserted here (FIELD-NOTES: compare engines only side by side, on a quiet machine);
what is checked is that the cases do the same work: the same forced lengths, and raw CTranslate2
replaying exactly tarjama's batches.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))

import make_models


@pytest.mark.slow
def test_quick_json_run_on_tiny_models(models_yaml: Path, tmp_path: Path, corpus: Path) -> None:
    for name in ("opus-mt-ar-en", "opus-mt-ar-es", "mt5-xlsum"):
        (tmp_path / name).symlink_to(models_yaml.parent / name)
    (tmp_path / "models.yaml").write_text(make_models.MODELS_YAML.format(threads=1), encoding="utf-8")
    proc = subprocess.run([sys.executable, "bench/run.py", "--models", str(tmp_path), "--quick", "--json",
                           "--threads", "1"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    for key in ("speedup_vs_baseline", "speedup_vs_batched_baseline", "overhead_vs_raw_ct2", "overhead_outside_ct2",
                "article_seconds",
                "peak_rss_mb", "vocab_restriction_speedup", "first_article_ratio", "first_article_seconds_worst"):
        assert isinstance(out[key], (int, float)), key
    cases = out["cases"]
    assert set(cases) == {"a1", "a2", "b", "c", "c84", "c0", "d"}
    tokens = {c: v["target_tokens"] for c, v in cases.items()}
    assert tokens["c"] == tokens["d"], tokens  # raw CTranslate2 replays c's batches
    assert tokens["c84"] == tokens["c0"], tokens  # the restriction alone: the same forced lengths
    lengths = out["forced_lengths"]
    assert 10 <= lengths["summary_tokens_realistic"] < lengths["summary_tokens_worst"] == 84, lengths
    # shorter summaries, fewer tokens: the realistic case does less work than the worst case
    assert tokens["c"] < tokens["c0"], tokens
    # b and c differ only in the (random) summary each engine writes, whose translation is part of the work
    assert abs(tokens["b"] - tokens["c"]) <= 0.05 * tokens["c"], tokens
    assert all(v["article_seconds"]["median"] > 0 and v["peak_rss_mb"]["median"] > 0 for v in cases.values())
    assert out["machine"]["threads"] == 1 and out["runs"] == 1
    # case c's own time outside its CTranslate2 calls: positive, and a part of the whole
    assert 0 < out["overhead_outside_ct2"] < 10, out["overhead_outside_ct2"]
