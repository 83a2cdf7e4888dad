"""Exports of an ArticleResult: a Word document, export file names, and every export in one zip.

The JSON and Markdown forms live on ``ArticleResult`` itself; DOCX needs python-docx and RTL
markup, so it lives here, imported only when an export is asked for.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping

from tarjama.result import DEMO_NOTICE, LANGUAGE_NAMES, RTL_LANGUAGES, SOURCE_LANG, ArticleResult
from tarjama.translate.flags import EXPLANATIONS, needs_review

__all__ = ["RTL_LANGUAGES", "export_files", "export_stem", "result_stem", "to_docx", "to_zip", "zip_files"]

# Characters XML 1.0 cannot hold; python-docx raises on them, and pasted text can carry them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXPLAIN = {flag.value: text for flag, text in EXPLANATIONS.items()}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SLUG_CHARS = 60
# Every zip entry (the export zip, and the parts inside the DOCX) carries this time: same result, same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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


def _flag_lines(sent) -> list[str]:
    """A review row's Flags cell: the codes, then each flag's detail (what it is about) where it has one."""
    return [", ".join(sent.flags), *(f"{f}: {sent.details[f]}" for f in sent.flags if sent.details.get(f))]


def _review_table(doc, result: ArticleResult) -> None:
    """The sentences still to review (``needs_review``: edited and reviewed ones are settled), then a key
    saying what each flag in the table asks the editor to check."""
    flagged = [(lang, s) for lang, tr in result.translations.items() for s in tr.sentences() if needs_review(s.flags)]
    if not flagged:
        return
    doc.add_heading("Sentences to review", level=1)
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, ("Language", "Flags", "Arabic", "Translation")):
        cell.text = name
    for lang, sent in flagged:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = lang, _clean("\n".join(_flag_lines(sent)))
        cells[2].text, cells[3].text = _clean(sent.source), _clean(sent.text)
        _set_rtl(cells[2].paragraphs[0])
    doc.add_heading("What the flags mean", level=2)
    for flag in dict.fromkeys(f for _, s in flagged for f in s.flags):
        _paragraph(doc, _EXPLAIN.get(flag, ""), "en", flag)


def to_docx(result: ArticleResult) -> bytes:
    """The report of ``to_markdown`` as .docx: the headline (translated, then Arabic), summaries, the Arabic
    source (RTL), each translation, the sentences still to review, and the models used. The same result
    gives the same bytes (fixed part timestamps), so exports can be compared and cached."""
    import docx

    doc = docx.Document()
    heading, lang = result.display_headline()
    doc.core_properties.title = _clean(heading)
    title = doc.add_heading(_clean(heading), level=0)
    if lang in RTL_LANGUAGES:
        _set_rtl(title)
    arabic = result.headline.get(SOURCE_LANG)
    if arabic and lang != SOURCE_LANG and arabic != heading:
        _paragraph(doc, arabic, SOURCE_LANG)
    if result.date:
        _paragraph(doc, result.date, "en", "Date")
    if result.demo:
        doc.add_paragraph().add_run(f"DEMO: {DEMO_NOTICE}").bold = True
    if result.summaries:
        doc.add_heading("Summaries", level=1)
        for code, text in result.summaries.items():
            _paragraph(doc, text, code, LANGUAGE_NAMES.get(code, code))
    doc.add_heading("Arabic", level=1)
    for para in result.paragraphs:
        _paragraph(doc, " ".join(para), SOURCE_LANG)
    for code, tr in result.translations.items():
        doc.add_heading(LANGUAGE_NAMES.get(code, code), level=1)
        for para in tr.paragraphs:
            _paragraph(doc, " ".join(s.text for s in para if s.text), code)
    _review_table(doc, result)
    models = ", ".join(f"{m.key}: {m.model}@{m.revision} ({m.engine})" for m in result.models)
    doc.add_paragraph().add_run(f"Models: {models}").italic = True
    _fix_core_times(doc)
    out = io.BytesIO()
    doc.save(out)
    return _fixed_zip_times(out.getvalue())


def _fix_core_times(doc) -> None:
    """python-docx stamps a new document's properties with the current time; the article's export
    should not depend on when it was made."""
    import datetime

    fixed = datetime.datetime(*ZIP_TIME)
    props = doc.core_properties
    props.created = props.modified = fixed
    props.revision = 1


def _fixed_zip_times(data: bytes) -> bytes:
    """The same zip, every entry (in its order: OOXML wants [Content_Types].xml first) stamped ZIP_TIME."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(_entry(info.filename), src.read(info))
    return out.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


# -- file names and bundles ---------------------------------------------------------------------------------


def _slug(text: str | None) -> str:
    """Lowercase ASCII words joined by "-", at most SLUG_CHARS, cut at a word boundary."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    if len(slug) <= SLUG_CHARS:
        return slug
    head = slug[: SLUG_CHARS + 1]  # one more: a "-" just after the limit means the limit ends a word
    return head.rsplit("-", 1)[0] if "-" in head else head[:SLUG_CHARS]


def export_stem(headline: str | None, date: str | None, fallback: str = "article") -> str:
    """The file name (without suffix) an article's exports share: ``{date}-{slug}``, e.g.
    ``2018-05-16-un-conference-calls-for-economic-empowerment``, so a folder of exports sorts by date and
    says what each is. The slug comes from a Latin-script (translated) headline; without a date it stands
    alone (a date that is not YYYY-MM-DD is ignored); without a usable slug ``fallback`` takes its place."""
    slug = _slug(headline) or _slug(fallback) or "article"
    day = (date or "")[:10]
    return f"{day}-{slug}" if _ISO_DATE.fullmatch(day) else slug


def result_stem(result: ArticleResult, fallback: str = "article", date: str | None = None) -> str:
    """``export_stem`` for a result: its first translated headline that gives a slug, and its date (else
    ``date``: the page names an undated article by the day it was translated)."""
    latin = next((result.headline[lang] for lang in result.translations
                  if _slug(result.headline.get(lang))), None)
    return export_stem(latin, result.date or date, fallback)


def export_files(result: ArticleResult, stem: str) -> dict[str, bytes]:
    """Every export of one article by file name: ``{stem}.md`` (the report), ``.json``, ``.docx``,
    ``{stem}.ar.md`` (the Arabic article) and ``{stem}.{lang}.md`` for each translation."""
    files = {f"{stem}.md": result.to_markdown().encode("utf-8"),
             f"{stem}.json": (result.to_json() + "\n").encode("utf-8"),
             f"{stem}.docx": to_docx(result)}
    for lang in (SOURCE_LANG, *result.translations):
        files[f"{stem}.{lang}.md"] = result.language_markdown(lang).encode("utf-8")
    return files


def to_zip(result: ArticleResult, stem: str) -> bytes:
    """``export_files`` in one zip: names sorted, timestamps fixed, deflated; the same result and stem give
    the same bytes."""
    return zip_files(export_files(result, stem))


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """Files already made (``export_files``) in one zip, so a caller that has them builds none twice."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(_entry(name), data)
    return out.getvalue()
