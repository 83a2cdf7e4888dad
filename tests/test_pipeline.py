"""The pipeline over real articles of the shared corpus, on generated models."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, SEED, news_articles
from tarjama.translate.segment import segment

from tarjama.documents import InputError
from tarjama.result import SCHEMA_ID, ArticleResult

SCHEMA = json.loads((REPO / "tarjama" / "schema" / "article.schema.json").read_text())


def assert_accounted(result: ArticleResult, text: str, targets: tuple[str, ...]) -> None:
    """Every source sentence appears once, in its paragraph, with one translation per target."""
    seg = segment(text)
    expected = [[s.text for s in p.sentences] for p in seg.paragraphs]
    assert result.paragraphs == expected
    for lang in targets:
        tr = result.translations[lang]
        assert [[s.source for s in p] for p in tr.paragraphs] == expected
        assert all(s.text for s in tr.sentences()), "a sentence with words got no translation"


@pytest.fixture(scope="module")
def fifty(corpus: Path) -> list[dict]:
    articles = list(news_articles(corpus))
    longest = max(articles, key=lambda a: len(a["text"]))
    picked = list(islice((a for a in articles if a is not longest), 0, len(articles), 7))[:49]
    return [*picked, longest]


def test_fifty_news_articles(pipeline, fifty: list[dict]) -> None:
    results = pipeline.run_many([a["text"] for a in fifty], targets=("en", "es"), summarize=True)
    assert len(results) == 50
    for article, result in zip(fifty, results):
        assert_accounted(result, article["text"], ("en", "es"))
        assert set(result.summaries) == {"ar", "en", "es"}
        assert result.timings["chunk_articles"] == 50 and "total" not in result.timings  # the call's, labelled so
        jsonschema.validate(result.to_dict(), SCHEMA)
    longest = results[-1]
    assert longest.summary_info["strategy"] == "chunk-merge" and longest.summary_info["chunks"] > 1
    assert sum(len(p) for p in longest.paragraphs) > 50


# run_many against run one by one (translations, scores, flags and summaries, exactly): test_front_doors.py


def test_seed_article_result(pipeline) -> None:
    text = SEED.read_text(encoding="utf-8")
    result = pipeline.run(text, targets=("en", "es"), summarize=True)
    assert_accounted(result, text, ("en", "es"))
    kinds = {(r["kind"], r["text"]) for r in result.removed}
    for line in ("قد يعجبك ايضا", "ابق على اتصال", "احصل على النشرة الإخبارية"):
        assert ("boilerplate", line) in kinds
    assert any(k == "repeated_title" for k, _ in kinds)
    assert result.demo is True
    assert list(result.timings) == ["segment", "load", "summarize", "translate_en", "translate_es", "total"]
    assert {m.key for m in result.models} == {"ar-en", "ar-es", "ar"}
    md = result.to_markdown()
    assert md.startswith("> **DEMO**") and "## English" in md and "## Spanish" in md
    jsonschema.validate(result.to_dict(), SCHEMA)
    again = ArticleResult.from_dict(json.loads(result.to_json()))
    assert again.to_dict() == result.to_dict()
    assert result.to_dict()["schema"] == SCHEMA_ID == SCHEMA["properties"]["schema"]["const"] == "tarjama.article/3"


def test_version_1_json_is_still_read(pipeline) -> None:
    """/1 differs only in its timings (model loading counted in segment, a batch's chunk under plain names)."""
    old = pipeline.run("قال الوزير إن الاجتماع انتهى.", targets=("en",), summarize=False).to_dict()
    old.update(schema="tarjama.article/1", timings={"segment": 8.6, "translate_en": 0.1, "total": 8.7})
    result = ArticleResult.from_dict(old)
    assert result.timings == old["timings"] and result.paragraphs == old["paragraphs"]
    assert result.to_dict() == {**old, "schema": SCHEMA_ID}


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("The minister said the meeting ended on Monday.", "not_arabic"),
    ("قال " * 40_000, "too_long"),
    ("ابق على اتصال\n\nاحصل على النشرة الإخبارية", "empty"),  # nothing but boilerplate
])
def test_bad_text_is_refused_with_a_reason(pipeline, text: str, reason: str) -> None:
    with pytest.raises(InputError) as err:
        pipeline.run(text, targets=("en",), summarize=False)
    assert err.value.reason == reason
    assert str(err.value) and err.value.hint  # what is wrong, and what to do


def test_unknown_target(pipeline) -> None:
    from tarjama.registry import ConfigError

    with pytest.raises(ConfigError, match=r"no model for ar→de \(have: en, es\)"):
        pipeline.run("قال الوزير.", targets=("de",))


def test_parts_stand_alone(models_yaml: Path) -> None:
    """The README's stand-alone parts on a model folder: one aligned translation per sentence, paragraphs kept,
    a summary in Arabic script, each matching what the engine itself decodes."""
    from tarjama.summarize import Summarizer
    from tarjama.summarize.summarizer import xlsum_whitespace
    from tarjama.translate import GenerationOptions, TransformersEngine, Translator
    from tarjama.translate.flags import Flag

    engine = TransformersEngine(models_yaml.parent / "opus-mt-ar-en", device="cpu", threads=1)
    options = GenerationOptions(num_beams=1, max_new_tokens=12)
    translator = Translator(engine, options, repetition_guard=False)  # random weights loop: keep the first decoding
    sentences = ["قال الوزير إن الاجتماع انتهى.", "2023", "وأضاف أن الحكومة ستدعم المزارعين."]
    out = translator.translate(sentences)
    assert [o.source for o in out] == sentences
    assert out[1].text == "2023" and out[1].flags == (Flag.PASSTHROUGH,) and out[1].score is None
    direct = engine.generate([sentences[0], sentences[2]], options)
    for o, hyp in zip((out[0], out[2]), direct):
        assert o.score == pytest.approx(hyp.score, abs=1e-4)
        assert o.text == hyp.text
    shaped = translator.translate_paragraphs([sentences[:2], sentences[2:]])
    assert [[s.source for s in p] for p in shaped] == [sentences[:2], sentences[2:]]
    mt5 = TransformersEngine(models_yaml.parent / "mt5-xlsum", device="cpu", threads=1)
    brief = GenerationOptions(num_beams=1, max_new_tokens=10)
    summary = Summarizer(mt5, brief).summarize("\n\n".join(sentences))
    assert summary.chunks == summary.rounds == 1 and summary.input_tokens > 5
    expected = mt5.generate([xlsum_whitespace(" ".join(sentences))], brief)[0]  # one pass, one line of input
    assert (summary.text, summary.score) == (expected.text, pytest.approx(expected.score, abs=1e-4))
