"""The copy models (tiny_models.build_copy): a Marian pair in the real layout whose translation is its input.

They exist for the success paths random weights never reach: placeholders (ZQA…) and Latin-script tokens
carried through verbatim.  Checked here through the real loading code, on both backends.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from tarjama.translate.engine import CTranslate2Engine, GenerationOptions, TransformersEngine

from tarjama.generated_models import CHECKPOINTS, COPY_SIZE, build_copy_marian, copy_spm, corpus_lines

MARIAN_FILES = {"config.json", "generation_config.json", "model.safetensors", "source.spm", "target.spm",
                "vocab.json", "tokenizer_config.json"}  # as build_marian writes them (tests/test_engine.py)
MT5_FILES = {"config.json", "model.safetensors", "spiece.model", "special_tokens_map.json", "tokenizer_config.json"}
# Keys a generated config may change (tests/test_generated_models.py): the dimensions and what follows from them.
MARIAN_DIMS = {"d_model", "encoder_layers", "decoder_layers", "num_hidden_layers", "encoder_attention_heads",
               "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim", "vocab_size", "decoder_vocab_size",
               "extra_pos_embeddings", "pad_token_id", "decoder_start_token_id", "bad_words_ids"}

LATIN = [
    "قالت المنظمة الدولية للهجرة IOM إن البرنامج بدأ في 2017.",
    "ارتفعت الإصابات بفيروس COVID-19 بنسبة 3.5 في المئة.",
    "أطلقت المنظمة منصة E-Campus للتعلم عن بعد.",
    "للمزيد من المعلومات: https://iom.int/x",
    "نشر الحساب @handle تغريدة بوسم #Tag أمس.",
    "وقالت المفوضية UNHCR إن 10,000 شخص نزحوا.",
]
PLACEHOLDERS = [
    "أعلنت ZQA عن برنامج جديد.",
    "التقى ZQA مع ZQB في القاهرة.",
    "ZQC",
    "وقّعت ZQA و ZQB و ZQZ الاتفاق ZQA.",
    " ".join(f"ZQ{c}" for c in string.ascii_uppercase),
]


def arabic_sentences() -> list[str]:
    """Ten corpus sentences (or the package's fallback ones), short enough not to be split."""
    lines = [s for s in corpus_lines("ar", 600) if len(s) < 150]
    return lines[:: max(1, len(lines) // 10)][:10]


def table() -> list[str]:
    return arabic_sentences() + LATIN + PLACEHOLDERS


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_copy_folders_have_the_real_layout(copy_models: Path) -> None:
    root = copy_models.parent
    for target in ("en", "es"):
        folder = root / f"opus-mt-ar-{target}"
        assert {p.name for p in folder.iterdir()} == MARIAN_FILES
        made, truth = _json(folder / "config.json"), _json(CHECKPOINTS / f"opus-mt-ar-{target}" / "config.json")
        assert list(made) == list(truth)
        assert {k for k in truth if made[k] != truth[k]} <= MARIAN_DIMS
        assert (folder / "tokenizer_config.json").read_bytes() == \
            (CHECKPOINTS / f"opus-mt-ar-{target}" / "tokenizer_config.json").read_bytes()
        # One sentencepiece model on both sides: copying piece ids decodes back to the input.
        assert (folder / "source.spm").read_bytes() == (folder / "target.spm").read_bytes()
        assert made["d_model"] == COPY_SIZE.d_model and made["max_position_embeddings"] == 512
    assert {p.name for p in (root / "mt5-xlsum").iterdir()} == MT5_FILES
    text = copy_models.read_text(encoding="utf-8")
    assert "demo: true" in text and "compute_type: auto" in text


def test_tokenizer_round_trips_the_table(copy_models: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(copy_models.parent / "opus-mt-ar-en"))
    for text in table():
        ids = tok(text)["input_ids"]
        assert tok.unk_token_id not in ids, text
        assert tok.decode(ids, skip_special_tokens=True) == text


@pytest.mark.parametrize("backend,compute_type", [("transformers", "float32"), ("ctranslate2", "int8")])
@pytest.mark.parametrize("target", ["en", "es"])
def test_pipeline_translation_is_the_input(copy_models: Path, backend: str, compute_type: str, target: str) -> None:
    from tarjama.pipeline import Pipeline

    translator = Pipeline.from_config(copy_models, memory=False, backend=backend).translator(target)
    assert (translator.engine.name, translator.engine.compute_type) == (backend, compute_type)  # int8: CPU default
    sentences = table()
    out = translator.translate(sentences)
    assert [t.text for t in out] == [translator.model_input(s) for s in sentences]
    assert all(t.score is not None and t.score > -0.05 for t in out)  # confident: mean log-prob near 0


def test_engines_copy_token_for_token_and_stop(copy_models: Path) -> None:
    """Both engines directly (CTranslate2 in int8 and float32): the output ids are the input's, EOS included."""
    from tarjama.engines import convert
    from tarjama.registry import Registry

    folder = copy_models.parent / "opus-mt-ar-en"
    spec = Registry.load(copy_models).translation_spec("en")
    engines = [TransformersEngine(folder, device="cpu", threads=1)]
    engines += [CTranslate2Engine(convert(spec, ct, quiet=True), folder, device="cpu", compute_type=ct, threads=1)
                for ct in ("int8", "float32")]
    sentences = LATIN + PLACEHOLDERS
    ids = engines[0].tokenizer(sentences)["input_ids"]
    for engine in engines:
        hyps = engine.generate(sentences, GenerationOptions(num_beams=2, max_new_tokens=256))
        assert [h.text for h in hyps] == sentences, (engine.name, engine.compute_type)
        assert [list(h.token_ids) for h in hyps] == ids, (engine.name, engine.compute_type)


def test_building_is_deterministic(copy_models: Path, tmp_path: Path) -> None:
    first = copy_models.parent / "opus-mt-ar-en"
    again = build_copy_marian(tmp_path / "opus-mt-ar-en", "en", seed=0, spm_model=copy_spm())
    for name in MARIAN_FILES:
        assert (again / name).read_bytes() == (first / name).read_bytes(), name
    a, b = (TransformersEngine(f, device="cpu", threads=1) for f in (first, again))
    options = GenerationOptions(num_beams=2, max_new_tokens=64)
    assert [h.text for h in a.generate(LATIN, options)] == [h.text for h in b.generate(LATIN, options)] == LATIN
