"""Arabic sentence translation: cleaning and segmentation, engines, the Translator (imported on first use).

Installed as ``tarjama.translate``; it knows nothing of models.yaml, the page or the CLI.
"""

from importlib import import_module

_EXPORTS = {
    "Engine": "engine", "GenerationOptions": "engine", "Hypothesis": "engine", "TransformersEngine": "engine",
    "CTranslate2Engine": "engine", "SQLiteMemory": "memory", "SentenceTranslation": "translator",
    "Translator": "translator", "Glossary": "glossary", "GlossaryError": "glossary", "load_glossary": "glossary",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
