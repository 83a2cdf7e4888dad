"""The smoke check (tarjama.smoke): shipped data, verdicts, `models check`, and the first-use cache of `translate`."""

from __future__ import annotations

import fnmatch
import importlib.resources
import io
import json
from pathlib import Path

import pytest
import tiny_models
from conftest import run_cli
from tarjama.translate.engine import Hypothesis
from tarjama.translate.segment import arabic_share

from tarjama import paths, smoke
from tarjama.engines import EngineCache
from tarjama.pipeline import Pipeline
from tarjama.registry import Registry

FIRST_USE = "tarjama: smoke check (first use of"


# -- the shipped data ---------------------------------------------------------------------------------


def test_shipped_data_is_in_the_package_and_lines_up() -> None:
    folder = importlib.resources.files("tarjama") / "data" / "smoke"
    names = ["flores200.dev.ar", "flores200.dev.en", "flores200.dev.es", "flores200.dev.lines",
             "easc_article.json", "SOURCES.md"]
    for name in names:
        assert (folder / name).is_file(), name
        assert fnmatch.fnmatch(f"data/smoke/{name}", "data/*/*")  # pyproject's package-data pattern
    data = smoke.load_data()
    assert len(data.sources) == len(data.references["en"]) == len(data.references["es"]) == len(data.lines) == 20
    assert all(s.strip() for s in [*data.sources, *data.references["en"], *data.references["es"]])
    assert all(arabic_share(s) > 0.8 for s in data.sources)
    assert all(arabic_share(s) < 0.1 for s in data.references["en"] + data.references["es"])
    assert data.lines == list(range(1, 349, 17))[:20]
    assert arabic_share(data.article) > 0.9 and len(data.summaries) == 5
    assert all(len((folder / n).read_bytes()) < 8000 for n in names)  # a few KB each
    record = json.loads((folder / "easc_article.json").read_text(encoding="utf-8"))
    assert record["source_name"] == "Wikipedia" and "wikipedia.org" in record["url"]
    sources_md = (folder / "SOURCES.md").read_text(encoding="utf-8")
    for fact in ("CC BY-SA 4.0", "CC BY-SA 3.0", "d4522b6dc6a7d668ec636a4256c6b913671a9666",
                 "b9b4b34146b814ffe7156fc11af5bb4342d832cd", "NLLB"):
        assert fact in sources_md


def test_shipped_sentences_are_the_flores_lines_they_claim(corpus: Path) -> None:
    data = smoke.load_data()
    for lang, src in (("ar", "arb_Arab"), ("en", "eng_Latn"), ("es", "spa_Latn")):
        lines = (corpus / "mt" / f"flores200.dev.{src}").read_text(encoding="utf-8").split("\n")
        mine = data.sources if lang == "ar" else data.references[lang]
        assert mine == [lines[n - 1].strip() for n in data.lines]


# -- verdicts -----------------------------------------------------------------------------------------

_DATA = smoke.load_data()
_ARTICLE = _DATA.article


@pytest.mark.parametrize(("hypotheses", "lang", "ok"), [
    (_DATA.references["en"], "en", True),                                 # the references themselves: 100
    (_DATA.references["es"], "es", True),
    (_DATA.references["en"][1:] + _DATA.references["en"][:1], "en", False),  # fluent but unrelated lines
    (_DATA.sources, "en", False),                                         # the Arabic copied through
    ([""] * 20, "es", False),                                              # nothing
])
def test_translation_verdict(hypotheses: list[str], lang: str, ok: bool) -> None:
    score = smoke.chrf(hypotheses, _DATA.references[lang])
    assert (score >= smoke.DEFAULT_MIN_CHRF) is ok
    if ok:
        assert score == pytest.approx(100.0)


@pytest.mark.parametrize(("summary", "reason"), [
    (_DATA.summaries[0], None),
    ("", "empty"),
    ("   \n", "empty"),
    ("الحرب الحرب الحرب الحرب الحرب في اليمن", "looping"),
    ("دارت الحرب في اليمن " * 4, "looping"),
    ("The civil war in North Yemen was fought between royalists and republicans from 1962 to 1970.",
     "not mostly Arabic script"),
])
def test_summary_verdict(summary: str, reason: str | None) -> None:
    got = smoke.summary_verdict(summary, _ARTICLE)
    assert got == reason if reason is None else got.startswith(reason)


def test_unigram_overlap_is_unicode_aware() -> None:
    assert smoke.unigram_overlap(_DATA.summaries[0], _DATA.summaries) == pytest.approx(1.0)
    assert smoke.unigram_overlap("", _DATA.summaries) == 0.0
    assert smoke.unigram_overlap("The war in Yemen", _DATA.summaries) == 0.0
    assert smoke.unigram_overlap("أقدم آلة", ["اقدم آلة"]) == pytest.approx(1.0)  # hamza spellings fold
    assert 0.0 < smoke.unigram_overlap("حرب اليمن دارت في شمال اليمن", _DATA.summaries) < 1.0


# -- run_smoke ----------------------------------------------------------------------------------------


def test_run_smoke_on_random_weights_is_garbage(demo_yaml: Path) -> None:
    report = smoke.run_smoke(Pipeline.from_config(demo_yaml, memory=False), ["en", "es"], summarize=True)
    assert [d.target for d in report.directions] == ["en", "es"]
    for d in report.directions:
        assert not d.ok and d.chrf < d.threshold == smoke.DEFAULT_MIN_CHRF
        assert d.run.engine == "transformers" and d.run.revision == "generated" and d.run.weights
    assert report.summary is not None and not report.summary.ok and report.summary.reason
    assert report.garbage
    lines = report.lines()
    assert lines[0].startswith("ar-en: opus-mt-ar-en revision generated") and lines[0].endswith("GARBAGE")
    assert lines[2].startswith("summary ar: mt5-xlsum") and "GARBAGE: " in lines[2]
    warning = smoke.warning_lines(report)
    assert all(line.startswith("tarjama: WARNING:") for line in warning) and len(warning) > 6
    assert any("--backend transformers" in line for line in warning)


class _Oracle:
    """A model that answers with the human references: what a working checkpoint comes close to."""

    def __init__(self, real, answers: dict[str, str], default: str = "") -> None:
        self.real, self.answers, self.default = real, answers, default
        for name in ("name", "model_id", "revision", "device", "compute_type", "max_input_tokens", "weights"):
            setattr(self, name, getattr(real, name))
        self.calls = 0

    def __getattr__(self, name: str):
        return getattr(self.real, name)  # tokenizer-side methods (count_tokens, token_windows, unknown...)

    def generate(self, texts, options):
        self.calls += 1
        return [Hypothesis(self.answers.get(t, self.default), -0.1, 8) for t in texts]


class _OracleEngines(EngineCache):
    def get(self, spec, *, backend=None):
        real = super().get(spec, backend=backend)
        if spec.task == "summarization":
            return _Oracle(real, {}, _DATA.summaries[0])
        return _Oracle(real, dict(zip(_DATA.sources, _DATA.references[spec.target])))


def _yaml(models_yaml: Path, name: str, *, demo: bool, sentence_tokens: int = 120) -> Path:
    """A models.yaml beside the fixture's (relative model paths resolve against its folder) for the same tiny
    models, decoding at most 8 tokens: random weights loop to the limit, and 40 (the fixture's) makes every
    smoke check 3-4x slower on a shared CPU without testing anything more."""
    text = tiny_models.models_yaml(models_yaml.parent, demo=demo, max_new_tokens=8)
    path = models_yaml.parent / name
    path.write_text(text.replace("max_sentence_tokens: 120", f"max_sentence_tokens: {sentence_tokens}"),
                    encoding="utf-8")
    return path


@pytest.fixture
def demo_yaml(models_yaml: Path) -> Path:
    return _yaml(models_yaml, "smoke-demo.models.yaml", demo=True)


@pytest.fixture
def real_yaml(models_yaml: Path) -> Path:
    """The tiny models in a models.yaml NOT marked demo: what a user's broken checkpoint looks like."""
    return _yaml(models_yaml, "smoke-not-demo.models.yaml", demo=False)


def test_a_working_model_passes_and_check_once_stays_quiet(models_yaml: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARJAMA_CACHE", str(tmp_path))
    monkeypatch.delenv(paths.ENV_SMOKE, raising=False)
    # The tiny spm cuts the longest sentences into over 120 pieces; 400 means no splitting: the oracle sees whole ones.
    oracle_yaml = _yaml(models_yaml, "smoke-oracle.models.yaml", demo=False, sentence_tokens=400)
    pipe = Pipeline(Registry.load(oracle_yaml), engines=_OracleEngines(), memory=None)
    report = smoke.run_smoke(pipe, ["en", "es"], summarize=True)
    assert [round(d.chrf) for d in report.directions] == [100, 100]
    assert report.summary is not None and report.summary.ok and report.summary.overlap == pytest.approx(1.0)
    assert not report.garbage and all(line.endswith(": ok") for line in report.lines())
    out = io.StringIO()
    assert not smoke.check_once(pipe, ["en", "es"], True, stream=out).garbage
    assert FIRST_USE in out.getvalue() and "WARNING" not in out.getvalue()
    assert len(list((tmp_path / "smoke").glob("*.json"))) == 3
    again = io.StringIO()
    assert not smoke.check_once(pipe, ["es", "en"], True, stream=again).garbage
    assert again.getvalue() == ""  # cached ok verdicts: nothing to say


# -- tarjama models check -----------------------------------------------------------------------------


def test_models_check_reports_garbage_and_exits_1(demo_yaml: Path) -> None:
    proc = run_cli("models", "check", "--models", str(demo_yaml))
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 1, err
    lines = out.splitlines()
    for prefix in ("ar-en: opus-mt-ar-en revision generated", "ar-es: opus-mt-ar-es revision generated"):
        line = next(ln for ln in lines if ln.startswith(prefix))
        assert "engine transformers cpu float32" in line and " chrF " in line and line.endswith(": GARBAGE")
        assert float(line.split(" chrF ")[1].split()[0]) < smoke.DEFAULT_MIN_CHRF
    summary = next(ln for ln in lines if ln.startswith("summary ar: mt5-xlsum revision generated"))
    assert ": GARBAGE: " in summary
    assert sum(ln.startswith("tarjama: WARNING: ") for ln in err.splitlines()) > 6
    assert "DEMO models" in out


def test_models_check_reports_every_model_even_when_one_is_missing(real_yaml: Path) -> None:
    broken = real_yaml.with_name("smoke-missing.models.yaml")
    text = real_yaml.read_text(encoding="utf-8")
    broken.write_text(text.replace("model: opus-mt-ar-en", "model: ./no-such-model-folder"), encoding="utf-8")
    proc = run_cli("models", "check", "--models", str(broken))
    out = proc.stdout.decode()
    assert proc.returncode == 1, proc.stderr.decode()
    assert any(ln.startswith("ar-en: FAILED to load ./no-such-model-folder") for ln in out.splitlines()), out
    assert any(ln.startswith("ar-es: loaded opus-mt-ar-es") for ln in out.splitlines())
    assert any(ln.startswith("ar-es: opus-mt-ar-es") and ln.endswith("GARBAGE") for ln in out.splitlines())
    assert any(ln.startswith("summary ar: mt5-xlsum") for ln in out.splitlines())


# -- the first use in tarjama translate ---------------------------------------------------------------


ARTICLE = "قال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل.\n\nوأضاف أن الوفد غادر العاصمة صباح اليوم."


def _translate(yaml: Path, cache: Path, *to: str, **env: str):
    """`tarjama translate - --summary` on a two-sentence article (the smoke check is the cost under test)."""
    proc = run_cli("translate", "-", "--to", ",".join(to), "--summary", "--format", "txt", "--quiet",
                   "--models", str(yaml), env={"TARJAMA_CACHE": str(cache), paths.ENV_SMOKE: "", **env},
                   stdin=ARTICLE.encode())
    assert proc.returncode == 0, proc.stderr.decode()  # a garbage verdict never stops the run
    assert proc.stdout.strip()
    return proc.stderr.decode()


def _stamps(folder: Path) -> dict[str, tuple[int, str]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}


def test_translate_checks_on_first_use_then_reads_the_cached_verdict(real_yaml: Path, tmp_path: Path) -> None:
    err = _translate(real_yaml, tmp_path, "en")
    assert f"{FIRST_USE} ar-en, ar)" in err
    assert "tarjama: WARNING: " in err and "ar-en (opus-mt-ar-en@generated" in err
    cached = _stamps(tmp_path / "smoke")
    assert len(cached) == 2  # one verdict per model: ar-en and the summarizer
    verdicts = [json.loads(text) for _, text in cached.values()]
    assert {v["verdict"] for v in verdicts} == {"garbage"}
    assert {v["check"]["run"]["key"] for v in verdicts} == {"ar-en", "ar"}

    err = _translate(real_yaml, tmp_path, "en")  # the check does not run again: no timing line, files untouched
    assert FIRST_USE not in err
    assert "tarjama: WARNING: " in err and "verdict cached in" in err and "ar-en (opus-mt-ar-en@generated" in err
    assert _stamps(tmp_path / "smoke") == cached

    err = _translate(real_yaml, tmp_path, "en", "es")  # a new model: only it is checked
    assert f"{FIRST_USE} ar-es)" in err
    now = _stamps(tmp_path / "smoke")
    assert len(now) == 3 and {k: now[k] for k in cached} == cached


@pytest.mark.parametrize("case", ["TARJAMA_SMOKE=0", "demo"])
def test_translate_skips_the_check(case: str, real_yaml: Path, demo_yaml: Path, tmp_path: Path) -> None:
    if case == "demo":
        err = _translate(demo_yaml, tmp_path, "en")
    else:
        err = _translate(real_yaml, tmp_path, "en", TARJAMA_SMOKE="0")
    assert FIRST_USE not in err and "WARNING" not in err
    assert not (tmp_path / "smoke").exists()


def test_translate_help_describes_the_check() -> None:
    proc = run_cli("translate", "--help")
    text = " ".join(proc.stdout.decode().split())
    assert "smoke check" in text and "TARJAMA_SMOKE=0" in text and "DEMO" in text
