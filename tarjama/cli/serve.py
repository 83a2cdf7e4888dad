"""``tarjama serve``: the editor's page and the HTTP API on one port.  This module holds the only upward
import: the page (app.py), and the one home of the server's options (``python app.py`` takes the same ones)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tarjama.cli.options import CliError, add_memory_option, quiet_libraries
from tarjama.history import DEFAULT_HISTORY
from tarjama.server.limits import (
    DEFAULT_ALTERNATIVES_LIMIT,
    DEFAULT_BATCH_LIMIT,
    DEFAULT_BODY_LIMIT,
    DEFAULT_CHAR_LIMIT,
    DEFAULT_QUEUE_SIZE,
    DEFAULT_QUEUE_WAIT_S,
    DEFAULT_REQ_LIMIT,
    NO_LIMIT,
    Limits,
)

DEFAULT_HOST = "127.0.0.1"  # the page is for this machine; --host 0.0.0.0 opens it to the network
DEFAULT_PORT = 7860


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _above_zero(what: str):
    """An argparse type: a number above 0, the refusal naming ``what`` (e.g. "a number of days above 0")."""
    def parse(value: str) -> float:
        n = float(value)
        if not n > 0:
            raise argparse.ArgumentTypeError(f"give {what}")
        return n

    return parse


_days = _above_zero("a number of days above 0, e.g. 30")
_positive = _above_zero("a number above 0")


def _count(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError("give 0 or more articles")
    return n


def _limit(value: str) -> int:
    n = int(value)
    if n < NO_LIMIT or n == 0:
        raise argparse.ArgumentTypeError(f"give a whole number above 0, or {NO_LIMIT} for no limit")
    return n


def _off(n: int) -> str:
    return "no limit" if n == NO_LIMIT else str(n)


def add_api_options(p: argparse.ArgumentParser) -> None:
    """The HTTP API's keys and limits (LibreTranslate's flag names where it has them; -1 is no limit)."""
    g = p.add_argument_group("HTTP API (LibreTranslate-compatible /translate …, and /v1/articles)")
    g.add_argument("--api-keys", metavar="FILE", help="CSV of API keys: key,name,requests_per_minute,"
                   "characters_per_day (empty: no limit); an unknown key gets 403. Keep it private (chmod 600)")
    g.add_argument("--require-key", action="store_true",
                   help="refuse API requests without a key (400, as LibreTranslate); needs --api-keys")
    g.add_argument("--char-limit", type=_limit, default=DEFAULT_CHAR_LIMIT, metavar="N",
                   help=f"characters one request may hold, all its texts together (default "
                        f"{_off(DEFAULT_CHAR_LIMIT)})")
    g.add_argument("--batch-limit", type=_limit, default=DEFAULT_BATCH_LIMIT, metavar="N",
                   help=f"texts one request may hold (a list q; default {_off(DEFAULT_BATCH_LIMIT)})")
    g.add_argument("--req-limit", type=_limit, default=DEFAULT_REQ_LIMIT, metavar="N",
                   help="requests a minute one client address may send without a key "
                        f"(default {_off(DEFAULT_REQ_LIMIT)}); over it: 429")
    g.add_argument("--alternatives-limit", type=_limit, default=DEFAULT_ALTERNATIVES_LIMIT, metavar="N",
                   help=f"alternatives a request may ask for (default {_off(DEFAULT_ALTERNATIVES_LIMIT)})")
    g.add_argument("--body-limit", type=_limit, default=DEFAULT_BODY_LIMIT, metavar="BYTES",
                   help=f"size of an API request body (default {DEFAULT_BODY_LIMIT}: a 5 MB file and its framing); "
                        "over it: 413")
    g.add_argument("--queue-size", type=int, default=DEFAULT_QUEUE_SIZE, metavar="N",
                   help=f"model jobs (page and API) that may wait for the one running (default "
                        f"{DEFAULT_QUEUE_SIZE}); more get 503 with Retry-After")
    g.add_argument("--queue-wait", type=_positive, default=DEFAULT_QUEUE_WAIT_S, metavar="SECONDS",
                   help=f"longest a job waits for its turn before a 503 (default {DEFAULT_QUEUE_WAIT_S:.0f})")


def limits_of(args: argparse.Namespace) -> Limits:
    return Limits(char_limit=args.char_limit, batch_limit=args.batch_limit,
                  alternatives_limit=args.alternatives_limit, body_limit=args.body_limit)


def add_serve_options(p: argparse.ArgumentParser) -> None:
    """The page's and the API's options, for ``tarjama serve`` and ``python app.py`` alike."""
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
    add_api_options(p)


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="serve the editor's web page and the HTTP API (app.py)",
                       description="Load the models once, then serve, on one port, the editor's page (paste or "
                       "upload an article, review the translations sentence by sentence, correct them, export; "
                       "Ctrl+Enter translates, Alt+N jumps to the next sentence to review, Escape cancels a cell "
                       "edit) and the HTTP API: LibreTranslate's /translate, /detect, /languages, /translate_file "
                       "(Mastodon, Weblate, deep-translator and libretranslatepy speak it) and tarjama's "
                       "/v1/articles; /docs describes it.",
                       epilog="example: tarjama serve --api-keys keys.csv --req-limit 30   "
                              "then: curl -s localhost:7860/translate -H 'Content-Type: application/json' "
                              "-d '{\"q\": \"…\", \"source\": \"ar\", \"target\": \"en\", \"api_key\": \"…\"}'")
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
