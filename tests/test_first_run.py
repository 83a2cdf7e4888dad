"""The first ten minutes of a new user: demo, DEMO labels, loading messages, quiet library, serve on a busy
port, translate given a folder, output formats, --help texts, and the README's Python blocks as written."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from conftest import REPO, SEED, run_cli


@pytest.fixture(scope="module")
def seed_result(pipeline):
    return pipeline.run(SEED.read_text(encoding="utf-8"), targets=("en",), summarize=True)


def test_demo_builds_its_models_once_and_takes_the_default_engine(tmp_path: Path) -> None:
    env = {"TARJAMA_CACHE": str(tmp_path)}
    first = run_cli("demo", "--to", "en", "--format", "json", "-o", str(tmp_path / "out.json"), env=env)
    assert first.returncode == 0, first.stderr.decode()
    assert "building the DEMO models" in first.stderr.decode()
    assert re.search(r"converting ar-en \(opus-mt-ar-en\) to CTranslate2 int8 — once, into /", first.stderr.decode())
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["demo"] is True
    assert {m["engine"] for m in result["models"]} == {"ctranslate2"}  # the fast path a real run takes
    assert {m["compute_type"] for m in result["models"]} == {"int8"}
    again = run_cli("demo", "--to", "en", "--format", "txt", env=env)
    assert again.returncode == 0, again.stderr.decode()
    assert "building" not in again.stderr.decode()
    assert again.stdout.decode().startswith("[DEMO] ")


def test_demo_label_in_every_format(seed_result) -> None:
    assert seed_result.demo
    assert seed_result.to_text().startswith("[DEMO] ")
    assert seed_result.to_text("en").startswith("[DEMO] ")
    assert seed_result.to_markdown().startswith("> **DEMO**")
    assert json.loads(seed_result.to_json())["demo"] is True
    from tarjama.export import to_docx

    paragraphs = [p.text for p in docx.Document(io.BytesIO(to_docx(seed_result))).paragraphs]
    assert any(p.startswith("DEMO: ") for p in paragraphs)


def test_translate_says_it_is_loading_models(models_yaml: Path) -> None:
    proc = run_cli("translate", str(SEED), "--to", "en", "--models", str(models_yaml), "--no-memory")
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "loading models (ar-en) …" in err
    assert re.search(r"models ready in \d+\.\d s \(ar-en transformers float32\)", err)
    quiet = run_cli("translate", str(SEED), "--to", "en", "--models", str(models_yaml), "--no-memory", "--quiet")
    assert "loading models" not in quiet.stderr.decode()


def test_the_python_api_is_as_quiet_as_the_cli(models_yaml: Path, tmp_path: Path) -> None:
    code = ("from tarjama import Pipeline\n"
            f"pipe = Pipeline.from_config({str(models_yaml)!r}, memory=False)\n"
            "r = pipe.run('قال المتحدث إن الاجتماع سيعقد يوم الاثنين.', targets=('en',), summarize=True)\n"
            "print(len(r.translations['en'].sentences()))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"
    assert "Loading weights" not in proc.stderr and "tie" not in proc.stderr
    verbose = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                             timeout=300, env={**os.environ, "TARJAMA_VERBOSE": "1"})
    assert "Loading weights" in verbose.stderr  # the quiet is ours, and can be lifted


def test_serve_on_a_busy_port_says_so_before_loading_models(models_yaml: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("serve", "--port", str(port), "--models", str(models_yaml), timeout=60)
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert err.strip().count("\n") == 0, err  # one line
    assert f"port {port}" in err and "--port" in err
    assert "share=True" not in err and "GRADIO_SERVER_PORT" not in err and "loading" not in err


def test_translate_a_folder_points_to_batch(tmp_path: Path) -> None:
    proc = run_cli("translate", str(tmp_path))
    assert proc.returncode == 2
    assert "is a folder" in proc.stderr.decode() and f"tarjama batch {tmp_path}" in proc.stderr.decode()


def test_output_docx_is_a_real_docx(models_yaml: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.docx"
    proc = run_cli("translate", str(SEED), "--to", "en", "--models", str(models_yaml), "-o", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr.decode()
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "English" in text and "Arabic" in text


@pytest.mark.parametrize("output", ["x.pdf", "x", "x.html"])
def test_unknown_output_suffix_is_refused(tmp_path: Path, output: str) -> None:
    proc = run_cli("translate", str(SEED), "-o", str(tmp_path / output))
    assert proc.returncode == 2
    assert "unknown suffix" in proc.stderr.decode() and "--format" in proc.stderr.decode()
    assert not (tmp_path / output).exists()


@pytest.mark.parametrize("command", [["models", "list"], ["models", "check"], ["models", "pull"], ["demo"]])
def test_help_teaches(command: list[str]) -> None:
    """Each subcommand's --help says what it does in a description, not only its usage line."""
    from tarjama.cli import build_parser

    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--help"])
    sub = parser._subparsers._group_actions[0].choices[command[0]]
    if len(command) > 1:
        sub = sub._subparsers._group_actions[0].choices[command[1]]
    assert sub.description and len(sub.description) > 60


def test_models_list_says_who_made_the_weights() -> None:
    proc = run_cli("models", "list")
    out = proc.stdout.decode()
    assert proc.returncode == 0
    assert out.count("SFconvertbot") == 3 and "non-commercial" in out


def _python_blocks() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", readme, flags=re.S)


@pytest.mark.parametrize("index", [0, 1])
def test_readme_python_blocks_run_as_written(models_yaml: Path, tmp_path: Path, index: int) -> None:
    """The README's Python, unchanged, on the generated models (TARJAMA_MODELS, as the README says)."""
    block = _python_blocks()[index]
    env = {**os.environ, "TARJAMA_MODELS": str(models_yaml)}
    proc = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
