"""Generate random-weight MarianMT and mT5 models that copy the real checkpoints' files.

    python tests/tiny_models.py OUT_DIR [--no-copy]

writes ``OUT_DIR/opus-mt-ar-en``, ``OUT_DIR/opus-mt-ar-es``, ``OUT_DIR/mt5-xlsum`` and
``OUT_DIR/models.yaml`` pointing at them.  The builders live in ``tarjama.generated_models`` (the
demo uses them too); see its docstring for which real files each folder copies and
``tarjama/data/checkpoints/SOURCES.md`` for where each came from.  The weights are random: outputs
are noise, never translations.  ``bench/make_models.py`` builds the same with the real sizes.

It also writes ``OUT_DIR/copy/``: the same layout, with a small Marian pair whose output is its input
(a copy circuit whose alignment is trained on CPU in the generator, seconds), a random mT5 and its own
``OUT_DIR/copy/models.yaml``, for the paths random weights never reach: placeholders and Latin tokens
carried through verbatim.  ``--no-copy`` skips it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tarjama.generated_models import (  # noqa: F401  (re-exported for conftest and bench)
    COPY_SIZE,
    MARIAN_REAL,
    MT5_REAL,
    SPM_SHORT,
    MarianSize,
    MT5Size,
    build_all,
    build_copy,
    build_copy_marian,
    build_marian,
    build_mt5,
    copy_spm,
    corpus_lines,
    grow_spm,
    marian_vocab,
    models_yaml,
    train_spm,
)
from tarjama.paths import corpus_path

REPO = Path(__file__).resolve().parents[1]
CORPUS = corpus_path()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--no-copy", action="store_true", help="do not write OUT_DIR/copy/ (the copy models)")
    args = parser.parse_args(argv)
    path = build_all(args.out_dir)
    print(f"tiny random-weight models written; use them with TARJAMA_MODELS={path}", file=sys.stderr)
    if not args.no_copy:
        copy = build_copy(args.out_dir / "copy")
        print(f"copy models (translation = input) written; use them with TARJAMA_MODELS={copy}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
