"""Arabic article summaries with mT5-XLSum, carried into target languages by a Translator."""

from importlib import import_module

__all__ = ["Summarizer", "Summary"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(import_module(f"{__name__}.summarizer"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
