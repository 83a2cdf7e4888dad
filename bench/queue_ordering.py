"""The model queue's ordering: how long a one-sentence request waits when whole articles are ahead of it,
short-first (with ageing, the server's default) against plain arrival order (FIFO), side by side.

    python bench/queue_ordering.py [--models MODELS_YAML] [--articles 3] [--sentences 12] [--gap 0.3]

The real path without HTTP: one ``tarjama.server.service.Service`` over the real Pipeline, its
``ModelQueue`` with one slot (as ``tarjama serve`` on a CPU), requests from threads as the API's worker
threads make them.  At t=0 ``--articles`` articles (the first of ../shared/corpus/news that validate,
``/v1/articles``' work: English, no summary) arrive 50 ms apart; from t=0.2 s a one-sentence ``/translate``
request (FLORES Arabic sentences) arrives every ``--gap`` seconds.  Reported per mode: each kind's median
and longest latency (arrival to answer) and the time until the last answer.  Without ``--models`` the
tests' tiny generated models are built in a temp folder: their speed is not a real model's, but the
ratio between an article's work and a sentence's is what the ordering acts on, and it is made realistic
as in bench/batch.py (``bench_models``: outputs forced to 1.2 × the source tokens, no repetition guard,
no placeholder re-decoding: random weights never stop on their own).  Modes alternate order between
``--repeats``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from batch import bench_models  # noqa: E402

from tarjama.documents import InputError  # noqa: E402
from tarjama.paths import corpus_path  # noqa: E402
from tarjama.pipeline import Pipeline, prepare_article  # noqa: E402
from tarjama.server.queue import ORDERINGS, ModelQueue  # noqa: E402
from tarjama.server.service import Service, load_models  # noqa: E402


def _articles(n: int) -> list[str]:
    import json

    out = []
    for path in sorted((corpus_path() / "news").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            text = json.loads(line).get("text") or ""
            try:
                prepare_article(text)  # validation only, no models
            except InputError:
                continue
            out.append(text)
            if len(out) == n:
                return out
    return out


def _sentences(n: int) -> list[str]:
    path = corpus_path() / "mt" / "flores200.dev.arb_Arab"
    return [s.strip() for s in path.read_text(encoding="utf-8").splitlines()[:n]]


def _run(service: Service, articles: list[str], sentences: list[str], gap: float) -> dict[str, list[float]]:
    latencies: dict[str, list[float]] = {"article": [], "sentence": []}
    lock = threading.Lock()
    start = time.perf_counter()

    def job(kind: str, at: float, work) -> None:
        time.sleep(max(0.0, at - (time.perf_counter() - start)))
        arrived = time.perf_counter()
        work()
        with lock:
            latencies[kind].append(time.perf_counter() - arrived)

    threads = [threading.Thread(target=job, args=("article", 0.05 * i,
                                                  lambda a=a: service.article(a, ["en"], summary=False)))
               for i, a in enumerate(articles)]
    threads += [threading.Thread(target=job, args=("sentence", 0.2 + gap * i,
                                                   lambda s=s: service.translate([s], "ar", "en")))
                for i, s in enumerate(sentences)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies["makespan"] = [time.perf_counter() - start]
    return latencies


def _over_runs(runs: list[dict[str, list[float]]], kind: str, f) -> float:
    """The median over repeats of ``f`` (median or max) of one kind's latencies."""
    return statistics.median(f(run[kind]) for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, help="models.yaml (default: tiny generated models)")
    parser.add_argument("--articles", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=12)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between sentence requests")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    models = args.models
    if models is None:
        import tiny_models

        models = tiny_models.build_all(Path(tempfile.mkdtemp(prefix="tarjama-bench-")))
    models = bench_models(models, 1.2, Path(tempfile.mkdtemp(prefix="tarjama-bench-yaml-")))
    pipeline = Pipeline.from_config(models, memory=None)
    report = load_models(pipeline)
    articles, sentences = _articles(args.articles), _sentences(args.sentences)
    print(f"models {models}; {len(articles)} articles ({sum(map(len, articles))} characters), "
          f"{len(sentences)} sentences every {args.gap} s; one model slot", flush=True)
    results: dict[str, list[dict[str, list[float]]]] = {o: [] for o in ORDERINGS}
    for r in range(args.repeats):
        for ordering in ORDERINGS if r % 2 == 0 else ORDERINGS[::-1]:
            service = Service(pipeline, report, queue=ModelQueue(ordering=ordering, max_waiting=1000))
            results[ordering].append(_run(service, articles, sentences, args.gap))
            service.close()
    print(f"{'ordering':<12} {'sentence median':>16} {'sentence max':>13} {'article median':>15} "
          f"{'article max':>12} {'last answer':>12}")
    for ordering, runs in results.items():
        row = [_over_runs(runs, kind, f) for kind, f in (("sentence", statistics.median), ("sentence", max),
                                                            ("article", statistics.median), ("article", max),
                                                            ("makespan", max))]
        print(f"{ordering:<12} {row[0]:>15.2f}s {row[1]:>12.2f}s {row[2]:>14.2f}s {row[3]:>11.2f}s {row[4]:>11.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
