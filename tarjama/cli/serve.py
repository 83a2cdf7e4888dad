"""``tarjama serve``: the editor's page.  This module holds the only upward import: the page (app.py),
and the one home of the page's options (``python app.py`` takes the same ones)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tarjama.cli.options import CliError, add_memory_option, quiet_libraries
from tarjama.history import DEFAULT_HISTORY

DEFAULT_HOST = "127.0.0.1"  # the page is for this machine; --host 0.0.0.0 opens it to the network
DEFAULT_PORT = 7860


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _days(value: str) -> float:
    days = float(value)
    if not days > 0:
        raise argparse.ArgumentTypeError("give a number of days above 0, e.g. 30")
    return days


def _count(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError("give 0 or more articles")
    return n


def add_serve_options(p: argparse.ArgumentParser) -> None:
    """The page's options, for ``tarjama serve`` and ``python app.py`` alike."""
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}: this machine "
                   "only; 0.0.0.0 opens the page to the network — then list its names in --allowed-hosts)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--allowed-hosts", type=_names, default=[], metavar="NAMES",
                   help="host names the page may be reached by besides localhost/127.0.0.1 and --host, "
                        "comma-separated (e.g. tarjama.newsroom.lan,10.0.0.5); other Host headers are refused "
                        "(DNS rebinding)")
    p.add_argument("--cors-origins", type=_names, default=[], metavar="ORIGINS",
                   help="web origins allowed to call the page's API from a browser, comma-separated (e.g. "
                        "https://cms.newsroom.lan); default none: cross-origin uploads and calls are refused")
    add_memory_option(p, ": nothing an editor pastes is kept on disk")
    p.add_argument("--memory-days", type=_days, default=None, metavar="N",
                   help="delete translation-memory entries unused for more than N days (default: keep them)")
    p.add_argument("--history", type=_count, default=DEFAULT_HISTORY, metavar="N",
                   help=f"articles (with their edits) each browser's history keeps (default {DEFAULT_HISTORY}; "
                        "$TARJAMA_CACHE/history.sqlite)")
    p.add_argument("--no-history", dest="history", action="store_const", const=0,
                   help="keep no history on disk")


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="serve the editor's web page (app.py)",
                       description="Load the models once, then serve the editor's page: paste or upload an "
                       "article, review the translations sentence by sentence, correct them, export. Ctrl+Enter "
                       "translates, Alt+N jumps to the next sentence to review, Escape cancels a cell edit.")
    add_serve_options(p)
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    quiet_libraries()
    return load_page().serve(args)


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
