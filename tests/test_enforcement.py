"""Glossary terms, protected tokens and the number check end to end, on the code path a user runs.

With the trained copy model (tests/tiny_models.py, ``copy/``), which outputs its input, the success
paths show: terms restored from placeholders, tokens and numbers carried, nothing flagged.  With the
random-weight models, which copy nothing, the fallbacks show: the normal hypothesis kept, the misses
flagged and named, nothing lost.  No engine is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from tarjama.translate.flags import Flag
from tarjama.translate.glossary import glossary_from_rows

from tarjama.pipeline import Pipeline
from tarjama.result import ArticleResult

REPO = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((REPO / "tarjama" / "schema" / "article.schema.json").read_text(encoding="utf-8"))
IOM_AR = "المنظمة الدولية للهجرة"
IOM_EN = "International Organization for Migration"
IOM_ES = "Organización Internacional para las Migraciones"
GLOSSARY_CSV = f"ar,en,es\n{IOM_AR},{IOM_EN},{IOM_ES}\nمصر,Egypt,Egipto\n"
ARTICLE = ("قالت وللمنظمة الدولية للهجرة في مصر إن ٣٫٥ مليون شخص تأثروا عام ٢٠٢٣.\n\n"
           "وأطلقت IOM منصة E-Campus لمكافحة COVID-19، انظر https://iom.int/ar/news أو راسلوا info@iom.int.")
OUR_FLAGS = {Flag.GLOSSARY_MISSED, Flag.ENTITY_MISSED, Flag.NUMBERS, Flag.QUOTES}


@pytest.fixture(scope="module")
def glossary_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("glossary") / "terms.csv"
    path.write_text(GLOSSARY_CSV, encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["transformers", "ctranslate2"])
def copying(request: pytest.FixtureRequest, copy_models: Path) -> Pipeline:
    return Pipeline.from_config(copy_models, memory=False, backend=request.param)


def sentences(result: ArticleResult, lang: str = "en"):
    return result.translations[lang].sentences()


def test_the_copy_model_gets_every_term_and_token_in(copying: Pipeline, glossary_file: Path) -> None:
    result = copying.run(ARTICLE, targets=["en", "es"], summarize=False, glossary=glossary_file)
    jsonschema.validate(result.to_dict(), SCHEMA)
    first, second = sentences(result)
    # The terms were missing from the normal decoding (the model copied the Arabic), so they came in as
    # placeholders and were restored; the clitic stays in front as a word of its own.
    assert first.glossary == [{"term": IOM_AR, "target": IOM_EN, "how": "placeholder"},
                              {"term": "مصر", "target": "Egypt", "how": "placeholder"}]
    assert IOM_EN in first.text and "Egypt" in first.text and IOM_AR not in first.text
    assert "ول " + IOM_EN in first.text
    # The numbers, as ASCII digits in the model input, came through: no numbers flag.
    assert "3.5" in first.text and "2023" in first.text
    # Latin-script tokens were copied by the normal decoding: kept.
    assert second.protected == [{"token": t, "how": "kept"} for t in
                                ("IOM", "E-Campus", "COVID-19", "https://iom.int/ar/news", "info@iom.int")]
    assert not any(OUR_FLAGS & set(s.flags) for s in (first, second))
    assert "numbers" not in first.details and "glossary_missed" not in first.details
    es_first = sentences(result, "es")[0]
    assert [g["target"] for g in es_first.glossary] == [IOM_ES, "Egipto"] and IOM_ES in es_first.text
    assert result.translations["en"].counts()["glossary"] == {"kept": 0, "placeholder": 2, "missed": 0}
    assert result.translations["en"].counts()["protected"] == {"kept": 5, "placeholder": 0, "missed": 0}


def test_a_term_the_model_already_translates_is_kept_undisturbed(copying: Pipeline) -> None:
    # The copy model "translates" منظمة IOM into a text holding IOM: the rule is met, no re-decoding.
    glossary = glossary_from_rows(["ar", "en"], [["منظمة", "IOM"]])
    plain = copying.run("قالت منظمة IOM إن الاجتماع انتهى.", targets=["en"], summarize=False)
    result = copying.run("قالت منظمة IOM إن الاجتماع انتهى.", targets=["en"], summarize=False, glossary=glossary)
    [sent] = sentences(result)
    assert sent.glossary == [{"term": "منظمة", "target": "IOM", "how": "kept"}]
    assert sent.text == sentences(plain)[0].text and sent.score == sentences(plain)[0].score


def test_a_dropped_token_comes_back_through_a_placeholder(copy_models: Path) -> None:
    # A glossary rule that removes IOM from the normal decoding's text cannot exist; instead give the
    # Translator a sentence whose normal decoding is cut short (max_new_tokens) so the URL is missing, while
    # the placeholder decoding (a short ZQA instead of a long URL) fits.
    pipe = Pipeline.from_config(copy_models, memory=False, backend="transformers")
    translator = pipe.translator("en")
    text = "انظر https://www.iom.int/ar/news/a-very-long-address-indeed-for-this-test"
    normal = translator.engine.count_tokens([text])[0]
    translator.options = translator.options.replace(max_new_tokens=normal - 8)
    [out] = translator.translate([text])
    [token] = [e for e in out.enforced if e.kind == "token"]
    assert token.how == "placeholder" and token.source in out.text
    assert Flag.ENTITY_MISSED not in out.flags


def test_models_yaml_glossary_applies_and_run_glossary_wins(copy_models: Path, tmp_path: Path) -> None:
    (tmp_path / "newsroom.csv").write_text("ar,en\nمصر,Misr\nتونس,Tunisia\n", encoding="utf-8")
    yaml_text = copy_models.read_text(encoding="utf-8").replace(
        "translation:", f"glossary: {tmp_path / 'newsroom.csv'}\ntranslation:", 1)
    models = copy_models.parent / "models-with-glossary.yaml"
    models.write_text(yaml_text, encoding="utf-8")
    pipe = Pipeline.from_config(models, memory=False, backend="transformers")
    [sent] = sentences(pipe.run("زار الوفد مصر وتونس.", targets=["en"], summarize=False))
    assert [g["target"] for g in sent.glossary] == ["Misr", "Tunisia"]
    run_rules = glossary_from_rows(["ar", "en"], [["مصر", "Egypt"]])
    [sent] = sentences(pipe.run("زار الوفد مصر وتونس.", targets=["en"], summarize=False, glossary=run_rules))
    assert [g["target"] for g in sent.glossary] == ["Egypt", "Tunisia"] and "Egypt" in sent.text


def test_random_models_fall_back_flag_and_lose_nothing(models_yaml: Path, glossary_file: Path) -> None:
    pipe = Pipeline.from_config(models_yaml, memory=False, backend="transformers")
    plain = pipe.run(ARTICLE, targets=["en"], summarize=False)
    result = pipe.run(ARTICLE, targets=["en"], summarize=False, glossary=glossary_file)
    jsonschema.validate(result.to_dict(), SCHEMA)
    first, second = sentences(result)
    # Nothing a random model outputs holds the terms: the best normal hypothesis stays, flagged and named.
    assert [s.text for s in sentences(result)] == [s.text for s in sentences(plain)]
    assert {g["how"] for g in first.glossary} == {"missed"} and Flag.GLOSSARY_MISSED in first.flags
    assert first.details["glossary_missed"] == f"«{IOM_AR}» should be “{IOM_EN}”; «مصر» should be “Egypt”"
    assert Flag.ENTITY_MISSED in second.flags and second.details["entity_missed"].split("; ")[0] == "IOM"
    assert {p["how"] for p in second.protected} == {"missed"}
    assert Flag.NUMBERS in first.flags and "3.5" in first.details["numbers"]
    md = result.to_markdown()
    assert "glossary_missed: «" in md and "entity_missed: IOM" in md


def test_the_memory_replays_enforcement_without_the_model(copy_models: Path, glossary_file: Path,
                                                        tmp_path: Path) -> None:
    pipe = Pipeline.from_config(copy_models, memory=tmp_path / "memory.sqlite", backend="transformers")
    first = pipe.run(ARTICLE, targets=["en"], summarize=False, glossary=glossary_file)
    engine = pipe.translator("en").engine
    calls = engine.calls
    again = pipe.run(ARTICLE, targets=["en"], summarize=False, glossary=glossary_file)
    assert engine.calls == calls
    assert [s.text for s in sentences(again)] == [s.text for s in sentences(first)]
    assert [s.glossary for s in sentences(again)] == [s.glossary for s in sentences(first)]


def test_the_cli_translate_and_batch_take_a_glossary(copy_models: Path, glossary_file: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from tarjama.cli import main

    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    assert main(["translate", str(article), "--models", str(copy_models), "--to", "en", "--no-memory",
                 "--glossary", str(glossary_file), "--format", "json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    first = data["translations"]["en"]["paragraphs"][0][0]
    assert [g["how"] for g in first["glossary"]] == ["placeholder", "placeholder"] and IOM_EN in first["text"]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": f"a{i}", "text": ARTICLE}, ensure_ascii=False) + "\n"
                            for i in range(2)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(feed), "--models", str(copy_models), "--to", "en", "--no-memory", "--quiet",
                 "--glossary", str(glossary_file), "--out", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["translations"]["en"]["counts"]["glossary"]["placeholder"] for d in lines] == [2, 2]
    manifest = json.loads((tmp_path / "out.manifest.json").read_text(encoding="utf-8"))
    assert manifest["glossary"]
    # Resuming with other rules would mix two glossaries in one output: refused.
    other = tmp_path / "other.csv"
    other.write_text("ar,en\nمصر,Misr\n", encoding="utf-8")
    assert main(["batch", str(feed), "--models", str(copy_models), "--to", "en", "--no-memory", "--quiet",
                 "--glossary", str(other), "--out", str(out), "--resume"]) == 2
    assert "other glossary rules" in capsys.readouterr().err


@pytest.mark.parametrize(("content", "code", "message"), [
    ("en,es\nEgypt,Egipto\n", 2, "the header has no 'ar' column"),
    ("ar,en\n,Egypt\nمصر,Egypt\n", 0, "warning: glossary"),  # a bad row is a warning; the rest applies
])
def test_the_cli_reports_glossary_problems(copy_models: Path, tmp_path: Path, content: str, code: int,
                                           message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tarjama.cli import main

    path = tmp_path / "g.csv"
    path.write_text(content, encoding="utf-8")
    article = tmp_path / "a.txt"
    article.write_text("زار الوفد مصر.", encoding="utf-8")
    assert main(["translate", str(article), "--models", str(copy_models), "--to", "en", "--no-memory", "--quiet",
                 "--glossary", str(path), "--format", "txt"]) == code
    assert message in capsys.readouterr().err


def test_enforce_false_flags_without_re_decoding(models_yaml: Path, glossary_file: Path, tmp_path: Path) -> None:
    """models.yaml ``enforce: false`` (benchmarks): the misses are still found and flagged, with no n-best call."""
    text = models_yaml.read_text(encoding="utf-8").replace("    max_sentence_tokens: 120\n",
                                                          "    max_sentence_tokens: 120\n    enforce: false\n")
    models = models_yaml.parent / "models-no-enforce.yaml"
    models.write_text(text, encoding="utf-8")
    pipe = Pipeline.from_config(models, memory=False, backend="transformers")
    engine = pipe.translator("en").engine
    calls = engine.calls
    pipe.run(ARTICLE, targets=["en"], summarize=False)
    plain = engine.calls - calls
    result = pipe.run(ARTICLE, targets=["en"], summarize=False, glossary=glossary_file)
    assert engine.calls - calls == 2 * plain  # as many model calls as without a glossary: no n-best decoding
    first, second = sentences(result)
    assert Flag.GLOSSARY_MISSED in first.flags and Flag.ENTITY_MISSED in second.flags
