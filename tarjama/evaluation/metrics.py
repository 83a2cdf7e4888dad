"""The metrics of ``tarjama eval``: pure functions of strings, no files, no models.

Translation: sacrebleu's BLEU, chrF and chrF++ (corpus level, one reference per line), with their
signatures, and sentence-level chrF to find the worst lines.

Summaries: ROUGE-1, ROUGE-2 and ROUGE-L precision, recall and F1, written here (a few dozen lines) rather
than taken from the ``rouge-score`` package, whose default tokenizer keeps only ``[a-z0-9]`` and so deletes
every Arabic letter (two identical Arabic texts score 0).  The counting is rouge-score's: clipped n-gram
overlaps; ROUGE-L is the longest common subsequence of the two token lists as a whole (rouge-score's
``rougeL``, not the sentence-split ``rougeLsum``); P = overlap / hypothesis tokens, R = overlap / reference
tokens, F1 = 2PR / (P + R), and 0 when either side has no tokens.  Several references: per metric, the
reference giving the best F1 (rouge-score's ``score_multi``).

The tokenizer (``tokenize``) follows XL-Sum's multilingual ROUGE (csebuetnlp/xl-sum,
multilingual_rouge_scoring: lowercase, drop Unicode punctuation, split on whitespace) in a stricter form:
a token is a maximal run of letters, combining marks and digits of any script (Unicode categories L*, M*,
N*); everything else (whitespace, punctuation, symbols) separates tokens.  Before that the text is NFKC
normalized (Arabic presentation forms, full-width letters), lowercased (Latin and every other cased script),
and Arabic diacritics (tashkeel, Quranic marks) and tatweel are removed: they are optional in Arabic
spelling and appear unevenly in news, so ``كَتَبَ`` and ``كتب`` are one token.  No stemming, and no folding of
letter variants (أ/إ/آ/ا, ى/ي, ة/ه) or of Arabic-Indic digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tarjama.translate.segment import ARABIC_MARKS, segment

ROUGE_KEYS = ("rouge1", "rouge2", "rougeL")
ROUGE_NAMES = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L"}
TOKENIZER = ("NFKC, lowercase, Arabic diacritics and tatweel removed; tokens are runs of letters, marks and "
             "digits of any script (punctuation and symbols separate them); no stemming")

# Arabic marks dropped before tokenizing: Quranic annotation signs (U+0610-061A), the harakat and Quranic
# marks the segmenter also treats as marks (segment.ARABIC_MARKS), and tatweel (U+0640).
_ARABIC_MARKS = re.compile(f"[\u0610-\u061a{ARABIC_MARKS}\u0640]")


# -- translation (sacrebleu) ------------------------------------------------------------------------------


MT_METRICS = ("bleu", "chrf", "chrf++")
MT_NAMES = {"bleu": "BLEU", "chrf": "chrF", "chrf++": "chrF++"}


def mt_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, tuple[float, str]]:
    """Corpus BLEU, chrF and chrF++ (0-100) of line-aligned hypotheses, each with its sacrebleu signature."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    out = {}
    for name, metric in (("bleu", BLEU()), ("chrf", CHRF()), ("chrf++", CHRF(word_order=2))):
        out[name] = (metric.corpus_score(list(hypotheses), [list(references)]).score, str(metric.get_signature()))
    return out


def sentence_chrf(hypothesis: str, reference: str) -> float:
    """chrF (0-100) of one sentence against its reference."""
    from sacrebleu.metrics import CHRF

    return CHRF().sentence_score(hypothesis, [reference]).score


# -- summaries (ROUGE) ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    fmeasure: float


def tokenize(text: str) -> list[str]:
    """ROUGE's word tokens of ``text`` (see the module docstring)."""
    text = _ARABIC_MARKS.sub("", unicodedata.normalize("NFKC", text)).lower()
    tokens, current = [], []
    for ch in text:
        if unicodedata.category(ch)[0] in "LMN":
            current.append(ch)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return tokens


def prf(overlap: int, hypothesis_total: int, reference_total: int) -> PRF:
    precision = overlap / hypothesis_total if hypothesis_total else 0.0
    recall = overlap / reference_total if reference_total else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f)


def ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(hypothesis: Sequence[str], reference: Sequence[str], n: int) -> PRF:
    """ROUGE-N of two token lists: n-grams in common, each counted at most as often as in either side."""
    hyp, ref = ngrams(hypothesis, n), ngrams(reference, n)
    return prf(sum((hyp & ref).values()), sum(hyp.values()), sum(ref.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, one row at a time)."""
    if len(a) < len(b):
        a, b = b, a
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0  # row[j - 1] of the previous row
        for j, y in enumerate(b, 1):
            above = row[j]
            row[j] = diagonal + 1 if x == y else max(row[j - 1], above)
            diagonal = above
    return row[-1]


def rouge_l(hypothesis: Sequence[str], reference: Sequence[str]) -> PRF:
    return prf(lcs_length(hypothesis, reference), len(hypothesis), len(reference))


def rouge(hypothesis: str, references: str | Sequence[str]) -> dict[str, PRF]:
    """ROUGE-1, -2 and -L (0-1) of one summary against one reference or several (best F1 per metric)."""
    refs = [references] if isinstance(references, str) else list(references)
    if not refs:
        raise ValueError("no reference summary")
    hyp = tokenize(hypothesis)
    best: dict[str, PRF] = {}
    for ref in map(tokenize, refs):
        scores = {"rouge1": rouge_n(hyp, ref, 1), "rouge2": rouge_n(hyp, ref, 2), "rougeL": rouge_l(hyp, ref)}
        for key, score in scores.items():
            if key not in best or score.fmeasure > best[key].fmeasure:
                best[key] = score
    return best


def mean_rouge(scores: Sequence[dict[str, PRF]]) -> dict[str, PRF]:
    """Each metric's precision, recall and F1 averaged over documents (macro average)."""
    if not scores:
        raise ValueError("no documents")
    n = len(scores)
    return {key: PRF(sum(s[key].precision for s in scores) / n, sum(s[key].recall for s in scores) / n,
                     sum(s[key].fmeasure for s in scores) / n) for key in ROUGE_KEYS}


# -- baselines --------------------------------------------------------------------------------------------


def lead(text: str, k: int) -> str:
    """The first ``k`` sentences of an article, cut by tarjama's own segmenter (after its cleaning)."""
    return " ".join(s.text for s in segment(text).sentences()[:k])
