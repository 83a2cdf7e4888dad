"""``tarjama batch``: options, the command, its summary line and the resume command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tarjama.batch.config import CHUNK_ARTICLES, ENGINES, BatchConfig, BatchError, Fields, RayOptions, resume_command
from tarjama.batch.progress import duration, make_progress
from tarjama.batch.ray_engine import CPUS_PER_WORKER, RAY_INSTALL
from tarjama.batch.runner import BatchReport, load_registry, run_batch

# --------------------------------------------------------------------------- command line


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """``tarjama batch``: its options."""
    from tarjama.cli.options import add_run_options

    p = sub.add_parser(
        "batch", parents=[common], help="translate many articles (files, folders, JSONL/CSV) into one output, "
        "resumably", description="Translate many Arabic articles: every input record ends up exactly once in "
        "the output or in the errors file, a crash loses nothing, --resume continues.",
        epilog=BATCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files (.txt .md .html .htm .docx, .jsonl .csv "
                   "one article per record), folders (recursive), or - for JSON Lines on stdin")
    p.add_argument("--out", required=True, metavar="PATH", help="JSON Lines file, or a folder with --format dir")
    p.add_argument("--format", choices=("jsonl", "dir"), default="jsonl",
                   help="jsonl: one result per line (default); dir: ID.<lang>.md, ID.summary.md, ID.json")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run into the same --out")
    p.add_argument("--errors", metavar="PATH", help="errors file (default: OUT's name + .errors.jsonl)")
    p.add_argument("--id-field", default="id", metavar="NAME", help="record id field (default: id)")
    p.add_argument("--text-field", default="text", metavar="NAME", help="article text field (default: text)")
    p.add_argument("--title-field", default="title", metavar="NAME", help="title field (default: title)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes, each with its own models and cores/N threads (default: 1)")
    p.add_argument("--limit", type=int, metavar="N", help="stop after N records (not counting resumed ones)")
    p.add_argument("--chunk", "--batch-articles", type=int, default=CHUNK_ARTICLES, metavar="N",
                   help=f"articles translated together in one model pass (default: {CHUNK_ARTICLES}); with "
                        "--engine ray, the articles of one Ray batch")
    ray = p.add_argument_group("distributed (--engine ray)", "the same run on Ray: each Ray worker (an actor) "
                               "loads the models once; this process stays the only writer")
    ray.add_argument("--engine", choices=ENGINES, default="local",
                     help="local: this machine's processes (default); ray: a Ray Data actor pool (needs "
                          f"{RAY_INSTALL})")
    ray.add_argument("--ray-address", metavar="ADDR", help="an existing Ray cluster: auto, HOST:6379, or "
                     "ray://HOST:10001 (needs ray[client]) (default: start Ray on this machine, bound to "
                     "127.0.0.1, and stop it at the end)")
    ray.add_argument("--num-workers", type=int, metavar="N", help="Ray workers, each with its own models (default: "
                     "as many as the cluster's CPUs hold at --cpus-per-worker each)")
    ray.add_argument("--cpus-per-worker", type=int, metavar="C", help=f"CPUs, and model threads, per Ray worker "
                     f"(default: {CPUS_PER_WORKER}, at most the largest node's)")
    ray.add_argument("--gpus-per-worker", type=float, default=0.0, metavar="G",
                     help="GPUs per Ray worker (default: 0; models.yaml's device: decides where the models run)")
    add_run_options(p, quiet_help="no progress bar or progress lines")
    p.set_defaults(func=cmd_batch)


BATCH_EPILOG = """ids: the record's id field, else PATH:ROW (files: the path as given), else for stdin a content hash.
ROW counts records, not lines: JSONL from 1 (blank lines skipped), CSV from 2 (the header is row 1).
stdin (-) must be JSON Lines, one {"id": ..., "text": ...} object per line; one article: tarjama translate -
exactly once: each input record, as (id, source), ends up once in the output or the errors file; a later
record with an id already used goes to the errors file as duplicate_id, with its own source.
errors file: JSON Lines {id, source, reason, message}; reasons: empty, not_arabic, undecodable, binary,
too_long, unsupported, malformed, missing, duplicate_id, model_error.
exit codes: 0 every record translated; 1 some records failed (see the errors file); 2 usage error or an
output made by a different run; 130 interrupted (resume with --resume).

examples:
  tarjama batch wire/ --to en,es --summary --out night.jsonl
  tarjama batch wire/ --to en,es --summary --out night.jsonl --resume     # after a crash or Ctrl-C
  tarjama batch feed.csv --text-field body --id-field guid --to en --format dir --out night/
  cat feed.jsonl | tarjama batch - --to es --out es.jsonl
  tarjama batch archive/ --to en,es --summary --out archive.jsonl --engine ray --ray-address auto
"""


def config_from_args(args: argparse.Namespace) -> BatchConfig:
    return BatchConfig(
        inputs=tuple(args.inputs), out=Path(args.out),
        targets=tuple(dict.fromkeys(args.to or ())),  # none: every target of models.yaml (run_batch)
        summarize=args.summary, format=args.format, errors=Path(args.errors) if args.errors else None,
        resume=args.resume, fields=Fields(args.id_field, args.text_field, args.title_field), limit=args.limit,
        workers=args.workers, chunk=args.chunk, models=args.models, backend=args.backend, memory=args.memory,
        glossary=args.glossary, engine=args.engine,
        ray=RayOptions(args.ray_address, args.num_workers, args.cpus_per_worker, args.gpus_per_worker))


def cmd_batch(args: argparse.Namespace) -> int:
    from tarjama.cli.options import CliError, quiet_libraries

    cfg = config_from_args(args)
    quiet_libraries()
    progress = make_progress(args.quiet)
    if load_registry(cfg.models).demo:
        from tarjama.result import DEMO_NOTICE

        print(f"tarjama: DEMO MODE: {DEMO_NOTICE}", file=sys.stderr)
    try:
        report = run_batch(cfg, progress=progress, log=lambda note: print(f"tarjama: {note}", file=sys.stderr))
    except BatchError as err:
        raise CliError(str(err), err.code) from None
    print(f"tarjama: {summary_line(cfg, report)}", file=sys.stderr)
    if report.interrupted is not None:
        print(f"tarjama: resume with: {resume_command(cfg)}", file=sys.stderr)
        return 128 + report.interrupted
    return 1 if report.failed_total else 0


def summary_line(cfg: BatchConfig, report: BatchReport) -> str:
    head = "interrupted" if report.interrupted is not None else ("stopped at --limit" if report.limited
                                                                 else "batch done")
    parts = [f"{report.translated} translated", f"{report.failed} failed"]
    if report.reasons:
        parts[-1] += " (" + ", ".join(f"{k} {v}" for k, v in sorted(report.reasons.items())) + ")"
    if report.skipped:
        parts.append(f"{report.skipped} already done")
    line = f"{head}: " + ", ".join(parts) + f" in {duration(report.elapsed)} → {cfg.out}"
    if report.earlier["failed"]:
        line += f"; {report.earlier['failed']} failed in earlier runs"
    if report.failed_total:
        line += f"; see {cfg.errors_path}"
    return line
