"""The Transformers engine on generated models in the real layouts: loading, scores, token windows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tarjama.translate.engine import GenerationOptions, TransformersEngine
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

SENTENCES = [
    "عقدت البلدان التي تشكل المؤتمر الإقليمي للهجرة (CRM) النسخة الرابعة من المؤتمر.",
    "وأكدت أنه على المنظمة الدولية للهجرة الالتزام بدعم الحكومات.",
    "قال الوزير.",
]


@pytest.mark.parametrize("folder,files", [
    ("opus-mt-ar-en", {"config.json", "generation_config.json", "model.safetensors", "source.spm", "target.spm",
                       "vocab.json", "tokenizer_config.json"}),
    ("mt5-xlsum", {"config.json", "model.safetensors", "spiece.model", "special_tokens_map.json",
                   "tokenizer_config.json"}),  # XLSum has no generation_config.json: its settings are in config.json
])
def test_generated_models_have_the_real_layout(models_yaml: Path, folder: str, files: set[str]) -> None:
    assert {p.name for p in (models_yaml.parent / folder).iterdir()} == files


def test_marian_vocab_has_pad_last(models_yaml: Path) -> None:
    folder = models_yaml.parent / "opus-mt-ar-en"
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    config = json.loads((folder / "config.json").read_text())
    assert len(vocab) == config["vocab_size"]
    assert vocab["<pad>"] == config["vocab_size"] - 1 == config["pad_token_id"] == config["decoder_start_token_id"]
    assert vocab["</s>"] == 0 == config["eos_token_id"]


def test_mt5_keeps_its_own_lm_head(mt5: TransformersEngine) -> None:
    model = mt5.model
    assert model.lm_head.weight.data_ptr() != model.shared.weight.data_ptr()
    assert not torch.equal(model.lm_head.weight, model.shared.weight)


@pytest.mark.parametrize("folder", ["opus-mt-ar-en", "mt5-xlsum"])
def test_save_load_round_trip_keeps_logits(models_yaml: Path, tmp_path: Path, folder: str) -> None:
    """Weight tying bugs (transformers #26216) show up as different logits after a round trip."""
    src = models_yaml.parent / folder
    tok = AutoTokenizer.from_pretrained(src)
    model = AutoModelForSeq2SeqLM.from_pretrained(src, use_safetensors=True).eval()
    model.save_pretrained(tmp_path, safe_serialization=True)
    again = AutoModelForSeq2SeqLM.from_pretrained(tmp_path, use_safetensors=True).eval()
    enc = tok(SENTENCES, return_tensors="pt", padding=True)
    start = model.generation_config.decoder_start_token_id
    dec = torch.full((len(SENTENCES), 3), start)
    with torch.inference_mode():
        a = model(**enc, decoder_input_ids=dec).logits
        b = again(**enc, decoder_input_ids=dec).logits
    assert torch.equal(a, b)


def test_count_tokens_includes_eos(marian: TransformersEngine) -> None:
    ids = marian.tokenizer(SENTENCES[2])["input_ids"]
    assert ids[-1] == 0  # </s>
    assert marian.count_tokens([SENTENCES[2]]) == [len(ids)]
    assert marian.count_tokens([]) == []


@pytest.mark.parametrize("beams", [1, 2])
def test_scores_are_mean_token_log_probs(marian: TransformersEngine, beams: int) -> None:
    """Re-score each hypothesis by teacher forcing, by hand: the engine's score is the mean log-prob of its
    tokens under the distribution decoding chose them from — Marian's pad banned (bad_words_ids), and the
    EOS forced at the length limit (forced_eos_token_id) taking all of the last step's mass."""
    hyps = marian.generate(SENTENCES, GenerationOptions(num_beams=beams, max_new_tokens=12))
    assert len(hyps) == len(SENTENCES)
    tok, model = marian.tokenizer, marian.model
    for src, hyp in zip(SENTENCES, hyps):
        assert 1 <= hyp.num_tokens == len(hyp.token_ids) <= 12
        enc = tok([src], return_tensors="pt")
        labels = torch.tensor([hyp.token_ids])
        with torch.inference_mode():
            logits = model(**enc, labels=labels).logits.float()
        logits = logits.masked_fill(torch.arange(logits.shape[-1]) == tok.pad_token_id, float("-inf"))
        logp = torch.log_softmax(logits, -1).gather(-1, labels[..., None]).squeeze(-1)[0]
        if hyp.num_tokens == 12:  # the forced EOS
            assert hyp.token_ids[-1] == tok.eos_token_id
            logp[-1] = 0.0
        assert hyp.score == pytest.approx(logp.mean().item(), abs=2e-3)
        assert hyp.text == tok.decode(hyp.token_ids, skip_special_tokens=True).strip()


def test_forced_length(marian: TransformersEngine) -> None:
    hyps = marian.generate(SENTENCES, GenerationOptions(num_beams=1, max_new_tokens=10, min_new_tokens=10))
    assert [h.num_tokens for h in hyps] == [10, 10, 10]


def test_calls_are_counted(marian: TransformersEngine) -> None:
    before = marian.calls
    marian.generate(SENTENCES[:1], GenerationOptions(num_beams=1, max_new_tokens=4))
    marian.generate([], GenerationOptions())
    assert marian.calls == before + 1


def test_mt5_generates_with_xlsum_settings(mt5: TransformersEngine) -> None:
    opts = GenerationOptions(num_beams=2, max_new_tokens=16, no_repeat_ngram_size=2, length_penalty=0.6)
    hyps = mt5.generate(SENTENCES, opts)
    assert len(hyps) == 3
    assert all(h.num_tokens <= 16 and h.score < 0 for h in hyps)


@pytest.mark.parametrize("size", [8, 20, 64])
def test_token_windows_cover_the_text_within_the_limit(marian: TransformersEngine, size: int) -> None:
    text = " ".join(SENTENCES * 6)
    pieces = marian.token_windows(text, size)
    assert " ".join(pieces).split() == text.split()  # every word once, in order
    assert max(marian.count_tokens(pieces)) <= size


def test_token_windows_cut_a_huge_word(marian: TransformersEngine) -> None:
    word = "المنظمة" * 150  # one 1,050-letter "word"
    pieces = marian.token_windows(word, 16)
    assert len(pieces) > 1
    assert max(marian.count_tokens(pieces)) <= 16
    assert "".join(pieces).replace(" ", "") == word
