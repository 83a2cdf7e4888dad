#!/usr/bin/env bash
# bench/gpu.sh: tarjama's speed on one GPU, in one JSON file (issue 14, item 6).
#
#   bash bench/gpu.sh [--dry-run] [--out FILE]
#
# What it measures, on the bench models (bench/make_models.py: random weights, the real architectures —
# opus-mt-ar-en/-es Marian and mT5-base as XLSum; outputs forced to realistic lengths, so the figures are
# speed only, never quality):
#   run_py  bench/run.py --cases c,d --device cuda --quick --json: tarjama's CTranslate2 pipeline (c) and raw
#           CTranslate2 replaying c's batches (d), float16 Marian and bfloat16 mT5 (compute_type auto on CUDA),
#           one ~200-word article, en + es + summary: tokens/s, seconds/article (→ articles/min), overhead.
#           One article's batches already fit the default budgets (~15 sentences, one summary chunk), so
#           run.py's figures are the one-article latency case; large batches are the batch part's.
#   batch   bench/batch.py --device cuda --gpu-batches --articles 200 --modes batch --summary: tarjama batch
#           over 200 shared-corpus articles (run_batch, chunks of 64 articles through Pipeline.run_many) with
#           GPU batch budgets (translation 16384 padded tokens / 256 rows a call, summaries 32768 tokens /
#           64 chunk rows a pass): articles/min and generated tokens/s.
#   peak GPU memory per part: nvidia-smi's memory.used, sampled every 200 ms in the background while the
#           part runs (summed over the GPUs), and the reading just before it (baseline). CTranslate2 allocates
#           outside torch, so torch.cuda.max_memory_allocated would say nothing; nvidia-smi counts every
#           process on the GPU, hence the baseline.
# One JSON (default $OUT/gpu-bench.json when $OUT is set, else ./gpu-bench.json): the machine (GPU name,
# driver, CUDA version, ctranslate2's CUDA view), per part the exact command, exit status, timed_out,
# wall seconds, tokens/s, articles/min, peak GPU memory MB and the part's own JSON, and a figures summary.
# Exit status 0 when every part succeeded, 1 otherwise (the JSON is written either way).
#
# How long: at most GPU_BENCH_BUDGET_S seconds in all (default 470 s, under 8 minutes on one H200). Each
# part runs under `timeout`, capped at setup 60 s, model build 120 s, run.py 150 s and at what is left of
# the budget (less 25 s for the kill grace and the JSON) — the batch part, last, gets the rest, up to
# 300 s. A part that runs out of time gets SIGTERM (SIGKILL 15 s later) and is recorded as timed_out, the
# JSON still written: run.py's figures are then null; batch.py stops at its next model batch and reports
# the chunks it finished ("partial": true; articles_done over the seconds, slightly under-stated). Built
# models are kept in BENCH_MODELS and reused; CTranslate2 conversions are kept beside them (TARJAMA_CACHE,
# default $BENCH_MODELS/.tarjama-cache).
#
# What it needs:
#   - an NVIDIA GPU with nvidia-smi, and ctranslate2's CUDA 12 libraries: the PyPI ctranslate2 wheel for
#     Linux x86-64 includes GPU support (cudart linked in; the docs: "Install CUDA 12.x to use the GPU") but
#     loads cuBLAS at run time: libcublas.so.12 from the system or from the nvidia-cublas-cu12 wheel (this
#     script adds that wheel's lib folder to LD_LIBRARY_PATH when it is installed; a CUDA 13-only machine
#     lacks it). The JSON's machine.cublas12 says what was found.
#   - ~5 GB of RAM and ~3 GB of disk for the models (BENCH_MODELS, default /tmp/gpu-bench-models).
#   - the team's shared corpus (news/*.jsonl, summ/): $TARJAMA_CORPUS, else ../shared/corpus beside the
#     checkout, else ./shared/corpus in it — make_models.py trains its tokenizers on it and both benches
#     read their articles from it.
#   - Python: $PYTHON if set; else .venv/bin/python when it imports tarjama and ctranslate2; else it makes
#     .venv: with a folder .whl of wheels (a machine with no package index, like the lent H200: carry
#     ctranslate2 and sacremoses for its python3, 3.12), `python3 -m venv --system-site-packages .venv` that
#     also sees python3's own packages (torch, transformers, sentencepiece; a .pth file, as the image's
#     python3 is itself a venv), the wheels and tarjama (-e) installed with --no-index --no-deps — or into
#     python3's own environment where no venv can be made; otherwise the Makefile's way without dev extras:
#     `python3 -m venv .venv`, pip install "${TORCH:-torch==2.13.0}" (pinned: an unpinned torch pulls a
#     multi-GB CUDA build; the CPU torch is enough, CTranslate2 does the GPU work), pip install -e '.[fast]'.
#
# --dry-run: the same flow on the CPU with small settings (run.py --quick --device cpu; batch.py --device
# cpu over 4 articles of at most 150 words, the same batch flags), niced, budget 900 s: it checks the
# script, the commands and the JSON assembly on a machine without a GPU. Its JSON says "dry_run": true,
# "device": "cpu", and holds no GPU figures (peak GPU memory null). Environment: BENCH_MODELS,
# TARJAMA_CORPUS, TARJAMA_CACHE, PYTHON, TORCH, GPU_BENCH_BUDGET_S, GPU_BENCH_ARTICLES (default 200; 4
# with --dry-run).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

DRY=0
OUT_FILE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --out) [[ $# -ge 2 ]] || { echo "bench/gpu.sh: --out needs a file" >&2; exit 2; }; OUT_FILE=$2; shift ;;
    --out=*) OUT_FILE=${1#--out=} ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench/gpu.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
if [[ -z "$OUT_FILE" ]]; then
  if [[ -n "${OUT:-}" ]]; then OUT_FILE=$OUT/gpu-bench.json; else OUT_FILE=$REPO/gpu-bench.json; fi
fi
mkdir -p "$(dirname "$OUT_FILE")"
OUT_FILE=$(cd "$(dirname "$OUT_FILE")" && pwd)/$(basename "$OUT_FILE")

MODELS=${BENCH_MODELS:-/tmp/gpu-bench-models}
export TARJAMA_CACHE=${TARJAMA_CACHE:-$MODELS/.tarjama-cache}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 TRANSFORMERS_VERBOSITY=error
if (( DRY )); then
  DEVICE=cpu; BUDGET_S=${GPU_BENCH_BUDGET_S:-900}; ARTICLES=${GPU_BENCH_ARTICLES:-4}
  CAP_SETUP=300; CAP_BUILD=300; CAP_RUN=300; CAP_BATCH=300; NICE=(nice -n 10)
  BATCH_EXTRA=(--max-words 150)   # short articles: the CPU check stays within minutes
else
  DEVICE=cuda; BUDGET_S=${GPU_BENCH_BUDGET_S:-470}; ARTICLES=${GPU_BENCH_ARTICLES:-200}
  CAP_SETUP=60; CAP_BUILD=120; CAP_RUN=150; CAP_BATCH=300; NICE=()
  BATCH_EXTRA=()
fi
GRACE_S=15     # SIGTERM → SIGKILL: batch.py reports the chunks done when its timeout's SIGTERM comes
RESERVE_S=25   # kept back from each part's limit: the kill grace and the JSON
START=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tarjama-gpu-bench-XXXXXX")
SAMPLER=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [[ -n "$SAMPLER" ]]; then kill "$SAMPLER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PARTS=()
say() { echo "bench/gpu.sh: $*" >&2; }

HAVE_SMI=0
if (( ! DRY )) && command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then HAVE_SMI=1; fi
if (( ! DRY && ! HAVE_SMI )); then say "no working nvidia-smi: no GPU memory figures (is this a GPU machine?)"; fi

# -- the corpus ------------------------------------------------------------------------------------------------
if [[ -z "${TARJAMA_CORPUS:-}" && ! -d "$REPO/../shared/corpus/news" && -d "$REPO/shared/corpus/news" ]]; then
  export TARJAMA_CORPUS=$REPO/shared/corpus
fi
CORPUS=${TARJAMA_CORPUS:-$REPO/../shared/corpus}
if [[ -d "$CORPUS" ]]; then CORPUS=$(cd "$CORPUS" && pwd -P); fi
if [[ ! -d "$CORPUS/news" ]]; then
  say "no corpus at $CORPUS (news/*.jsonl): set TARJAMA_CORPUS; the parts will fail"
fi

# -- cuBLAS 12 for ctranslate2's CUDA build -------------------------------------------------------------------
find_cublas12() {  # prints the libcublas.so.12 found: the system's, else a pip wheel's (nvidia-cublas-cu12)
  local py=$1
  if ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.12 '; then
    ldconfig -p | awk '/libcublas\.so\.12 / {print $NF; exit}'; return
  fi
  "$py" - <<'PYEOF' 2>/dev/null || true
import glob, os, site, sys
roots = [*site.getsitepackages(), site.getusersitepackages(), *sys.path]
for root in roots:
    for hit in glob.glob(os.path.join(root, "nvidia", "cublas", "lib", "libcublas.so.12")):
        print(hit); raise SystemExit
PYEOF
}

# -- parts ------------------------------------------------------------------------------------------------------
left() { echo $(( BUDGET_S - (SECONDS - START) - RESERVE_S )); }

gpu_used_mb() {  # memory.used now, summed over the GPUs
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

# run_part NAME CAP CMD...: CMD under `timeout` (CAP and the budget left), nvidia-smi sampled meanwhile;
# its stdout, stderr, command line, exit status and seconds go to $WORK/NAME.*; never fails the script.
run_part() {
  local name=$1 cap=$2; shift 2
  local limit rc t0 t1
  limit=$(left); (( limit > cap )) && limit=$cap
  printf '%q ' "$@" >"$WORK/$name.cmd"
  PARTS+=("$name")
  if (( limit < 20 )); then
    say "$name: skipped, ${limit} s left of the ${BUDGET_S} s budget"
    echo "skipped" >"$WORK/$name.status"; echo 0 >"$WORK/$name.limit"
    return 0
  fi
  echo "$limit" >"$WORK/$name.limit"
  if (( HAVE_SMI )); then
    gpu_used_mb >"$WORK/$name.base"
    nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader,nounits -lms 200 >"$WORK/$name.mem" 2>/dev/null &
    SAMPLER=$!
  fi
  say "$name: $(cat "$WORK/$name.cmd")(limit ${limit} s)"
  t0=$(date +%s.%N)
  set +e
  timeout -k "$GRACE_S" "$limit" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
  set -e
  t1=$(date +%s.%N)
  if [[ -n "$SAMPLER" ]]; then kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""; fi
  echo "$rc" >"$WORK/$name.rc"
  echo "$t0 $t1" >"$WORK/$name.time"
  echo "ran" >"$WORK/$name.status"
  if (( rc == 124 || rc == 137 )); then say "$name: TIMED OUT after ${limit} s"
  elif (( rc != 0 )); then say "$name: failed (exit $rc):"; tail -n 5 "$WORK/$name.err" >&2 || true
  else say "$name: done in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}') s"; fi
}

# 1. Python ------------------------------------------------------------------------------------------------------
# setup.sh PYFILE: makes the Python environment and writes the interpreter to use into PYFILE.
cat >"$WORK/setup.sh" <<'EOF'
set -euo pipefail
pyfile=$1
pip_q=(-m pip install -q --disable-pip-version-check)
if [[ -d .whl ]]; then
  # No package index (the GPU machine): the wheels carried in .whl (ctranslate2, sacremoses, …) on top of
  # the image's own python3 packages (torch, transformers, sentencepiece, …).  The image's python3 may be a
  # venv itself, whose packages a --system-site-packages venv would not see: a .pth file adds them.
  if [[ -x .venv/bin/python ]] || { python3 -m venv --system-site-packages .venv && .venv/bin/python -m pip --version; }
  then
    py=.venv/bin/python
    purelib=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    python3 -c 'import site; print("\n".join(site.getsitepackages()))' >"$purelib/_image_site_packages.pth"
    # an older Python's venv brings its own old setuptools, which would shadow python3's (pyproject's SPDX
    # licence string needs setuptools >= 77): build with python3's
    if python3 -c 'import setuptools' 2>/dev/null && [[ -d "$purelib/setuptools" ]]; then
      "$py" -m pip uninstall -y -q setuptools
    fi
  else  # no venv module or no pip in it: install into python3's own environment (the machine is thrown away)
    rm -rf .venv
    py=$(command -v python3)
  fi
  shopt -s nullglob; wheels=(.whl/*.whl)
  if (( ${#wheels[@]} )); then "$py" "${pip_q[@]}" --no-index --no-deps "${wheels[@]}"; fi
  "$py" "${pip_q[@]}" --no-index --no-deps --no-build-isolation -e .
else
  # The Makefile's setup without the dev extras; torch pinned first (an unpinned one pulls a CUDA build).
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  py=.venv/bin/python
  "$py" "${pip_q[@]}" --upgrade pip
  "$py" "${pip_q[@]}" "${TORCH:-torch==2.13.0}"
  "$py" "${pip_q[@]}" -e '.[fast]'
fi
"$py" -c 'import tarjama.pipeline, tarjama.batch, ctranslate2, sentencepiece, transformers, yaml'
echo "$py" >"$pyfile"
EOF
if [[ -n "${PYTHON:-}" ]]; then
  PY_SOURCE="PYTHON"
elif .venv/bin/python -c 'import tarjama, ctranslate2, yaml' >/dev/null 2>&1; then
  PYTHON=.venv/bin/python; PY_SOURCE=".venv (present)"
else
  run_part setup "$CAP_SETUP" bash "$WORK/setup.sh" "$WORK/python"
  PYTHON=$(cat "$WORK/python" 2>/dev/null || echo .venv/bin/python)
  PY_SOURCE="made by this script ($([[ -d .whl ]] && echo "offline, .whl" || echo "package index"))"
fi
CUBLAS12=""
if (( ! DRY )); then
  CUBLAS12=$(find_cublas12 "$PYTHON" || true)
  if [[ -z "$CUBLAS12" ]]; then
    say "libcublas.so.12 not found: ctranslate2 (built for CUDA 12) cannot run on the GPU without it"
  elif [[ "$CUBLAS12" == */nvidia/cublas/lib/* ]]; then  # a wheel's: the loader must be told where
    LD_LIBRARY_PATH=$(dirname "$CUBLAS12")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
  fi
fi
"$PYTHON" - >"$WORK/machine.json" 2>"$WORK/machine.err" <<'EOF' || true
import json, os, platform
info = {"python": platform.python_version(), "cores": len(os.sched_getaffinity(0))}
try:
    info["cpu"] = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
except (OSError, StopIteration):
    info["cpu"] = platform.processor()
for mod in ("ctranslate2", "torch", "transformers"):
    try:
        info[mod] = __import__(mod).__version__
    except Exception as err:  # noqa: BLE001 - reported, not raised
        info[mod] = f"not importable: {err}"
try:
    import ctranslate2
    info["ctranslate2_cuda_devices"] = ctranslate2.get_cuda_device_count()
    info["ctranslate2_cuda_compute_types"] = (sorted(ctranslate2.get_supported_compute_types("cuda"))
                                              if info["ctranslate2_cuda_devices"] else [])
except Exception as err:  # noqa: BLE001
    info["ctranslate2_cuda_error"] = str(err)
print(json.dumps(info))
EOF

# 2. models ------------------------------------------------------------------------------------------------------
BUILD_SKIPPED=0
if [[ -f "$MODELS/models.yaml" && -f "$MODELS/opus-mt-ar-en/model.safetensors" \
      && -f "$MODELS/opus-mt-ar-es/model.safetensors" && -f "$MODELS/mt5-xlsum/model.safetensors" ]]; then
  BUILD_SKIPPED=1; say "models present in $MODELS: not rebuilt"
else
  run_part build_models "$CAP_BUILD" "${NICE[@]}" "$PYTHON" bench/make_models.py "$MODELS"
fi

# 3. bench/run.py cases c and d ----------------------------------------------------------------------------------
run_part run_py "$CAP_RUN" "${NICE[@]}" "$PYTHON" bench/run.py --models "$MODELS" --cases c,d --device "$DEVICE" \
  --quick --json

# 4. bench/batch.py over N articles ------------------------------------------------------------------------------
run_part batch "$CAP_BATCH" "${NICE[@]}" "$PYTHON" bench/batch.py --models "$MODELS" --device "$DEVICE" --gpu-batches \
  --articles "$ARTICLES" "${BATCH_EXTRA[@]}" --repeats 1 --modes batch --summary --to en,es --chunk 64 --json

# 5. the JSON ----------------------------------------------------------------------------------------------------
GPU_INFO=""; CUDA_VERSION=""
if (( HAVE_SMI )); then
  GPU_INFO=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader,nounits 2>/dev/null || true)
  CUDA_VERSION=$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | awk '{print $3}' | head -n 1 || true)
fi
ASSEMBLER=$PYTHON
"$ASSEMBLER" -c 'import json' 2>/dev/null || ASSEMBLER=python3
export GB_WORK=$WORK GB_OUT=$OUT_FILE GB_DRY=$DRY GB_DEVICE=$DEVICE GB_BUDGET=$BUDGET_S GB_MODELS=$MODELS \
  GB_BUILD_SKIPPED=$BUILD_SKIPPED GB_ARTICLES=$ARTICLES GB_GPU_INFO=$GPU_INFO GB_CUDA=$CUDA_VERSION \
  GB_CUBLAS=$CUBLAS12 GB_PY=$PYTHON GB_PY_SOURCE=$PY_SOURCE GB_CORPUS=$CORPUS GB_PARTS="${PARTS[*]}" \
  GB_WALL=$(( SECONDS - START )) GB_HAVE_SMI=$HAVE_SMI
"$ASSEMBLER" - <<'EOF'
import json
import os
from pathlib import Path

env = os.environ
work = Path(env["GB_WORK"])
dry = env["GB_DRY"] == "1"


def read(name: str) -> str:
    path = work / name
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def last_json(text: str):
    """The part's JSON: the whole stdout, else its last line that parses."""
    try:
        return json.loads(text)
    except ValueError:
        for line in reversed(text.strip().splitlines()):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def peak_mb(name: str):
    """Highest sum of memory.used over the GPUs in one sample, and the reading before the part."""
    per_stamp: dict[str, float] = {}
    for line in read(f"{name}.mem").splitlines():
        stamp, _, used = line.rpartition(",")
        try:
            per_stamp[stamp] = per_stamp.get(stamp, 0.0) + float(used)
        except ValueError:
            continue
    base = read(f"{name}.base").strip()
    return (max(per_stamp.values()) if per_stamp else None), (float(base) if base else None), len(per_stamp)


parts = {}
for name in env["GB_PARTS"].split():
    status = read(f"{name}.status").strip()
    part = {"command": read(f"{name}.cmd").strip(), "status": status,
            "timeout_s": int(read(f"{name}.limit").strip() or 0)}
    if status == "ran":
        rc = int(read(f"{name}.rc").strip())
        t0, t1 = map(float, read(f"{name}.time").split())
        part.update(rc=rc, ok=rc == 0, timed_out=rc in (124, 137), wall_s=round(t1 - t0, 1))
        peak, base, samples = peak_mb(name)
        part.update(peak_gpu_memory_mb=peak, gpu_memory_baseline_mb=base,
                    peak_gpu_memory_over_baseline_mb=(peak - base) if peak is not None and base is not None else None,
                    gpu_memory_samples=samples)
        # a timed-out batch.py still prints its figures for the chunks done (SIGTERM: "interrupted")
        result = last_json(read(f"{name}.out"))
        if name in ("run_py", "batch"):
            part["result"] = result
            part["partial"] = bool(result and result.get("interrupted"))
        err = read(f"{name}.err")
        part["stderr_tail"] = err[-3000:] if rc != 0 else err[-600:]
    else:
        part.update(ok=False, timed_out=False, wall_s=0.0, skipped="no time left in the budget")
    parts[name] = part

figures = {}
run = (parts.get("run_py") or {}).get("result") or {}
for case, data in (run.get("cases") or {}).items():
    tps = (data.get("tokens_per_s") or {}).get("median")
    secs = (data.get("article_seconds") or {}).get("median")
    figures[f"run_py_{case}"] = {"tokens_per_s": tps, "seconds_per_article": secs,
                                 "articles_per_min": round(60 / secs, 2) if secs else None,
                                 "peak_rss_mb": (data.get("peak_rss_mb") or {}).get("median")}
if "overhead_vs_raw_ct2" in run:
    figures["run_py_overhead_vs_raw_ct2"] = run["overhead_vs_raw_ct2"]
if "run_py" in parts:
    parts["run_py"]["tokens_per_s"] = {c[7:]: f["tokens_per_s"] for c, f in figures.items()
                                       if c.startswith("run_py_") and isinstance(f, dict)} or None
    parts["run_py"]["articles_per_min"] = {c[7:]: f["articles_per_min"] for c, f in figures.items()
                                           if c.startswith("run_py_") and isinstance(f, dict)} or None
batch = (parts.get("batch") or {}).get("result") or {}
mode = (batch.get("modes") or {}).get("batch") or {}
if "batch" in parts:
    parts["batch"]["articles_per_min"] = mode.get("articles_per_min_median")
    parts["batch"]["tokens_per_s"] = mode.get("tokens_per_s_median")
if mode:
    figures["batch"] = {"articles": batch.get("articles"), "articles_done": mode.get("articles_done"),
                        "interrupted": batch.get("interrupted"),
                        "articles_per_min": mode.get("articles_per_min_median"),
                        "tokens_per_s": mode.get("tokens_per_s_median"), "seconds": mode.get("seconds"),
                        "load_s": batch.get("load_s"), "peak_rss_mb": batch.get("peak_rss_mb")}
for name in ("run_py", "batch"):
    if name in figures or any(k.startswith(name) for k in figures):
        figures[f"{name}_peak_gpu_memory_mb"] = parts.get(name, {}).get("peak_gpu_memory_mb")

gpu = None
if env.get("GB_GPU_INFO"):
    rows = [r.split(", ") for r in env["GB_GPU_INFO"].strip().splitlines()]
    gpu = [{"name": r[0], "driver": r[1] if len(r) > 1 else None,
            "memory_total_mb": float(r[2]) if len(r) > 2 else None} for r in rows]
try:
    machine = json.loads(read("machine.json") or "{}")
except ValueError:
    machine = {}
machine.update(gpus=gpu, cuda_version=env.get("GB_CUDA") or None, cublas12=env.get("GB_CUBLAS") or None,
               nvidia_smi=env.get("GB_HAVE_SMI") == "1")
if read("machine.err").strip():
    machine["probe_stderr"] = read("machine.err")[-1000:]

report = {
    "dry_run": dry,
    "device": env["GB_DEVICE"],
    "note": ("DRY RUN on the CPU: checks the script and its JSON; these are CPU figures, not GPU figures, and "
             "peak GPU memory is not measured" if dry else
             "GPU run: bench models (random weights, real architectures, forced output lengths): speed only"),
    "machine": machine,
    "python": {"path": env["GB_PY"], "source": env["GB_PY_SOURCE"]},
    "models": env["GB_MODELS"], "models_built": env["GB_BUILD_SKIPPED"] != "1",
    "corpus": env["GB_CORPUS"], "articles": int(env["GB_ARTICLES"]),
    "budget_s": int(env["GB_BUDGET"]), "wall_s": int(env["GB_WALL"]),
    "ok": all(p.get("ok") for p in parts.values()),
    "figures": figures,
    "parts": parts,
}
Path(env["GB_OUT"]).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
print(json.dumps({"ok": report["ok"], "dry_run": dry, "device": report["device"], "wall_s": report["wall_s"],
                  "figures": figures}, indent=1))
EOF
say "wrote $OUT_FILE ($(( SECONDS - START )) s)"
if "$ASSEMBLER" -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["ok"] else 1)' "$OUT_FILE"; then
  exit 0
fi
exit 1
