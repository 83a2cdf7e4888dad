"""The ``tarjama`` command (``tarjama.cli.command``); its modules: options (shared), translate, models, demo, serve.

``main`` and ``build_parser`` are imported on first use, so ``import tarjama.cli.options`` stays light.
"""

from importlib import import_module

__all__ = ["build_parser", "main"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(import_module("tarjama.cli.command"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
