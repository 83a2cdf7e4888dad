"""Speed of tarjama against a plain Transformers pipeline, side by side, on real news articles.

    python bench/make_models.py /tmp/bench-models          # once: real-architecture random-weight models
    python bench/run.py --models /tmp/bench-models          # full run (≈ 25 min on 2 cores), Markdown table
    python bench/run.py --models /tmp/bench-models --quick --json   # ≈ 4 min, one JSON object

Cases, each in a fresh process per run (cold start and peak RSS are per process), run round-robin
so that machine noise spreads over all of them:

  a1  the baseline a user writes from the model cards: fp32 Transformers, one ``model.generate`` per
      sentence and per language, one for the summary (the XLSum card's code: input padded and cut to
      512 tokens, num_beams 4, no_repeat_ngram_size 2), then the Arabic summary translated with one
      call per language; the models' own generation settings (opus-mt: num_beams 4).
  a2  the same fp32 models, sentences in padded batches of 32 (document order).
  b   tarjama, Transformers engine (float32): Pipeline.run, memory off, as case c restricts and forces.
  c   tarjama, CTranslate2 engine, int8, at its defaults: Pipeline.run, memory off, the output vocabulary
      restricted to the size the real tokenizers are expected to keep (REAL_KEPT) and summaries forced to
      the median length of real BBC reference summaries.
  c84 the same, every summary forced to 84 tokens: against c0, the restriction's speed-up alone.
  c0  tarjama before issue 14: unrestricted (output_vocabulary: all), every summary 84 tokens.
  d   raw ``ctranslate2.Translator.translate_batch`` replaying exactly the token batches and decoding
      options tarjama's case c sent (recorded in an untimed extra pass; same folders, so the same
      vmap.txt, and use_vmap): the ceiling for c.
  --sweep adds c at kept sizes SWEEP (every summary 84 tokens): speed as a function of the kept size.

Every case translates the same sentences (tarjama's segmentation) into English and Spanish and
summarizes the article.  tarjama's repetition guard (re-decoding looping outputs) is off in b and c:
random weights loop on nearly every sentence, which real models do not.

Random weights stop at arbitrary lengths, so every output is forced to a realistic length in every
case: round(1.2 × mean source tokens) tokens per padded batch (per sentence in a1; tokens counted
with EOS, as the encoder sees them) and, per summary, the median BBC reference length (cases a1, a2,
b, c) or the authors' cap of 84 tokens (c84, c0), without EOS. Baselines pass
``min_new_tokens = max_new_tokens = L, forced_eos_token_id=None`` to ``generate``; tarjama gets the
same through the benchmark-only models.yaml key ``benchmark: {ratio: 1.2}`` / ``{tokens: N}`` (and
``{vocabulary: N}``, the first N output pieces, for the kept size); raw CTranslate2 replays the
min = max decoding lengths tarjama used.

Reported per case, min / median / max over the runs: seconds per article (warm; en + es + summaries),
target tokens/s (all generated tokens, summaries included, over the warm time), peak RSS, and cold
start (process start → first result, for a 3-sentence text with summary, models loading included).
tarjama's overhead is given two ways: ``overhead_vs_raw_ct2``, case c over case d (two processes, so
it carries their run-to-run noise), and ``overhead_outside_ct2``, case c's time outside its own
``translate_batch`` calls over the time inside them, in the same process (tokenizing, checks, the
Python around the calls: what tarjama adds, without the noise between processes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from common import add_report_options, child_env, cpu_name, pick_articles, report, say, spread
from tarjama.summarize.summarizer import STRATEGIES

from tarjama.paths import corpus_path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORPUS = corpus_path()
SEED = REPO / "examples" / "seed_article.ar.txt"
CASES = ("a1", "a2", "b", "c", "c84", "c0", "d")
TITLES = {"a1": "a1 Transformers fp32, one generate per sentence (model cards)",
          "a2": "a2 Transformers fp32, padded batches of 32",
          "b": "b tarjama, Transformers engine (float32)",
          "c": "c tarjama, CTranslate2 (defaults: output vocabulary restricted, realistic summary lengths)",
          "c84": "c84 tarjama, CTranslate2, restricted, every summary 84 tokens",
          "c0": "c0 tarjama, CTranslate2, unrestricted, every summary 84 tokens (before issue 14)",
          "d": "d raw CTranslate2 translate_batch, case c's batches (ceiling)"}
RATIO, SUMMARY_TOKENS, BASELINE_BATCH = 1.2, 84, 32
# What the restriction is expected to keep of the REAL tokenizers (docs/research-issue14.md §6: estimates, not
# counts — the real files are not on this machine): opus-mt's `latin` ≈ 32.3k of 62,834 (ar-es ≈ 32.5k of
# 62,526), mT5's `arabic` ≈ 105k of 250,112.  The bench models' generated vocabularies lack the real script
# mix (their fillers are Latin or Arabic by construction), so the bench keeps these many pieces instead
# (models.yaml `benchmark: {vocabulary: N}`, the first N pieces).
REAL_KEPT = {"opus-mt-ar-en": 32_300, "opus-mt-ar-es": 32_500, "mt5-xlsum": 105_000}
FULL = {"opus-mt-ar-en": 62_834, "opus-mt-ar-es": 62_526, "mt5-xlsum": 250_112}
# --sweep: speed as a function of the kept size, every summary 84 tokens (mT5 size, Marian size).
SWEEP = ((250_112, 62_834), (120_000, 40_000), (60_000, 25_000), (30_000, 25_000))
BBC = "summ/ant_bbc_cnn_summaries.shared.jsonl"
WARMUP = ("قال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل. وأضاف أن الوفود ستصل صباحا. "
          "ولم يذكر تفاصيل أخرى.")


# -- the parent: prepare, run every case in fresh processes, aggregate -------------------------------------


def realistic_summary_tokens(models: Path) -> tuple[int, int]:
    """The median length of the BBC Arabic reference summaries (the outlet XL-Sum was built from) in the bench
    mT5 tokenizer's pieces, plus the EOS a real summary ends with; and how many summaries were counted."""
    import sentencepiece

    path = CORPUS / BBC
    if not path.is_file():
        sys.exit(f"bench/run.py: {path} not found (the reference summaries; set TARJAMA_CORPUS)")
    sp = sentencepiece.SentencePieceProcessor(model_file=str(models / "mt5-xlsum" / "spiece.model"))
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    counts = [len(sp.encode(r["summary"])) + 1 for r in rows if r.get("source") == "BBC"]
    return round(statistics.median(counts)), len(counts)


def variants(summary_tokens: int, sweep: bool) -> dict[str, dict[str, Any]]:
    """The tarjama CTranslate2 cases: forced summary length and kept pieces per model (None: unrestricted)."""
    real = dict(REAL_KEPT)
    out = {"c": {"summary_tokens": summary_tokens, "kept": real},
           "c84": {"summary_tokens": SUMMARY_TOKENS, "kept": real},
           "c0": {"summary_tokens": SUMMARY_TOKENS, "kept": {}}}
    if sweep:
        for mt5, marian in SWEEP:
            kept = {"mt5-xlsum": mt5, "opus-mt-ar-en": marian, "opus-mt-ar-es": marian}
            out[f"v{mt5 // 1000}k-{marian // 1000}k"] = {"summary_tokens": SUMMARY_TOKENS, "kept": kept}
    return out


def write_configs(models: Path, work: Path, threads: int, translation_beams: int = 0,
                  summary_beams: int = 0, summary_strategy: str = "", *, summary_tokens: int = SUMMARY_TOKENS,
                  sweep: bool = False, device: str = "cpu") -> dict[str, Path]:
    """models.yaml variants for case b and the CTranslate2 cases: absolute model paths, forced lengths, kept
    pieces, threads, device, and (``--translation-beams``/``--summary-beams``/``--summary-strategy``, to
    measure those levers) other settings."""
    text = (models / "models.yaml").read_text(encoding="utf-8")
    if summary_strategy:
        licence = "license: CC-BY-NC-SA-4.0 (random-weight bench model)\n"
        text = text.replace(licence, f"{licence}    strategy: {summary_strategy}\n")
    if translation_beams:
        text = text.replace("{num_beams: 4, max_new_tokens: 256}",
                            f"{{num_beams: {translation_beams}, max_new_tokens: 256}}")
    if summary_beams:
        text = text.replace("{num_beams: 4, max_new_tokens: 84,", f"{{num_beams: {summary_beams}, max_new_tokens: 84,")
    for name in ("opus-mt-ar-en", "opus-mt-ar-es", "mt5-xlsum"):
        text = text.replace(f"model: {name}\n", f"model: {models.resolve() / name}\n")
    text = re.sub(r"threads: \d+", f"threads: {threads}", text)
    text = re.sub(r"device: \w+", f"device: {device}", text)
    fast = "int8" if device == "cpu" else "auto"  # auto on CUDA: float16 Marian, bfloat16 mT5
    cases = {"b": ("transformers", "float32" if device == "cpu" else "auto", variants(summary_tokens, False)["c"]),
             **{c: ("ctranslate2", fast, v) for c, v in variants(summary_tokens, sweep).items()}}
    out = {}
    for case, (backend, compute, variant) in cases.items():
        body = _benchmark_settings(text, variant["summary_tokens"], variant["kept"])
        body = re.sub(r"backend: \w+", f"backend: {backend}", body)
        out[case] = work / f"models-{case}.yaml"
        out[case].write_text(re.sub(r"compute_type: \w+", f"compute_type: {compute}", body), encoding="utf-8")
    return out


def convert_once(config: Path) -> float:
    """CTranslate2 conversions (cached by tarjama) before anything is timed; seconds it took."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tarjama", "models", "convert", "--models", str(config)],
                          capture_output=True, text=True, cwd=REPO, env=child_env())
    if proc.returncode:
        sys.exit(f"bench/run.py: conversion failed:\n{proc.stderr}")
    return time.perf_counter() - started



def run_case(case: str, args: argparse.Namespace, job: Path) -> dict[str, Any]:
    """One fresh process for ``case``; its JSON result, with the cold start measured from here."""
    started = time.time()
    proc = subprocess.run([sys.executable, __file__, "--worker", case, "--job", str(job)],
                          capture_output=True, text=True, cwd=REPO, env=child_env(), timeout=3600)
    if proc.returncode:
        sys.exit(f"bench/run.py: case {case} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["cold_start_s"] = result.pop("first_result_at") - started
    return result



def aggregate(runs: dict[str, list[dict[str, Any]]], articles: list[tuple[str, str]]) -> dict[str, Any]:
    cases = {}
    for case, results in runs.items():
        per_article = [statistics.fmean(r["article_seconds"]) for r in results]
        cases[case] = {
            "title": TITLES[case], "runs": len(results),
            "article_seconds": spread(per_article), "tokens_per_s": spread([r["tokens_per_s"] for r in results], 1),
            "peak_rss_mb": spread([r["peak_rss_mb"] for r in results], 0),
            "cold_start_s": spread([r["cold_start_s"] for r in results], 1),
            "target_tokens": results[0]["target_tokens"],
            "per_article": {name: spread([r["article_seconds"][i] for r in results])
                            for i, (name, _) in enumerate(articles)},
        }
        if results[0].get("stages"):
            cases[case]["stages_first_article"] = {k: spread([r["stages"][k] for r in results])
                                                   for k in results[0]["stages"]}
    med = {c: v["article_seconds"]["median"] for c, v in cases.items()}
    out: dict[str, Any] = {"cases": cases}
    seed = articles[0][0] == "seed_article"
    if "c84" in med and "c0" in med:
        out["vocab_restriction_speedup"] = round(med["c0"] / med["c84"], 3)  # equal lengths, restriction alone
    if "c" in med and "c0" in med:
        first = "seed_article" if seed else articles[0][0]
        now, before = (cases[c]["per_article"][first]["median"] for c in ("c", "c0"))
        out["seed_article_seconds_worst" if seed else "first_article_seconds_worst"] = before
        out["seed_ratio" if seed else "first_article_ratio"] = round(now / before, 3)
    if "c" in med:
        out["article_seconds"] = med["c"]
        out["peak_rss_mb"] = cases["c"]["peak_rss_mb"]["median"]
        if "a1" in med:
            out["speedup_vs_baseline"] = round(med["a1"] / med["c"], 2)
        if "a2" in med:
            out["speedup_vs_batched_baseline"] = round(med["a2"] / med["c"], 2)
        if "b" in med:
            out["speedup_vs_tarjama_transformers"] = round(med["b"] / med["c"], 2)
        if "d" in med:
            out["overhead_vs_raw_ct2"] = round(med["c"] / med["d"] - 1, 3)
        if runs["c"][0].get("ct2_seconds"):  # the same, measured inside case c's own processes
            out["overhead_outside_ct2"] = round(statistics.median(
                sum(r["article_seconds"]) / sum(r["ct2_seconds"]) - 1 for r in runs["c"]), 4)
        if articles[0][0] == "seed_article":
            out["seed_article_seconds"] = cases["c"]["per_article"]["seed_article"]["median"]
    return out


def machine(threads: int) -> dict[str, Any]:
    cpu = cpu_name()
    versions = {}
    for mod in ("torch", "transformers", "ctranslate2", "tokenizers"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = None
    return {"cpu": cpu, "cores_available": len(os.sched_getaffinity(0)), "threads": threads,
            "python": platform.python_version(), "load_avg_start": list(os.getloadavg()), **versions}


def parent(args: argparse.Namespace) -> int:
    models = args.models.resolve()
    if not (models / "models.yaml").is_file():
        sys.exit(f"bench/run.py: {models}/models.yaml not found: run python bench/make_models.py {models}")
    articles = pick_articles(CORPUS, SEED, args.articles, quick=args.quick)
    runs = 1 if args.quick and args.runs is None else (args.runs or 3)
    summary_tokens, references = realistic_summary_tokens(models)
    known = tuple(dict.fromkeys((*CASES, *variants(summary_tokens, args.sweep))))
    wanted = args.cases.split(",") + ([v for v in known if v.startswith("v")] if args.sweep else [])
    cases = [c for c in known if c in wanted]
    if unknown := set(args.cases.split(",")) - set(known):
        sys.exit(f"bench/run.py: unknown case {sorted(unknown)[0]} (cases: {', '.join(CASES)})")
    info = machine(args.threads)
    work = Path(tempfile.mkdtemp(prefix="tarjama-runbench-"))
    configs = write_configs(models, work, args.threads, args.translation_beams, args.summary_beams,
                            args.summary_strategy, summary_tokens=summary_tokens, sweep=args.sweep,
                            device=args.device)
    conversion_s = sum(convert_once(configs[c]) for c in cases if c in configs and c != "b")
    job = work / "job.json"
    job.write_text(json.dumps({"models": str(models), "configs": {k: str(v) for k, v in configs.items()},
                               "articles": articles, "threads": args.threads, "record": str(work / "batches.json"),
                               "summary_tokens": summary_tokens}, ensure_ascii=False), encoding="utf-8")
    results: dict[str, list[dict[str, Any]]] = {c: [] for c in cases}
    started = time.perf_counter()
    for r in range(runs):
        for case in cases:
            if case == "d" and "c" not in cases and not (work / "batches.json").exists():
                sys.exit("bench/run.py: case d replays case c's batches: include c")
            results[case].append(run_case(case, args, job))
            say(args, f"run {r + 1}/{runs} {case}: {statistics.fmean(results[case][-1]['article_seconds']):.2f} "
                 f"s/article, {results[case][-1]['tokens_per_s']:.0f} tokens/s")
    summary = {**aggregate(results, articles), "machine": {**info, "load_avg_end": list(os.getloadavg())},
               "beams": {"translation": args.translation_beams or 4, "summary": args.summary_beams or 4},
               "summary_strategy": args.summary_strategy or "chunk-merge",
               "articles": [{"name": n, "words": len(t.split())} for n, t in articles], "runs": runs,
               "conversion_s": round(conversion_s, 1), "wall_s": round(time.perf_counter() - started, 1),
               "device": args.device,
               "forced_lengths": {"translation_ratio": RATIO, "summary_tokens_worst": SUMMARY_TOKENS,
                                  "summary_tokens_realistic": summary_tokens,
                                  "realistic_from": f"median of {references} BBC reference summaries ({BBC}) "
                                                    "in the bench mT5 tokenizer's pieces, + EOS"},
               "kept_pieces": {"expected_real": REAL_KEPT, "full": FULL}}
    shutil.rmtree(work, ignore_errors=True)
    report(args, summary, results, markdown)
    return 0



def markdown(s: dict[str, Any]) -> str:
    m = s["machine"]
    names = ", ".join(f"{a['name']} ({a['words']} words)" for a in s["articles"])
    lines = [f"Machine: {m['cpu']}, {m['cores_available']} cores available, {m['threads']} threads; "
             f"load average at start {m['load_avg_start'][0]:.2f}, at end {m['load_avg_end'][0]:.2f}; "
             f"torch {m['torch']}, transformers {m['transformers']}, ctranslate2 {m['ctranslate2']}.",
             f"Articles: {names}; "
             f"{s['runs']} runs per case; min / median / max.", "",
             "| case | s / article | target tokens/s | peak RSS MB | cold start s | tokens |",
             "|---|---|---|---|---|---|"]
    fmt = "{min} / **{median}** / {max}"
    for c in s["cases"].values():
        lines.append(f"| {c['title']} | {fmt.format(**c['article_seconds'])} | {fmt.format(**c['tokens_per_s'])} "
                     f"| {fmt.format(**c['peak_rss_mb'])} | {fmt.format(**c['cold_start_s'])} | {c['target_tokens']} |")
    keys = ("speedup_vs_baseline", "speedup_vs_batched_baseline", "speedup_vs_tarjama_transformers",
            "overhead_vs_raw_ct2", "overhead_outside_ct2", "seed_article_seconds", "seed_article_seconds_worst",
            "seed_ratio",
            "first_article_seconds_worst", "first_article_ratio", "vocab_restriction_speedup", "article_seconds",
            "peak_rss_mb")
    lines += ["", ", ".join(f"{k}: {s[k]}" for k in keys if k in s)]
    return "\n".join(lines)


# -- the workers: one case in this process -------------------------------------------------------------


def worker(case: str, job_path: Path) -> int:
    job = json.loads(job_path.read_text(encoding="utf-8"))
    articles = [tuple(a) for a in job["articles"]]
    threads = job["threads"]
    if case in ("a1", "a2"):
        process, count = baseline(Path(job["models"]), threads, batched=case == "a2",
                                  summary_tokens=job["summary_tokens"])
    elif case == "d":
        process, count = raw(Path(job["record"]), threads)
    else:
        process, count = tarjama(Path(job["configs"][case]))
    process(0, WARMUP)
    first_result_at = time.time()
    before = count()
    seconds, stages, inside = [], None, []
    ct2_seconds = getattr(process, "ct2_seconds", None)
    for i, (_, text) in enumerate(articles, start=1):
        t, ct2 = time.perf_counter(), ct2_seconds() if ct2_seconds else 0.0
        out = process(i, text)
        seconds.append(time.perf_counter() - t)
        if ct2_seconds:
            inside.append(ct2_seconds() - ct2)
        if i == 1 and isinstance(out, dict):
            stages = out
    tokens = count() - before
    if case == "c":
        record_batches(articles, Path(job["record"]), process)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"case": case, "first_result_at": first_result_at, "article_seconds": seconds,
                      "target_tokens": tokens, "tokens_per_s": tokens / sum(seconds), "peak_rss_mb": rss_mb,
                      "stages": stages, "ct2_seconds": inside or None}))
    return 0


Process = Callable[[int, str], Any]


def baseline(models: Path, threads: int, *, batched: bool,
             summary_tokens: int = SUMMARY_TOKENS) -> tuple[Process, Callable[[], int]]:
    """The model cards' code (transformers 5: no pipeline(); generate called directly)."""
    import torch
    from tarjama.translate.segment import segment
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    torch.set_num_threads(threads)
    load = {k: (AutoTokenizer.from_pretrained(models / k), AutoModelForSeq2SeqLM.from_pretrained(models / k).eval())
            for k in ("opus-mt-ar-en", "opus-mt-ar-es", "mt5-xlsum")}
    made = [0]

    def translate(key: str, sentences: list[str]) -> list[str]:
        tok, model = load[key]
        size = BASELINE_BATCH if batched else 1
        out = []
        for i in range(0, len(sentences), size):
            enc = tok(sentences[i : i + size], return_tensors="pt", padding=True, truncation=True, max_length=512)
            n = max(1, round(RATIO * enc["attention_mask"].sum(dim=1).float().mean().item()))
            with torch.inference_mode():
                ids = model.generate(**enc, max_length=None, min_new_tokens=n, max_new_tokens=n,
                                     forced_eos_token_id=None)
            made[0] += (ids.shape[1] - 1) * ids.shape[0]
            out += tok.batch_decode(ids, skip_special_tokens=True)
        return out

    def summarize(text: str) -> str:
        tok, model = load["mt5-xlsum"]
        clean = re.sub(r"\s+", " ", re.sub(r"\n+", " ", text.strip()))  # the card's WHITESPACE_HANDLER
        ids = tok([clean], return_tensors="pt", padding="max_length", truncation=True, max_length=512)["input_ids"]
        with torch.inference_mode():
            out = model.generate(input_ids=ids, max_length=None, min_new_tokens=summary_tokens,
                                 max_new_tokens=summary_tokens, no_repeat_ngram_size=2, num_beams=4)
        made[0] += out.shape[1] - 1
        return tok.decode(out[0], skip_special_tokens=True)

    def process(_: int, text: str) -> None:
        sentences = [s.text for s in segment(text).sentences()]
        summary = summarize(text)
        for key in ("opus-mt-ar-en", "opus-mt-ar-es"):
            translate(key, sentences)
            translate(key, [summary])  # the summary: one more call per language

    return process, lambda: made[0]


def _benchmark_settings(text: str, summary_tokens: int, kept: dict[str, int]) -> str:
    """Forced lengths (models.yaml ``benchmark:``), the repetition guard and placeholder enforcement off: random
    weights loop on almost every sentence, miss every protected token (see Translator) and stop at arbitrary
    lengths.  ``kept``: pieces per model folder name (``benchmark: {vocabulary: N}``); a model not in it, or
    kept whole, runs unrestricted (``output_vocabulary: all``)."""
    data = yaml.safe_load(text)
    for task, lengths in (("translation", {"ratio": RATIO}), ("summarization", {"tokens": summary_tokens})):
        for entry in data[task].values():
            name = Path(entry["model"]).name
            entry["benchmark"] = dict(lengths)
            if kept.get(name, FULL.get(name, 0)) < FULL.get(name, 0):
                entry["benchmark"]["vocabulary"] = kept[name]
            else:
                entry["output_vocabulary"] = "all"
            if task == "translation":
                entry.update(repetition_guard=False, enforce=False)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def tarjama(config: Path) -> tuple[Process, Callable[[], int]]:

    from tarjama.pipeline import Pipeline

    pipe = Pipeline.from_config(config, memory=False)
    pipe.preload(("en", "es"), summarize=True)
    made = [0]
    inside = [0.0]
    for engine in pipe.engines.loaded():
        if hasattr(engine, "translator"):  # CTranslate2: time its calls, to tell tarjama's own share apart
            engine.translator = Timed(engine.translator, inside)
        original = engine.generate

        def counted(texts, options, _original=original):
            hyps = _original(texts, options)
            made[0] += sum(h.num_tokens for h in hyps)
            return hyps

        engine.generate = counted

    def process(_: int, text: str) -> dict[str, float]:
        result = pipe.run(text, targets=("en", "es"), summarize=True)
        return {k: v for k, v in result.timings.items() if k not in ("segment", "load")}  # models preloaded

    process.pipe = pipe  # for record_batches
    process.ct2_seconds = lambda: inside[0]  # for the worker: seconds spent inside translate_batch so far
    return process, lambda: made[0]


class Timed:
    """A CTranslate2 translator whose ``translate_batch`` calls add their wall time to ``inside[0]``: the rest
    of an article's time, in the same process, is tarjama's own (tokenizing, checks, Python around the calls).
    Unlike case c against case d, this share does not move with the noise between two processes."""

    def __init__(self, inner: Any, inside: list[float]) -> None:
        self.inner, self.inside = inner, inside

    def translate_batch(self, source: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.translate_batch(source, **kwargs)
        finally:
            self.inside[0] += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def record_batches(articles: list[tuple[str, str]], path: Path, process: Process) -> None:
    """An untimed extra pass of case c that records every translate_batch call (tokens and options)."""
    if path.exists():
        return
    calls: list[dict[str, Any]] = []
    current = [0]

    class Recorder:
        def __init__(self, inner: Any, folder: str) -> None:
            self.inner, self.folder = inner, folder

        def translate_batch(self, source, **kwargs):
            calls.append({"article": current[0], "model": self.folder, "source": source, "options": kwargs})
            return self.inner.translate_batch(source, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    engines = process.pipe.engines.loaded()
    for engine in engines:
        engine.translator = Recorder(engine.translator, str(engine.folder))
    for i, (_, text) in enumerate([("warmup", WARMUP), *articles]):
        current[0] = i
        process(i, text)
    folders = {str(e.folder): [e.device, e.compute_type] for e in engines}
    path.write_text(json.dumps({"calls": calls, "folders": folders}, ensure_ascii=False))


def raw(record: Path, threads: int) -> tuple[Process, Callable[[], int]]:
    """translate_batch alone, on the batches case c recorded (the same folders, so the same vmap.txt, and the
    same options, use_vmap included): no tokenizer, no Python around it."""
    import ctranslate2

    data = json.loads(record.read_text(encoding="utf-8"))
    translators = {f: ctranslate2.Translator(f, device=device, compute_type=compute, intra_threads=threads,
                                             inter_threads=1) for f, (device, compute) in data["folders"].items()}
    by_article: dict[int, list[dict[str, Any]]] = {}
    for call in data["calls"]:
        by_article.setdefault(call["article"], []).append(call)
    made = [0]

    def process(i: int, _: str) -> None:
        for call in by_article.get(i, []):
            results = translators[call["model"]].translate_batch(call["source"], **call["options"])
            made[0] += sum(len(r.hypotheses[0]) for r in results)

    return process, lambda: made[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=Path("/tmp/bench-models"),
                        help="folder written by bench/make_models.py (default /tmp/bench-models)")
    parser.add_argument("--quick", action="store_true", help="one ~200-word article, one run (< 5 min)")
    parser.add_argument("--runs", type=int, default=None, help="runs per case (default 3; 1 with --quick)")
    parser.add_argument("--articles", type=int, default=4, help="articles: the seed + N-1 typical news (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="threads per case (default 2)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {','.join(CASES)}")
    parser.add_argument("--sweep", action="store_true",
                        help="also the CTranslate2 case at kept sizes " + ", ".join(f"mT5 {a:,} / Marian {b:,}"
                                                                                 for a, b in SWEEP)
                        + " (every summary 84 tokens): speed as a function of the kept size")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where the tarjama and raw cases run (cuda: float16 Marian, bfloat16 mT5)")
    parser.add_argument("--translation-beams", type=int, default=0, metavar="N",
                        help="tarjama cases only: translate with N beams instead of models.yaml's 4")
    parser.add_argument("--summary-beams", type=int, default=0, metavar="N",
                        help="tarjama cases only: summarize with N beams instead of XLSum's 4")
    parser.add_argument("--summary-strategy", choices=STRATEGIES, default="",
                        help="tarjama cases only: models.yaml summary strategy (default chunk-merge)")
    add_report_options(parser)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.job)
    return parent(args)


if __name__ == "__main__":
    raise SystemExit(main())
