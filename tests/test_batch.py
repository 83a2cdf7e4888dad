"""``tarjama batch`` in this process: every record accounted for exactly once, with the right reason.

Subprocess tests (kill -9, Ctrl-C, resume) are in test_batch_cli.py.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, news_articles
from tarjama.translate.segment import segment

from tarjama.batch import (
    BarProgress,
    BatchConfig,
    BatchError,
    Fields,
    JsonlLog,
    LogProgress,
    enumerate_inputs,
    resume_command,
    run_batch,
    safe_name,
)
from tarjama.cli import main
from tarjama.documents import Document, InputError
from tarjama.pipeline import prepare_article
from tarjama.result import markdown_text

SCHEMA = json.loads((REPO / "tarjama" / "schema" / "article.schema.json").read_text())
ERROR_KEYS = {"id", "source", "reason", "message"}
BOOM = "كلمةالانفجارالمصطنعة"  # a record whose text holds this makes the fake engine crash
ARABIC = "قال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل في العاصمة."
ENGLISH = "The minister said on Monday that the meeting would be held in the capital next week."


def short(text: str, chars: int = 250) -> str:
    """The first paragraphs of an article, at most ~``chars`` long (cut at a space): keeps the suite
    quick on tiny models."""
    out: list[str] = []
    for para in text.split("\n"):
        if para.strip():
            out.append(para.strip())
        if sum(map(len, out)) >= chars:
            break
    joined = "\n".join(out)
    return joined if len(joined) <= chars + 100 else joined[: chars + 100].rsplit(" ", 1)[0]


def accepted(text: str) -> bool:
    """Whether the pipeline takes ``text`` (its one check: validated and segmented, no model)."""
    try:
        prepare_article(text)
    except InputError:
        return False
    return True


def good_articles(corpus: Path, n: int) -> list[dict]:
    """``n`` shared-corpus articles (shortened) that pass the pipeline's checks."""
    out = []
    for art in news_articles(corpus):
        text = short(art["text"])
        if accepted(text):
            out.append({"id": art["id"], "title": art.get("title"), "text": text})
        if len(out) == n:
            return out
    pytest.skip(f"only {len(out)} usable articles in the corpus")


def jsonl(rows: list) -> bytes:
    return b"".join(r if isinstance(r, bytes) else (json.dumps(r, ensure_ascii=False) + "\n").encode()
                    for r in rows)


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"{path} ends in a torn line"
    return [json.loads(line) for line in data.split(b"\n") if line]


class CrashingPipeline:
    """The real pipeline, plus two test hooks: on its first call it deletes ``victims`` (files the
    run enumerated but has not read yet), and any chunk holding BOOM raises like a broken engine.
    """

    def __init__(self, pipe, victims: list[Path] = ()) -> None:
        self.pipe, self.victims, self.calls = pipe, list(victims), 0
        self.registry = pipe.registry

    def preload(self, *args, **kwargs):
        return self.pipe.preload(*args, **kwargs)

    def run_many(self, items, targets, summarize):
        self.calls += 1
        for victim in self.victims:
            victim.unlink()
        self.victims = []
        if any(BOOM in d.text for d in items):
            raise RuntimeError("simulated engine crash")
        return self.pipe.run_many(items, targets, summarize)


# -- the poison batch ------------------------------------------------------------------------------


def build_poison_batch(root: Path, corpus: Path) -> tuple[list[str], dict[str, str], dict[str, str], list[Path]]:
    """≥ 200 good records and ≥ 10 % poison of every kind.

    Returns the inputs, the expected outcome per id ("ok" or a failure reason), the expected
    duplicate_id positions (source → id), and the files to delete mid-run.
    """
    arts = good_articles(corpus, 205)
    expect: dict[str, str] = {}
    dups: dict[str, str] = {}
    inputs = []

    # JSONL: 150 good rows and a poison row of every kind a row can have.
    feed = root / "feed.jsonl"
    rows: list = []
    for art in arts[:150]:
        rows.append(art)
        expect[art["id"]] = "ok"

    def poison(row, reason: str, key: str | None = None) -> None:
        rows.append(row)
        expect[key or f"{feed}:{len(rows)}"] = reason

    for i in range(3):
        poison({"id": f"english-{i}", "text": ENGLISH}, "not_arabic", f"english-{i}")
    poison({"id": "tatweel", "text": "ـــــ ـــ"}, "empty", "tatweel")  # nothing left after cleaning
    poison({"id": "blank-text", "text": "   "}, "empty", "blank-text")   # an empty field: empty, its id kept
    poison({"id": "no-text", "body": ARABIC}, "malformed")
    poison(b'{"id": "cut-off", "text": "\xd9\x82\xd8\xa7\n', "malformed")  # truncated JSON
    poison(b'["an", "array"]\n', "malformed")
    poison(b'{"id": "cp1256", "text": "' + ARABIC.encode("cp1256") + b'"}\n', "malformed")  # undecodable
    for i in range(2):
        poison({"id": f"huge-{i}", "text": (ARABIC + " ") * (300_000 // len(ARABIC))}, "too_long", f"huge-{i}")
    poison({"id": "boom", "text": ARABIC + " " + BOOM}, "model_error", "boom")
    for art in (arts[3], arts[40]):  # the same id again: accounted for once, by position
        rows.append({"id": art["id"], "text": ARABIC})
        dups[f"{feed}:{len(rows)}"] = art["id"]
    feed.write_bytes(jsonl(rows))
    inputs.append(str(feed))

    # CSV: 30 good rows, then bad rows.
    table = root / "feed.csv"
    lines = ["id,title,text"] + [f'{a["id"]},,"{a["text"].replace(chr(34), 2 * chr(34))}"' for a in arts[150:180]]
    expect.update({a["id"]: "ok" for a in arts[150:180]})
    lines.append(f"csv-en,,{ENGLISH}")
    expect["csv-en"] = "not_arabic"

    def bad_row(line: str) -> None:  # keyed by its record (the header is row 1), not by its physical line
        expect[f"{table}:{len(lines) + 1}"] = "malformed"
        lines.append(line)

    bad_row(f"csv-extra,title,{ARABIC},one field too many")
    bad_row('csv-quote,,"' + ARABIC)  # a quote never closed, at the end of the file
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    inputs.append(str(table))

    packed = root / "packed.jsonl"  # a whole record file that is binary: one failure for the file
    packed.write_bytes(gzip.compress(jsonl(arts[:2])))
    expect[str(packed)] = "binary"
    inputs.append(str(packed))

    # A folder: 25 good documents and bad files of every kind.
    docs = root / "wire"
    (docs / "sub").mkdir(parents=True)
    for i, art in enumerate(arts[180:205]):
        path = docs / ("sub" if i % 2 else "") / f"a{i:02d}{'.md' if i % 3 == 0 else '.txt'}"
        path.write_text(art["text"], encoding="utf-8")
        expect[str(path)] = "ok"
    bad_files = {
        "empty.txt": (b"", "empty"),
        "blank.md": (b" \n\t\n", "empty"),
        "english.txt": (ENGLISH.encode(), "not_arabic"),
        "cp1256-a.txt": (ARABIC.encode("cp1256"), "undecodable"),
        "cp1256-b.md": (("\n" + ARABIC).encode("cp1256"), "undecodable"),
        "scan.txt": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + bytes(range(256)), "binary"),
        "photo.md": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "binary"),
        "nul.txt": (ARABIC.encode() + b"\x00\x01\x02" * 50, "binary"),
        "huge.txt": (((ARABIC + "\n") * (300_000 // len(ARABIC))).encode(), "too_long"),
        "report.pdf": (b"%PDF-1.4\n", "unsupported"),
    }
    for name, (data, reason) in bad_files.items():
        (docs / name).write_bytes(data)
        expect[str(docs / name)] = reason
    victims = [docs / "zz-vanishes-1.txt", docs / "zz-vanishes-2.md"]  # sorted last: read last
    for victim in victims:
        victim.write_text(ARABIC, encoding="utf-8")
        expect[str(victim)] = "missing"
    (docs / ".hidden.txt").write_text("ignored", encoding="utf-8")
    inputs.append(str(docs))
    return inputs, expect, dups, victims


def check_exactly_once(out: Path, errors: Path, expect: dict[str, str], dups: dict[str, str]) -> None:
    results, failures = read_jsonl(out), read_jsonl(errors)
    ids = [r["id"] for r in results] + [e["id"] for e in failures if e["reason"] != "duplicate_id"]
    repeated = [k for k, n in Counter(ids).items() if n > 1]
    assert not repeated, f"ids written twice: {repeated[:5]}"
    assert set(ids) == set(expect), (sorted(set(expect) - set(ids))[:5], sorted(set(ids) - set(expect))[:5])
    got = {r["id"]: "ok" for r in results} | {e["id"]: e["reason"] for e in failures if e["reason"] != "duplicate_id"}
    wrong = {k: (got[k], v) for k, v in expect.items() if got[k] != v}
    assert not wrong, f"(got, expected): {wrong}"
    assert {e["source"]: e["id"] for e in failures if e["reason"] == "duplicate_id"} == dups
    for entry in failures:
        assert set(entry) == ERROR_KEYS and all(isinstance(v, str) and v for v in entry.values())


@pytest.fixture(scope="module")
def poison_run(tmp_path_factory, corpus: Path, pipeline):
    root = tmp_path_factory.mktemp("poison")
    inputs, expect, dups, victims = build_poison_batch(root, corpus)
    cfg = BatchConfig(inputs=tuple(inputs), out=root / "out.jsonl", targets=("en",), chunk=16)
    fake = CrashingPipeline(pipeline, victims)
    report = run_batch(cfg, fake)
    return cfg, report, expect, dups, fake


def test_poison_batch_accounts_for_every_record_once(poison_run) -> None:
    cfg, report, expect, dups, _ = poison_run
    poisoned = sum(v != "ok" for v in expect.values()) + len(dups)
    assert len(expect) + len(dups) >= 200 and poisoned >= 0.1 * (len(expect) + len(dups))
    assert set(expect.values()) >= {"ok", "empty", "not_arabic", "undecodable", "binary", "malformed",
                                    "too_long", "missing", "unsupported", "model_error"}
    check_exactly_once(cfg.out, cfg.errors_path, expect, dups)
    assert report.translated == sum(v == "ok" for v in expect.values())
    assert report.failed == poisoned and report.interrupted is None
    assert cfg.errors_path == cfg.out.parent / "out.errors.jsonl"


def test_poison_batch_messages_name_the_record(poison_run) -> None:
    cfg, *_ = poison_run
    for entry in read_jsonl(cfg.errors_path):
        assert entry["source"] in entry["message"]
    by_id = {e["id"]: e for e in read_jsonl(cfg.errors_path)}
    assert any("not valid UTF-8" in e["message"] for e in by_id.values() if e["reason"] == "malformed")
    assert "simulated engine crash" in by_id["boom"]["message"]
    assert "100,000-character limit" in by_id["huge-0"]["message"]


def test_poison_batch_output_lines_follow_the_article_schema(poison_run) -> None:
    cfg, *_ = poison_run
    results = read_jsonl(cfg.out)
    for entry in results[:3] + results[-3:]:
        jsonschema.validate(entry, SCHEMA)
    rows = {r["id"]: r["source"] for r in results}
    assert all(src.get("file") for src in rows.values())
    assert any(src.get("row") == 1 for src in rows.values())


def test_a_chunk_that_crashes_is_rerun_article_by_article(poison_run) -> None:
    """The BOOM record's chunk-mates were translated, not failed with it."""
    cfg, _, expect, _, fake = poison_run
    ok = sum(v == "ok" for v in expect.values())
    assert fake.calls > ok / 16  # the crashing chunk was re-run one article at a time
    assert len(read_jsonl(cfg.out)) == ok


def test_resuming_a_finished_batch_adds_nothing(poison_run, pipeline) -> None:
    cfg, first, expect, dups, _ = poison_run
    before = cfg.out.read_bytes(), cfg.errors_path.read_bytes()
    again = BatchConfig(**{**cfg.__dict__, "resume": True})
    report = run_batch(again, CrashingPipeline(pipeline))
    assert (report.translated, report.failed) == (0, 0)
    # every record is already done, duplicates included; the vanished files are gone from the listing now
    assert report.skipped == len(expect) + len(dups) - 2
    assert (cfg.out.read_bytes(), cfg.errors_path.read_bytes()) == before
    assert report.failed_total == first.failed


# -- resume, repair, compatibility -----------------------------------------------------------------


@pytest.fixture()
def small_feed(tmp_path: Path, corpus: Path) -> tuple[Path, list[dict]]:
    arts = good_articles(corpus, 12)
    path = tmp_path / "feed.jsonl"
    path.write_bytes(jsonl(arts))
    return path, arts


def test_resume_repairs_a_torn_line_and_continues(tmp_path: Path, small_feed, pipeline) -> None:
    feed, arts = small_feed
    cfg = BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",), chunk=4, limit=5)
    assert run_batch(cfg, pipeline).translated == 5
    whole = cfg.out.read_bytes()
    torn = whole.split(b"\n")[4][:100]  # what a kill in the middle of the 5th line leaves
    cfg.out.write_bytes(b"\n".join(whole.split(b"\n")[:4]) + b"\n" + torn)
    notes: list[str] = []
    report = run_batch(BatchConfig(**{**cfg.__dict__, "resume": True, "limit": None}), pipeline, log=notes.append)
    assert any("torn last line" in n and str(cfg.out) in n for n in notes)
    assert (report.skipped, report.translated) == (4, 8)
    assert [r["id"] for r in read_jsonl(cfg.out)] == [a["id"] for a in arts]


def test_a_corrupt_line_inside_the_output_is_refused(tmp_path: Path, small_feed, pipeline) -> None:
    feed, _ = small_feed
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n')
    cfg = BatchConfig(inputs=(str(feed),), out=out, targets=("en",), resume=True)
    with pytest.raises(BatchError, match=r"out.jsonl:2: not a tarjama batch entry"):
        run_batch(cfg, pipeline)


def test_refuses_to_overwrite_without_resume(tmp_path: Path, small_feed, pipeline) -> None:
    feed, _ = small_feed
    cfg = BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",), limit=1)
    run_batch(cfg, pipeline)
    with pytest.raises(BatchError, match="--resume") as info:
        run_batch(cfg, pipeline)
    assert info.value.code == 2


@pytest.mark.parametrize(("change", "message"), [
    ({"targets": ("en", "es")}, "targets en (this run: en,es)"),
    ({"summarize": True}, "without summaries (this run: with)"),
])
def test_resume_with_other_settings_is_refused(tmp_path: Path, small_feed, pipeline, change, message) -> None:
    feed, _ = small_feed
    cfg = BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",), limit=1)
    run_batch(cfg, pipeline)
    before = cfg.out.read_bytes()
    with pytest.raises(BatchError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_batch(BatchConfig(**{**cfg.__dict__, "resume": True, **change}), pipeline)
    assert cfg.out.read_bytes() == before


def test_resume_with_other_models_is_refused(tmp_path: Path, small_feed, models_yaml: Path, capsys) -> None:
    feed, _ = small_feed
    out = tmp_path / "out.jsonl"
    assert main(["batch", str(feed), "--to", "en", "--out", str(out), "--limit", "1", "--quiet",
                 "--models", str(models_yaml)]) == 0
    other = tmp_path / "models.yaml"
    text = models_yaml.read_text().replace("revision: generated", "revision: v2")
    other.write_text(text.replace("model: ", f"model: {models_yaml.parent}/"))
    code = main(["batch", str(feed), "--to", "en", "--out", str(out), "--resume", "--quiet", "--models", str(other)])
    assert code == 2
    assert "was made by a different run: ar-en: opus-mt-ar-en@generated (this run: " in capsys.readouterr().err


def test_without_a_manifest_the_first_line_is_the_reference(tmp_path: Path, small_feed, pipeline) -> None:
    feed, _ = small_feed
    cfg = BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",), limit=1)
    run_batch(cfg, pipeline)
    cfg.manifest_path.unlink()
    with pytest.raises(BatchError, match="targets en"):
        run_batch(BatchConfig(**{**cfg.__dict__, "resume": True, "targets": ("es",)}), pipeline)


def test_limit_counts_records_after_the_resumed_ones(tmp_path: Path, small_feed, pipeline) -> None:
    feed, arts = small_feed
    cfg = BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",), limit=3)
    first = run_batch(cfg, pipeline)
    second = run_batch(BatchConfig(**{**cfg.__dict__, "resume": True}), pipeline)
    assert (first.translated, first.limited, second.skipped, second.translated) == (3, True, 3, 3)
    assert [r["id"] for r in read_jsonl(cfg.out)] == [a["id"] for a in arts[:6]]


def test_a_second_run_on_the_same_output_waits_for_the_lock(tmp_path: Path, small_feed, pipeline) -> None:
    import fcntl
    import os

    feed, _ = small_feed
    cfg = BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",), limit=1)
    fd = os.open(cfg.errors_path, os.O_RDONLY | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(BatchError, match="another tarjama batch"):
            run_batch(cfg, pipeline)
    finally:
        os.close(fd)


# -- the command line, in this process ------------------------------------------------------------


def batch(*args: str, models_yaml: Path) -> int:
    return main(["batch", *args, "--models", str(models_yaml), "--quiet"])


def test_exit_codes_and_summary_line(tmp_path: Path, small_feed, models_yaml: Path, capsys) -> None:
    feed, arts = small_feed
    out = tmp_path / "ok.jsonl"
    assert batch(str(feed), "--to", "en", "--out", str(out), "--limit", "2", models_yaml=models_yaml) == 0
    assert "stopped at --limit: 2 translated, 0 failed" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(jsonl([arts[0], {"id": "en", "text": ENGLISH}, b"{oops\n"]))
    out2 = tmp_path / "mixed.jsonl"
    assert batch(str(bad), "--to", "en", "--out", str(out2), models_yaml=models_yaml) == 1
    err = capsys.readouterr().err
    assert "batch done: 1 translated, 2 failed (malformed 1, not_arabic 1)" in err
    assert f"see {tmp_path / 'mixed.errors.jsonl'}" in err
    errors = sorted(read_jsonl(tmp_path / "mixed.errors.jsonl"), key=lambda e: e["source"])  # chunk's after row's
    assert [set(e) for e in errors] == [ERROR_KEYS] * 2
    assert [(e["id"], e["source"], e["reason"]) for e in errors] == [
        ("en", f"{bad}:2", "not_arabic"), (f"{bad}:3", f"{bad}:3", "malformed")]
    # resuming a run that had failures still exits 1: the batch as a whole has failures
    assert batch(str(bad), "--to", "en", "--out", str(out2), "--resume", models_yaml=models_yaml) == 1


@pytest.mark.parametrize("args", [
    ["/nonexistent/wire", "--to", "en"],
    ["{feed}", "--to", "en", "--workers", "0"],
    ["{feed}", "--to", "en,de"],
    ["{feed}", "--to", "en", "--format", "dir"],  # --out is a file
])
def test_usage_errors_exit_2(tmp_path: Path, small_feed, models_yaml: Path, capsys, args) -> None:
    feed, _ = small_feed
    out = tmp_path / "out.jsonl"
    out.write_text("")
    code = batch(*[a.format(feed=feed) for a in args], "--out", str(out), models_yaml=models_yaml)
    assert code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("tarjama: error: ") and "Traceback" not in err


def test_argparse_usage_error_is_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["batch", "x.jsonl", "--to", "en"])  # no --out
    assert info.value.code == 2


def test_dir_format(tmp_path: Path, models_yaml: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    ids = ["wire/2024:1", "../etc", "خبر-٣"]
    feed.write_bytes(jsonl([{"id": i, "text": ARABIC, "title": "عنوان"} for i in ids]))
    out = tmp_path / "night"
    assert batch(str(feed), "--to", "en,es", "--summary", "--format", "dir", "--out", str(out),
                 models_yaml=models_yaml) == 0
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 3 * 4 and not [n for n in names if n.startswith(".")]
    for record_id in ids:
        base = safe_name(record_id)
        assert "/" not in base and not base.startswith(".")
        data = json.loads((out / f"{base}.json").read_text(encoding="utf-8"))
        assert data["id"] == record_id
        jsonschema.validate(data, SCHEMA)
        escaped = "\n\n".join(markdown_text(p) for p in data["translations"]["en"]["text"].split("\n\n"))
        assert (out / f"{base}.en.md").read_text(encoding="utf-8").strip().endswith(escaped)  # as Markdown shows it
        summary = (out / f"{base}.summary.md").read_text(encoding="utf-8")
        assert "## Arabic" in summary and "## English" in summary and "## Spanish" in summary
    assert (tmp_path / "night.manifest.json").exists() and (tmp_path / "night.errors.jsonl").exists()
    # a resume reads the ids back from the .json files: nothing is redone
    assert batch(str(feed), "--to", "en,es", "--summary", "--format", "dir", "--out", str(out), "--resume",
                 models_yaml=models_yaml) == 0
    assert len(list(out.iterdir())) == 12


def test_safe_names_are_distinct_and_bounded() -> None:
    ids = ["a/b", "a%2Fb", "a:b", ".hidden", "..", "x" * 400, "x" * 399 + "y", "خبر"]
    names = [safe_name(i) for i in ids]
    assert len(set(names)) == len(ids)
    assert all(len(n.encode()) <= 150 and "/" not in n and not n.startswith(".") for n in names)


def test_stdin_jsonl(tmp_path: Path, models_yaml: Path, monkeypatch) -> None:
    data = jsonl([{"text": ARABIC}, {"id": "x", "text": ARABIC + " وأضاف."}, {"text": ENGLISH}])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out = tmp_path / "out.jsonl"
    assert batch("-", "--to", "es", "--out", str(out), models_yaml=models_yaml) == 1
    results = read_jsonl(out)
    assert [r["id"] for r in results][1] == "x" and results[0]["id"].startswith("sha1:")
    assert read_jsonl(tmp_path / "out.errors.jsonl")[0]["id"].startswith("sha1:")


def test_html_page_only_the_article_is_translated(tmp_path: Path, models_yaml: Path, corpus: Path) -> None:
    arts = good_articles(corpus, 2)
    paras = [p for p in arts[1]["text"].split("\n") if p.strip()]
    chrome = ["الرئيسية سياسة اقتصاد رياضة", "إعلان: اشترك الآن واحصل على خصم", "جميع الحقوق محفوظة لموقع الخبر",
              "الأكثر قراءة: فيديو طريف"]
    page = f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{arts[1]['title']}</title>
</head><body><header><nav class="main-nav"><a href="/">{chrome[0]}</a></nav></header>
<div class="ad-slot">{chrome[1]}</div>
<main><article><h1>{arts[1]['title']}</h1>{''.join(f'<p>{p}</p>' for p in paras)}</article></main>
<aside class="most-read"><ul><li><a href="/x">{chrome[3]}</a></li></ul></aside>
<footer class="site-footer"><p>{chrome[2]}</p></footer></body></html>"""
    (tmp_path / "wire").mkdir()
    (tmp_path / "wire" / "page.html").write_text(page, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(str(tmp_path / "wire"), "--to", "en", "--out", str(out), models_yaml=models_yaml) == 0
    (result,) = read_jsonl(out)
    source = " ".join(s for p in result["paragraphs"] for s in p)
    assert not [c for c in chrome if c in source]
    expected = {s.text for s in segment("\n\n".join(paras)).sentences()}
    assert {s for p in result["paragraphs"] for s in p} - {result["title"]} == expected
    assert result["id"] == str(tmp_path / "wire" / "page.html") and result["title"] == arts[1]["title"]
    assert len(result["translations"]["en"]["paragraphs"]) == len(result["paragraphs"])


def test_docx_keeps_paragraphs(tmp_path: Path, models_yaml: Path) -> None:
    import docx

    doc = docx.Document()
    doc.add_heading("عنوان الخبر", level=1)
    paras = [ARABIC, "وأضاف أن الوفد غادر العاصمة صباح اليوم.", "وتابع: سنعود الأسبوع المقبل."]
    for para in paras:
        doc.add_paragraph(para)
    path = tmp_path / "story.docx"
    doc.save(path)
    out = tmp_path / "out.jsonl"
    assert batch(str(path), "--to", "en", "--out", str(out), models_yaml=models_yaml) == 0
    (result,) = read_jsonl(out)
    assert result["title"] == "عنوان الخبر"
    assert [" ".join(p) for p in result["paragraphs"]] == ["عنوان الخبر", *paras]
    assert [len(p) for p in result["translations"]["en"]["paragraphs"]] == [len(p) for p in result["paragraphs"]]


# -- pieces ----------------------------------------------------------------------------------------


def test_enumeration_is_sorted_recursive_and_skips_the_output(tmp_path: Path) -> None:
    for name in ("b.txt", "a/z.md", "a/b.html", ".git/x.txt", "c/.hidden.txt", "out.jsonl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    sources = enumerate_inputs([str(tmp_path), str(tmp_path / "b.txt")], exclude=[tmp_path / "out.jsonl"])
    assert [Path(s.path).relative_to(tmp_path).as_posix() for s in sources] == ["b.txt", "a/b.html", "a/z.md"]
    assert [s.kind for s in sources] == ["document"] * 3


def test_jsonl_log_keeps_whole_lines(tmp_path: Path) -> None:
    log = JsonlLog(tmp_path / "x.jsonl")
    log.open()
    log.append({"id": "a", "text": "سطر\u2028واحد"})  # U+2028 must not split a line
    log.close()
    entries, torn = JsonlLog(tmp_path / "x.jsonl").load(repair=True)
    assert torn == 0 and entries == [{"id": "a", "text": "سطر\u2028واحد"}]


def test_log_progress_lines() -> None:
    """A line at the start (0/total) and one as soon as the first article is done, then every 10 s."""
    stream, now = io.StringIO(), [0.0]
    progress = LogProgress(stream, interval=10, clock=lambda: now[0])
    progress.start(100)
    assert stream.getvalue() == "tarjama: 0/100 articles (0 failed); a progress line every 10 s\n"
    now[0] = 5
    progress.advance(ok=1)
    assert stream.getvalue().splitlines()[-1] == "tarjama: 1/100 articles (0 failed), 0.20 articles/s, ETA 8m15s"
    now[0] = 8
    progress.advance(ok=9)
    assert stream.getvalue().count("\n") == 2
    now[0] = 20
    progress.advance(ok=9, failed=1)
    assert stream.getvalue().splitlines()[-1] == "tarjama: 20/100 articles (1 failed), 1.00 articles/s, ETA 1m20s"


def test_progress_bar_shows_the_first_article_at_once() -> None:
    stream = io.StringIO()
    bar = BarProgress(stream)
    bar.start(10)
    assert "0/10" in stream.getvalue()
    bar.advance(ok=1)  # well within tqdm's 0.1 s refresh interval
    assert "1/10" in stream.getvalue()
    bar.close()


class RecordingProgress:
    """The Progress protocol, remembering the total and every advance."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.steps: list[int] = []

    def start(self, total: int | None) -> None:
        self.total = total

    def advance(self, ok: int = 0, failed: int = 0) -> None:
        self.steps.append(ok + failed)

    def close(self) -> None:
        pass


def test_the_first_article_is_written_alone_so_progress_moves_early(tmp_path: Path, small_feed, pipeline) -> None:
    feed, arts = small_feed
    progress = RecordingProgress()
    cfg = BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",), chunk=16)
    assert run_batch(cfg, pipeline, progress=progress).translated == len(arts)
    assert progress.total == len(arts) and progress.steps == [1, len(arts) - 1]


def test_resume_command_repeats_the_options() -> None:
    cfg = BatchConfig(inputs=("wire dir", "-"), out=Path("night.jsonl"), targets=("en", "es"), summarize=True,
                      fields=Fields(text="body"), models="m.yaml", memory=False)
    assert resume_command(cfg) == ("tarjama batch 'wire dir' - --to en,es --out night.jsonl --summary "
                                   "--text-field body --models m.yaml --no-memory --resume")


def test_translate_accepts_a_one_record_jsonl_or_csv(tmp_path: Path, models_yaml: Path, capsys) -> None:
    one = tmp_path / "one.csv"
    one.write_text(f"id,text\nn1,{ARABIC}\n", encoding="utf-8")
    assert main(["translate", str(one), "--to", "en", "--format", "json", "--models", str(models_yaml),
                 "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "n1"
    two = tmp_path / "two.jsonl"
    two.write_bytes(jsonl([{"text": ARABIC}, {"text": ARABIC}]))
    assert main(["translate", str(two), "--to", "en", "--models", str(models_yaml), "--quiet"]) == 2
    assert f"tarjama batch {two}" in capsys.readouterr().err


def test_json_lines_are_what_translate_prints(tmp_path: Path, models_yaml: Path, capsys) -> None:
    """A batch line is the `translate --format json` object, on one line."""
    article = tmp_path / "a.txt"
    article.write_text("قال الوزير إن الاجتماع انتهى.\n\nوأضاف أن الوفد غادر.", encoding="utf-8")
    assert main(["translate", str(article), "--to", "en", "--format", "json", "--no-memory", "--quiet",
                 "--models", str(models_yaml)]) == 0
    expected = json.loads(capsys.readouterr().out)
    out = tmp_path / "out.jsonl"
    assert batch(str(article), "--to", "en", "--out", str(out), "--no-memory", models_yaml=models_yaml) == 0
    (line,) = read_jsonl(out)
    for entry in (line, expected):
        entry.pop("timings")
    assert line == expected


# -- what a new user meets first -------------------------------------------------------------------


def multiline_csv(path: Path, n: int, header: str = "title,text", ids: bool = False) -> Path:
    """``n`` records (without ids unless ``ids``) whose text fields hold newlines (3 lines a record)."""
    rows = [f'{f"n{i}," if ids else ""}عنوان {i},"{ARABIC}\n\nوأضاف أن الوفد غادر العاصمة صباح اليوم."'
            for i in range(n)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_csv_total_and_ids_count_records_not_lines(tmp_path: Path, pipeline) -> None:
    table = multiline_csv(tmp_path / "feed.csv", 9)
    progress = RecordingProgress()
    cfg = BatchConfig(inputs=(str(table),), out=tmp_path / "out.jsonl", targets=("en",))
    assert run_batch(cfg, pipeline, progress=progress).translated == 9
    assert progress.total == 9
    results = read_jsonl(cfg.out)
    assert [r["id"] for r in results] == [f"{table}:{row}" for row in range(2, 11)]  # header = row 1
    assert [r["source"] for r in results] == [{"file": str(table), "row": row} for row in range(2, 11)]


@pytest.fixture()
def no_models(monkeypatch):
    """Fail the test if anything loads the models: usage errors must come first."""
    def refuse(*args, **kwargs):
        raise AssertionError("the models were loaded before the usage error")

    monkeypatch.setattr("tarjama.pipeline.Pipeline.from_config", refuse)


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("tarjama: error: ")]


def test_plain_text_on_stdin_is_one_usage_error(tmp_path: Path, models_yaml: Path, monkeypatch, capsys,
                                                no_models) -> None:
    article = f"{ARABIC}\n\nوأضاف أن الوفد غادر.\n\nوتابع: سنعود.\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(article)))
    out = tmp_path / "out.jsonl"
    assert batch("-", "--to", "en", "--out", str(out), models_yaml=models_yaml) == 2
    (line,) = error_lines(capsys.readouterr().err)
    assert "standard input" in line and "JSON Lines" in line and '{"id": …, "text": …}' in line
    assert "tarjama translate -" in line and "-:" not in line
    assert not out.exists() and not (tmp_path / "out.errors.jsonl").exists()


@pytest.mark.parametrize(("name", "data", "found", "flag"), [
    pytest.param("feed.csv", None, "columns: id, title, body", "--text-field body", id="csv"),
    pytest.param("feed.jsonl", [{"id": "a", "headline": "عنوان", "content": ARABIC}], "keys: id, headline, content",
                 "--text-field content", id="jsonl"),
])
def test_a_missing_text_field_names_what_is_there_and_the_flag(tmp_path: Path, models_yaml: Path, capsys,
                                                               no_models, name, data, found, flag) -> None:
    path = tmp_path / name
    if data is None:
        multiline_csv(path, 3, header="id,title,body", ids=True)
    else:
        path.write_bytes(jsonl(data))
    out = tmp_path / "out.jsonl"
    assert batch(str(path), "--to", "en", "--out", str(out), models_yaml=models_yaml) == 2
    (line,) = error_lines(capsys.readouterr().err)
    assert str(path) in line and "'text'" in line and found in line and flag in line
    assert not out.exists()


def test_one_record_without_text_is_a_bad_row_not_a_usage_error(tmp_path: Path, pipeline) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(jsonl([{"id": "a", "body": ARABIC}, {"id": "b", "text": ARABIC}]))
    report = run_batch(BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",)), pipeline)
    assert (report.translated, dict(report.reasons)) == (1, {"malformed": 1})


def test_a_blank_text_field_is_empty_under_the_users_id(tmp_path: Path, pipeline) -> None:
    """A row that parsed keeps its id in the errors file, so the errors join back to the input by id."""
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(jsonl([{"id": "p-ok", "text": ARABIC}, {"id": "p-empty", "text": ""},
                            {"id": "p-blank", "text": " \n\t "}]))
    report = run_batch(BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",)), pipeline)
    assert (report.translated, dict(report.reasons)) == (1, {"empty": 2})
    errors = sorted(read_jsonl(tmp_path / "out.errors.jsonl"), key=lambda e: e["source"])
    assert [(e["id"], e["source"], e["reason"]) for e in errors] == [
        ("p-empty", f"{feed}:2", "empty"), ("p-blank", f"{feed}:3", "empty")]
    assert all(e["message"].startswith(f"{e['source']}: ") for e in errors)


def test_the_pipelines_refusal_is_the_records_failure(pipeline) -> None:
    """No pre-check in the batch layer: an article the pipeline refuses fails alone, keyed by its id,
    named by its row, and its chunk-mates are translated."""
    from tarjama.batch.config import Failure
    from tarjama.batch.executors import Done, translate_chunk

    docs = [Document(text=ARABIC, id="ok", source="f.jsonl", row=1),
            Document(text="  ", id="p-empty", source="f.jsonl", row=2),
            Document(text=ENGLISH, id="en", source="f.jsonl", row=3)]
    done, empty, english = translate_chunk(pipeline, docs, ("en",), False)
    assert isinstance(done, Done) and done.id == "ok"
    assert empty == Failure("p-empty", "f.jsonl:2", "empty", empty.message) and empty.message.startswith("f.jsonl:2: ")
    assert (english.id, english.source, english.reason) == ("en", "f.jsonl:3", "not_arabic")


def test_stdin_messages_say_standard_input(tmp_path: Path, models_yaml: Path, monkeypatch) -> None:
    data = jsonl([{"id": "a", "text": ARABIC}, b"{oops\n", {"id": "en", "text": ENGLISH}, {"id": "a", "text": ARABIC}])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out = tmp_path / "out.jsonl"
    assert batch("-", "--to", "en", "--out", str(out), models_yaml=models_yaml) == 1
    # a bad row or a duplicate is written at once; an article the pipeline refuses, with its chunk
    errors = sorted(read_jsonl(tmp_path / "out.errors.jsonl"), key=lambda e: e["source"])
    assert [(e["source"], e["reason"]) for e in errors] == [("-:2", "malformed"), ("-:3", "not_arabic"),
                                                            ("-:4", "duplicate_id")]
    for entry, row in zip(errors, (2, 3, 4), strict=True):
        assert entry["message"].startswith(f"standard input, record {row}: ")
        assert "-:" not in entry["message"] and "the file" not in entry["message"]
    assert "already used by standard input, record 1" in errors[2]["message"]


class InterruptingPipeline(CrashingPipeline):
    """Ctrl-C arrives while the ``at``-th chunk is being translated: that chunk is dropped."""

    def __init__(self, pipe, at: int) -> None:
        super().__init__(pipe)
        self.at = at

    def run_many(self, items, targets, summarize):
        if self.calls + 1 == self.at:
            self.calls += 1
            raise KeyboardInterrupt
        return super().run_many(items, targets, summarize)


def record_pairs(out: Path, errors: Path) -> Counter:
    """(id, source) of every entry in output ∪ errors; a result's source {file, row} as ``file:row``."""
    def key(src: dict) -> str:
        return f"{src['file']}:{src['row']}" if src.get("row") is not None else src["file"]

    return Counter([(r["id"], key(r["source"])) for r in read_jsonl(out)]
                   + [(e["id"], e["source"]) for e in read_jsonl(errors)])


def test_a_duplicate_written_before_its_first_occurrence_survives_a_crash(tmp_path: Path, small_feed,
                                                                          pipeline) -> None:
    """The duplicate_id line is written at once, its first occurrence only with its chunk: Ctrl-C in
    between, then --resume: each input record (id, source) exactly once, the summary counts them all."""
    feed, arts = small_feed
    rows = [arts[0], arts[1], arts[2], {"id": arts[1]["id"], "text": ARABIC}, *arts[3:8]]
    feed.write_bytes(jsonl(rows))
    cfg = BatchConfig(inputs=(str(feed),), out=tmp_path / "out.jsonl", targets=("en",), chunk=3)
    first = run_batch(cfg, InterruptingPipeline(pipeline, at=2))  # chunk 1 = arts[0] alone; chunk 2 dropped
    assert first.interrupted is not None and (first.translated, first.failed) == (1, 1)
    progress = RecordingProgress()
    second = run_batch(BatchConfig(**{**cfg.__dict__, "resume": True}), pipeline, progress=progress)
    assert (second.skipped, second.translated, second.failed) == (2, len(rows) - 2, 0)
    assert progress.total == len(rows) - 2
    expected = {(r["id"], f"{feed}:{n}") for n, r in enumerate(rows, start=1)}
    pairs = record_pairs(cfg.out, cfg.errors_path)
    assert set(pairs) == expected and set(pairs.values()) == {1}
    (dup,) = read_jsonl(cfg.errors_path)
    assert (dup["source"], dup["reason"]) == (f"{feed}:4", "duplicate_id")


def test_a_txt_title_reaches_the_result(tmp_path: Path, models_yaml: Path) -> None:
    article = tmp_path / "a.txt"
    text = f"عنوان الخبر\n\n{ARABIC}\n"
    article.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(str(article), "--to", "en", "--out", str(out), models_yaml=models_yaml) == 0
    (result,) = read_jsonl(out)
    assert result["title"] == "عنوان الخبر"
    assert result["paragraphs"][0] == ["عنوان الخبر"]  # the text itself is unchanged: it holds the title
