"""models.yaml specs → loaded engines: the CTranslate2 conversion cache and the one engine cache.

``backend: auto`` converts a model to CTranslate2 once (kept under ``cache_dir()``) and loads that;
when CTranslate2 is missing or the model does not convert, it falls back to Transformers with one
warning.  ``ENGINES`` is the process's only model cache.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tarjama.paths import ct2_root, fingerprint, verbose_env
from tarjama.registry import (
    ConfigError,
    ModelNotAvailable,
    ModelSpec,
    Resolved,
    cache_key,
    folder_size,
    resolve,
)
from tarjama.translate.engine import (
    T5_FAMILY,
    CTranslate2Engine,
    Engine,
    ModelLoadError,
    TransformersEngine,
    ct2_compute_type,
    ct2_device,
    model_type,
    nan_prone,
)
from tarjama.translate.vocabulary import VocabularyError, first, restrict, vmap_text

log = logging.getLogger(__name__)

# -- CTranslate2 conversions -------------------------------------------------------------------------


class ConversionError(RuntimeError):
    """A model could not be converted to CTranslate2 (or CTranslate2 is not installed)."""


def ct2_compute(spec: ModelSpec, found: Resolved | None = None) -> str:
    """The compute type ``spec`` runs in on CTranslate2 (``auto`` resolved for its device and model kind)."""
    found = found or resolve(spec, download=False)
    return ct2_compute_type(spec.compute_type, ct2_device(spec.device), model_type(found.path))


def ct2_path(spec: ModelSpec, found: Resolved, compute_type: str) -> Path:
    """``<cache>/ct2/<model>/<revision>/<compute_type>``, keyed as ``registry.cache_key`` says."""
    return ct2_root().joinpath(*cache_key(spec, found), compute_type)


def convert(spec: ModelSpec, compute_type: str | None = None, *, found: Resolved | None = None,
            quiet: bool = False) -> Path:
    """The CTranslate2 folder for ``spec``: converted once (progress on stderr), then reused.

    Converts into a temporary folder beside the target and renames it into place, so a crash or a
    second process never leaves (or reads) half a conversion; when two processes race, the first
    rename wins and the other's copy is dropped.
    """
    found = found or resolve(spec)
    compute_type = compute_type or ct2_compute(spec, found)
    target = ct2_path(spec, found, compute_type)
    if (target / "model.bin").is_file():
        return target
    ctranslate2 = _import_ct2()
    if not quiet:
        print(f"tarjama: converting {spec.key} ({spec.model}) to CTranslate2 {compute_type} — once, "
              f"into {target}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{compute_type}-"))
    try:
        with _quiet_transformers():
            _converter(found.path).convert(str(tmp / "model"), quantization=compute_type, force=True)
        meta = {"model": spec.model, "revision": spec.revision, "source": str(found.path),
                "compute_type": compute_type, "ctranslate2": ctranslate2.__version__}
        (tmp / "model" / "tarjama.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        try:
            os.rename(tmp / "model", target)
        except OSError:
            if not (target / "model.bin").is_file():
                raise
    except ConversionError:
        raise
    except Exception as err:  # the converter raises ValueError, RuntimeError, OSError, KeyError...
        raise ConversionError(f"{spec.where}: cannot convert {found.path} to CTranslate2 {compute_type}: "
                              f"{type(err).__name__}: {err}") from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not quiet:
        print(f"tarjama: converted {spec.key} in {time.perf_counter() - started:.1f} s "
              f"({folder_size(target) / 1e6:.1f} MB)", file=sys.stderr, flush=True)
    return target


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """No weight-loading bars or tying advisories from transformers while converting (our message says it)."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _converter(folder: Path) -> Any:
    """CTranslate2's Transformers converter, loading safetensors only and untying the T5 family's head.

    transformers 5 forces ``tie_word_embeddings=True`` into every MT5Config (its forward never rescales
    the decoder output), but CTranslate2's T5 loader reads that flag as "rescale the logits by
    d_model^-0.5": greedy tokens survive, scores and beam ranking do not (FIELD-NOTES).  So the flag
    is set, on the loaded model, to whether transformers itself rescales.
    """
    from ctranslate2.converters import TransformersConverter

    class Converter(TransformersConverter):
        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            model = model_class.from_pretrained(model_name_or_path, use_safetensors=True, **kwargs)
            if model.config.model_type in T5_FAMILY:
                model.config.tie_word_embeddings = bool(getattr(model.config, "scale_decoder_outputs", False))
            return model

    return Converter(str(folder))


# -- output-vocabulary restriction (translate/vocabulary.py decides the pieces, CTranslate2 applies them) ------

RESTRICTION_RULES = 1  # bump when translate/vocabulary.py's rules change: restricted folders are keyed by it
VOCABULARY_FILES = ("target_vocabulary.json", "shared_vocabulary.json", "target_vocabulary.txt",
                    "shared_vocabulary.txt")


@dataclass(frozen=True)
class Restriction:
    """The CTranslate2 folder to open for a spec, and how much of the output vocabulary it keeps."""

    folder: Path
    vocabulary: str   # arabic | latin | all | first-N (benchmarks)
    kept: int
    total: int

    @property
    def restricted(self) -> bool:
        return self.kept < self.total

    def describe(self, name: str) -> str:
        """e.g. "mt5-xlsum: 41,873 of 250,112 output pieces (output_vocabulary: arabic)"."""
        return f"{name}: {self.kept:,} of {self.total:,} output pieces (output_vocabulary: {self.vocabulary})"


def output_pieces(folder: Path) -> list[str]:
    """The converted model's target vocabulary, in id order, exactly as CTranslate2 spells its pieces."""
    for name in VOCABULARY_FILES:
        path = folder / name
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            return json.loads(text) if name.endswith(".json") else text.split("\n")[:-1]
    raise ConversionError(f"{folder}: no vocabulary file ({', '.join(VOCABULARY_FILES)})")


def restricted(spec: ModelSpec, base: Path) -> Restriction:
    """``base`` (a converted folder) as ``spec.output_vocabulary`` (or ``benchmark: {vocabulary: N}``) restricts
    it: ``base`` itself for ``all``, else a sibling folder holding the same files (hard links) and a ``vmap.txt``.

    CTranslate2 reads vmap.txt when a model opens, so the restricted model is a folder of its own, keyed by
    the rule set and built once, atomically (a temporary folder renamed into place), like a conversion.
    """
    pieces = output_pieces(base)
    tag = f"first-{spec.bench_vocabulary}" if spec.bench_vocabulary else spec.output_vocabulary
    if tag == "all":
        return Restriction(base, "all", len(pieces), len(pieces))
    target = base.with_name(f"{base.name}.{tag}-r{RESTRICTION_RULES}")
    if (target / "vmap.txt").is_file():
        meta = json.loads((target / "tarjama.json").read_text(encoding="utf-8"))
        return Restriction(target, tag, meta["kept"], len(pieces))
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    always = [config.get("eos_token", "</s>"), config.get("unk_token", "<unk>")]
    if spec.bench_vocabulary:
        kept = first(pieces, spec.bench_vocabulary, always=always)
    else:
        never = [p for p in pieces if p.startswith("<extra_id_")]  # T5's pre-training sentinels
        try:
            kept = restrict(pieces, spec.output_vocabulary, always=always, never=never)
        except VocabularyError as err:
            raise ConversionError(f"{spec.where}.output_vocabulary: {err}") from None
    tmp = Path(tempfile.mkdtemp(dir=base.parent, prefix=f".{target.name}-"))
    try:
        for item in base.iterdir():
            if item.is_file() and item.name != "tarjama.json":
                _link_or_copy(item, tmp / item.name)
        (tmp / "vmap.txt").write_text(vmap_text(kept), encoding="utf-8")
        meta = json.loads((base / "tarjama.json").read_text(encoding="utf-8")) if (base / "tarjama.json").is_file() \
            else {}
        meta.update(output_vocabulary=tag, kept=len(kept), total=len(pieces), rules=RESTRICTION_RULES)
        (tmp / "tarjama.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "vmap.txt").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Restriction(target, tag, len(kept), len(pieces))


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (no second copy of a 2 GB model.bin), else a copy (another file system)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def ct2_model(spec: ModelSpec, compute_type: str | None = None, *, found: Resolved | None = None,
              quiet: bool = False) -> Restriction:
    """Convert ``spec`` (once) and restrict its output vocabulary (once): the folder CTranslate2Engine opens."""
    found = found or resolve(spec)
    return restricted(spec, convert(spec, compute_type, found=found, quiet=quiet))


def ct2_cached(spec: ModelSpec) -> list[str]:
    """Compute types of ``spec`` already converted (for ``models list``); [] when none or not resolvable."""
    try:
        found = resolve(spec, download=False)
        folder = ct2_path(spec, found, "x").parent
    except (ModelNotAvailable, OSError):
        return []
    return sorted(p.name for p in folder.iterdir()  # not the restricted copies ("int8.latin-r1")
                  if (p / "model.bin").is_file() and "." not in p.name) if folder.is_dir() else []


# -- the engine cache --------------------------------------------------------------------------------


def load_engine(spec: ModelSpec, *, backend: str | None = None, warned: set[str] | None = None) -> Engine:
    """Build an engine for ``spec`` (no caching: see EngineCache).

    ``ctranslate2``: convert once (cached), load, or fail with the reason.  ``auto``: the same, but
    on any failure fall back to Transformers with a warning line naming the reason — once per reason
    key in ``warned`` (the cache's set), so a missing CTranslate2 is said once, not per model.
    """
    found = resolve(spec)
    check_positions(spec, found.path)
    quiet = contextlib.nullcontext() if verbose() else _quiet_transformers()
    with quiet:  # no "Loading weights" bars or tying advisories for Python API users either
        engine = _load_engine(spec, backend or spec.backend, found, set() if warned is None else warned)
    # What the translation memory keys on besides the revision as written: "main" moves on the Hub and a
    # local folder can be regenerated in place, so entries follow the weights actually loaded.
    engine.weights = found.path.name if found.source != "local" else fingerprint(found.path)
    return engine


def verbose() -> bool:
    """Show the libraries' own loading output: TARJAMA_VERBOSE=1, or the ``tarjama`` logger at DEBUG."""
    return verbose_env() or logging.getLogger("tarjama").isEnabledFor(logging.DEBUG)


def check_positions(spec: ModelSpec, folder: Path) -> None:
    """``max_input_tokens`` above the model's ``max_position_embeddings`` is a models.yaml error.

    Marian's positions are absolute: past the table the encoder would fail or read garbage.  (mT5's
    relative positions have no table; its config names no such limit.)
    """
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    limit = config.get("max_position_embeddings")
    if isinstance(limit, int) and spec.max_input_tokens > limit:
        raise ConfigError(f"{spec.where}.max_input_tokens: {spec.max_input_tokens} is more than the model's "
                          f"max_position_embeddings ({limit}, {folder / 'config.json'}); use at most {limit}")


def _load_engine(spec: ModelSpec, backend: str, found: Resolved, warned: set[str]) -> Engine:
    ct = spec.compute_type
    if nan_prone(model_type(found.path), ct):
        raise ConfigError(f"{spec.where}.compute_type: {ct}: mT5 gives NaNs in float16; use int8, bfloat16, "
                          "float32 or auto")
    if backend != "transformers":
        try:
            return _ct2_engine(spec, found)
        except (ConversionError, ModelLoadError) as err:
            if backend == "ctranslate2":
                raise ModelNotAvailable(f"{spec.where}: {err}") from None
            reason = str(err).splitlines()[0]
            key = "import" if "not installed" in reason else spec.where
            if key not in warned:
                warned.add(key)
                log.warning("tarjama: %s: CTranslate2 not used (%s); using Transformers", spec.key, reason)
    try:
        return TransformersEngine(found.path, model_id=spec.model, revision=spec.revision, device=spec.device,
                                  compute_type=spec.compute_type, threads=spec.threads,
                                  max_input_tokens=spec.max_input_tokens, forced_length=spec.forced_length,
                                  output_vocabulary=spec.output_vocabulary, bench_vocabulary=spec.bench_vocabulary)
    except ModelLoadError as err:
        raise ModelNotAvailable(f"{spec.where}: {err}") from None


def _import_ct2() -> Any:
    try:
        import ctranslate2
    except ImportError as err:
        raise ConversionError(f"ctranslate2 is not installed ({err}); pip install 'tarjama[fast]'") from None
    return ctranslate2


def _ct2_engine(spec: ModelSpec, found: Resolved) -> Engine:
    _import_ct2()
    compute_type = ct2_compute(spec, found)
    folder = ct2_model(spec, compute_type, found=found).folder
    return CTranslate2Engine(folder, found.path, model_id=spec.model, revision=spec.revision, device=spec.device,
                             compute_type=compute_type, threads=spec.threads, max_input_tokens=spec.max_input_tokens,
                             forced_length=spec.forced_length)


class EngineCache:
    """The process's only model cache: one engine per (model, revision, backend, device, compute type)."""

    def __init__(self) -> None:
        self._engines: dict[tuple, Engine] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def get(self, spec: ModelSpec, *, backend: str | None = None) -> Engine:
        key = (str(spec.local_path() or spec.model), spec.revision, backend or spec.backend, spec.device,
               spec.compute_type, spec.forced_length, spec.output_vocabulary, spec.bench_vocabulary)
        with self._lock:  # concurrent first requests (the web app) load a model once
            if key not in self._engines:
                self._engines[key] = load_engine(spec, backend=backend, warned=self._warned)
            return self._engines[key]

    def loaded(self) -> list[Engine]:
        return list(self._engines.values())

    def clear(self) -> None:
        with self._lock:
            self._engines.clear()


ENGINES = EngineCache()
