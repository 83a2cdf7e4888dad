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


def report(args: argparse.Namespace, summary: dict[str, Any], raw: Any, markdown: Callable[[dict[str, Any]], str]
           ) -> None:
    """Write the full report (summary + raw runs) to ``--output`` if given; print JSON or Markdown."""
    if args.output:
        args.output.write_text(json.dumps({**summary, "raw": raw}, indent=1, ensure_ascii=False))
    print(json.dumps(summary, ensure_ascii=False) if args.json else markdown(summary))
