"""The Translator on a real (tiny, generated) Marian engine: exactly-once, passthrough, splitting, guards."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from tarjama.translate.checks import check_numbers
from tarjama.translate.engine import GenerationOptions, Hypothesis, TransformersEngine
from tarjama.translate.flags import Flag
from tarjama.translate.translator import Translator, is_looping, passthrough, token_batches


class RecordingEngine(TransformersEngine):
    """The real engine, remembering every batch it was given (to check what reached the model)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls_log: list[tuple[list[str], GenerationOptions]] = []

    @property
    def batches(self) -> list[list[str]]:
        """First-pass batches (not the repetition guard's re-decoding)."""
        return [texts for texts, options in self.calls_log if options.no_repeat_ngram_size != 3]

    def generate(self, texts, options):
        self.calls_log.append((list(texts), options))
        return super().generate(texts, options)


@pytest.fixture(scope="module")
def engine(models_yaml: Path) -> RecordingEngine:
    return RecordingEngine(models_yaml.parent / "opus-mt-ar-en", device="cpu", threads=1)


@pytest.fixture
def translator(engine: RecordingEngine) -> Translator:
    engine.calls_log.clear()
    return Translator(engine, GenerationOptions(num_beams=1, max_new_tokens=8), max_sentence_tokens=40,
                      batch_tokens=200, max_batch_size=8)


ARTICLE = [
    "قال المتحدث إن الاجتماع سيعقد يوم الاثنين.",
    "وأضاف أن 3.5 مليون شخص تأثروا بالفيضانات في عام ٢٠٢٣.",
    "...",
    "2023",
    "؟",
    "قال المتحدث إن الاجتماع سيعقد يوم الاثنين.",  # a repeat: translated once, used twice
    "المنظمة الدولية للهجرة (IOM) تدعم E-Campus وCOVID-19.",
]


def test_one_translation_per_sentence_in_order(translator: Translator, engine: RecordingEngine) -> None:
    out = translator.translate(ARTICLE)
    assert [o.source for o in out] == ARTICLE
    sent = [t for batch in engine.batches for t in batch]
    # what the model reads: each worded sentence once, Arabic-Indic digits as ASCII (٢٠٢٣ → 2023)
    reads = [translator.model_input(s) for s in (ARTICLE[0], ARTICLE[1], ARTICLE[6])]
    assert Counter(sent) == Counter(dict.fromkeys(reads, 1))
    assert "2023" in reads[1] and "٢٠٢٣" in ARTICLE[1]
    assert out[0].text == out[5].text and out[0].score == out[5].score


@pytest.mark.parametrize("segment", ["", " ", "...", "2023", "؟", "٣٫٥", "(1)", "—", "،", "100%"])
def test_wordless_segments_never_reach_the_model(translator: Translator, engine: RecordingEngine,
                                                 segment: str) -> None:
    before = engine.calls
    [out] = translator.translate([segment])
    assert engine.calls == before
    assert out.flags == (Flag.PASSTHROUGH,) and out.score is None
    assert out.text == passthrough(segment)


@pytest.mark.parametrize(("source", "expected"), [
    ("٢٠٢٣", "2023"), ("٣٫٥", "3.5"), ("؟", "?"), ("١٠٠٪", "100%"), ("«١»", '"1"'), ("،", ","),
])
def test_passthrough_maps_digits_and_punctuation(source: str, expected: str) -> None:
    assert passthrough(source) == expected


def test_long_sentence_is_split_never_truncated(translator: Translator, engine: RecordingEngine) -> None:
    clause = "وقال المتحدث باسم الوزارة إن الاجتماع سيعقد يوم الاثنين المقبل في العاصمة"
    places = ["بغداد", "دمشق", "القاهرة", "الرباط", "تونس", "عمان", "بيروت", "الرياض", "الدوحة", "مسقط",
              "الكويت", "الجزائر"]
    long = "، ".join(f"{clause} {place}" for place in places) + "."  # distinct clauses: no dedup
    assert engine.count_tokens([long])[0] > 3 * translator.max_sentence_tokens
    [out] = translator.translate([long])
    assert Flag.SPLIT in out.flags
    sent = set(t for batch in engine.batches for t in batch)
    pieces = translator._pieces(long)
    assert len(pieces) >= 3 and sent == set(pieces)
    assert max(engine.count_tokens(pieces)) <= translator.max_sentence_tokens
    assert " ".join(pieces).split() == long.split()  # every word of the sentence, once, in order


def test_words_without_clause_marks_fall_back_to_token_windows(translator: Translator,
                                                               engine: RecordingEngine) -> None:
    long = " ".join(f"المنظمة الدولية للهجرة تدعم الحكومات {w}" for w in ("في", "من", "على", "إلى", "عن") * 6)
    [out] = translator.translate([long])
    pieces = translator._pieces(long)
    assert set(t for batch in engine.batches for t in batch) == set(pieces)
    assert Flag.SPLIT in out.flags and len(pieces) > 1
    assert max(engine.count_tokens(pieces)) <= translator.max_sentence_tokens
    assert " ".join(pieces).split() == long.split()


def test_batches_are_length_sorted_and_within_budget(translator: Translator, engine: RecordingEngine) -> None:
    sentences = [" ".join(["كلمة"] * n) + f" رقم {n}." for n in (9, 1, 5, 14, 3, 7, 2, 11, 4, 6)]
    translator.translate(sentences)
    lengths = [engine.count_tokens(b) for b in engine.batches]
    flat = [n for batch in lengths for n in batch]
    assert flat == sorted(flat)
    assert all(len(b) * max(b) <= translator.batch_tokens and len(b) <= 8 for b in lengths)


def test_paragraph_shape_is_kept(translator: Translator) -> None:
    paragraphs = [["قال الوزير.", "وأضاف."], ["2023"], ["انتهى الاجتماع.", "غادر الوفد.", "..."]]
    out = translator.translate_paragraphs(paragraphs)
    assert [[s.source for s in p] for p in out] == paragraphs


class StubMemory:
    """A dict-backed memory (the SQLite one has its own tests): proves the Translator consults it."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], Hypothesis] = {}

    def lookup(self, namespace, sources):
        return {s: self.data[(namespace, s)] for s in sources if (namespace, s) in self.data}

    def store(self, namespace, items):
        self.data.update({(namespace, s): h for s, h in items.items()})


def test_memory_hits_skip_the_model(engine: RecordingEngine) -> None:
    tr = Translator(engine, GenerationOptions(num_beams=1, max_new_tokens=8), memory=StubMemory())
    first = tr.translate(ARTICLE)
    calls = engine.calls
    second = tr.translate(ARTICLE)
    assert engine.calls == calls
    assert [s.text for s in first] == [s.text for s in second]
    assert all("memory" in s.flags for s in second if s.score is not None)


@pytest.mark.parametrize(("output", "source", "looping"), [
    ("cada vez cada vez cada vez cada vez", "", True),
    ("the the the the meeting", "", True),
    ("very very good", "", False),
    ("The minister said the meeting ended.", "قال الوزير إن الاجتماع انتهى.", False),
    ("a b c a b c a b c", "", True),
    ("ha ha ha ha", "ha ha ha ha", False),  # the source repeats it too
    (" ".join(f"w{i}" for i in range(60)), "قال الوزير.", True),  # far longer than its source
    ("", "", False),
    ("وقوقوقوقوقوقدد", "", True),
    ("ههههههههههههه", "ههههههههههههه", False),
    ("1000000 people......", "", False),
])
def test_repetition_loops(output: str, source: str, looping: bool) -> None:
    assert is_looping(output, source) is looping


def test_numbers_flag_when_digits_differ(translator: Translator) -> None:
    # The check itself is table-tested in test_checks.py; here: the Translator flags exactly what it finds.
    [out] = translator.translate(["تأثر ٣٫٥ مليون شخص في عام ٢٠٢٣ بالفيضانات."])
    finding = check_numbers(out.source, out.text)
    assert (Flag.NUMBERS in out.flags) == (finding is not None)
    assert out.details.get("numbers") == (finding.detail if finding else None)


@pytest.mark.parametrize(("counts", "budget", "size", "expected"), [
    ({"a": 1, "b": 2, "c": 3}, 100, 2, [["a", "b"], ["c"]]),
    ({"a": 5, "b": 5, "c": 5}, 10, 10, [["a", "b"], ["c"]]),
    ({"a": 50}, 10, 10, [["a"]]),  # one over-budget text still gets a batch of its own
    ({}, 10, 10, []),
])
def test_token_batches(counts: dict[str, int], budget: int, size: int, expected: list[list[str]]) -> None:
    assert list(token_batches(list(counts), counts, budget, size)) == expected


def test_repetition_guard_re_decodes_loops(engine: RecordingEngine) -> None:
    """Random tiny models loop ("بعض بعض بعض ..."): those outputs are re-decoded and flagged."""
    engine.calls_log.clear()
    tr = Translator(engine, GenerationOptions(num_beams=1, max_new_tokens=48))
    out = tr.translate(ARTICLE)
    first = dict(zip(engine.calls_log[0][0], engine.generate(engine.calls_log[0][0], tr.options)))
    looped = {src for src, hyp in first.items() if is_looping(hyp.text, src)}
    assert looped, "the tiny model was expected to loop at 48 tokens"
    retried = [texts for texts, options in engine.calls_log if options.no_repeat_ngram_size == 3]
    assert retried and set(retried[0]) == looped
    for o in out:
        assert (Flag.REPETITION in o.flags) == (tr.model_input(o.source) in looped)
