"""The metrics of ``tarjama eval`` (tarjama/evaluation/metrics.py): sacrebleu's scores through our wrapper,
ROUGE on hand-counted Arabic pairs, the tokenizer, lead-k baselines.  Pure functions: no files, no models."""

from __future__ import annotations

import math

import pytest

from tarjama.evaluation import metrics
from tarjama.evaluation.metrics import PRF, lead, rouge, tokenize

# -- sacrebleu --------------------------------------------------------------------------------------------


def test_identical_translations_score_100() -> None:
    lines = ["The cat sat on the mat.", "Lead researchers say this may bring early detection of cancer."]
    scores = metrics.mt_scores(lines, lines)
    assert {name: score for name, (score, _) in scores.items()} == pytest.approx(
        {"bleu": 100.0, "chrf": 100.0, "chrf++": 100.0})


def test_bleu_brevity_penalty_worked_by_hand() -> None:
    # Every 1- to 4-gram of the hypothesis is in the reference (precisions 100 %), but it is one word short:
    # BLEU = BP = exp(1 - ref_len / hyp_len) = exp(1 - 5/4) = 0.7788 -> 77.88.
    (bleu, signature), *_ = metrics.mt_scores(["we saw the old"], ["we saw the old town"]).values()
    assert bleu == pytest.approx(100 * math.exp(1 - 5 / 4))
    assert "nrefs:1" in signature and "tok:13a" in signature and "version:" in signature


@pytest.mark.parametrize("hyps,refs", [
    (["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."],
     ["The dog bit the man.", "It was not unexpected.", "The man bit him first."]),  # sacrebleu README's example
    (["", "a b c"], ["x y", "a b d"]),                                                 # an empty hypothesis
])
def test_scores_are_sacrebleus_own(hyps: list[str], refs: list[str]) -> None:
    import sacrebleu

    scores = metrics.mt_scores(hyps, refs)
    assert scores["bleu"][0] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert scores["chrf"][0] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    assert scores["chrf++"][0] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs], word_order=2).score)
    assert "nw:0" in scores["chrf"][1] and "nw:2" in scores["chrf++"][1]


def test_sacrebleu_reproduces_its_documented_example() -> None:
    # sacrebleu's README: BLEU = 48.53 82.4/50.0/45.5/37.5 ..., chrF2 = 59.73 on this two-reference example.
    # The version installed must give what it documents, or every signature-stamped score is suspect.
    from sacrebleu.metrics import BLEU, CHRF

    hyps = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
    refs = [["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
            ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."]]
    assert round(BLEU().corpus_score(hyps, refs).score, 2) == 48.53
    assert round(CHRF().corpus_score(hyps, refs).score, 2) == 59.73


@pytest.mark.parametrize("hyp,ref,expected", [
    ("Local media reports a fire.", "Local media reports a fire.", 100.0),
    ("xyz", "abc", 0.0),
    ("", "abc", 0.0),
])
def test_sentence_chrf(hyp: str, ref: str, expected: float) -> None:
    assert metrics.sentence_chrf(hyp, ref) == pytest.approx(expected)


def test_mismatched_lists_are_refused() -> None:
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        metrics.mt_scores(["a", "b"], ["a"])


# -- tokenizer --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,tokens", [
    ("ذهب الولد إلى المدرسة", ["ذهب", "الولد", "إلى", "المدرسة"]),
    ("قال: «نعم»، ثم ذهب.", ["قال", "نعم", "ثم", "ذهب"]),                # Arabic and Latin punctuation dropped
    ("كَتَبَ الطالبُ الدرسَ", ["كتب", "الطالب", "الدرس"]),                  # tashkeel removed
    ("كـــتب", ["كتب"]),                                                 # tatweel removed
    ("ﻻ", ["لا"]),                                                       # presentation form (NFKC)
    ("The UN-Habitat's Report", ["the", "un", "habitat", "s", "report"]),  # Latin lowercased, split at - and '
    ("قال Trump إن", ["قال", "trump", "إن"]),                            # mixed scripts
    ("عام 2024 و٢٠٢٤ بنسبة 5%", ["عام", "2024", "و٢٠٢٤", "بنسبة", "5"]),  # digits kept as written; % dropped
    ("Ελλάδα ΑΘΗΝΑ", ["ελλάδα", "αθηνα"]),                               # any script
    ("  ، . ! ؟ «» -- ", []),
    ("", []),
])
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


# -- ROUGE ------------------------------------------------------------------------------------------------


def _f(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


# Each case: hypothesis, reference, expected (P, R) of ROUGE-1, ROUGE-2, ROUGE-L, worked out in the comment.
ROUGE_CASES = [
    # hyp ذهب الولد إلى المدرسة (4 tokens), ref ذهب الولد إلى السوق اليوم (5 tokens).
    # R1: 3 shared words (ذهب الولد إلى) -> P 3/4, R 3/5.  R2: hyp has 3 bigrams, ref 4; shared
    # (ذهب الولد), (الولد إلى) -> P 2/3, R 2/4.  RL: LCS ذهب الولد إلى = 3 -> P 3/4, R 3/5.
    ("ذهب الولد إلى المدرسة", "ذهب الولد إلى السوق اليوم", [(3 / 4, 3 / 5), (2 / 3, 2 / 4), (3 / 4, 3 / 5)]),
    # Reversed order: the same 3 words (R1 = 1), no bigram in common, LCS 1 of 3.
    ("المدرسة إلى ذهب", "ذهب إلى المدرسة", [(1, 1), (0, 0), (1 / 3, 1 / 3)]),
    # Clipping: في three times in the hypothesis, once in the reference: overlap 1 -> P 1/3, R 1/2.
    # Bigrams: hyp (في في) x2, ref (في البيت): none shared.  LCS: في = 1.
    ("في في في", "في البيت", [(1 / 3, 1 / 2), (0, 0), (1 / 3, 1 / 2)]),
    # Diacritics, tatweel and punctuation do not change a word: identical after tokenizing.
    ("كَتَبَ الطالـــبُ: «الدرسَ».", "كتب الطالب الدرس", [(1, 1), (1, 1), (1, 1)]),
    # Case does not matter for Latin text.
    ("The Minister SAID", "the minister said", [(1, 1), (1, 1), (1, 1)]),
    # Letter variants are not folded (أ vs ا): only الوزير matches. R2 none, LCS 1.
    ("أعلن الوزير", "اعلن الوزير", [(1 / 2, 1 / 2), (0, 0), (1 / 2, 1 / 2)]),
    # Disjoint texts, and empty sides, score 0.
    ("مطر غزير", "شمس ساطعة", [(0, 0), (0, 0), (0, 0)]),
    ("", "شمس ساطعة", [(0, 0), (0, 0), (0, 0)]),
    ("مطر", "", [(0, 0), (0, 0), (0, 0)]),
]


@pytest.mark.parametrize("hyp,ref,expected", ROUGE_CASES)
def test_rouge_by_hand(hyp: str, ref: str, expected: list[tuple[float, float]]) -> None:
    scores = rouge(hyp, ref)
    for key, (p, r) in zip(metrics.ROUGE_KEYS, expected):
        assert scores[key] == PRF(pytest.approx(p), pytest.approx(r), pytest.approx(_f(p, r))), key


def test_first_case_f1_values() -> None:
    # The first case's F1 written out: R1 2*(3/4)(3/5)/(3/4+3/5) = 2/3; R2 2*(2/3)(1/2)/(2/3+1/2) = 4/7.
    scores = rouge("ذهب الولد إلى المدرسة", "ذهب الولد إلى السوق اليوم")
    assert scores["rouge1"].fmeasure == pytest.approx(2 / 3)
    assert scores["rouge2"].fmeasure == pytest.approx(4 / 7)
    assert scores["rougeL"].fmeasure == pytest.approx(2 / 3)


@pytest.mark.parametrize("text", [
    "أعلنت وسائل الإعلام المحلية عن انقلاب إحدى سيارات الإطفاء أثناء توجهها لإطفاء الحريق.",
    "شاشات السينما في السعودية تعرض أول فيلم بالبلاد منذ نحو أربعين عاما.",
    "Local media reports an airport fire vehicle rolled over while responding.",
])
def test_a_text_against_itself_scores_one(text: str) -> None:
    # rouge-score's default tokenizer gives 0.0 here for the Arabic texts: it deletes non-Latin letters.
    assert all(s == PRF(1.0, 1.0, 1.0) for s in rouge(text, text).values())


def test_several_references_take_the_best_per_metric() -> None:
    hyp = "ذهب الولد إلى المدرسة"
    refs = ["ذهب الولد إلى السوق اليوم", "المدرسة إلى ذهب الولد"]
    one, two = rouge(hyp, refs[0]), rouge(hyp, refs[1])
    best = rouge(hyp, refs)
    assert best["rouge1"] == two["rouge1"]  # all 4 words are in the second reference: 1.0
    assert best["rouge2"] == one["rouge2"]  # the first shares 2 bigrams, the second only ذهب الولد
    for key in metrics.ROUGE_KEYS:
        assert best[key].fmeasure == max(one[key].fmeasure, two[key].fmeasure)
    with pytest.raises(ValueError):
        rouge(hyp, [])


def test_mean_rouge_is_the_mean_over_documents() -> None:
    docs = [rouge("ذهب الولد", "ذهب الولد"), rouge("مطر", "شمس")]  # 1.0 and 0.0
    mean = metrics.mean_rouge(docs)
    assert all(mean[k] == PRF(0.5, 0.5, 0.5) for k in metrics.ROUGE_KEYS)


@pytest.mark.parametrize("a,b,length", [
    ("a b c d", "a c d", 3), ("a b", "c d", 0), ("", "a", 0), ("a b a b", "b a b a", 3), ("x", "x", 1),
])
def test_lcs_length(a: str, b: str, length: int) -> None:
    assert metrics.lcs_length(a.split(), b.split()) == length == metrics.lcs_length(b.split(), a.split())


# -- lead-k baselines -------------------------------------------------------------------------------------


ARTICLE = ("أعلنت الحكومة اليوم خطة جديدة للنقل. وقال الوزير إن الخطة تبدأ الشهر المقبل.\n"
           "وتشمل الخطة ثلاث مراحل؟ ويتوقع الخبراء نجاحها!")
SENTENCES = ["أعلنت الحكومة اليوم خطة جديدة للنقل.", "وقال الوزير إن الخطة تبدأ الشهر المقبل.",
             "وتشمل الخطة ثلاث مراحل؟", "ويتوقع الخبراء نجاحها!"]


@pytest.mark.parametrize("k,expected", [
    (1, SENTENCES[:1]),
    (3, SENTENCES[:3]),   # across the paragraph break
    (10, SENTENCES),      # a short article: all of it
])
def test_lead(k: int, expected: list[str]) -> None:
    assert lead(ARTICLE, k) == " ".join(expected)


def test_lead_uses_tarjamas_segmenter() -> None:
    from tarjama.translate.segment import segment

    assert lead(ARTICLE, 2) == " ".join(s.text for s in segment(ARTICLE).sentences()[:2])
