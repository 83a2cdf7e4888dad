"""Options and helpers every ``tarjama`` subcommand shares (translate, batch, models, serve, demo): one home.

Choices come from the library (the registry's backends), never written out again here.
"""

from __future__ import annotations

import argparse
import os
import sys

from tarjama.registry import BACKENDS

FORMATS = ("json", "md", "txt", "docx")
SUFFIX_FORMATS = {".json": "json", ".md": "md", ".markdown": "md", ".txt": "txt", ".docx": "docx"}


class CliError(Exception):
    """A failure to report in one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def quiet_libraries() -> None:
    """Keep stderr for tarjama's own messages: no transformers advisories or weight-loading bars."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def models_option() -> argparse.ArgumentParser:
    """A parent parser with ``--models``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--models", metavar="PATH", help="models.yaml to use (default: $TARJAMA_MODELS or the "
                        "one shipped with tarjama)")
    return common


def languages(value: str) -> list[str]:
    """``--to en,es`` → ["en", "es"]."""
    langs = [v.strip() for v in value.split(",") if v.strip()]
    if not langs:
        raise argparse.ArgumentTypeError("give at least one language, e.g. en,es")
    return langs


def add_run_options(p: argparse.ArgumentParser, *, quiet_help: str = "no progress on stderr") -> None:
    """``--to --summary --backend --no-memory --quiet``: the options of every command that translates."""
    p.add_argument("--to", type=languages, default=None, metavar="LANGS",
                   help="target languages, comma-separated (default: every target of models.yaml: en,es)")
    p.add_argument("--summary", action="store_true", help="also summarize (Arabic + each target)")
    add_backend_option(p)
    add_memory_option(p)
    p.add_argument("--glossary", metavar="FILE", help="enforce these terms (CSV/TSV with a header row of languages, "
                   "ar,en,es, or YAML), on top of models.yaml's glossary: a term whose translation the model "
                   "misses is re-decoded with a placeholder, else flagged glossary_missed")
    p.add_argument("--quiet", action="store_true", help=quiet_help)


def add_memory_option(p: argparse.ArgumentParser,
                      extra: str = "") -> None:
    """``--no-memory``: every command that translates, and the page (whose help adds why it matters there)."""
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help=f"do not use (or fill) the translation memory{extra} (default: sentences translated "
                        "before with the same model and settings come from $TARJAMA_CACHE/memory.sqlite)")


def read_glossary(path: str | None):
    """``--glossary FILE`` read before any model loads: a file that cannot be read is a usage error (exit 2);
    each row that cannot be used is a warning, and the rest applies."""
    if not path:
        return None
    from tarjama.translate.glossary import GlossaryError, load_glossary

    try:
        glossary = load_glossary(path)
    except GlossaryError as err:
        raise CliError(str(err), 2) from None
    for problem in glossary.problems:
        print(f"tarjama: warning: glossary {problem}", file=sys.stderr)
    return glossary


def add_backend_option(p: argparse.ArgumentParser) -> None:
    """``--backend``: also for commands that load models without the other run options (``tarjama eval``)."""
    p.add_argument("--backend", choices=BACKENDS, help="override the backend of models.yaml")
