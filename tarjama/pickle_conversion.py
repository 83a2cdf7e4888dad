"""Pickled ``pytorch_model.bin`` → a checked ``model.safetensors`` in tarjama's cache, unpickled in a child process.

Many hub branches hold only a pickle, and unpickling can run any code.  tarjama never unpickles in
its own process: ``tarjama models pull --convert-pickle`` hands the owners' file to a fresh, short-lived
interpreter (``python -m tarjama.pickle_conversion``) that loads it with torch's restricted unpickler
(``weights_only=True``, torch >= 2.6), checks every tensor's name, shape and dtype against a skeleton of
the model built from config.json on the meta device, and writes ``model.safetensors``.  The parent copies
the config and tokenizer files next to it and renames the folder into
``cache_dir()/converted/<model>/<commit or revision>/``, where ``registry.resolve`` finds it.

The parent half of this module imports only the standard library (and tarjama.paths) at load time; the
child half (``main``) imports torch, transformers and safetensors and nothing else of tarjama.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tarjama.paths import SAFETENSORS  # stdlib only: the child process imports it too

if TYPE_CHECKING:
    from tarjama.registry import ModelSpec, Resolved

PICKLE = "pytorch_model.bin"
PROVENANCE = "tarjama-conversion.json"
MIN_TORCH = (2, 6)  # torch < 2.6: weights_only=True can still be escaped (CVE-2025-32434)


class PickleConversionError(RuntimeError):
    """A pickle could not be obtained, was refused by the checks, or the conversion failed; one line."""


# -- the parent: where conversions live, fetching the pickle, running the child -------------------------


def convert_spec(spec: ModelSpec) -> tuple[Resolved, bool]:
    """The usable folder of ``spec`` and whether it was converted now (``models pull --convert-pickle``).

    A folder with safetensors, or an earlier conversion, is returned as it is; otherwise the owners'
    pickle is converted.
    """
    from tarjama.registry import Resolved, converted_folder, locate

    found = locate(spec, download=True)
    if any(found.path.glob("*.safetensors")):
        return found, False
    target = converted_folder(spec, found)
    if (target / SAFETENSORS).is_file():
        return Resolved(target, "converted"), False
    if found.source == "local":
        pickle = found.path / PICKLE
        if not pickle.is_file():
            raise PickleConversionError(f"{spec.where}: {found.path} has neither *.safetensors nor {PICKLE} "
                                        f"(sharded pickles are not supported)")
        convert_folder(pickle, found.path, target, {"folder": str(found.path), "revision": spec.revision})
        return Resolved(target, "converted"), True
    commit = found.commit
    provenance = {"repo": spec.model, "revision": spec.revision, "snapshot_commit": commit}
    with _hub_pickle(spec, commit or spec.revision, target.parent.parent) as pickle:
        convert_folder(pickle, found.path, target, provenance)
    return Resolved(target, "converted"), True


@contextlib.contextmanager
def _hub_pickle(spec: ModelSpec, revision: str, near: Path) -> Iterator[Path]:
    """The hub's pytorch_model.bin: from the HF cache when it is there (left alone), else downloaded into a
    temporary folder that is deleted afterwards (it never enters the HF cache, where it would only be a
    pickle tarjama must not load)."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    try:
        cached: Path | None = Path(hf_hub_download(spec.model, PICKLE, revision=revision, local_files_only=True))
    except LocalEntryNotFoundError:
        cached = None
    if cached is not None:
        yield cached
        return
    near.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=near, prefix=".download-")
    try:
        try:
            path = Path(hf_hub_download(spec.model, PICKLE, revision=revision, local_dir=tmp))
        except (EntryNotFoundError, HfHubHTTPError, OSError) as err:
            where = f"{spec.where}: {spec.model}@{revision}"
            if isinstance(err, EntryNotFoundError) and not isinstance(err, LocalEntryNotFoundError):
                raise PickleConversionError(f"{where} has no {PICKLE} (sharded pickles are not supported)") from None
            raise PickleConversionError(f"{where}: cannot download {PICKLE}: {_first_line(err)}") from None
        yield path
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def convert_folder(pickle: Path, files_from: Path, target: Path, provenance: dict[str, Any]) -> Path:
    """Convert ``pickle`` (checked against ``files_from``/config.json) into the folder ``target``, atomically.

    Everything is written into a temporary folder beside ``target`` and renamed into place, so a refusal,
    a crash or a second process never leaves half a conversion where ``resolve`` looks; when two
    processes race, the first rename wins.
    """
    from tarjama.registry import ALLOW_PATTERNS

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        sha256, size = _sha256(pickle)
        report = _run_child(pickle, files_from, tmp / SAFETENSORS, cwd=tmp)
        for f in sorted(files_from.iterdir()):
            if f.is_file() and f.name != PICKLE and any(fnmatch.fnmatch(f.name, p) for p in ALLOW_PATTERNS):
                shutil.copyfile(f, tmp / f.name)  # follows the HF cache's links to its blobs
        record = {**provenance, "pickle": {"file": pickle.name, "sha256": sha256, "size": size},
                  **report, "converted_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        (tmp / PROVENANCE).write_text(json.dumps(record, indent=1), encoding="utf-8")
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / SAFETENSORS).is_file():
                raise
    except OSError as err:
        raise PickleConversionError(f"cannot write the conversion of {pickle} to {target}: {err}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not target.exists():
            with contextlib.suppress(OSError):
                target.parent.rmdir()  # a refusal leaves no empty <model> folder behind either
    return target


def _run_child(pickle: Path, config_dir: Path, out: Path, *, cwd: Path) -> dict[str, Any]:
    """Run the checks and the conversion in a fresh interpreter; its report (a JSON line), or the refusal.

    ``cwd`` is the empty temporary folder, so nothing beside the model (or the user's working folder)
    lands on the child's ``sys.path``; HF_HUB_OFFLINE=1: the child needs no network.
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, "-m", "tarjama.pickle_conversion", str(pickle), str(config_dir), str(out)],
                          capture_output=True, text=True, cwd=cwd, env=env)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        why = lines[-1].removeprefix(f"{_CHILD}: ") if lines else f"the conversion process exited {proc.returncode}"
        raise PickleConversionError(f"{pickle}: {why}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


# -- the child: restricted unpickling, checks against config.json, safetensors --------------------------

_CHILD = "tarjama.pickle_conversion"


class Refused(Exception):
    """The pickle does not match the model config.json describes (or cannot be read safely)."""


def check_torch(version: str) -> None:
    """torch >= 2.6: earlier ``weights_only=True`` loads could be escaped to run code (CVE-2025-32434)."""
    found = tuple(int(x) for x in re.findall(r"\d+", version)[:2])
    if found < MIN_TORCH:
        raise Refused(f"torch {version} is too old to unpickle safely: torch.load(weights_only=True) is only "
                      f"trusted from torch {'.'.join(map(str, MIN_TORCH))}; pip install 'torch>=2.6'")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tarjama.pickle_conversion PICKLE CONFIG_DIR OUT``: exit 0 and a JSON report, or 2 and why."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3:
        print(f"usage: python -m {_CHILD} PICKLE CONFIG_DIR OUT.safetensors", file=sys.stderr)
        return 2
    try:
        report = _convert(Path(args[0]), Path(args[1]), Path(args[2]))
    except Refused as err:
        print(f"{_CHILD}: refused: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # a corrupt file, an unknown model type...: one line for the parent
        print(f"{_CHILD}: failed: {type(err).__name__}: {_first_line(err)}", file=sys.stderr)
        return 2
    print(json.dumps(report))
    return 0


def _convert(pickle: Path, config_dir: Path, out: Path) -> dict[str, Any]:
    import pickle as pickle_module

    import torch
    import transformers
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoModelForSeq2SeqLM

    check_torch(torch.__version__)
    config = AutoConfig.from_pretrained(str(config_dir), trust_remote_code=False)
    with torch.device("meta"):
        skeleton = AutoModelForSeq2SeqLM.from_config(config, trust_remote_code=False)
    expected = skeleton.state_dict()
    raw_config = json.loads((config_dir / "config.json").read_text(encoding="utf-8"))
    try:
        state = torch.load(pickle, map_location="cpu", weights_only=True)
    except pickle_module.UnpicklingError as err:
        raise Refused(f"torch's restricted unpickler (weights_only=True) refused {pickle.name}: it holds more "
                      f"than tensors ({_first_line(err)})") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise Refused(f"{pickle.name} is not a state dict (a mapping of names to tensors)")
    ignored = _ignored_unexpected(type(skeleton), state, expected)
    state = {k: v for k, v in state.items() if k not in ignored}
    for name, tensor in state.items():
        _check_tensor(name, tensor, expected.get(name), torch, type(skeleton).__name__)
    tied = _tie_groups(skeleton, raw_config)
    recomputed = _check_missing(skeleton, set(expected) - set(state), set(state), tied)
    tensors, dropped = _one_name_per_storage(state, tied, list(expected))
    save_file(tensors, str(out), metadata={"format": "pt"})
    return {"torch": torch.__version__, "transformers": transformers.__version__, "tensors": len(tensors),
            "dropped_tied_names": dropped, "recomputed_on_load": sorted(recomputed),
            "ignored_unexpected": sorted(ignored)}


def _ignored_unexpected(model_class: type, state: dict[str, Any], expected: dict[str, Any]) -> set[str]:
    """Unknown names that transformers itself discards on load (the class's ``_keys_to_ignore_on_load_unexpected``,
    e.g. mT5's stale ``decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight`` of old T5
    checkpoints).  They are left out of model.safetensors, so they can change nothing; any other unknown
    name is refused."""
    patterns = getattr(model_class, "_keys_to_ignore_on_load_unexpected", None) or []
    return {k for k in state if k not in expected and any(re.search(p, k) for p in patterns)}


def _check_tensor(name: str, tensor: Any, want: Any, torch: Any, model: str) -> None:
    """One tensor against the skeleton: a known name, a plain dense tensor, the same shape, a dtype of the
    same kind (any floating type where a float is expected: checkpoints are often saved in float16)."""
    if want is None:
        raise Refused(f"tensor {name}: unknown to {model}, the model config.json describes (wrong model or config)")
    if not isinstance(tensor, torch.Tensor) or tensor.layout != torch.strided:
        raise Refused(f"tensor {name}: not a plain dense tensor ({type(tensor).__name__})")
    if tuple(tensor.shape) != tuple(want.shape):
        raise Refused(f"tensor {name}: shape {tuple(tensor.shape)}, but config.json gives {tuple(want.shape)}")
    if want.is_floating_point() != tensor.is_floating_point() or (not want.is_floating_point()
                                                                   and tensor.dtype != want.dtype):
        raise Refused(f"tensor {name}: dtype {tensor.dtype}, expected {want.dtype}")


def _tie_groups(skeleton: Any, raw_config: dict[str, Any]) -> dict[str, str]:
    """``{name: root}`` for the weights transformers ties on load (``all_tied_weights_keys``, target → source).

    transformers 5 forces ``tie_word_embeddings=True`` into every MT5Config and ties a missing lm_head to
    the input embeddings; a checkpoint whose own config.json says ``tie_word_embeddings: false`` (e.g.
    csebuetnlp/mT5_multilingual_XLSum) has a head of its own, so its head is not treated as tied here:
    missing, it is refused instead of silently replaced by the embeddings.
    """
    mapping = dict(getattr(skeleton, "all_tied_weights_keys", None) or {})
    if raw_config.get("tie_word_embeddings") is False:
        head = skeleton.get_output_embeddings()
        mapping.pop(next((f"{n}.weight" for n, m in skeleton.named_modules() if m is head), ""), None)
    groups = {target: source for target, source in mapping.items()}
    groups.update({source: source for source in mapping.values()})
    return groups


def _check_missing(skeleton: Any, missing: set[str], present: set[str], tied: dict[str, str]) -> set[str]:
    """Refuse missing tensors except two kinds transformers restores on load (returned, for the record).

    * tied duplicates: a name of a tie group (Marian's ``model.encoder.embed_tokens.weight``,
      ``model.decoder.embed_tokens.weight`` and ``lm_head.weight`` share ``model.shared.weight``; mT5's
      embed_tokens share ``shared.weight``) when another name of its group is present: transformers ties
      symmetrically, to whichever name the checkpoint has.
    * sinusoidal position tables (Marian's ``model.{encoder,decoder}.embed_positions.weight``): fixed
      functions of their shape, which ``_init_weights`` computes (``create_weight``); the hub's own Marian
      safetensors leave them out (``_keys_to_ignore_on_save``).
    Everything else (learned weights, and buffers such as Marian's ``final_logits_bias``, which transformers
    would fill with zeros, not recompute) must be in the pickle.
    """
    roots = {tied[name] for name in present if name in tied}
    recomputed = set()
    for name in sorted(missing):
        owner, _, leaf = name.rpartition(".")
        sinusoidal = leaf == "weight" and "Sinusoidal" in type(skeleton.get_submodule(owner)).__name__
        if (name in tied and tied[name] in roots) or sinusoidal:
            recomputed.add(name)
        else:
            raise Refused(f"tensor {name}: missing from the pickle (config.json's model needs it)")
    return recomputed


def _one_name_per_storage(state: dict[str, Any], tied: dict[str, str], order: list[str]
                          ) -> tuple[dict[str, Any], list[str]]:
    """Safetensors stores no shared tensors: keep one name per tied group, as the hub's conversion bot does.

    Names that are the same view of one storage and belong to one tie group collapse to one name,
    preferring one that is not a tie target (Marian: ``model.shared.weight``), so transformers re-ties
    the rest on load.  Views of one storage that transformers would not re-tie get their own copies.
    """
    rank = {n: i for i, n in enumerate(order)}
    views: dict[tuple, list[str]] = {}
    for name, t in state.items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.stride(), t.dtype)
        views.setdefault(key if t.numel() else (name,), []).append(name)
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for names in views.values():
        keep = min(names, key=lambda n: (tied.get(n, n) != n, rank.get(n, len(rank))))
        for name in names:
            if name == keep or tied.get(name, name) != tied.get(keep, keep):
                kept[name] = state[name]
            else:
                dropped.append(name)
    owners: dict[int, int] = {}
    for t in kept.values():
        owners[t.untyped_storage().data_ptr()] = owners.get(t.untyped_storage().data_ptr(), 0) + 1
    tensors = {n: (t.clone() if owners[t.untyped_storage().data_ptr()] > 1 and t.numel() else t).contiguous()
               for n, t in kept.items()}
    return tensors, sorted(dropped)


if __name__ == "__main__":
    raise SystemExit(main())
