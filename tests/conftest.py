"""Shared fixtures: tiny generated models (built once per session) and the shared corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import tiny_models  # noqa: E402

CORPUS = tiny_models.CORPUS  # ../shared/corpus, or $TARJAMA_CORPUS
SEED = REPO / "examples" / "seed_article.ar.txt"


@pytest.fixture(scope="session", autouse=True)
def tarjama_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point tarjama's cache (CTranslate2 conversions, translation memory) at a session temp dir:
    tests never write to the real ~/.cache.  Subprocesses (run_cli) inherit it."""
    path = tmp_path_factory.mktemp("tarjama-cache")
    old = os.environ.get("TARJAMA_CACHE")
    os.environ["TARJAMA_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("TARJAMA_CACHE", None)
    else:
        os.environ["TARJAMA_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_models_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models.yaml for tiny random-weight Marian (ar-en, ar-es) and mT5 models in the real layouts."""
    return tiny_models.build_all(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def models_yaml(tiny_models_yaml: Path) -> Path:
    """The tiny models (a test module may override this name, e.g. with one_thread_models_yaml)."""
    return tiny_models_yaml


@pytest.fixture(scope="session")
def one_thread_models_yaml(tiny_models_yaml: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny models with one thread each: on a loaded 2-core machine two intra-op threads of a tiny
    model spend most of their time waiting for each other, and the tests of real batch processes
    (test_batch_cli.py, test_ray_batch.py) wait on them."""
    import yaml

    data = yaml.safe_load(tiny_models_yaml.read_text(encoding="utf-8"))
    data["defaults"]["threads"] = 1
    for task in ("translation", "summarization"):
        for entry in data[task].values():
            entry["model"] = str(tiny_models_yaml.parent / entry["model"])
    path = tmp_path_factory.mktemp("one-thread") / "models.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def copy_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models.yaml for the copy models: a Marian pair (ar-en, ar-es) in the real layout whose output is its
    input, and a tiny random mT5 (tiny_models.build_copy)."""
    return tiny_models.build_copy(tmp_path_factory.mktemp("copy-models"))


@pytest.fixture(scope="session")
def pipeline(models_yaml: Path):
    from tarjama.pipeline import Pipeline

    return Pipeline.from_config(models_yaml)


@pytest.fixture(scope="session")
def marian(models_yaml: Path):
    """The Transformers engine on the generated ar-en model (read-only: tests must not change it)."""
    from tarjama.translate.engine import TransformersEngine

    return TransformersEngine(models_yaml.parent / "opus-mt-ar-en", device="cpu", threads=1)


@pytest.fixture(scope="session")
def mt5(models_yaml: Path):
    """The Transformers engine on the generated mT5 model (read-only)."""
    from tarjama.translate.engine import TransformersEngine

    return TransformersEngine(models_yaml.parent / "mt5-xlsum", device="cpu", threads=1)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (set TARJAMA_CORPUS)")
    return CORPUS


def news_articles(corpus: Path) -> Iterator[dict]:
    """Articles of ../shared/corpus/news/*.jsonl, in file order."""
    for path in sorted((corpus / "news").glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def zip_bytes(members: dict[str, str | bytes]) -> bytes:
    """A zip archive holding ``members`` (name → content), in memory: damaged .docx files and the like."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m tarjama ARGS`` as a user would, in a real subprocess."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "tarjama", *args], input=stdin, capture_output=True,
                          env=full_env, cwd=REPO, timeout=timeout)
