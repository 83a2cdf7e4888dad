"""Placeholders: spans of a model input replaced by tokens the model copies, and put back afterwards.

Neither CTranslate2 nor Marian has constrained decoding, so a glossary term or a protected token that a
normal decoding missed is enforced this way: the span is replaced by a placeholder, the sentence is
decoded again (n-best), and a hypothesis is accepted only when every placeholder appears in it exactly
once; the placeholder is then replaced by the term's translation (or the token itself).

The form ``ZQA``, ``ZQB``, …: three capital Latin letters.  An all-capital Latin run inside Arabic is an
acronym (IOM, FEMI, CNN), and the OPUS data the opus-mt models learned from carries those across
verbatim; no digits, so the numbers check and digit conversion never touch it; no punctuation or brackets
that Moses normalisation, sentencepiece or the model would split, move or drop; and "ZQ" begins no
English or Spanish word, so the model has nothing to translate or inflect.  Letters that look alike in
another script (I/O) are skipped.  A placeholder already in the text is never used.  (Chosen by reasoning,
not measured on the real checkpoints, which this project cannot download; ``glossary_missed`` /
``entity_missed`` are flagged whenever the placeholder does not come back.)  An attached Arabic clitic
stays in front of the placeholder as its own word, with the article dropped («وللمنظمة…» → «ول ZQA»):
the model still reads "and for …".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

PLACEHOLDERS = tuple(f"ZQ{c}" for c in "ABCDEFGHJKLMNPRSTUVWXY")


@dataclass(frozen=True)
class Replacement:
    """A span of the model input to mask: [start, end), the clitic written before it, what goes back in."""

    start: int
    end: int
    restore: str
    prefix: str = ""


def _clitic_word(prefix: str) -> str:
    """The clitic as a word of its own: the article it ends with dropped (ولل → ول, بال → ب)."""
    if prefix.endswith("لل"):
        return prefix[:-1]
    if prefix.endswith("ال"):
        return prefix[:-2]
    return prefix


def _token(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){name}(?![A-Za-z0-9])")


def mask(text: str, spans: Sequence[Replacement]) -> tuple[str, dict[str, str]]:
    """``text`` with each span replaced by its own placeholder, and placeholder → what to restore.

    Spans beyond the available placeholders stay as they are (and are missing from the mapping)."""
    free = [p for p in PLACEHOLDERS if not _token(p).search(text)]
    out, mapping, last = [], {}, 0
    for span, name in zip(sorted(spans, key=lambda s: s.start), free):
        start = span.start - len(span.prefix)
        clitic = _clitic_word(span.prefix)
        out += [text[last:start], f"{clitic} {name}" if clitic else name]
        mapping[name] = span.restore
        last = span.end
    out.append(text[last:])
    return "".join(out), mapping


def restore(translation: str, mapping: dict[str, str]) -> str | None:
    """``translation`` with every placeholder put back, or None unless each appears exactly once."""
    for name in mapping:
        if len(_token(name).findall(translation)) != 1:
            return None
    for name, value in mapping.items():
        translation = _token(name).sub(lambda _m, v=value: v, translation)
    return translation
