"""The pipeline over real articles of the shared corpus, on generated models."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, SEED, news_articles
from tarjama.translate.segment import segment

from tarjama.documents import Document, InputError
from tarjama.pipeline import Pipeline, dropped_items, iso_date
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
    assert result.to_dict()["schema"] == SCHEMA_ID == SCHEMA["properties"]["schema"]["const"] == "tarjama.article/4"


def test_version_1_json_is_still_read(pipeline) -> None:
    """/1 differs only in its timings (model loading counted in segment, a batch's chunk under plain names)."""
    old = pipeline.run("قال الوزير إن الاجتماع انتهى.", targets=("en",), summarize=False).to_dict()
    old.update(schema="tarjama.article/1", timings={"segment": 8.6, "translate_en": 0.1, "total": 8.7})
    result = ArticleResult.from_dict(old)
    assert result.timings == old["timings"] and result.paragraphs == old["paragraphs"]
    assert result.to_dict() == {**old, "schema": SCHEMA_ID}


@pytest.mark.parametrize("schema", ["tarjama.article/2", "tarjama.article/3"])
def test_results_before_headlines_are_still_read(pipeline, schema: str) -> None:
    """/3 and before had no headline or date: they read as none."""
    old = pipeline.run("قال الوزير إن الاجتماع انتهى.", targets=("en",), summarize=False).to_dict()
    del old["headline"], old["date"]
    result = ArticleResult.from_dict({**old, "schema": schema})
    assert result.headline == {} and result.date is None
    with pytest.raises(ValueError, match=r"tarjama\.article/9"):
        ArticleResult.from_dict({**old, "schema": "tarjama.article/9"})


# -- headline, date and what the reader dropped ---------------------------------------------------------

HEADLINE = "مؤتمر الأمم المتحدة يدعو إلى التمكين الاقتصادي للمهاجرات"
BODY = "قال الوزير إن الاجتماع انتهى. وأضاف أن الحكومة ستدعم المزارعين."


@dataclass(frozen=True)
class ReadDocument(Document):
    """A Document as the HTML reader will give it: with a date and the items extraction dropped."""

    date: str | None = None
    dropped: list[dict] = field(default_factory=list)


@pytest.fixture
def asked(models_yaml: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Pipeline, list[tuple[str, tuple[str, ...]]]]:
    """A pipeline without memory whose engines record every decoding call: (lang, the texts asked)."""
    pipe = Pipeline.from_config(models_yaml, memory=False)
    log: list[tuple[str, tuple[str, ...]]] = []
    for lang in ("en", "es"):
        engine = pipe.translator(lang).engine
        for name in ("generate", "generate_alternatives"):
            original = getattr(engine, name)

            def recording(texts, *args, _original=original, _lang=lang, **kwargs):
                log.append((_lang, tuple(texts)))
                return _original(texts, *args, **kwargs)

            monkeypatch.setattr(engine, name, recording)
    return pipe, log


def test_the_headline_is_translated_in_the_articles_call(asked) -> None:
    pipe, log = asked
    text = f"{HEADLINE}\n\n{BODY}"
    titled = pipe.run(Document(text=text, title=HEADLINE), targets=("en", "es"), summarize=False)
    with_title = sorted(log)
    log.clear()
    plain = pipe.run(Document(text=text), targets=("en", "es"), summarize=False)
    assert sorted(log) == with_title  # the headline is the first sentence: no call, no text more
    assert list(titled.headline) == ["ar", "en", "es"] and titled.headline["ar"] == HEADLINE
    for lang in ("en", "es"):
        assert titled.headline[lang] == titled.translations[lang].paragraphs[0][0].text
    assert plain.headline == {} and titled.title == HEADLINE
    jsonschema.validate(titled.to_dict(), SCHEMA)


def test_a_headline_the_body_lacks_is_decoded_with_the_body(asked) -> None:
    pipe, log = asked
    result = pipe.run(Document(text=BODY, title="عنوان  مختلـــف تماما"), targets=("en",), summarize=False)
    assert result.headline["ar"] == "عنوان مختلف تماما"  # cleaned as the article's lines are (tatweel, spaces)
    first = log[0][1]
    assert "عنوان مختلف تماما" in first and set(result.sentences()) <= set(first)  # one batch, not a call of its own
    assert result.headline["en"] and "عنوان مختلف تماما" not in result.paragraphs[0]
    assert result.title == "عنوان  مختلـــف تماما"  # the title stays as read


def test_the_documents_date_and_dropped_items_reach_the_result(pipeline) -> None:
    dropped = [{"kind": "byline", "line": 0, "text": "بقلم: مراسلنا", "extra": "not in the schema"},
               {"kind": "date", "line": 2, "text": "16 مايو 2018"}]
    doc = ReadDocument(text=f"{BODY}\n\nابق على اتصال", title=None, date="2018-05-16", dropped=dropped)
    result = pipeline.run(doc, targets=("en",), summarize=False)
    assert result.date == "2018-05-16" and result.headline == {}
    assert result.removed[:2] == [{"kind": "byline", "text": "بقلم: مراسلنا", "line": 0},
                                  {"kind": "date", "text": "16 مايو 2018", "line": 2}]
    assert ("boilerplate", "ابق على اتصال") in {(r["kind"], r["text"]) for r in result.removed[2:]}
    jsonschema.validate(result.to_dict(), SCHEMA)
    assert ArticleResult.from_dict(json.loads(result.to_json())).to_dict() == result.to_dict()


def test_a_plain_document_has_no_date_and_dropped_nothing() -> None:
    assert dropped_items(Document(text=BODY)) == [] and iso_date(getattr(Document(text=BODY), "date", None)) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("2018-05-16", "2018-05-16"),
    ("2018-05-16T09:30:00+03:00", "2018-05-16"),
    ("2018-02-30", None),        # not a calendar date
    ("16/05/2018", None),
    ("", None),
    (None, None),
])
def test_iso_date(value: str | None, expected: str | None) -> None:
    assert iso_date(value) == expected


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
