"""Generate random-weight MarianMT and mT5 models in the exact file layouts of the real ones.

    python tests/tiny_models.py OUT_DIR

writes ``OUT_DIR/opus-mt-ar-en``, ``OUT_DIR/opus-mt-ar-es``, ``OUT_DIR/mt5-xlsum`` and
``OUT_DIR/models.yaml`` pointing at them.  Each folder holds what the Hub repo holds:
``config.json``, ``model.safetensors``, ``generation_config.json`` and the sentencepiece
files (Marian: ``source.spm``, ``target.spm``, ``vocab.json``, ``tokenizer_config.json``;
mT5: ``spiece.model``, ``special_tokens_map.json``, ``tokenizer_config.json``).  The
tokenizers are trained on a little of the shared corpus, so real Arabic tokenizes the way
a sentencepiece model does.  The weights are random: outputs are noise, never translations.

``bench/make_models.py`` reuses these builders with the real architectures' sizes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TARJAMA_CORPUS") or REPO.parent / "shared" / "corpus")

# A few lines for when ../shared/corpus is absent (a user's machine): enough to train tiny tokenizers.
_FALLBACK = {
    "ar": [REPO / "examples" / "seed_article.ar.txt"],
    "en": ["The conference called for the economic empowerment of migrant women in the region.",
           "Officials said on Monday that 3.5 million people were affected by the floods."],
    "es": ["La conferencia pidió el empoderamiento económico de las mujeres migrantes.",
           "Los funcionarios dijeron el lunes que 3,5 millones de personas se vieron afectadas."],
}
_CORPUS_FILES = {
    "ar": ["mt/flores200.dev.arb_Arab", "mt/ntrex128.shared.arb", "seed_article.ar.txt"],
    "en": ["mt/flores200.dev.eng_Latn", "mt/ntrex128.shared.eng"],
    "es": ["mt/flores200.dev.spa_Latn", "mt/ntrex128.shared.spa"],
}


@dataclass(frozen=True)
class MarianSize:
    """Architecture knobs; defaults are tiny, ``REAL`` matches Helsinki-NLP/opus-mt-ar-en."""

    d_model: int = 32
    layers: int = 2
    heads: int = 2
    ffn: int = 64
    spm_pieces: int = 400
    vocab_size: int | None = None  # None: exactly the pieces the two spm models give


@dataclass(frozen=True)
class MT5Size:
    """Architecture knobs; defaults are tiny, ``REAL`` matches csebuetnlp/mT5_multilingual_XLSum."""

    d_model: int = 32
    d_ff: int = 64
    layers: int = 2
    heads: int = 2
    d_kv: int = 16
    spm_pieces: int = 600
    vocab_size: int = 640


MARIAN_REAL = MarianSize(d_model=512, layers=6, heads=8, ffn=2048, spm_pieces=8000, vocab_size=62834)
MT5_REAL = MT5Size(d_model=768, d_ff=2048, layers=12, heads=12, d_kv=64, spm_pieces=8000, vocab_size=250112)


def corpus_lines(lang: str, limit: int) -> list[str]:
    """Up to ``limit`` non-empty lines of ``lang`` text from the shared corpus (or the fallback)."""
    lines: list[str] = []
    sources = [CORPUS / f for f in _CORPUS_FILES[lang]] if CORPUS.is_dir() else _FALLBACK[lang]
    for src in sources:
        text = src.read_text(encoding="utf-8") if isinstance(src, Path) else src
        lines += [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[:limit]


def train_spm(lines: Sequence[str], pieces: int, **ids: int) -> bytes:
    """Train a unigram sentencepiece model in memory; ``ids`` sets pad_id/eos_id/... as the real models do."""
    import sentencepiece as spm

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=out, vocab_size=pieces, model_type="unigram",
        character_coverage=1.0, hard_vocab_limit=False, num_threads=2, minloglevel=2, **ids,
    )
    return out.getvalue()


def grow_spm(model: bytes, size: int) -> bytes:
    """Append NORMAL filler pieces until the spm has ``size`` pieces (ids beyond the spm decode to '')."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()
    proto.ParseFromString(model)
    have = {p.piece for p in proto.pieces}
    low = min(p.score for p in proto.pieces) - 1.0
    i = 0
    while len(proto.pieces) < size:
        name = f"▁x{i}"
        i += 1
        if name not in have:
            proto.pieces.add(piece=name, score=low, type=pb.ModelProto.SentencePiece.NORMAL)
    return proto.SerializeToString()


def _spm_pieces(model: bytes) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_proto=model)
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def marian_vocab(source: bytes, target: bytes, size: int | None) -> dict[str, int]:
    """Marian's shared vocab.json: </s>=0, <unk>=1, pieces of both spm models, fillers, <pad> last."""
    words = ["</s>", "<unk>"]
    seen = set(words) | {"<s>"}
    for piece in _spm_pieces(source) + _spm_pieces(target):
        if piece not in seen:
            seen.add(piece)
            words.append(piece)
    size = size or len(words) + 1
    if len(words) + 1 > size:
        raise ValueError(f"{len(words) + 1} pieces do not fit a vocabulary of {size}")
    words += [f"<fill{i}>" for i in range(size - 1 - len(words))]
    words.append("<pad>")
    return {w: i for i, w in enumerate(words)}


def build_marian(out: Path, target: str, size: MarianSize = MarianSize(), seed: int = 0) -> Path:
    """Write a random Marian model ar→``target`` in the opus-mt layout."""
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out.mkdir(parents=True, exist_ok=True)
    lines_ar, lines_tgt = corpus_lines("ar", 2500), corpus_lines(target, 2500)
    source_spm = train_spm(lines_ar, size.spm_pieces)
    target_spm = train_spm(lines_tgt, size.spm_pieces)
    vocab = marian_vocab(source_spm, target_spm, size.vocab_size)
    (out / "source.spm").write_bytes(source_spm)
    (out / "target.spm").write_bytes(target_spm)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")
    pad = len(vocab) - 1
    config = MarianConfig(
        vocab_size=len(vocab), d_model=size.d_model, encoder_layers=size.layers, decoder_layers=size.layers,
        encoder_attention_heads=size.heads, decoder_attention_heads=size.heads,
        encoder_ffn_dim=size.ffn, decoder_ffn_dim=size.ffn, activation_function="swish",
        max_position_embeddings=512, scale_embedding=True, static_position_embeddings=True,
        pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad, forced_eos_token_id=0,
        share_encoder_decoder_embeddings=True, tie_word_embeddings=True, normalize_embedding=False,
        architectures=["MarianMTModel"],
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    gen = model.generation_config
    gen.update(bad_words_ids=[[pad]], bos_token_id=0, decoder_start_token_id=pad, eos_token_id=0,
               forced_eos_token_id=0, max_length=512, num_beams=4, pad_token_id=pad)
    model.save_pretrained(out, safe_serialization=True)
    tok = MarianTokenizer(str(out / "source.spm"), str(out / "target.spm"), str(out / "vocab.json"),
                          source_lang="ar", target_lang=target, model_max_length=512)
    tok.save_pretrained(out)
    return out


def build_mt5(out: Path, size: MT5Size = MT5Size(), seed: int = 0) -> Path:
    """Write a random mT5 model in the csebuetnlp/mT5_multilingual_XLSum layout (untied lm_head)."""
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration

    out.mkdir(parents=True, exist_ok=True)
    lines = corpus_lines("ar", 2000) + corpus_lines("en", 600) + corpus_lines("es", 600)
    spm_model = train_spm(lines, size.spm_pieces, pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    (out / "spiece.model").write_bytes(grow_spm(spm_model, size.vocab_size))
    config = MT5Config(
        vocab_size=size.vocab_size, d_model=size.d_model, d_ff=size.d_ff, d_kv=size.d_kv,
        num_layers=size.layers, num_decoder_layers=size.layers, num_heads=size.heads,
        feed_forward_proj="gated-gelu", decoder_start_token_id=0,
        pad_token_id=0, eos_token_id=1, architectures=["MT5ForConditionalGeneration"],
    )
    torch.manual_seed(seed)
    model = MT5ForConditionalGeneration(config).eval()
    # The XLSum checkpoint has its own lm_head.  transformers 5 forces tie_word_embeddings=True in MT5Config
    # and unties on load only when the two tensors differ, so the head gets weights of its own.
    head = torch.empty_like(model.shared.weight)
    torch.nn.init.normal_(head, std=size.d_model**-0.5)
    model.lm_head.weight = torch.nn.Parameter(head)
    model.generation_config.update(decoder_start_token_id=0, eos_token_id=1, pad_token_id=0)
    model.save_pretrained(out, safe_serialization=True)
    specials = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    (out / "special_tokens_map.json").write_text(json.dumps(specials, indent=1))
    (out / "tokenizer_config.json").write_text(json.dumps(
        {**specials, "extra_ids": 0, "additional_special_tokens": [], "model_max_length": 512,
         "tokenizer_class": "T5Tokenizer"}, indent=1))
    return out


def models_yaml(root: Path, *, demo: bool = True, max_new_tokens: int = 40) -> str:
    """A models.yaml for the generated folders (relative paths resolve against the file's folder)."""
    flag = "demo: true   # random-weight generated models: output is noise, not translation\n" if demo else ""
    return f"""{flag}defaults: {{backend: transformers, device: cpu, compute_type: float32}}
translation:
  ar-en:
    model: opus-mt-ar-en
    revision: generated
    license: Apache-2.0 (generated test model)
    max_input_tokens: 512
    max_sentence_tokens: 120
    generate: {{num_beams: 2, max_new_tokens: {max_new_tokens}}}
  ar-es:
    model: opus-mt-ar-es
    revision: generated
    license: Apache-2.0 (generated test model)
    max_input_tokens: 512
    max_sentence_tokens: 120
    generate: {{num_beams: 2, max_new_tokens: {max_new_tokens}}}
summarization:
  ar:
    model: mt5-xlsum
    revision: generated
    license: CC-BY-NC-SA-4.0 (generated test model)
    max_input_tokens: 512
    generate: {{num_beams: 2, max_new_tokens: 24, no_repeat_ngram_size: 2, length_penalty: 0.6}}
"""


def build_all(root: Path, *, marian: MarianSize = MarianSize(), mt5: MT5Size = MT5Size(),
              targets: Iterable[str] = ("en", "es")) -> Path:
    """Build every model under ``root`` and write ``root/models.yaml``; returns that file."""
    root.mkdir(parents=True, exist_ok=True)
    for i, target in enumerate(targets):
        build_marian(root / f"opus-mt-ar-{target}", target, marian, seed=i)
    build_mt5(root / "mt5-xlsum", mt5)
    path = root / "models.yaml"
    path.write_text(models_yaml(root), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    path = build_all(args.out_dir)
    print(f"tiny random-weight models written; use them with TARJAMA_MODELS={path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    random.seed(0)
    raise SystemExit(main())
