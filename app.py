"""The editor's page: paste or upload an Arabic article, review its translations sentence by sentence,
correct them, export Markdown, JSON or DOCX.

    python app.py [--host 127.0.0.1] [--port 7860] [--models models.yaml]    # or: tarjama serve

Layout and wiring to ``tarjama.Pipeline`` only: reading files, running models, applying edits
and writing exports all live in the ``tarjama`` package.  What a user typed or uploaded reaches
the page only through components that escape it (Textbox, Dataframe "str" cells), or
html-escaped inside a sanitized Markdown; never gr.HTML.
"""

from __future__ import annotations

import argparse
import atexit
import html
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tarjama.translate.flags import NEEDS_REVIEW, Flag
from tarjama.translate.glossary import FORMATS as GLOSSARY_FORMATS
from tarjama.translate.glossary import SOURCE_LANG, Glossary, GlossaryError, glossary_from_rows, load_glossary

from tarjama.documents import DOCUMENT_SUFFIXES, Document, InputError, read_document
from tarjama.documents import TEXT_SOURCE as TEXT
from tarjama.pipeline import Pipeline, PreparedArticle
from tarjama.registry import ConfigError, ModelNotAvailable
from tarjama.result import DEMO_NOTICE, LANGUAGE_NAMES, ArticleResult, SentenceResult

# Before gradio is imported, and forced: its version check and telemetry would otherwise call out.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
import gradio as gr

log = logging.getLogger("tarjama.app")

DEFAULT_HOST = "127.0.0.1"  # the page is for this machine; --host 0.0.0.0 opens it to the network
DEFAULT_PORT = 7860
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # far above any article; enforced by the browser, the server and the handler
# One model run at a time: on a CPU one run already keeps every core busy (torch threads), and a
# model's tokenizer is not safe to share between threads.  Runs queue; the page shows the position.
MODEL_CONCURRENCY = 1
LIGHT_CONCURRENCY = 4  # reading uploads, applying edits, writing exports: no model involved
EXPORT_MAX_AGE_S = 3600
EXAMPLE = Path(__file__).resolve().with_name("examples") / "seed_article.ar.txt"

CSS = """
.tj-rtl textarea, .tj-rtl input { direction: rtl; text-align: right; }
.tj-banner { padding: .6em 1em; border-radius: 6px; }
.tj-demo { background: #fff4ce; border: 1px solid #c19c00; color: #4a3b00; }
.tj-error { background: #fde7e9; border: 1px solid #d13438; color: #5c0f13; }
.tj-banner, .toast-body { overflow-wrap: anywhere; }
.tj-pairs { display: grid; grid-template-columns: 1fr 1fr; column-gap: 2em; }
.tj-pairs p { margin: 0 0 .9em 0; line-height: 1.6; }
.tj-pairs .tj-head { font-weight: 700; border-bottom: 1px solid #ccc; margin-bottom: .6em; }
.tj-pairs .tj-src { direction: rtl; text-align: right; font-size: 1.08em; }
.tj-flag { background: #fff4ce; border-bottom: 2px dotted #c19c00; }
.tj-edited { background: #dff6dd; }
.tj-removed { font-size: .9em; color: #555; }
.tj-review [data-col="3"] { direction: rtl; text-align: right; }
.tj-glossary [data-col="0"] { direction: rtl; text-align: right; }
.tj-review .cell-wrap, .tj-review .cell-wrap span, .tj-review textarea { font-family: var(--font) !important; }
.tj-review .cell-menu, .tj-review .cell-menu-button { display: none !important; }  /* rows are the article's */
"""


# -- presentation helpers (no model logic) -------------------------------------------------------------


def _esc(text: str) -> str:
    """Escaped, one line: inside an HTML block Markdown is not parsed, and no newline can end the block."""
    return html.escape(" ".join(str(text).split()), quote=True)


def _banner(kind: str, text: str) -> str:
    return f'<div class="tj-banner tj-{kind}">{"<br>".join(_esc(line) for line in text.splitlines())}</div>'


def _error(message: str) -> gr.Error:
    """A toast; toasts render (sanitized) HTML, so file names and messages are escaped to show literally."""
    return gr.Error(html.escape(message, quote=False).replace("\n", "<br>"), print_exception=False)


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


def _sentence_html(sent: SentenceResult) -> str:
    if Flag.EDITED in sent.flags:
        return f'<span class="tj-edited" title="edited">{_esc(sent.text)}</span>'
    if any(f in NEEDS_REVIEW for f in sent.flags):  # the hover says what to look at
        return f'<span class="tj-flag" title="{_esc(flag_notes(sent))}">{_esc(sent.text)}</span>'
    return _esc(sent.text)


def pairs_markdown(result: ArticleResult, lang: str) -> str:
    """Arabic and translated paragraphs side by side, row by row, flagged sentences marked."""
    rows = ['<div class="tj-pairs">',
            f'<p class="tj-head tj-src" dir="rtl">العربية</p><p class="tj-head">{_esc(_language(lang))}</p>']
    for src, par in zip(result.paragraphs, result.translations[lang].paragraphs):
        rows.append(f'<p class="tj-src" dir="rtl" lang="ar">{_esc(" ".join(src))}</p>'
                    f'<p class="tj-tr" lang="{_esc(lang)}">{" ".join(_sentence_html(s) for s in par)}</p>')
    rows.append("</div>")
    return "\n".join(rows)


def removed_markdown(result: ArticleResult) -> str:
    """What cleaning dropped (a repeated title, trailing web boilerplate): the editor should know."""
    if not result.removed:
        return ""
    items = "".join(f'<li>{_esc(str(r["kind"]).replace("_", " "))} (line {int(r["line"])}): '
                    f'<span dir="auto">{_esc(r["text"])}</span></li>' for r in result.removed)
    return f'<div class="tj-removed"><p>Removed while cleaning, not translated:</p><ul>{items}</ul></div>'


def review_headers(lang: str) -> list[str]:
    return ["#", "¶", "⚠", "Arabic", _language(lang), "Confidence", "Flags"]


TEXT_COLUMN = 4  # the only editable column of the review table
SOURCE_COLUMN = 3


def review_table(result: ArticleResult, lang: str) -> dict[str, Any]:
    """One row per source sentence; rows needing a look carry ⚠ and a tinted background."""
    rows, styles, n = [], [], 0
    for p_no, (src, par) in enumerate(zip(result.paragraphs, result.translations[lang].paragraphs), start=1):
        for source, sent in zip(src, par):
            n += 1
            warn = any(f in NEEDS_REVIEW for f in sent.flags)
            rows.append([str(n), str(p_no), "⚠" if warn else "", source, sent.text, _confidence(sent.score),
                         flag_notes(sent)])
            styles.append(["background-color: #fff4ce" if warn else ""] * len(rows[-1]))
    return {"data": rows, "headers": review_headers(lang), "metadata": {"styling": styles, "display_value": None}}


def timings_markdown(result: ArticleResult) -> str:
    stages = " · ".join(f"{k.replace('_', ' ')} {v:.2f} s" for k, v in result.timings.items())
    n = len(result.sentences())
    return f"**Last run:** {stages} — {len(result.paragraphs)} paragraphs, {n} sentences"


def edits_markdown(result: ArticleResult) -> str:
    counts = {lang: sum(Flag.EDITED in s.flags for s in tr.sentences()) for lang, tr in result.translations.items()}
    total = sum(counts.values())
    if not total:
        return "Exports hold the model output. Correct a sentence in a review table's translation column: " \
               "the exports follow."
    detail = ", ".join(f"{_language(k)} {v}" for k, v in counts.items() if v)
    return f"Exports updated: **{total} edited sentence{'s' if total > 1 else ''}** ({detail})."


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


def _stem(name: str | None) -> str:
    stem = re.sub(r"[^\w.-]+", "_", Path(name).stem)[:60].strip("._") if name else ""
    return stem or "article"


# -- models at start-up --------------------------------------------------------------------------------


MODEL_HEADERS = ["Key", "Model", "Engine", "Device", "Compute", "Licence", "Status"]


@dataclass
class ModelReport:
    """What start-up loading found: one row per model of models.yaml, and what is missing."""

    rows: list[list[str]]
    missing: str | None
    seconds: float
    demo: bool

    def summary(self) -> str:
        loaded = sum(r[-1] == "loaded" for r in self.rows)
        return f"{loaded} of {len(self.rows)} models loaded in {self.seconds:.1f} s"


def load_models(pipeline: Pipeline) -> ModelReport:
    """Load every model now, once, so the first editor does not wait; never let a missing one stop the page."""
    rows, missing = [], []
    started = time.perf_counter()
    for spec in pipeline.registry.specs():
        try:
            engine = pipeline.engines.get(spec, backend=pipeline.backend)
            rows.append([spec.key, spec.model, engine.name, engine.device, engine.compute_type, spec.license,
                         "loaded"])
        except Exception as err:  # ModelNotAvailable, or a damaged folder: report it, keep serving
            rows.append([spec.key, spec.model, "—", "—", "—", spec.license, "not available"])
            missing.append(str(err))
    return ModelReport(rows, "\n".join(missing) or None, time.perf_counter() - started, pipeline.registry.demo)


def missing_help(missing: str) -> str:
    return ("Models not available: translating fails until they are. What to do: run `tarjama models pull` "
            "where there is network (and copy the Hugging Face cache here), or set `model:` in models.yaml to a "
            f"local folder; then restart `tarjama serve`.\n{missing}")


# -- the page ------------------------------------------------------------------------------------------


@dataclass
class _Outputs:
    """Components a run fills, by target language where there is one per target."""

    state: Any = None
    summaries: dict[str, Any] = field(default_factory=dict)
    summary_row: Any = None
    panes: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    exports: list[Any] = field(default_factory=list)  # Markdown, JSON, DOCX download buttons
    edits: Any = None
    timings: Any = None
    removed: Any = None


class EditorApp:
    """Handlers over one Pipeline; ``build()`` lays out the page and wires them."""

    def __init__(self, pipeline: Pipeline, report: ModelReport | None = None) -> None:
        self.pipeline = pipeline
        self.targets = list(pipeline.targets)
        self.report = report or load_models(pipeline)
        self.export_dir = Path(tempfile.mkdtemp(prefix="tarjama-web-"))
        atexit.register(shutil.rmtree, self.export_dir, ignore_errors=True)
        self.out = _Outputs()

    # -- handlers --------------------------------------------------------------------------------------

    def load_file(self, path: str | None) -> dict:
        """An upload fills the text box (the editor sees what will be translated); the file is checked here,
        since the browser's type and size checks are advisory."""
        if not path:
            return {}
        name = Path(path).name
        size = os.path.getsize(path)
        if size > MAX_UPLOAD_BYTES:
            raise _error(f"{name}: {size / 2**20:.1f} MB is over the {MAX_UPLOAD_BYTES // 2**20} MB upload limit; "
                         "upload the article alone, as text, HTML or .docx")
        try:  # read, validated and segmented here, once: Translate reuses it while the box is unchanged
            doc = read_document(name, Path(path).read_bytes())
            prepared = self.pipeline.prepare(doc)
        except InputError as err:
            raise _error(_input_message(err, pasted=False)) from None
        paragraphs = len([p for p in doc.text.split("\n\n") if p.strip()])
        gr.Info(html.escape(f"{name}: {paragraphs} paragraphs, {len(doc.text):,} characters loaded. "
                            "Press Translate.", quote=False))
        upload = {"name": name, "title": doc.title, "text": doc.text, "format": doc.format, "prepared": prepared}
        return {self.article: doc.text, self.upload_state: upload}

    def _document(self, text: str | None, upload: dict | None) -> Document | PreparedArticle:
        text = text or ""
        if upload and upload.get("text") == text:  # still the uploaded article, prepared when it was loaded
            return upload.get("prepared") or Document(text=text, title=upload.get("title"), id=upload["name"],
                                                      source=upload["name"], format=upload.get("format", "txt"))
        return Document(text=text)

    def load_glossary(self, path: str | None) -> dict:
        """A glossary file fills the table (which the next run applies); rows it cannot use are named."""
        if not path:
            return {}
        try:
            glossary = load_glossary(path)
        except GlossaryError as err:
            raise _error(str(err).replace(str(Path(path).parent) + os.sep, "")) from None
        for problem in glossary.problems[:5]:
            gr.Warning(html.escape(f"Glossary {Path(problem.file).name}: row {problem.row}: {problem.problem}",
                                   quote=False))
        other = [lang for lang in glossary.languages if lang not in self.targets]
        note = f"; columns without a model here are left out: {', '.join(other)}" if other else ""
        gr.Info(html.escape(f"{Path(path).name}: {len(glossary)} terms loaded into the table{note}.", quote=False))
        return {self.glossary_rows: glossary_table(glossary, self.targets)}

    def download_glossary(self, rows: list[list[str]] | None) -> dict:
        """The table as a CSV file (header ar,<targets>), for the next article or the newsroom's list; the
        button stays off while the table holds no term."""
        glossary = table_glossary(rows, self.targets) or Glossary()
        self._prune_exports()
        folder = self.export_dir / uuid.uuid4().hex
        folder.mkdir()
        path = folder / "glossary.csv"
        path.write_text(glossary.to_csv(self.targets), encoding="utf-8")
        return {self.glossary_download: gr.DownloadButton(value=str(path), interactive=bool(len(glossary)))}

    def _glossary(self, rows: list[list[str]] | None) -> Glossary | None:
        glossary = table_glossary(rows, self.targets)
        for problem in (glossary.problems if glossary else ())[:5]:
            gr.Warning(html.escape(f"Glossary table, row {problem.row}: {problem.problem} (left out)", quote=False))
        return glossary

    def _run(self, doc: Document | PreparedArticle, targets: Sequence[str], summarize: bool,
             progress: Callable[[str, float], None] | None = None, glossary: Glossary | None = None) -> ArticleResult:
        """Validate, then run the pipeline; every failure a user can fix becomes a message saying how."""
        if not targets:
            raise _error("Tick at least one target language.")
        try:  # the pipeline validates first (empty, not Arabic, too long), before any model runs
            return self.pipeline.run(doc, targets=list(targets), summarize=summarize, progress=progress,
                                     glossary=glossary)
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

    def translate(self, text: str | None, targets: list[str], summarize: bool, upload: dict | None,
                  glossary_rows: list[list[str]] | None = None,
                  progress: gr.Progress = gr.Progress()) -> dict:  # noqa: B008 - Gradio's progress idiom
        doc = self._document(text, upload)
        glossary = self._glossary(glossary_rows)
        stages = (["summarize"] if summarize else []) + [f"translate {t}" for t in targets]

        def report(stage: str, fraction: float) -> None:
            i = stages.index(stage) if stage in stages else 0
            label = "Summarizing" if stage == "summarize" else f"Translating to {_language(stage.split()[-1])}"
            progress((i + fraction) / max(1, len(stages)), desc=label)

        progress(0.0, desc="Starting")
        result = self._run(doc, targets, summarize, report, glossary)
        state = {"result": result.to_dict(), "stem": _stem(upload["name"] if _source(doc) != TEXT else None),
                 "edits": {}}
        out = self._views(result, state["stem"])
        out[self.out.state] = state
        out[self.out.timings] = timings_markdown(result)
        out[self.out.removed] = removed_markdown(result)
        out[self.out.summary_row] = gr.Row(visible=bool(result.summaries))
        for lang, box in self.out.summaries.items():
            out[box] = result.summaries.get(lang, "")
        for lang, table in self.out.tables.items():
            empty = {"data": [], "headers": review_headers(lang)}
            out[table] = review_table(result, lang) if lang in result.translations else empty
        return out

    def apply_edits(self, state: dict | None, *tables: list[list[str]] | None) -> dict:
        """Re-apply every table's translation column to the original result: panes and exports follow.

        A table whose rows no longer match the article (the page hides the add/delete-row menu, but a
        client could send anything) is put back as it was, with the corrections made so far.
        """
        if not state:
            return {}
        original = ArticleResult.from_dict(state["result"])
        edits = self._table_edits(original, tables)
        if edits is None:
            gr.Warning("Rows and columns of the review table are fixed: it was restored, with your corrections.")
            restored = original.with_edits(state.get("edits", {}))
            out = self._views(restored, state["stem"])
            out.update({self.out.tables[lang]: review_table(restored, lang) for lang in restored.translations})
            return out
        out = self._views(original.with_edits(edits), state["stem"])
        out[self.out.state] = {**state, "edits": edits}
        return out

    def _table_edits(self, original: ArticleResult, tables: Sequence[list[list[str]] | None]
                     ) -> dict[str, dict[int, str]] | None:
        """The translation column of each table by sentence index; None when a table lost its shape."""
        edits, sources = {}, original.sentences()
        for lang, rows in zip(self.out.tables, tables):
            if lang not in original.translations:
                continue
            if rows is None or len(rows) != len(sources) or any(
                    len(r) <= TEXT_COLUMN or str(r[SOURCE_COLUMN]) != s for r, s in zip(rows, sources)):
                return None
            edits[lang] = {i: "" if r[TEXT_COLUMN] is None else str(r[TEXT_COLUMN]) for i, r in enumerate(rows)}
        return edits

    def _views(self, result: ArticleResult, stem: str) -> dict:
        out: dict = {}
        for lang, pane in self.out.panes.items():
            out[pane] = pairs_markdown(result, lang) if lang in result.translations else \
                f"_Not translated: tick {_language(lang)} and translate again._"
        for button, path in zip(self.out.exports, self._write_exports(result, stem)):
            out[button] = gr.DownloadButton(value=str(path), interactive=True)
        out[self.out.edits] = edits_markdown(result)
        return out

    def _write_exports(self, result: ArticleResult, stem: str) -> list[Path]:
        from tarjama.export import to_docx

        self._prune_exports()
        folder = self.export_dir / uuid.uuid4().hex
        folder.mkdir()
        paths = [folder / f"{stem}.md", folder / f"{stem}.json", folder / f"{stem}.docx"]
        paths[0].write_text(result.to_markdown(), encoding="utf-8")
        paths[1].write_text(result.to_json() + "\n", encoding="utf-8")
        paths[2].write_bytes(to_docx(result))
        return paths

    def _prune_exports(self) -> None:
        cutoff = time.time() - EXPORT_MAX_AGE_S
        for folder in self.export_dir.iterdir():
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)

    def api_translate(self, text: str, targets: str = "en,es", summarize: bool = True) -> dict:
        """Translate one Arabic article; targets comma-separated. Returns the result as JSON (tarjama.article/3)."""
        langs = [t.strip() for t in targets.split(",") if t.strip()]
        return self._run(Document(text=text or ""), langs, summarize).to_dict()

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
            self._status()
            self._wire()
        demo.queue(default_concurrency_limit=LIGHT_CONCURRENCY)
        self.blocks = demo
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
        if EXAMPLE.is_file():
            gr.Examples([[EXAMPLE.read_text(encoding="utf-8")]], inputs=[self.article], label="Example article",
                        example_labels=["UN conference calls for migrant women's economic empowerment (news article)"])

    def _options(self) -> None:
        choices = [(_language(t), t) for t in self.targets]
        self.target_box = gr.CheckboxGroup(choices, value=list(self.targets), label="Translate to",
                                           elem_id="targets")  # every target of models.yaml, as the CLI
        self.summarize = gr.Checkbox(value=bool(self.pipeline.registry.summarization), label="Summaries",
                                     interactive=bool(self.pipeline.registry.summarization), elem_id="summarize")
        self.run_button = gr.Button("Translate", variant="primary", elem_id="run")
        gr.Markdown("Rows marked ⚠ (tinted) need a look: low confidence, a repetition loop, numbers missing or "
                    "changed, an unusual length, a lost quotation, a glossary term or Latin-script name (IOM, a URL) "
                    "the model missed, Arabic left untranslated, or a long sentence translated in pieces. The Flags "
                    "column (and the hover in the side-by-side view) says what.")
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
        out.state = gr.State(None)
        with gr.Row(visible=False) as out.summary_row:
            for lang in ["ar", *self.targets]:
                out.summaries[lang] = gr.Textbox(label=f"Summary — {_language(lang)}", lines=3, interactive=False,
                                                 rtl=lang == "ar", elem_id=f"summary-{lang}",
                                                 elem_classes="tj-rtl" if lang == "ar" else None)
        with gr.Tabs():
            for lang in self.targets:
                with gr.Tab(f"Arabic | {_language(lang)}", id=lang, elem_id=f"tab-{lang}"):
                    out.panes[lang] = gr.Markdown("_Translate an article to see it here._", elem_id=f"pane-{lang}",
                                                  latex_delimiters=[])
                    out.tables[lang] = gr.Dataframe(
                        headers=review_headers(lang), datatype="str", type="array", interactive=True,
                        static_columns=[0, 1, 2, SOURCE_COLUMN, 5, 6], wrap=True, max_height=520,
                        column_widths=["4%", "4%", "4%", "34%", "34%", "8%", "12%"],
                        label=f"Review — correct the {_language(lang)} column; exports follow",
                        elem_id=f"table-{lang}", elem_classes="tj-review")
        out.removed = gr.Markdown("", elem_id="removed")
        with gr.Row(equal_height=True):
            out.edits = gr.Markdown("Exports appear after a run.", elem_id="edits-status")
            out.exports = [gr.DownloadButton(f"⬇ {name}", interactive=False, elem_id=f"export-{ext}", size="md")
                           for name, ext in (("Markdown", "md"), ("JSON", "json"), ("DOCX", "docx"))]

    def _status(self) -> None:
        with gr.Accordion("Models and last run", open=True, elem_id="status"):
            gr.Markdown(self.report.summary() + (" — **DEMO models**" if self.report.demo else ""))
            gr.Dataframe(value=self.report.rows, headers=MODEL_HEADERS, datatype="str", interactive=False,
                         elem_id="models-table")
            self.out.timings = gr.Markdown("**Last run:** none yet", elem_id="timings")

    def _wire(self) -> None:
        out = self.out
        self.upload.upload(self.load_file, inputs=self.upload, outputs=[self.article, self.upload_state],
                           concurrency_id="read", concurrency_limit=LIGHT_CONCURRENCY, api_name="page_load_file",
                           api_visibility="private")
        run_outputs = [out.state, out.summary_row, *out.summaries.values(), *out.panes.values(),
                       *out.tables.values(), *out.exports, out.edits, out.timings, out.removed]
        # "models" is shared on purpose with the API endpoint below: both run the same models.
        self.glossary_file.upload(self.load_glossary, inputs=self.glossary_file, outputs=[self.glossary_rows],
                                  concurrency_id="read", concurrency_limit=LIGHT_CONCURRENCY,
                                  api_name="page_load_glossary", api_visibility="private")
        self.glossary_rows.change(self.download_glossary, inputs=self.glossary_rows,
                                  outputs=[self.glossary_download], concurrency_id="read",
                                  concurrency_limit=LIGHT_CONCURRENCY, trigger_mode="always_last",
                                  show_progress="hidden", api_name="page_glossary_csv", api_visibility="private")
        self.run_button.click(self.translate, inputs=[self.article, self.target_box, self.summarize,
                                                      self.upload_state, self.glossary_rows],
                              outputs=run_outputs, concurrency_id="models", concurrency_limit=MODEL_CONCURRENCY,
                              api_name="page_translate", api_visibility="private",
                              show_progress_on=list(out.panes.values()))
        edit_outputs = [out.state, *out.panes.values(), *out.tables.values(), *out.exports, out.edits]
        for lang, table in out.tables.items():
            table.input(self.apply_edits, inputs=[out.state, *out.tables.values()], outputs=edit_outputs,
                        concurrency_id="edits", concurrency_limit=LIGHT_CONCURRENCY, trigger_mode="always_last",
                        show_progress="hidden", api_name=f"page_edit_{lang}", api_visibility="private")
        gr.api(self.api_translate, api_name="translate", concurrency_id="models",
               concurrency_limit=MODEL_CONCURRENCY)


def create_app(pipeline: Pipeline, report: ModelReport | None = None) -> gr.Blocks:
    """The page over ``pipeline`` (models are loaded here, once, unless ``report`` says they were)."""
    return EditorApp(pipeline, report).build()


def launch(demo: gr.Blocks, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, block: bool = True) -> str:
    """Serve ``demo``; the upload limit is enforced by the browser and the server (HTTP 413) as well."""
    _, url, _ = demo.launch(server_name=host, server_port=port, max_file_size=MAX_UPLOAD_BYTES, ssr_mode=False,
                            prevent_thread_lock=not block, css=CSS, quiet=True, show_error=False)  # no share hint
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tarjama serve", description="Serve the editor's page.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}: "
                        "this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--models", metavar="PATH", help="models.yaml (default: $TARJAMA_MODELS or the shipped one)")
    return parser


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, models: str | None = None) -> int:
    """Load the models once, report them, serve until interrupted."""
    from tarjama.cli.options import quiet_libraries
    from tarjama.ports import port_problem

    quiet_libraries()
    problem = port_problem(host, port)
    if problem:
        print(f"tarjama: error: {problem}", file=sys.stderr)
        return 2
    try:
        pipeline = Pipeline.from_config(models)
    except ConfigError as err:
        print(f"tarjama: error: {err}", file=sys.stderr)
        return 2
    print(f"tarjama: loading the models of {pipeline.registry.path} ...", file=sys.stderr)
    report = load_models(pipeline)
    for row in report.rows:
        print("tarjama:   " + "  ".join(row), file=sys.stderr)
    print(f"tarjama: {report.summary()}" + (f" (DEMO: {DEMO_NOTICE})" if report.demo
                                            else ""), file=sys.stderr)
    if report.missing:
        print("tarjama: warning: " + missing_help(report.missing).replace("\n", "\ntarjama:   "), file=sys.stderr)
    print(f"tarjama: serving on http://{host}:{port}/ (Ctrl-C stops)", file=sys.stderr, flush=True)
    launch(create_app(pipeline, report), host, port, block=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return serve(args.host, args.port, args.models)


if __name__ == "__main__":
    raise SystemExit(main())
