"""The ``tarjama`` command: translate one article, manage models, run batches, serve the web page.

Exit codes: 0 done; 1 the input or a model was not usable (the message says why and what to do);
2 a usage or models.yaml error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tarjama.result import DEMO_NOTICE

EXAMPLES = """examples:
  tarjama translate article.txt --to en,es --summary
  tarjama translate page.html --to en --format json -o article.json
  cat article.txt | tarjama translate - --to es --format txt
  tarjama batch wire/ feed.jsonl --to en,es --summary --out night.jsonl   # --resume after a crash
  tarjama models list
  tarjama models pull                 # download the models named in models.yaml (needs network)
  tarjama serve                       # the editor's web page on http://127.0.0.1:7860
  tarjama models convert              # convert them to CTranslate2 now (else once, on first use)

models: models.yaml names every model (hub id or local folder); select another file with
--models PATH or TARJAMA_MODELS=PATH.  Hub models load from the Hugging Face cache (HF_HOME).
"""


FORMATS = ("json", "md", "txt", "docx")
SUFFIX_FORMATS = {".json": "json", ".md": "md", ".markdown": "md", ".txt": "txt", ".docx": "docx"}


class CliError(Exception):
    """A failure to report in one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _quiet_libraries() -> None:
    """Keep stderr for tarjama's own messages: no transformers advisories or weight-loading bars."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--models", metavar="PATH", help="models.yaml to use (default: $TARJAMA_MODELS or the "
                        "one shipped with tarjama)")
    return common


def _languages(value: str) -> list[str]:
    langs = [v.strip() for v in value.split(",") if v.strip()]
    if not langs:
        raise argparse.ArgumentTypeError("give at least one language, e.g. en,es")
    return langs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tarjama", description="Arabic news articles → English and Spanish translations and summaries.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common()
    _add_translate(sub, common)
    _add_batch(sub, common)
    _add_models(sub, common)
    _add_serve(sub, common)
    _add_demo(sub)
    return parser


# -- translate ---------------------------------------------------------------------------------------


def _add_translate(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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
    p.add_argument("--to", type=_languages, default=["en", "es"], metavar="LANGS",
                   help="target languages, comma-separated (default: en,es)")
    p.add_argument("--summary", action="store_true", help="also summarize (Arabic + each target)")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from -o's suffix, else md)")
    p.add_argument("-o", "--output", metavar="OUT", help="write here (atomically) instead of stdout")
    p.add_argument("--backend", choices=("auto", "transformers", "ctranslate2"),
                   help="override the backend of models.yaml")
    p.add_argument("--no-memory", action="store_true",
                   help="do not use the translation memory (default: sentences translated before with the same "
                        "model and settings come from $TARJAMA_CACHE/memory.sqlite, ~/.cache/tarjama by default)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_translate)


def cmd_translate(args: argparse.Namespace) -> int:
    from tarjama.documents import input_kind, read_document, validate_text

    if args.input != "-" and Path(args.input).is_dir():
        raise CliError(f"{args.input} is a folder; `tarjama translate` takes one article. Translate every article "
                       f"in it with: tarjama batch {args.input} --to {','.join(args.to)} --out results.jsonl", 2)
    fmt = args.format or _format_from(args.output)  # a bad -o suffix fails before any work
    if fmt == "docx" and (not args.output or args.output == "-"):
        raise CliError("--format docx writes a file: give -o report.docx", 2)
    if args.input != "-" and input_kind(args.input) == "records":
        doc = _single_record(args.input)
    else:
        doc = read_document(args.input, sys.stdin.buffer.read() if args.input == "-" else None)
    validate_text(doc.text, doc.source)  # before any model loads: bad input fails fast
    _quiet_libraries()
    from tarjama.pipeline import Pipeline

    pipe = Pipeline.from_config(args.models, backend=args.backend, memory=not args.no_memory)
    load_models(pipe, args.to, args.summary, quiet=args.quiet)
    from tarjama.smoke import check_once

    check_once(pipe, args.to, args.summary)  # first use: catch garbage checkpoints; warns, never stops
    if pipe.registry.demo:
        print(f"tarjama: DEMO MODE: {DEMO_NOTICE}", file=sys.stderr)
    with _StageBar(enabled=not args.quiet) as bar:
        result = pipe.run(doc, targets=args.to, summarize=args.summary, progress=bar.update)
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


# -- batch -------------------------------------------------------------------------------------------


def _add_batch(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from tarjama.batch import add_parser  # options and cmd_batch live with the batch runner

    add_parser(sub, common)


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
    from tarjama.documents import write_atomic

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


# -- models ------------------------------------------------------------------------------------------


def _add_models(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("models", help="list, download or check the models of models.yaml",
                       description="Manage the models named in models.yaml.")
    msub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = msub.add_parser("list", parents=[common], help="each model: source (local/cached/hub), size, licence",
                         description="List the models of models.yaml: task, key, model id, pinned revision, where its "
                         "files are (local folder, Hugging Face cache, converted from a pickle, or still on the Hub), "
                         "size, the CTranslate2 conversions cached, the licence and where the weights come from.")
    ls.set_defaults(func=cmd_models_list)
    pull = msub.add_parser(
        "pull", parents=[common], help="download hub models into the Hugging Face cache "
        "(safetensors, config and tokenizer files only)",
        description="Download the models of models.yaml into the Hugging Face cache (safetensors, config and\n"
        "tokenizer files only; never pickles) and report each one: ok, converted, or failed: why.\n"
        "Exit status 1 when any failed.\n\n"
        "--convert-pickle: for a model whose revision (or local folder) holds only pytorch_model.bin, a\n"
        "pickle, fetch that file and convert it to model.safetensors in $TARJAMA_CACHE/converted/.  Risk:\n"
        "unpickling can run code.  It is done in a separate, short-lived Python process with torch's\n"
        "restricted unpickler (torch.load(weights_only=True), torch >= 2.6), and every tensor's name, shape\n"
        "and dtype is checked against config.json before anything is written; tarjama itself never\n"
        "unpickles.  Use it only for owners you trust; safer still, pin a revision: that holds\n"
        "model.safetensors (e.g. the Hub's conversion pull request, refs/pr/N).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    pull.add_argument("keys", nargs="*", metavar="KEY", help="only these entries (e.g. ar-en); default: all")
    pull.add_argument("--convert-pickle", action="store_true",
                      help="convert pickle-only models (pytorch_model.bin) to safetensors, in an isolated process")
    pull.set_defaults(func=cmd_models_pull)
    check = msub.add_parser(
        "check", parents=[common], help="load every model and check that its output is not garbage",
        description="Load every model of models.yaml (each failure is reported; the others are still checked),\n"
        "then run the smoke check: translate 20 FLORES-200 sentences shipped with tarjama into each target and\n"
        "score them with chrF against their human translations, and summarize one short Arabic article (the\n"
        "summary must be non-empty, not looping and mostly Arabic).  Wrong revisions, mismatched tokenizer\n"
        "files and broken conversions give fluent-looking garbage without any error; this catches it.\n"
        "Prints per model: id, revision, engine, score and ok/GARBAGE.  Exit 1 when a model failed to load\n"
        "or any check is garbage, else 0.  The verdicts are cached for `tarjama translate` (see its --help).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    check.set_defaults(func=cmd_models_check)
    conv = msub.add_parser(
        "convert", parents=[common], help="convert models to CTranslate2 now (else done once on first use)",
        description="Convert models of models.yaml (hub id or folder) to CTranslate2, once: the result is\n"
        "cached in $TARJAMA_CACHE/ct2/<model>/<revision>/<compute type> (TARJAMA_CACHE defaults to\n"
        "$XDG_CACHE_HOME/tarjama, else ~/.cache/tarjama) and reused by every later run with backend\n"
        "auto or ctranslate2.  Without this command the conversion happens on first use.",
        epilog="compute types: auto (int8 on CPU; on CUDA float16 for Marian, bfloat16 for mT5),\n"
        "int8, int8_float32, int8_float16, int8_bfloat16, float32, float16, bfloat16.\n"
        "mT5 is never run in float16 (NaNs).  Converting mT5-base takes ~4 GB of RAM for a minute.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    conv.add_argument("keys", nargs="*", metavar="KEY", help="only these entries (e.g. ar-en ar); default: all")
    conv.add_argument("--compute-type", default=None, metavar="T",
                      help="convert for this compute type (default: each model's compute_type in models.yaml)")
    conv.set_defaults(func=cmd_models_convert)


def cmd_models_list(args: argparse.Namespace) -> int:
    from tarjama.engines import ct2_cached
    from tarjama.registry import ModelNotAvailable, Registry, folder_size, resolve

    registry = Registry.load(args.models)
    rows = [("TASK", "KEY", "MODEL", "REVISION", "SOURCE", "SIZE", "CTRANSLATE2", "LICENCE")]
    for spec in registry.specs():
        try:
            found = resolve(spec, download=False)
            source, size = found.source, f"{folder_size(found.path) / 1e6:.1f} MB"
        except ModelNotAvailable as err:
            source, size = ("hub (not downloaded)", "-") if spec.local_path() is None else ("missing", "-")
            if spec.local_path() is None and "safetensors" in str(err):
                source = "cached (no safetensors)"
        converted = ",".join(ct2_cached(spec)) or "-"  # compute types already converted (cached)
        rows.append((spec.task, spec.key, spec.model, spec.revision, source, size, converted, spec.license))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    print(f"\nmodels file: {registry.path}" + ("  (DEMO: generated random-weight models)" if registry.demo else ""))
    for spec in registry.specs():
        if spec.provenance:
            print(f"weights of {spec.key} at {spec.revision}: {spec.provenance}")
    if any(s.license.upper().startswith("CC-BY-NC") for s in registry.specs()):
        print("note: CC-BY-NC licences allow non-commercial use only.")
    return 0


def cmd_models_pull(args: argparse.Namespace) -> int:
    """One line per model: ok / converted on stdout, failed: why on stderr; exit 1 at the end when any failed."""
    from tarjama.pickle_conversion import PickleConversionError, convert_spec
    from tarjama.registry import ModelNotAvailable, Registry, resolve

    registry = Registry.load(args.models)
    specs = [s for s in registry.specs() if not args.keys or s.key in args.keys]
    if args.keys and not specs:
        raise CliError(f"no entry named {', '.join(args.keys)} in {registry.path}", 2)
    failed = 0
    for spec in specs:
        print(f"{spec.key}: {spec.model}@{spec.revision} ...", file=sys.stderr, flush=True)
        try:
            found, fresh = convert_spec(spec) if args.convert_pickle else (resolve(spec, download=True), False)
        except (ModelNotAvailable, PickleConversionError) as err:
            failed += 1
            print(f"{spec.key}: failed: {' '.join(str(err).split())}", file=sys.stderr, flush=True)
            continue
        print(f"{spec.key}: {'converted' if fresh else 'ok'} ({found.source} at {found.path})", flush=True)
    if failed:
        print(f"tarjama: error: {failed} of {len(specs)} models failed (see above)", file=sys.stderr)
        return 1
    return 0


def cmd_models_convert(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from tarjama.engines import ConversionError, convert
    from tarjama.registry import COMPUTE_TYPES, Registry, resolve

    if args.compute_type and args.compute_type not in COMPUTE_TYPES:
        raise CliError(f"--compute-type {args.compute_type}: not one of {', '.join(COMPUTE_TYPES)}", 2)
    _quiet_libraries()
    registry = Registry.load(args.models)
    specs = [s for s in registry.specs() if not args.keys or s.key in args.keys]
    if args.keys and not specs:
        raise CliError(f"no entry named {', '.join(args.keys)} in {registry.path}", 2)
    for spec in specs:
        spec = replace(spec, compute_type=args.compute_type or spec.compute_type)
        found = resolve(spec)
        try:
            folder = convert(spec, found=found)  # compute type: the spec's, resolved for its device
        except ConversionError as err:
            raise CliError(str(err)) from None
        print(f"{spec.key}: {folder}")
    return 0


def cmd_models_check(args: argparse.Namespace) -> int:
    """Load every model (a failure is one line; the rest are still checked), then run the smoke check.

    Exit 1 when a model did not load or any output is garbage, so scripts and CI can gate on it.
    """
    _quiet_libraries()
    from tarjama import smoke
    from tarjama.pipeline import Pipeline

    pipe = Pipeline.from_config(args.models, memory=False)  # check the models, not the memory
    loaded = smoke.load_models(pipe)  # one line per model, failures included
    targets = [s.target for s in loaded if s.task == "translation"]
    summarize = any(s.task == "summarization" for s in loaded)
    report = smoke.run_smoke(pipe, targets, summarize)
    for line in report.lines():
        print(line)
    print(f"smoke check: {report.seconds:.1f} s")
    smoke.store(pipe, report)  # `tarjama translate` then reads these verdicts instead of checking again
    if report.garbage:
        for line in smoke.warning_lines(report, demo=pipe.registry.demo):
            print(line, file=sys.stderr)
    if pipe.registry.demo:
        print("DEMO models: generated random weights; their output is noise, so GARBAGE is expected.")
    return 1 if report.garbage or len(loaded) < len(pipe.registry.specs()) else 0


# -- demo --------------------------------------------------------------------------------------------


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="check an install without the real weights: the whole pipeline on generated models (DEMO)",
        description="Build small random-weight models that copy the real checkpoints' files (once, into\n"
        "$TARJAMA_CACHE/demo-models, a few seconds), then translate and summarize an article with them\n"
        "through the same path a real run takes (CTranslate2 int8 where installed).  Every output is\n"
        "labelled DEMO: it is noise, not a translation.  Use it to check an install; `tarjama translate`\n"
        "with the real models (README, \"First run with the real models\") is the real thing.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", nargs="?", metavar="FILE", help="article (default: the sample article shipped with "
                   "tarjama)")
    p.add_argument("--to", type=_languages, default=["en", "es"], metavar="LANGS", help="default: en,es")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from -o's suffix, else md)")
    p.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from tarjama.generated_models import SEED_ARTICLE

    models = demo_models()
    run = argparse.Namespace(input=args.input or str(SEED_ARTICLE), to=args.to, summary=True, format=args.format,
                             output=args.output, backend=None, no_memory=True, quiet=args.quiet, models=str(models))
    return cmd_translate(run)


def demo_models() -> Path:
    """models.yaml of the demo's generated models, built once per tarjama version (default engine choice)."""
    from tarjama import __version__
    from tarjama.engines import cache_dir

    root = cache_dir() / "demo-models"
    path, stamp = root / "models.yaml", root / "built-by"
    if path.is_file() and stamp.is_file() and stamp.read_text() == __version__:
        return path
    _quiet_libraries()
    from tarjama.generated_models import build_all

    print(f"tarjama: building the DEMO models in {root} (once) …", file=sys.stderr, flush=True)
    build_all(root, backend="auto", compute_type="auto")
    stamp.write_text(__version__)
    return path


# -- serve -------------------------------------------------------------------------------------------


def _add_serve(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="serve the editor's web page (app.py)",
                       description="Load the models once, then serve the editor's page: paste or upload an "
                       "article, review the translations sentence by sentence, correct them, export.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    _quiet_libraries()
    return load_page().serve(args.host, args.port, args.models)


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served on, or None: checked before any model loads (a minute's work)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        return f"--host {host}: not an address of this machine ({err.strerror})"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no conflict
        try:
            sock.bind(address)
        except OSError as err:
            if err.errno == 98:  # EADDRINUSE
                return f"port {port} on {host} is already in use (another tarjama serve?); choose another with --port"
            return f"cannot listen on {host}:{port}: {err.strerror}; choose another --host or --port"
    return None


def load_page():
    """The editor's page, app.py — the one upward import (it imports gradio), made only by ``serve``.

    Installed from a wheel it is ``tarjama.app`` (setup.py copies it in); in a checkout it is the
    repository's top-level app.py, loaded from its file under its own name, ``app``.
    """
    import importlib
    import importlib.util

    try:
        return importlib.import_module("tarjama.app")
    except ModuleNotFoundError as err:
        if err.name != "tarjama.app":
            raise
    path = Path(__file__).resolve().parents[1] / "app.py"
    loaded = sys.modules.get("app")
    if loaded is not None and Path(getattr(loaded, "__file__", "")).resolve() == path:
        return loaded
    spec = importlib.util.spec_from_file_location("app", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise CliError(f"the editor's page is missing: no tarjama.app and no {path}; reinstall tarjama")
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    return module


# -- entry point -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    from tarjama.documents import InputError
    from tarjama.registry import ConfigError, ModelNotAvailable

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as err:
        return _fail(str(err), err.code)
    except ConfigError as err:
        return _fail(str(err), 2)
    except ModelNotAvailable as err:
        code = _fail(str(err), 1)
        print("tarjama: hint: to check an install without weights, `make demo` runs the same pipeline on "
              "generated random-weight models (labelled DEMO; the output is noise).", file=sys.stderr)
        return code
    except InputError as err:
        return _fail(str(err), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 0


def _fail(message: str, code: int) -> int:
    for line in message.splitlines() or [""]:
        print(f"tarjama: error: {line}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
