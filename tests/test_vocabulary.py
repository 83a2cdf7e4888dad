"""Output-vocabulary restriction: the rules (translate/vocabulary.py), models.yaml's key, the restricted
CTranslate2 folder (vmap.txt), and both engines on generated models in the real layouts.

The invariants: where the unrestricted output uses only allowed pieces, the restricted output is the same,
token for token, with the same score; where it used a disallowed piece, the restricted output has none;
both engines agree under the restriction; a tokenizer without the script's pieces fails loudly.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import CORPUS, run_cli
from tarjama.translate.engine import CTranslate2Engine, GenerationOptions, Hypothesis, TransformersEngine
from tarjama.translate.segment import is_arabic_script
from tarjama.translate.vocabulary import VocabularyError, first, keeps, restrict, vmap_text
from transformers import AutoModelForSeq2SeqLM

from tarjama.engines import ConversionError, convert, ct2_model, output_pieces, restricted
from tarjama.registry import ConfigError, ModelNotAvailable, Registry

pytest.importorskip("ctranslate2")

TOLERANCE = 2e-4  # tests/test_ct2.py's: float32 rounding between the engines
FOLDERS = {"ar-en": "opus-mt-ar-en", "ar": "mt5-xlsum"}
VOCABULARY = {"ar-en": "latin", "ar": "arabic"}


# -- the rules -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("piece,vocabulary,kept", [
    ("▁the", "latin", True),
    ("▁café", "latin", True),
    ("▁2024", "latin", True),
    ("،", "latin", True),            # Arabic comma: punctuation, no Arabic letter
    ("▁ال", "latin", False),
    ("UNالأمم", "latin", False),     # one Arabic letter is enough to drop a piece
    ("▁Привет", "latin", True),      # latin means "no Arabic letter", not "Latin letters only"
    ("▁المؤتمر", "arabic", True),
    ("▁مُتّحدة", "arabic", True),     # with marks (damma, shadda)
    ("ـ", "arabic", True),           # tatweel
    ("▁CRM", "arabic", True),        # acronyms stay possible
    ("▁٢٠٢٤", "arabic", True),       # Arabic-Indic digits
    ("▁19", "arabic", True),
    ("▁«", "arabic", True),
    ("▁%", "arabic", True),
    ("می\u200cخواهم", "arabic", True),  # a zero-width non-joiner inside Arabic-script spelling
    ("▁café", "arabic", False),      # a non-ASCII Latin letter
    ("▁Привет", "arabic", False),
    ("▁中国", "arabic", False),
    ("▁", "arabic", True),
    ("▁", "latin", True),
    ("▁ال", "all", True),
])
def test_which_pieces_each_restriction_keeps(piece: str, vocabulary: str, kept: bool) -> None:
    assert keeps(piece, vocabulary) is kept


def test_an_unknown_restriction_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of arabic, latin, all"):
        keeps("▁a", "greek")


def test_restrict_keeps_the_always_pieces_and_drops_the_never_ones() -> None:
    pieces = ["<pad>", "</s>", "<unk>", "▁ال", "▁the", "<extra_id_0>", "a b"]
    assert restrict(pieces, "arabic", always=["</s>", "<unk>"], never=["<extra_id_0>"]) == \
        ["<pad>", "</s>", "<unk>", "▁ال", "▁the"]  # "a b" cannot be written in a vmap line
    assert restrict(pieces, "latin", always=["</s>"], never=["<extra_id_0>"]) == \
        ["<pad>", "</s>", "<unk>", "▁the"]


@pytest.mark.parametrize("pieces,vocabulary", [
    (["</s>", "<unk>", "▁ال", "▁في", "٣"], "latin"),   # an Arabic-only vocabulary has no Latin words
    (["</s>", "<unk>", "▁the", "▁of", "3"], "arabic"),  # ASCII is kept under arabic, but no Arabic word is
])
def test_a_vocabulary_without_the_script_is_an_error(pieces: list[str], vocabulary: str) -> None:
    with pytest.raises(VocabularyError, match=f"none written in {vocabulary} script"):
        restrict(pieces, vocabulary, always=["</s>", "<unk>"])


def test_first_and_the_vmap_line() -> None:
    assert first(["a", "b", "c", "</s>"], 2, always=["</s>"]) == ["a", "b", "</s>"]
    assert vmap_text(["▁a", "</s>"]) == "\t▁a </s>\n"  # one rule, empty source key: always candidates


# -- models.yaml ----------------------------------------------------------------------------------------------

YAML = """translation:
  ar-en: {{model: m{extra_en}}}
  ar-ru: {{model: m}}
summarization:
  ar: {{model: m{extra_ar}}}
{defaults}"""


def _registry(tmp_path: Path, extra_en: str = "", extra_ar: str = "", defaults: str = "") -> Registry:
    path = tmp_path / "models.yaml"
    path.write_text(YAML.format(extra_en=extra_en, extra_ar=extra_ar, defaults=defaults), encoding="utf-8")
    return Registry.load(path)


def test_the_defaults_follow_the_output_script(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    assert registry.translation_spec("en").output_vocabulary == "latin"
    assert registry.translation_spec("ru").output_vocabulary == "all"  # Cyrillic: tarjama has no rule for it
    assert registry.summarization_spec().output_vocabulary == "arabic"


def test_models_yaml_sets_it_per_model_or_in_defaults(tmp_path: Path) -> None:
    registry = _registry(tmp_path, extra_en=", output_vocabulary: all", defaults="defaults: {output_vocabulary: all}")
    assert registry.translation_spec("en").output_vocabulary == "all"
    assert registry.summarization_spec().output_vocabulary == "all"
    registry = _registry(tmp_path, extra_ar=", output_vocabulary: all")
    assert registry.summarization_spec().output_vocabulary == "all"
    assert registry.translation_spec("en").output_vocabulary == "latin"


def test_a_wrong_value_names_the_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models.yaml: translation.ar-en.output_vocabulary: 'greek' is not "
                                          r"one of arabic, latin, all"):
        _registry(tmp_path, extra_en=", output_vocabulary: greek")


def test_the_benchmark_size_is_a_benchmark_key(tmp_path: Path) -> None:
    registry = _registry(tmp_path, extra_ar=", benchmark: {tokens: 50, vocabulary: 30000}")
    spec = registry.summarization_spec()
    assert spec.bench_vocabulary == 30000 and spec.forced_length.tokens == 50
    assert _registry(tmp_path, extra_ar=", benchmark: {vocabulary: 10}").summarization_spec().forced_length is None
    with pytest.raises(ConfigError, match=r"benchmark.vocabulary: expected an integer"):
        _registry(tmp_path, extra_ar=", benchmark: {vocabulary: many}")


# -- the restricted CTranslate2 folder ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(models_yaml: Path) -> Registry:
    return Registry.load(models_yaml)


def spec_of(registry: Registry, key: str):
    return registry.summarization_spec() if key == "ar" else registry.translation_spec(key.split("-")[1])


@pytest.mark.parametrize("key", list(FOLDERS))
def test_the_restricted_folder_is_built_once_beside_the_conversion(registry: Registry, key: str) -> None:
    spec = spec_of(registry, key)
    base = convert(spec, "float32", quiet=True)
    model = restricted(spec, base)
    assert model.folder == base.with_name(f"float32.{VOCABULARY[key]}-r1") and model.restricted
    pieces = output_pieces(base)
    line = (model.folder / "vmap.txt").read_text(encoding="utf-8")
    assert line.startswith("\t") and line.count("\n") == 1
    kept = line[1:].split()
    assert len(kept) == model.kept < model.total == len(pieces)
    assert {"</s>", "<unk>"} <= set(kept) and not [p for p in kept if p.startswith("<extra_id_")]
    assert all(keeps(p, VOCABULARY[key]) for p in kept if p not in ("</s>", "<unk>"))
    assert [p for p in pieces if p not in set(kept) and keeps(p, VOCABULARY[key])] == \
        [p for p in pieces if p.startswith("<extra_id_")]  # nothing else left out
    assert (model.folder / "model.bin").stat().st_ino == (base / "model.bin").stat().st_ino  # a hard link
    meta = json.loads((model.folder / "tarjama.json").read_text(encoding="utf-8"))
    assert meta["output_vocabulary"] == VOCABULARY[key] and meta["kept"] == model.kept
    stamp = (model.folder / "vmap.txt").stat().st_mtime_ns
    assert restricted(spec, base) == model  # reused, not rebuilt
    assert (model.folder / "vmap.txt").stat().st_mtime_ns == stamp
    assert restricted(replace(spec, output_vocabulary="all"), base).folder == base


def test_models_convert_prints_the_kept_pieces(models_yaml: Path) -> None:
    proc = run_cli("models", "convert", "--models", str(models_yaml))
    assert proc.returncode == 0, proc.stderr
    registry = Registry.load(models_yaml)
    for key in ("ar-en", "ar-es", "ar"):
        spec = spec_of(registry, key)
        model = ct2_model(spec, quiet=True)
        assert f"{model.kept:,} of {model.total:,} output pieces (output_vocabulary: {spec.output_vocabulary})" \
            in proc.stdout.decode()


def latin_free(src: Path, dst: Path) -> Path:
    """A copy of the generated ar-en model whose vocabulary holds no Latin letter (each such piece renamed to
    an Arabic one, ids kept): a tokenizer that cannot write English."""
    shutil.copytree(src, dst)
    vocab = json.loads((dst / "vocab.json").read_text(encoding="utf-8"))
    renamed = {(f"ب{i}" if any(c.isalpha() and not is_arabic_script(c) for c in p) and not p.startswith("<")
                else p): i for p, i in vocab.items()}
    (dst / "vocab.json").write_text(json.dumps(renamed, ensure_ascii=False), encoding="utf-8")
    return dst


def test_a_tokenizer_without_the_script_fails_the_conversion(registry: Registry, tmp_path: Path) -> None:
    folder = latin_free(Path(spec_of(registry, "ar-en").local_path()), tmp_path / "opus-mt-ar-en")
    spec = replace(spec_of(registry, "ar-en"), model=str(folder))
    with pytest.raises(ConversionError, match=r"translation.ar-en.output_vocabulary: .* none written in latin "
                                              r"script.*output_vocabulary: all"):
        ct2_model(spec, "float32", quiet=True)
    from tarjama.engines import load_engine

    for backend in ("ctranslate2", "transformers"):  # never silently unrestricted, on either engine
        with pytest.raises(ModelNotAvailable, match="none written in latin script"):
            load_engine(spec, backend=backend)


# -- both engines ----------------------------------------------------------------------------------------------


def flores(n: int) -> list[str]:
    path = CORPUS / "mt" / "flores200.dev.arb_Arab"
    if not path.is_file():
        pytest.skip(f"shared corpus not found at {CORPUS} (set TARJAMA_CORPUS)")
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()][:n]


def engines(spec, path: Path, vocabulary: str) -> tuple[TransformersEngine, CTranslate2Engine]:
    spec = replace(spec, model=str(path), output_vocabulary=vocabulary)
    folder = ct2_model(spec, "float32", quiet=True).folder
    return (TransformersEngine(path, device="cpu", threads=2, output_vocabulary=vocabulary),
            CTranslate2Engine(folder, path, device="cpu", compute_type="float32", threads=2))


def disallowed(engine, hyps: list[Hypothesis], vocabulary: str) -> int:
    """How many hypotheses hold a piece ``vocabulary`` forbids."""
    specials = {engine.tokenizer.eos_token, engine.tokenizer.unk_token, engine.tokenizer.pad_token}
    return sum(any(p not in specials and not keeps(p, vocabulary)
                   for p in engine.tokenizer.convert_ids_to_tokens(list(h.token_ids))) for h in hyps)


def same(a: list[Hypothesis], b: list[Hypothesis]) -> None:
    """Token for token, and the same scores (within float32 rounding)."""
    assert [h.token_ids for h in a] == [h.token_ids for h in b]
    assert max(abs(x.score - y.score) for x, y in zip(a, b)) <= TOLERANCE


def script_bound(src: Path, dst: Path) -> Path:
    """A copy of the generated ar-en model that, as a trained English model does, gives Arabic-letter pieces
    next to no probability (final_logits_bias −30 there): its unrestricted output is already Latin."""
    shutil.copytree(src, dst)
    model = AutoModelForSeq2SeqLM.from_pretrained(src, use_safetensors=True)
    vocab = json.loads((src / "vocab.json").read_text(encoding="utf-8"))
    with torch.no_grad():
        for piece, i in vocab.items():
            if not keeps(piece, "latin"):
                model.final_logits_bias[0, i] = -30.0
    model.save_pretrained(dst, safe_serialization=True)
    return dst


OPTIONS = [GenerationOptions(num_beams=1, max_new_tokens=24), GenerationOptions(num_beams=2, max_new_tokens=24),
           GenerationOptions(num_beams=2, max_new_tokens=24, no_repeat_ngram_size=2, length_penalty=0.6)]


@pytest.mark.parametrize("options", OPTIONS, ids=["greedy", "beam2", "beam2-norepeat2-lp0.6"])
def test_an_output_already_in_the_script_is_unchanged(registry: Registry, tmp_path_factory, options) -> None:
    spec = spec_of(registry, "ar-en")
    path = tmp_path_factory.getbasetemp() / "script-bound" / "opus-mt-ar-en"
    if not path.is_dir():
        script_bound(Path(spec.local_path()), path)
    sentences = flores(30)
    free_hf, free_ct2 = engines(spec, path, "all")
    bound_hf, bound_ct2 = engines(spec, path, "latin")
    unrestricted = free_hf.generate(sentences, options)
    assert disallowed(free_hf, unrestricted, "latin") == 0  # the premise: no Arabic piece chosen anyway
    same(unrestricted, bound_hf.generate(sentences, options))  # Transformers: restricted = unrestricted
    same(free_ct2.generate(sentences, options), bound_ct2.generate(sentences, options))  # CTranslate2 too
    same(unrestricted, bound_ct2.generate(sentences, options))  # and the engines agree


def straying(src: Path, dst: Path, vocabulary: str) -> Path:
    """A copy of a generated model that prefers the pieces ``vocabulary`` forbids (Marian: final_logits_bias +3
    there; mT5, which has no output bias: those rows of its lm_head tripled), as a model echoing its
    Arabic source would."""
    shutil.copytree(src, dst)
    model = AutoModelForSeq2SeqLM.from_pretrained(src, use_safetensors=True)
    pieces = TransformersEngine(src, device="cpu").tokenizer.convert_ids_to_tokens(list(range(model.config.vocab_size)))
    with torch.no_grad():
        for i, piece in enumerate(pieces):
            if piece and not piece.startswith("<") and not keeps(piece, vocabulary):
                if model.config.model_type == "marian":
                    model.final_logits_bias[0, i] += 3.0
                else:
                    model.lm_head.weight[i] *= 3.0
    model.save_pretrained(dst, safe_serialization=True)
    return dst


@pytest.mark.parametrize("key", list(FOLDERS))
def test_a_restricted_output_never_holds_a_disallowed_piece(registry: Registry, models_yaml: Path, tmp_path: Path,
                                                            key: str) -> None:
    spec, vocabulary = spec_of(registry, key), VOCABULARY[key]
    path = straying(models_yaml.parent / FOLDERS[key], tmp_path / FOLDERS[key], vocabulary)
    options = spec.generate.replace(max_new_tokens=24)
    sentences = flores(30)
    free_hf, free_ct2 = engines(spec, path, "all")
    bound_hf, bound_ct2 = engines(spec, path, vocabulary)
    assert disallowed(free_hf, free_hf.generate(sentences, options), vocabulary) > 0  # random weights stray
    assert disallowed(free_ct2, free_ct2.generate(sentences, options), vocabulary) > 0
    a, b = bound_hf.generate(sentences, options), bound_ct2.generate(sentences, options)
    assert disallowed(bound_hf, a, vocabulary) == disallowed(bound_ct2, b, vocabulary) == 0
    matching = [(x, y) for x, y in zip(a, b) if x.token_ids == y.token_ids]
    assert len(matching) >= 0.95 * len(sentences)  # the engines agree under the restriction too
    assert max(abs(x.score - y.score) for x, y in matching) <= TOLERANCE
