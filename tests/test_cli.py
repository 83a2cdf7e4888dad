"""The ``tarjama`` command as users run it: a real subprocess on generated models."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, SEED, run_cli
from tarjama.translate.segment import segment

SCHEMA = json.loads((REPO / "tarjama" / "schema" / "article.schema.json").read_text())
BOILERPLATE = ("قد يعجبك ايضا", "ابق على اتصال", "احصل على النشرة الإخبارية")


@pytest.fixture(scope="module")
def seed_json(models_yaml: Path) -> dict:
    proc = run_cli("translate", str(SEED), "--to", "en,es", "--summary", "--format", "json",
                   env={"TARJAMA_MODELS": str(models_yaml)})
    assert proc.returncode == 0, proc.stderr.decode()
    assert "DEMO MODE" in proc.stderr.decode()
    return json.loads(proc.stdout)


def test_seed_article_json(seed_json: dict) -> None:
    source = segment(SEED.read_text(encoding="utf-8"))
    expected = [[s.text for s in p.sentences] for p in source.paragraphs]
    assert seed_json["paragraphs"] == expected
    assert len(expected) >= 14
    for lang in ("en", "es"):
        tr = seed_json["translations"][lang]
        assert [[s["source"] for s in p] for p in tr["paragraphs"]] == expected
        assert [len(p) for p in tr["paragraphs"]] == [len(p) for p in expected]
        assert tr["text"].count("\n\n") == len(expected) - 1
    assert set(seed_json["summaries"]) == {"ar", "en", "es"}
    assert all(seed_json["summaries"].values())
    removed = {r["text"] for r in seed_json["removed"] if r["kind"] == "boilerplate"}
    assert set(BOILERPLATE) <= removed
    flat = " ".join(s for p in expected for s in p)
    assert not any(b in flat for b in BOILERPLATE)
    assert seed_json["demo"] is True


def test_seed_article_json_matches_the_schema(seed_json: dict) -> None:
    jsonschema.validate(seed_json, SCHEMA)


def test_schema_rejects_a_broken_result(seed_json: dict) -> None:
    broken = json.loads(json.dumps(seed_json))
    del broken["translations"]["en"]["paragraphs"][0][0]["score"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


@pytest.mark.parametrize(("fmt", "check"), [
    ("md", lambda out: "## English" in out and "## Spanish" in out and "## Summaries" not in out),
    ("txt", lambda out: out.startswith("[DEMO] ") and "\n[en]\n" in out and "\n[es]\n" in out),
])
def test_other_formats(models_yaml: Path, tmp_path: Path, fmt: str, check) -> None:
    out = tmp_path / f"seed.{fmt}"
    proc = run_cli("translate", str(SEED), "--to", "en,es", "-o", str(out), env={"TARJAMA_MODELS": str(models_yaml)})
    assert proc.returncode == 0, proc.stderr.decode()
    assert check(out.read_text(encoding="utf-8"))
    assert not list(tmp_path.glob(".*.tmp"))


def test_stdin_and_models_flag(models_yaml: Path) -> None:
    proc = run_cli("translate", "-", "--to", "es", "--format", "json", "--models", str(models_yaml),
                   stdin="قال الوزير إن الاجتماع انتهى.\n\nوأضاف أن الوفد غادر.".encode())
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert list(data["translations"]) == ["es"] and len(data["paragraphs"]) == 2
    assert data["summaries"] == {} and data["summary_info"] is None


BAD_INPUTS = [
    ("empty.txt", b"", "empty"),
    ("blank.txt", b"  \n\n \t", "empty"),
    ("latin1.txt", "قال الوزير".encode("cp1256"), "UTF-8"),
    ("doc.pdf.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + bytes(range(256)), "PDF"),
    ("image.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
    ("english.txt", b"The minister said the meeting ended on Monday, officials said.", "Arabic"),
    ("notes.rtf", "قال الوزير".encode(), ".rtf"),
]


@pytest.mark.parametrize(("name", "data", "expected"), BAD_INPUTS)
def test_bad_input_is_a_clear_error(models_yaml: Path, tmp_path: Path, name: str, data: bytes,
                                    expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    proc = run_cli("translate", str(path), "--to", "en", env={"TARJAMA_MODELS": str(models_yaml)})
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert err.startswith("tarjama: error: ") and "Traceback" not in err
    assert expected in err and name in err
    assert proc.stdout == b""


def test_missing_file(models_yaml: Path) -> None:
    proc = run_cli("translate", "/nonexistent/article.txt", env={"TARJAMA_MODELS": str(models_yaml)})
    assert proc.returncode == 1 and "/nonexistent/article.txt" in proc.stderr.decode()


def test_config_error_is_exit_2(tmp_path: Path) -> None:
    from tarjama.registry import _SPEC_KEYS

    bad = tmp_path / "models.yaml"
    bad.write_text("translation:\n  ar-en: {model: x, beams: 4}\n")
    proc = run_cli("translate", str(SEED), "--models", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == (
        f"tarjama: error: {bad}: translation.ar-en.beams: unknown key (allowed: {', '.join(sorted(_SPEC_KEYS))})")
    assert "max_sentence_tokens" in sorted(_SPEC_KEYS)


def test_unknown_language_is_exit_2(models_yaml: Path) -> None:
    proc = run_cli("translate", str(SEED), "--to", "en,de", env={"TARJAMA_MODELS": str(models_yaml)})
    assert proc.returncode == 2 and "no model for ar→de (have: en, es)" in proc.stderr.decode()


def test_help_teaches() -> None:
    top = run_cli("--help").stdout.decode()
    assert "examples:" in top and "tarjama translate article.txt --to en,es --summary" in top
    sub = run_cli("translate", "--help").stdout.decode()
    for option in ("--to", "--summary", "--format", "-o", "--models"):
        assert option in sub


def test_models_list_shows_source_size_licence(models_yaml: Path) -> None:
    proc = run_cli("models", "list", "--models", str(models_yaml))
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    rows = [line.split() for line in out.splitlines()[1:4]]
    assert [r[1] for r in rows] == ["ar-en", "ar-es", "ar"]
    assert all("local" in r and "MB" in r for r in rows)
    assert "CC-BY-NC-SA-4.0" in out and "non-commercial" in out and "DEMO" in out


def test_python_dash_m_and_console_script_agree() -> None:
    import shutil
    import subprocess

    exe = shutil.which("tarjama", path=str(Path(__import__("sys").executable).parent))
    assert exe, "console script `tarjama` not installed"
    assert subprocess.run([exe, "--help"], capture_output=True).stdout == run_cli("--help").stdout
