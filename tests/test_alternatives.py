"""``Translator.alternatives``: the n-best translations of one sentence an editor picks from on the page.

On the random-weight models (noise, but real decoding) and the copy model (output = input), both
backends: distinct texts, best first, each scored and checked like a normal translation, the memory
neither read nor written.  No engine is mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tarjama.translate.flags import Flag
from tarjama.translate.glossary import glossary_from_rows
from tarjama.translate.translator import ALTERNATIVES

from tarjama.pipeline import Pipeline

SENTENCE = "قال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل في العاصمة."


@pytest.fixture(scope="module", params=["transformers", "ctranslate2"])
def random_pipe(request: pytest.FixtureRequest, models_yaml: Path) -> Pipeline:
    return Pipeline.from_config(models_yaml, memory=False, backend=request.param)


def test_alternatives_are_distinct_scored_best_first(random_pipe: Pipeline) -> None:
    translator = random_pipe.translator("en")
    calls = translator.engine.calls
    alternatives = translator.alternatives(SENTENCE)
    assert translator.engine.calls == calls + 1  # one n-best decoding
    assert 1 <= len(alternatives) <= ALTERNATIVES == 3
    texts = [a.text for a in alternatives]
    assert len(set(texts)) == len(texts) and all(texts)
    assert all(a.source == SENTENCE and a.score is not None for a in alternatives)
    # Best first is the beam search's order (its score counts the end token; ours, shown, is the mean).
    beams = translator.engine.generate_alternatives([translator.model_input(SENTENCE)], translator.options, 3)[0]
    assert texts == list(dict.fromkeys(h.text for h in beams))[:len(texts)]


def test_alternatives_bypass_the_memory(models_yaml: Path, tmp_path: Path) -> None:
    pipe = Pipeline.from_config(models_yaml, memory=tmp_path / "memory.sqlite")
    translator = pipe.translator("en")
    translator.alternatives(SENTENCE)
    assert pipe.memory.count() == 0
    [first] = translator.translate([SENTENCE])
    assert Flag.MEMORY not in first.flags


def test_alternatives_carry_checks_and_glossary_findings(copy_models: Path) -> None:
    pipe = Pipeline.from_config(copy_models, memory=False, backend="transformers")
    glossary = glossary_from_rows(["ar", "en"], [["الوزارة", "the Ministry"]])
    translator = pipe.translator("en", glossary)
    alternatives = translator.alternatives("قالت الوزارة إن ٣ أشخاص حضروا.")
    assert alternatives
    for alt in alternatives:  # the copy model copies the Arabic: the term is missed, never re-decoded
        [term] = [e for e in alt.enforced if e.kind == "term"]
        assert term.how == "missed" and Flag.GLOSSARY_MISSED in alt.flags
        assert "«الوزارة» should be “the Ministry”" in alt.details["glossary_missed"]


@pytest.mark.parametrize("text", ["", "   ", "١٢٣ - ٤٥٦"])
def test_no_words_no_model_call(random_pipe: Pipeline, text: str) -> None:
    translator = random_pipe.translator("en")
    calls = translator.engine.calls
    [only] = translator.alternatives(text)
    assert translator.engine.calls == calls and Flag.PASSTHROUGH in only.flags


def test_an_over_long_sentence_is_split_and_every_piece_translated(random_pipe: Pipeline) -> None:
    translator = random_pipe.translator("en")
    translator.max_sentence_tokens = 8
    long = "، ".join([SENTENCE.rstrip(".")] * 3) + "."
    alternatives = translator.alternatives(long)
    assert alternatives and all(Flag.SPLIT in a.flags for a in alternatives)
