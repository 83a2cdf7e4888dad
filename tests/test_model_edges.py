"""Edges the real checkpoints hit: <unk>, renormalize_logits, mT5's input whitespace and length, position
limits, Arabic-Indic digits, pinned revisions.  All on the generated models in the real file layouts."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from tarjama.summarize.summarizer import XLSUM_OPTIONS, Summarizer, xlsum_whitespace
from tarjama.translate.engine import GenerationOptions, TransformersEngine
from tarjama.translate.flags import Flag
from tarjama.translate.translator import Translator

from tarjama.engines import EngineCache
from tarjama.generated_models import corpus_lines
from tarjama.paths import DEFAULT_MODELS
from tarjama.pipeline import Pipeline
from tarjama.registry import ConfigError, Registry

UNKNOWN_CHARS = "😀₪漢"


# -- <unk> ---------------------------------------------------------------------------------------------


def test_characters_outside_the_vocabulary_are_unknown_to_both_tokenizers(marian, mt5) -> None:
    for engine in (marian, mt5):
        assert engine.unknown([f"قال الوزير {c}" for c in UNKNOWN_CHARS]) == [True, True, True]
        assert engine.unknown(["قال الوزير إن الاجتماع انتهى."]) == [False]


def test_unknown_flag_when_the_source_holds_unk(marian: TransformersEngine) -> None:
    translator = Translator(marian, GenerationOptions(num_beams=1, max_new_tokens=8))
    plain, odd = "قال الوزير إن الاجتماع انتهى.", "قال الوزير إن سعر التذكرة ٥٠ ₪ 😀."
    out = translator.translate([plain, odd])
    assert Flag.UNKNOWN in out[1].flags
    assert out[1].source == odd  # the source keeps the characters the model could not read
    # The plain sentence is flagged exactly when its output holds <unk> (random weights may emit it).
    hyp = marian.generate([plain], GenerationOptions(num_beams=1, max_new_tokens=8))[0]
    assert (Flag.UNKNOWN in out[0].flags) == (marian.unk_token_id in hyp.token_ids)


def test_hard_windows_keep_every_character(marian: TransformersEngine) -> None:
    word = ("https://example.org/" + "مدينة" * 30 + UNKNOWN_CHARS * 5 + "x" * 50)
    pieces = marian.token_windows(word, 16)
    assert len(pieces) > 3
    assert "".join(pieces) == word  # cut by characters: no <unk> character lost on the way
    assert max(marian.count_tokens(pieces)) <= 16


# -- renormalize_logits ------------------------------------------------------------------------------


def test_renormalize_logits_does_not_depend_on_the_pinned_generation_config(models_yaml: Path,
                                                                            tmp_path: Path) -> None:
    """ar-es's generation_config.json sets renormalize_logits, ar-en's does not: the engine sets it itself."""
    engines = []
    for value in (True, False):
        folder = shutil.copytree(models_yaml.parent / "opus-mt-ar-en", tmp_path / str(value))
        gen = json.loads((folder / "generation_config.json").read_text())
        gen["renormalize_logits"] = value
        (folder / "generation_config.json").write_text(json.dumps(gen))
        engine = TransformersEngine(folder, device="cpu", threads=1)
        engine.seen = []
        real_generate = engine.model.generate

        def recording(*args, _real=real_generate, _seen=engine.seen, **kwargs):
            _seen.append(kwargs.get("renormalize_logits"))
            return _real(*args, **kwargs)

        engine.model.generate = recording
        engines.append(engine)
    options = GenerationOptions(num_beams=3, max_new_tokens=16, no_repeat_ngram_size=1, length_penalty=0.6)
    texts = ["قال الوزير إن الاجتماع انتهى.", "وأضاف أن الحكومة ستدعم المزارعين في الموسم المقبل.",
             "عقدت البلدان التي تشكل المؤتمر الإقليمي للهجرة النسخة الرابعة."]
    a, b = (e.generate(texts, options) for e in engines)
    assert engines[0].seen == engines[1].seen == [True]  # set explicitly, as CTranslate2 always renormalizes
    assert [h.token_ids for h in a] == [h.token_ids for h in b]
    assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-6)


# -- mT5 input and length ------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("سطر أول\nسطر ثان", "سطر أول سطر ثان"),
    ("  فقرة\n\n\nفقرة  أخرى\t\tهنا  ", "فقرة فقرة أخرى هنا"),
    ("كلمة", "كلمة"),
])
def test_xlsum_whitespace_is_the_cards(text: str, expected: str) -> None:
    card = lambda k: re.sub(r"\s+", " ", re.sub("\n+", " ", k.strip()))  # noqa: E731  (the card's own lambda)
    assert xlsum_whitespace(text) == card(text) == expected


def test_summarizer_feeds_mt5_one_line_per_chunk(mt5: TransformersEngine) -> None:
    paragraphs = corpus_lines("ar", 40)
    summarizer = Summarizer(mt5, max_input_tokens=128)
    chunks = summarizer.chunk("\n\n".join(paragraphs))
    assert len(chunks) > 1
    assert all("\n" not in c and "  " not in c and c == c.strip() for c in chunks)
    assert all(n <= 128 for n in mt5.count_tokens(chunks))


def test_summary_length_is_the_cards_max_length_84_minus_the_start_token(mt5: TransformersEngine) -> None:
    assert XLSUM_OPTIONS.max_new_tokens == 83
    spec = Registry.load(DEFAULT_MODELS).summarization_spec()
    assert spec.generate.max_new_tokens == 83 and spec.generate.num_beams == 4
    options = GenerationOptions(num_beams=1, max_new_tokens=83, no_repeat_ngram_size=2)
    hyps = mt5.generate(["قال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل."] * 2, options)
    assert all(h.num_tokens <= 83 for h in hyps)


# -- position limit -------------------------------------------------------------------------------------


def test_max_input_tokens_above_the_models_positions_is_a_config_error(models_yaml: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(models_yaml.read_text())
    data["translation"]["ar-en"]["max_input_tokens"] = 1024
    for entry in (*data["translation"].values(), *data["summarization"].values()):
        entry["model"] = str(models_yaml.parent / entry["model"])
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(data))
    pipe = Pipeline(Registry.load(path), engines=EngineCache())
    with pytest.raises(ConfigError, match=r"ar-en\.max_input_tokens: 1024 .*max_position_embeddings \(512"):
        pipe.translator("en")


# -- digits ---------------------------------------------------------------------------------------------


def test_arabic_indic_digits_reach_the_model_as_ascii(pipeline) -> None:
    translator = pipeline.translator("en")
    assert translator.model_input("في عام ٢٠٢٤ و۱۳۹۹") == "في عام 2024 و1399"
    eastern, western = translator.translate(["ارتفع العدد إلى ٣٥٠ شخصا في ٢٠٢٤.", "ارتفع العدد إلى 350 شخصا في 2024."])
    assert eastern.source == "ارتفع العدد إلى ٣٥٠ شخصا في ٢٠٢٤."  # the source is shown as written
    assert (eastern.text, eastern.score) == (western.text, western.score)  # the model read the same input


def test_non_latin_targets_keep_arabic_indic_digits(models_yaml: Path) -> None:
    engine = TransformersEngine(models_yaml.parent / "opus-mt-ar-en", device="cpu", threads=1)
    assert Translator(engine, ascii_digits=False).model_input("عام ٢٠٢٤") == "عام ٢٠٢٤"


# -- pinned revisions -------------------------------------------------------------------------------------


def test_default_revisions_are_pinned_never_a_branch() -> None:
    """main of all three repos holds pickles only; a branch name would also move under the user."""
    specs = Registry.load(DEFAULT_MODELS).specs()
    assert len(specs) == 3
    for spec in specs:
        assert re.fullmatch(r"[0-9a-f]{40}|refs/pr/\d+", spec.revision), f"{spec.key}: {spec.revision}"
