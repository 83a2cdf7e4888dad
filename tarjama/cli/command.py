"""The ``tarjama`` command line: the parser of every subcommand and the entry point.

Exit codes: 0 done; 1 the input or a model was not usable (the message says why and what to do);
2 a usage or models.yaml error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tarjama.batch import cli as batch_cli
from tarjama.cli import demo, evaluate, models, serve, translate
from tarjama.cli.options import CliError, models_option

EXAMPLES = """examples:
  tarjama translate article.txt --to en,es --summary
  tarjama translate page.html --to en --format json -o article.json
  cat article.txt | tarjama translate - --to es --format txt
  tarjama batch wire/ feed.jsonl --to en,es --summary --out night.jsonl   # --resume after a crash
  tarjama models list
  tarjama models pull                 # download the models named in models.yaml (needs network)
  tarjama models check                # load every model and check its output is not garbage
  tarjama serve                       # the editor's web page on http://127.0.0.1:7860
  tarjama demo                        # check an install without the real weights (output labelled DEMO)
  tarjama eval mt --src test.ar --ref test.en --to en    # BLEU/chrF on a test set (eval summary: ROUGE)

models: models.yaml names every model (hub id or local folder); select another file with
--models PATH or TARJAMA_MODELS=PATH.  Hub models load from the Hugging Face cache (HF_HOME).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tarjama", description="Arabic news articles → English and Spanish translations and summaries.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = models_option()
    translate.add_parser(sub, common)
    batch_cli.add_parser(sub, common)
    models.add_parser(sub, common)
    evaluate.add_parser(sub, common)
    serve.add_parser(sub, common)
    demo.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from tarjama.documents import InputError
    from tarjama.registry import ConfigError, ModelNotAvailable
    from tarjama.translate.glossary import GlossaryError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as err:
        return _fail(str(err), err.code)
    except (ConfigError, GlossaryError) as err:
        return _fail(str(err), 2)
    except ModelNotAvailable as err:
        code = _fail(str(err), 1)
        print("tarjama: hint: to check an install without weights, `tarjama demo` (`make demo` in a checkout) "
              "runs the same pipeline on generated random-weight models (labelled DEMO; the output is noise).",
              file=sys.stderr)
        return code
    except InputError as err:
        return _fail(str(err), 1, err.hint)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 0


def _fail(message: str, code: int, hint: str = "") -> int:
    for line in message.splitlines() or [""]:
        print(f"tarjama: error: {line}", file=sys.stderr)
    if hint:
        print(f"tarjama: hint: {hint}", file=sys.stderr)
    return code




if __name__ == "__main__":
    raise SystemExit(main())
