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
from tarjama.result import ArticleResult

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
        jsonschema.validate(result.to_dict(), SCHEMA)
    longest = results[-1]
    assert longest.summary_info["strategy"] == "chunk-merge" and longest.summary_info["chunks"] > 1
    assert sum(len(p) for p in longest.paragraphs) > 50


def test_run_many_equals_run_one_by_one(pipeline, fifty: list[dict]) -> None:
    texts = [a["text"] for a in fifty[:3]]
    together = pipeline.run_many(texts, targets=("en",), summarize=False)
    alone = [pipeline.run(t, targets=("en",), summarize=False) for t in texts]
    for a, b in zip(together, alone):
        assert a.paragraphs == b.paragraphs
        assert [s.source for s in a.translations["en"].sentences()] == \
               [s.source for s in b.translations["en"].sentences()]


def test_seed_article_result(pipeline) -> None:
    text = SEED.read_text(encoding="utf-8")
    result = pipeline.run(text, targets=("en", "es"), summarize=True)
    assert_accounted(result, text, ("en", "es"))
    kinds = {(r["kind"], r["text"]) for r in result.removed}
    for line in ("قد يعجبك ايضا", "ابق على اتصال", "احصل على النشرة الإخبارية"):
        assert ("boilerplate", line) in kinds
    assert any(k == "repeated_title" for k, _ in kinds)
    assert result.demo is True
    assert {"segment", "summarize", "translate_en", "translate_es", "total"} <= set(result.timings)
    assert {m.key for m in result.models} == {"ar-en", "ar-es", "ar"}
    md = result.to_markdown()
    assert md.startswith("> **DEMO**") and "## English" in md and "## Spanish" in md
    jsonschema.validate(result.to_dict(), SCHEMA)
    again = ArticleResult.from_dict(json.loads(result.to_json()))
    assert again.to_dict() == result.to_dict()


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
    assert str(err.value)


def test_unknown_target(pipeline) -> None:
    from tarjama.registry import ConfigError

    with pytest.raises(ConfigError, match=r"no model for ar→de \(have: en, es\)"):
        pipeline.run("قال الوزير.", targets=("de",))


def test_parts_stand_alone(pipeline) -> None:
    from tarjama.summarize import Summarizer
    from tarjama.translate import Translator

    tr = pipeline.translator("en")
    assert isinstance(tr, Translator)
    assert len(tr.translate(["قال الوزير.", "2023"])) == 2
    assert isinstance(pipeline.summarizer(), Summarizer)
