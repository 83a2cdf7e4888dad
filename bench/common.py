"""What the side-by-side bench scripts share (bench/run.py, bench/argos.py): the environment of their
fresh child processes, the min / median / max they report, progress messages and the final report.

Standard library only, because bench/argos.py also imports it inside Argos Translate's own venv.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def pick_articles(corpus: Path, seed: Path, count: int, quick: bool = False) -> list[tuple[str, str]]:
    """The seed article and news articles of typical length (nearest the corpus's median word count), as
    ``(name, text)``; quick runs take one article of ~200 words instead.  The same articles in every script,
    so their figures can be set side by side."""
    news = []
    for path in sorted((corpus / "news").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                news.append((f"{path.stem.split('_')[0]}:{item['id']}", item["text"]))
    if not news:
        sys.exit(f"{Path(sys.argv[0]).name}: no articles under {corpus / 'news'} (set TARJAMA_CORPUS)")
    words = sorted(len(t.split()) for _, t in news)
    target = 200 if quick else words[len(words) // 2]
    typical = sorted(news, key=lambda a: (abs(len(a[1].split()) - target), a[0]))
    if quick:
        return typical[:1]
    return [("seed_article", seed.read_text(encoding="utf-8")), *typical[: max(0, count - 1)]]


def child_env() -> dict[str, str]:
    """Quiet, offline, unbuffered children: each case or system runs in a fresh process."""
    return {**os.environ, "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def spread(values: list[float], digits: int = 2) -> dict[str, float]:
    """min / median / max, rounded: every figure of a repeated measurement is reported as its spread."""
    return {"min": round(min(values), digits), "median": round(statistics.median(values), digits),
            "max": round(max(values), digits)}


def say(args: argparse.Namespace, message: str) -> None:
    """A progress line on stderr, unless ``--json`` asked for nothing but the result (``--verbose`` wins)."""
    if not args.json or args.verbose:
        print(message, file=sys.stderr, flush=True)


def cpu_name() -> str:
    """The CPU's model name, for the machine line every figure carries."""
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), platform.processor())


def add_report_options(parser: argparse.ArgumentParser) -> None:
    """The options every side-by-side script takes: how to report, and the hidden worker entry point its
    fresh child processes are started with (``--worker KIND --job FILE``)."""
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--output", type=Path, help="also write the full results (every run) as JSON here")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr even with --json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)


def report(args: argparse.Namespace, summary: dict[str, Any], raw: Any, markdown: Callable[[dict[str, Any]], str]
           ) -> None:
    """Write the full report (summary + raw runs) to ``--output`` if given; print JSON or Markdown."""
    if args.output:
        args.output.write_text(json.dumps({**summary, "raw": raw}, indent=1, ensure_ascii=False))
    print(json.dumps(summary, ensure_ascii=False) if args.json else markdown(summary))
