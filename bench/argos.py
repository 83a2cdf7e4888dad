"""tarjama against Argos Translate (the engine behind LibreTranslate), side by side, on the same ar→en weights.

    python bench/make_models.py /tmp/bench-models            # once: real-architecture random-weight models
    python3 -m venv /tmp/argos-venv                            # once: Argos in its own virtualenv
    /tmp/argos-venv/bin/pip install torch==2.13.0 argostranslate==1.11.0
    python bench/argos.py --models /tmp/bench-models           # seed + 3 typical articles, 3 runs, Markdown table
    python bench/argos.py --models /tmp/bench-models --articles 2 --runs 1 --json
    python bench/argos.py --models /tmp/bench-models --runs 0 --probe-splitters   # only: where Argos stops offline

What it builds.  tarjama converts the bench Marian ar→en model to CTranslate2 int8 (its own cache, once).
That folder is packaged as an Argos package in Argos's documented layout: one folder ``ar_en/`` with
``metadata.json``, ``model/`` (the same CTranslate2 files, ``add_source_eos: true`` in its config.json:
Argos does not append ``</s>``, tarjama's tokenizer does) and ``sentencepiece.model`` (opus-mt's
source.spm), zipped and installed with ``argostranslate.package.install_from_path`` into a temporary
``ARGOS_PACKAGES_DIR`` (``XDG_*`` point there too, so nothing touches ~/.local or ~/.config).

Systems, each in a fresh process per run (run round-robin, so machine noise spreads over all of them):

  argos         argostranslate 1.11.0 under ``--argos-python``: ``get_translation_from_codes("ar", "en")``,
                then ``.underlying.hypotheses(article, 1)`` (the uncached PackageTranslation; the
                CachedTranslation on top only replays the paragraphs of its previous call).  Its decoding
                settings are fixed in its code: beam 4, length_penalty 0.2, max_decoding_length 256 (the
                default), batches of 32 *tokens* (about one sentence each), no vocabulary map.  Threads:
                ARGOS_INTRA_THREADS = --threads, ARGOS_INTER_THREADS = 1; compute type int8.
  tarjama       ``Pipeline.run(article, targets=("en",), summarize=False)``, CTranslate2 int8, memory off, at
                models.yaml's defaults (for ar-en that includes ``output_vocabulary: latin`` once the registry
                knows the key): beam 4, max_new_tokens 256, --threads intra-op threads.
  tarjama-all   the same with ``output_vocabulary: all``: no output restriction, the very work Argos does.
                Run only when the registry accepts ``output_vocabulary`` (otherwise "tarjama" is already that).

Same sentences.  Argos's own splitters need the network (MiniSBD downloads ar.onnx, Stanza fetches
resources.json, spaCy downloads xx_sent_ud_sm; ``--probe-splitters`` records where each one stops), so
Argos's ``sentencizer`` is replaced by an object whose ``split_sentences(paragraph)`` returns tarjama's
own sentences of that paragraph (tarjama.translate.segment); Argos is handed the cleaned paragraphs,
one per line, as it splits paragraphs on "\\n".  Its splitting therefore costs it nothing here, and
tarjama's cleaning and segmentation are inside tarjama's time.  Every Argos process runs with the
HTTP(S) proxy pointed at a closed local port: anything it tried to fetch would fail, so the runs are offline.

Same lengths.  Random weights almost never emit EOS and Argos cannot be given forced lengths, so both
run at natural lengths: nearly every sentence runs to the cap, 256 target tokens in both (Argos:
max_decoding_length 256; tarjama: max_new_tokens 256, the last one the forced EOS Marian ends with).
The token totals are reported; where they differ, target tokens/s is the fair figure.  tarjama's
repetition guard and placeholder enforcement are off (random weights loop on, and miss protected
tokens in, nearly every sentence, which real models do not).

Reported per system, min / median / max over the runs: articles per minute (warm: every article after
a warm-up text), target tokens/s (tokens counted at the decoder: tarjama's engine.generate hypotheses,
Argos's ctranslate2 translate_batch hypotheses), peak RSS (ru_maxrss of the process), cold start
(process start → first result, the warm-up text, models loading included), and structure: paragraphs
kept (every article comes back with its paragraph count) and sentences kept (non-empty translations
over source sentences).  The ratio tarjama / Argos is of the median articles per minute.

Random weights: the figures are speed only, never quality.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path
from typing import Any

from common import add_report_options, child_env, cpu_name, pick_articles, report, say, spread

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "examples" / "seed_article.ar.txt"
DEFAULT_ARGOS_PYTHON = Path("/tmp/argos-venv/bin/python")
ARGOS_VERSION = "1.11.0"
INSTALL_HINT = ("python3 -m venv /tmp/argos-venv && /tmp/argos-venv/bin/pip install torch==2.13.0 "
                f"argostranslate=={ARGOS_VERSION}   (torch pinned: a CPU wheel; unpinned pip pulls a CUDA build)")
WARMUP = ("قال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل. وأضاف أن الوفود ستصل صباحا. "
          "ولم يذكر تفاصيل أخرى.")
SYSTEMS = ("argos", "tarjama", "tarjama-all")
OFFLINE_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, so every fetch fails at once
VOCABULARY_FILES = ("shared_vocabulary.json", "source_vocabulary.json", "target_vocabulary.json",
                    "shared_vocabulary.txt", "source_vocabulary.txt", "target_vocabulary.txt")
PROBES = {  # name → (ARGOS_CHUNK_TYPE, a blank spaCy "ar" pipeline in the package's spacy/ folder)
    "default (MiniSBD)": ("DEFAULT", False),
    "MINISBD": ("MINISBD", False),
    "STANZA": ("STANZA", False),
    "SPACY": ("SPACY", False),
    "SPACY + package spacy/ (blank ar)": ("SPACY", True),
}


# -- the parent: prepare, run every system in fresh processes, aggregate -----------------------------------


def segmented(name: str, text: str) -> dict[str, Any]:
    """An article as both systems get it: the raw text (tarjama) and its cleaned paragraphs with tarjama's
    sentences (what Argos's sentencizer is made to return)."""
    from tarjama.translate.segment import segment

    seg = segment(text)
    return {"name": name, "text": text, "words": len(text.split()),
            "paragraphs": [{"text": p.text, "sentences": [s.text for s in p.sentences]} for p in seg.paragraphs]}


def write_configs(models: Path, work: Path, threads: int) -> dict[str, Path]:
    """models.yaml variants (ar-en only, no summarizer): absolute model path, CTranslate2 int8, threads,
    natural lengths, the repetition guard and placeholder enforcement off; ``tarjama-all`` adds
    ``output_vocabulary: all`` when the registry accepts that key."""
    import yaml

    from tarjama.registry import ConfigError, Registry

    data = yaml.safe_load((models / "models.yaml").read_text(encoding="utf-8"))
    entry = dict(data["translation"]["ar-en"])
    entry["model"] = str((models / entry["model"]).resolve())
    entry.pop("benchmark", None)  # natural lengths: Argos cannot be given forced ones
    entry.update(repetition_guard=False, enforce=False)
    base = {"demo": bool(data.get("demo", True)),
            "defaults": {"backend": "ctranslate2", "device": "cpu", "compute_type": "int8", "threads": threads}}
    out = {"tarjama": work / "models-tarjama.yaml"}
    out["tarjama"].write_text(yaml.safe_dump({**base, "translation": {"ar-en": entry}}, allow_unicode=True,
                                             sort_keys=False), encoding="utf-8")
    every = work / "models-tarjama-all.yaml"
    every.write_text(yaml.safe_dump({**base, "translation": {"ar-en": {**entry, "output_vocabulary": "all"}}},
                                    allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        Registry.load(every)
    except ConfigError as err:
        if "output_vocabulary" not in str(err):
            raise
        return out  # the registry does not know the key yet: "tarjama" is already unrestricted
    out["tarjama-all"] = every
    return out



def argos_env(work: Path, threads: int, packages: Path | None = None, chunk_type: str = "DEFAULT",
              home: Path | None = None) -> dict[str, str]:
    """Argos's settings (environment variables, read at import) and a sandbox: temp XDG folders, no network."""
    home = home or work / "argos"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGOS_", "XDG_")) and k.lower() not in
           ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update({"ARGOS_PACKAGES_DIR": str(packages or work / "argos" / "packages"),
                "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_CACHE_HOME": str(home / "cache"), "HOME": str(home / "home"),
                "ARGOS_DEVICE_TYPE": "cpu", "ARGOS_COMPUTE_TYPE": "int8", "ARGOS_BEAM_SIZE": "4",
                "ARGOS_BATCH_SIZE": "32", "ARGOS_INTRA_THREADS": str(threads), "ARGOS_INTER_THREADS": "1",
                "ARGOS_CHUNK_TYPE": chunk_type, "PYTHONUNBUFFERED": "1",
                "http_proxy": OFFLINE_PROXY, "https_proxy": OFFLINE_PROXY, "HTTP_PROXY": OFFLINE_PROXY,
                "HTTPS_PROXY": OFFLINE_PROXY, "ALL_PROXY": OFFLINE_PROXY, "no_proxy": "", "NO_PROXY": ""})
    for key in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "HOME"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def check_argos(python: Path, work: Path) -> dict[str, str]:
    """Versions in the Argos virtualenv, or exit saying how to install it."""
    if not python.is_file():
        sys.exit(f"bench/argos.py: no Python at {python} (--argos-python). Install Argos Translate in its own "
                 f"virtualenv:\n  {INSTALL_HINT}")
    code = ("import importlib.metadata as m, json; import argostranslate.translate, ctranslate2; "
            "print(json.dumps({k: m.version(k) for k in ('argostranslate', 'ctranslate2', 'stanza', 'minisbd', "
            "'spacy', 'sentencepiece', 'torch')}))")
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=argos_env(work, 1))
    if proc.returncode:
        sys.exit(f"bench/argos.py: argostranslate is not importable by {python}:\n{proc.stderr[-1500:]}\n"
                 f"Install it there:\n  {INSTALL_HINT}")
    versions = json.loads(proc.stdout.strip().splitlines()[-1])
    if versions["argostranslate"] != ARGOS_VERSION:
        print(f"bench/argos.py: argostranslate {versions['argostranslate']} (this bench was written against "
              f"{ARGOS_VERSION}; its decode settings may differ)", file=sys.stderr)
    return versions


def locate(config: Path) -> dict[str, Any]:
    """Convert (once, cached by tarjama) and load the model in a throwaway process: the CTranslate2 folder it
    opens and that folder's tarjama.json (output vocabulary kept / total)."""
    proc = subprocess.run([sys.executable, __file__, "--worker", "locate", "--job", str(config)],
                          capture_output=True, text=True, cwd=REPO, env=child_env(), timeout=1800)
    if proc.returncode:
        sys.exit(f"bench/argos.py: tarjama could not load {config}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_package(folder: Path, models: Path, work: Path) -> Path:
    """``ar_en.argosmodel``: the CTranslate2 folder (no vmap.txt, no tarjama.json), opus-mt's source.spm."""
    root = work / "package" / "ar_en"
    (root / "model").mkdir(parents=True)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["add_source_eos"] = True  # tarjama's tokenizer appends </s>; Argos's sentencepiece encode does not
    (root / "model" / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    shutil.copy2(folder / "model.bin", root / "model" / "model.bin")
    for name in VOCABULARY_FILES:
        if (folder / name).is_file():
            shutil.copy2(folder / name, root / "model" / name)
    shutil.copy2(models / "opus-mt-ar-en" / "source.spm", root / "sentencepiece.model")
    metadata = {"package_version": "1.0", "argos_version": "1.11", "from_code": "ar", "from_name": "Arabic",
                "to_code": "en", "to_name": "English", "type": "translate",
                "links": [], "note": "tarjama bench: random-weight Marian ar→en (bench/make_models.py), speed only"}
    (root / "metadata.json").write_text(json.dumps(metadata, indent=2, ensure_ascii=False), encoding="utf-8")
    (root / "README.md").write_text("Random-weight opus-mt-ar-en (architecture only) for tarjama's bench/argos.py.\n",
                                    encoding="utf-8")
    archive = work / "ar_en.argosmodel"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(root.rglob("*")):
            zf.write(path, path.relative_to(root.parent).as_posix())
    shutil.rmtree(root.parent)
    return archive


def install_package(python: Path, archive: Path, work: Path, threads: int) -> dict[str, Any]:
    proc = subprocess.run([str(python), __file__, "--worker", "argos-install", "--job", str(archive)],
                          capture_output=True, text=True, env=argos_env(work, threads), timeout=600)
    if proc.returncode:
        sys.exit(f"bench/argos.py: Argos could not install {archive}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_system(system: str, args: argparse.Namespace, work: Path, job: Path) -> dict[str, Any]:
    """One fresh process for ``system``; its JSON result, with the cold start measured from here."""
    if system == "argos":
        cmd, env = [str(args.argos_python), __file__], argos_env(work, args.threads)
    else:
        cmd, env = [sys.executable, __file__], child_env()
    started = time.time()
    proc = subprocess.run([*cmd, "--worker", system, "--job", str(job)], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=7200)
    if proc.returncode:
        sys.exit(f"bench/argos.py: {system} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["cold_start_s"] = result.pop("first_result_at") - started
    return result


def probe_splitters(args: argparse.Namespace, work: Path, job: Path) -> dict[str, Any]:
    """Argos's public ``translate()`` with each of its own splitters, offline, in fresh processes and fresh
    caches: where each stops (exception and the frames it came through), or the sentences it found."""
    out = {}
    for i, (name, (chunk, blank)) in enumerate(PROBES.items()):
        home = work / f"probe-{i}"
        env = argos_env(work, args.threads, chunk_type=chunk, home=home, packages=home / "packages")
        probe_job = work / f"probe-{i}.json"
        probe_job.write_text(json.dumps({"job": str(job), "blank_spacy": blank,
                                         "packages": str(work / "argos" / "packages")}), encoding="utf-8")
        started = time.perf_counter()
        try:
            proc = subprocess.run([str(args.argos_python), __file__, "--worker", "argos-probe", "--job",
                                   str(probe_job)], capture_output=True, text=True, env=env, timeout=600)
            result = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {
                "ok": False, "error": f"exit {proc.returncode}"}
            result["stderr_tail"] = proc.stderr[-800:]
        except subprocess.TimeoutExpired:
            result = {"ok": False, "error": "no result within 600 s"}
        result["seconds"] = round(time.perf_counter() - started, 1)
        out[name] = result
        say(args, f"probe {name}: " + ("ok" if result.get("ok") else result.get("error", "?"))[:200])
    return out



def aggregate(runs: dict[str, list[dict[str, Any]]], titles: dict[str, str]) -> dict[str, Any]:
    systems = {}
    for system, results in runs.items():
        if not results:
            continue
        structure = results[0]["structure"]
        systems[system] = {
            "title": titles[system], "runs": len(results),
            "articles_per_min": spread([60 * len(r["article_seconds"]) / sum(r["article_seconds"]) for r in results]),
            "tokens_per_s": spread([r["tokens_per_s"] for r in results], 1),
            "peak_rss_mb": spread([r["peak_rss_mb"] for r in results], 0),
            "cold_start_s": spread([r["cold_start_s"] for r in results], 1),
            "target_tokens": results[0]["target_tokens"], "decoded": results[0]["decoded"],
            "paragraphs_kept": all(a["paragraphs_out"] == a["paragraphs"] for r in results for a in r["structure"]),
            "sentences_kept": [sum(a["sentences_kept"] for a in structure), sum(a["sentences"] for a in structure)],
            "same_sentences": all(a.get("same_sentences", True) for r in results for a in r["structure"]),
            "structure": structure, "info": results[0].get("info", {}),
        }
    out: dict[str, Any] = {"systems": systems}
    if "argos" in systems:
        argos = systems["argos"]["articles_per_min"]["median"]
        for s in ("tarjama", "tarjama-all"):
            if s in systems:
                key = s.replace("-", "_")
                out[f"ratio_{key}_vs_argos"] = round(systems[s]["articles_per_min"]["median"] / argos, 2)
                out[f"tokens_per_s_ratio_{key}_vs_argos"] = round(
                    systems[s]["tokens_per_s"]["median"] / systems["argos"]["tokens_per_s"]["median"], 2)
    return out


def machine(threads: int, argos: dict[str, str]) -> dict[str, Any]:
    cpu = cpu_name()
    try:
        import ctranslate2

        ct2 = ctranslate2.__version__
    except ImportError:
        ct2 = None
    return {"cpu": cpu, "nproc": os.cpu_count(), "cores_available": len(os.sched_getaffinity(0)),
            "threads": threads, "python": platform.python_version(), "load_avg_start": list(os.getloadavg()),
            "ctranslate2_tarjama": ct2, "argos_venv": argos}


def parent(args: argparse.Namespace) -> int:
    models = args.models.resolve()
    if not (models / "models.yaml").is_file():
        sys.exit(f"bench/argos.py: {models}/models.yaml not found: run python bench/make_models.py {models}")
    work = Path(tempfile.mkdtemp(prefix="tarjama-argosbench-"))
    try:
        return _parent(args, models, work)
    finally:
        if args.keep:
            print(f"bench/argos.py: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def _parent(args: argparse.Namespace, models: Path, work: Path) -> int:
    versions = check_argos(args.argos_python, work)
    info = machine(args.threads, versions)
    prepared = time.perf_counter()
    configs = write_configs(models, work, args.threads)
    located = {s: locate(c) for s, c in configs.items()}
    plain = located.get("tarjama-all", located["tarjama"])  # the unrestricted conversion: what Argos gets
    archive = build_package(Path(plain["folder"]), models, work)
    installed = install_package(args.argos_python, archive, work, args.threads)
    from tarjama.paths import corpus_path

    articles = [segmented(n, t) for n, t in pick_articles(corpus_path(), SEED, args.articles)]
    job = work / "job.json"
    job.write_text(json.dumps({"articles": articles, "warmup": segmented("warmup", WARMUP),
                               "configs": {k: str(v) for k, v in configs.items()}}, ensure_ascii=False),
                   encoding="utf-8")
    prepare_s = time.perf_counter() - prepared
    titles = {"argos": f"Argos Translate {versions['argostranslate']} (beam 4, lp 0.2, 32-token batches)"}
    for s, loc in located.items():
        if "tarjama-all" not in configs:
            vocab = "(this tarjama has no output_vocabulary key: unrestricted)"
        else:
            vocab = loc.get("output_vocabulary") or "all"
        kept = f", {loc['kept']:,} of {loc['total']:,} pieces" if loc.get("kept") else ""
        titles[s] = f"tarjama CTranslate2 int8, output_vocabulary {vocab}{kept}"
    systems = [s for s in SYSTEMS if s == "argos" or s in configs]
    if args.systems:
        systems = [s for s in systems if s in args.systems.split(",")]
    results: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    started = time.perf_counter()
    for r in range(args.runs):
        for system in systems:
            results[system].append(run_system(system, args, work, job))
            last = results[system][-1]
            per_min = 60 * len(last["article_seconds"]) / sum(last["article_seconds"])
            say(args, f"run {r + 1}/{args.runs} {system}: {per_min:.2f} articles/min, "
                 f"{last['tokens_per_s']:.0f} tokens/s, cold start {last['cold_start_s']:.1f} s")
    summary = {**aggregate(results, titles), "machine": {**info, "load_avg_end": list(os.getloadavg())},
               "date": time.strftime("%Y-%m-%d %H:%M %Z"), "command": " ".join(sys.argv),
               "articles": [{"name": a["name"], "words": a["words"], "paragraphs": len(a["paragraphs"]),
                             "sentences": sum(len(p["sentences"]) for p in a["paragraphs"])} for a in articles],
               "runs": args.runs, "prepare_s": round(prepare_s, 1), "wall_s": round(time.perf_counter() - started, 1),
               "package": {"from": plain["folder"], "installed": installed},
               "decoding": {"argos": {"beam_size": 4, "length_penalty": 0.2, "max_decoding_length": 256,
                                      "max_batch_size": 32, "batch_type": "tokens", "use_vmap": False},
                            "tarjama": {"num_beams": 4, "max_new_tokens": 256, "batch_tokens": "models.yaml default",
                                        "repetition_guard": False, "enforce": False}}}
    if args.probe_splitters:
        summary["splitters_offline"] = probe_splitters(args, work, job)
    report(args, summary, results, markdown)
    return 0



def markdown(s: dict[str, Any]) -> str:
    m = s["machine"]
    names = ", ".join(f"{a['name']} ({a['words']} words, {a['paragraphs']} paragraphs, {a['sentences']} sentences)"
                      for a in s["articles"])
    lines = [f"Machine: {m['cpu']}, nproc {m['nproc']}, {m['cores_available']} cores available, {m['threads']} "
             f"threads; load average at start {m['load_avg_start'][0]:.2f}, at end {m['load_avg_end'][0]:.2f}; "
             f"ctranslate2 {m['ctranslate2_tarjama']} (tarjama) / {m['argos_venv']['ctranslate2']} (Argos venv); "
             f"{s['date']}.", f"Articles: {names}; {s['runs']} runs per system; min / median / max.", ""]
    if s["systems"]:
        lines += ["| system | articles/min (warm) | target tokens/s | peak RSS MB | cold start s | target tokens "
                  "| sentences decoded | paragraphs kept | sentences kept |", "|---|---|---|---|---|---|---|---|---|"]
        fmt = "{min} / **{median}** / {max}"
        for c in s["systems"].values():
            kept = "{}/{}".format(*c["sentences_kept"])
            lines.append(f"| {c['title']} | {fmt.format(**c['articles_per_min'])} | {fmt.format(**c['tokens_per_s'])} "
                         f"| {fmt.format(**c['peak_rss_mb'])} | {fmt.format(**c['cold_start_s'])} "
                         f"| {c['target_tokens']} | {c['decoded']} | {'yes' if c['paragraphs_kept'] else 'no'} "
                         f"| {kept} |")
        ratios = {k: v for k, v in s.items() if k.startswith(("ratio_", "tokens_per_s_ratio_"))}
        lines += ["", ", ".join(f"{k}: {v}" for k, v in ratios.items())]
        differ = {c["target_tokens"] for c in s["systems"].values()}
        if len(differ) > 1:
            lines.append("Target token totals differ between systems: target tokens/s is the fair comparison.")
    for name, p in (s.get("splitters_offline") or {}).items():
        if p.get("ok"):
            lines.append(f"- splitter {name}: runs offline; {p.get('sentences')} sentences for tarjama's "
                         f"{p.get('tarjama_sentences')} (warm-up text), {p.get('article_sentences')} for "
                         f"{p.get('tarjama_article_sentences')} (the articles)")
        else:
            where = " ← ".join(dict.fromkeys(w for w in (p.get("stopped_in"), p.get("argos_frame")) if w))
            lines.append(f"- splitter {name}: stops offline{' in ' + where if where else ''}: {p.get('error')}")
    return "\n".join(lines)


# -- the workers: one system in this process ---------------------------------------------------------------


def flat(article: dict[str, Any]) -> list[str]:
    return [s for p in article["paragraphs"] for s in p["sentences"]]


def timed(process: Any, job: dict[str, Any], count: Any, system: str, info: dict[str, Any]) -> int:
    """Warm-up, then every article timed; one JSON line on stdout (bench/run.py's shape)."""
    process(job["warmup"])
    first_result_at = time.time()
    before_tokens, before_decoded = count()
    seconds, structure = [], []
    for article in job["articles"]:
        t = time.perf_counter()
        check = process(article)
        seconds.append(time.perf_counter() - t)
        structure.append({"name": article["name"], **check})
    tokens, decoded = (a - b for a, b in zip(count(), (before_tokens, before_decoded)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"system": system, "first_result_at": first_result_at, "article_seconds": seconds,
                      "target_tokens": tokens, "decoded": decoded, "tokens_per_s": tokens / sum(seconds),
                      "peak_rss_mb": rss_mb, "structure": structure, "info": info}, ensure_ascii=False))
    return 0


def tarjama_worker(job: dict[str, Any], config: Path, system: str) -> int:
    from tarjama.pipeline import Pipeline

    pipe = Pipeline.from_config(config, memory=False)
    pipe.preload(("en",), summarize=False)
    made = [0, 0]  # target tokens (EOS included), texts decoded
    engines = pipe.engines.loaded()
    for engine in engines:
        original = engine.generate

        def counted(texts, options, _original=original):
            hyps = _original(texts, options)
            made[0] += sum(h.num_tokens for h in hyps)
            made[1] += len(hyps)
            return hyps

        engine.generate = counted

    def process(article: dict[str, Any]) -> dict[str, Any]:
        lang = pipe.run(article["text"], targets=("en",), summarize=False).translations["en"]
        sentences = lang.sentences()
        return {"paragraphs": len(article["paragraphs"]), "paragraphs_out": len(lang.paragraphs),
                "sentences": len(flat(article)), "sentences_kept": sum(bool(s.text.strip()) for s in sentences),
                "same_sentences": [s.source for s in sentences] == flat(article)}

    info = {"folders": [str(getattr(e, "folder", "")) for e in engines]}
    return timed(process, job, lambda: tuple(made), system, info)


class GivenSentences:
    """Argos's sentencizer, duck-typed (argostranslate.translate.apply_packaged_translation calls
    ``split_sentences(paragraph)``): tarjama's own sentences of each paragraph."""

    def __init__(self, *articles: dict[str, Any]) -> None:
        self.by_paragraph = {p["text"]: p["sentences"] for a in articles for p in a["paragraphs"]}

    def split_sentences(self, text: str) -> list[str]:
        return self.by_paragraph[text]  # a KeyError would mean Argos cut the paragraphs differently


def counting_translators() -> list[list[int]]:
    """Wrap ``ctranslate2.Translator`` (Argos opens it lazily, by attribute) so that every translate_batch call
    records the target tokens of each sentence's best hypothesis; its arguments pass through untouched."""
    import ctranslate2

    calls: list[list[int]] = []
    original = ctranslate2.Translator

    class Counting:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.inner = original(*args, **kwargs)

        def translate_batch(self, *args: Any, **kwargs: Any) -> Any:
            results = self.inner.translate_batch(*args, **kwargs)
            calls.append([len(r.hypotheses[0]) if r.hypotheses else 0 for r in results])
            return results

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    ctranslate2.Translator = Counting
    return calls


def argos_worker(job: dict[str, Any]) -> int:
    calls = counting_translators()
    from argostranslate import translate as argos

    translation = argos.get_translation_from_codes("ar", "en")
    if translation is None:
        sys.exit("bench/argos.py: no installed ar→en Argos package")
    underlying = getattr(translation, "underlying", translation)  # PackageTranslation under CachedTranslation
    underlying.sentencizer = GivenSentences(job["warmup"], *job["articles"])

    def process(article: dict[str, Any]) -> dict[str, Any]:
        start = len(calls)
        text = "\n".join(p["text"] for p in article["paragraphs"])
        out = underlying.hypotheses(text, 1)[0].value
        per_sentence = [n for call in calls[start:] for n in call]
        lines = out.split("\n")
        return {"paragraphs": len(article["paragraphs"]), "paragraphs_out": len(lines),
                "empty_paragraphs_out": sum(not ln.strip() for ln in lines),
                "sentences": len(flat(article)), "sentences_kept": sum(n > 0 for n in per_sentence),
                "sentences_returned": len(per_sentence), "translate_batch_calls": len(calls) - start}

    def count() -> tuple[int, int]:
        return sum(sum(c) for c in calls), sum(len(c) for c in calls)

    from argostranslate import settings

    info = {"package": str(underlying.pkg.package_path), "beam_size": settings.beam_size,
            "batch_size": settings.batch_size, "intra_threads": settings.intra_threads,
            "inter_threads": settings.inter_threads, "compute_type": settings.compute_type,
            "translation": type(translation).__name__, "underlying": type(underlying).__name__}
    return timed(process, job, count, "argos", info)


def argos_install(archive: Path) -> int:
    from argostranslate import package, settings

    package.install_from_path(archive)
    pkgs = [p for p in package.get_installed_packages() if p.from_code == "ar" and p.to_code == "en"]
    if not pkgs:
        sys.exit(f"bench/argos.py: {archive} installed but no ar→en package found in {settings.package_data_dir}")
    pkg = pkgs[0]
    print(json.dumps({"path": str(pkg.package_path), "type": pkg.type, "tokenizer": type(pkg.tokenizer).__name__,
                      "packaged_sbd_path": str(pkg.packaged_sbd_path) if pkg.packaged_sbd_path else None,
                      "files": sorted(str(p.relative_to(pkg.package_path)) for p in pkg.package_path.rglob("*")
                                      if p.is_file())}))
    return 0


def argos_probe(probe: dict[str, Any]) -> int:
    """Argos's own ``translate()`` with the splitter ARGOS_CHUNK_TYPE picks; where it stops, offline."""
    job = json.loads(Path(probe["job"]).read_text(encoding="utf-8"))
    warm = job["warmup"]
    result: dict[str, Any] = {"chunk_type": os.environ.get("ARGOS_CHUNK_TYPE"),
                              "tarjama_sentences": len(flat(warm))}
    try:
        target = Path(os.environ["ARGOS_PACKAGES_DIR"])  # a copy of the package per probe: Stanza writes into it
        shutil.copytree(Path(probe["packages"]), target, dirs_exist_ok=True)
        if probe["blank_spacy"]:
            import spacy

            for pkg in target.iterdir():
                spacy.blank("ar").to_disk(pkg / "spacy")  # no sentencizer: Argos adds its own
        from argostranslate import translate as argos

        text = "\n".join(p["text"] for p in warm["paragraphs"])
        translation = argos.get_translation_from_codes("ar", "en")
        sentencizer = translation.underlying.sentencizer
        result["sentencizer"] = type(sentencizer).__name__
        out = argos.translate(text, "ar", "en")
        paragraphs = [p for a in job["articles"] for p in a["paragraphs"]]
        result.update(ok=True, output_chars=len(out),
                      sentences=sum(len(sentencizer.split_sentences(p["text"])) for p in warm["paragraphs"]),
                      article_sentences=sum(len(sentencizer.split_sentences(p["text"])) for p in paragraphs),
                      tarjama_article_sentences=sum(len(p["sentences"]) for p in paragraphs))
    except BaseException as err:  # the point is to record whatever stops it (spaCy's CLI raises SystemExit)
        frames = traceback.extract_tb(err.__traceback__)
        ours = [f"{_short(f.filename)}:{f.lineno} ({f.name})" for f in frames if "site-packages" in f.filename]
        argos = [f for f in ours if f.startswith("argostranslate/")]
        result.update(ok=False, error=f"{type(err).__module__}.{type(err).__name__}: {err}"[:600],
                      stopped_in=ours[-1] if ours else "", argos_frame=argos[-1] if argos else "", frames=ours)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _short(filename: str) -> str:
    return filename.split("site-packages/", 1)[-1]


def locate_worker(config: Path) -> int:
    from tarjama.pipeline import Pipeline

    pipe = Pipeline.from_config(config, memory=False)
    pipe.preload(("en",), summarize=False)
    [engine] = pipe.engines.loaded()
    folder = Path(engine.folder)
    marker = folder / "tarjama.json"
    meta = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else {}
    print(json.dumps({"folder": str(folder), "output_vocabulary": meta.get("output_vocabulary"),
                      "kept": meta.get("kept"), "total": meta.get("total"), "engine": engine.name,
                      "compute_type": engine.compute_type}))
    return 0


def worker(kind: str, path: Path) -> int:
    if kind == "locate":
        return locate_worker(path)
    if kind == "argos-install":
        return argos_install(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    if kind == "argos-probe":
        return argos_probe(data)
    if kind == "argos":
        return argos_worker(data)
    return tarjama_worker(data, Path(data["configs"][kind]), kind)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=Path("/tmp/bench-models"),
                        help="folder written by bench/make_models.py (default /tmp/bench-models)")
    parser.add_argument("--articles", type=int, default=4, help="articles: the seed + N-1 typical news (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per system (default 3; 0: none)")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads for both systems (default 2)")
    parser.add_argument("--systems", default="", help=f"comma-separated subset of {','.join(SYSTEMS)}")
    parser.add_argument("--argos-python", type=Path, default=DEFAULT_ARGOS_PYTHON,
                        help=f"the Python of a virtualenv with argostranslate {ARGOS_VERSION} "
                             f"(default {DEFAULT_ARGOS_PYTHON})")
    parser.add_argument("--probe-splitters", action="store_true",
                        help="also try Argos's own splitters offline (DEFAULT/MiniSBD, STANZA, SPACY) and report "
                             "where each stops")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (package, configs, job)")
    add_report_options(parser)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.job)
    if args.articles < 1 or args.runs < 0 or args.threads < 1:
        parser.error("--articles and --threads must be ≥ 1, --runs ≥ 0")
    return parent(args)


if __name__ == "__main__":
    raise SystemExit(main())
