"""``tarjama translate``: one article in, a report (md, json, txt or docx) out."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tarjama.cli.options import FORMATS, SUFFIX_FORMATS, CliError, add_run_options, quiet_libraries, read_glossary
from tarjama.result import DEMO_NOTICE


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "translate", parents=[common], help="translate one article (.txt .md .html .docx, a one-record "
        ".jsonl/.csv, or - for stdin)",
        description="Translate one Arabic article sentence by sentence, keeping its paragraphs; "
        "optionally summarize it (in Arabic, then in each target language).",
        epilog="formats: json (the full result, schema tarjama/schema/article.schema.json), md (a readable "
        "report), txt (translations only), docx (the report as a Word file; needs -o).\nThe format defaults to "
        "the -o file's suffix (.json .md .markdown .txt .docx; another suffix needs --format), else md.\n\n"
        "smoke check: the first run with a model (per revision, loaded weights, engine and compute type) also\n"
        "translates 20 known sentences and summarizes a known article (seconds) to catch garbage output from\n"
        "a broken checkpoint; the verdict is cached in $TARJAMA_CACHE/smoke/ and a GARBAGE verdict is repeated\n"
        "as a warning on every run (never stopping it).  Skipped for DEMO models and with TARJAMA_SMOKE=0;\n"
        "`tarjama models check` runs it afresh.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="FILE|-", help="article file (.txt .md .html .htm .docx, or a .jsonl/.csv "
                   "holding one record) or - for stdin text")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from -o's suffix, else md)")
    p.add_argument("-o", "--output", metavar="OUT", help="write here (atomically) instead of stdout")
    add_run_options(p)
    p.set_defaults(func=cmd_translate)


def cmd_translate(args: argparse.Namespace) -> int:
    """Read and check the article first (no model loads for bad input), then load, translate, write."""
    from tarjama.documents import input_kind, read_document

    if args.input != "-" and Path(args.input).is_dir():
        to = f" --to {','.join(args.to)}" if args.to else ""
        raise CliError(f"{args.input} is a folder; `tarjama translate` takes one article. Translate every article "
                       f"in it with: tarjama batch {args.input}{to} --out results.jsonl", 2)
    fmt = args.format or _format_from(args.output)  # a bad -o suffix fails before any work
    if fmt == "docx" and (not args.output or args.output == "-"):
        raise CliError("--format docx writes a file: give -o report.docx", 2)
    if args.input != "-" and input_kind(args.input) == "records":
        doc = _single_record(args.input)
    else:
        doc = read_document(args.input, sys.stdin.buffer.read() if args.input == "-" else None)
    glossary = read_glossary(args.glossary)
    quiet_libraries()
    from tarjama.pipeline import Pipeline

    pipe = Pipeline.from_config(args.models, backend=args.backend, memory=args.memory)
    targets = args.to or pipe.targets
    article = pipe.prepare(doc)  # validated and segmented once, before any model loads
    load_models(pipe, targets, args.summary, quiet=args.quiet)
    from tarjama.smoke import check_once

    check_once(pipe, targets, args.summary)  # first use: catch garbage checkpoints; warns, never stops
    if pipe.registry.demo:
        print(f"tarjama: DEMO MODE: {DEMO_NOTICE}", file=sys.stderr)
    with _StageBar(enabled=not args.quiet) as bar:
        result = pipe.run(article, targets=targets, summarize=args.summary, progress=bar.update, glossary=glossary)
    _write(render(result, fmt), args.output)
    return 0


def render(result, fmt: str) -> str | bytes:
    """``result`` in one of FORMATS (docx as bytes)."""
    if fmt == "docx":
        from tarjama.export import to_docx

        return to_docx(result)
    text = {"json": result.to_json, "md": result.to_markdown, "txt": result.to_text}[fmt]()
    return text if text.endswith("\n") else text + "\n"


def load_models(pipe, targets: Sequence[str], summarize: bool, *, quiet: bool = False) -> None:
    """Load (or convert) the models a run needs now, saying so: 6-10 s of silence reads as a hang."""
    import time

    keys = [pipe.registry.translation_spec(t).key for t in targets]
    if summarize and pipe.registry.summarization:
        keys.append(pipe.registry.summarization_spec().key)
    started = time.perf_counter()
    if not quiet:
        print(f"tarjama: loading models ({', '.join(keys)}) …", file=sys.stderr, flush=True)
    infos = pipe.preload(targets, summarize)
    if not quiet:
        engines = ", ".join(f"{i.key} {i.engine} {i.compute_type}" for i in infos)
        print(f"tarjama: models ready in {time.perf_counter() - started:.1f} s ({engines})", file=sys.stderr,
              flush=True)


def _single_record(path: str):
    """The one article of a .jsonl/.csv file; more than one is `tarjama batch`'s job."""
    from tarjama.documents import InputError, iter_records

    records = iter_records(path)
    first = next(records)
    if next(records, None) is not None:
        raise CliError(f"{path} holds more than one article; translate them all with: "
                       f"tarjama batch {path} --to en,es --out results.jsonl", 2)
    if isinstance(first, InputError):
        raise first
    return first


def _format_from(output: str | None) -> str:
    """The format an -o file's suffix names; stdout is Markdown.  An unknown suffix is refused, never
    silently written as Markdown."""
    if not output or output == "-":
        return "md"
    suffix = Path(output).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise CliError(f"-o {output}: unknown suffix {suffix or '(none)'}; use one of "
                       f"{' '.join(SUFFIX_FORMATS)} or say --format {{{','.join(FORMATS)}}}", 2)
    return SUFFIX_FORMATS[suffix]


def _write(text: str | bytes, output: str | None) -> None:
    """stdout, or a file replaced atomically (a crash never leaves half a file)."""
    from tarjama.atomic import write_atomic

    if not output or output == "-":
        sys.stdout.write(text)
        return
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text)
    print(f"tarjama: wrote {target}", file=sys.stderr)


class _StageBar:
    """A progress bar per stage on stderr (only when it is a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar = None
        self.stage = ""

    def __enter__(self) -> _StageBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, stage: str, fraction: float) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self.stage:
            if self.bar is not None:
                self.bar.close()
            self.stage = stage
            self.bar = tqdm(total=100, desc=stage, unit="%", file=sys.stderr, leave=False)
        self.bar.n = round(fraction * 100)
        self.bar.refresh()


