"""Output-vocabulary restriction: which of a model's output pieces can ever be right for its output script.

An mT5 summary of an Arabic article is Arabic; opus-mt's English or Spanish output is Latin script.  Yet
both models score every piece of their vocabulary at every decoding step, for every beam: mT5's 250,112
(101 languages) and opus-mt's shared Arabic+Latin 62k.  Restricting the output layer to the pieces the
output script can use makes each step cheaper and cannot change an output that used only those pieces.

Two restrictions (models.yaml ``output_vocabulary:``), plus ``all`` to turn it off:

- ``arabic``: pieces made only of Arabic-script letters and marks, ASCII letters and digits (acronyms and
  numbers stay possible), other digits (Arabic-Indic), punctuation, symbols and spaces;
- ``latin``: every piece without an Arabic letter.

Standard library only: the engines apply the list (CTranslate2's vocabulary map, a logits mask in
Transformers); this module only decides it, from the model's own pieces.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from tarjama.translate.segment import is_arabic_script as is_arabic

OUTPUT_VOCABULARIES = ("arabic", "latin", "all")
SPACE = "\u2581"  # sentencepiece's word-start mark
_JOINERS = {"\u200c", "\u200d"}  # zero-width non-joiner / joiner: part of Arabic-script (Persian) spelling


class VocabularyError(ValueError):
    """A model's vocabulary cannot be restricted as asked (it lacks the pieces for the script)."""


def is_arabic_letter(ch: str) -> bool:
    return is_arabic(ch) and unicodedata.category(ch).startswith("L")


def _neutral(ch: str) -> bool:
    """Digits, punctuation, symbols and spaces: any script's text may use them."""
    return unicodedata.category(ch)[0] in "NPSZ" or ch.isspace()


def keeps(piece: str, vocabulary: str) -> bool:
    """Whether ``piece`` (a sentencepiece piece, ``▁`` for a word start) may be output under ``vocabulary``."""
    text = piece.replace(SPACE, "")
    if vocabulary == "all" or not text:
        return True
    if vocabulary == "latin":
        return not any(is_arabic_letter(ch) for ch in text)
    if vocabulary == "arabic":
        return all(is_arabic(ch) or (ch.isascii() and ch.isalnum()) or ch in _JOINERS or _neutral(ch)
                   for ch in text)
    raise ValueError(f"output vocabulary '{vocabulary}' is not one of {', '.join(OUTPUT_VOCABULARIES)}")


def _has_script_letter(piece: str, vocabulary: str) -> bool:
    if piece.startswith("<") and piece.endswith(">"):  # control pieces (<pad>, <s>) spell no word
        return False
    if vocabulary == "arabic":
        return any(is_arabic_letter(ch) for ch in piece)
    return any(ch.isalpha() and not is_arabic(ch) for ch in piece)


def restrict(pieces: Sequence[str], vocabulary: str, *, always: Iterable[str] = (),
             never: Iterable[str] = ()) -> list[str]:
    """The pieces of ``pieces`` (a model's output vocabulary, in id order) that ``vocabulary`` keeps.

    ``always`` (EOS, unk) are kept whatever they spell; ``never`` (T5's sentinel ``<extra_id_N>`` pieces,
    which only pre-training outputs) are dropped.  Raises VocabularyError when nothing of the script is
    left: a restriction that would let the model spell no word of its language is a configuration mistake,
    never something to run with.
    """
    always, never = set(always), set(never)
    kept = [p for p in pieces if p in always or (p not in never and " " not in p and keeps(p, vocabulary))]
    if vocabulary != "all" and not any(_has_script_letter(p, vocabulary) for p in kept if p not in always):
        raise VocabularyError(f"the model's {len(pieces):,} output pieces have none written in {vocabulary} "
                              f"script: this tokenizer cannot be restricted to '{vocabulary}' (set "
                              "output_vocabulary: all, or the script this model writes)")
    return kept


def first(pieces: Sequence[str], size: int, *, always: Iterable[str] = ()) -> list[str]:
    """Benchmarks only (``benchmark: {vocabulary: N}``): the first ``size`` pieces, plus ``always``.

    The benchmark models' generated vocabularies do not have a real tokenizer's script mix, so speed is
    measured as a function of the kept size instead."""
    kept = list(pieces[:size])
    return kept + [p for p in always if p not in set(kept)]


def vmap_text(pieces: Iterable[str]) -> str:
    """CTranslate2's ``vmap.txt`` for a fixed set: one rule with an empty source key (the line starts with
    a TAB), whose targets are candidates for every input.  One line only: a repeated key replaces the
    earlier one."""
    return "\t" + " ".join(pieces) + "\n"
