"""tarjama: Arabic news articles → faithful English and Spanish translations and short summaries.

    from tarjama import Pipeline
    result = Pipeline.from_config().run(article_text, targets=("en", "es"), summarize=True)

Names are imported on first use, so ``import tarjama.documents`` stays light.
"""

from importlib import import_module

__version__ = "0.1.0"
_EXPORTS = {
    "ArticleResult": "tarjama.result", "ConfigError": "tarjama.registry", "Document": "tarjama.documents",
    "InputError": "tarjama.documents", "ModelNotAvailable": "tarjama.registry", "Pipeline": "tarjama.pipeline",
    "Registry": "tarjama.registry", "Glossary": "tarjama.translate.glossary",
    "load_glossary": "tarjama.translate.glossary",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tarjama' has no attribute {name!r}")
