"""``tarjama models list|pull|check|convert``: the models of models.yaml."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tarjama.cli.options import CliError, quiet_libraries


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
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

    from tarjama.engines import ConversionError, ct2_model
    from tarjama.registry import COMPUTE_TYPES, Registry, resolve

    if args.compute_type and args.compute_type not in COMPUTE_TYPES:
        raise CliError(f"--compute-type {args.compute_type}: not one of {', '.join(COMPUTE_TYPES)}", 2)
    quiet_libraries()
    registry = Registry.load(args.models)
    specs = [s for s in registry.specs() if not args.keys or s.key in args.keys]
    if args.keys and not specs:
        raise CliError(f"no entry named {', '.join(args.keys)} in {registry.path}", 2)
    for spec in specs:
        spec = replace(spec, compute_type=args.compute_type or spec.compute_type)
        found = resolve(spec)
        try:
            model = ct2_model(spec, found=found)  # compute type: the spec's, resolved for its device
        except ConversionError as err:
            raise CliError(str(err)) from None
        print(f"{spec.key}: {model.folder}")
        print(f"  {model.describe(Path(spec.model).name)}")  # the real tokenizer's figure, for the real model
    return 0


def cmd_models_check(args: argparse.Namespace) -> int:
    """Load every model (a failure is one line; the rest are still checked), then run the smoke check.

    Exit 1 when a model did not load or any output is garbage, so scripts and CI can gate on it.
    """
    quiet_libraries()
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


