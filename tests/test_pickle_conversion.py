"""Pickle-only models: `models pull --convert-pickle`, the checks of the isolated converter, and resolve's use of it."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
import tiny_models
import torch
from tarjama.translate.engine import TransformersEngine

from tarjama.cli import main
from tarjama.engines import load_engine
from tarjama.pickle_conversion import PROVENANCE, PickleConversionError, Refused, check_torch, convert_spec
from tarjama.registry import ModelNotAvailable, Registry, resolve

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SENTENCE = "قال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل."
# What old transformers' .bin files may lack and transformers restores: Marian's tied embeddings and its sinusoidal
# position tables.
MARIAN_RESTORED = ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight",
                   "model.encoder.embed_positions.weight", "model.decoder.embed_positions.weight")


class Payload:
    """Unpickled, it creates the folder ``marker``: the code a malicious pickle would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.makedirs, (str(self.marker),))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pickle-sources")
    return {"marian": tiny_models.build_marian(root / "opus-mt-ar-en", "en"),
            "mt5": tiny_models.build_mt5(root / "mt5")}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tarjama-cache"
    monkeypatch.setenv("TARJAMA_CACHE", str(path))
    return path


def original_state(src: Path) -> dict[str, torch.Tensor]:
    """The model's full state dict, tied names sharing one storage, as old transformers saved pytorch_model.bin."""
    from transformers import AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM.from_pretrained(src, use_safetensors=True).state_dict()


def pickled_copy(src: Path, out: Path, state: dict | None = None, drop: tuple[str, ...] = ()) -> Path:
    """``src`` with its weights as pytorch_model.bin only (``state`` or the model's own, less ``drop``)."""
    out.mkdir(parents=True)
    for f in src.iterdir():
        if f.suffix != ".safetensors":
            shutil.copyfile(f, out / f.name)
    state = original_state(src) if state is None else state
    torch.save({k: v for k, v in state.items() if k not in drop}, out / "pytorch_model.bin")
    return out


def write_yaml(path: Path, model: str, revision: str = "main", summary: str | None = None,
               extra: str = "") -> Path:
    gen = "generate: {num_beams: 1, max_new_tokens: 8}"
    text = (f"defaults: {{backend: transformers, device: cpu, compute_type: float32}}\n"
            f"translation:\n  ar-en: {{model: '{model}', revision: '{revision}', {gen}}}\n{extra}")
    if summary:
        text += f"summarization:\n  ar: {{model: '{summary}', revision: '{revision}', {gen}}}\n"
    path.write_text(text, encoding="utf-8")
    return path


def logits(model: torch.nn.Module) -> torch.Tensor:
    cfg = model.config
    ids = (torch.arange(3, 15) * 7 % (cfg.vocab_size - 2) + 2).unsqueeze(0)
    dec = torch.tensor([[cfg.decoder_start_token_id, 5, 9, 4]])
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=torch.ones_like(ids), decoder_input_ids=dec).logits


@pytest.mark.parametrize(("kind", "drop"), [("marian", ()), ("marian", MARIAN_RESTORED),
                                            ("marian", ("model.shared.weight", *MARIAN_RESTORED[:2])),
                                            ("mt5", ())],
                         ids=["marian-full", "marian-minimal", "marian-head-only", "mt5"])
def test_round_trip_gives_the_original_logits(tiny: dict, tmp_path: Path, cache: Path, kind: str,
                                              drop: tuple[str, ...]) -> None:
    from transformers import AutoModelForSeq2SeqLM

    src = tiny[kind]
    folder = pickled_copy(src, tmp_path / "pickled", drop=drop)
    registry = Registry.load(write_yaml(tmp_path / "models.yaml", str(tiny["marian"]), summary=str(folder))
                             if kind == "mt5" else write_yaml(tmp_path / "models.yaml", str(folder)))
    spec = registry.summarization_spec() if kind == "mt5" else registry.translation_spec("en")
    with pytest.raises(ModelNotAvailable, match="--convert-pickle"):
        resolve(spec)

    found, fresh = convert_spec(spec)
    assert fresh and found.source == "converted" and found.path.is_relative_to(cache / "converted")
    assert resolve(spec) == found
    assert convert_spec(spec) == (found, False)  # converted once, then reused
    assert (folder / "pytorch_model.bin").is_file()  # the owners' file stays where it was
    assert not list(found.path.glob("*.bin"))
    engine = load_engine(spec)  # tarjama's normal loading: resolve → TransformersEngine on safetensors
    assert isinstance(engine, TransformersEngine)
    original = AutoModelForSeq2SeqLM.from_pretrained(src, use_safetensors=True).eval()
    assert torch.equal(logits(engine.model), logits(original))

    from safetensors import safe_open

    with safe_open(found.path / "model.safetensors", "pt") as f:
        names, metadata = set(f.keys()), f.metadata()
    assert metadata == {"format": "pt"}
    if kind == "marian":  # one name per tied group, not a tie target when there is a choice
        assert names & {"model.shared.weight", *MARIAN_RESTORED[:3]} == ({"lm_head.weight"} if drop and
                                                                          "model.shared.weight" in drop
                                                                          else {"model.shared.weight"})
    record = json.loads((found.path / PROVENANCE).read_text())
    data = (folder / "pytorch_model.bin").read_bytes()
    assert record["folder"] == str(folder) and record["revision"] == "main"
    assert record["pickle"] == {"file": "pytorch_model.bin", "sha256": hashlib.sha256(data).hexdigest(),
                                "size": len(data)}
    assert record["torch"] == torch.__version__ and record["transformers"] and record["converted_at"].endswith("+00:00")


def test_malicious_pickle_is_refused_and_never_runs(tiny: dict, tmp_path: Path, cache: Path) -> None:
    state = {"model.shared.weight": torch.zeros(3)}
    sanity = tmp_path / "sanity.bin"
    torch.save({**state, "x": Payload(tmp_path / "sanity-marker")}, sanity)
    torch.load(sanity, weights_only=False)  # the payload works when unpickled unrestricted...
    assert (tmp_path / "sanity-marker").is_dir()

    marker = tmp_path / "marker"
    folder = pickled_copy(tiny["marian"], tmp_path / "evil", state={**state, "x": Payload(marker)})
    spec = Registry.load(write_yaml(tmp_path / "models.yaml", str(folder))).translation_spec("en")
    with pytest.raises(PickleConversionError, match=r"restricted unpickler \(weights_only=True\) refused"):
        convert_spec(spec)
    assert not marker.exists()  # ...and not here
    assert not [p for p in cache.rglob("*") if p.is_file()]


@pytest.mark.parametrize(("change", "message"), [
    ("shape", r"tensor model\.encoder\.layers\.0\.fc1\.weight: shape \(3, 3\), but config\.json gives \(64, 32\)"),
    ("unknown", r"tensor model\.encoder\.extra\.weight: unknown to MarianMTModel"),
    ("missing", r"tensor final_logits_bias: missing from the pickle"),
    ("dtype", r"tensor model\.encoder\.layers\.0\.fc1\.bias: dtype torch\.int64, expected torch\.float32"),
])
def test_tensors_that_do_not_match_the_config_are_refused(tiny: dict, tmp_path: Path, cache: Path, change: str,
                                                          message: str) -> None:
    state = original_state(tiny["marian"])
    if change == "shape":
        state["model.encoder.layers.0.fc1.weight"] = torch.zeros(3, 3)
    elif change == "unknown":
        state["model.encoder.extra.weight"] = torch.zeros(2)
    elif change == "missing":
        del state["final_logits_bias"]  # transformers would fill zeros, not the owners' bias
    else:
        state["model.encoder.layers.0.fc1.bias"] = torch.zeros(64, dtype=torch.int64)
    folder = pickled_copy(tiny["marian"], tmp_path / "bad", state=state)
    spec = Registry.load(write_yaml(tmp_path / "models.yaml", str(folder))).translation_spec("en")
    with pytest.raises(PickleConversionError, match=message):
        convert_spec(spec)
    assert not [p for p in cache.rglob("*") if p.is_file()]  # nothing written, no half conversion left
    with pytest.raises(ModelNotAvailable):
        resolve(spec)


def test_the_main_process_never_unpickles(tiny: dict, tmp_path: Path, cache: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("unpickling in tarjama's own process")

    for owner, name in ((torch, "load"), (torch.serialization, "load"), (pickle, "load"), (pickle, "loads"),
                        (pickle, "Unpickler")):
        monkeypatch.setattr(owner, name, refuse)
    folder = pickled_copy(tiny["marian"], tmp_path / "pickled")
    spec = Registry.load(write_yaml(tmp_path / "models.yaml", str(folder))).translation_spec("en")
    found, fresh = convert_spec(spec)
    assert fresh and (found.path / "model.safetensors").is_file()
    assert resolve(spec).source == "converted"


def test_torch_older_than_2_6_is_refused() -> None:
    with pytest.raises(Refused, match=r"torch 2\.5\.1 is too old.*torch>=2\.6"):
        check_torch("2.5.1")
    check_torch("2.6.0+cpu")
    check_torch("10.0")


def fake_hub(hub: Path, repo: str, src: Path) -> Path:
    """A Hugging Face cache entry laid out as huggingface_hub lays it out: blobs, refs/main, snapshot links."""
    folder = hub / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / COMMIT
    (folder / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(COMMIT)
    for f in src.iterdir():
        data = f.read_bytes()
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / f.name).symlink_to(os.path.relpath(blob, snapshot))
    return snapshot


def offline_hub(hub: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HF_HUB_CACHE=hub, HF_HUB_OFFLINE=1 (also in huggingface_hub's constants, read when it was imported)."""
    from huggingface_hub import constants

    hub.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return hub


def test_a_pickle_not_in_the_hf_cache_is_downloaded_to_a_temporary_folder(
        tiny: dict, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    hub = offline_hub(tmp_path / "hub", monkeypatch)
    source = pickled_copy(tiny["marian"], tmp_path / "pickled")
    fake_hub(hub, "Org/opus-mt-ar-en", tiny["marian"])  # the snapshot as `models pull` fetches it: no pickle
    (hub / "models--Org--opus-mt-ar-en" / "snapshots" / COMMIT / "model.safetensors").unlink()
    real, calls = huggingface_hub.hf_hub_download, []

    def download(repo_id: str, filename: str, *, revision: str, local_files_only: bool = False,
                 local_dir: str | None = None) -> str:
        calls.append((repo_id, filename, revision, local_files_only, local_dir))
        if local_files_only:  # the real look-up in the (fake) HF cache: not there
            return real(repo_id, filename, revision=revision, local_files_only=True)
        shutil.copyfile(source / filename, Path(local_dir) / filename)  # what the Hub would send
        return str(Path(local_dir) / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    spec = Registry.load(write_yaml(tmp_path / "models.yaml", "Org/opus-mt-ar-en", COMMIT)).translation_spec("en")
    found, fresh = convert_spec(spec)
    assert fresh and found.source == "converted" and resolve(spec) == found
    assert [c[:4] for c in calls] == [("Org/opus-mt-ar-en", "pytorch_model.bin", COMMIT, True),
                                      ("Org/opus-mt-ar-en", "pytorch_model.bin", COMMIT, False)]
    assert not Path(calls[1][4]).exists()  # the downloaded pickle is deleted after the conversion
    assert not list(hub.rglob("*.bin")) and not list(cache.rglob("*.bin"))
    record = json.loads((found.path / PROVENANCE).read_text())
    assert record["pickle"]["sha256"] == hashlib.sha256((source / "pytorch_model.bin").read_bytes()).hexdigest()


def test_models_pull_converts_a_pickle_only_hub_model(tiny: dict, tmp_path: Path, cache: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture) -> None:
    hub = offline_hub(tmp_path / "hub", monkeypatch)
    snapshot = fake_hub(hub, "Org/opus-mt-ar-en", pickled_copy(tiny["marian"], tmp_path / "pickled"))
    missing = f"  ar-es: {{model: Org/missing, revision: '{COMMIT}'}}\n"
    yaml = write_yaml(tmp_path / "models.yaml", "Org/opus-mt-ar-en", COMMIT, extra=missing)
    hub_files = sorted((p, p.stat().st_size) for p in hub.rglob("*"))

    assert main(["models", "pull", "--models", str(yaml)]) == 1
    captured = capsys.readouterr()
    out = [line for line in captured.err.splitlines() if ": failed: " in line]
    assert not captured.out and [line.split(":")[0] for line in out] == ["ar-en", "ar-es"]  # every model reported
    assert out[0].startswith("ar-en: failed: ") and out[1].startswith("ar-es: failed: ")
    for needed in ("model Org/opus-mt-ar-en", f"(revision {COMMIT})", "refs/pr/N",
                   "tarjama models pull --convert-pickle ar-en", "isolated process", "weights_only=True"):
        assert needed in out[0]
    spec = Registry.load(yaml).translation_spec("en")
    with pytest.raises(ModelNotAvailable) as err:
        resolve(spec)
    assert "\n" not in str(err.value)

    assert main(["models", "pull", "--convert-pickle", "--models", str(yaml), "ar-en"]) == 0
    out = capsys.readouterr().out.splitlines()
    target = cache / "converted" / "Org--opus-mt-ar-en" / COMMIT
    assert out == [f"ar-en: converted (converted at {target})"]
    assert main(["models", "pull", "--convert-pickle", "--models", str(yaml)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"ar-en: ok (converted at {target})"]
    assert "ar-es: failed: " in captured.err and "1 of 2 models failed" in captured.err
    assert sorted((p, p.stat().st_size) for p in hub.rglob("*")) == hub_files  # the HF cache is left alone

    found = resolve(spec)
    assert found.source == "converted" and found.path == target
    record = json.loads((target / PROVENANCE).read_text())
    assert (record["repo"], record["revision"], record["snapshot_commit"]) == ("Org/opus-mt-ar-en", COMMIT, COMMIT)
    assert record["pickle"]["sha256"] == hashlib.sha256((snapshot / "pytorch_model.bin").read_bytes()).hexdigest()
    assert {f.name for f in target.iterdir()} == {*(f.name for f in tiny["marian"].iterdir()), PROVENANCE}
    converted = load_engine(spec).generate([SENTENCE], spec.generate)[0]
    original = TransformersEngine(tiny["marian"], device="cpu").generate([SENTENCE], spec.generate)[0]
    assert converted.token_ids and (converted.text, converted.token_ids) == (original.text, original.token_ids)
