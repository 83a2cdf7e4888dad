"""Read articles from every input format tarjama accepts, and refuse bad input clearly.

One article per file for .txt .md .html .htm .docx (``read_document``); one article per record
for .jsonl and .csv (``iter_records``, streaming, one bad record never stops the others). Records are
numbered as records, not lines: a JSONL record per non-blank line, a CSV row however many lines its
quoted fields span (the header being row 1, as a spreadsheet shows it).
Every refusal is an ``InputError`` whose message names the source (stdin as "standard input") and says
what to do, and whose ``hint`` says what to do in one sentence.

The modules, by job:
  types     Document, InputError, REASONS, HINTS; how messages name a source
  checks    validate_text, arabic_ratio, MAX_CHARS, MIN_ARABIC
  decoding  decode_bytes: bytes to text, binary content refused by name
  files     input_kind, DOCUMENT_SUFFIXES, RECORD_SUFFIXES, MAX_FILE_BYTES; whole-file refusals
  readers   read_document, text_document, html_to_document, docx_to_document (trafilatura, python-docx
            imported on use); decode_html, open_docx (the same decoding and refusals, for whole-file
            translation)
  dates     parse_date: an article's date line (ISO, day-first, Arabic month names) to YYYY-MM-DD
  page_meta what an HTML page says besides its text: its date, the byline/date line/navigation dropped
  records   iter_records, count_records, sample_records, RecordSample, json_lines_problem
"""

from tarjama.documents.checks import MAX_CHARS, MIN_ARABIC, arabic_ratio, validate_text
from tarjama.documents.dates import parse_date
from tarjama.documents.decoding import decode_bytes
from tarjama.documents.files import DOCUMENT_SUFFIXES, MAX_FILE_BYTES, RECORD_SUFFIXES, input_kind
from tarjama.documents.page_meta import DROPPED_KINDS
from tarjama.documents.readers import (
    decode_html,
    docx_to_document,
    html_to_document,
    open_docx,
    read_document,
    text_document,
)
from tarjama.documents.records import RecordSample, count_records, iter_records, json_lines_problem, sample_records
from tarjama.documents.types import HINTS, REASONS, STDIN_NAME, TEXT_SOURCE, Document, InputError, source_name

__all__ = [
    "DOCUMENT_SUFFIXES",
    "DROPPED_KINDS",
    "HINTS",
    "MAX_CHARS",
    "MAX_FILE_BYTES",
    "MIN_ARABIC",
    "REASONS",
    "RECORD_SUFFIXES",
    "STDIN_NAME",
    "TEXT_SOURCE",
    "Document",
    "InputError",
    "RecordSample",
    "arabic_ratio",
    "count_records",
    "decode_bytes",
    "decode_html",
    "docx_to_document",
    "html_to_document",
    "input_kind",
    "iter_records",
    "json_lines_problem",
    "open_docx",
    "parse_date",
    "read_document",
    "sample_records",
    "source_name",
    "text_document",
    "validate_text",
]
