"""``tarjama demo``: the whole pipeline on generated random-weight models, labelled DEMO."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tarjama.cli.options import FORMATS, languages, quiet_libraries
from tarjama.cli.translate import cmd_translate


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--to", type=languages, default=None, metavar="LANGS", help="default: en,es")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from -o's suffix, else md)")
    p.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from tarjama.paths import SEED_ARTICLE

    models = demo_models()
    run = argparse.Namespace(input=args.input or str(SEED_ARTICLE), to=args.to, summary=True, format=args.format,
                             output=args.output, backend=None, memory=False, quiet=args.quiet, models=str(models),
                             glossary=None)
    return cmd_translate(run)


def demo_models() -> Path:
    """models.yaml of the demo's generated models, built once per tarjama version (default engine choice)."""
    from tarjama import __version__
    from tarjama.paths import demo_models_root

    root = demo_models_root()
    path, stamp = root / "models.yaml", root / "built-by"
    if path.is_file() and stamp.is_file() and stamp.read_text() == __version__:
        return path
    quiet_libraries()
    from tarjama.generated_models import build_all

    print(f"tarjama: building the DEMO models in {root} (once) …", file=sys.stderr, flush=True)
    build_all(root, backend="auto", compute_type="auto")
    stamp.write_text(__version__)
    return path


