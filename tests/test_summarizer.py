"""mT5 summaries on a generated model: single pass for short articles, chunk-merge for long ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import news_articles
from tarjama.summarize.summarizer import BATCH_TOKENS, MANY_BATCH_TOKENS, Summarizer
from tarjama.translate.engine import GenerationOptions, TransformersEngine
from tarjama.translate.segment import segment


class RecordingEngine(TransformersEngine):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.inputs: list[str] = []
        self.batches: list[list[str]] = []

    def generate(self, texts, options):
        self.inputs += texts
        self.batches.append(list(texts))
        return super().generate(texts, options)


@pytest.fixture(scope="module")
def summarizer(models_yaml: Path) -> Summarizer:
    engine = RecordingEngine(models_yaml.parent / "mt5-xlsum", device="cpu", threads=1)
    return Summarizer(engine, GenerationOptions(num_beams=2, max_new_tokens=20, no_repeat_ngram_size=2,
                                                length_penalty=0.6), max_input_tokens=512)


@pytest.fixture(scope="module")
def longest(corpus: Path) -> dict:
    return max(news_articles(corpus), key=lambda a: len(a["text"]))


def test_short_article_is_one_pass(summarizer: Summarizer) -> None:
    summarizer.engine.inputs.clear()
    s = summarizer.summarize("قال الوزير إن الاجتماع انتهى. وأضاف أن الوفد غادر.")
    assert (s.chunks, s.rounds, s.strategy) == (1, 1, "single")
    assert len(summarizer.engine.inputs) == 1
    assert s.text and s.score is not None


def test_long_article_is_chunked_not_cut(summarizer: Summarizer, longest: dict) -> None:
    text = segment(longest["text"]).text
    engine = summarizer.engine
    assert engine.count_tokens([text])[0] > 4 * 512
    chunks = summarizer.chunk(text)
    assert len(chunks) > 4
    assert max(engine.count_tokens(chunks)) <= 512
    assert "".join("".join(chunks).split()) == "".join(text.split())  # every character, once, in order
    engine.inputs.clear()
    s = summarizer.summarize(text)
    assert s.strategy == "chunk-merge" and s.chunks == len(chunks) and s.rounds >= 2
    assert engine.inputs[: len(chunks)] == chunks or sorted(engine.inputs[: len(chunks)]) == sorted(chunks)
    assert max(engine.count_tokens(engine.inputs)) <= 512  # nothing the model saw was cut by the tokenizer
    assert s.input_tokens >= engine.count_tokens([text])[0] - len(chunks)


def test_many_articles_share_batches(summarizer: Summarizer, corpus: Path) -> None:
    texts = [a["text"] for a, _ in zip(news_articles(corpus), range(6))]
    together = summarizer.summarize_many(texts)
    alone = [summarizer.summarize(t) for t in texts]
    assert [s.chunks for s in together] == [s.chunks for s in alone]
    assert all(s.text for s in together)


def test_token_budget_bounds_every_pass(summarizer: Summarizer, corpus: Path) -> None:
    """Each pass holds at most ``batch_tokens`` padded tokens (or one row); the many-article budget
    (MANY_BATCH_TOKENS, what run_many uses) needs fewer passes for the same summaries' chunks."""
    texts = [a["text"] for a, _ in zip(news_articles(corpus), range(8))]
    engine, passes = summarizer.engine, {}
    for budget in (BATCH_TOKENS, MANY_BATCH_TOKENS):
        s = Summarizer(engine, summarizer.options, max_input_tokens=512, batch_tokens=budget)
        engine.batches.clear()
        summaries = s.summarize_many(texts)
        assert all(x.text for x in summaries)
        for batch in engine.batches:
            assert len(batch) == 1 or len(batch) * max(engine.count_tokens(batch)) <= budget
        passes[budget] = len(engine.batches)
    first_round = [c for t in texts for c in summarizer.chunk(t)]
    assert sum(engine.count_tokens(first_round)) > 2 * BATCH_TOKENS  # the budget binds here
    assert passes[MANY_BATCH_TOKENS] < passes[BATCH_TOKENS]


def test_empty_text_has_empty_summary(summarizer: Summarizer) -> None:
    summarizer.engine.inputs.clear()
    [s] = summarizer.summarize_many([""])
    assert (s.text, s.chunks) == ("", 0)
    assert summarizer.engine.inputs == []


def test_lead_strategy_is_one_pass_over_the_first_chunk(summarizer: Summarizer, longest: dict) -> None:
    """models.yaml ``strategy: lead``: one model pass, the first chunk only — and the result says so."""
    text = segment(longest["text"]).text
    lead = Summarizer(summarizer.engine, summarizer.options, strategy="lead")
    chunks = lead.chunk(text)
    summarizer.engine.inputs.clear()
    s = lead.summarize(text)
    assert summarizer.engine.inputs == chunks[:1]
    assert (s.strategy, s.chunks, s.rounds) == ("lead", len(chunks), 1)
    short = lead.summarize("قال الوزير إن الاجتماع انتهى.")
    assert short.strategy == "single"
    with pytest.raises(ValueError, match="strategy"):
        Summarizer(summarizer.engine, strategy="first-and-last")


def test_segmented_articles_are_not_segmented_again(summarizer: Summarizer, corpus: Path, monkeypatch) -> None:
    """The pipeline hands over its paragraphs of sentences: the same chunks and summaries as from the text,
    without a second segmentation of the article (only the chunk summaries, model text, are cut again)."""
    texts = [a["text"] for a, _ in zip(news_articles(corpus), range(3))]
    articles = [[[s.text for s in p.sentences] for p in segment(t).paragraphs] for t in texts]
    expected = summarizer.summarize_many(texts)
    cut: list[str] = []

    def counting(text: str):
        cut.append(text)
        return segment(text)

    monkeypatch.setattr("tarjama.summarize.summarizer.segment", counting)
    assert [summarizer.chunk_segmented(a) for a in articles[:1]] == [summarizer.chunk(texts[0])]
    cut.clear()
    assert summarizer.summarize_segmented(articles) == expected
    assert not set(cut) & {*texts, *(segment(t).text for t in texts)}
