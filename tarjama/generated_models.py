"""Random-weight MarianMT and mT5 models that copy the real checkpoints' files, for tests and the demo.

Each folder holds what the pinned hub revision holds, with the real small files copied from
``tarjama/data/checkpoints`` (config.json, generation_config.json, tokenizer_config.json,
special_tokens_map.json: see SOURCES.md there) and only the dimensions shrunk:

- opus-mt-ar-en / opus-mt-ar-es: config.json, generation_config.json (ar-es: ``renormalize_logits:
  true``), the minimal tokenizer_config.json, no special_tokens_map.json, source.spm, target.spm,
  vocab.json, model.safetensors with a random non-zero ``final_logits_bias`` (pad entry 0);
- mt5-xlsum: config.json holding the generation settings and ``tokenizer_class``, no
  generation_config.json, special_tokens_map.json, tokenizer_config.json, a spiece.model 12 pieces
  short of ``vocab_size`` (as the real 250,100 vs 250,112) and an lm_head of its own.

Weights are saved in the key layout of the hub's safetensors conversion: one name per group of
tensors sharing storage (``model.shared.weight`` / ``shared.weight``), the sinusoidal position tables
stored.  Tokenizers are trained on a little Arabic, English and Spanish text.  Outputs are noise,
never translations: tests check invariants only, and the demo labels its output DEMO.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tarjama.paths import DATA, SEED_ARTICLE, corpus_dir

CHECKPOINTS = DATA / "checkpoints"
SPM_SHORT = 12  # mT5-XLSum's spiece.model has 250,100 pieces for vocab_size 250,112

_CORPUS_FILES = {
    "ar": ["mt/flores200.dev.arb_Arab", "mt/ntrex128.shared.arb", "seed_article.ar.txt"],
    "en": ["mt/flores200.dev.eng_Latn", "mt/ntrex128.shared.eng"],
    "es": ["mt/flores200.dev.spa_Latn", "mt/ntrex128.shared.spa"],
}
# Without the team's corpus (a user's machine): the article and sentences shipped with the package.
_FALLBACK = {
    "ar": [SEED_ARTICLE, DATA / "smoke" / "flores200.dev.ar"],
    "en": [DATA / "smoke" / "flores200.dev.en"],
    "es": [DATA / "smoke" / "flores200.dev.es"],
}
_FALLBACK_LINES = {
    "en": ["The conference called for the economic empowerment of migrant women in the region.",
           "Officials said on Monday that 3.5 million people were affected by the floods."],
    "es": ["La conferencia pidió el empoderamiento económico de las mujeres migrantes.",
           "Los funcionarios dijeron el lunes que 3,5 millones de personas se vieron afectadas."],
}


@dataclass(frozen=True)
class MarianSize:
    """Architecture knobs; defaults are tiny, ``MARIAN_REAL`` matches Helsinki-NLP/opus-mt-ar-en."""

    d_model: int = 32
    layers: int = 2
    heads: int = 2
    ffn: int = 64
    spm_pieces: int = 400
    vocab_size: int | None = None  # None: exactly the pieces the two spm models give


@dataclass(frozen=True)
class MT5Size:
    """Architecture knobs; defaults are tiny, ``MT5_REAL`` matches csebuetnlp/mT5_multilingual_XLSum."""

    d_model: int = 32
    d_ff: int = 64
    layers: int = 2
    heads: int = 2
    d_kv: int = 16
    spm_pieces: int = 600
    vocab_size: int = 640


MARIAN_REAL = MarianSize(d_model=512, layers=6, heads=8, ffn=2048, spm_pieces=8000, vocab_size=62834)
MT5_REAL = MT5Size(d_model=768, d_ff=2048, layers=12, heads=12, d_kv=64, spm_pieces=8000, vocab_size=250112)


def corpus_lines(lang: str, limit: int, corpus: Path | None = None) -> list[str]:
    """Up to ``limit`` non-empty lines of ``lang`` text from the corpus, else from the package's files."""
    corpus = corpus if corpus is not None else corpus_dir()
    if corpus is not None and corpus.is_dir():
        sources: list[Path | str] = [corpus / f for f in _CORPUS_FILES[lang]]
    else:
        sources = [p for p in _FALLBACK[lang] if p.is_file()] + _FALLBACK_LINES.get(lang, [])
    lines: list[str] = []
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


def real_file(model: str, name: str) -> str:
    """The real checkpoint's file ``name`` (tarjama/data/checkpoints/<model>/), as text."""
    return (CHECKPOINTS / model / name).read_text(encoding="utf-8")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """JSON as the hub's files are written (2-space indent, trailing newline)."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def save_hub_layout(model: Any, out: Path, keep: str) -> None:
    """Write ``model.safetensors`` as the hub's conversion bot does: one name per group of tensors that
    share storage (``keep`` for the tied embedding group), every other tensor under its own name."""
    from safetensors.torch import save_file

    state = model.state_dict()
    groups: dict[tuple[int, int], list[str]] = {}
    for name, tensor in state.items():
        groups.setdefault((tensor.untyped_storage().data_ptr(), tensor.storage_offset()), []).append(name)
    tensors = {}
    for names in groups.values():
        name = keep if keep in names else sorted(names)[0]
        tensors[name] = state[name].detach().clone().contiguous()
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})


def _real_marian(target: str) -> str:
    """Which real repo's files a generated ar→``target`` model copies (ar-en's for targets without their own)."""
    return f"opus-mt-ar-{target}" if (CHECKPOINTS / f"opus-mt-ar-{target}").is_dir() else "opus-mt-ar-en"


def build_marian(out: Path, target: str, size: MarianSize = MarianSize(), seed: int = 0,
                 corpus: Path | None = None) -> Path:
    """Write a random Marian model ar→``target`` in the opus-mt layout, real small files included."""
    import torch
    from transformers import MarianConfig, MarianMTModel

    out.mkdir(parents=True, exist_ok=True)
    real = _real_marian(target)
    source_spm = train_spm(corpus_lines("ar", 2500, corpus), size.spm_pieces)
    target_spm = train_spm(corpus_lines(target, 2500, corpus), size.spm_pieces)
    vocab = marian_vocab(source_spm, target_spm, size.vocab_size)
    (out / "source.spm").write_bytes(source_spm)
    (out / "target.spm").write_bytes(target_spm)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")
    pad = len(vocab) - 1
    config = json.loads(real_file(real, "config.json"))
    config.update(
        d_model=size.d_model, encoder_layers=size.layers, decoder_layers=size.layers, num_hidden_layers=size.layers,
        encoder_attention_heads=size.heads, decoder_attention_heads=size.heads, encoder_ffn_dim=size.ffn,
        decoder_ffn_dim=size.ffn, vocab_size=len(vocab), decoder_vocab_size=len(vocab),
        extra_pos_embeddings=len(vocab), pad_token_id=pad, decoder_start_token_id=pad, bad_words_ids=[[pad]],
    )
    _write_json(out / "config.json", config)
    generation = json.loads(real_file(real, "generation_config.json"))
    generation.update(bad_words_ids=[[pad]], decoder_start_token_id=pad, pad_token_id=pad)
    _write_json(out / "generation_config.json", generation)
    tokenizer_config = real_file(real, "tokenizer_config.json")
    if real != f"opus-mt-ar-{target}":
        tokenizer_config = tokenizer_config.replace('"en"', json.dumps(target))
    (out / "tokenizer_config.json").write_text(tokenizer_config, encoding="utf-8")
    torch.manual_seed(seed)
    model = MarianMTModel(MarianConfig.from_pretrained(out)).eval()
    # Real checkpoints carry a trained, non-zero bias over the output vocabulary; pad's entry stays 0.
    bias = torch.randn_like(model.final_logits_bias) * 0.5
    bias[..., pad] = 0.0
    model.final_logits_bias.copy_(bias)
    save_hub_layout(model, out, keep="model.shared.weight")
    return out


def build_mt5(out: Path, size: MT5Size = MT5Size(), seed: int = 0, corpus: Path | None = None) -> Path:
    """Write a random mT5 model in the csebuetnlp/mT5_multilingual_XLSum layout (its own lm_head)."""
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration

    out.mkdir(parents=True, exist_ok=True)
    lines = corpus_lines("ar", 2000, corpus) + corpus_lines("en", 600, corpus) + corpus_lines("es", 600, corpus)
    spm_model = train_spm(lines, size.spm_pieces, pad_id=0, eos_id=1, unk_id=2, bos_id=-1)
    (out / "spiece.model").write_bytes(grow_spm(spm_model, size.vocab_size - SPM_SHORT))
    config = json.loads(real_file("mt5-xlsum", "config.json"))
    config.update(d_model=size.d_model, d_ff=size.d_ff, d_kv=size.d_kv, num_layers=size.layers,
                  num_decoder_layers=size.layers, num_heads=size.heads, vocab_size=size.vocab_size)
    _write_json(out / "config.json", config)
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        (out / name).write_text(real_file("mt5-xlsum", name), encoding="utf-8")
    torch.manual_seed(seed)
    model = MT5ForConditionalGeneration(MT5Config.from_pretrained(out)).eval()
    # The XLSum checkpoint has its own lm_head.  transformers 5 ties it to the input embeddings on build,
    # and unties on load only when the two stored tensors differ, so the head gets weights of its own.
    head = torch.empty_like(model.shared.weight)
    torch.nn.init.normal_(head, std=size.d_model**-0.5)
    model.lm_head.weight = torch.nn.Parameter(head)
    save_hub_layout(model, out, keep="shared.weight")
    return out


def models_yaml(root: Path, *, demo: bool = True, max_new_tokens: int = 40, backend: str = "transformers",
                compute_type: str = "float32") -> str:
    """A models.yaml for the generated folders (relative paths resolve against the file's folder)."""
    flag = "demo: true   # random-weight generated models: output is noise, not translation\n" if demo else ""
    return f"""{flag}defaults: {{backend: {backend}, device: cpu, compute_type: {compute_type}}}
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
              targets: Iterable[str] = ("en", "es"), corpus: Path | None = None, **yaml: Any) -> Path:
    """Build every model under ``root`` and write ``root/models.yaml`` (``yaml``: models_yaml's options)."""
    root.mkdir(parents=True, exist_ok=True)
    for i, target in enumerate(targets):
        build_marian(root / f"opus-mt-ar-{target}", target, marian, seed=i, corpus=corpus)
    build_mt5(root / "mt5-xlsum", mt5, corpus=corpus)
    path = root / "models.yaml"
    path.write_text(models_yaml(root, **yaml), encoding="utf-8")
    return path
