"""Every front door checks and cuts each article once, and the pipeline's per-article outcomes and timings.

An article validated or segmented twice is wasted work at best and two different answers at worst (the
summarizer reading another segmentation than the translator), so the calls are counted, per article,
through ``Pipeline.run``, ``Pipeline.run_many``, ``prepare`` then ``run``, ``tarjama translate`` and
``tarjama batch``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, news_articles
from tarjama.translate.segment import segment

from tarjama.documents import InputError, read_document
from tarjama.engines import EngineCache
from tarjama.pipeline import Pipeline, PreparedArticle, prepare_article
from tarjama.registry import Registry
from tarjama.result import ArticleResult

SCHEMA = json.loads((REPO / "tarjama" / "schema" / "article.schema.json").read_text())
ENGLISH = "The minister said on Monday that the meeting would be held in the capital next week."
SHARED_STAGES = ("load", "summarize", "translate_en", "total")


def first_paragraphs(text: str, chars: int = 220) -> str:
    """An article's first paragraphs, about ``chars`` long: the generated models decode every sentence to
    its length limit, so short articles keep these tests quick."""
    out: list[str] = []
    for para in (p.strip() for p in text.split("\n")):
        if para:
            out.append(para)
        if sum(map(len, out)) >= chars:
            break
    return "\n\n".join(out)


@pytest.fixture(scope="module")
def articles(corpus: Path) -> list[str]:
    """Three short shared-corpus articles of two or more sentences that the pipeline accepts."""
    out = []
    for art in news_articles(corpus):
        text = first_paragraphs(art["text"])
        try:
            if len(prepare_article(text).seg.sentences()) >= 2:
                out.append(text)
        except InputError:
            continue
        if len(out) == 3:
            return out
    pytest.skip("fewer than 3 usable articles in the corpus")


# -- exactly once ----------------------------------------------------------------------------------


class Calls:
    """Counts calls of ``validate_text`` and ``segment`` on each article, wherever they are looked up.

    Every module of tarjama (and the page) that holds the real function under its name gets a counting
    wrapper, so a second check hidden in a front door, the batch layer or the summarizer shows up. Only
    calls on an article's text (as given, or as cleaned) count; a summary's own sentences are not it.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, texts: list[str]) -> None:
        self.articles = {t: i for i, t in enumerate(texts)} | {segment(t).text: i for i, t in enumerate(texts)}
        self.counts: Counter[tuple[str, int]] = Counter()
        import tarjama.translate.segment as seg_module

        import tarjama.documents.checks as checks

        for name, real in (("validate_text", checks.validate_text), ("segment", seg_module.segment)):
            for module in [m for key, m in list(sys.modules.items()) if key.split(".")[0] in ("tarjama", "app")]:
                if getattr(module, name, None) is real:
                    monkeypatch.setattr(module, name, self._counting(name, real))

    def _counting(self, name: str, real: Callable) -> Callable:
        def wrapper(text, *args, **kwargs):
            if text in self.articles:
                self.counts[name, self.articles[text]] += 1
            return real(text, *args, **kwargs)
        return wrapper

    def per_article(self, n: int) -> dict[str, list[int]]:
        return {name: [self.counts[name, i] for i in range(n)] for name in ("validate_text", "segment")}


def door_run(pipe: Pipeline, texts: list[str], tmp_path: Path, models_yaml: Path) -> None:
    for text in texts:
        pipe.run(text, targets=("en",), summarize=True)


def door_run_many(pipe: Pipeline, texts: list[str], tmp_path: Path, models_yaml: Path) -> None:
    assert all(isinstance(r, ArticleResult) for r in pipe.run_many(texts, targets=("en",), summarize=True))


def door_prepare_then_run(pipe: Pipeline, texts: list[str], tmp_path: Path, models_yaml: Path) -> None:
    """What a front door that refuses bad input before loading models does: ``run`` never re-checks."""
    for prepared in [pipe.prepare(t) for t in texts]:
        pipe.run(prepared, targets=("en",), summarize=True)


def door_cli(pipe: Pipeline, texts: list[str], tmp_path: Path, models_yaml: Path) -> None:
    from tarjama.cli import main

    for i, _ in enumerate(texts):
        out = tmp_path / f"a{i}.json"
        assert main(["translate", str(tmp_path / f"a{i}.md"), "--to", "en", "--summary", "--format", "json",
                     "-o", str(out), "--quiet", "--models", str(models_yaml)]) == 0
        assert json.loads(out.read_text(encoding="utf-8"))["paragraphs"]


def door_batch(pipe: Pipeline, texts: list[str], tmp_path: Path, models_yaml: Path) -> None:
    from tarjama.batch import BatchConfig, run_batch

    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": f"a{i}", "text": t}, ensure_ascii=False) + "\n"
                            for i, t in enumerate(texts)), encoding="utf-8")
    cfg = BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",), summarize=True)
    assert run_batch(cfg, pipe).translated == len(texts)


def door_page_upload(pipe: Pipeline, texts: list[str], tmp_path: Path, models_yaml: Path) -> None:
    """The editor's page: a file uploaded (checked when loaded), then Translate on the unchanged box."""
    import app

    editor = app.EditorApp(pipe)
    editor.build()  # the components its handlers fill; nothing is served
    for i, text in enumerate(texts):
        loaded = editor.load_file(str(tmp_path / f"a{i}.md"))
        assert loaded[editor.article] == text
        out = _page_run(editor, text, loaded[editor.upload_state])
        assert out[editor.out.work]["result"]["paragraphs"]


def _page_run(editor, text: str, upload: dict | None) -> dict:
    """Translate as the page does: ``start_run`` (validates once, checks what a re-run keeps), then ``translate``."""
    started = editor.start_run(text, ["en"], True, upload, None)
    return editor.translate(started[editor.pending], None, None, progress=lambda *a, **k: None)


def door_page_text(pipe: Pipeline, texts: list[str], tmp_path: Path, models_yaml: Path) -> None:
    """The editor's page with pasted text, and its HTTP API (gradio_client's /translate)."""
    import app

    editor = app.EditorApp(pipe)
    editor.build()
    for i, text in enumerate(texts):
        if i % 2:
            assert editor.api_translate(text, "en", True)["paragraphs"]
        else:
            assert _page_run(editor, text, None)[editor.out.work]["result"]["paragraphs"]


@pytest.mark.parametrize("door", [door_run, door_run_many, door_prepare_then_run, door_cli, door_batch,
                                  door_page_upload, door_page_text],
                         ids=["run", "run_many", "prepare-then-run", "cli-translate", "batch", "page-upload",
                              "page-text"])
def test_each_article_is_validated_and_segmented_once(pipeline, articles: list[str], models_yaml: Path,
                                                      tmp_path: Path, monkeypatch, door) -> None:
    texts = []
    for i, text in enumerate(articles):  # the text each door reads: a file's text may differ from the string
        (tmp_path / f"a{i}.md").write_text(text, encoding="utf-8")
        texts.append(read_document(tmp_path / f"a{i}.md").text)
    calls = Calls(monkeypatch, texts)
    door(pipeline, texts, tmp_path, models_yaml)
    once = [1] * len(texts)
    assert calls.per_article(len(texts)) == {"validate_text": once, "segment": once}


# -- outcomes --------------------------------------------------------------------------------------


def sentence_facts(result: ArticleResult) -> dict[str, list[tuple]]:
    return {lang: [(s.source, s.text, s.score, s.flags) for s in tr.sentences()]
            for lang, tr in result.translations.items()}


def test_run_many_equals_run_one_by_one(models_yaml: Path, articles: list[str]) -> None:
    """Sharing batches changes no translation, score, flag or summary (no memory: every sentence decoded)."""
    pipe = Pipeline.from_config(models_yaml, memory=False)
    together = pipe.run_many(articles, targets=("en",), summarize=True)
    alone = [pipe.run(t, targets=("en",), summarize=True) for t in articles]
    for a, b in zip(together, alone, strict=True):
        assert a.paragraphs == b.paragraphs
        assert sentence_facts(a) == sentence_facts(b)
        assert a.summaries == b.summaries and set(a.summaries) == {"ar", "en"}
        assert a.summary_info == b.summary_info


def test_a_bad_article_fails_alone(pipeline, articles: list[str]) -> None:
    items = [articles[0], ENGLISH, articles[1], "  \n "]
    outcomes = pipeline.run_many(items, targets=("en",), summarize=False)
    assert [type(o) for o in outcomes] == [ArticleResult, InputError, ArticleResult, InputError]
    assert [o.reason for o in outcomes if isinstance(o, InputError)] == ["not_arabic", "empty"]
    assert all(o.hint for o in outcomes if isinstance(o, InputError))
    for text, result in ((articles[0], outcomes[0]), (articles[1], outcomes[2])):
        assert result.paragraphs == prepare_article(text).paragraphs
        assert all(s.text for s in result.translations["en"].sentences())
    with pytest.raises(InputError) as err:
        pipeline.run(ENGLISH, targets=("en",), summarize=False)
    assert err.value.reason == "not_arabic" and err.value.hint


def test_nothing_loads_when_every_article_is_bad(models_yaml: Path) -> None:
    pipe = Pipeline(Registry.load(models_yaml), engines=EngineCache())
    outcomes = pipe.run_many(["", ENGLISH, "ابق على اتصال\n\nاحصل على النشرة الإخبارية"], targets=("en",))
    assert [o.reason for o in outcomes] == ["empty", "not_arabic", "empty"]
    assert "nothing left to translate after cleaning" in outcomes[2].message and outcomes[2].hint
    assert pipe.engines.loaded() == []


def test_prepare_names_a_batch_row() -> None:
    from tarjama.documents import Document

    with pytest.raises(InputError) as err:
        prepare_article(Document(text=ENGLISH, id="x", source="feed.jsonl", row=3))
    assert err.value.message.startswith("feed.jsonl:3: ")
    prepared = prepare_article(Document(text="قال الوزير إن الاجتماع انتهى. وأضاف أن الوفد غادر."))
    assert isinstance(prepared, PreparedArticle) and prepared.paragraphs == [
        ["قال الوزير إن الاجتماع انتهى.", "وأضاف أن الوفد غادر."]]


# -- timings ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_runs(models_yaml: Path, articles: list[str]) -> Iterator[tuple[ArticleResult, list[ArticleResult]]]:
    """A single run on a pipeline whose models are not loaded yet, then a run_many of three."""
    pipe = Pipeline(Registry.load(models_yaml), engines=EngineCache())
    single = pipe.run(articles[0], targets=("en",), summarize=True)
    many = pipe.run_many(articles, targets=("en",), summarize=True)
    yield single, many


def test_a_single_run_times_loading_apart_from_segmenting(fresh_runs) -> None:
    single, _ = fresh_runs
    t = single.timings
    assert list(t) == ["segment", *SHARED_STAGES]
    assert t["load"] > 0 and t["segment"] < t["load"]  # the models loaded here; segmenting is not that
    assert t["total"] >= t["segment"] + t["load"] + t["summarize"] + t["translate_en"] - 0.005
    jsonschema.validate(single.to_dict(), SCHEMA)


def test_run_many_labels_the_shared_stages_as_the_chunks(fresh_runs) -> None:
    _, many = fresh_runs
    assert len(many) == 3
    for result in many:
        t = result.timings
        assert list(t) == ["segment", "chunk_articles", *(f"chunk_{s}" for s in SHARED_STAGES)]
        assert t["chunk_articles"] == 3 and t["segment"] <= t["chunk_total"]
        jsonschema.validate(result.to_dict(), SCHEMA)
    assert len({tuple(r.timings[f"chunk_{s}"] for s in SHARED_STAGES) for r in many}) == 1  # one chunk
    assert many[0].timings["chunk_load"] < fresh_runs[0].timings["load"]  # loaded by the single run already
