"""``tarjama serve``: the editor's page.  This module holds the only upward import: the page (app.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tarjama.cli.options import CliError, quiet_libraries


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="serve the editor's web page (app.py)",
                       description="Load the models once, then serve the editor's page: paste or upload an "
                       "article, review the translations sentence by sentence, correct them, export.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    quiet_libraries()
    return load_page().serve(args.host, args.port, args.models)


def load_page():
    """The editor's page, app.py — the one upward import (it imports gradio), made only by ``serve``.

    Installed from a wheel it is ``tarjama.app`` (setup.py copies it in); in a checkout it is the
    repository's top-level app.py, loaded from its file under its own name, ``app``.
    """
    import importlib
    import importlib.util

    try:
        return importlib.import_module("tarjama.app")
    except ModuleNotFoundError as err:
        if err.name != "tarjama.app":
            raise
    path = Path(__file__).resolve().parents[2] / "app.py"
    loaded = sys.modules.get("app")
    if loaded is not None and Path(getattr(loaded, "__file__", "")).resolve() == path:
        return loaded
    spec = importlib.util.spec_from_file_location("app", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise CliError(f"the editor's page is missing: no tarjama.app and no {path}; reinstall tarjama")
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    return module


