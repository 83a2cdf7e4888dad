"""Protected tokens: the Latin-script runs of an Arabic text that a translation must carry verbatim.

News Arabic embeds acronyms (IOM, FEMI), names written in Latin (E-Campus, Pro-Tempore), COVID-19, URLs,
e-mail addresses, @handles and #hashtags.  None of them is translated by a faithful translator; MT models
sometimes drop, translate or respell them.  ``protected_spans`` finds them (URLs and addresses first,
then handles and hashtags, then runs of Latin words), ``carried`` checks a translation for one.
Arabic hashtags (#مصر) are words to translate and are not protected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LATIN = "A-Za-z\u00c0-\u024f"
_TRAILING = ".,;:!?،؛؟)]}»\"'”’"
_PATTERNS = (
    re.compile(r"(?:https?://|www\.)[^\s<>«»\"“”]+", re.IGNORECASE),     # URLs
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),  # e-mail addresses
    re.compile(r"(?<![A-Za-z0-9_@])@[A-Za-z0-9_]{1,30}"),                         # @handles
    re.compile(r"(?<![A-Za-z0-9_#])#[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]*"),         # Latin #hashtags
    # Runs of Latin words (with inner digits, hyphens, dots, apostrophes, ampersands: COVID-19, U.S., AT&T),
    # joined by single spaces: "Pro-Tempore", "E-Campus", "Roger Stone".
    # A clitic may be glued on in front (لـCNN, بIOM): only Latin letters and digits bound a run.
    re.compile(rf"(?<![{_LATIN}0-9])[{_LATIN}][{_LATIN}0-9]*(?:[-.'&][{_LATIN}0-9]+)*\.?"
               rf"(?: [{_LATIN}][{_LATIN}0-9]*(?:[-.'&][{_LATIN}0-9]+)*\.?)*(?![{_LATIN}0-9])"),
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def protected_spans(text: str) -> list[Span]:
    """Latin-script tokens of ``text`` to carry verbatim, left to right, never overlapping."""
    taken: list[Span] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            while end > start and text[end - 1] in _TRAILING:  # sentence punctuation after a URL or a name
                end -= 1
            if end - start < 2 or any(s.start < end and start < s.end for s in taken):
                continue
            taken.append(Span(start, end, text[start:end]))
    return sorted(taken, key=lambda s: s.start)


def carried(token: str, translation: str) -> bool:
    """Is ``token`` in ``translation`` verbatim, not inside a longer Latin word ("IOM" in "IOM's", not in "IOMX")?"""
    edge = f"[{_LATIN}0-9]"
    return re.search(rf"(?<!{edge}){re.escape(token)}(?!{edge})", translation) is not None
