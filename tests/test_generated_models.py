"""The generated models copy the real checkpoints' files: only dimensions differ (tarjama/data/checkpoints)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sentencepiece
import torch
from safetensors import safe_open
from transformers import AutoModelForSeq2SeqLM

from tarjama.generated_models import CHECKPOINTS, SPM_SHORT

# Keys a generated config may change: the dimensions, and the ids that follow from the vocabulary size.
MARIAN_DIMS = {"d_model", "encoder_layers", "decoder_layers", "num_hidden_layers", "encoder_attention_heads",
               "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim", "vocab_size", "decoder_vocab_size",
               "extra_pos_embeddings", "pad_token_id", "decoder_start_token_id", "bad_words_ids"}
MT5_DIMS = {"d_model", "d_ff", "d_kv", "num_layers", "num_decoder_layers", "num_heads", "vocab_size"}
CASES = [("opus-mt-ar-en", "opus-mt-ar-en", MARIAN_DIMS), ("opus-mt-ar-es", "opus-mt-ar-es", MARIAN_DIMS),
         ("mt5-xlsum", "mt5-xlsum", MT5_DIMS)]


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder,real,dims", CASES)
def test_config_is_the_real_one_but_for_dimensions(models_yaml: Path, folder: str, real: str, dims: set) -> None:
    made, truth = _json(models_yaml.parent / folder / "config.json"), _json(CHECKPOINTS / real / "config.json")
    assert list(made) == list(truth)  # same fields, same order: nothing added, nothing dropped
    assert {k for k in truth if made[k] != truth[k]} <= dims


@pytest.mark.parametrize("folder,real", [("opus-mt-ar-en", "opus-mt-ar-en"), ("opus-mt-ar-es", "opus-mt-ar-es"),
                                         ("mt5-xlsum", "mt5-xlsum")])
def test_tokenizer_files_are_byte_identical(models_yaml: Path, folder: str, real: str) -> None:
    names = {p.name for p in (CHECKPOINTS / real).iterdir()} - {"config.json", "generation_config.json"}
    assert names  # tokenizer_config.json at least
    for name in names:
        assert (models_yaml.parent / folder / name).read_bytes() == (CHECKPOINTS / real / name).read_bytes(), name


def test_marian_tokenizer_config_is_minimal_and_there_is_no_special_tokens_map(models_yaml: Path) -> None:
    folder = models_yaml.parent / "opus-mt-ar-en"
    assert _json(folder / "tokenizer_config.json") == {"target_lang": "en", "source_lang": "ar"}
    assert not (folder / "special_tokens_map.json").exists()


@pytest.mark.parametrize("folder,renormalize", [("opus-mt-ar-en", None), ("opus-mt-ar-es", True)])
def test_marian_generation_config_as_pinned(models_yaml: Path, folder: str, renormalize: bool | None) -> None:
    gen = _json(models_yaml.parent / folder / "generation_config.json")
    pad = _json(models_yaml.parent / folder / "config.json")["pad_token_id"]
    assert gen.get("renormalize_logits") == renormalize
    assert gen["bad_words_ids"] == [[pad]] and gen["decoder_start_token_id"] == pad and gen["num_beams"] == 4
    assert gen["max_length"] == 512


def test_mt5_generation_settings_live_in_config(models_yaml: Path) -> None:
    folder = models_yaml.parent / "mt5-xlsum"
    config = _json(folder / "config.json")
    assert not (folder / "generation_config.json").exists()
    assert (config["num_beams"], config["max_length"], config["no_repeat_ngram_size"], config["length_penalty"]) == \
        (4, 84, 2, 0.6)
    assert config["tie_word_embeddings"] is False and config["tokenizer_class"] == "T5Tokenizer"
    assert "tokenizer_class" not in _json(folder / "tokenizer_config.json")


def test_mt5_spm_is_12_pieces_short_of_the_vocabulary(models_yaml: Path) -> None:
    folder = models_yaml.parent / "mt5-xlsum"
    sp = sentencepiece.SentencePieceProcessor(model_file=str(folder / "spiece.model"))
    assert sp.get_piece_size() == _json(folder / "config.json")["vocab_size"] - SPM_SHORT


@pytest.mark.parametrize("folder,present,absent", [
    ("opus-mt-ar-en", {"model.shared.weight", "model.encoder.embed_positions.weight",
                       "model.decoder.embed_positions.weight", "final_logits_bias"},
     {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"}),
    ("mt5-xlsum", {"shared.weight", "lm_head.weight"}, {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}),
])
def test_weights_in_the_hub_conversion_key_layout(models_yaml: Path, folder: str, present: set, absent: set) -> None:
    with safe_open(str(models_yaml.parent / folder / "model.safetensors"), "pt") as f:
        keys = set(f.keys())
        assert f.metadata() == {"format": "pt"}
    assert present <= keys
    assert not keys & absent


def test_marian_final_logits_bias_is_random_with_pad_zero(models_yaml: Path) -> None:
    folder = models_yaml.parent / "opus-mt-ar-en"
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        bias = f.get_tensor("final_logits_bias")[0]
    pad = _json(folder / "config.json")["pad_token_id"]
    assert bias[pad] == 0
    assert (bias != 0).sum() == bias.numel() - 1


@pytest.mark.parametrize("folder", ["opus-mt-ar-en", "mt5-xlsum"])
def test_loading_the_hub_layout_keeps_every_stored_tensor(models_yaml: Path, folder: str) -> None:
    """Every tensor in the file arrives in the loaded model unchanged (a dropped or re-tied one would not)."""
    path = models_yaml.parent / folder
    model = AutoModelForSeq2SeqLM.from_pretrained(path, use_safetensors=True)
    state = model.state_dict()
    with safe_open(str(path / "model.safetensors"), "pt") as f:
        for key in f.keys():  # noqa: SIM118  (safe_open is not iterable)
            assert torch.equal(state[key], f.get_tensor(key)), key
    if folder == "opus-mt-ar-en":  # the tied group follows model.shared.weight
        assert torch.equal(model.lm_head.weight, model.model.shared.weight)
