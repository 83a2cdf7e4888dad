"""models.yaml validation, model resolution (local / cached / hub) and the offline error."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from tarjama.registry import ConfigError, ModelNotAvailable, Registry, resolve

GOOD = """
translation:
  ar-en: {model: Helsinki-NLP/opus-mt-ar-en, revision: main}
summarization:
  ar: {model: csebuetnlp/mT5_multilingual_XLSum}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_shipped_models_yaml_names_the_real_models() -> None:
    reg = Registry.load(REPO / "models.yaml")
    assert reg.translation_spec("en").model == "Helsinki-NLP/opus-mt-ar-en"
    assert reg.translation_spec("es").model == "Helsinki-NLP/opus-mt-ar-es"
    summ = reg.summarization_spec("ar")
    assert summ.model == "csebuetnlp/mT5_multilingual_XLSum"
    g = summ.generate
    # the card's max_length=84 counts the decoder start token: 83 new tokens
    assert (g.num_beams, g.max_new_tokens, g.no_repeat_ngram_size, g.length_penalty) == (4, 83, 2, 0.6)
    assert summ.max_input_tokens == 512
    assert all(s.revision for s in reg.specs())
    assert not reg.demo


def test_package_default_is_the_repo_file() -> None:
    assert Registry.load().path.resolve() == (REPO / "models.yaml").resolve()


@pytest.mark.parametrize(("yaml_text", "expected"), [
    ("translation:\n  ar-en: {model: x, colour: red}\n", "translation.ar-en.colour: unknown key"),
    ("translation:\n  ar-en: {revision: main}\n", "translation.ar-en.model: missing"),
    ("translation:\n  ar-xx: {model: x}\n", "translation.ar-xx: unknown language code 'xx'"),
    ("translation:\n  arabic-en: {model: x}\n", "translation.arabic-en: unknown language code 'arabic'"),
    ("translation:\n  ar: {model: x}\n", "translation.ar: key must be SOURCE-TARGET"),
    ("translation:\n  ar-en: {model: x, backend: tensorflow}\n", "translation.ar-en.backend: 'tensorflow'"),
    ("translation:\n  ar-en: {model: x, generate: {beams: 4}}\n", "translation.ar-en.generate.beams: unknown key"),
    ("translation:\n  ar-en: {model: x, max_input_tokens: -3}\n", "translation.ar-en.max_input_tokens"),
    ("translations:\n  ar-en: {model: x}\n", "unknown key 'translations'"),
    ("defaults: {backnd: auto}\ntranslation:\n  ar-en: {model: x}\n", "defaults.backnd: unknown key"),
    ("summarization:\n  ar: {model: x}\n", "translation: at least one model"),
    ("translation: [1, 2]\n", "translation: expected a mapping"),
    ("translation:\n  ar-en: {model: x\n", "not valid YAML"),
])
def test_config_errors_name_file_and_key(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = write(tmp_path, yaml_text)
    with pytest.raises(ConfigError) as err:
        Registry.load(path)
    message = str(err.value)
    assert expected in message
    assert message.startswith(str(path))
    assert "\n" not in message


def test_missing_models_file() -> None:
    with pytest.raises(ConfigError, match="models file not found"):
        Registry.load("/nonexistent/models.yaml")


def test_env_variable_selects_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, GOOD)
    monkeypatch.setenv("TARJAMA_MODELS", str(path))
    assert Registry.load().path == path
    assert Registry.load(REPO / "models.yaml").path == REPO / "models.yaml"  # an explicit path wins


def test_unknown_target_lists_what_exists(tmp_path: Path) -> None:
    reg = Registry.load(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"no model for ar→fr \(have: en\)"):
        reg.translation_spec("fr")


def test_relative_local_folder_resolves_against_the_yaml(models_yaml: Path) -> None:
    spec = Registry.load(models_yaml).translation_spec("en")
    found = resolve(spec)
    assert found.source == "local"
    assert found.path == models_yaml.parent / "opus-mt-ar-en"


def test_new_target_language_is_one_entry(models_yaml: Path, tmp_path: Path) -> None:
    """ar-fr added to models.yaml (a generated model folder standing in) works with no code change."""
    text = models_yaml.read_text(encoding="utf-8").replace("\nsummarization:", textwrap.dedent(f"""
      ar-fr:
        model: {models_yaml.parent / 'opus-mt-ar-es'}
        revision: generated
        generate: {{num_beams: 1, max_new_tokens: 8}}
    summarization:"""))
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    from tarjama.pipeline import Pipeline

    result = Pipeline.from_config(path).run("قال الوزير إن الاجتماع انتهى.", targets=["fr"], summarize=False)
    assert list(result.translations) == ["fr"]
    assert len(result.translations["fr"].sentences()) == 1


def hub_yaml(tmp_path: Path) -> Path:
    return write(tmp_path, GOOD)


def test_offline_hub_model_gives_an_actionable_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    spec = Registry.load(hub_yaml(tmp_path)).translation_spec("en")
    with pytest.raises(ModelNotAvailable) as err:
        resolve(spec)
    message = str(err.value)
    for needed in ("Helsinki-NLP/opus-mt-ar-en", "revision main", str(tmp_path / "hf" / "hub"),
                   "tarjama models pull", "model: /path/to/folder", "translation.ar-en"):
        assert needed in message


def test_cli_without_weights_stops_with_the_fix_and_no_traceback(tmp_path: Path) -> None:
    """The main job never falls back to generated models: it says what to do."""
    article = tmp_path / "a.txt"
    article.write_text("قال الوزير إن الاجتماع انتهى.", encoding="utf-8")
    env = {"HF_HOME": str(tmp_path / "hf"), "TARJAMA_MODELS": str(hub_yaml(tmp_path)),
           "HF_HUB_ETAG_TIMEOUT": "5", "HF_HUB_DOWNLOAD_TIMEOUT": "5"}
    for offline in ("1", "0"):  # offline mode, and "online" on a machine where the Hub is unreachable
        proc = run_cli("translate", str(article), "--to", "en", env={**env, "HF_HUB_OFFLINE": offline})
        err = proc.stderr.decode()
        assert proc.returncode == 1, err
        assert "Traceback" not in err
        assert "Helsinki-NLP/opus-mt-ar-en" in err and "tarjama models pull" in err
        assert proc.stdout == b""


def _fake_hub_cache(models_yaml: Path, cache: Path, repo_id: str, folder: str) -> None:
    """Lay a generated model out exactly as huggingface_hub caches a download."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    snap = repo / "snapshots" / commit
    shutil.copytree(models_yaml.parent / folder, snap)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


def test_cached_hub_model_loads_offline(models_yaml: Path, tmp_path: Path) -> None:
    """A hub id found in the Hugging Face cache loads through the same code users run."""
    _fake_hub_cache(models_yaml, tmp_path / "hf" / "hub", "Helsinki-NLP/opus-mt-ar-en", "opus-mt-ar-en")
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "TARJAMA_MODELS": str(hub_yaml(tmp_path))}
    listing = run_cli("models", "list", env=env)
    assert listing.returncode == 0, listing.stderr.decode()
    rows = {line.split()[1]: line for line in listing.stdout.decode().splitlines()[1:] if line.strip()}
    assert "cached" in rows["ar-en"] and "MB" in rows["ar-en"]
    assert "hub (not downloaded)" in rows["ar"]
    out = run_cli("translate", "-", "--to", "en", "--format", "txt", env=env,
                  stdin="قال الوزير إن الاجتماع انتهى.".encode())
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.strip()


def test_pickle_only_folder_is_refused(models_yaml: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    shutil.copytree(models_yaml.parent / "opus-mt-ar-en", folder)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    path = write(tmp_path, f"translation:\n  ar-en: {{model: {folder}}}\n")
    with pytest.raises(ModelNotAvailable, match=r"no \*\.safetensors weights; tarjama never loads pickled"):
        resolve(Registry.load(path).translation_spec("en"))


def test_missing_local_folder(tmp_path: Path) -> None:
    path = write(tmp_path, "translation:\n  ar-en: {model: ./nowhere}\n")
    with pytest.raises(ModelNotAvailable, match=r"translation\.ar-en\.model: folder .*nowhere does not exist"):
        resolve(Registry.load(path).translation_spec("en"))


def test_models_pull_without_network_says_what_to_do(tmp_path: Path) -> None:
    env = {"HF_HOME": str(tmp_path / "hf"), "TARJAMA_MODELS": str(hub_yaml(tmp_path)), "HF_HUB_OFFLINE": "1"}
    proc = run_cli("models", "pull", "ar-en", env=env)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "Traceback" not in err
    assert "Helsinki-NLP/opus-mt-ar-en" in err and "model: /path/to/folder" in err


def test_models_pull_unknown_key_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("models", "pull", "ar-zz", env={"TARJAMA_MODELS": str(hub_yaml(tmp_path))})
    assert proc.returncode == 2 and "no entry named ar-zz" in proc.stderr.decode()


def test_engines_load_lazily_and_once(models_yaml: Path) -> None:
    from tarjama.engines import EngineCache
    from tarjama.pipeline import Pipeline

    cache = EngineCache()
    first = Pipeline(Registry.load(models_yaml), engines=cache)
    assert cache.loaded() == []  # building a pipeline loads nothing
    engine = first.translator("en").engine
    second = Pipeline(Registry.load(models_yaml), engines=cache)
    assert second.translator("en").engine is engine
    assert len(cache.loaded()) == 1
    second.run("قال الوزير إن الاجتماع انتهى.", targets=("en",), summarize=False)
    assert len(cache.loaded()) == 1  # ar-es and mT5 were not needed, so not loaded


def test_summary_strategy_is_validated(tmp_path: Path) -> None:
    base = "translation:\n  ar-en: {model: x}\nsummarization:\n  ar: {model: y%s}\n"
    path = tmp_path / "models.yaml"
    path.write_text(base % ", strategy: lead")
    assert Registry.load(path).summarization_spec().strategy == "lead"
    path.write_text(base % "")
    assert Registry.load(path).summarization_spec().strategy == "chunk-merge"
    path.write_text(base % ", strategy: best")
    with pytest.raises(ConfigError, match=r"summarization\.ar\.strategy"):
        Registry.load(path)
    path.write_text("translation:\n  ar-en: {model: x, strategy: lead}\n")
    with pytest.raises(ConfigError, match="only summarization"):
        Registry.load(path)
