"""models.yaml → typed, validated specs; model folders resolved from hub ids; the one engine cache.

models.yaml is the only place that names a model.  Errors in it are one line naming the file
and the key.  A spec's ``model`` is a hub id (downloaded to / found in the Hugging Face cache)
or a local folder (absolute, ``~``, or relative to the models.yaml that names it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from translate.engine import (
    T5_FAMILY,
    CTranslate2Engine,
    Engine,
    GenerationOptions,
    ModelLoadError,
    TransformersEngine,
    ct2_compute_type,
    ct2_device,
    model_type,
)

log = logging.getLogger(__name__)

DEFAULT_MODELS = Path(__file__).with_name("models.yaml").resolve()  # in a checkout: a link to ../models.yaml
ENV_MODELS = "TARJAMA_MODELS"
ENV_CACHE = "TARJAMA_CACHE"  # tarjama's own cache (CTranslate2 conversions, translation memory)
TASKS = ("translation", "summarization")
BACKENDS = ("auto", "transformers", "ctranslate2")
DEVICES = ("auto", "cpu", "cuda")
COMPUTE_TYPES = ("auto", "float32", "float16", "bfloat16", "int8", "int8_float32", "int8_float16",
                 "int8_bfloat16")
# Files a model folder needs; never *.bin / *.pt / *.ckpt (pickles).
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.spm", "spiece.model", "sentencepiece.bpe.model", "*.txt",
                  "README.md", "LICENSE*"]
# ISO 639-1 codes: a language key outside this list is a typo.
_ISO_639_1 = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik
io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml
mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
vo wa wo xh yi yo za zh zu"""
LANGUAGES = frozenset(_ISO_639_1.split())

_DEFAULT_KEYS = {"backend": "auto", "device": "auto", "compute_type": "auto", "threads": 0}
_SPEC_KEYS = {"model", "revision", "license", "max_input_tokens", "max_sentence_tokens", "low_confidence",
              "generate", "strategy", *_DEFAULT_KEYS}
SUMMARY_STRATEGIES = ("chunk-merge", "lead")  # summarize.summarizer.STRATEGIES
_GENERATE_KEYS = {f.name for f in fields(GenerationOptions)}


class ConfigError(ValueError):
    """models.yaml is wrong: one line, naming the file and the key."""


class ModelNotAvailable(RuntimeError):
    """A model is neither local, nor cached, nor downloadable here; the message says what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """One model entry of models.yaml, defaults applied."""

    task: str                  # translation | summarization
    key: str                   # "ar-en" | "ar"
    source: str
    target: str                # == source for summarization
    model: str
    revision: str
    license: str
    backend: str
    device: str
    compute_type: str
    threads: int
    max_input_tokens: int
    max_sentence_tokens: int
    low_confidence: float
    generate: GenerationOptions
    config_path: Path
    strategy: str = "chunk-merge"  # summarization: chunk-merge (read everything) or lead (first chunk, one pass)

    @property
    def where(self) -> str:
        return f"{self.config_path}: {self.task}.{self.key}"

    def local_path(self) -> Path | None:
        """The folder when ``model`` names one (it need not exist yet), else None for a hub id."""
        m = self.model
        if m.startswith(("/", "./", "../", "~")) or (self.config_path.parent / m).exists() or Path(m).is_dir():
            path = Path(m).expanduser()
            return path if path.is_absolute() else (self.config_path.parent / path).resolve()
        return None


@dataclass(frozen=True)
class Registry:
    """All models of one models.yaml."""

    path: Path
    translation: Mapping[str, ModelSpec]   # by target language
    summarization: Mapping[str, ModelSpec]  # by source language
    demo: bool = False

    @classmethod
    def load(cls, path: str | Path | None = None) -> Registry:
        """``path``, else $TARJAMA_MODELS, else the models.yaml shipped with tarjama."""
        path = Path(path or os.environ.get(ENV_MODELS) or DEFAULT_MODELS).expanduser()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: models file not found (set {ENV_MODELS} or --models)") from None
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from None
        return parse(data, path)

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.translation)

    def translation_spec(self, target: str, source: str = "ar") -> ModelSpec:
        spec = self.translation.get(target)
        if spec is None or spec.source != source:
            have = ", ".join(self.targets) or "none"
            raise ConfigError(f"{self.path}: translation: no model for {source}→{target} (have: {have})")
        return spec

    def summarization_spec(self, source: str = "ar") -> ModelSpec:
        spec = self.summarization.get(source)
        if spec is None:
            raise ConfigError(f"{self.path}: summarization: no model for {source}")
        return spec

    def specs(self) -> list[ModelSpec]:
        return [*self.translation.values(), *self.summarization.values()]


def parse(data: Any, path: Path) -> Registry:
    """Validate a loaded models.yaml into a Registry."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with 'translation' and 'summarization'")
    unknown = set(data) - {"defaults", "demo", *TASKS}
    if unknown:
        raise ConfigError(f"{path}: unknown key '{sorted(unknown)[0]}' (allowed: defaults, demo, {', '.join(TASKS)})")
    defaults = {**_DEFAULT_KEYS, **_mapping(data.get("defaults") or {}, path, "defaults")}
    bad = set(defaults) - set(_DEFAULT_KEYS)
    if bad:
        raise ConfigError(f"{path}: defaults.{sorted(bad)[0]}: unknown key (allowed: {', '.join(_DEFAULT_KEYS)})")
    tasks = {}
    for task in TASKS:
        entries = _mapping(data.get(task) or {}, path, task)
        specs = [_spec(task, str(key), _mapping(entry, path, f"{task}.{key}"), defaults, path)
                 for key, entry in entries.items()]
        tasks[task] = {(s.target if task == "translation" else s.source): s for s in specs}
    if not tasks["translation"]:
        raise ConfigError(f"{path}: translation: at least one model is needed (e.g. ar-en)")
    return Registry(path, tasks["translation"], tasks["summarization"], bool(data.get("demo", False)))


def _mapping(value: Any, path: Path, key: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key}: expected a mapping, got {type(value).__name__}")
    return value


def _spec(task: str, key: str, entry: dict, defaults: dict, path: Path) -> ModelSpec:
    where = f"{path}: {task}.{key}"
    unknown = set(entry) - _SPEC_KEYS
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown key (allowed: {', '.join(sorted(_SPEC_KEYS))})")
    langs = key.split("-")
    if (task == "translation" and len(langs) != 2) or (task == "summarization" and len(langs) != 1):
        form = "SOURCE-TARGET, e.g. ar-en" if task == "translation" else "a language code, e.g. ar"
        raise ConfigError(f"{where}: key must be {form}")
    for lang in langs:
        if lang not in LANGUAGES:
            raise ConfigError(f"{where}: unknown language code '{lang}' (use ISO 639-1, e.g. ar, en, es, fr)")
    if not isinstance(entry.get("model"), str) or not entry["model"].strip():
        raise ConfigError(f"{where}.model: missing (a hub id like Helsinki-NLP/opus-mt-{key} or a folder)")
    merged = {**defaults, **{k: v for k, v in entry.items() if k in _DEFAULT_KEYS}}
    _choice(merged["backend"], BACKENDS, f"{where}.backend")
    _choice(merged["device"], DEVICES, f"{where}.device")
    _choice(merged["compute_type"], COMPUTE_TYPES, f"{where}.compute_type")
    max_in = _int(entry.get("max_input_tokens", 512), f"{where}.max_input_tokens")
    if "strategy" in entry and task != "summarization":
        raise ConfigError(f"{where}.strategy: only summarization models have a strategy")
    _choice(entry.get("strategy", "chunk-merge"), SUMMARY_STRATEGIES, f"{where}.strategy")
    return ModelSpec(
        task=task, key=key, source=langs[0], target=langs[-1], model=entry["model"].strip(),
        revision=str(entry.get("revision", "main")), license=str(entry.get("license", "unknown")),
        backend=merged["backend"], device=merged["device"], compute_type=merged["compute_type"],
        threads=_int(merged["threads"], f"{where}.threads", low=0), max_input_tokens=max_in,
        max_sentence_tokens=min(max_in, _int(entry.get("max_sentence_tokens", 200), f"{where}.max_sentence_tokens")),
        low_confidence=float(entry.get("low_confidence", -1.0)),
        generate=_generate(entry.get("generate") or {}, f"{where}.generate"), config_path=path,
        strategy=entry.get("strategy", "chunk-merge"),
    )


def _generate(value: Any, where: str) -> GenerationOptions:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = set(value) - _GENERATE_KEYS
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown key (allowed: {', '.join(sorted(_GENERATE_KEYS))})")
    try:
        return GenerationOptions(**{k: type(getattr(GenerationOptions, k))(v) for k, v in value.items()})
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from None


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{where}: '{value}' is not one of {', '.join(allowed)}")


def _int(value: Any, where: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{where}: expected an integer ≥ {low}, got {value!r}")
    return value


# -- resolving model folders -------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """Where a model's files are, and how they got there."""

    path: Path
    source: str        # local | cached | downloaded


def hf_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def resolve(spec: ModelSpec, *, download: bool = True) -> Resolved:
    """The folder holding ``spec``'s files: the local folder, the HF cache, or a fresh download."""
    local = spec.local_path()
    if local is not None:
        if not local.is_dir():
            raise ModelNotAvailable(f"{spec.where}.model: folder {local} does not exist")
        return _checked(spec, Resolved(local, "local"))
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    kwargs = {"repo_id": spec.model, "revision": spec.revision, "allow_patterns": ALLOW_PATTERNS}
    try:
        return _checked(spec, Resolved(Path(snapshot_download(**kwargs, local_files_only=True)), "cached"))
    except LocalEntryNotFoundError:
        if not download:
            raise ModelNotAvailable(_not_available(spec, "not downloaded yet")) from None
    try:
        return _checked(spec, Resolved(Path(snapshot_download(**kwargs)), "downloaded"))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as err:
        reason = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        raise ModelNotAvailable(_not_available(spec, f"the Hub is unreachable ({reason})")) from None


def _not_available(spec: ModelSpec, why: str) -> str:
    return (
        f"model {spec.model} (revision {spec.revision}) for {spec.task} {spec.key} is not available: "
        f"it is not in the Hugging Face cache ({hf_cache_dir()}) and {why}. "
        f"Fix: run `tarjama models pull` where there is network (then copy the cache here), "
        f"or download the model folder and set `model: /path/to/folder` under {spec.task}.{spec.key} "
        f"in {spec.config_path}."
    )


def _checked(spec: ModelSpec, found: Resolved) -> Resolved:
    """Refuse folders without safetensors weights: pickled .bin weights can run code on load."""
    if not any(found.path.glob("*.safetensors")):
        raise ModelNotAvailable(
            f"{spec.where}: {found.path} has no *.safetensors weights; tarjama never loads pickled "
            f"(.bin) weights. Use a revision that has model.safetensors, or convert the model yourself "
            f"and set model: to that folder."
        )
    return found


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# -- CTranslate2 conversions -------------------------------------------------------------------------


class ConversionError(RuntimeError):
    """A model could not be converted to CTranslate2 (or CTranslate2 is not installed)."""


def cache_dir() -> Path:
    """tarjama's cache: $TARJAMA_CACHE, else $XDG_CACHE_HOME/tarjama, else ~/.cache/tarjama.

    Model downloads stay in the Hugging Face cache (HF_HOME); this holds what tarjama derives from
    them: CTranslate2 conversions (``ct2/``) and the translation memory (``memory.sqlite``).
    """
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(xdg).expanduser() / "tarjama"


def ct2_compute(spec: ModelSpec, found: Resolved | None = None) -> str:
    """The compute type ``spec`` runs in on CTranslate2 (``auto`` resolved for its device and model kind)."""
    found = found or resolve(spec, download=False)
    return ct2_compute_type(spec.compute_type, ct2_device(spec.device), model_type(found.path))


def ct2_path(spec: ModelSpec, found: Resolved, compute_type: str) -> Path:
    """``<cache>/ct2/<model>/<revision>/<compute_type>``.

    Hub models are keyed by the snapshot's commit (``main`` moves; a new commit converts anew);
    local folders by their name, a hash of their path, and a fingerprint of their files
    (size and mtime), so a regenerated folder is never served a stale conversion.
    """
    if found.source == "local":
        slug = f"{found.path.name}-{_digest(str(found.path))}"
        rev = f"{spec.revision}-{_fingerprint(found.path)}"
    else:
        slug = spec.model.replace("/", "--")
        rev = found.path.name if found.path.parent.name == "snapshots" else spec.revision
    return cache_dir() / "ct2" / _safe(slug) / _safe(rev) / compute_type


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _fingerprint(folder: Path) -> str:
    files = sorted(f for f in folder.iterdir() if f.is_file())
    return _digest("|".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@=+-]", "_", name)[:120] or "_"


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
              f"reused from {target}", file=sys.stderr, flush=True)
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


def ct2_cached(spec: ModelSpec) -> list[str]:
    """Compute types of ``spec`` already converted (for ``models list``); [] when none or not resolvable."""
    try:
        found = resolve(spec, download=False)
        folder = ct2_path(spec, found, "x").parent
    except (ModelNotAvailable, OSError):
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "model.bin").is_file()) if folder.is_dir() else []


# -- the engine cache --------------------------------------------------------------------------------


_warned: set[str] = set()


def load_engine(spec: ModelSpec, *, backend: str | None = None) -> Engine:
    """Build an engine for ``spec`` (no caching: see EngineCache).

    ``ctranslate2``: convert once (cached), load, or fail with the reason.  ``auto``: the same, but
    on any failure fall back to Transformers with one warning line naming the reason.
    """
    found = resolve(spec)
    engine = _load_engine(spec, backend or spec.backend, found)
    # What the translation memory keys on besides the revision as written: "main" moves on the Hub and a
    # local folder can be regenerated in place, so entries follow the weights actually loaded.
    engine.weights = found.path.name if found.source != "local" else _fingerprint(found.path)
    return engine


def _load_engine(spec: ModelSpec, backend: str, found: Resolved) -> Engine:
    ct = spec.compute_type
    if model_type(found.path) in T5_FAMILY and "float16" in ct and "bfloat16" not in ct:
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
            if key not in _warned:
                _warned.add(key)
                log.warning("tarjama: %s: CTranslate2 not used (%s); using Transformers", spec.key, reason)
    try:
        return TransformersEngine(found.path, model_id=spec.model, revision=spec.revision, device=spec.device,
                                  compute_type=spec.compute_type, threads=spec.threads,
                                  max_input_tokens=spec.max_input_tokens)
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
    folder = convert(spec, compute_type, found=found)
    return CTranslate2Engine(folder, found.path, model_id=spec.model, revision=spec.revision, device=spec.device,
                             compute_type=compute_type, threads=spec.threads, max_input_tokens=spec.max_input_tokens)


class EngineCache:
    """The process's only model cache: one engine per (model, revision, backend, device, compute type)."""

    def __init__(self) -> None:
        self._engines: dict[tuple, Engine] = {}
        self._lock = threading.Lock()

    def get(self, spec: ModelSpec, *, backend: str | None = None) -> Engine:
        key = (str(spec.local_path() or spec.model), spec.revision, backend or spec.backend, spec.device,
               spec.compute_type)
        with self._lock:  # concurrent first requests (the web app) load a model once
            if key not in self._engines:
                self._engines[key] = load_engine(spec, backend=backend)
            return self._engines[key]

    def loaded(self) -> list[Engine]:
        return list(self._engines.values())

    def clear(self) -> None:
        with self._lock:
            self._engines.clear()


ENGINES = EngineCache()
