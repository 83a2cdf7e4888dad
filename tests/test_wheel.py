"""The wheel a library user installs: built from the checkout, installed into a fresh virtual environment beside
the package index's unrelated `translate` package, and used from a folder that is not the checkout.

The fresh environment reaches tarjama's dependencies (torch, transformers, gradio …) through a .pth line to
this test run's own site-packages, so nothing big is downloaded twice; tarjama itself and `translate` are
installed into it for real, by pip, and nothing of the checkout is on its path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow
SOURCES = ["pyproject.toml", "setup.py", "README.md", "app.py", "translate", "summarize", "tarjama"]


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """(the fresh venv's bin folder, its environment, a working folder outside the checkout)."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in SOURCES:  # a copy: building never writes build/ or egg-info into the checkout
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(root / "dist"),
          str(src)], cwd=root, env=env)
    wheel = next((root / "dist").glob("tarjama-*.whl"))
    fresh = root / "venv"
    venv.create(fresh, with_pip=True)
    bin_dir = fresh / "bin"
    site = Path(subprocess.check_output([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()"
                                         "['purelib'])"], text=True).strip())
    (site / "zz_tarjama_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([bin_dir / "python", "-m", "pip", "install", "-q", "translate==3.8.1"], cwd=root, env=env)
    _run([bin_dir / "python", "-m", "pip", "install", "-q", str(wheel)], cwd=root, env=env)
    work = root / "elsewhere"
    work.mkdir()
    return bin_dir, {**env, "TARJAMA_CACHE": str(root / "cache"), "HF_HUB_OFFLINE": "1"}, work


def test_the_wheel_has_one_top_level_package_and_its_data(tmp_path_factory, installed) -> None:
    bin_dir, _, _ = installed
    wheel = next(Path(p) for p in (bin_dir.parent.parent / "dist").glob("tarjama-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"tarjama"}
    for needed in ("tarjama/models.yaml", "tarjama/app.py", "tarjama/translate/engine.py",
                   "tarjama/summarize/summarizer.py", "tarjama/schema/article.schema.json",
                   "tarjama/data/seed_article.ar.txt", "tarjama/data/checkpoints/opus-mt-ar-en/config.json",
                   "tarjama/data/smoke/flores200.dev.ar"):
        assert needed in names, needed
    # every module of the checkout is in the wheel (pyproject lists the packages by hand)
    for folder, package in (("tarjama", "tarjama"), ("translate", "tarjama/translate"),
                            ("summarize", "tarjama/summarize")):
        for path in (REPO / folder).rglob("*.py"):
            wheel_path = f"{package}/{path.relative_to(REPO / folder).as_posix()}"
            assert wheel_path in names, f"{wheel_path} is missing from the wheel: add its package to pyproject.toml"


def test_installed_commands_work_from_any_folder(installed) -> None:
    bin_dir, env, work = installed
    assert "translate" in _run([bin_dir / "tarjama", "--help"], work, env).stdout
    listing = _run([bin_dir / "tarjama", "models", "list"], work, env).stdout
    assert "Helsinki-NLP/opus-mt-ar-en" in listing and "refs/pr/7" in listing
    code = "from tarjama import Pipeline; print(Pipeline.from_config().targets)"
    assert _run([bin_dir / "python", "-c", code], work, env).stdout.strip() == "('en', 'es')"


def test_the_index_translate_package_is_untouched(installed) -> None:
    bin_dir, env, work = installed
    code = ("import translate, tarjama.translate, importlib.util\n"
            "print(translate.__file__)\n"
            "print(tarjama.translate.__file__)\n"
            "print(importlib.util.find_spec('app'))\n"
            "from tarjama.cli.serve import load_page\n"
            "print(load_page().__name__)\n")
    out = _run([bin_dir / "python", "-c", code], work, env).stdout.splitlines()
    venv_root = str(bin_dir.parent)
    assert out[0].startswith(venv_root) and "tarjama" not in out[0]  # the index's package, from the venv
    assert out[1].startswith(venv_root) and out[1].endswith("tarjama/translate/__init__.py")
    assert out[2] == "None"  # no top-level `app` module to collide with a user's app.py
    assert out[3] == "tarjama.app"  # `tarjama serve` finds the page inside the package


def test_installed_demo_runs_without_the_checkout(installed) -> None:
    """`tarjama demo` for pip users: builds its models from the packaged files alone, labels its output."""
    bin_dir, env, work = installed
    proc = _run([bin_dir / "tarjama", "demo", "--to", "en", "--format", "txt"], work,
                {**env, "TARJAMA_CORPUS": str(work / "no-corpus")})
    assert proc.stdout.startswith("[DEMO] ")
