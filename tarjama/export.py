"""Write an ArticleResult as a Word document, for editors who deliver in .docx.

The JSON and Markdown forms live on ``ArticleResult`` itself; DOCX needs python-docx and RTL
markup, so it lives here, imported only when a DOCX is asked for.
"""

from __future__ import annotations

import io
import re

from tarjama.result import DEMO_NOTICE, LANGUAGE_NAMES, ArticleResult

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})
# Characters XML 1.0 cannot hold; python-docx raises on them, and pasted text can carry them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _set_rtl(paragraph) -> None:
    """Mark a paragraph and its runs right-to-left: Word then lays out Arabic correctly, right-aligned."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement

    paragraph._p.get_or_add_pPr().append(OxmlElement("w:bidi"))
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for run in paragraph.runs:
        run._r.get_or_add_rPr().append(OxmlElement("w:rtl"))


def _paragraph(doc, text: str, lang: str, label: str | None = None):
    para = doc.add_paragraph()
    if label:
        para.add_run(f"{label}: ").bold = True
    para.add_run(_clean(text))
    if lang in RTL_LANGUAGES:
        _set_rtl(para)
    return para


def _review_table(doc, result: ArticleResult) -> None:
    flagged = [(lang, s) for lang, tr in result.translations.items() for s in tr.sentences() if s.flags]
    if not flagged:
        return
    doc.add_heading("Sentences to review", level=1)
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, ("Language", "Flags", "Arabic", "Translation")):
        cell.text = name
    for lang, sent in flagged:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = lang, ", ".join(sent.flags)
        cells[2].text, cells[3].text = _clean(sent.source), _clean(sent.text)
        _set_rtl(cells[2].paragraphs[0])


def to_docx(result: ArticleResult) -> bytes:
    """The report of ``to_markdown`` as .docx: summaries, the Arabic source (RTL), each translation,
    the sentences to review (edited ones included), and the models used."""
    import docx

    doc = docx.Document()
    doc.core_properties.title = _clean(result.title or "Article")
    doc.add_heading(_clean(result.title or "Article"), level=0)
    if result.demo:
        doc.add_paragraph().add_run(f"DEMO: {DEMO_NOTICE}").bold = True
    if result.summaries:
        doc.add_heading("Summaries", level=1)
        for lang, text in result.summaries.items():
            _paragraph(doc, text, lang, LANGUAGE_NAMES.get(lang, lang))
    doc.add_heading("Arabic", level=1)
    for para in result.paragraphs:
        _paragraph(doc, " ".join(para), "ar")
    for lang, tr in result.translations.items():
        doc.add_heading(LANGUAGE_NAMES.get(lang, lang), level=1)
        for para in tr.paragraphs:
            _paragraph(doc, " ".join(s.text for s in para if s.text), lang)
    _review_table(doc, result)
    models = ", ".join(f"{m.key}: {m.model}@{m.revision} ({m.engine})" for m in result.models)
    doc.add_paragraph().add_run(f"Models: {models}").italic = True
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
