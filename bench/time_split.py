"""Where the time of one decoding pass goes: encoder, decoder layers, output layer — before and after
the output-vocabulary restriction (CTranslate2's ``vmap.txt`` + ``use_vmap=True``).  Issue 14, item 4.

    python -m tarjama models convert --models /tmp/bench-models/models.yaml ar-en ar   # once (int8)
    python bench/time_split.py --models /tmp/bench-models --macs-only              # counts only, instant
    nice -n 10 python bench/time_split.py --models /tmp/bench-models --out all.json  # ≈ 5 min, quiet 2 cores
    # on a shared machine: short runs that time only while the machine is quiet, each stopping after
    # --budget s (the JSON is rewritten after every call) and continued with --resume; then one report:
    python bench/time_split.py --models M --only marian --reps 4 --out m.json [--resume]
    python bench/time_split.py --models M --only mt5 --lengths 84 --reps 2 --out t.json [--resume]
    python bench/time_split.py --models M --only mt5 --lengths 50 --reps 2 --out t.json --resume
    python bench/time_split.py --from-json m.json t.json          # Markdown; samples of a run pooled

The converted folders are found in tarjama's cache (``$TARJAMA_CACHE/ct2``) by the source folder
their tarjama.json names; the restricted copies live in a temporary folder and are removed after.

Two views of the same passes (beam 4, fixed output lengths):

1. **Multiply-adds, counted** (exact for the architecture, machine-independent).  Per source text:
   encoder layers (Q/K/V/O projections, the S×S score and value products, the FFN: 2 matrices for
   Marian, 3 for mT5's gated-gelu); decoder layers per step and per beam row (self-attention
   projections and products over the growing cache, cross-attention Q/O projections and products
   over the S encoder states, the FFN), plus cross-attention's K/V projection of the encoder output,
   done once per source; the output layer, d_model × K per step and per beam row (K = kept pieces;
   V = the full vocabulary before the restriction).  Rows are counted as CTranslate2 runs beam search
   on CPU: step 0 with one row per source, then ``beam`` rows (``expand_after_first_step``), so a pass
   of L steps has 1 + beam·(L−1) row-steps.  Not counted (each O(d_model) or O(K) per token, far under
   1 %): embeddings, layer norms, softmaxes, activations, position terms, beam bookkeeping.  The
   softmax and top-k over K are not multiply-adds, but they do scale with K — in the timed view they
   fall into the output layer's share.

2. **Timed, CTranslate2 int8 on CPU** (``--threads``, default 2), random weights.  For each kept size
   K, a copy of the converted folder (model.bin etc. symlinked, not copied) gets a ``vmap.txt`` of one
   line: a TAB, then the first K pieces of the vocabulary file plus ``</s>`` and ``<unk>``.  The same
   batch is translated with ``use_vmap=True`` (and once more without a vmap: "before"), forced to
   exactly L tokens (min = max decoding length), beam 4, return_scores, the model's models.yaml
   generate options (mT5: no_repeat_ngram_size 2, length_penalty 0.6).  Every configuration runs
   ``--reps`` times, round-robin.  The machine is shared, so each call also measures how much CPU
   *other* processes used meanwhile (/proc/stat minus this process); the reported time is the median
   of the quiet runs (others under ``--clean``, 10 % of the CPUs), else the fastest run.  Before each
   call it waits for a quiet second, and it does not time anything while the machine is busy:
   it gives up when ``--budget`` s are spent, and ``--resume`` continues from the JSON of ``--out``
   (the configuration with the fewest quiet runs goes first).  Then:

   * output layer: t(K) = a + b·K over the vmap runs at the target length L; a is what does not
     scale with the kept width, measured directly with a 64-piece vmap (where the output layer is
     practically gone; without such a run, the least-squares intercept), b the least-squares slope.
     Each configuration's output layer is its measured time minus a (so a row's shares add up; the
     fit's residual is printed beside it: curvature means time is not linear in K).  That is everything
     that scales with K — the d_model×K product every step, the log-softmax and top-k over K, and the
     per-call gather of K rows of the output matrix (CTranslate2 re-gathers on every
     ``translate_batch`` with ``use_vmap``).  Before the restriction: t(no vmap) − a.
   * encoder: the same at L = 1 gives a₁ (encoder + one decoder step without the output layer);
     one decoder-layer step is (a − a₁)/(L − 1), so encoder ≈ a₁ − (a − a₁)/(L − 1).  This "encoder"
     includes cross-attention's one-time K/V projection and the call's fixed overhead.
   * decoder layers = a − encoder (and beam-search bookkeeping that does not scale with K).
   * vmap set-up, measured directly: t(vmap at K = V, 1 token) − t(no vmap, 1 token) — the gather
     of the output matrix and the id maps CTranslate2 rebuilds on every call with ``use_vmap``.

   Assumptions and caveats: only the output layer depends on K, so the 64-piece run is the pass
   without it; time need not be linear in K, which only the slope b assumes (the residuals show the
   curvature: on the machine of docs/time-split.md, Marian's first 25k pieces cost about a third as
   much per piece as the rest, most likely the 32 MB L3 cache holding a 13 MB int8 matrix but not
   the 32 MB full one); the encoder estimate takes step 0 (one row per source) to cost about as much
   as a later step (decoding here is bound by reading the weights, not by rows); random weights
   change no arithmetic, only which tokens win; int8 CPU kernels, so the ratios on a GPU or in
   float32 differ.  The numbers are for the machine and load printed; the multiply-add view is the
   machine-independent one.

Outside the pass: until commit c33087f tarjama rescored every hypothesis under the raw distribution
when the decoding options distorted CTranslate2's scores (mT5's no_repeat_ngram_size 2 always did)
with ``Translator.score_batch``, which has no ``use_vmap``: one more encoder pass and a teacher-forced
decoder pass at the full vocabulary.  That rescore is still counted and timed here ("rescore") as the
record of what removing it saved; tarjama itself no longer calls ``score_batch``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BEAM = 4
MARIAN_KEPT = (40_000, 25_000, 64)
MT5_KEPT = (120_000, 60_000, 30_000, 64)
TINY = 256  # a vmap this small (64 pieces) leaves practically no output layer: it measures the rest directly
CT2_FILES = ("model.bin", "config.json", "shared_vocabulary.json", "source_vocabulary.json",
             "target_vocabulary.json", "shared_vocabulary.txt", "source_vocabulary.txt", "target_vocabulary.txt")


# -- architecture and multiply-adds -----------------------------------------------------------------------


@dataclass(frozen=True)
class Arch:
    """What the multiply-add count needs, read from a Hugging Face config.json."""

    name: str
    d_model: int
    inner: int        # heads × head size (the attention projections' width)
    ffn: int
    ffn_matrices: int  # 2 (Marian: in, out) or 3 (mT5 gated-gelu: wi_0, wi_1, wo)
    enc_layers: int
    dec_layers: int
    vocab: int

    @classmethod
    def from_config(cls, name: str, cfg: dict[str, Any]) -> Arch:
        if cfg.get("model_type") in ("t5", "mt5"):
            gated = str(cfg.get("feed_forward_proj", "relu")).startswith("gated")
            return cls(name, cfg["d_model"], cfg["num_heads"] * cfg["d_kv"], cfg["d_ff"], 3 if gated else 2,
                       cfg["num_layers"], cfg.get("num_decoder_layers") or cfg["num_layers"], cfg["vocab_size"])
        return cls(name, cfg["d_model"], cfg["d_model"], cfg["encoder_ffn_dim"], 2, cfg["encoder_layers"],
                   cfg["decoder_layers"], cfg.get("decoder_vocab_size") or cfg["vocab_size"])


def pass_macs(arch: Arch, src: int, steps: int, beam: int = BEAM) -> dict[str, float]:
    """Multiply-adds of one beam-search pass over one source of ``src`` tokens, ``steps`` output tokens.

    The output layer is returned per kept piece (``output_per_piece``): multiply by K.
    """
    d, inner, ff, f = arch.d_model, arch.inner, arch.ffn, arch.ffn_matrices
    rows = 1 + beam * (steps - 1)                                   # row-steps (step 0: one row)
    cache = 1 + beam * sum(t + 1 for t in range(1, steps))          # Σ rows × attended self positions
    enc = {"enc_proj": 4 * src * d * inner, "enc_scores": 2 * src * src * inner, "enc_ffn": f * src * d * ff}
    dec = {"dec_self": 4 * rows * d * inner + 2 * cache * inner,
           "dec_cross": 2 * rows * d * inner + 2 * rows * src * inner,
           "dec_cross_kv": 2 * src * d * inner,
           "dec_ffn": f * rows * d * ff}
    out = {k: v * arch.enc_layers for k, v in enc.items()} | {k: v * arch.dec_layers for k, v in dec.items()}
    out["encoder"] = sum(out[k] for k in enc)
    out["decoder_layers"] = sum(out[k] for k in dec)
    out["output_per_piece"] = rows * d
    out["row_steps"] = rows
    return out


def rescore_macs(arch: Arch, src: int, steps: int) -> dict[str, float]:
    """tarjama's raw rescoring of one hypothesis (``score_batch``): encoder again, decoder teacher-forced
    over the start token + ``steps`` tokens (CTranslate2 scores the EOS too), full vocabulary."""
    one = pass_macs(arch, src, steps + 1, beam=1)
    return {"encoder": one["encoder"], "decoder_layers": one["decoder_layers"],
            "output": one["output_per_piece"] * arch.vocab}


def mac_rows(arch: Arch, src: int, steps: int, kept: list[int]) -> list[dict[str, Any]]:
    m = pass_macs(arch, src, steps)
    full = m["encoder"] + m["decoder_layers"] + m["output_per_piece"] * arch.vocab
    rows = []
    for k in kept:
        out = m["output_per_piece"] * k
        total = m["encoder"] + m["decoder_layers"] + out
        rows.append({"kept": k, "encoder": m["encoder"], "decoder_layers": m["decoder_layers"], "output": out,
                     "total": total, "vs_full": total / full})
    return rows


# -- finding the converted folders ------------------------------------------------------------------------


def ct2_root() -> Path:
    """tarjama's CTranslate2 cache (``TARJAMA_CACHE``, the one home of that fact: tarjama/paths.py)."""
    from tarjama.paths import ct2_root as root

    return root()


def find_converted(source: Path, compute_type: str = "int8") -> Path:
    """The cache folder converted from ``source`` (its tarjama.json names the source folder)."""
    for meta in sorted(ct2_root().glob(f"*/*/{compute_type}/tarjama.json")):
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if Path(data.get("source", "")).resolve() == source.resolve() and (meta.parent / "model.bin").is_file():
            return meta.parent
    raise SystemExit(f"time_split: no {compute_type} CTranslate2 conversion of {source} under {ct2_root()}; run "
                     f"`python -m tarjama models convert --models <models.yaml>` first (same TARJAMA_CACHE)")


def vocabulary(folder: Path) -> list[str]:
    for name in ("target_vocabulary.json", "shared_vocabulary.json"):
        if (folder / name).is_file():
            return json.loads((folder / name).read_text(encoding="utf-8"))
    for name in ("target_vocabulary.txt", "shared_vocabulary.txt"):
        if (folder / name).is_file():
            return (folder / name).read_text(encoding="utf-8").splitlines()
    raise SystemExit(f"time_split: no vocabulary file in {folder}")


def restricted_copy(folder: Path, pieces: list[str], kept: int, work: Path) -> Path:
    """``work/<name>-K``: the folder's files symlinked, plus a vmap.txt of the first ``kept`` pieces."""
    target = work / f"{folder.parts[-3]}-{kept}"
    target.mkdir()
    for name in CT2_FILES:
        if (folder / name).exists():
            (target / name).symlink_to((folder / name).resolve())
    keep = list(dict.fromkeys([*pieces[:kept], "</s>", "<unk>"]))
    (target / "vmap.txt").write_text("\t" + " ".join(keep) + "\n", encoding="utf-8")
    return target


# -- timing -----------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One model's pass: source length, output lengths to time, kept sizes, batch."""

    key: str          # marian | mt5
    title: str
    source: Path      # the Hugging Face folder (models.yaml)
    src_tokens: int
    lengths: list[int]  # target lengths timed (the first is the headline one)
    kept: list[int]
    batch: int
    options: dict[str, Any]
    rescore: bool
    only_kept: list[int] | None = None  # time only these K (the full vocabulary: any K ≥ it)


def fit(points: list[tuple[float, float]]) -> tuple[float, float, list[float]]:
    """Least squares y = a + b·x; returns a, b and the residuals."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    a = my - b * mx
    return a, b, [y - (a + b * x) for x, y in zip(xs, ys)]


def make_source(pieces: list[str], n: int, seed: int) -> list[str]:
    """``n`` tokens: real pieces (skipping the specials at the top of the vocabulary), then ``</s>``."""
    rng = random.Random(seed)
    pool = [p for p in pieces[3:8000] if not (p.startswith("<") and p.endswith(">"))]
    return [rng.choice(pool) for _ in range(n - 1)] + ["</s>"]


class CpuMeter:
    """How much CPU *other* processes used while a call ran: /proc/stat busy time minus our own."""

    def __init__(self) -> None:
        self.hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.ncpu = os.cpu_count() or 1

    @staticmethod
    def _busy() -> int:
        try:
            fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return 0
        return sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # all but idle and iowait

    def start(self) -> tuple[int, float, float]:
        t = os.times()
        return self._busy(), t.user + t.system, time.perf_counter()

    def foreign(self, mark: tuple[int, float, float]) -> float:
        """Share of the machine's CPUs used by other processes since ``mark`` (0 … 1)."""
        busy, own, wall = mark
        t = os.times()
        other = (self._busy() - busy) / self.hz - (t.user + t.system - own)
        return max(0.0, other / max(1e-9, (time.perf_counter() - wall) * self.ncpu))

    def wait_quiet(self, limit: float, share: float = 0.10, log: Any = None, span: int = 1) -> tuple[float, bool]:
        """Sleep (up to ``limit`` s) until other processes used under ``share`` of the CPUs for ``span``
        seconds in a row; the seconds waited, and whether it got quiet."""
        started, calm = time.perf_counter(), 0
        while True:
            mark = self.start()
            time.sleep(1.0)
            calm = calm + 1 if self.foreign(mark) < share else 0
            waited = time.perf_counter() - started
            if calm >= span:
                return waited, True
            if waited > limit:
                return waited, False
            if log is not None and 1.5 < waited < 2.5:
                print("time_split: machine busy, waiting for a quiet moment", file=log, flush=True)


def estimate(values: list[tuple[float, float]], clean: float) -> float:
    """Median of the runs during which others used under ``clean`` of the CPUs; else the fastest run."""
    quiet = [t for t, f in values if f < clean]
    return statistics.median(quiet) if quiet else min((t for t, _ in values), default=float("nan"))


def time_case(case: Case, threads: int, reps: int, work: Path, log: Any, wait: float = 60.0,
              clean: float = 0.10, checkpoint: Any = None, budget: float = 170.0,
              previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Raw timings: ``{"K/n": [[seconds, others' CPU share], ...]}`` (K "None": no vmap), and the rescore's.

    Runs until every configuration has ``reps`` quiet samples (counting ``previous`` ones, from an
    earlier run's JSON) or ``budget`` seconds have passed, always the configuration with the fewest
    quiet samples next, each call after waiting (up to ``wait`` s) for a quiet second.
    """
    import ctranslate2

    started = time.perf_counter()
    meter = CpuMeter()
    folder = find_converted(case.source)
    pieces = vocabulary(folder)
    full = len(pieces)
    kept = [full, *(k for k in case.kept if k < full)]
    if case.only_kept:
        kept = list(dict.fromkeys(min(k, full) for k in case.only_kept))
    rescore_key = f"rescore/{case.lengths[0]}"  # score_batch of one hypothesis of the first length
    configs = [f"{k}/{n}" for k in [None, *kept] for n in [1, *case.lengths]] + ([rescore_key] if case.rescore else [])
    raw: dict[str, list[list[float]]] = {c: [] for c in configs}
    if previous:
        for c, values in previous.get("raw", {}).items():
            raw.setdefault(c, []).extend(values)
        if previous.get("rescore_raw"):  # older reports: one list, for rescore_tokens
            raw.setdefault(f"rescore/{previous['rescore_tokens']}", []).extend(previous["rescore_raw"])

    def quiet(c: str) -> int:
        return sum(f < clean for _, f in raw.get(c, []))

    todo = [c for c in configs if quiet(c) < reps]
    needed = {None if c.startswith(("None", "rescore")) else int(c.split("/")[0]) for c in todo}
    folders: dict[int | None, Path] = {None: folder}
    for k in kept:
        if k in needed:
            folders[k] = restricted_copy(folder, pieces, k, work)
    models = {k: ctranslate2.Translator(str(p), device="cpu", compute_type="int8", inter_threads=1,
                                        intra_threads=threads) for k, p in folders.items() if k in needed}
    batch = [make_source(pieces, case.src_tokens, seed=i) for i in range(case.batch)]
    hyp = [pieces[3 + (i % 500)] for i in range(case.lengths[0])]
    print(f"time_split: {case.key}: {len(todo)} configurations to time, {len(models)} translators loaded "
          f"({time.perf_counter() - started:.0f} s)", file=log, flush=True)

    def run(c: str) -> list[float]:
        mark = meter.start()
        if c == rescore_key:
            models[None].score_batch([batch[0]], [hyp], max_input_length=0)
            return [time.perf_counter() - mark[2], meter.foreign(mark)]
        k_text, n_text = c.split("/")
        k, n = (None if k_text == "None" else int(k_text)), int(n_text)
        results = models[k].translate_batch(batch, beam_size=BEAM, min_decoding_length=n, max_decoding_length=n,
                                            max_input_length=0, return_scores=True, use_vmap=k is not None,
                                            **case.options)
        took, foreign = time.perf_counter() - mark[2], meter.foreign(mark)
        got = {len(r.hypotheses[0]) for r in results}
        if got != {n}:
            raise SystemExit(f"time_split: {case.key} K={k}: asked for {n} tokens, got {sorted(got)}")
        return [took, foreign]

    for k in models:  # warm-up: the first call allocates, and (with a vmap) builds the candidate set
        run(f"{k}/1")
    waited, calls = 0.0, 0

    def result() -> dict[str, Any]:
        union = sorted(set(kept) | set((previous or {}).get("kept", [])), reverse=True)
        return {"folder": str(folder), "vocab": full, "kept": union, "batch": case.batch,
                "src_tokens": case.src_tokens, "reps": reps, "options": case.options,
                "lengths": sorted(set(case.lengths) | set((previous or {}).get("lengths", [])), reverse=True),
                "waited_s": waited + (previous or {}).get("waited_s", 0.0),
                "calls": calls + (previous or {}).get("calls", 0),
                "raw": raw}

    while True:
        todo = [c for c in configs if quiet(c) < reps]
        if not todo:
            break
        c = min(todo, key=lambda c: (quiet(c), len(raw[c])))
        expected = min((t for t, _ in raw[c]), default=0.0)
        left = budget - (time.perf_counter() - started)
        if left < expected * 1.3 + 2:
            print(f"time_split: {case.key}: time budget spent; {len(todo)} configurations still short of {reps} "
                  f"quiet runs (rerun with --resume)", file=log, flush=True)
            break
        if wait > 0:  # never time (nor disturb others) while the machine is busy
            took, calm = meter.wait_quiet(min(wait, max(0.0, left - expected * 1.3 - 2)), share=clean, log=log)
            waited += took
            if not calm:
                continue
        got = run(c)
        raw[c].append(got)
        calls += 1
        print(f"time_split: {case.key} {c}: {got[0]:.3f} s (others used {100 * got[1]:.0f} % of the CPUs; "
              f"{quiet(c)}/{reps} quiet)", file=log, flush=True)
        if checkpoint is not None:
            checkpoint(result())
    return result()


def analyse(timed: dict[str, Any], clean: float) -> list[dict[str, Any]]:
    """Per output length: the fits and each configuration's split (see the module docstring)."""
    raw, full = timed["raw"], timed["vocab"]

    def est(k: int | None, n: int) -> float:
        return estimate(raw.get(f"{k}/{n}", []), clean)

    short = [k for k in timed["kept"] if raw.get(f"{k}/1")]
    if len(short) < 2:
        return []

    def intercept(points: list[tuple[float, float]]) -> tuple[float, float, list[float], bool]:
        """a, b, residuals, and whether a was measured (a tiny vmap) rather than extrapolated."""
        a, b, resid = fit(points)
        tiny = [(k, t) for k, t in points if k <= TINY]
        if tiny:
            return tiny[0][1] - b * tiny[0][0], b, resid, True
        return a, b, resid, False

    a1, b1, _, _ = intercept([(k, est(k, 1)) for k in short])
    parts = []
    for n in timed["lengths"]:
        kept = [k for k in short if raw.get(f"{k}/{n}")]
        if len(kept) < 2:
            continue
        a, b, resid, measured = intercept([(k, est(k, n)) for k in kept])
        dec_step = (a - a1) / (n - 1)
        encoder = a1 - dec_step
        out_step = (b - b1) / (n - 1)        # per step, per kept piece
        rows = []
        for k in [None, *kept]:
            t, vals = est(k, n), raw.get(f"{k}/{n}")
            if not vals:
                continue
            spread = [v for v, f in vals if f < clean] or [v for v, _ in vals]  # the quiet runs' range
            rows.append({"kept": full if k is None else k, "vmap": k is not None, "time_s": t,
                         "min_s": min(spread), "max_s": max(spread),
                         "clean_runs": sum(f < clean for _, f in vals), "runs": len(vals),
                         "encoder_s": encoder, "decoder_layers_s": a - encoder,
                         "output_s": t - a,
                         "residual_s": None if k is None else resid[kept.index(k)]})
        parts.append({"steps": n, "a_s": a, "a_measured": measured, "b_s_per_piece": b, "a1_s": a1,
                      "b1_s_per_piece": b1,
                      "encoder_s": encoder, "decoder_step_s": dec_step, "output_step_s_per_piece": out_step,
                      "vmap_setup_full_s": est(full, 1) - est(None, 1), "rows": rows})
    return parts


# -- report -----------------------------------------------------------------------------------------------


def pct(part: float, total: float) -> str:
    return f"{100 * part / total:.0f} %" if total else "–"


def mac_table(arch: Arch, src: int, steps: int, kept: list[int]) -> list[str]:
    lines = ["| kept pieces K | encoder | decoder layers | output layer | total GMAC | vs full V |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in mac_rows(arch, src, steps, kept):
        t = r["total"]
        lines.append(f"| {r['kept']:,}{' (full)' if r['kept'] == arch.vocab else ''} "
                     f"| {r['encoder'] / 1e9:.1f} ({pct(r['encoder'], t)}) "
                     f"| {r['decoder_layers'] / 1e9:.1f} ({pct(r['decoder_layers'], t)}) "
                     f"| {r['output'] / 1e9:.1f} ({pct(r['output'], t)}) | {t / 1e9:.1f} | {r['vs_full']:.2f} |")
    return lines


def mac_detail(arch: Arch, src: int, steps: int) -> str:
    m = pass_macs(arch, src, steps)
    g = {k: v / 1e9 for k, v in m.items()}
    return (f"encoder = projections {g['enc_proj']:.2f} + scores/values {g['enc_scores']:.2f} + FFN "
            f"{g['enc_ffn']:.2f} GMAC; decoder layers = self-attention {g['dec_self']:.2f} + cross-attention "
            f"{g['dec_cross']:.2f} + cross K/V of the encoder output (once) {g['dec_cross_kv']:.2f} + FFN "
            f"{g['dec_ffn']:.2f} GMAC; output layer = {m['row_steps']} row-steps × {arch.d_model} × K")


def timed_table(case_result: dict[str, Any], entry: dict[str, Any]) -> list[str]:
    full = case_result["vocab"]
    lines = ["| K | vmap | s per pass (quiet min–max; quiet/all runs) | encoder | decoder layers | output layer "
             "| fit residual |",
             "|---:|:---:|---:|---:|---:|---:|---:|"]
    for r in entry["rows"]:
        t = r["time_s"]
        resid = "" if r["residual_s"] is None else f"{1000 * r['residual_s']:+.0f} ms"
        lines.append(f"| {r['kept']:,}{' (full)' if r['kept'] == full else ''} | {'yes' if r['vmap'] else 'no'} "
                     f"| {t:.3f} ({r['min_s']:.3f}–{r['max_s']:.3f}; {r['clean_runs']}/{r['runs']}) "
                     f"| {r['encoder_s']:.3f} ({pct(r['encoder_s'], t)}) "
                     f"| {r['decoder_layers_s']:.3f} ({pct(r['decoder_layers_s'], t)}) "
                     f"| {r['output_s']:.3f} ({pct(r['output_s'], t)}) | {resid} |")
    return lines


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {"nproc": os.cpu_count(), "cpu": cpu or platform.processor(),
                            "loadavg": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    try:
        import ctranslate2
        info["ctranslate2"] = ctranslate2.__version__
    except ImportError:
        pass
    return info


def load_cases(models: Path, marian_batch: int, mt5_src: int) -> tuple[list[Case], dict[str, Arch]]:
    path = models / "models.yaml" if models.is_dir() else models
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    root = path.parent
    tr = data["translation"]["ar-en"]
    sm = data["summarization"]["ar"]

    def opts(entry: dict[str, Any]) -> dict[str, Any]:
        gen = entry.get("generate") or {}
        return {"length_penalty": float(gen.get("length_penalty", 1.0)),
                "no_repeat_ngram_size": int(gen.get("no_repeat_ngram_size", 0))}

    marian_dir, mt5_dir = root / tr["model"], root / sm["model"]
    archs = {"marian": Arch.from_config("Marian opus-mt-ar-en", json.loads((marian_dir / "config.json").read_text())),
             "mt5": Arch.from_config("mT5-XLSum (mT5-base)", json.loads((mt5_dir / "config.json").read_text()))}
    cases = [Case("marian", "Marian opus-mt-ar-en: 30-token sentence → 36 tokens", marian_dir, 30, [36],
                  [*MARIAN_KEPT], marian_batch, opts(tr), False),
             Case("mt5", f"mT5-XLSum: {mt5_src}-token chunk → 84 tokens (forced worst case) and 50 (median)",
                  mt5_dir, mt5_src, [84, 50], [*MT5_KEPT], 1, opts(sm), True)]
    return cases, archs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, help="folder with models.yaml (bench/make_models.py)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3, help="quiet runs wanted per configuration (default 3)")
    parser.add_argument("--only", choices=("marian", "mt5"), help="one model only")
    parser.add_argument("--lengths", type=lambda v: [int(x) for x in v.split(",")],
                        help="output lengths to time, comma-separated (default: Marian 36; mT5 84,50)")
    parser.add_argument("--kept", type=lambda v: [int(x) for x in v.split(",")],
                        help="time only these kept sizes, comma-separated (pooled with --resume; the fit needs 2)")
    parser.add_argument("--marian-batch", type=int, default=16, help="sentences per Marian pass (default 16)")
    parser.add_argument("--wait", type=float, default=60.0,
                        help="before each call, wait for a quiet second (others under --clean); give up on the "
                             "call after this many s and try again while the budget lasts (0: never wait)")
    parser.add_argument("--budget", type=float, default=170.0,
                        help="stop timing a model after this many s (default 170; --resume continues)")
    parser.add_argument("--resume", action="store_true",
                        help="add to the samples already in --out instead of starting afresh")
    parser.add_argument("--clean", type=float, default=0.10,
                        help="a run is quiet when others used under this share of the CPUs (default 0.10)")
    parser.add_argument("--macs-only", action="store_true", help="print the multiply-add tables, time nothing")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of Markdown")
    parser.add_argument("--out", type=Path, help="also write the JSON report here, updated after every call")
    parser.add_argument("--from-json", type=Path, nargs="+", metavar="FILE",
                        help="print the Markdown of earlier --json reports (merged), run nothing")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # e.g. timeout(1): still remove the temporary copies
    if args.from_json:
        print(markdown(merge([json.loads(p.read_text(encoding="utf-8")) for p in args.from_json])))
        return 0
    if args.models is None:
        parser.error("--models is required")
    if args.resume and not (args.out and args.out.is_file()):
        parser.error("--resume needs an existing --out file")
    cases, archs = load_cases(args.models, args.marian_batch, 512)
    report: dict[str, Any] = {"machine": machine(), "threads": args.threads, "beam": BEAM, "clean": args.clean,
                              "cases": {}}
    old: dict[str, Any] = json.loads(args.out.read_text(encoding="utf-8")) if args.resume else {"cases": {}}
    report["cases"].update(old["cases"])
    for case in cases:
        if args.only and case.key != args.only:
            continue
        if args.lengths:
            case.lengths = [n for n in args.lengths if n > 1]
        if args.kept:
            case.only_kept = args.kept
        arch = archs[case.key]
        kept = [arch.vocab, *case.kept]
        entry: dict[str, Any] = {"title": case.title, "arch": asdict(arch), "src_tokens": case.src_tokens,
                                 "lengths": case.lengths, "kept": kept, "timed": []}
        if not args.macs_only:
            start = machine()
            before = [t for t in old["cases"].get(case.key, {}).get("timed", [])
                      if (t["batch"], t["src_tokens"], t["threads"]) == (case.batch, case.src_tokens, args.threads)]
            previous = before[0] if before else None
            if previous:
                entry["lengths"] = sorted(set(entry["lengths"]) | set(previous["lengths"]), reverse=True)

            def finish(timed: dict[str, Any], entry: dict[str, Any] = entry, start: dict[str, Any] = start,
                       key: str = case.key, previous: dict[str, Any] | None = previous) -> None:
                timed["machine"] = {**start, "loadavg_end": os.getloadavg(),
                                    "date_end": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
                timed["runs"] = [*(previous or {}).get("runs", []), timed["machine"]]
                timed["threads"] = args.threads
                timed["analysis"] = analyse(timed, args.clean)
                entry["timed"] = [timed]
                report["cases"][key] = entry
                if args.out:
                    tmp = args.out.with_name(args.out.name + ".tmp")
                    tmp.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
                    tmp.replace(args.out)

            with tempfile.TemporaryDirectory(prefix="time-split-") as work:
                finish(time_case(case, args.threads, args.reps, Path(work), sys.stderr, args.wait, args.clean,
                                 checkpoint=finish, budget=args.budget, previous=previous))
        report["cases"][case.key] = entry
    report["machine"]["loadavg_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=1, default=str))
        return 0
    print(markdown(merge([report])))
    return 0


def merge(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from several runs: samples of the same configuration pooled, lengths united."""
    out: dict[str, Any] = {"clean": reports[0].get("clean", 0.10), "cases": {}}
    for report in reports:
        for key, entry in report["cases"].items():
            have = out["cases"].setdefault(key, {**entry, "lengths": [], "timed": []})
            have["lengths"] += [n for n in entry["lengths"] if n not in have["lengths"]]
            for timed in entry["timed"]:
                same = [t for t in have["timed"] if (t["batch"], t["src_tokens"], t["vocab"], t["threads"])
                        == (timed["batch"], timed["src_tokens"], timed["vocab"], timed["threads"])]
                if not same:
                    have["timed"].append({**timed, "raw": {}, "rescore_raw": None, "lengths": [], "runs": [],
                                          "calls": 0, "waited_s": 0.0})
                    same = have["timed"][-1:]
                pool = same[0]
                for name, values in timed["raw"].items():
                    pool["raw"].setdefault(name, []).extend(values)
                if timed.get("rescore_raw"):
                    pool["raw"].setdefault(f"rescore/{timed['rescore_tokens']}", []).extend(timed["rescore_raw"])
                pool["lengths"] += [n for n in timed["lengths"] if n not in pool["lengths"]]
                pool["kept"] = sorted(set(pool["kept"]) | set(timed["kept"]), reverse=True)
                pool["runs"] += timed.get("runs") or [timed["machine"]]
                pool["calls"] = pool.get("calls", 0) + timed.get("calls", 0)
                pool["waited_s"] += timed["waited_s"]
    for entry in out["cases"].values():
        entry["lengths"].sort(reverse=True)
        for timed in entry["timed"]:
            timed["lengths"].sort(reverse=True)
    return out


def machine_line(m: dict[str, Any], threads: int) -> str:
    load = " ".join(f"{x:.2f}" for x in m["loadavg"])
    end = " ".join(f"{x:.2f}" for x in m.get("loadavg_end", m["loadavg"]))
    return (f"{m['date']} → {m.get('date_end', '?')}; {m['nproc']} CPUs ({m['cpu']}), load average {load} at the "
            f"start, {end} at the end; CTranslate2 {m.get('ctranslate2', '?')} int8, {threads} threads")


def runs_line(runs: list[dict[str, Any]], threads: int) -> str:
    if len(runs) == 1:
        return machine_line(runs[0], threads)
    m = runs[0]
    loads = [r["loadavg"][0] for r in runs] + [r.get("loadavg_end", r["loadavg"])[0] for r in runs]
    return (f"{len(runs)} invocations, {m['date']} → {runs[-1].get('date_end', '?')}; {m['nproc']} CPUs "
            f"({m['cpu']}), 1-min load average {min(loads):.2f}–{max(loads):.2f} at their starts and ends; "
            f"CTranslate2 {m.get('ctranslate2', '?')} int8, {threads} threads")


def markdown(report: dict[str, Any]) -> str:
    out: list[str] = []
    clean = report.get("clean", 0.10)
    for entry in report["cases"].values():
        arch = Arch(**entry["arch"])
        src, kept = entry["src_tokens"], entry["kept"]
        rescore = arch.ffn_matrices == 3  # mT5: no_repeat_ngram_size 2 always makes tarjama rescore
        out += [f"### {entry['title']}", ""]
        for n in entry["lengths"]:
            out += [f"**Multiply-adds per pass, one source of {src} tokens → {n} tokens, beam {BEAM}** "
                    f"({mac_detail(arch, src, n)}):", ""]
            out += [*mac_table(arch, src, n, kept), ""]
            if rescore:
                r = rescore_macs(arch, src, n)
                total = sum(r.values())
                out += ["Outside the pass, the raw rescoring tarjama did until c33087f, of the best hypothesis "
                        f"(score_batch, full V, "
                        f"no vmap): {total / 1e9:.1f} GMAC (encoder {r['encoder'] / 1e9:.1f}, decoder layers "
                        f"{r['decoder_layers'] / 1e9:.1f}, output {r['output'] / 1e9:.1f}).", ""]
        for timed in entry["timed"]:
            runs = timed.get("runs") or [timed["machine"]]
            calls = sum(len(v) for v in timed["raw"].values())
            out += [f"Timed: {runs_line(runs, timed['threads'])}; {calls} timed calls, "
                    f"{timed['waited_s']:.0f} s spent waiting for quiet moments.", ""]
            for part in analyse(timed, clean):
                n = part["steps"]
                out += [f"**Timed, {timed['batch']} source(s) of {timed['src_tokens']} tokens → {n} tokens, beam "
                        f"{BEAM}** (per configuration: median of the quiet runs — other processes under "
                        f"{100 * clean:.0f} % of the CPUs — else the fastest; t = a + b·K over the vmap rows, "
                        f"a = {part['a_s']:.3f} s "
                        f"({'measured: the 64-piece vmap' if part.get('a_measured') else 'the fit intercept'}), "
                        f"b·10k = {1e4 * part['b_s_per_piece']:.3f} s (least squares); per step: "
                        f"decoder layers {1000 * part['decoder_step_s']:.1f} ms, output layer "
                        f"{1e7 * part['output_step_s_per_piece']:.2f} ms per 10k pieces; at 1 token the slope "
                        f"(vmap set-up + step 0's one-row output layer) is {1e7 * part['b1_s_per_piece']:.2f} ms "
                        f"per 10k pieces; vmap set-up at K = V, t(vmap, 1 token) − t(no vmap, 1 token): "
                        f"{1000 * part['vmap_setup_full_s']:+.0f} ms):", ""]
                out += [*timed_table(timed, part), ""]
            for name in sorted((c for c in timed["raw"] if c.startswith("rescore/")), reverse=True):
                values = timed["raw"][name]
                if not values:
                    continue
                out += ["the raw rescoring tarjama did until c33087f "
                        f"(score_batch of one {name.split('/')[1]}-token hypothesis, "
                        f"full V, no vmap): {estimate(values, clean):.3f} s per summary "
                        f"({sum(f < clean for _, f in values)}/{len(values)} quiet runs).", ""]
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
