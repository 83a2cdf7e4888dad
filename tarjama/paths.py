"""Every default path and environment variable tarjama reads, in one place, and the cache's key helpers.

tarjama's own cache (``cache_dir()``) holds what it derives from models: CTranslate2 conversions,
safetensors converted from pickles, smoke-check verdicts, the demo's generated models, the
translation memory and the editor page's history of recent articles.  Model downloads stay in the
Hugging Face cache (``HF_HOME``).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

ENV_MODELS = "TARJAMA_MODELS"    # models.yaml to use (else --models, else DEFAULT_MODELS)
ENV_CACHE = "TARJAMA_CACHE"      # tarjama's cache (else $XDG_CACHE_HOME/tarjama, else ~/.cache/tarjama)
ENV_CORPUS = "TARJAMA_CORPUS"    # the team's shared corpus (else ../shared/corpus beside a checkout)
ENV_SMOKE = "TARJAMA_SMOKE"      # "0": no first-use smoke check in `tarjama translate`
ENV_VERBOSE = "TARJAMA_VERBOSE"  # "1": show the libraries' own loading bars and advisories

PACKAGE = Path(__file__).resolve().parent
DEFAULT_MODELS = PACKAGE / "models.yaml"
DATA = PACKAGE / "data"
SEED_ARTICLE = DATA / "seed_article.ar.txt"
SAFETENSORS = "model.safetensors"  # the weights file tarjama loads (never a pickle)


def models_file(path: str | Path | None = None) -> Path:
    """``path``, else $TARJAMA_MODELS, else the models.yaml shipped with tarjama."""
    return Path(path or os.environ.get(ENV_MODELS) or DEFAULT_MODELS).expanduser()


def cache_dir() -> Path:
    """tarjama's cache: $TARJAMA_CACHE, else $XDG_CACHE_HOME/tarjama, else ~/.cache/tarjama."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "tarjama"


def memory_file() -> Path:
    return cache_dir() / "memory.sqlite"


def page_secret_file() -> Path:
    """The key the editor page seals its browser storage with (app.py), kept so a restart still opens it."""
    return cache_dir() / "page-secret"


def history_file() -> Path:
    """The editor page's recent articles and their edits (tarjama.history), beside the translation memory."""
    return cache_dir() / "history.sqlite"


def ct2_root() -> Path:
    return cache_dir() / "ct2"


def converted_root() -> Path:
    return cache_dir() / "converted"


def smoke_root() -> Path:
    return cache_dir() / "smoke"


def demo_models_root() -> Path:
    return cache_dir() / "demo-models"


def hf_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def corpus_path() -> Path:
    """Where the team's shared corpus is, or would be: $TARJAMA_CORPUS, else ../shared/corpus beside a checkout."""
    return Path(os.environ.get(ENV_CORPUS) or PACKAGE.parents[1] / "shared" / "corpus")


def corpus_dir() -> Path | None:
    """The shared corpus folder, or None where it is absent (a user's machine)."""
    path = corpus_path()
    return path if path.is_dir() else None


def smoke_enabled() -> bool:
    return os.environ.get(ENV_SMOKE, "").strip() != "0"


def verbose_env() -> bool:
    return os.environ.get(ENV_VERBOSE, "") not in ("", "0")


# -- cache keys ------------------------------------------------------------------------------------------


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def fingerprint(folder: Path) -> str:
    """The files of a folder by name, size and mtime: a regenerated local model never matches a stale key."""
    files = sorted(f for f in folder.iterdir() if f.is_file())
    return digest("|".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files))


def path_safe(name: str) -> str:
    """``name`` as one path component (at most 120 characters)."""
    return re.sub(r"[^A-Za-z0-9._@=+-]", "_", name)[:120] or "_"
