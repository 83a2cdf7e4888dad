"""Arabic sentence translation: cleaning and segmentation, engines, the Translator (imported on first use)."""

from importlib import import_module

_EXPORTS = {
    "Engine": "translate.engine", "GenerationOptions": "translate.engine", "Hypothesis": "translate.engine",
    "TransformersEngine": "translate.engine", "CTranslate2Engine": "translate.engine",
    "SQLiteMemory": "translate.memory", "SentenceTranslation": "translate.translator",
    "Translator": "translate.translator",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'translate' has no attribute {name!r}")
