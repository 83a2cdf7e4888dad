"""Plain texts as the API receives them (LibreTranslate's ``q``), split into the sentences a Translator takes
and put back together around their translations, every line break and blank line where it was.

This is the API's cleaning-free path: nothing is removed (an article's page chrome is for
``Pipeline.prepare``; a ``q`` is what the client wants translated, all of it).  Each line is cut into
sentences by ``translate.segment.split_sentences``; what lies between them (spaces) and around a line is
kept as written.  A sentence with no Arabic letter (a URL, a figure, an English name on its own line) is
carried over verbatim: an Arabic-source model would only garble it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tarjama.translate.segment import has_arabic_letter, split_sentences

_LINE_BREAK = re.compile(r"(\r\n|\n|\r)")


@dataclass(frozen=True)
class Layout:
    """One text as pieces: ``pieces[i]`` is kept verbatim unless ``i`` is in ``slots``, the sentences."""

    pieces: tuple[str, ...]
    slots: tuple[int, ...]

    @property
    def sentences(self) -> list[str]:
        return [self.pieces[i] for i in self.slots]

    def rebuild(self, translations: Sequence[str]) -> str:
        """The text with its sentences replaced by ``translations`` (one per sentence, in order)."""
        pieces = list(self.pieces)
        for i, text in zip(self.slots, translations, strict=True):
            pieces[i] = text
        return "".join(pieces)


def layout(text: str) -> Layout:
    """Cut ``text`` into kept pieces and sentences to translate."""
    pieces: list[str] = []
    slots: list[int] = []
    for part in _LINE_BREAK.split(text):
        if not part or _LINE_BREAK.fullmatch(part):
            pieces.append(part)
            continue
        last = 0
        for start, end in split_sentences(part):
            pieces.append(part[last:start])
            if has_arabic_letter(part[start:end]):
                slots.append(len(pieces))
            pieces.append(part[start:end])
            last = end
        pieces.append(part[last:])
    return Layout(tuple(pieces), tuple(slots))


def translate_texts(texts: Sequence[str], translate: Callable[[list[str]], list[str]]) -> list[str]:
    """Every sentence of every text in one ``translate`` call (one batched model pass), texts rebuilt."""
    layouts = [layout(t) for t in texts]
    sentences = [s for lay in layouts for s in lay.sentences]
    translated = translate(sentences) if sentences else []
    if len(translated) != len(sentences):
        raise ValueError(f"the translator returned {len(translated)} translations for {len(sentences)} sentences")
    out, i = [], 0
    for lay in layouts:
        n = len(lay.slots)
        out.append(lay.rebuild(translated[i:i + n]))
        i += n
    return out
