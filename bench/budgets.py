"""Batch token budgets: how the padded-token limit of a model pass changes a many-article run.

    python bench/budgets.py --models DIR --articles 16 --summary-tokens 6144            # summaries + en + es
    python bench/budgets.py --models DIR --articles 16 --translation-tokens 2048 --no-summary
    python bench/budgets.py --models DIR --articles 16 --mode article                  # one article at a time

Times ``Pipeline.run_many`` over the first N shared-corpus articles (``--mode batch``), or
``Pipeline.run`` per article (``--mode article``), after one warm-up article, with the Summarizer's
or the Translator's budget overridden (the Translator's row cap follows as budget / 64, the
Summarizer's as 64). Same settings as bench/batch.py: memory off, repetition guard off, outputs forced
to 1.2 × source tokens. Prints one line: mode, budgets, seconds, per-stage seconds, peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import batch as bench_batch  # bench/batch.py: models, articles, settings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", required=True, type=Path, help="models.yaml, or a folder holding one")
    p.add_argument("--articles", type=int, default=16)
    p.add_argument("--mode", choices=("batch", "article"), default="batch")
    p.add_argument("--summary-tokens", type=int, help="Summarizer batch_tokens (default: the pipeline's)")
    p.add_argument("--translation-tokens", type=int, help="Translator batch_tokens (default: 4096)")
    p.add_argument("--no-summary", dest="summary", action="store_false")
    args = p.parse_args(argv)


    from tarjama.documents import Document
    from tarjama.pipeline import Pipeline

    budgets: dict[str, dict[str, int]] = {}  # models.yaml settings: the same code path as a user's
    if args.summary_tokens:
        budgets["summarization"] = {"batch_tokens": args.summary_tokens, "many_batch_tokens": args.summary_tokens}
    if args.translation_tokens:
        budgets["translation"] = {"batch_tokens": args.translation_tokens,
                                  "max_batch_size": max(1, args.translation_tokens // 64)}
    config = bench_batch.bench_models(args.models, 1.2, Path(tempfile.mkdtemp()), budgets=budgets)
    docs = [Document(text=a["text"], id=a["id"]) for a in bench_batch.load_articles(args.articles)]
    pipe = Pipeline.from_config(config, memory=False)
    targets = ("en", "es")
    pipe.run(docs[0], targets, args.summary)  # warm-up: models loaded, first-call costs paid
    started, stages = time.perf_counter(), {}
    if args.mode == "batch":
        stages = pipe.run_many(docs, targets, args.summary)[0].timings
    else:
        for doc in docs:
            for stage, seconds in pipe.run(doc, targets, args.summary).timings.items():
                stages[stage] = stages.get(stage, 0.0) + seconds
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(args.mode, f"summary_tokens={args.summary_tokens or 'default'}",
          f"translation_tokens={args.translation_tokens or 'default'}", f"articles={len(docs)}",
          f"seconds={seconds:.1f}", {k: round(v, 1) for k, v in stages.items()}, f"peak_rss_mb={rss}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
