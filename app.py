"""The editor's page: paste or upload an Arabic article, review its translations sentence by sentence,
correct them (nothing is lost: a re-run keeps them, a reload restores them, the history reopens them),
re-translate one sentence, export Markdown, JSON, DOCX or all of it as a zip.

    python app.py [--host 127.0.0.1] [--port 7860] [--models models.yaml]    # or: tarjama serve --help

Layout and wiring to ``tarjama.Pipeline`` only: reading files, running models, applying edits
(``tarjama.work``), the history (``tarjama.history``), exports (``tarjama.export``) and the HTTP
safety layer (``tarjama.server.security``) live in the ``tarjama`` package.  What a user typed or
uploaded reaches the page only through components that escape it (Textbox, Dataframe "str" cells),
or html-escaped inside a sanitized Markdown; never gr.HTML, never inline script.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import html
import logging
import math
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tarjama.translate.flags import EXPLANATIONS, Flag, needs_review
from tarjama.translate.glossary import FORMATS as GLOSSARY_FORMATS
from tarjama.translate.glossary import SOURCE_LANG, Glossary, GlossaryError, glossary_from_rows, load_glossary

from tarjama.cli.serve import DEFAULT_HOST, DEFAULT_PORT, add_serve_options
from tarjama.documents import DOCUMENT_SUFFIXES, Document, InputError, read_document, text_document
from tarjama.documents import TEXT_SOURCE as TEXT
from tarjama.export import export_files, result_stem, zip_files
from tarjama.history import History
from tarjama.paths import digest, history_file, page_secret_file
from tarjama.pipeline import Pipeline, PreparedArticle, sentence_result
from tarjama.registry import ConfigError, ModelNotAvailable
from tarjama.result import DEMO_NOTICE, LANGUAGE_NAMES, ArticleResult, SentenceResult
from tarjama.server.access import Access, AccessDenied, bearer_key
from tarjama.server.api import API_PATHS, create_api, merge_slashes
from tarjama.server.files import FileStore
from tarjama.server.limits import MAX_UPLOAD_BYTES, BodyLimit, Limits  # the upload limit: browser, server, handler
from tarjama.server.queue import ModelQueue, QueueFull
from tarjama.server.security import LOOPBACK_NAMES, SecurityMiddleware, SecurityPolicy, session_of
from tarjama.server.service import ModelReport, Service, job_cost, load_models, missing_help
from tarjama.work import Work, copy_work

# Before gradio is imported, and forced: its version check and telemetry would otherwise call out.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
# Everything the page writes (uploads, Gradio's cache, exports) lives in one private folder of this process,
# removed when it stops (SIGTERM and SIGINT included): nothing an editor pasted outlives the server.
TEMP_ROOT = Path(tempfile.mkdtemp(prefix="tarjama-web-", dir=os.environ.get("GRADIO_TEMP_DIR")))
os.environ["GRADIO_TEMP_DIR"] = str(TEMP_ROOT)
import gradio as gr  # noqa: E402

log = logging.getLogger("tarjama.app")

# Model runs: one at a time, in the server's one queue (tarjama.server.queue), shared with the HTTP API, which
# orders and bounds them; Gradio lets as many model events through as that queue can hold.
LIGHT_CONCURRENCY = 4  # reading uploads, applying edits, writing exports: no model involved
EXPORT_MAX_AGE_S = 3600
SESSION_COOKIE = "tarjama_session"
WORK_STORAGE_KEY = "tarjama-work"  # the browser's localStorage entry holding the work in progress
# The page's own endpoints: callable only by the page (through the queue), never as a public API.
INTERNAL_API = r"/gradio_api/(call(/v2)?|run|api)/page_.*"
EXAMPLE = Path(__file__).resolve().with_name("examples") / "seed_article.ar.txt"
PAGE_JS_PATH = "/tarjama/page.js"

# Colours as variables of both themes (Gradio puts .dark on the page when the system is dark); each pair
# passes WCAG AA (≥ 4.5:1), as tests/test_app_review.py measures in the browser.
CSS = """
:root, .gradio-container { --tj-flag-bg: #fff1c2; --tj-flag-fg: #3d3000; --tj-flag-line: #8a6d00;
  --tj-edit-bg: #dcf5da; --tj-edit-fg: #0c3b10; --tj-rev-bg: #e3eefc; --tj-rev-fg: #0b2d5c;
  --tj-hl-bg: #cfe3ff; --tj-hl-fg: #061a3a; --tj-muted: #4a4a4a; }
.dark, .dark .gradio-container { --tj-flag-bg: #4a3a00; --tj-flag-fg: #fff1c2; --tj-flag-line: #e0b400;
  --tj-edit-bg: #113d16; --tj-edit-fg: #dcf5da; --tj-rev-bg: #12305a; --tj-rev-fg: #e3eefc;
  --tj-hl-bg: #1d4f91; --tj-hl-fg: #ffffff; --tj-muted: #c8c8c8; }
.tj-rtl textarea, .tj-rtl input { direction: rtl; text-align: right; }
.tj-banner { padding: .6em 1em; border-radius: 6px; }
.tj-demo { background: var(--tj-flag-bg); border: 1px solid var(--tj-flag-line); color: var(--tj-flag-fg); }
.tj-error { background: #fde7e9; border: 1px solid #d13438; color: #5c0f13; }
.dark .tj-error { background: #5c0f13; color: #fde7e9; }
.tj-banner, .toast-body { overflow-wrap: anywhere; }
.tj-pairs { display: grid; grid-template-columns: repeat(var(--tj-cols, 2), minmax(0, 1fr)); column-gap: 2em; }
.tj-pairs p { margin: 0 0 .9em 0; line-height: 1.6; }
.tj-pairs .tj-head { font-weight: 700; border-bottom: 1px solid var(--border-color-primary); margin-bottom: .6em; }
.tj-pairs .tj-src { direction: rtl; text-align: right; font-size: 1.08em; }
.tj-s { border-radius: 3px; }
.tj-s:focus { outline: 2px solid var(--tj-hl-bg); }
.tj-flag { background: var(--tj-flag-bg); color: var(--tj-flag-fg); border-bottom: 2px dotted var(--tj-flag-line); }
.tj-edited { background: var(--tj-edit-bg); color: var(--tj-edit-fg); }
.tj-reviewed { background: var(--tj-rev-bg); color: var(--tj-rev-fg); }
.tj-s.tj-hl { background: var(--tj-hl-bg); color: var(--tj-hl-fg); }
.tj-removed { font-size: .9em; color: var(--tj-muted); }
.tj-review [data-col="3"] { direction: rtl; text-align: right; }
.tj-glossary [data-col="0"] { direction: rtl; text-align: right; }
.tj-review .cell-wrap, .tj-review .cell-wrap span, .tj-review textarea { font-family: var(--font) !important; }
.tj-review .cell-menu, .tj-review .cell-menu-button { display: none !important; }  /* rows are the article's */
.tj-legend dt { font-weight: 700; } .tj-legend dd { margin: 0 0 .5em 1em; }
#run-status { min-height: 2.5em; }
@media (max-width: 700px) {
  .tj-pairs { grid-template-columns: minmax(0, 1fr) !important; }
  .tj-pairs .tj-src { margin-bottom: .3em; }
  .tj-pairs .tj-tr { margin-bottom: 1.2em; border-bottom: 1px solid var(--border-color-primary); }
  .tj-review .table-wrap, .tj-review .table-container { overflow-x: auto !important; }
}
"""

# The page's one script, served from PAGE_JS_PATH (the CSP allows 'self' scripts, no inline ones): sentence
# links in the side-by-side panes, Escape cancelling a cell edit, the keyboard shortcuts.
PAGE_JS = r"""
(() => {
  const link = (el, on) => {
    const pane = el.closest('.tj-pairs');
    const n = [...el.classList].find(c => /^tj-s-\d+$/.test(c));
    if (!pane || !n) return;
    pane.querySelectorAll('.' + n).forEach(x => x.classList.toggle('tj-hl', on));
  };
  for (const [type, on] of [['mouseover', true], ['mouseout', false], ['focusin', true], ['focusout', false]]) {
    document.addEventListener(type, e => {
      const s = e.target.closest ? e.target.closest('.tj-s') : null;
      if (s) link(s, on);
    });
  }
  let original = null;  // a review cell's text when its editor opened: Escape puts it back
  document.addEventListener('focusin', e => {
    if (e.target.matches && e.target.matches('.tj-review textarea')) original = e.target.value;
  });
  const visibleTable = () => [...document.querySelectorAll('.tj-review')].find(t => t.offsetParent !== null);
  const nextToReview = () => {
    const table = visibleTable();
    if (!table) return;
    const cells = [...table.querySelectorAll('[data-testid^="cell-"]')]
      .filter(c => /^cell-\d+-2$/.test(c.dataset.testid));
    const at = Number(table.dataset.tjAt ?? -1);
    const rowOf = c => Number(c.dataset.testid.split('-')[1]);
    const todo = cells.filter(c => c.textContent.includes('\u26a0'));
    const next = todo.find(c => rowOf(c) > at) || todo[0];
    if (!next) return;
    table.dataset.tjAt = String(rowOf(next));
    const target = table.querySelector('[data-testid="cell-' + rowOf(next) + '-4"]') || next;
    target.scrollIntoView({block: 'center'});
    target.click();
    target.focus && target.focus();
  };
  document.addEventListener('keydown', e => {
    const t = e.target;
    if (e.key === 'Escape' && t.matches && t.matches('.tj-review textarea') && original !== null) {
      t.value = original;
      t.dispatchEvent(new Event('input', {bubbles: true}));
    }
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      const run = document.querySelector('#run');
      if (run && !run.disabled) { e.preventDefault(); run.click(); }
    }
    if (e.altKey && (e.key === 'n' || e.key === 'N')) { e.preventDefault(); nextToReview(); }
  }, true);
  document.addEventListener('click', e => {
    if (e.target.closest && e.target.closest('#next-review')) nextToReview();
  });
})();
"""
HEAD = f'<script src="{PAGE_JS_PATH}" defer></script>'


# -- presentation helpers (no model logic) -------------------------------------------------------------


def _esc(text: str) -> str:
    """Escaped, one line: inside an HTML block Markdown is not parsed, and no newline can end the block."""
    return html.escape(" ".join(str(text).split()), quote=True)


def _banner(kind: str, text: str) -> str:
    return f'<div class="tj-banner tj-{kind}">{"<br>".join(_esc(line) for line in text.splitlines())}</div>'


def _error(message: str) -> gr.Error:
    """A toast; toasts render (sanitized) HTML, so file names and messages are escaped to show literally."""
    return gr.Error(html.escape(message, quote=False).replace("\n", "<br>"), print_exception=False)


def _info(message: str) -> None:
    gr.Info(html.escape(message, quote=False))


def _input_message(err: InputError, pasted: bool) -> str:
    """What is wrong (the message, which names the pasted text or the file) and what to do (its hint); an
    empty box gets this page's own advice."""
    if pasted and err.reason == "empty" and "cleaning" not in err.message:
        return "Nothing to translate: paste an Arabic article into the text box, upload a file, or click the example."
    message = err.message[:1].upper() + err.message[1:]  # "the text: ..." begins the toast
    return f"{message} — {err.hint}." if err.hint else message


def _source(item: Document | PreparedArticle) -> str:
    return item.doc.source if isinstance(item, PreparedArticle) else item.source


def _language(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def _confidence(score: float | None) -> str:
    """The sentence score is a mean token log-probability; exp() of it is the per-token probability."""
    return "—" if score is None else f"{math.exp(score):.0%}"


def flag_notes(sent: SentenceResult) -> str:
    """The sentence's flags, each with what it is about when the checks said (``numbers: missing 3.5``)."""
    return "; ".join(f"{f}: {sent.details[f]}" if f in sent.details else str(f) for f in sent.flags)


def flag_words(sent: SentenceResult) -> str:
    """The flags in words, for the table: what each means and, when the checks said, what it is about.
    An edited or reviewed sentence says so first; its warnings are settled (they stay in the JSON)."""
    settled = [f.value for f in (Flag.EDITED, Flag.REVIEWED) if f in sent.flags]
    parts = []
    for f in settled or sent.flags:
        what = EXPLANATIONS[Flag(f)].split(": ")[0].rstrip(".")  # the legend has the rest: what to check
        detail = f" ({sent.details[f]})" if f in sent.details else ""
        parts.append(f"{f.replace('_', ' ').capitalize()} — {what}{detail}.")
    return " ".join(parts)


def _standing(sent: SentenceResult) -> str:
    """Where a sentence stands for the editor — edited, reviewed, to review ("flag"), or fine (""): the one
    decision behind the table's status and tint and the pane's highlight."""
    if Flag.EDITED in sent.flags:
        return "edited"
    if Flag.REVIEWED in sent.flags:
        return "reviewed"
    return "flag" if needs_review(sent.flags) else ""


STATUS_SYMBOLS = {"edited": "✎", "reviewed": "✓", "flag": "⚠", "": ""}
# Colours are the theme variables of CSS (light and dark): edited, reviewed, to review.
ROW_STYLES = {"edited": "background-color: var(--tj-edit-bg); color: var(--tj-edit-fg)",
              "reviewed": "background-color: var(--tj-rev-bg); color: var(--tj-rev-fg)",
              "flag": "background-color: var(--tj-flag-bg); color: var(--tj-flag-fg)", "": ""}


def _status(sent: SentenceResult) -> str:
    return STATUS_SYMBOLS[_standing(sent)]


def _sentence_class(sent: SentenceResult) -> str:
    standing = _standing(sent)
    return f"tj-s tj-{standing}" if standing else "tj-s"


def _span(i: int, text: str, cls: str = "tj-s", title: str = "") -> str:
    """A sentence of a pane: its number is a class (``tj-s-3``), since the page's sanitizer drops data-*."""
    tip = f' title="{_esc(title)}"' if title else ""
    return f'<span class="{cls} tj-s-{i}" tabindex="0"{tip}>{_esc(text)}</span>'


def pairs_markdown(result: ArticleResult, langs: str | Sequence[str]) -> str:
    """Arabic and translated paragraphs side by side, row by row, one column per language; every sentence a
    focusable span numbered as in the review table, so the page's script links it to its counterparts."""
    langs = [langs] if isinstance(langs, str) else [lang for lang in langs if lang in result.translations]
    heads = [f'<p class="tj-head">{_esc(_language(lang))}</p>' for lang in langs]
    rows = [f'<div class="tj-pairs" style="--tj-cols: {1 + len(langs)}">',
            '<p class="tj-head tj-src" dir="rtl">العربية</p>' + "".join(heads)]
    translated = [result.translations[lang].paragraphs for lang in langs]
    n = 0
    for p_no, src in enumerate(result.paragraphs):
        cells = [f'<p class="tj-src" dir="rtl" lang="ar">'
                 f'{" ".join(_span(n + k, s) for k, s in enumerate(src))}</p>']
        for lang, paragraphs in zip(langs, translated):
            spans = " ".join(_span(n + k, s.text, _sentence_class(s), flag_notes(s))
                             for k, s in enumerate(paragraphs[p_no]))
            cells.append(f'<p class="tj-tr" lang="{_esc(lang)}">{spans}</p>')
        rows.append("".join(cells))
        n += len(src)
    rows.append("</div>")
    return "\n".join(rows)


def removed_markdown(result: ArticleResult) -> str:
    """What cleaning or HTML extraction dropped (a repeated title, boilerplate, byline, date, menus)."""
    if not result.removed:
        return ""
    items = "".join(f'<li>{_esc(str(r["kind"]).replace("_", " "))}{_line(r)}: '
                    f'<span dir="auto">{_esc(r["text"])}</span></li>' for r in result.removed)
    return f'<div class="tj-removed"><p>Removed while reading or cleaning, not translated:</p><ul>{items}</ul></div>'


def _line(removed: dict) -> str:
    """Where in the text a removal was; HTML extraction's (line 0) were never in it."""
    return f" (line {int(removed['line'])})" if removed.get("line") else ""


def headline_markdown(result: ArticleResult) -> str:
    headline = getattr(result, "headline", None) or {}
    if not headline:
        return ""
    rows = [f'<p class="tj-src" dir="rtl" lang="ar"><strong>{_esc(headline["ar"])}</strong></p>'] if "ar" in headline \
        else []
    rows += [f'<p lang="{_esc(k)}"><strong>{_esc(v)}</strong> <small>({_esc(_language(k))})</small></p>'
             for k, v in headline.items() if k != "ar"]
    date = getattr(result, "date", None)
    rows += [f"<p><small>{_esc(date)}</small></p>"] if date else []
    return '<div class="tj-headline">' + "".join(rows) + "</div>"


REVIEW_HEADERS = ["#", "¶", "", "Arabic", "", "Confidence", "Why it is flagged", "Reviewed"]
TEXT_COLUMN = 4      # the translation: editable
SOURCE_COLUMN = 3
REVIEWED_COLUMN = 7  # a checkbox: editable
# Fixed widths (px): Gradio sizes body cells from these against the container, so percentages collapse on a
# phone; in pixels the table keeps every column and scrolls sideways there (at ~1,170 px it fits a desktop).
COLUMN_WIDTHS = ["48px", "40px", "40px", "300px", "300px", "96px", "260px", "86px"]


def review_headers(lang: str) -> list[str]:
    headers = list(REVIEW_HEADERS)
    headers[TEXT_COLUMN] = _language(lang)
    return headers


def review_table(result: ArticleResult, lang: str, only_review: bool = False) -> dict[str, Any]:
    """One row per source sentence (or only those still to review): status ⚠ / ✎ edited / ✓ reviewed, the
    flags in words, a Reviewed checkbox; rows to review and edited rows tinted with the theme's colours."""
    rows, styles, n = [], [], 0
    for p_no, (src, par) in enumerate(zip(result.paragraphs, result.translations[lang].paragraphs), start=1):
        for source, sent in zip(src, par):
            n += 1
            if only_review and not needs_review(sent.flags):
                continue
            rows.append([str(n), str(p_no), _status(sent), source, sent.text, _confidence(sent.score),
                         flag_words(sent), Flag.REVIEWED in sent.flags])
            styles.append([_row_style(sent)] * len(rows[-1]))
    return {"data": rows, "headers": review_headers(lang), "metadata": {"styling": styles, "display_value": None}}


def _row_style(sent: SentenceResult) -> str:
    return ROW_STYLES[_standing(sent)]


def legend_markdown() -> str:
    """Every flag in words: the page's legend."""
    items = "".join(f"<dt>{_esc(f.value.replace('_', ' '))}</dt><dd>{_esc(EXPLANATIONS[f])}</dd>" for f in Flag)
    return ('<div class="tj-legend"><p>⚠ still to review · ✎ edited · ✓ reviewed. Keys: Ctrl+Enter translates, '
            f'Alt+N jumps to the next sentence to review, Escape cancels a cell edit.</p><dl>{items}</dl></div>')


def counts_markdown(work: Work, article: ArticleResult | None = None) -> str:
    parts = [f"{_language(lang)}: **{todo} of {total}** to review"
             for lang, (todo, total) in work.counts(article).items()]
    return " · ".join(parts)


def timings_markdown(result: ArticleResult) -> str:
    stages = " · ".join(f"{k.replace('_', ' ')} {v:.2f} s" for k, v in result.timings.items())
    n = len(result.sentences())
    return f"**Last run:** {stages} — {len(result.paragraphs)} paragraphs, {n} sentences"


def edits_markdown(work: Work) -> str:
    edited = work.edited()
    summaries = len(work.summaries)
    if not edited and not summaries:
        return "Exports hold the model output. Correct a sentence in a review table's translation column " \
               "(or a summary): the exports follow."
    parts = [f"**{edited} edited sentence{'s' if edited != 1 else ''}**"] if edited else []
    if summaries:
        parts.append(f"{summaries} edited summar{'ies' if summaries > 1 else 'y'}")
    return "Exports updated: " + ", ".join(parts) + "."


GLOSSARY_ROWS = 8  # empty rows the page's glossary table starts with


def glossary_headers(targets: Sequence[str]) -> list[str]:
    return [SOURCE_LANG, *targets]


def glossary_table(glossary: Glossary | None, targets: Sequence[str]) -> list[list[str]]:
    """The page's glossary table: a row per term (Arabic, then each target), padded with empty rows to fill."""
    rows = glossary.rows(list(targets))[1:] if glossary else []
    return rows + [[""] * (1 + len(targets)) for _ in range(max(GLOSSARY_ROWS - len(rows), 1))]


def table_glossary(rows: Sequence[Sequence[Any]] | None, targets: Sequence[str]) -> Glossary | None:
    """The table's rows as a Glossary (empty rows skipped); None when it holds no term. Unusable rows are
    the Glossary's problems, numbered as the table's rows (1 = the first term row)."""
    rows = [r for r in rows or [] if any(str(c or "").strip() for c in r)]
    if not rows:
        return None
    return glossary_from_rows(glossary_headers(targets), rows, "glossary table", header_row=0)


def _stem(result: ArticleResult, name: str | None) -> str:
    """Export names from the translated headline and the article's date (else today's), else the upload's name."""
    fallback = re.sub(r"[^\w.-]+", "_", Path(name).stem)[:60].strip("._") if name else ""
    return result_stem(result, fallback or "article", datetime.now().strftime("%Y-%m-%d"))


# -- models at start-up --------------------------------------------------------------------------------




# -- per-session files and runs ------------------------------------------------------------------------


def owner_of(request: gr.Request | None) -> str:
    """Whose work this is: the browser's session cookie (set by the security layer); without one (the page
    served some other way) the page load's own session."""
    cookies = getattr(request, "cookies", None) or {}
    return session_of(cookies) or f"page-{getattr(request, 'session_hash', None) or 'anonymous'}"


def _tag(owner: str) -> str:
    return hashlib.sha256(owner.encode()).hexdigest()[:24]


class ExportStore:
    """Export files, served only to the browser session that made them, for an hour at most.

    They are written inside Gradio's cache folder (so Gradio serves them as they are, no copy), under
    ``exports/<owner tag>/<page session>/<random>/``, mode 0600; ``allowed`` is the security layer's file
    guard.  A page closed deletes its page session's files; the whole folder goes with the process.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def write(self, owner: str, session: str, files: dict[str, bytes]) -> list[Path]:
        self.prune()
        folder = self.root / _tag(owner) / re.sub(r"\W", "", session or "none")[:40] / uuid.uuid4().hex
        folder.mkdir(mode=0o700, parents=True)
        paths = []
        for name, data in files.items():
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            paths.append(path)
        return paths

    def allowed(self, path: str, owner: str | None) -> bool:
        """May ``owner`` fetch ``path``? Anything outside the exports is Gradio's own business."""
        try:
            relative = Path(os.path.abspath(path)).relative_to(self.root)
        except ValueError:
            return True
        full = self.root / relative
        if not owner or not relative.parts or relative.parts[0] != _tag(owner) or not full.is_file():
            return False
        if full.stat().st_mtime < time.time() - EXPORT_MAX_AGE_S:
            full.unlink(missing_ok=True)
            return False
        return True

    def end(self, owner: str, session: str) -> None:
        shutil.rmtree(self.root / _tag(owner) / re.sub(r"\W", "", session or "none")[:40], ignore_errors=True)

    def prune(self) -> None:
        cutoff = time.time() - EXPORT_MAX_AGE_S
        for folder in self.root.glob("*/*/*"):
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


class Cancelled(Exception):
    """The editor pressed Cancel, or closed the page: the run stops at the model's next batch."""


# -- the page ------------------------------------------------------------------------------------------


@dataclass
class _Outputs:
    """Components a run fills, by target language where there is one per target."""

    work: Any = None
    headline: Any = None
    summaries: dict[str, Any] = field(default_factory=dict)
    summary_row: Any = None
    panes: dict[str, Any] = field(default_factory=dict)
    side_by_side: Any = None
    tables: dict[str, Any] = field(default_factory=dict)
    counts: Any = None
    exports: list[Any] = field(default_factory=list)  # Markdown, JSON, DOCX, zip download buttons
    edits: Any = None
    timings: Any = None
    removed: Any = None


EXPORT_KINDS = (("Markdown", "md"), ("JSON", "json"), ("DOCX", "docx"), ("All (zip)", "zip"))


class EditorApp:
    """Handlers over one Pipeline; ``build()`` lays out the page and wires them."""

    def __init__(self, pipeline: Pipeline, report: ModelReport | None = None, *,
                 history: History | None = None, service: Service | None = None, access: Access | None = None,
                 limits: Limits | None = None) -> None:
        self.pipeline = pipeline
        self.targets = list(pipeline.targets)
        # The page's model runs wait in the same queue as the API's (one run at a time on a CPU).
        self.service = service or Service(pipeline, report or load_models(pipeline), files=translated_files())
        self.report = self.service.report
        self.access = access or Access()
        self.limits = limits or Limits()
        self.exports = ExportStore(TEMP_ROOT / "exports")
        self.history = history
        self.cancels: dict[str, threading.Event] = {}
        self.out = _Outputs()

    # -- reading -----------------------------------------------------------------------------------------

    def load_file(self, path: str | None) -> dict:
        """An upload fills the text box (the editor sees what will be translated); the file is checked here,
        since the browser's type and size checks are advisory."""
        if not path:
            return gr.skip()
        name = Path(path).name
        try:
            size = os.path.getsize(path)
            if size > MAX_UPLOAD_BYTES:
                raise _error(f"{name}: {size / 2**20:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20} MB upload "
                             "limit; upload the article alone, as text, HTML or .docx")
            doc = read_document(name, Path(path).read_bytes())
            prepared = self.pipeline.prepare(doc)  # validated and segmented once: Translate reuses it
        except InputError as err:
            raise _error(_input_message(err, pasted=False)) from None
        except gr.Error:
            raise
        except Exception as err:  # a bug in a reader: say so plainly, keep the details in the server log
            log.exception("reading %s failed", name)
            raise _error(f"{name}: could not be read ({type(err).__name__}: {err}); the server log has the "
                         "details. Paste the article's text instead.") from None
        finally:
            if Path(path).resolve().is_relative_to(TEMP_ROOT.resolve()):
                Path(path).unlink(missing_ok=True)  # the upload (in this page's cache) is read: it is not kept
        paragraphs = len([p for p in doc.text.split("\n\n") if p.strip()])
        _info(f"{name}: {paragraphs} paragraphs, {len(doc.text):,} characters loaded. Press Translate.")
        return {self.article: doc.text, self.upload_state: {"name": name, "text": doc.text, "prepared": prepared}}

    def _prepared(self, text: str | None, upload: dict | None) -> PreparedArticle:
        """The article to run: the upload as it was read while the box still holds its text, else the box."""
        text = text or ""
        if upload and upload.get("text") == text and upload.get("prepared"):
            return upload["prepared"]
        try:
            return self.pipeline.prepare(text_document(text))
        except InputError as err:
            raise _error(_input_message(err, pasted=True)) from None

    def load_glossary(self, path: str | None) -> dict:
        """A glossary file fills the table (which the next run applies); rows it cannot use are named."""
        if not path:
            return gr.skip()
        try:
            glossary = load_glossary(path)
        except GlossaryError as err:
            raise _error(str(err).replace(str(Path(path).parent) + os.sep, "")) from None
        for problem in glossary.problems[:5]:
            gr.Warning(html.escape(f"Glossary {Path(problem.file).name}: row {problem.row}: {problem.problem}",
                                   quote=False))
        other = [lang for lang in glossary.languages if lang not in self.targets]
        note = f"; columns without a model here are left out: {', '.join(other)}" if other else ""
        _info(f"{Path(path).name}: {len(glossary)} terms loaded into the table{note}.")
        return {self.glossary_rows: glossary_table(glossary, self.targets)}

    def download_glossary(self, rows: list[list[str]] | None, request: gr.Request = None) -> dict:
        """The table as a CSV file (header ar,<targets>), for the next article or the newsroom's list; the
        button stays off while the table holds no term."""
        glossary = table_glossary(rows, self.targets) or Glossary()
        [path] = self.exports.write(owner_of(request), getattr(request, "session_hash", ""),
                                    {"glossary.csv": glossary.to_csv(self.targets).encode("utf-8")})
        return {self.glossary_download: gr.DownloadButton(value=str(path), interactive=bool(len(glossary)))}

    def _glossary(self, rows: list[list[str]] | None) -> Glossary | None:
        glossary = table_glossary(rows, self.targets)
        for problem in (glossary.problems if glossary else ())[:5]:
            gr.Warning(html.escape(f"Glossary table, row {problem.row}: {problem.problem} (left out)", quote=False))
        return glossary

    # -- a run -------------------------------------------------------------------------------------------

    def start_run(self, text: str | None, targets: list[str], summarize: bool, upload: dict | None,
                  stored: dict | None, request: gr.Request = None) -> dict:
        """Validate the article (once: the run reuses it) and check what a re-run would keep; when some
        corrections could not be kept, ask first instead of running."""
        if not targets:
            raise _error("Tick at least one target language.")
        prepared = self._prepared(text, upload)
        self.cancels[self._session(request)] = threading.Event()
        work = Work.from_json(stored)
        lost = work.would_drop(_sentences(prepared), targets, self._key(prepared)) if work else 0
        pending = {"prepared": prepared, "targets": list(targets), "summarize": summarize, "go": not lost}
        if lost:
            ask = (f"**{lost} correction{'s' if lost > 1 else ''} would be lost**: their Arabic sentence changed, "
                   "is gone, or its language is not ticked. Translate anyway, or keep working "
                   "(your corrections stay; the history keeps them too).")
            return {self.pending: pending, self.confirm_row: gr.Row(visible=True), self.confirm_text: ask}
        return {self.pending: pending, self.confirm_row: gr.Row(visible=False), **self._busy(True)}

    def confirm_run(self, pending: dict | None) -> dict:
        if not pending:
            return {self.confirm_row: gr.Row(visible=False)}
        return {self.pending: {**pending, "go": True}, self.confirm_row: gr.Row(visible=False), **self._busy(True)}

    def keep_working(self, pending: dict | None) -> dict:
        return {self.pending: None, self.confirm_row: gr.Row(visible=False)}

    def _busy(self, busy: bool) -> dict:
        return {self.run_button: gr.Button(interactive=not busy, value="Translating…" if busy else "Translate"),
                self.cancel_button: gr.Button(visible=busy)}

    def finish_run(self) -> dict:
        return self._busy(False)

    def cancel(self, request: gr.Request = None) -> dict:
        event = self.cancels.get(self._session(request))
        if event:
            event.set()
        return {self.run_status: "Cancelling: the run stops at the model's next batch…"}

    def page_closed(self, request: gr.Request = None) -> None:
        """The tab closed (or reloaded): stop its run and delete its page session's export files."""
        session = self._session(request)
        event = self.cancels.pop(session, None)
        if event:
            event.set()
        self.exports.end(owner_of(request), session)

    def translate(self, pending: dict | None, stored: dict | None, glossary_rows: list[list[str]] | None,
                  request: gr.Request = None,
                  progress: gr.Progress = gr.Progress()) -> dict:  # noqa: B008 - Gradio's progress idiom
        if not pending or not pending.get("go"):  # waiting for the editor's answer, or nothing to run
            return {self.pending: pending}
        prepared: PreparedArticle = pending["prepared"]
        targets, summarize = pending["targets"], pending["summarize"]
        cancel = self.cancels.setdefault(self._session(request), threading.Event())
        report = self._progress(progress, prepared, targets, summarize, cancel)
        report("wait" if self.service.queue.running else "start", 0.0)
        result = self._run(prepared, targets, summarize, report, self._glossary(glossary_rows))
        progress(1.0, desc="Writing the exports")
        stem = _stem(result, prepared.doc.source if _source(prepared) != TEXT else None)
        old = Work.from_json(stored)
        if old:
            work, kept, _ = old.carried(result, stem, self._key(prepared))
        else:
            work, kept = Work(result.to_dict(), stem, self._key(prepared)), 0
        note = f"; kept {kept} correction{'s' if kept != 1 else ''} (same Arabic sentence)" if kept else ""
        if kept:
            _info(f"Kept {kept} correction{'s' if kept != 1 else ''}: their Arabic sentences are unchanged.")
        out = self._render(work, request)
        out[self.out.timings] = timings_markdown(result)
        n = len(result.sentences())
        out[self.run_status] = f"Done at {time.strftime('%H:%M:%S')}: {n} sentences into {len(targets)} " \
                               f"language(s) in {result.timings.get('total', 0):.1f} s{note}."
        out[self.pending] = None
        return out

    def _progress(self, progress: gr.Progress, prepared: PreparedArticle, targets: Sequence[str], summarize: bool,
                  cancel: threading.Event) -> Callable[[str, float], None]:
        """The pipeline's progress as the page shows it: the stage, sentences done of the article's, and a
        fraction over all stages; raises Cancelled at the next report after Cancel (or the tab closing)."""
        stages = (["summarize"] if summarize else []) + [f"translate {t}" for t in targets]
        n = len(_sentences(prepared))

        def report(stage: str, fraction: float) -> None:
            if cancel.is_set():
                raise Cancelled
            i = stages.index(stage) if stage in stages else 0
            if stage == "wait":
                desc = f"Waiting for the model: another translation is running · {n} sentences to translate"
            elif stage == "start":
                desc = f"Loading the models · {n} sentences to translate"
            elif stage == "summarize":
                desc = f"Summarizing (stage {i + 1} of {len(stages)})"
            elif fraction >= 1.0:
                desc = f"{_language(stage.split()[-1])}: checking numbers, names and glossary terms " \
                       f"(stage {i + 1} of {len(stages)})"
            else:
                desc = f"Translating to {_language(stage.split()[-1])}: about {round(fraction * n)} of {n} " \
                       f"sentences (stage {i + 1} of {len(stages)})"
            progress(min(0.99, (i + fraction) / max(1, len(stages))), desc=desc)

        return report

    def _run(self, doc: Document | PreparedArticle, targets: Sequence[str], summarize: bool,
             progress: Callable[[str, float], None] | None = None, glossary: Glossary | None = None) -> ArticleResult:
        """Run the pipeline; every failure a user can fix becomes a message saying how."""
        if not targets:
            raise _error("Tick at least one target language.")
        chars = len(doc.text) if isinstance(doc, Document) else sum(len(s) for s in _sentences(doc))
        try:  # the pipeline validates first (empty, not Arabic, too long), before any model runs
            with self.service.queue.slot(job_cost(chars, len(targets), summarize)):
                return self.pipeline.run(doc, targets=list(targets), summarize=summarize, progress=progress,
                                         glossary=glossary)
        except QueueFull as err:
            raise _error(f"The server is busy: {err}.") from None
        except Cancelled:
            raise _error("Cancelled: nothing changed; your corrections are as they were.") from None
        except InputError as err:
            raise _error(_input_message(err, pasted=_source(doc) == TEXT)) from None
        except ModelNotAvailable as err:
            raise _error(missing_help(str(err))) from None
        except ConfigError as err:
            raise _error(str(err)) from None
        except Exception as err:  # a bug: say so plainly, keep the details in the server log
            log.exception("run failed")
            raise _error(f"Unexpected error ({type(err).__name__}: {err}); the server log has the details.") \
                from None

    @staticmethod
    def _key(prepared: PreparedArticle) -> str:
        return digest("\n\n".join(" ".join(p) for p in prepared.paragraphs))

    @staticmethod
    def _session(request: gr.Request | None) -> str:
        return getattr(request, "session_hash", None) or "none"

    # -- editing -------------------------------------------------------------------------------------------

    def edit_table(self, lang: str, stored: dict | None, rows: list[list[Any]] | None,
                   request: gr.Request = None) -> dict:
        """Apply a review table's translation and Reviewed columns to the work, row by row (rows are found by
        their sentence number, so a filtered table works too); panes, counts and exports follow."""
        work = Work.from_json(stored)
        if work is None:
            return gr.skip()
        work = copy_work(work)
        shown = work.article().translations[lang].sentences()
        sources = [s.source for s in shown]
        for row in rows or []:
            i = self._row_index(row, sources)
            if i is None:
                gr.Warning("Rows and columns of the review table are fixed: it was restored, with your corrections.")
                return self._render(work, request)
            text = "" if row[TEXT_COLUMN] is None else " ".join(str(row[TEXT_COLUMN]).split())
            if text != " ".join(shown[i].text.split()):
                work.set_text(lang, i, text)
            work.set_reviewed(lang, i, _truthy(row[REVIEWED_COLUMN]) if len(row) > REVIEWED_COLUMN else False)
        return self._render(work, request)

    @staticmethod
    def _row_index(row: Sequence[Any], sources: list[str]) -> int | None:
        try:
            i = int(str(row[0])) - 1
        except (ValueError, IndexError):
            return None
        ok = 0 <= i < len(sources) and len(row) > TEXT_COLUMN and str(row[SOURCE_COLUMN]) == sources[i]
        return i if ok else None

    def edit_summary(self, lang: str, stored: dict | None, text: str | None, request: gr.Request = None) -> dict:
        work = Work.from_json(stored)
        if work is None:
            return gr.skip()
        work = copy_work(work)
        if not work.set_summary(lang, text or ""):
            return gr.skip()
        return self._render(work, request, summaries=False)

    def undo(self, stored: dict | None, request: gr.Request = None) -> dict:
        work = Work.from_json(stored)
        if work is None or not work.undo:
            _info("Nothing to undo.")
            return gr.skip()
        work = copy_work(work)
        work.step_back()
        return self._render(work, request)

    def filter_rows(self, stored: dict | None, only: bool, request: gr.Request = None) -> dict:
        work = Work.from_json(stored)
        if work is None:
            return gr.skip()
        work = copy_work(work)
        work.only_review = bool(only)
        return self._render(work, request, exports=False)

    def restore(self, stored: dict | None, request: gr.Request = None) -> dict:
        """A page (re)load: the work in progress comes back from the browser's storage, and the history."""
        out = {self.history_table: self._history_rows(request)}
        work = Work.from_json(stored)
        if work is None:
            return out
        out.update(self._render(work, request, save=False))
        out[self.run_status] = f"Restored your work on “{_headline_text(work)}” ({work.edited()} corrections)."
        return out

    # -- one sentence again ---------------------------------------------------------------------------------

    def pick_sentence(self, lang: str, stored: dict | None, evt: gr.SelectData) -> dict:
        """A click on a review row fills the re-translate panel: its Arabic (to correct) and translation; a click
        on a read-only cell also opens the panel (clicks on the editable cells are edits, not requests)."""
        work = Work.from_json(stored)
        if work is None or not evt.row_value:
            return gr.skip()
        editing = isinstance(evt.index, (list, tuple)) and evt.index[-1] in (TEXT_COLUMN, REVIEWED_COLUMN)
        try:
            i = int(str(evt.row_value[0])) - 1
        except ValueError:
            return gr.skip()
        article = work.article()
        sent = article.translations[lang].sentences()[i]
        return {self.retr_state: {"lang": lang, "i": i, "alternatives": []},
                self.retr_which: f"Sentence {i + 1} → {_language(lang)}: “{sent.text}”",
                self.retr_source: sent.source, self.retr_choices: gr.Radio(choices=[], value=None),
                self.retr_use: gr.Button(interactive=False),
                self.retr_box: gr.Accordion() if editing else gr.Accordion(open=True)}

    def alternatives(self, stored: dict | None, retr: dict | None, source: str | None,
                     glossary_rows: list[list[str]] | None) -> dict:
        """n-best translations of the (possibly corrected) Arabic sentence, each with confidence and checks."""
        if not retr or Work.from_json(stored) is None:
            raise _error("Click a sentence in a review table first.")
        source = " ".join((source or "").split())
        if not source:
            raise _error("The Arabic sentence is empty: type or paste it back.")
        try:
            translator = self.pipeline.translator(retr["lang"], self._glossary(glossary_rows))
            with self.service.queue.slot(job_cost(len(source))):
                found = [sentence_result(t) for t in translator.alternatives(source)]
        except QueueFull as err:
            raise _error(f"The server is busy: {err}.") from None
        except ModelNotAvailable as err:
            raise _error(missing_help(str(err))) from None
        choices = [(f"{k + 1}. {s.text} — confidence {_confidence(s.score)}"
                    + (f" — {flag_notes(s)}" if s.flags else " — no warnings"), str(k)) for k, s in enumerate(found)]
        state = {**retr, "source": source, "alternatives": [asdict(s) for s in found]}
        return {self.retr_state: state, self.retr_choices: gr.Radio(choices=choices, value="0"),
                self.retr_use: gr.Button(interactive=True)}

    def use_alternative(self, stored: dict | None, retr: dict | None, choice: str | None,
                        request: gr.Request = None) -> dict:
        work = Work.from_json(stored)
        if work is None or not retr or not retr.get("alternatives") or choice is None:
            raise _error("Show the alternatives and pick one first.")
        work = copy_work(work)
        k, lang, i = int(choice), retr["lang"], retr["i"]
        picked, total = retr["alternatives"][k], len(retr["alternatives"])
        note = f"alternative {k + 1} of {total}"
        original = work.original().sentences()[i]
        if retr.get("source") and retr["source"] != original:
            note += f", from corrected Arabic «{retr['source']}»"
        work.set_text(lang, i, picked["text"], note)
        _info(f"Sentence {i + 1} ({_language(lang)}): {note}.")
        return self._render(work, request)

    # -- views ---------------------------------------------------------------------------------------------

    def _render(self, work: Work, request: gr.Request | None, *, exports: bool = True, summaries: bool = True,
                save: bool = True) -> dict:
        """Every view of the work: headline, summaries, panes, tables, counts, exports; saved to the history."""
        out: dict = {self.out.work: work.to_json()}
        article = work.article()
        out[self.out.headline] = headline_markdown(article)
        out[self.out.removed] = removed_markdown(article)
        out[self.out.summary_row] = gr.Row(visible=bool(article.summaries))
        if summaries:
            for lang, box in self.out.summaries.items():
                out[box] = article.summaries.get(lang, "")
        for lang, pane in self.out.panes.items():
            out[pane] = pairs_markdown(article, lang) if lang in article.translations else \
                f"_Not translated: tick {_language(lang)} and translate again._"
        out[self.out.side_by_side] = pairs_markdown(article, self.targets)
        for lang, table in self.out.tables.items():
            out[table] = review_table(article, lang, work.only_review) if lang in article.translations else \
                {"data": [], "headers": review_headers(lang)}
        out[self.out.counts] = counts_markdown(work, article)
        out[self.out.edits] = edits_markdown(work)
        out[self.undo_button] = gr.Button(interactive=bool(work.undo))
        if exports:
            for button, path in zip(self.out.exports, self._write_exports(article, work.stem, request)):
                out[button] = gr.DownloadButton(value=str(path), interactive=True)
        if save and self.history is not None:
            self._save(work, article, request)
            out[self.history_table] = self._history_rows(request)
        return out

    def _write_exports(self, result: ArticleResult, stem: str, request: gr.Request | None) -> list[Path]:
        files = export_files(result, stem)
        wanted = {f"{stem}.md": files[f"{stem}.md"], f"{stem}.json": files[f"{stem}.json"],
                  f"{stem}.docx": files[f"{stem}.docx"], f"{stem}.zip": zip_files(files)}
        return self.exports.write(owner_of(request), self._session(request), wanted)

    # -- history -------------------------------------------------------------------------------------------

    def _save(self, work: Work, article: ArticleResult, request: gr.Request | None) -> None:
        history = self.history
        if history is None:
            return
        state = {**work.to_json(), "undo": []}
        try:
            history.save(owner_of(request), work.key, _headline_text(work, article), state,
                         languages=tuple(article.translations), edits=work.edited())
        except ValueError as err:
            gr.Warning(html.escape(f"Not kept in the history: {err}", quote=False))

    def _history_rows(self, request: gr.Request | None) -> list[list[str]]:
        if self.history is None:
            return []
        return [[str(e.id), e.headline, time.strftime("%Y-%m-%d %H:%M", time.localtime(e.saved_at)),
                 ", ".join(e.languages), str(e.edits), "🗑 Delete"] for e in self.history.list(owner_of(request))]

    def history_pick(self, stored: dict | None, evt: gr.SelectData, request: gr.Request = None) -> dict:
        """One click on a history row reopens that article with its edits; a click on its 🗑 cell deletes it."""
        if self.history is None or not evt.row_value:
            return gr.skip()
        owner, entry = owner_of(request), int(evt.row_value[0])
        if evt.index[1] == len(HISTORY_HEADERS) - 1:
            if self.history.delete(owner, entry):
                _info(f"Deleted from the history: {evt.row_value[1]}")
            return {self.history_table: self._history_rows(request)}
        work = Work.from_json(self.history.load(owner, entry))
        if work is None:
            raise _error("That article is no longer in the history.")
        current = Work.from_json(stored)
        if current and current.key != work.key and current.edited():
            _info("Your previous article is in the history too: reopen it from there.")
        out = self._render(work, request)
        out[self.run_status] = f"Reopened “{_headline_text(work)}” from the history ({work.edited()} corrections)."
        return out

    def api_translate(self, text: str, targets: str = "en,es", summarize: bool = True,
                      request: gr.Request = None) -> dict:
        """Translate one Arabic article; targets comma-separated. Returns the result as JSON (tarjama.article).
        With API keys, send one as ``Authorization: Bearer KEY`` (gradio_client's ``headers=``)."""
        self._admit(request, len(text or ""))
        langs = [t.strip() for t in targets.split(",") if t.strip()]
        return self._run(text_document(text or ""), langs, summarize).to_dict()

    def _model_events(self) -> int:
        """Model events Gradio lets through at once: all the model queue can hold, so that queue (short first,
        bounded, shared with the API) decides the order, not Gradio's own first-come one."""
        return self.service.queue.slots + self.service.queue.max_waiting

    def _admit(self, request: gr.Request | None, chars: int) -> None:
        """The API's key and limits for a call of Gradio's API (the page's own calls are its session's)."""
        headers = getattr(request, "headers", None)
        key = bearer_key(headers) if headers is not None else None
        client = getattr(getattr(request, "client", None), "host", None) or "unknown"
        try:
            self.access.admit(self.access.identify(key), client, 1, chars)
        except AccessDenied as err:
            raise _error(str(err)) from None

    # -- layout ----------------------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        with gr.Blocks(title="tarjama — Arabic news translation", analytics_enabled=False,
                       delete_cache=(EXPORT_MAX_AGE_S, EXPORT_MAX_AGE_S)) as demo:
            self._header()
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    self._inputs()
                with gr.Column(scale=1, min_width=260):
                    self._options()
            self._results()
            self._history_panel()
            self._models_panel()
            self._wire(demo)
        demo.queue(default_concurrency_limit=LIGHT_CONCURRENCY, max_size=4 * self._model_events() + 64)
        self.blocks = demo
        demo.editor = self  # asgi_app's file guard: the exports of this page
        return demo

    def _header(self) -> None:
        gr.Markdown("# tarjama — Arabic news → " + " · ".join(_language(t) for t in self.targets))
        if self.report.demo:
            gr.Markdown(_banner("demo", f"DEMO: {DEMO_NOTICE} Use it to try the page, not to publish."),
                        elem_id="demo-banner")
        if self.report.missing:
            gr.Markdown(_banner("error", missing_help(self.report.missing)), elem_id="model-error")

    def _inputs(self) -> None:
        self.article = gr.Textbox(label="Arabic article", lines=12, max_lines=24, rtl=True, elem_id="article",
                                  placeholder="الصق نص المقال هنا — paste the Arabic article here, or upload a file",
                                  elem_classes="tj-rtl")
        self.upload = gr.File(label=f"…or upload {' '.join(DOCUMENT_SUFFIXES)} (≤ {MAX_UPLOAD_BYTES // 2**20} MB)",
                              file_types=list(DOCUMENT_SUFFIXES), type="filepath", elem_id="upload", height=110)
        self.upload_state = gr.State(None)
        self.pending = gr.State(None)
        if EXAMPLE.is_file():
            gr.Examples([[EXAMPLE.read_text(encoding="utf-8")]], inputs=[self.article], label="Example article",
                        example_labels=["UN conference calls for migrant women's economic empowerment (news article)"])

    def _options(self) -> None:
        choices = [(_language(t), t) for t in self.targets]
        self.target_box = gr.CheckboxGroup(choices, value=list(self.targets), label="Translate to",
                                           elem_id="targets")  # every target of models.yaml, as the CLI
        self.summarize = gr.Checkbox(value=bool(self.pipeline.registry.summarization), label="Summaries",
                                     interactive=bool(self.pipeline.registry.summarization), elem_id="summarize")
        with gr.Row():
            self.run_button = gr.Button("Translate", variant="primary", elem_id="run", min_width=120)
            self.cancel_button = gr.Button("Cancel", variant="stop", visible=False, elem_id="cancel", min_width=80)
        self.run_status = gr.Markdown("Ctrl+Enter translates.", elem_id="run-status")
        with gr.Row(visible=False, elem_id="confirm") as self.confirm_row, gr.Column():
            self.confirm_text = gr.Markdown("")
            with gr.Row():
                self.confirm_button = gr.Button("Translate anyway", variant="stop", elem_id="confirm-run",
                                                size="sm")
                self.keep_button = gr.Button("Keep working", elem_id="confirm-keep", size="sm")
        with gr.Accordion("What the flags mean", open=False, elem_id="legend"):
            gr.Markdown(legend_markdown())
        self._glossary_panel()

    def _glossary_panel(self) -> None:
        with gr.Accordion("Glossary", open=False, elem_id="glossary"):
            gr.Markdown("Terms to enforce on the next run: the Arabic term and its translation per language "
                        "(prefixes like و ب ل ال, diacritics and hamza forms are matched). Upload a CSV/TSV "
                        "(header row ar," + ",".join(self.targets) + ") or YAML file, or type rows.")
            self.glossary_file = gr.File(label="Glossary file", file_types=list(GLOSSARY_FORMATS), type="filepath",
                                         elem_id="glossary-file", height=90)
            columns = 1 + len(self.targets)
            self.glossary_rows = gr.Dataframe(
                value=glossary_table(None, self.targets), headers=glossary_headers(self.targets), datatype="str",
                type="array", interactive=True, column_count=columns, column_limits=(columns, columns),
                row_count=GLOSSARY_ROWS, label="Glossary terms", elem_id="glossary-table", elem_classes="tj-glossary")
            # Its file follows the table (every change rewrites it), so one click downloads what is shown.
            self.glossary_download = gr.DownloadButton("⬇ Glossary CSV", elem_id="glossary-download", size="sm",
                                                       interactive=False)

    def _results(self) -> None:
        out = self.out
        out.work = gr.BrowserState(None, storage_key=WORK_STORAGE_KEY, secret=browser_secret())
        out.headline = gr.Markdown("", elem_id="headline")
        with gr.Row(visible=False) as out.summary_row:
            for lang in ["ar", *self.targets]:
                out.summaries[lang] = gr.Textbox(label=f"Summary — {_language(lang)} (editable)", lines=3,
                                                 interactive=True, rtl=lang == "ar", elem_id=f"summary-{lang}",
                                                 elem_classes="tj-rtl" if lang == "ar" else None)
        with gr.Row(equal_height=True):
            out.counts = gr.Markdown("", elem_id="review-count")
            self.only_review = gr.Checkbox(False, label="Only sentences to review", elem_id="only-review",
                                           min_width=160)
            self.undo_button = gr.Button("↶ Undo last edit", interactive=False, elem_id="undo", size="sm")
            gr.Button("Next to review ↓ (Alt+N)", elem_id="next-review", size="sm")
        with gr.Tabs():
            for lang in self.targets:
                with gr.Tab(f"Arabic | {_language(lang)}", id=lang, elem_id=f"tab-{lang}"):
                    out.panes[lang] = gr.Markdown("_Translate an article to see it here._", elem_id=f"pane-{lang}",
                                                  latex_delimiters=[])
                    out.tables[lang] = gr.Dataframe(
                        headers=review_headers(lang), datatype=["str"] * 7 + ["bool"], type="array",
                        interactive=True, static_columns=[0, 1, 2, SOURCE_COLUMN, 5, 6], wrap=True, max_height=720,
                        column_widths=COLUMN_WIDTHS, pinned_columns=1,
                        label=f"Review — correct the {_language(lang)} column, tick Reviewed; click a row to "
                              "re-translate it; exports follow",
                        elem_id=f"table-{lang}", elem_classes="tj-review")
            with gr.Tab("Side by side", id="all", elem_id="tab-all"):
                out.side_by_side = gr.Markdown("_Translate an article to see every language side by side._",
                                               elem_id="pane-all", latex_delimiters=[])
        self._retranslate_panel()
        out.removed = gr.Markdown("", elem_id="removed")
        with gr.Row(equal_height=True):
            out.edits = gr.Markdown("Exports appear after a run.", elem_id="edits-status")
            out.exports = [gr.DownloadButton(f"⬇ {name}", interactive=False, elem_id=f"export-{ext}", size="md")
                           for name, ext in EXPORT_KINDS]

    def _retranslate_panel(self) -> None:
        with gr.Accordion("Re-translate one sentence", open=False, elem_id="retranslate") as self.retr_box:
            self.retr_state = gr.State(None)
            self.retr_which = gr.Markdown("Click a sentence in a review table: correct its Arabic if needed, then "
                                          "see the model's alternatives.", elem_id="retr-which")
            self.retr_source = gr.Textbox(label="Arabic sentence (correct it if needed)", rtl=True, lines=2,
                                          elem_id="retr-source", elem_classes="tj-rtl")
            self.retr_run = gr.Button("Show alternatives", elem_id="retr-run", size="sm")
            self.retr_choices = gr.Radio([], label="Alternatives (best first)", elem_id="retr-choices")
            self.retr_use = gr.Button("Use this translation", variant="primary", interactive=False,
                                      elem_id="retr-use", size="sm")

    def _history_panel(self) -> None:
        note = ("Your last articles with their edits, on this machine only. Click a row to reopen it; click 🗑 to "
                "delete it." if self.history is not None else "History is off (`--no-history`).")
        with gr.Accordion("History", open=False, elem_id="history"):
            gr.Markdown(note)
            self.history_table = gr.Dataframe(headers=HISTORY_HEADERS, datatype="str", type="array",
                                              interactive=False, elem_id="history-table", wrap=True,
                                              column_widths=["50px", "45%", "130px", "90px", "60px", "90px"])

    def _models_panel(self) -> None:
        with gr.Accordion("Models and last run", open=True, elem_id="status"):
            gr.Markdown(self.report.summary() + (" — **DEMO models**" if self.report.demo else ""))
            gr.Dataframe(value=self.report.rows, headers=list(ModelReport.LABELS), datatype="str", interactive=False,
                         elem_id="models-table")
            self.out.timings = gr.Markdown("**Last run:** none yet", elem_id="timings")

    def _views(self) -> list[Any]:
        out = self.out
        return [out.work, out.headline, out.removed, out.summary_row, *out.summaries.values(), *out.panes.values(),
                out.side_by_side, *out.tables.values(), out.counts, out.edits, *out.exports, self.undo_button,
                self.history_table]

    # Per-language handlers as plain functions: Gradio finds gr.Request / gr.SelectData by their annotations,
    # which it cannot read through functools.partial.
    def _edit_handler(self, lang: str) -> Callable[..., dict]:
        def edit(stored: dict | None, rows: list[list[Any]] | None, request: gr.Request) -> dict:
            return self.edit_table(lang, stored, rows, request)
        return edit

    def _pick_handler(self, lang: str) -> Callable[..., dict]:
        def pick(stored: dict | None, evt: gr.SelectData) -> dict:
            return self.pick_sentence(lang, stored, evt)
        return pick

    def _summary_handler(self, lang: str) -> Callable[..., dict]:
        def edit(stored: dict | None, text: str | None, request: gr.Request) -> dict:
            return self.edit_summary(lang, stored, text, request)
        return edit

    def _wire(self, demo: gr.Blocks) -> None:
        out, views = self.out, self._views()
        light = {"concurrency_id": "edits", "concurrency_limit": LIGHT_CONCURRENCY, "api_visibility": "private"}
        read = {"concurrency_id": "read", "concurrency_limit": LIGHT_CONCURRENCY, "api_visibility": "private"}
        models = {"concurrency_id": "models", "concurrency_limit": self._model_events(), "api_visibility": "private"}
        self.upload.upload(self.load_file, inputs=self.upload, outputs=[self.article, self.upload_state],
                           api_name="page_load_file", **read)
        self.glossary_file.upload(self.load_glossary, inputs=self.glossary_file, outputs=[self.glossary_rows],
                                  api_name="page_load_glossary", **read)
        self.glossary_rows.change(self.download_glossary, inputs=self.glossary_rows, outputs=[self.glossary_download],
                                  trigger_mode="always_last", show_progress="hidden", api_name="page_glossary_csv",
                                  **read)
        busy = [self.run_button, self.cancel_button]
        run_outputs = [*views, out.timings, self.run_status, self.pending]
        started = self.run_button.click(
            self.start_run, inputs=[self.article, self.target_box, self.summarize, self.upload_state, out.work],
            outputs=[self.pending, self.confirm_row, self.confirm_text, *busy], api_name="page_start", **read)
        running = started.success(
            self.translate, inputs=[self.pending, out.work, self.glossary_rows], outputs=run_outputs,
            api_name="page_translate", show_progress_on=[self.run_status, *out.panes.values(), *out.tables.values(),
                                                         out.side_by_side], **models)
        # `.then` does not fire after a failure in Gradio 6.31 (measured), `.failure` does: both re-enable.
        running.then(self.finish_run, outputs=busy, api_name="page_finish", **read)
        running.failure(self.finish_run, outputs=busy, api_name="page_finish_failed", **read)
        confirmed = self.confirm_button.click(self.confirm_run, inputs=[self.pending],
                                              outputs=[self.pending, self.confirm_row, *busy], api_name="page_confirm",
                                              **read)
        rerun = confirmed.success(self.translate, inputs=[self.pending, out.work, self.glossary_rows],
                                  outputs=run_outputs, api_name="page_translate_confirmed",
                                  show_progress_on=[self.run_status, *out.panes.values(), *out.tables.values()],
                                  **models)
        rerun.then(self.finish_run, outputs=busy, api_name="page_finish_confirmed", **read)
        rerun.failure(self.finish_run, outputs=busy, api_name="page_finish_confirmed_failed", **read)
        self.keep_button.click(self.keep_working, inputs=[self.pending], outputs=[self.pending, self.confirm_row],
                               api_name="page_keep", **read)
        # No `cancels=`: Gradio would free the model slot while the run's thread still works; the run stops
        # itself at the model's next batch (Cancelled), then finish_run re-enables the button.
        self.cancel_button.click(self.cancel, outputs=[self.run_status], api_name="page_cancel", **read)
        for lang, table in out.tables.items():
            table.input(self._edit_handler(lang), inputs=[out.work, table], outputs=views,
                        trigger_mode="always_last", show_progress="hidden", api_name=f"page_edit_{lang}", **light)
            table.select(self._pick_handler(lang), inputs=[out.work],
                         outputs=[self.retr_state, self.retr_which, self.retr_source, self.retr_choices,
                                  self.retr_use, self.retr_box], show_progress="hidden",
                         api_name=f"page_pick_{lang}", **light)
        for lang, box in out.summaries.items():
            box.input(self._summary_handler(lang), inputs=[out.work, box], outputs=views,
                      trigger_mode="always_last", show_progress="hidden", api_name=f"page_summary_{lang}", **light)
        self.undo_button.click(self.undo, inputs=[out.work], outputs=views, api_name="page_undo", **light)
        self.only_review.input(self.filter_rows, inputs=[out.work, self.only_review], outputs=views,
                               api_name="page_filter", **light)
        self.retr_run.click(self.alternatives, inputs=[out.work, self.retr_state, self.retr_source, self.glossary_rows],
                            outputs=[self.retr_state, self.retr_choices, self.retr_use], api_name="page_alternatives",
                            **models)
        self.retr_use.click(self.use_alternative, inputs=[out.work, self.retr_state, self.retr_choices],
                            outputs=views, api_name="page_use_alternative", **light)
        self.history_table.select(self.history_pick, inputs=[out.work], outputs=[*views, self.run_status],
                                  api_name="page_history", **light)
        demo.load(self.restore, inputs=[out.work], outputs=[*views, self.run_status], api_name="page_restore", **light)
        demo.unload(self.page_closed)
        gr.api(self.api_translate, api_name="translate", concurrency_id="models",
               concurrency_limit=self._model_events())


HISTORY_HEADERS = ["#", "Headline", "Saved", "Languages", "Edits", ""]


def _sentences(prepared: PreparedArticle) -> list[str]:
    return [s for p in prepared.paragraphs for s in p]


def browser_secret() -> str | None:
    """The key the work in the browser's storage is sealed with, kept (0600) in tarjama's cache so a browser's
    work still opens after the server restarts; None — a fresh key per process, as Gradio's default — when the
    cache cannot keep it."""
    path = page_secret_file()
    try:
        if path.is_file() and len(secret := path.read_text(encoding="ascii").strip()) >= 32:
            return secret
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secret)
        return secret
    except (OSError, UnicodeDecodeError):
        return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "✓")


def _headline_text(work: Work, article: ArticleResult | None = None) -> str:
    article = article or work.original()
    headline = getattr(article, "headline", None) or {}
    return headline.get("ar") or article.title or (article.paragraphs[0][0] if article.paragraphs else "")[:120]


# -- serving ---------------------------------------------------------------------------------------------


def create_app(pipeline: Pipeline, report: ModelReport | None = None, *, history: History | None = None,
               service: Service | None = None, access: Access | None = None,
               limits: Limits | None = None) -> gr.Blocks:
    """The page over ``pipeline`` (models are loaded here, once, unless ``report`` or ``service`` says they
    were); ``access`` and ``limits`` are the API's, which ``asgi_app`` serves beside the page."""
    return EditorApp(pipeline, report, history=history, service=service, access=access, limits=limits).build()


def asgi_app(demo: gr.Blocks, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *,
             allowed_hosts: Sequence[str] = (), cors_origins: Sequence[str] = ()):
    """The page mounted at / on the HTTP API's FastAPI app (one server, one port, one model queue), behind the
    security layer (Host and Origin checks, security headers, the session cookie, export files for their own
    session only, internal endpoints refused) and the API's body limit."""
    from fastapi.responses import Response

    editor: EditorApp = demo.editor
    server = create_api(editor.service, editor.access, editor.limits)

    @server.get(PAGE_JS_PATH, include_in_schema=False)
    def page_js() -> Response:
        return Response(PAGE_JS, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    app = gr.mount_gradio_app(server, demo, path="/", max_file_size=MAX_UPLOAD_BYTES, ssr_mode=False, css=CSS,
                              head=HEAD, show_error=False, server_name=host, server_port=port)
    policy = SecurityPolicy.for_address(host, port, extra_hosts=tuple(allowed_hosts),
                                        cors_origins=tuple(cors_origins), blocked_paths=(INTERNAL_API,),
                                        api_paths=API_PATHS.pattern)
    limited = BodyLimit(app, editor.limits.body_limit, API_PATHS)
    return merge_slashes(SecurityMiddleware(limited, policy, file_guard=editor.exports.allowed,
                                            session_cookie=SESSION_COOKIE))


@dataclass
class Served:
    """A running page: its URL, and ``close()`` to stop it."""

    url: str
    server: Any
    thread: threading.Thread | None = None

    def close(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=30)


def launch(demo: gr.Blocks, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, block: bool = True,
           allowed_hosts: Sequence[str] = (), cors_origins: Sequence[str] = ()) -> Served:
    """Serve ``demo`` with uvicorn (in this thread when ``block``, else in a background one, returned once it
    answers); the upload limit is enforced by the browser and the server (HTTP 413) as well."""
    import uvicorn

    config = uvicorn.Config(asgi_app(demo, host, port, allowed_hosts=allowed_hosts, cors_origins=cors_origins),
                            host=host, port=port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    if block:
        server.run()
        return Served(url, server)
    thread = threading.Thread(target=server.run, name="tarjama-page", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError(f"the page did not start on {host}:{port}")
    return Served(url, server, thread)


def remove_temp_files() -> None:
    shutil.rmtree(TEMP_ROOT, ignore_errors=True)


atexit.register(remove_temp_files)


def _stop_on_signals() -> None:
    """SIGTERM ends the process as Ctrl-C does (uvicorn stops, then the temp folder is removed)."""
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python app.py", description="Serve the editor's page (as tarjama serve).")
    parser.add_argument("--models", metavar="PATH", help="models.yaml (default: $TARJAMA_MODELS or the shipped one)")
    add_serve_options(parser)
    return parser


def serve(args: argparse.Namespace) -> int:
    """Load the models once, report them, serve the page and the API until interrupted (Ctrl-C or SIGTERM);
    the temp folder goes."""
    from tarjama.cli.options import quiet_libraries
    from tarjama.cli.serve import limits_of
    from tarjama.ports import port_problem
    from tarjama.server.access import ApiKeysError, load_api_keys, loose_permissions
    quiet_libraries()
    os.umask(0o077)  # every file the page writes (uploads, exports, the history) is this user's alone
    problem = port_problem(args.host, args.port)
    if problem:
        return _fail(problem)
    try:
        keys = load_api_keys(args.api_keys) if args.api_keys else None
        access = Access(keys, require_key=args.require_key, req_limit=args.req_limit)
        pipeline = Pipeline.from_config(args.models, memory=_memory(args))
    except (ApiKeysError, ConfigError) as err:
        return _fail(str(err))
    print(f"tarjama: loading the models of {pipeline.registry.path} ...", file=sys.stderr)
    report = load_models(pipeline)
    for row in report.rows:
        print("tarjama:   " + "  ".join(row), file=sys.stderr)
    print(f"tarjama: {report.summary()}" + (f" (DEMO: {DEMO_NOTICE})" if report.demo else ""), file=sys.stderr)
    if report.missing:
        print("tarjama: warning: " + missing_help(report.missing).replace("\n", "\ntarjama:   "), file=sys.stderr)
    history = History(history_file(), limit=args.history) if args.history else None
    print(f"tarjama: translation memory {'off' if args.memory is False else 'on'}; history "
          f"{f'keeps {args.history} articles' if history else 'off'}", file=sys.stderr)
    _access_notes(args, access, loose_permissions(args.api_keys) if args.api_keys else False)
    service = Service(pipeline, report, queue=ModelQueue(max_waiting=args.queue_size, max_wait_s=args.queue_wait),
                      files=translated_files())
    print(f"tarjama: serving the page and the API on http://{args.host}:{args.port}/ (API docs: /docs; "
          "Ctrl-C stops)", file=sys.stderr, flush=True)
    _stop_on_signals()
    try:
        launch(create_app(pipeline, history=history, service=service, access=access, limits=limits_of(args)),
               args.host, args.port, block=True, allowed_hosts=args.allowed_hosts, cors_origins=args.cors_origins)
    except KeyboardInterrupt:
        pass
    finally:
        service.close()
        remove_temp_files()
    return 0


def translated_files() -> FileStore:
    """The API's translated files, in the process's private temp folder (removed at exit)."""
    return FileStore(TEMP_ROOT / "files")


def _fail(message: str) -> int:
    print(f"tarjama: error: {message}", file=sys.stderr)
    return 2


def _access_notes(args: argparse.Namespace, access: Access, loose: bool) -> None:
    """Say at start who may use the API; warn where anyone on the network could (keys are never printed)."""
    if access.enabled:
        print(f"tarjama: API keys: {len(access.keys)} from {args.api_keys}"
              f"{'; a key is required' if access.require_key else '; requests without a key are allowed'}",
              file=sys.stderr)
    if loose:
        print(f"tarjama: warning: {args.api_keys} can be read by other users; chmod 600 it", file=sys.stderr)
    if args.host.strip().lower() in (*LOOPBACK_NAMES, "::1"):
        return
    if not access.enabled:
        print(f"tarjama: warning: --host {args.host} opens the API to the network with no API keys: anyone who "
              "can reach this machine can use the models. Give --api-keys FILE (and --require-key).",
              file=sys.stderr)
    elif not access.require_key:
        print(f"tarjama: warning: --host {args.host} with keys but no --require-key: requests without a key are "
              "served too (limited by --req-limit)", file=sys.stderr)
    print("tarjama: note: the editor's page itself asks for no key (--require-key covers the HTTP API and the "
          "page's /translate API); keep the page on a trusted network", file=sys.stderr)


def _memory(args: argparse.Namespace):
    """The translation memory ``serve``'s options ask for: off, or the default file with a retention."""
    if args.memory is False:
        return None
    if args.memory_days is None:
        return True
    from tarjama.translate.memory import SQLiteMemory

    from tarjama.paths import memory_file

    return SQLiteMemory(memory_file(), max_age_days=args.memory_days)


def main(argv: Sequence[str] | None = None) -> int:
    return serve(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
