"""``tarjama eval mt|summary`` end to end: --hyp runs (no models) in-process and as a subprocess, errors,
and runs with the generated models on shared-corpus files.  Checks structure and sanity, never quality
(the generated models' output is noise)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from tarjama.cli import main

EN = ["The cat sat on the mat.", "Local media reports a fire.", "The pilot was identified.", "It rained all day."]
AR = ["جلست القطة على الحصيرة.", "أفادت وسائل الإعلام المحلية بوقوع حريق.", "تم التعرف على الطيار.",
      "أمطرت طوال اليوم."]
ARTICLE = ("أعلنت الحكومة اليوم خطة جديدة للنقل العام في المدينة. وقال الوزير إن الخطة تبدأ الشهر المقبل.\n"
           "وتشمل الخطة ثلاث مراحل رئيسية. ويتوقع الخبراء نجاحها في تخفيف الازدحام.")
SUMMARY = "الحكومة تعلن خطة جديدة للنقل العام تبدأ الشهر المقبل."
MT_KEYS = {"task", "settings", "lines", "scored", "skipped_blank_ref", "scores", "signatures", "flags", "worst"}
SUMMARY_KEYS = {"task", "settings", "records", "scored", "skipped", "scores", "mean_tokens", "documents"}


def _write(path: Path, lines: list[str]) -> str:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def _eval(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["eval", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code, out, err = _eval(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def _in_range(scores: dict) -> bool:
    return all(0.0 <= v <= 100.0 for v in scores.values())


# -- eval mt --hyp: no models --------------------------------------------------------------------------------


@pytest.fixture()
def mt_files(tmp_path: Path) -> dict[str, str]:
    return {"src": _write(tmp_path / "t.ar", AR), "ref": _write(tmp_path / "t.en", EN),
            "same": _write(tmp_path / "same.en", EN),
            "other": _write(tmp_path / "other.en", ["A dog sat on a mat.", "", "The pilot was known.", "Rain."])}


def test_mt_hyp_identical_is_100(capsys, mt_files) -> None:
    report = _json(capsys, "mt", "--hyp", mt_files["same"], "--ref", mt_files["ref"])
    assert MT_KEYS | {"hypotheses_file"} <= set(report) and "hypotheses" not in report
    assert report["scores"] == pytest.approx({"bleu": 100.0, "chrf": 100.0, "chrf++": 100.0})
    assert report["flags"]["available"] is False and "unavailable" in report["flags"]["note"]
    assert report["settings"]["models"] is None and report["hypotheses_file"] == mt_files["same"]
    assert [w["chrf"] for w in report["worst"]] == [100.0] * 4 and report["worst"][0]["source"] is None


def test_mt_hyp_text_report(capsys, mt_files) -> None:
    code, out, _ = _eval(capsys, "mt", "--hyp", mt_files["other"], "--ref", mt_files["ref"], "--src", mt_files["src"])
    assert code == 0
    assert "BLEU" in out and "chrF++" in out and "nrefs:1|case:mixed" in out and "tok:13a" in out
    assert "flags are unavailable" in out
    # the empty hypothesis (line 2) is the worst line, shown with its source and reference
    worst = out.split("worst 4 lines by sentence chrF:")[1]
    assert worst.lstrip().startswith("line 2  chrF 0.0") and AR[1] in worst and EN[1] in worst


def test_mt_hyp_worst_lines_sorted(capsys, mt_files) -> None:
    report = _json(capsys, "mt", "--hyp", mt_files["other"], "--ref", mt_files["ref"], "--src", mt_files["src"])
    chrfs = [w["chrf"] for w in report["worst"]]
    assert chrfs == sorted(chrfs) and report["worst"][0] == {"line": 2, "chrf": 0.0, "source": AR[1],
                                                              "hypothesis": "", "reference": EN[1]}
    assert 0 < report["scores"]["chrf"] < 100 and _in_range(report["scores"])


def test_mt_blank_reference_lines_are_skipped(capsys, tmp_path, mt_files) -> None:
    ref = _write(tmp_path / "gaps.en", [EN[0], "  ", EN[2], EN[3]])
    report = _json(capsys, "mt", "--hyp", mt_files["same"], "--ref", ref)
    assert report["lines"] == 4 and report["scored"] == 3 and report["skipped_blank_ref"] == [2]
    assert report["scores"]["bleu"] == pytest.approx(100.0)  # line 2 (hypothesis EN[1]) is not scored
    assert 2 not in [w["line"] for w in report["worst"]]


def test_mt_line_count_mismatch_names_files_and_counts(capsys, tmp_path, mt_files) -> None:
    short = _write(tmp_path / "short.en", EN[:3])
    code, _, err = _eval(capsys, "mt", "--hyp", short, "--ref", mt_files["ref"])
    assert code == 1 and f"hypotheses {short} has 3 lines, reference {mt_files['ref']} has 4" in err
    assert "--limit 3" in err  # a --save of a --limit run
    assert _json(capsys, "mt", "--hyp", short, "--ref", mt_files["ref"], "--limit", "3")["scored"] == 3
    code, _, err = _eval(capsys, "mt", "--src", short, "--ref", mt_files["ref"], "--to", "en")
    assert code == 1 and f"source {short} has 3 lines" in err  # before any model loads


@pytest.mark.parametrize("args,code,message", [
    (["--src", "{src}", "--hyp", "{same}", "--save", "x.txt"], 2, "--save needs a translation run"),
    (["--hyp", "{same}", "--glossary", "g.tsv"], 2, "--glossary needs a translation run"),
    (["--src", "{src}"], 2, "give --to"),
    ([], 2, "give --src and --to"),
    (["--hyp", "/nonexistent/hyp.txt"], 1, "hypotheses file /nonexistent/hyp.txt not found"),
    (["--hyp", "{same}", "--limit", "0"], 2, "--limit must be at least 1"),
])
def test_mt_usage_errors(capsys, mt_files, args: list[str], code: int, message: str) -> None:
    got, _, err = _eval(capsys, "mt", "--ref", mt_files["ref"], *[a.format(**mt_files) for a in args])
    assert got == code and message in err


def test_mt_not_utf8(capsys, tmp_path, mt_files) -> None:
    bad = tmp_path / "bad.en"
    bad.write_bytes(b"caf\xe9\n" * 4)
    code, _, err = _eval(capsys, "mt", "--hyp", str(bad), "--ref", mt_files["ref"])
    assert code == 1 and f"{bad} is not UTF-8" in err


def test_mt_hyp_as_a_subprocess(mt_files) -> None:
    proc = run_cli("eval", "mt", "--hyp", mt_files["other"], "--ref", mt_files["ref"], "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    assert set(report) >= MT_KEYS and _in_range(report["scores"]) and report["scored"] == 4
    assert b"loading models" not in proc.stderr  # --hyp never loads a model


def test_help_teaches() -> None:
    for task, words in (("mt", ["examples:", "--hyp", "BLEU", "signature", "blank reference"]),
                        ("summary", ["examples:", "ROUGE", "lead-1", "--summary-field summaries", "FILE:LINE"])):
        proc = run_cli("eval", task, "--help")
        assert proc.returncode == 0 and all(w in proc.stdout.decode() for w in words), task


# -- eval summary --hyp: no models ---------------------------------------------------------------------------


@pytest.fixture()
def summ_data(tmp_path: Path) -> str:
    rows = [
        json.dumps({"id": "a", "text": ARTICLE, "summary": SUMMARY}, ensure_ascii=False),
        "",                                                                          # blank: not a record
        '{"id": "broken", "text": ',                                                 # line 3: not JSON
        json.dumps({"id": "b", "text": ARTICLE, "summary": "وقال الوزير إن الخطة تبدأ الشهر المقبل."},
                   ensure_ascii=False),
        json.dumps({"id": "c", "text": ARTICLE}, ensure_ascii=False),                # line 5: no summary
        json.dumps({"id": "d", "text": "An English article, not Arabic at all. " * 5, "summary": "x"}),  # line 6
        json.dumps({"id": "e", "text": ARTICLE, "summaries": [SUMMARY, "الخبراء يتوقعون نجاح الخطة."],
                    "summary": ["خطة جديدة للنقل.", SUMMARY]}, ensure_ascii=False),  # several references
    ]
    return _write(tmp_path / "data.jsonl", rows)


def _hyps(tmp_path: Path, lines: list[str]) -> str:
    return _write(tmp_path / "hyp.txt", lines)


def test_summary_hyp_scores_and_baselines(capsys, tmp_path, summ_data) -> None:
    # one line per record (6 records; the blank line is none), skipped ones included
    hyp = _hyps(tmp_path, [SUMMARY, "", "وقال الوزير إن الخطة تبدأ الشهر المقبل.", "", "", SUMMARY])
    code, out, err = _eval(capsys, "summary", "--data", summ_data, "--hyp", hyp, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert SUMMARY_KEYS | {"summaries_file"} <= set(report)
    assert report["records"] == 6 and report["scored"] == 3 and report["skipped"]["count"] == 3
    assert [r["line"] for r in report["skipped"]["rows"]] == [3, 5, 6]
    for line, why in ((3, "not valid JSON"), (5, "no reference summary in field 'summary'"), (6, "article refused")):
        assert f"{summ_data}:{line}: {why}" in err
    assert set(report["scores"]) == {"model", "lead-1", "lead-3"}
    assert all(report["scores"]["model"][k] == {"p": 100.0, "r": 100.0, "f": 100.0}
               for k in ("rouge1", "rouge2", "rougeL"))  # each summary is (one of) its reference(s)
    assert all(_in_range({k: v["f"] for k, v in s.items()}) for s in report["scores"].values())
    # record b's reference is the article's second sentence: lead-3 contains it (recall 1), lead-1 does not
    assert [d["id"] for d in report["documents"]] == ["a", "b", "e"]
    assert report["settings"]["stemming"] is False and "Arabic diacritics" in report["settings"]["tokenizer"]


def test_summary_hyp_text_report(capsys, tmp_path, summ_data) -> None:
    hyp = _hyps(tmp_path, [SUMMARY] * 6)
    code, out, _ = _eval(capsys, "summary", "--data", summ_data, "--hyp", hyp)
    assert code == 0
    assert "ROUGE-1" in out and "ROUGE-L" in out and "lead-1" in out and "lead-3" in out
    assert "3 of 6 records scored (3 skipped)" in out and "no stemming" in out


def test_summary_several_references(capsys, tmp_path, summ_data) -> None:
    hyp = _hyps(tmp_path, ["الخبراء يتوقعون نجاح الخطة."] * 6)
    report = _json(capsys, "summary", "--data", summ_data, "--hyp", hyp, "--summary-field", "summaries")
    assert report["scored"] == 1 and report["skipped"]["count"] == 5  # only record e has "summaries"
    assert report["documents"][0]["rouge1"] == 100.0  # the second reference matches


def test_summary_hyp_count_mismatch(capsys, tmp_path, summ_data) -> None:
    hyp = _hyps(tmp_path, [SUMMARY] * 3)
    code, _, err = _eval(capsys, "summary", "--data", summ_data, "--hyp", hyp)
    assert code == 1 and f"summaries {hyp} has 3 lines, data {summ_data} has 6 records" in err
    assert _json(capsys, "summary", "--data", summ_data, "--hyp", hyp, "--limit", "3")["records"] == 3


def test_summary_other_language_with_hyp_has_no_baselines(capsys, tmp_path) -> None:
    data = _write(tmp_path / "en.jsonl", [json.dumps({"text": ARTICLE, "summary_en": "A new transport plan."},
                                                     ensure_ascii=False)])
    hyp = _hyps(tmp_path, ["The government announces a new transport plan."])
    report = _json(capsys, "summary", "--data", data, "--hyp", hyp, "--lang", "en", "--summary-field", "summary_en")
    assert set(report["scores"]) == {"model"} and "lead baselines need translating" in report["note"]
    # the reference's 4 tokens (a new transport plan) are all among the hypothesis's 7
    assert report["scores"]["model"]["rouge1"] == pytest.approx({"p": 100 * 4 / 7, "r": 100.0, "f": 100 * 8 / 11},
                                                                abs=1e-4)


@pytest.mark.parametrize("args,message", [
    (["--data", "/nonexistent.jsonl", "--hyp", "h.txt"], "data file /nonexistent.jsonl not found"),
    (["--data", "{data}", "--hyp", "{data}", "--save", "x.txt"], "--save needs a summarization run"),
])
def test_summary_usage_errors(capsys, summ_data, args: list[str], message: str) -> None:
    code, _, err = _eval(capsys, "summary", *[a.format(data=summ_data) for a in args])
    assert code in (1, 2) and message in err


def test_summary_nothing_usable(capsys, tmp_path) -> None:
    data = _write(tmp_path / "bad.jsonl", ["[1, 2]", "nope"])
    code, _, err = _eval(capsys, "summary", "--data", data, "--hyp", _hyps(tmp_path, ["", ""]))
    assert code == 1 and "nothing to score" in err and f"{data}:1: not a JSON object" in err


# -- with the generated models, on the shared corpus ---------------------------------------------------------


@pytest.mark.slow
def test_mt_with_models_on_flores(capsys, tmp_path, models_yaml, corpus) -> None:
    src, ref = corpus / "mt" / "flores200.dev.arb_Arab", corpus / "mt" / "flores200.dev.eng_Latn"
    saved = tmp_path / "hyp.en"
    report = _json(capsys, "mt", "--src", str(src), "--ref", str(ref), "--to", "en", "--limit", "2",
                   "--models", str(models_yaml), "--save", str(saved), "--quiet")
    assert MT_KEYS | {"hypotheses_file"} <= set(report) and report["scored"] == report["lines"] == 2
    assert _in_range(report["scores"]) and set(report["signatures"]) == {"bleu", "chrf", "chrf++"}
    flags = report["flags"]
    assert flags["available"] and flags["sentences"] == 2 and flags["flagged"] + flags["unflagged"] == 2
    assert all(0 <= n <= flags["flagged"] for n in flags["counts"].values())
    assert report["settings"]["demo"] and report["settings"]["models"][0]["key"] == "ar-en"
    assert len(report["worst"]) == 2 and all(0 <= w["chrf"] <= 100 for w in report["worst"])
    assert len(saved.read_text(encoding="utf-8").splitlines()) == 2
    # scoring the saved file again gives the same numbers, without flags and without models
    again = _json(capsys, "mt", "--hyp", str(saved), "--ref", str(ref), "--limit", "2")
    assert again["scores"] == report["scores"] and not again["flags"]["available"]


@pytest.mark.slow
def test_summary_with_models_on_easc(capsys, tmp_path, models_yaml, corpus) -> None:
    # EASC: shorter articles than ANT's (fewer chunks for the slow generated mT5), five references each
    data = corpus / "summ" / "easc.shared.jsonl"
    report = _json(capsys, "summary", "--data", str(data), "--summary-field", "summaries", "--limit", "2",
                   "--models", str(models_yaml), "--quiet")
    assert SUMMARY_KEYS | {"summaries"} <= set(report)
    assert report["scored"] + report["skipped"]["count"] == report["records"] == 2
    assert set(report["scores"]) == {"model", "lead-1", "lead-3"} and len(report["summaries"]) == report["scored"]
    for system in report["scores"].values():
        assert all(0 <= v <= 100 for score in system.values() for v in score.values())
    assert report["settings"]["models"][0]["key"] == "ar"


@pytest.mark.slow
def test_summary_with_models_translated_references(capsys, tmp_path, models_yaml) -> None:
    short = ARTICLE.split("\n")[0]  # two sentences: few to translate (the generated models are slow at it)
    data = _write(tmp_path / "en.jsonl", [json.dumps({"text": short, "summary_en": "A new transport plan."},
                                                     ensure_ascii=False)])
    saved = tmp_path / "summaries.en"
    report = _json(capsys, "summary", "--data", data, "--lang", "en", "--summary-field", "summary_en",
                   "--models", str(models_yaml), "--save", str(saved), "--quiet")
    assert report["scored"] == 1 and set(report["scores"]) == {"model", "lead-1", "lead-3"}
    assert [m["key"] for m in report["settings"]["models"]] == ["ar", "ar-en"]
    assert "translated into en" in report["settings"]["leads"]
    assert len(saved.read_text(encoding="utf-8").splitlines()) == 1


def test_summary_hyp_on_ant(capsys, tmp_path, corpus) -> None:
    # the shared ANT file's first 3 records, their own reference summaries as the "model": 100, no models
    data = corpus / "summ" / "ant_bbc_cnn_summaries.shared.jsonl"
    with data.open(encoding="utf-8") as f:
        refs = [json.loads(next(f))["summary"] for _ in range(3)]
    report = _json(capsys, "summary", "--data", str(data), "--limit", "3", "--hyp", _hyps(tmp_path, refs))
    assert report["records"] == report["scored"] == 3 and report["settings"]["models"] is None
    assert all(report["scores"]["model"][k]["f"] == 100.0 for k in ("rouge1", "rouge2", "rougeL"))
    assert all(0 < s["rouge1"]["f"] < 100 for name, s in report["scores"].items() if name != "model")


def test_mt_with_a_glossary_on_the_copy_model(capsys, tmp_path, copy_models) -> None:
    """The copy model outputs its input, so a reference equal to the source with the glossary applied
    scores 100 only when the term really went in (a glossary path through `eval mt`, not a quality claim)."""
    src = _write(tmp_path / "g.ar", ["قالت وزارة الصحة إن الاجتماع انتهى."])
    ref = _write(tmp_path / "g.en", ["قالت Ministry of Health إن الاجتماع انتهى."])
    glossary = tmp_path / "terms.csv"
    glossary.write_text("ar,en\nوزارة الصحة,Ministry of Health\n", encoding="utf-8")
    report = _json(capsys, "mt", "--src", src, "--ref", ref, "--to", "en", "--models", str(copy_models),
                   "--glossary", str(glossary), "--quiet")
    assert report["scores"]["chrf"] == pytest.approx(100.0) and report["settings"]["glossary"] == str(glossary)
    assert report["flags"]["counts"].get("glossary_missed", 0) == 0
    without = _json(capsys, "mt", "--src", src, "--ref", ref, "--to", "en", "--models", str(copy_models), "--quiet")
    assert without["scores"]["chrf"] < 100.0
