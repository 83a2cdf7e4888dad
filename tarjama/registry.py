"""models.yaml → typed, validated specs, and model folders resolved from hub ids (engines: tarjama.engines).

models.yaml is the only place that names a model.  Errors in it are one line naming the file
and the key.  A spec's ``model`` is a hub id (downloaded to / found in the Hugging Face cache)
or a local folder (absolute, ``~``, or relative to the models.yaml that names it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from tarjama.paths import (
    ENV_MODELS,
    SAFETENSORS,
    converted_root,
    digest,
    fingerprint,
    hf_cache_dir,
    models_file,
    path_safe,
)
from tarjama.summarize.summarizer import BATCH_TOKENS as SUMMARY_BATCH_TOKENS
from tarjama.summarize.summarizer import MANY_BATCH_TOKENS, STRATEGIES
from tarjama.summarize.summarizer import MAX_BATCH_SIZE as SUMMARY_MAX_BATCH
from tarjama.translate.engine import ForcedLength, GenerationOptions
from tarjama.translate.languages import LANGUAGES, NON_LATIN_TARGETS
from tarjama.translate.translator import BATCH_TOKENS, MAX_BATCH_SIZE
from tarjama.translate.vocabulary import OUTPUT_VOCABULARIES

log = logging.getLogger(__name__)

TASKS = ("translation", "summarization")
BACKENDS = ("auto", "transformers", "ctranslate2")
DEVICES = ("auto", "cpu", "cuda")
COMPUTE_TYPES = ("auto", "float32", "float16", "bfloat16", "int8", "int8_float32", "int8_float16",
                 "int8_bfloat16")
# Files a model folder needs; never *.bin / *.pt / *.ckpt (pickles).
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.spm", "spiece.model", "sentencepiece.bpe.model", "*.txt",
                  "README.md", "LICENSE*"]

_DEFAULT_KEYS = {"backend": "auto", "device": "auto", "compute_type": "auto", "threads": 0}
_SPEC_KEYS = {"model", "revision", "license", "provenance", "max_input_tokens", "max_sentence_tokens",
              "low_confidence", "generate", "strategy", "batch_tokens", "max_batch_size", "many_batch_tokens",
              "repetition_guard", "enforce", "benchmark", "glossary", "output_vocabulary", *_DEFAULT_KEYS}
_ONLY = {"strategy": "summarization", "many_batch_tokens": "summarization", "repetition_guard": "translation",
         "enforce": "translation", "glossary": "translation"}
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
    provenance: str = ""           # who made the weights at this revision, when not the model's owners
    batch_tokens: int = 0          # padded tokens per model call (0: the task's default)
    max_batch_size: int = 0        # rows per model call (0: the task's default)
    many_batch_tokens: int = MANY_BATCH_TOKENS  # summarization, many articles at once (run_many)
    repetition_guard: bool = True  # translation: re-decode looping outputs (off only for benchmarks)
    enforce: bool = True           # translation: placeholder re-decoding of missed terms/tokens (off: benchmarks)
    forced_length: ForcedLength | None = None  # benchmarks only (``benchmark: {tokens: N}`` / ``{ratio: R}``)
    glossary: Path | None = None   # translation: this pair's glossary file (models.yaml ``glossary:``)
    output_vocabulary: str = "all"  # arabic | latin | all: the output pieces decoding may choose from
    bench_vocabulary: int = 0      # benchmarks only (``benchmark: {vocabulary: N}``): keep the first N pieces

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
    glossary: Path | None = None  # models.yaml's top-level ``glossary:``, for every pair

    def glossary_files(self, target: str) -> list[Path]:
        """The glossary files for ar→``target``: the top-level one, then the pair's own (which wins on a term)."""
        return [p for p in (self.glossary, self.translation_spec(target).glossary) if p is not None]

    @classmethod
    def load(cls, path: str | Path | None = None) -> Registry:
        """``path``, else $TARJAMA_MODELS, else the models.yaml shipped with tarjama."""
        path = models_file(path)
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
    unknown = set(data) - {"defaults", "demo", "glossary", *TASKS}
    if unknown:
        raise ConfigError(f"{path}: unknown key '{sorted(unknown)[0]}' (allowed: defaults, demo, glossary, "
                          f"{', '.join(TASKS)})")
    defaults = {**_DEFAULT_KEYS, **_mapping(data.get("defaults") or {}, path, "defaults")}
    allowed = (*_DEFAULT_KEYS, "output_vocabulary")  # the latter's default depends on the task: see _spec
    bad = set(defaults) - set(allowed)
    if bad:
        raise ConfigError(f"{path}: defaults.{sorted(bad)[0]}: unknown key (allowed: {', '.join(allowed)})")
    tasks = {}
    for task in TASKS:
        entries = _mapping(data.get(task) or {}, path, task)
        specs = [_spec(task, str(key), _mapping(entry, path, f"{task}.{key}"), defaults, path)
                 for key, entry in entries.items()]
        tasks[task] = {(s.target if task == "translation" else s.source): s for s in specs}
    if not tasks["translation"]:
        raise ConfigError(f"{path}: translation: at least one model is needed (e.g. ar-en)")
    return Registry(path, tasks["translation"], tasks["summarization"], bool(data.get("demo", False)),
                    _glossary(data.get("glossary"), f"{path}: glossary", path))


def _glossary(value: Any, where: str, path: Path) -> Path | None:
    """A glossary file named in models.yaml (relative to the file), which must exist."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected the path of a CSV, TSV or YAML glossary file")
    file = Path(value.strip()).expanduser()
    file = file if file.is_absolute() else (path.parent / file).resolve()
    if not file.is_file():
        raise ConfigError(f"{where}: glossary file not found: {file}")
    return file


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
    for name, only in _ONLY.items():
        if name in entry and task != only:
            raise ConfigError(f"{where}.{name}: only {only} models have it")
    _choice(entry.get("strategy", "chunk-merge"), STRATEGIES, f"{where}.strategy")
    translation = task == "translation"
    batch_tokens = _int(entry.get("batch_tokens", BATCH_TOKENS if translation else SUMMARY_BATCH_TOKENS),
                        f"{where}.batch_tokens")
    max_batch = _int(entry.get("max_batch_size", MAX_BATCH_SIZE if translation else SUMMARY_MAX_BATCH),
                     f"{where}.max_batch_size")
    vocabulary = entry.get("output_vocabulary", defaults.get("output_vocabulary")) or default_vocabulary(task, langs)
    _choice(vocabulary, OUTPUT_VOCABULARIES, f"{where}.output_vocabulary")
    guard, enforce = entry.get("repetition_guard", True), entry.get("enforce", True)
    for name, value in (("repetition_guard", guard), ("enforce", enforce)):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{name}: expected true or false, got {value!r}")
    return ModelSpec(
        task=task, key=key, source=langs[0], target=langs[-1], model=entry["model"].strip(),
        revision=str(entry.get("revision", "main")), license=str(entry.get("license", "unknown")),
        backend=merged["backend"], device=merged["device"], compute_type=merged["compute_type"],
        threads=_int(merged["threads"], f"{where}.threads", low=0), max_input_tokens=max_in,
        max_sentence_tokens=min(max_in, _int(entry.get("max_sentence_tokens", 200), f"{where}.max_sentence_tokens")),
        low_confidence=float(entry.get("low_confidence", -1.0)),
        generate=_generate(entry.get("generate") or {}, f"{where}.generate"), config_path=path,
        strategy=entry.get("strategy", "chunk-merge"), provenance=str(entry.get("provenance", "")),
        batch_tokens=batch_tokens, max_batch_size=max_batch,
        many_batch_tokens=_int(entry.get("many_batch_tokens", MANY_BATCH_TOKENS), f"{where}.many_batch_tokens"),
        repetition_guard=guard, enforce=enforce, forced_length=_forced(entry.get("benchmark"), f"{where}.benchmark"),
        glossary=_glossary(entry.get("glossary"), f"{where}.glossary", path), output_vocabulary=vocabulary,
        bench_vocabulary=_bench_vocabulary(entry.get("benchmark"), f"{where}.benchmark"),
    )


ARABIC_SCRIPT_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "ku", "sd", "ug"})


def default_vocabulary(task: str, langs: list[str]) -> str:
    """``output_vocabulary`` when models.yaml does not say: the output language's script where tarjama knows
    it (Latin-script translation targets; Arabic-script summaries), else ``all``."""
    out = langs[-1]
    if task == "translation" and out not in NON_LATIN_TARGETS:
        return "latin"
    return "arabic" if out in ARABIC_SCRIPT_LANGUAGES else "all"


def _forced(value: Any, where: str) -> ForcedLength | None:
    """``benchmark: {tokens: N}`` or ``{ratio: R}``: forced output lengths, for benchmarks on random weights."""
    if value is None:
        return None
    lengths = {k: v for k, v in value.items() if k != "vocabulary"} if isinstance(value, dict) else None
    if lengths is None or set(lengths) - {"tokens", "ratio"} or len(lengths) > 1:
        raise ConfigError(f"{where}: expected {{tokens: N}} or {{ratio: R}}, and or {{vocabulary: N}} "
                          "(benchmarks only)")
    if not lengths:
        return None
    if "tokens" in value:
        return ForcedLength(tokens=_int(value["tokens"], f"{where}.tokens"))
    ratio = value["ratio"]
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio <= 0:
        raise ConfigError(f"{where}.ratio: expected a number > 0, got {ratio!r}")
    return ForcedLength(ratio=float(ratio))


def _bench_vocabulary(value: Any, where: str) -> int:
    """``benchmark: {vocabulary: N}``: restrict the output to the model's first N pieces (speed as a function
    of the kept size: generated vocabularies lack a real tokenizer's script mix)."""
    if not isinstance(value, dict) or "vocabulary" not in value:
        return 0
    return _int(value["vocabulary"], f"{where}.vocabulary")


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
    source: str        # local | cached | downloaded | converted (tarjama's safetensors of a pickle)

    @property
    def commit(self) -> str | None:
        """The hub commit the files came from (a snapshot's, or a converted pickle's folder name), else None."""
        if self.source == "local":
            return None
        return self.path.name if self.path.parent.name == "snapshots" or self.source == "converted" else None


def cache_key(spec: ModelSpec, found: Resolved) -> tuple[str, str]:
    """(model, revision): the two path components under which tarjama keeps what it derives from a model
    (CTranslate2 conversions, safetensors of a pickle).

    Hub models are keyed by the snapshot's commit (``main`` moves: a new commit converts anew); local
    folders by their name, a hash of their path and a fingerprint of their files (size and mtime), so a
    regenerated folder is never served a stale conversion.
    """
    if found.source == "local":
        slug, rev = f"{found.path.name}-{digest(str(found.path))}", f"{spec.revision}-{fingerprint(found.path)}"
    else:
        slug, rev = spec.model.replace("/", "--"), found.commit or spec.revision
    return path_safe(slug), path_safe(rev)


def converted_folder(spec: ModelSpec, found: Resolved) -> Path:
    """``<cache>/converted/<model>/<commit or revision>``: where ``models pull --convert-pickle`` puts a model."""
    return converted_root().joinpath(*cache_key(spec, found))


def resolve(spec: ModelSpec, *, download: bool = True) -> Resolved:
    """The folder holding ``spec``'s safetensors weights: the local folder, the HF cache, a fresh download,
    or, where those hold only a pickle, tarjama's conversion of it (``models pull --convert-pickle``)."""
    return _checked(spec, locate(spec, download=download))


def locate(spec: ModelSpec, *, download: bool = True) -> Resolved:
    """The local folder, the HF cache snapshot or a fresh download, unchecked: it may hold only a pickle.

    Loaders use ``resolve``; this is for the pickle converter, which must find the owners' folder.
    """
    local = spec.local_path()
    if local is not None:
        if not local.is_dir():
            raise ModelNotAvailable(f"{spec.where}.model: folder {local} does not exist")
        return Resolved(local, "local")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    kwargs = {"repo_id": spec.model, "revision": spec.revision, "allow_patterns": ALLOW_PATTERNS}
    try:
        return Resolved(Path(snapshot_download(**kwargs, local_files_only=True)), "cached")
    except LocalEntryNotFoundError:
        if not download:
            raise ModelNotAvailable(_not_available(spec, "not downloaded yet")) from None
    try:
        return Resolved(Path(snapshot_download(**kwargs)), "downloaded")
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
    """Refuse folders without safetensors weights (pickled .bin weights can run code on load), unless
    tarjama converted that folder's pickle earlier: then the conversion is used."""
    if any(found.path.glob("*.safetensors")):
        return found
    converted = converted_folder(spec, found)
    if (converted / SAFETENSORS).is_file():
        return Resolved(converted, "converted")
    pin = (f"pin a `revision:` under {spec.task}.{spec.key} in {spec.config_path} that holds model.safetensors "
           f"(e.g. the Hub's safetensors conversion pull request, refs/pr/N, or its commit sha)"
           if found.source != "local" else f"put a model.safetensors into {found.path}")
    raise ModelNotAvailable(
        f"{spec.where}: model {spec.model} (revision {spec.revision}) at {found.path} has no *.safetensors "
        f"weights; tarjama never loads pickled (.bin) weights. Fix: {pin}, or run "
        f"`tarjama models pull --convert-pickle {spec.key}`, which unpickles the owners' pytorch_model.bin in "
        f"an isolated process with torch.load(weights_only=True), checks every tensor against config.json "
        f"and caches a model.safetensors."
    )


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
