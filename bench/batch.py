"""Batch throughput: ``tarjama batch`` (sentences of many articles share model batches) against
translating the same articles one at a time, on the same models in the same process.

    python bench/batch.py --models DIR_OR_MODELS_YAML [--articles 200] [--repeats 3] [--to en,es]
                          [--summary] [--chunk 16] [--workers N] [--fixed-length-ratio 1.2] [--json]
                          [--device cpu|cuda] [--gpu-batches] [--batch-tokens N] [--max-batch-size N]
                          [--summary-batch-tokens N] [--summary-many-batch-tokens N]
                          [--summary-max-batch-size N] [--engine ray [--num-workers N]
                          [--cpus-per-worker C]]

- article: ``Pipeline.run(article)`` for each article in turn (what a loop over ``tarjama translate``
  does once the models are loaded).
- batch: ``tarjama.batch.run_batch`` over a JSONL file of the same articles (validation, chunks of
  ``--chunk`` articles through ``Pipeline.run_many``, each result written and fsynced): the real path.
- workers N (with ``--workers N``, N > 1): the same batch with N worker processes; its time includes
  starting them and loading their models.
- ray (with ``--engine ray``): the same batch on ``--engine ray`` with a private Ray instance on this
  machine (``--num-workers``, ``--cpus-per-worker``); its time includes starting Ray, the actors and
  their models (``models_ready_s``: when the run logged its models ready, after ray.init and one Ray task
  loading them). ``ray_overhead_vs_batch``: its median time over the batch mode's, minus 1.
- writer (with ``--modes ...,writer``): the single writer's ceiling: the batch's own result lines
  appended (one ``os.write`` each) and fsynced every ``--chunk`` lines, as the runner writes them.

Peak resident memory is sampled from /proc for this process and every process below it (Ray's raylet,
GCS and actors, the pool's workers), by kind, per mode (``peak_rss_mb_by_process``).

Articles are the first N of ``../shared/corpus/news/*.jsonl`` that pass the batch's checks, full
length (``--max-words W``: only those of at most W words, for quick checks); where fewer pass, they are
cycled (copies with ids ``ID~2``, ``ID~3`` …), said on stderr and in the report (``distinct_articles``,
``cycled``) — a copy in the same chunk as its original shares its sentences' decodes (run_many decodes
each distinct text once), so a cycled run is optimistic. The translation memory is off in every mode, so
no mode gets another's sentences for free.
Random-weight models never emit EOS, so every sentence would decode to ``max_new_tokens``; unless
``--fixed-length-ratio 0``, a copy of models.yaml (written to a temp folder) forces each output to
ratio × the batch's mean source tokens (``generate.fixed_length_ratio``), summaries to their
``max_new_tokens`` — realistic work, the same in every mode. The repetition guard is off (as in
bench/run.py). Modes alternate order between repeats; the report gives articles/min (best and
median) and the ratio of medians, and, for the in-process modes, generated tokens/s (every token the
engines decoded — translations, summaries and the summaries' translations — over the timed seconds;
counted by wrapping each loaded engine's ``generate_alternatives``, as bench/run.py counts ``generate``).

``--device cuda`` runs every model on the GPU (models.yaml ``device: cuda``, ``compute_type: auto``:
float16 Marian, bfloat16 mT5 — ``tarjama.translate.engine.ct2_compute_type``); ``--device cpu`` (default)
sets ``device: cpu`` and keeps the file's compute type (bench/make_models.py's ``auto``: int8). Batch
budgets are models.yaml keys per model entry, set in the copy:
``--batch-tokens``/``--max-batch-size`` (translation), ``--summary-batch-tokens`` (one article),
``--summary-many-batch-tokens`` (run_many, many articles), ``--summary-max-batch-size``; ``--help`` prints
their defaults, read from translate/translator.py and summarize/summarizer.py. ``--gpu-batches`` sets the GPU sizes
bench/gpu.sh uses: translation 16384 tokens / 256 rows, summaries 16384 (one article) / 32768 (many) tokens
/ 64 rows — 64 chunk rows of 512 tokens at beam 4 hold a few GB of cross-attention cache on an H200 (~150 MB
a row in float32 on CPU, about half in bfloat16), far inside its memory; on a CPU those sizes only cost
RAM. Peak GPU memory is not measured here (CTranslate2 allocates outside torch, so
``torch.cuda.max_memory_allocated`` says nothing): bench/gpu.sh samples ``nvidia-smi`` around this run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from tarjama.summarize import summarizer
from tarjama.translate import translator

from tarjama.paths import corpus_path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


CORPUS = corpus_path()


def load_articles(n: int, max_words: int = 0) -> list[dict]:
    """The first ``n`` shared-corpus news articles that the batch would accept (and, with ``max_words``, of
    at most that many words), in file order; cycled (ids ``ID~2`` …, ``"copy": k``) when fewer than ``n``
    pass."""
    from tarjama.documents import Document, InputError
    from tarjama.pipeline import Pipeline
    from tarjama.registry import Registry

    check = Pipeline(Registry.load()).prepare  # validates and segments only: no model is loaded
    out = []
    for path in sorted((CORPUS / "news").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            art = json.loads(line)
            if max_words and len(art["text"].split()) > max_words:
                continue
            try:
                check(Document(text=art["text"], id=art["id"]))
            except InputError:
                continue
            out.append({"id": art["id"], "title": art.get("title"), "text": art["text"]})
            if len(out) == n:
                return out
    if not out:
        raise SystemExit(f"no usable articles under {CORPUS / 'news'} (set TARJAMA_CORPUS)")
    distinct = len(out)
    print(f"bench/batch.py: only {distinct} usable articles under {CORPUS / 'news'}: cycling them to {n}",
          file=sys.stderr, flush=True)
    for i in range(distinct, n):
        art = out[i % distinct]
        out.append({**art, "id": f"{art['id']}~{i // distinct + 1}", "copy": i // distinct + 1})
    return out


GPU_BUDGETS = {"translation": {"batch_tokens": 16384, "max_batch_size": 256},
               "summarization": {"batch_tokens": 16384, "many_batch_tokens": 32768, "max_batch_size": 64}}


def bench_models(models: Path, ratio: float, folder: Path, threads: int | None = None,
                 repetition_guard: bool = False, budgets: dict[str, dict[str, int]] | None = None,
                 device: str | None = None) -> Path:
    """A copy of models.yaml for benchmarks: forced output lengths (``benchmark:``), the repetition guard
    off unless asked (random weights loop on nearly every sentence, real models rarely), batch budgets
    (``budgets``: task → models.yaml keys), the device (``device``: every model there; on cuda with
    ``compute_type: auto``, on cpu with the file's compute type; None keeps the file's device) and local
    model paths made absolute."""
    path = models / "models.yaml" if models.is_dir() else models
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if threads is not None:
        data.setdefault("defaults", {})["threads"] = threads
    if device == "cuda":  # auto on CUDA: float16 Marian, bfloat16 mT5
        data.setdefault("defaults", {}).update(device=device, compute_type="auto")
    elif device is not None:  # the file's compute type stays (auto: int8)
        data.setdefault("defaults", {})["device"] = device
    for task, entries in (("translation", data.get("translation") or {}),
                          ("summarization", data.get("summarization") or {})):
        for entry in entries.values():
            local = path.parent / entry["model"]
            if not Path(entry["model"]).is_absolute() and local.exists():
                entry["model"] = str(local.resolve())
            if ratio > 0 and task == "translation":
                entry["benchmark"] = {"ratio": ratio}
            elif ratio > 0:
                entry["benchmark"] = {"tokens": entry.get("generate", {}).get("max_new_tokens", 84)}
            if task == "translation":
                entry["repetition_guard"] = repetition_guard
                entry["enforce"] = False  # random weights miss every protected token: no n-best re-decodes
            if device is not None:
                entry.pop("device", None)
                if device == "cuda":
                    entry.pop("compute_type", None)
            entry.update((budgets or {}).get(task, {}))
    out = folder / "models.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def count_tokens(pipe) -> list[int]:
    """Wrap every loaded engine's ``generate_alternatives`` (``generate`` goes through it) to count the
    tokens of each text's best hypothesis; the running total is the returned list's one item."""
    made = [0]
    for engine in pipe.engines.loaded():
        original = engine.generate_alternatives

        def counted(texts, options, n, _original=original):
            out = _original(texts, options, n)
            made[0] += sum(alts[0].num_tokens for alts in out if alts)
            return out

        engine.generate_alternatives = counted
    return made


def budgets_from(args: argparse.Namespace) -> dict[str, dict[str, int]]:
    """models.yaml batch keys per task from the command line (``--gpu-batches``, then each explicit one)."""
    budgets = {task: dict(keys) for task, keys in GPU_BUDGETS.items()} if args.gpu_batches else {}
    for task, key, value in (("translation", "batch_tokens", args.batch_tokens),
                             ("translation", "max_batch_size", args.max_batch_size),
                             ("summarization", "batch_tokens", args.summary_batch_tokens),
                             ("summarization", "many_batch_tokens", args.summary_many_batch_tokens),
                             ("summarization", "max_batch_size", args.summary_max_batch_size)):
        if value:
            budgets.setdefault(task, {})[key] = value
    return budgets


def time_article(pipe, docs, targets, summarize) -> float:
    started = time.perf_counter()
    for doc in docs:
        pipe.run(doc, targets, summarize)
    return time.perf_counter() - started


class Interrupted(Exception):
    """A batch run stopped by SIGTERM/SIGINT (``timeout``) after whole chunks were written: partial figures."""

    def __init__(self, seconds: float, done: int, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum} after {done} articles, {seconds:.1f} s")
        self.seconds, self.done, self.signum = seconds, done, signum


def time_batch(pipe, feed: Path, out: Path, targets, summarize, chunk: int, workers: int = 1,
               models: Path | None = None, ray: Any = None, marks: dict[str, float] | None = None) -> float:
    """Seconds of one run_batch over ``feed``; ``Interrupted`` when a signal stopped it after some chunks
    (run_batch stops at the next model batch and keeps what is written: those articles over those seconds
    under-state the rate a little, the abandoned chunk's work being in the seconds).  ``ray``: RayOptions,
    the run on ``--engine ray``; ``marks`` gets the seconds at which the run logged that its models were
    ready (Ray: after ray.init and a worker loading them once)."""
    from tarjama.batch import BatchConfig, run_batch

    cfg = BatchConfig(inputs=(str(feed),), out=out, targets=tuple(targets), summarize=summarize, chunk=chunk,
                      workers=workers, models=str(models) if models else None, memory=False,
                      engine="ray" if ray else "local", ray=ray)
    started = time.perf_counter()

    def log(note: str) -> None:
        if marks is not None and note.startswith("models ready"):
            marks["models_ready_s"] = time.perf_counter() - started

    report = run_batch(cfg, pipe if workers == 1 and not ray else None, log=log)
    elapsed = time.perf_counter() - started
    if report.interrupted and not report.failed and report.translated:
        raise Interrupted(elapsed, report.translated, report.interrupted)
    if report.failed or report.interrupted:
        raise SystemExit(f"batch run failed: {report}")
    return elapsed


class RssSampler:
    """Peak resident memory of this process and every process below it (Ray's raylet, GCS and workers, the
    pool's workers), by kind, sampled from /proc twice a second while a mode runs."""

    KINDS = (("ray::MapWorker", "ray actor (models)"), ("ray::_describe", "ray describe task"),
             ("raylet", "raylet"), ("gcs_server", "gcs_server"), ("ray::", "ray other worker"),
             ("multiprocessing", "local worker process"))

    def __init__(self) -> None:
        import threading

        self.peaks: dict[str, int] = {}
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def sample(self) -> None:
        parents, rss, names = {}, {}, {}
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines() if ":" in line)
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            pid = int(proc.name)
            parents[pid] = int(status.get("PPid", "0").strip())
            rss[pid] = int(status.get("VmRSS", "0 kB").split()[0]) // 1024
            names[pid] = cmd
        mine, total = {os.getpid()}, 0
        for _ in range(6):  # descendants, a few levels deep (driver → raylet → workers)
            mine |= {p for p, parent in parents.items() if parent in mine}
        for pid in mine:
            kind = "main process" if pid == os.getpid() else next(
                (k for marker, k in self.KINDS if marker in names.get(pid, "")), "other child")
            self.peaks[kind] = max(self.peaks.get(kind, 0), rss.get(pid, 0))
            total += rss.get(pid, 0)
        self.total = max(self.total, total)


def writer_ceiling(lines: list[bytes], folder: Path, count: int = 5000, chunk: int = 16) -> dict[str, float]:
    """Lines per second the single writer sustains: JsonlLog.append (one os.write per whole line) and an fsync
    of the output and errors files after every ``chunk`` lines, as the runner does, on real result lines."""
    from tarjama.batch import JsonlLog

    log, errors = JsonlLog(folder / "ceiling.jsonl"), JsonlLog(folder / "ceiling.errors.jsonl")
    log.open()
    errors.open()
    entries = [json.loads(line) for line in lines]
    started = time.perf_counter()
    for i in range(count):
        log.append(entries[i % len(entries)])
        if (i + 1) % chunk == 0:
            log.sync()
            errors.sync()
    log.sync()
    seconds = time.perf_counter() - started
    log.close()
    errors.close()
    size = (folder / "ceiling.jsonl").stat().st_size
    return {"lines": count, "seconds": round(seconds, 3), "lines_per_s": round(count / seconds),
            "mean_line_kb": round(size / count / 1024, 1), "fsync_every": chunk}


def summarize_runs(n: int, runs: dict[str, list[float]], tokens: dict[str, list[int]] | None = None,
                   done: dict[str, list[int]] | None = None) -> dict:
    """Per mode: seconds, articles/min (``done``: articles per run where a run stopped early, else ``n``) and,
    given ``tokens``, generated tokens/s."""
    modes = {}
    for mode, secs in runs.items():
        counts = (done or {}).get(mode) or [n] * len(secs)
        rates = [60 * c / s for c, s in zip(counts, secs)]
        modes[mode] = {"seconds": [round(s, 2) for s in secs], "articles_per_min_best": round(max(rates), 1),
                       "articles_per_min_median": round(statistics.median(rates), 1)}
        if counts != [n] * len(secs):
            modes[mode]["articles_done"] = counts
        made = (tokens or {}).get(mode)
        if made:  # in-process modes only: worker processes' engines are not counted
            per_s = [t / s for t, s in zip(made, secs)]
            modes[mode].update(tokens=made, tokens_per_s_best=round(max(per_s)),
                               tokens_per_s_median=round(statistics.median(per_s)))
    base = modes["article"]["articles_per_min_median"] if "article" in modes else None
    for data in modes.values():
        data["ratio_vs_article"] = round(data["articles_per_min_median"] / base, 2) if base else None
    return modes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, required=True, help="models.yaml, or a folder holding one")
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--to", default="en,es", help="target languages (default: en,es)")
    parser.add_argument("--summary", action="store_true", help="summarize too")
    parser.add_argument("--chunk", type=int, default=16, help="articles per run_many call (default 16)")
    parser.add_argument("--workers", type=int, default=1, help="also time the batch with N worker processes")
    parser.add_argument("--fixed-length-ratio", type=float, default=1.2,
                        help="forced output length / source length for random-weight models (0: off)")
    parser.add_argument("--threads", type=int, help="override models.yaml's threads (0: all cores)")
    parser.add_argument("--modes", default="article,batch,workers",
                        help="which modes to time (default: all; workers only with --workers N > 1); "
                             "add 'writer' for the single writer's ceiling in lines/s")
    parser.add_argument("--repetition-guard", action="store_true",
                        help="keep the repetition guard on (off by default, as in bench/run.py)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where every model runs (default cpu, with models.yaml's compute type; cuda: "
                             "compute_type auto = float16 Marian, bfloat16 mT5)")
    parser.add_argument("--gpu-batches", action="store_true",
                        help="GPU batch budgets: translation 16384 tokens / 256 rows, summaries 16384 (one "
                             "article) / 32768 (many articles) tokens / 64 rows")
    parser.add_argument("--batch-tokens", type=int, default=0, metavar="N",
                        help="translation: padded tokens per model call (models.yaml batch_tokens; default "
                             f"{translator.BATCH_TOKENS})")
    parser.add_argument("--max-batch-size", type=int, default=0, metavar="N",
                        help="translation: rows per model call (models.yaml max_batch_size; default "
                             f"{translator.MAX_BATCH_SIZE})")
    parser.add_argument("--summary-batch-tokens", type=int, default=0, metavar="N",
                        help=f"summaries of one article: padded tokens per pass (default {summarizer.BATCH_TOKENS})")
    parser.add_argument("--summary-many-batch-tokens", type=int, default=0, metavar="N",
                        help="summaries of many articles (run_many): padded tokens per pass "
                             f"(default {summarizer.MANY_BATCH_TOKENS})")
    parser.add_argument("--summary-max-batch-size", type=int, default=0, metavar="N",
                        help=f"summaries: chunk rows per pass (default {summarizer.MAX_BATCH_SIZE})")
    parser.add_argument("--max-words", type=int, default=0, metavar="W",
                        help="only articles of at most W words (quick checks; default: any length)")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="ray: also time the batch on --engine ray, a private Ray instance on this machine "
                             "(mode 'ray': Ray's start and the actors' model loading included)")
    parser.add_argument("--num-workers", type=int, default=None, metavar="N",
                        help="--engine ray: Ray workers (default: as many as the cores hold)")
    parser.add_argument("--cpus-per-worker", type=int, default=None, metavar="C",
                        help="--engine ray: CPUs and model threads per Ray worker (default: tarjama's)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from tarjama.cli.options import quiet_libraries
    from tarjama.documents import Document
    from tarjama.pipeline import Pipeline

    quiet_libraries()
    targets = tuple(t.strip() for t in args.to.split(",") if t.strip())
    articles = load_articles(args.articles, args.max_words)
    budgets = budgets_from(args)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tarjama-bench-batch-") as tmp:
        folder = Path(tmp)
        models = bench_models(args.models, args.fixed_length_ratio, folder, args.threads, args.repetition_guard,
                              budgets, args.device)
        feed = folder / "feed.jsonl"
        feed.write_text("".join(json.dumps({k: a[k] for k in ("id", "title", "text")}, ensure_ascii=False) + "\n"
                                for a in articles), encoding="utf-8")
        docs = [Document(text=a["text"], title=a["title"], id=a["id"]) for a in articles]
        pipe = Pipeline.from_config(models, memory=False)
        infos = pipe.preload(targets, args.summary)
        loaded_s = time.perf_counter() - started
        made = count_tokens(pipe)
        pipe.run(docs[0], targets, args.summary)  # warm-up: first-call allocations, thread pools
        wanted = args.modes.split(",")
        modes = [m for m in ("article", "batch") if m in wanted]
        modes += [f"workers{args.workers}"] if args.workers > 1 and "workers" in wanted else []
        modes += ["ray"] if args.engine == "ray" else []
        ray_options = None
        if args.engine == "ray":
            from tarjama.batch.config import RayOptions

            ray_options = RayOptions(num_workers=args.num_workers, cpus_per_worker=args.cpus_per_worker)
        memory: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        ready: dict[str, list[float]] = {m: [] for m in modes}
        runs: dict[str, list[float]] = {m: [] for m in modes}
        tokens: dict[str, list[int]] = {m: [] for m in modes}
        done: dict[str, list[int]] = {m: [] for m in modes}
        interrupted = None
        for rep in range(args.repeats):
            for mode in modes if rep % 2 == 0 else modes[::-1]:
                out = folder / f"out-{mode}-{rep}.jsonl"
                before, count = made[0], len(docs)
                marks: dict[str, float] = {}
                try:
                    with RssSampler() as rss:
                        if mode == "article":
                            secs = time_article(pipe, docs, targets, args.summary)
                        elif mode == "batch":
                            secs = time_batch(pipe, feed, out, targets, args.summary, args.chunk, marks=marks)
                        elif mode == "ray":
                            secs = time_batch(None, feed, out, targets, args.summary, args.chunk, models=models,
                                              ray=ray_options, marks=marks)
                        else:
                            secs = time_batch(None, feed, out, targets, args.summary, args.chunk, args.workers,
                                              models, marks=marks)
                except Interrupted as stop:  # e.g. bench/gpu.sh's timeout: report what was done, then stop
                    secs, count, interrupted = stop.seconds, stop.done, stop.signum
                memory[mode].append({"total_mb": rss.total, **rss.peaks})
                if "models_ready_s" in marks:
                    ready[mode].append(round(marks["models_ready_s"], 1))
                runs[mode].append(secs)
                if mode in ("article", "batch"):  # this process's engines: other processes' are not counted
                    tokens[mode].append(made[0] - before)
                done[mode].append(count)
                print(f"repeat {rep + 1}: {mode}: {secs:.1f} s ({60 * count / secs:.1f} articles/min)"
                      f"{f', INTERRUPTED after {count} of {len(docs)} articles' if interrupted else ''}",
                      file=sys.stderr, flush=True)
                if interrupted:
                    break
            if interrupted:
                break
        runs = {m: v for m, v in runs.items() if v}
        ceiling = None
        if "writer" in wanted:
            written = [f for f in sorted(folder.glob("out-*.jsonl")) if not f.name.endswith(".errors.jsonl")]
            lines = written[0].read_bytes().splitlines(keepends=True) if written else []
            ceiling = writer_ceiling(lines, folder, chunk=args.chunk) if lines else None
    report = {"articles": len(docs), "distinct_articles": sum(1 for a in articles if "copy" not in a),
              "cycled": any("copy" in a for a in articles),
              "chars": sum(len(a["text"]) for a in articles), "targets": list(targets),
              "max_words": args.max_words or None, "summary": args.summary, "chunk": args.chunk,
              "repeats": args.repeats,
              "fixed_length_ratio": args.fixed_length_ratio, "threads": args.threads,
              "repetition_guard": args.repetition_guard,
              "cores": len(os.sched_getaffinity(0)), "device": args.device, "budgets": budgets,
              "models": [f"{m.key}: {m.model}@{m.revision} {m.engine}/{m.compute_type}" for m in infos],
              "load_s": round(loaded_s, 1), "wall_s": round(time.perf_counter() - started, 1),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
              "interrupted": interrupted, "modes": summarize_runs(len(docs), runs, tokens, done),
              "peak_rss_mb_by_process": {m: v for m, v in memory.items() if v},
              "models_ready_s": {m: v for m, v in ready.items() if v}, "writer_ceiling": ceiling}
    if "ray" in report["modes"] and "batch" in report["modes"]:
        ray_s = statistics.median(runs["ray"])
        report["ray_overhead_vs_batch"] = round(ray_s / statistics.median(runs["batch"]) - 1, 3)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(f"{report['articles']} articles ({report['chars']:,} chars), → {','.join(targets)}"
          f"{' + summaries' if args.summary else ''}, chunk {args.chunk}, {report['cores']} cores, "
          f"{args.repeats} repeats")
    for line in report["models"]:
        print(f"  {line}")
    print(f"{'mode':<10} {'best art/min':>13} {'median art/min':>15} {'× article':>10} {'median tokens/s':>16}")
    for mode, data in report["modes"].items():
        print(f"{mode:<10} {data['articles_per_min_best']:>13} {data['articles_per_min_median']:>15} "
              f"{data['ratio_vs_article']:>10} {data.get('tokens_per_s_median', '-'):>16}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
