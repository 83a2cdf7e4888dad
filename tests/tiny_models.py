"""Generate random-weight MarianMT and mT5 models that copy the real checkpoints' files.

    python tests/tiny_models.py OUT_DIR

writes ``OUT_DIR/opus-mt-ar-en``, ``OUT_DIR/opus-mt-ar-es``, ``OUT_DIR/mt5-xlsum`` and
``OUT_DIR/models.yaml`` pointing at them.  The builders live in ``tarjama.generated_models`` (the
demo uses them too); see its docstring for which real files each folder copies and
``tarjama/data/checkpoints/SOURCES.md`` for where each came from.  The weights are random: outputs
are noise, never translations.  ``bench/make_models.py`` builds the same with the real sizes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tarjama.generated_models import (  # noqa: F401  (re-exported for conftest and bench)
    MARIAN_REAL,
    MT5_REAL,
    SPM_SHORT,
    MarianSize,
    MT5Size,
    build_all,
    build_marian,
    build_mt5,
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
    args = parser.parse_args(argv)
    path = build_all(args.out_dir)
    print(f"tiny random-weight models written; use them with TARJAMA_MODELS={path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
