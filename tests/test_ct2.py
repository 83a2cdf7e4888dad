"""The CTranslate2 engine against the Transformers reference, on the same generated weights.

Faithfulness (float32): greedy tokens equal for ≥ 99 % of 200 FLORES sentences, and scores (mean
token log-probabilities under the decoding distribution) equal within a tolerance for greedy and beam
search, on Marian and mT5.
Plus: conversion once into the tarjama cache, the mT5 tied-embedding trap, int8 well-formed,
``backend: auto`` choosing and falling back, and the pipeline end to end on CTranslate2.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import CORPUS, SEED, news_articles, run_cli
from tarjama.translate.engine import (
    CTranslate2Engine,
    ForcedLength,
    GenerationOptions,
    Hypothesis,
    ModelLoadError,
    TransformersEngine,
    ct2_compute_type,
)
from tarjama.translate.segment import segment
from transformers import AutoModelForSeq2SeqLM

from tarjama import engines as reg
from tarjama import paths
from tarjama.engines import convert, ct2_path, load_engine
from tarjama.registry import ConfigError, ModelNotAvailable, Registry, resolve

pytest.importorskip("ctranslate2")

FOLDERS = {"ar-en": "opus-mt-ar-en", "ar-es": "opus-mt-ar-es", "ar": "mt5-xlsum"}
# Scores are mean token log-probs under the distribution decoding chose from: Marian's CTranslate2
# vocabulary drops <pad>, and Transformers bans it (generation_config bad_words_ids), so both normalise
# without it; what remains between the engines is float32 rounding.
TOLERANCE = 2e-4
FEW = ["عقدت البلدان التي تشكل المؤتمر الإقليمي للهجرة (CRM) النسخة الرابعة من المؤتمر.",
       "وأكدت أنه على المنظمة الدولية للهجرة الالتزام بدعم الحكومات.", "قال الوزير."]


def flores(n: int) -> list[str]:
    path = CORPUS / "mt" / "flores200.dev.arb_Arab"
    if not path.is_file():
        pytest.skip(f"shared corpus not found at {CORPUS} (set TARJAMA_CORPUS)")
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()][:n]


@pytest.fixture(scope="module")
def registry(models_yaml: Path) -> Registry:
    return Registry.load(models_yaml)  # compute_type float32, backend transformers (the suite's default)


def spec_of(registry: Registry, key: str):
    return registry.summarization_spec() if key == "ar" else registry.translation_spec(key.split("-")[1])


@pytest.fixture(scope="module")
def pair(registry: Registry, models_yaml: Path):
    """(Transformers, CTranslate2 float32) engines per model key, on the same weights."""
    engines = {}
    for key, folder in FOLDERS.items():
        path = models_yaml.parent / folder
        ct2 = convert(spec_of(registry, key), "float32", quiet=True)
        engines[key] = (TransformersEngine(path, device="cpu", threads=2),
                        CTranslate2Engine(ct2, path, device="cpu", compute_type="float32", threads=2))
    return engines


def eos_prone(src: Path, dst: Path) -> Path:
    """A copy of a generated model whose EOS is likelier, so hypotheses end before the length limit
    (random weights otherwise run to it) and beam search ranks finished hypotheses of different lengths."""
    shutil.copytree(src, dst)
    model = AutoModelForSeq2SeqLM.from_pretrained(src, use_safetensors=True)
    eos = model.generation_config.eos_token_id
    with torch.no_grad():
        if model.config.model_type == "marian":
            # The generated bias is random (real checkpoints' are non-zero), and on random weights EOS then
            # wins all at once or never; a flat bias with EOS raised ends hypotheses at many lengths.
            model.final_logits_bias.zero_()
            model.final_logits_bias[0, eos] = 0.3
        else:
            model.lm_head.weight[eos] *= 2.0
    model.save_pretrained(dst, safe_serialization=True)
    return dst


@pytest.fixture(scope="module")
def ending(models_yaml: Path, tmp_path_factory: pytest.TempPathFactory, registry: Registry):
    """(Transformers, CTranslate2 float32) engines on EOS-prone copies of ar-en and ar."""
    root = tmp_path_factory.mktemp("eos-prone")
    engines = {}
    for key in ("ar-en", "ar"):
        path = eos_prone(models_yaml.parent / FOLDERS[key], root / FOLDERS[key])
        spec = replace(spec_of(registry, key), model=str(path))
        ct2 = convert(spec, "float32", quiet=True)
        engines[key] = (TransformersEngine(path, device="cpu", threads=2),
                        CTranslate2Engine(ct2, path, device="cpu", compute_type="float32", threads=2))
    return engines


def agreement(a: list[Hypothesis], b: list[Hypothesis]) -> float:
    return sum(x.token_ids == y.token_ids for x, y in zip(a, b)) / len(a)


def in_batches(engine, texts: list[str], options: GenerationOptions, size: int = 25) -> list[Hypothesis]:
    return [h for i in range(0, len(texts), size) for h in engine.generate(texts[i : i + size], options)]


# -- faithfulness ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(FOLDERS))
def test_greedy_tokens_agree_on_200_sentences(pair, key: str) -> None:
    """The issue's bar: ≥ 99 % of 200 sentences token-for-token identical (float32, greedy)."""
    sentences = flores(200)
    ref, fast = pair[key]
    options = GenerationOptions(num_beams=1, max_new_tokens=48)
    a, b = in_batches(ref, sentences, options), in_batches(fast, sentences, options)
    assert len(a) == len(b) == 200
    assert agreement(a, b) >= 0.99, f"{key}: {agreement(a, b):.1%} identical"
    same = [(x, y) for x, y in zip(a, b) if x.token_ids == y.token_ids]
    assert all(x.text == y.text and x.num_tokens == y.num_tokens for x, y in same)
    worst = max(abs(x.score - y.score) for x, y in same)
    assert worst <= TOLERANCE, f"{key}: score differs by {worst:.2e}"


@pytest.mark.parametrize("key", ["ar-en", "ar"])
@pytest.mark.parametrize("options", [
    GenerationOptions(num_beams=1, max_new_tokens=40),
    GenerationOptions(num_beams=2, max_new_tokens=40),
    GenerationOptions(num_beams=2, max_new_tokens=40, length_penalty=0.6),
    GenerationOptions(num_beams=2, max_new_tokens=40, no_repeat_ngram_size=2, length_penalty=0.6),  # XLSum-like
], ids=["greedy", "beam2", "beam2-lp0.6", "beam2-norepeat2-lp0.6"])
def test_scores_agree_when_hypotheses_end(ending, key: str, options: GenerationOptions) -> None:
    """On EOS-prone weights outputs end at many lengths: tokens, lengths and scores must still agree.

    (Under no_repeat_ngram_size CTranslate2 bans n-grams before its softmax, so its scores are renormalized
    without them; the Transformers engine re-applies the same bans when it scores.)
    """
    ref, fast = ending[key]
    sentences = flores(40)
    a, b = ref.generate(sentences, options), fast.generate(sentences, options)
    ended = sum(h.num_tokens < options.max_new_tokens for h in a)
    assert ended >= 10, "the EOS-prone model should end some hypotheses early"
    assert agreement(a, b) >= 0.95
    for x, y in zip(a, b):
        if x.token_ids == y.token_ids:
            assert y.score == pytest.approx(x.score, abs=TOLERANCE)


@pytest.mark.parametrize("key", list(FOLDERS))
def test_beam_scores_at_the_length_limit(pair, key: str) -> None:
    """Random weights run to max_new_tokens: Marian ends there with a forced EOS (appended; log-prob 0)."""
    ref, fast = pair[key]
    options = GenerationOptions(num_beams=2, max_new_tokens=12)
    a, b = ref.generate(FEW, options), fast.generate(FEW, options)
    for x, y in zip(a, b):
        assert x.token_ids == y.token_ids
        assert x.num_tokens == y.num_tokens == 12
        assert y.score == pytest.approx(x.score, abs=TOLERANCE)
    if key != "ar":
        assert all(h.token_ids[-1] == fast.tokenizer.eos_token_id for h in b)


def test_the_mt5_conversion_trap_is_avoided(pair, registry: Registry, tmp_path: Path) -> None:
    """CTranslate2's stock converter reads MT5Config's forced tie_word_embeddings=True as "rescale the
    logits by d_model^-0.5": its scores are far off.  tarjama's converter unties first."""
    import ctranslate2
    from ctranslate2.converters import TransformersConverter

    spec = registry.summarization_spec()
    folder = resolve(spec).path
    TransformersConverter(str(folder)).convert(str(tmp_path / "stock"), quantization="float32")
    stock = CTranslate2Engine(tmp_path / "stock", folder, device="cpu", compute_type="float32", threads=1)
    ref, ours = pair["ar"]
    options = GenerationOptions(num_beams=1, max_new_tokens=16)
    expected = ref.generate(FEW, options)
    assert [h.score for h in ours.generate(FEW, options)] == pytest.approx([h.score for h in expected], abs=2e-4)
    assert all(abs(s.score - e.score) > 0.5 for s, e in zip(stock.generate(FEW, options), expected))
    assert isinstance(ours.translator, ctranslate2.Translator)


@pytest.mark.parametrize("key", list(FOLDERS))
def test_int8_output_is_well_formed(registry: Registry, models_yaml: Path, key: str) -> None:
    spec = spec_of(registry, key)
    path = models_yaml.parent / FOLDERS[key]
    engine = CTranslate2Engine(convert(spec, "int8", quiet=True), path, device="cpu", compute_type="int8", threads=2)
    assert engine.compute_type == "int8"
    vocab = json.loads((path / "config.json").read_text())["vocab_size"]  # mT5: 12 ids past the spm, as the real one
    options = GenerationOptions(num_beams=4, max_new_tokens=24, no_repeat_ngram_size=2 if key == "ar" else 0)
    hyps = engine.generate(flores(30), options)
    assert len(hyps) == 30
    for h in hyps:
        assert 1 <= h.num_tokens == len(h.token_ids) <= 24
        assert all(0 <= i < vocab for i in h.token_ids)
        assert engine.tokenizer.eos_token_id not in h.token_ids[:-1]  # EOS only last
        assert math.isfinite(h.score) and h.score < 0
        assert h.text == engine.tokenizer.decode(h.token_ids, skip_special_tokens=True).strip()


def test_forced_lengths_are_exact_on_both_engines(pair) -> None:
    """Benchmarks only: every output of a batch has round(ratio × mean source tokens) tokens, no EOS."""
    ref, fast = pair["ar-en"]
    options = GenerationOptions(num_beams=2, max_new_tokens=256)
    mean = sum(fast.count_tokens(FEW)) / len(FEW)
    try:
        for engine in (ref, fast):
            engine.forced_length = ForcedLength(ratio=1.2)
            hyps = engine.generate(FEW, options)
            assert {h.num_tokens for h in hyps} == {round(1.2 * mean)}
            assert all(engine.tokenizer.eos_token_id not in h.token_ids for h in hyps)
        mt5 = pair["ar"][1]
        mt5.forced_length = ForcedLength(tokens=30)
        assert {h.num_tokens for h in mt5.generate(FEW, GenerationOptions(num_beams=1, max_new_tokens=84))} == {30}
    finally:
        for engine in (ref, fast, pair["ar"][1]):
            engine.forced_length = None


def test_forced_lengths_come_from_the_benchmark_key_never_from_generate(tmp_path: Path, models_yaml: Path) -> None:
    text = models_yaml.read_text().replace("    max_sentence_tokens: 120\n", "    max_sentence_tokens: 120\n"
                                           "    benchmark: {ratio: 1.5}\n", 1)
    (tmp_path / "models.yaml").write_text(text.replace("model: opus-mt", f"model: {models_yaml.parent}/opus-mt")
                                          .replace("model: mt5", f"model: {models_yaml.parent}/mt5"))
    spec = Registry.load(tmp_path / "models.yaml").translation_spec("en")
    assert spec.forced_length == ForcedLength(ratio=1.5)
    assert "fixed_length_ratio" not in GenerationOptions().as_dict()
    bad = models_yaml.read_text().replace("max_new_tokens: 40}", "max_new_tokens: 40, fixed_length_ratio: 1.2}", 1)
    (tmp_path / "bad.yaml").write_text(bad)
    with pytest.raises(ConfigError, match="fixed_length_ratio: unknown key"):
        Registry.load(tmp_path / "bad.yaml")


# -- compute types and devices ----------------------------------------------------------------------------


def test_auto_compute_types() -> None:
    assert ct2_compute_type("auto", "cpu", "marian") == "int8"
    assert ct2_compute_type("auto", "cpu", "mt5") == "int8"
    assert ct2_compute_type("auto", "cuda", "marian") == "float16"
    assert ct2_compute_type("auto", "cuda", "mt5") in ("bfloat16", "float32")  # never float16 (NaNs)
    assert ct2_compute_type("int8_float32", "cpu", "mt5") == "int8_float32"
    for bad in ("float16", "int8_float16"):
        with pytest.raises(ModelLoadError, match="NaN"):
            ct2_compute_type(bad, "cuda", "mt5")


def test_mt5_in_float16_is_a_config_error(registry: Registry) -> None:
    spec = replace(registry.summarization_spec(), compute_type="float16")
    with pytest.raises(ConfigError, match="NaNs"):
        load_engine(spec, backend="ctranslate2")


def test_threads_and_device_reach_the_engine(registry: Registry) -> None:
    spec = replace(registry.translation_spec("en"), threads=1, compute_type="int8")
    engine = load_engine(spec, backend="ctranslate2")
    assert (engine.name, engine.device, engine.compute_type, engine.threads) == ("ctranslate2", "cpu", "int8", 1)


# -- conversion cache ---------------------------------------------------------------------------------------


def test_conversion_happens_once_in_the_tarjama_cache(registry: Registry, tarjama_cache: Path, capfd) -> None:
    spec = replace(registry.translation_spec("es"), compute_type="int8_float32")
    found = resolve(spec)
    target = ct2_path(spec, found, "int8_float32")
    assert target.is_relative_to(tarjama_cache / "ct2")
    assert target.parts[-1] == "int8_float32" and target.parts[-2].startswith("generated-")
    capfd.readouterr()
    first = convert(spec)
    err = capfd.readouterr().err
    assert first == target and (target / "model.bin").is_file()
    assert "converting ar-es" in err and "once" in err
    stamp = (target / "model.bin").stat().st_mtime_ns
    assert convert(spec) == target
    assert capfd.readouterr().err == ""  # reused silently
    assert (target / "model.bin").stat().st_mtime_ns == stamp
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_a_changed_local_model_is_converted_again(models_yaml: Path, tmp_path: Path, registry: Registry) -> None:
    folder = shutil.copytree(models_yaml.parent / "opus-mt-ar-en", tmp_path / "opus-mt-ar-en")
    spec = replace(registry.translation_spec("en"), model=str(folder))
    before = ct2_path(spec, resolve(spec), "int8")
    (folder / "generation_config.json").write_text((folder / "generation_config.json").read_text() + "\n")
    assert ct2_path(spec, resolve(spec), "int8") != before


def test_xdg_cache_home_is_respected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TARJAMA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert paths.cache_dir() == tmp_path / "tarjama"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert paths.cache_dir() == Path.home() / ".cache" / "tarjama"


# -- backend auto -------------------------------------------------------------------------------------------


def test_auto_picks_ctranslate2(registry: Registry) -> None:
    engine = load_engine(registry.translation_spec("en"), backend="auto")
    assert isinstance(engine, CTranslate2Engine)
    assert engine.compute_type == "float32"  # the tiny models.yaml says float32


def test_auto_falls_back_with_one_warning(registry: Registry, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # "not installed"
    warned: set[str] = set()  # as an EngineCache shares one set between its models
    with caplog.at_level(logging.WARNING, logger="tarjama.engines"):
        engines = [load_engine(spec, backend="auto", warned=warned) for spec in registry.specs()]
    assert all(isinstance(e, TransformersEngine) for e in engines)
    lines = [r.getMessage() for r in caplog.records if r.name == "tarjama.engines"]
    assert len(lines) == 1 and "not installed" in lines[0] and "using Transformers" in lines[0]


def test_a_failed_conversion_falls_back(registry: Registry, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    def broken(folder):
        raise ValueError("No conversion is registered for the model configuration")

    spec = replace(registry.translation_spec("en"), compute_type="int8_float32", revision="broken")
    monkeypatch.setattr(reg, "_converter", broken)
    with caplog.at_level(logging.WARNING, logger="tarjama.engines"):
        engine = load_engine(spec, backend="auto")
    assert isinstance(engine, TransformersEngine)
    assert "No conversion is registered" in caplog.text
    with pytest.raises(ModelNotAvailable, match="No conversion is registered"):
        load_engine(spec, backend="ctranslate2")


# -- the pipeline and CLI on CTranslate2 ------------------------------------------------------------------


def test_pipeline_on_ctranslate2_batches_all_sentences_once(models_yaml: Path) -> None:
    """Both targets share one segmentation; each sentence reaches each Marian model once, in batches
    sorted by length within the token budget; engines stay loaded between runs."""
    from tarjama.engines import EngineCache
    from tarjama.pipeline import Pipeline

    pipe = Pipeline(Registry.load(models_yaml), engines=EngineCache(), backend="ctranslate2")
    seen: dict[str, list[list[str]]] = {}
    for lang in ("en", "es"):
        engine = pipe.translator(lang).engine
        original = engine.generate

        def spy(texts, options, _lang=lang, _original=original):
            if options.no_repeat_ngram_size != 3:  # not the repetition guard's re-decoding
                seen.setdefault(_lang, []).append(list(texts))
            return _original(texts, options)

        engine.generate = spy
    text = SEED.read_text(encoding="utf-8")
    result = pipe.run(text, targets=("en", "es"), summarize=True)
    sources = [s.text for s in segment(text).sentences()]
    for lang in ("en", "es"):
        assert [s.source for s in result.translations[lang].sentences()] == sources
        assert all(s.text for s in result.translations[lang].sentences())
        engine = pipe.translator(lang).engine
        texts = [t for batch in seen[lang] for t in batch]
        assert len(texts) == len(set(texts))  # each distinct text once
        counts = [engine.count_tokens(batch) for batch in seen[lang]]
        assert all(len(c) * max(c) <= 4096 or len(c) == 1 for c in counts)  # the token budget
        flat = [n for c in counts for n in c]
        assert flat == sorted(flat)  # length-sorted across batches
    assert {m.engine for m in result.models} == {"ctranslate2"}
    loaded = pipe.engines.loaded()
    pipe.run(text, targets=("en", "es"), summarize=True)
    assert pipe.engines.loaded() == loaded and len(loaded) == 3


def test_cli_convert_then_translate_on_ctranslate2(models_yaml: Path, tmp_path: Path) -> None:
    env = {"TARJAMA_MODELS": str(models_yaml), "TARJAMA_CACHE": str(tmp_path)}
    proc = run_cli("models", "convert", "--compute-type", "int8", env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr.decode().count("converting") == 3
    assert len(list((tmp_path / "ct2").glob("*/*/int8/model.bin"))) == 3
    listed = run_cli("models", "list", env=env).stdout.decode()
    assert "CTRANSLATE2" in listed and listed.count("int8") >= 3
    proc = run_cli("models", "convert", "ar-en", "--compute-type", "int8", env=env)
    assert proc.returncode == 0 and "converting" not in proc.stderr.decode()  # reused
    proc = run_cli("translate", str(SEED), "--to", "en,es", "--summary", "--format", "json", "--backend",
                   "ctranslate2", "--no-memory", env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert not (tmp_path / "memory.sqlite").exists()
    bad = run_cli("models", "convert", "--compute-type", "int4", env=env)
    assert bad.returncode == 2 and "int4" in bad.stderr.decode()


def test_the_light_mt5_tokenizer_matches_transformers(models_yaml: Path, corpus: Path) -> None:
    """CTranslate2Engine reads mT5's sentencepiece model itself (~50 MB instead of ~340 MB for the real
    250k vocabulary): same ids, truncation, pieces and decoding as transformers' T5Tokenizer."""
    from tarjama.translate.engine import SpmTokenizer, load_tokenizer
    from transformers import AutoTokenizer

    folder = models_yaml.parent / "mt5-xlsum"
    hf, light = AutoTokenizer.from_pretrained(folder), load_tokenizer(folder)
    assert isinstance(light, SpmTokenizer)
    texts = flores(200) + [a["text"] for a in news_articles(corpus)][:100]
    texts += ["  spaces\tand\ttabs ", "١٢٣ COVID-19 «اقتباس»", "", "ﻻ ﷲ"]
    same = sum(hf(t)["input_ids"] == light(t)["input_ids"] for t in texts)
    assert same >= 0.99 * len(texts)  # exact ties between segmentations may break differently
    assert hf(texts[:5], truncation=True, max_length=7)["input_ids"] == \
        light(texts[:5], truncation=True, max_length=7)["input_ids"]
    assert hf(texts[0], add_special_tokens=False)["input_ids"] == light(texts[0], add_special_tokens=False)["input_ids"]
    ids = [5, 17, 300, 2, 640 - 1, 0, 1]
    assert hf.decode(ids, skip_special_tokens=True) == light.decode(ids, skip_special_tokens=True)
    assert hf.convert_ids_to_tokens(ids[:4]) == light.convert_ids_to_tokens(ids[:4])
    # Ids past the sentencepiece model (mT5-XLSum: 250,100 pieces, 250,112 ids) have no piece in transformers
    # (extra_ids 0 in the real tokenizer_config.json); CTranslate2's vocabulary names them <extra_id_N>.
    assert light.convert_ids_to_tokens([len(light) + 3]) == ["<extra_id_3>"]
    assert light.convert_tokens_to_ids(light.convert_ids_to_tokens(ids)) == ids
    assert (light.eos_token, light.eos_token_id, len(light)) == (hf.eos_token, hf.eos_token_id, len(hf))
