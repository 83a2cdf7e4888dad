"""Build random-weight models with the real architectures, for speed measurements (bench/run.py).

    python bench/make_models.py DIR        # ~2–4 min, ~4 GB of RAM at the peak (mT5-base)

writes ``DIR/opus-mt-ar-en`` and ``DIR/opus-mt-ar-es`` (Marian with the Helsinki-NLP/opus-mt-ar-en
config: vocab 62834, d_model 512, 6+6 layers, 8 heads, FFN 2048, swish, sinusoidal positions),
``DIR/mt5-xlsum`` (mT5-base as csebuetnlp/mT5_multilingual_XLSum: d_model 768, d_ff 2048, 12+12
layers, 12 heads, gated-gelu, vocab 250112, untied lm_head) and ``DIR/models.yaml`` naming them
with the real models' generation settings.  Tokenizers are sentencepiece models trained on the
shared corpus (``../shared/corpus``), so Arabic splits into realistic pieces; the mT5 one is grown
to 250112 pieces with NORMAL fillers (FIELD-NOTES: USER_DEFINED ones make conversion crawl), named
like Arabic words so that a random summary is Arabic-like text of a realistic length to translate.

The builders are tests/tiny_models.py's, with its MARIAN_REAL and MT5_REAL sizes.  The weights are
random: the models say nothing about quality, and they stop at arbitrary lengths (run.py forces
realistic output lengths).  Keep DIR outside the repository (e.g. /tmp/bench-models or .models/).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import tiny_models  # noqa: E402

MODELS_YAML = """# Random-weight models with the real architectures (bench/make_models.py): for speed only.
demo: true
defaults: {{backend: auto, device: cpu, compute_type: auto, threads: {threads}}}
translation:
  ar-en:
    model: opus-mt-ar-en
    revision: bench
    license: Apache-2.0 (random-weight bench model)
    max_input_tokens: 512
    max_sentence_tokens: 200
    generate: {{num_beams: 4, max_new_tokens: 256}}
  ar-es:
    model: opus-mt-ar-es
    revision: bench
    license: Apache-2.0 (random-weight bench model)
    max_input_tokens: 512
    max_sentence_tokens: 200
    generate: {{num_beams: 4, max_new_tokens: 256}}
summarization:
  ar:
    model: mt5-xlsum
    revision: bench
    license: CC-BY-NC-SA-4.0 (random-weight bench model)
    max_input_tokens: 512
    generate: {{num_beams: 4, max_new_tokens: 84, no_repeat_ngram_size: 2, length_penalty: 0.6}}
"""


def build(root: Path, threads: int = 2) -> Path:
    """Build the three models under ``root`` (skipping those already there) and write models.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    for target, seed in (("en", 0), ("es", 1)):
        folder = root / f"opus-mt-ar-{target}"
        if not (folder / "model.safetensors").is_file():
            _timed(f"Marian ar-{target}", tiny_models.build_marian, folder, target, tiny_models.MARIAN_REAL, seed)
    folder = root / "mt5-xlsum"
    if not (folder / "model.safetensors").is_file():
        _timed("mT5-base", tiny_models.build_mt5, folder, tiny_models.MT5_REAL)
        spiece = folder / "spiece.model"
        spiece.write_bytes(arabic_fillers(spiece.read_bytes(), (root / "opus-mt-ar-en" / "source.spm").read_bytes()))
    path = root / "models.yaml"
    path.write_text(MODELS_YAML.format(threads=threads), encoding="utf-8")
    return path


_ARABIC = re.compile(r"^[\u0621-\u064A]+$")


def arabic_fillers(model: bytes, marian_source_spm: bytes) -> bytes:
    """Rename grow_spm's filler pieces (``▁x123``) to Arabic word-like pieces.

    A random mT5 draws ~97 % of its output from the fillers.  As ``x123`` runs, an 84-token summary
    tokenizes into ~480 Marian tokens to translate, against ~100 for a real Arabic summary of 84 mT5
    tokens.  Each filler becomes a word-start piece joined to a continuation piece of the Marian
    source vocabulary, so a random summary costs ~170 Marian tokens, like real text.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    marian = spm.SentencePieceProcessor(model_proto=marian_source_spm)
    pieces = [marian.id_to_piece(i) for i in range(marian.get_piece_size())]
    starts = [p for p in pieces if p.startswith("▁") and len(p) >= 3 and _ARABIC.match(p[1:])]
    rests = [p for p in pieces if len(p) >= 2 and _ARABIC.match(p)]
    proto = pb.ModelProto()
    proto.ParseFromString(model)
    have = {p.piece for p in proto.pieces}
    n = 0
    for piece in proto.pieces:
        if piece.piece.startswith("▁x") and piece.piece[2:].isdigit():
            while True:
                word = starts[n % len(starts)] + rests[(n // len(starts)) % len(rests)]
                n += 1
                if word not in have:
                    break
            piece.piece = word
            have.add(word)
    return proto.SerializeToString()


def _timed(what: str, fn, *args) -> None:
    started = time.perf_counter()
    print(f"building {what} ...", file=sys.stderr, flush=True)
    fn(*args)
    print(f"built {what} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path, help="where to write the models (outside the repository)")
    parser.add_argument("--threads", type=int, default=2, help="threads: in the models.yaml written (default 2)")
    args = parser.parse_args(argv)
    build(args.out_dir, args.threads)
    print(f"bench models written; run: python bench/run.py --models {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
