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

``build_copy`` writes the same layout with a Marian pair whose output is its input (see "copy models"
below): the success path of placeholders and Latin tokens that random weights never show.
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
    source_spm = train_spm(corpus_lines("ar", 2500, corpus), size.spm_pieces)
    target_spm = train_spm(corpus_lines(target, 2500, corpus), size.spm_pieces)
    pad = _write_marian_files(out, target, size, source_spm, target_spm)
    torch.manual_seed(seed)
    model = MarianMTModel(MarianConfig.from_pretrained(out)).eval()
    # Real checkpoints carry a trained, non-zero bias over the output vocabulary; pad's entry stays 0.
    bias = torch.randn_like(model.final_logits_bias) * 0.5
    bias[..., pad] = 0.0
    model.final_logits_bias.copy_(bias)
    save_hub_layout(model, out, keep="model.shared.weight")
    return out


def _write_marian_files(out: Path, target: str, size: MarianSize, source_spm: bytes, target_spm: bytes) -> int:
    """Every file of an opus-mt folder but the weights (the real ones, dimensions shrunk); returns pad's id."""
    real = _real_marian(target)
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
    return pad


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
                compute_type: str = "float32", output_vocabulary: str = "",
                note: str = "random-weight generated models: output is noise, not translation") -> str:
    """A models.yaml for the generated folders (relative paths resolve against the file's folder);
    ``output_vocabulary`` in ``defaults:`` when given (else each task's default restriction)."""
    flag = f"demo: true   # {note}\n" if demo else ""
    vocabulary = f", output_vocabulary: {output_vocabulary}" if output_vocabulary else ""
    return f"""{flag}defaults: {{backend: {backend}, device: cpu, compute_type: {compute_type}{vocabulary}}}
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


# -- copy models ---------------------------------------------------------------------------------------------
#
# A Marian pair whose output is its input, for the success paths random weights never reach (placeholders,
# Latin tokens, glossary terms carried through).  One sentencepiece model serves as source.spm and
# target.spm, so copying the input's piece ids decodes back to the input text.  The weights form a copy
# circuit in the real architecture (tied embeddings, sinusoidal positions, post-norm layers, one layer):
#
# - token embeddings are fixed random vectors of norm ``_COPY_NORM`` in the dimensions the cross-attention
#   does not use for positions ("token dimensions"), zero in the others;
# - self-attention and feed-forward outputs are zero (each sublayer reduces to its LayerNorm);
# - the decoder's cross-attention is trained (Adam, seeded) on the model's own LayerNorm-ed position codes so
#   that decoder position p attends encoder position p, for every p < 512, by a logit margin of
#   ``_COPY_MARGIN``; its values carry the token dimensions, times ``_COPY_GAIN``, into the residual,
#   and the tied output layer then scores the attended token highest.  EOS is copied like any token.
#
# Outputs are exact copies for any sequence of known pieces (tests/test_copy_model.py), under Transformers
# and CTranslate2 (int8 included).

COPY_SIZE = MarianSize(d_model=128, layers=1, heads=2, ffn=256, spm_pieces=2000)
_COPY_FREQS = 24        # sinusoid frequencies (sin and cos dims) the cross-attention reads positions from
_COPY_POSITIONS = 512   # positions aligned: max_position_embeddings of the real config
_COPY_NORM = 4.0        # token embedding norm (larger: wider output margins, weaker position signal)
_COPY_GAIN = 8.0        # attended token over the decoder's own input token in the residual
_COPY_MARGIN = 12.0     # cross-attention logit of the right position over the best wrong one
_COPY_LATIN = [
    "IOM", "UNHCR", "WHO", "UNICEF", "COVID-19", "E-Campus", "H1N1", "F-16", "G20", "3.5", "2017", "10,000", "50%",
    "https://iom.int/x", "https://www.un.org/en/about-us", "www.example.org", "info@iom.int", "@handle", "@UN_News",
    "#Tag", "#COVID19", "ZQA", "ZQB", "ZQC", "ZQZ",
]
_COPY_PUNCT = "\u00a0«»“”‘’„–—…·•°±×÷€£¥§©®™‰،؛؟٪٫٬ـ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹"


def copy_spm(corpus: Path | None = None, pieces: int = COPY_SIZE.spm_pieces) -> bytes:
    """The copy pair's one sentencepiece model: Arabic, English and Spanish text, every character of the
    corpus, printable ASCII, common news punctuation and the placeholders ZQA…ZQZ; no normalization and
    no whitespace folding, so decoding gives back the input's text."""
    import string

    every = {lang: corpus_lines(lang, 100_000, corpus) for lang in ("ar", "en", "es")}
    chars = sorted({ch for lines in every.values() for line in lines for ch in line if not ch.isspace()})
    extra = string.ascii_letters + string.digits + string.punctuation + _COPY_PUNCT
    lines = (every["ar"][:1500] + every["en"][:500] + every["es"][:500]
             + [" ".join(_COPY_LATIN), " ".join(f"ZQ{c}" for c in string.ascii_uppercase), extra, " ".join(extra),
                " ".join(chars)])
    return train_spm(lines, pieces, normalization_rule_name="identity", remove_extra_whitespaces=False)


def _copy_split(d_model: int) -> tuple[list[int], list[int]]:
    """(position dims, token dims): sin and cos dims of ``_COPY_FREQS`` frequencies spread down to a period
    longer than ``_COPY_POSITIONS`` (Marian's table: sin in the first half, cos in the second)."""
    import math

    half = d_model // 2
    longest = half * math.log(_COPY_POSITIONS * 1.1 / (2 * math.pi)) / math.log(10000)  # k: period > 1.1 × 512
    ks = sorted({round(longest * i / (_COPY_FREQS - 1)) for i in range(_COPY_FREQS)})
    if len(ks) != _COPY_FREQS or ks[-1] >= half:
        raise ValueError(f"d_model {d_model} is too small for {_COPY_FREQS} position frequencies")
    positions = ks + [half + k for k in ks]
    taken = set(positions)
    return positions, [i for i in range(d_model) if i not in taken]


def copy_weights(model: Any, seed: int = 0, steps: int = 200) -> None:
    """Turn a fresh MarianMTModel into the copy circuit described above (in place, deterministic)."""
    import math

    import torch

    config = model.config
    d, heads = config.d_model, config.decoder_attention_heads
    head_dim = d // heads
    positions, tokens = _copy_split(d)
    per_head = -(-len(tokens) // heads)
    if len(positions) > head_dim or per_head > head_dim:
        raise ValueError(f"d_model {d} with {heads} heads cannot hold the copy circuit")
    gen = torch.Generator().manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is fastest, and the result does not depend on cores
    try:
        with torch.no_grad():
            for name, param in model.named_parameters():  # small random; the sublayer outputs are zeroed below
                if "embed_positions" not in name:  # the sinusoid tables stay
                    param.copy_(torch.randn(param.shape, generator=gen) * 0.02)
            for module in model.modules():
                if isinstance(module, torch.nn.LayerNorm):
                    module.weight.fill_(1.0)
                    module.bias.zero_()
            emb = torch.zeros(config.vocab_size, d)
            vec = torch.randn(config.vocab_size, len(tokens), generator=gen)
            vec -= vec.mean(dim=1, keepdim=True)  # zero mean: LayerNorm's mean then depends on the position only
            emb[:, tokens] = vec / vec.norm(dim=1, keepdim=True) * _COPY_NORM
            model.model.shared.weight.copy_(emb)
            model.final_logits_bias.zero_()
            layers = list(model.model.encoder.layers) + list(model.model.decoder.layers)
            for layer in layers:
                layer.self_attn.out_proj.weight.zero_()
                layer.self_attn.out_proj.bias.zero_()
                layer.fc2.weight.zero_()
                layer.fc2.bias.zero_()
            for layer in model.model.decoder.layers[1:]:
                layer.encoder_attn.out_proj.weight.zero_()
                layer.encoder_attn.out_proj.bias.zero_()
            # What the cross-attention sees: LayerNorm(sqrt(d) * token + position), on the position dims.
            table = model.model.encoder.embed_positions.weight[:_COPY_POSITIONS].clone()
            scale = math.sqrt(d) if config.scale_embedding else 1.0

            def codes() -> Any:
                toks = torch.randint(0, config.vocab_size, (_COPY_POSITIONS,), generator=gen)
                return torch.nn.functional.layer_norm(scale * emb[toks] + table, (d,))[:, positions]

            queries, keys = codes(), codes()
        # Train the alignment: query p must pick key p among all _COPY_POSITIONS keys.
        n = len(positions)
        wq = torch.nn.Parameter(torch.eye(n) * 3.0)
        wk = torch.nn.Parameter(torch.eye(n) * 3.0)
        bq = torch.nn.Parameter(torch.zeros(n))
        opt = torch.optim.Adam([wq, wk, bq], lr=0.05)
        target = torch.arange(_COPY_POSITIONS)

        def scores() -> Any:
            return (queries @ wq.T + bq) @ (keys @ wk.T).T / math.sqrt(head_dim)

        for _ in range(steps):
            loss = torch.nn.functional.cross_entropy(scores(), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            s = scores()
            right = s.diagonal().clone()
            s.fill_diagonal_(float("-inf"))
            margin = float((right - s.max(dim=1).values).min())
            if margin <= 0:
                raise RuntimeError(f"copy alignment did not train (margin {margin:.2f})")
            k = _COPY_MARGIN / margin  # scores are bilinear: scale the query side to the wanted margin
            attn = model.model.decoder.layers[0].encoder_attn
            for proj in (attn.q_proj, attn.k_proj, attn.v_proj, attn.out_proj):
                proj.weight.zero_()
                proj.bias.zero_()
            for h in range(heads):
                rows = slice(h * head_dim, h * head_dim + n)
                attn.q_proj.weight[rows, positions] = wq * k
                attn.q_proj.bias[rows] = bq * k
                attn.k_proj.weight[rows, positions] = wk
                for j, dim in enumerate(tokens[h * per_head:(h + 1) * per_head]):
                    attn.v_proj.weight[h * head_dim + j, dim] = _COPY_GAIN
                    attn.out_proj.weight[dim, h * head_dim + j] = 1.0
    finally:
        torch.set_num_threads(threads)


def build_copy_marian(out: Path, target: str, size: MarianSize = COPY_SIZE, seed: int = 0,
                      corpus: Path | None = None, spm_model: bytes | None = None) -> Path:
    """Write a Marian ar→``target`` model that copies its input, in the opus-mt layout (real small files,
    dimensions shrunk); ``spm_model``: copy_spm's model when the caller has it (one for both pairs)."""
    import torch
    from transformers import MarianConfig, MarianMTModel

    out.mkdir(parents=True, exist_ok=True)
    spm_model = spm_model if spm_model is not None else copy_spm(corpus, size.spm_pieces)
    _write_marian_files(out, target, size, spm_model, spm_model)
    torch.manual_seed(seed)
    model = MarianMTModel(MarianConfig.from_pretrained(out)).eval()
    copy_weights(model, seed=seed)
    save_hub_layout(model, out, keep="model.shared.weight")
    return out


def build_copy(root: Path, *, targets: Iterable[str] = ("en", "es"), mt5: MT5Size = MT5Size(),
               corpus: Path | None = None, max_new_tokens: int = 256, **yaml: Any) -> Path:
    """Copy models for every target, a tiny random mT5 (summaries stay noise) and ``root/models.yaml``
    (``yaml``: models_yaml's options; compute_type ``auto`` runs CTranslate2 in int8 on CPU)."""
    root.mkdir(parents=True, exist_ok=True)
    spm_model = copy_spm(corpus)
    for i, target in enumerate(targets):
        build_copy_marian(root / f"opus-mt-ar-{target}", target, seed=i, corpus=corpus, spm_model=spm_model)
    build_mt5(root / "mt5-xlsum", mt5, corpus=corpus)
    # output_vocabulary all: a copy of Arabic input is Arabic, which the translation default (latin) forbids.
    options = {"compute_type": "auto", "output_vocabulary": "all",
               "note": "generated models: translation copies its input (trained copy circuit), summaries are noise",
               **yaml}
    path = root / "models.yaml"
    path.write_text(models_yaml(root, max_new_tokens=max_new_tokens, **options), encoding="utf-8")
    return path
