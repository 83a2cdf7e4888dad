"""Sentence translation for whole articles: every sentence translated exactly once, in order.

The Translator takes sentences (or paragraphs of sentences), passes through what has no words,
splits what is too long for the model, looks pieces up in an optional translation memory,
sends the rest to the engine in length-sorted batches under a token budget, guards against
the models' known failure modes, enforces glossary terms and protected Latin-script tokens
(placeholder re-decoding, else a flag), runs the faithfulness checks, and reassembles one
translation per source sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tarjama.translate.checks import ARABIC_DIGITS, ARABIC_SEPARATORS, run_checks
from tarjama.translate.engine import SCORE_DIGITS, Engine, GenerationOptions, Hypothesis
from tarjama.translate.flags import Flag
from tarjama.translate.glossary import TargetGlossary, contains
from tarjama.translate.memory import namespace
from tarjama.translate.placeholders import Replacement, mask, restore
from tarjama.translate.protected import carried, protected_spans
from tarjama.translate.segment import arabic_share, segment, split_clauses

Progress = Callable[[int, int], None]  # (units done, units total)

# With ASCII digits, the Arabic decimal and thousands separators become "." and "," too: "3٫5" is 3.5.
_SEPARATORS = str.maketrans(ARABIC_SEPARATORS)
_PUNCT = str.maketrans({"،": ",", "؛": ";", "؟": "?", "٪": "%", **ARABIC_SEPARATORS, "«": '"', "»": '"'})
_CHAR_LOOP = re.compile(r"([^\W\d_]{1,6}?)\1{5,}")  # a run of letters repeated 6+ times: "وقوقوقوقوقوق"


# How a glossary term or protected token reached the translation.
KEPT, PLACEHOLDER, MISSED = "kept", "placeholder", "missed"
N_BEST = 4  # hypotheses of a placeholder re-decoding tried before a term is given up (beams raised to match)
ALTERNATIVES = 3  # translations of one sentence an editor is offered to pick from (the page's re-translate)
ALTERNATIVE = "\u241f"  # ␟ joins a masked text and a hypothesis rank in memory keys


@dataclass(frozen=True)
class Enforced:
    """A glossary term or protected token of a sentence, and how its translation came to hold it (or not):
    ``kept`` (the normal decoding had it), ``placeholder`` (restored from a placeholder re-decoding), ``missed``."""

    kind: str     # "term" (a glossary rule) | "token" (a protected Latin-script token)
    source: str   # the glossary's Arabic term, or the token
    target: str   # what the translation must hold: the term's translation, or the token itself
    how: str


@dataclass(frozen=True)
class SentenceTranslation:
    """One source sentence and its translation."""

    source: str
    text: str
    score: float | None          # mean token log-probability; None when the model was not called
    flags: tuple[str, ...] = ()
    details: Mapping[str, str] = field(default_factory=dict)  # flag → what an editor should look at
    enforced: tuple[Enforced, ...] = ()


class Memory(Protocol):
    """A translation memory: hypotheses by source text within a namespace (model + settings)."""

    def lookup(self, namespace: str, sources: Sequence[str]) -> dict[str, Hypothesis]: ...

    def store(self, namespace: str, items: Mapping[str, Hypothesis]) -> None: ...


@dataclass
class _Unit:
    """A piece of one sentence sent to the model (a whole sentence unless it was split)."""

    sentence: int
    text: str
    hyp: Hypothesis | None = None
    flags: set[str] = field(default_factory=set)
    enforced: list[Enforced] = field(default_factory=list)


# Defaults of models.yaml's batching settings (the registry reads them from here): padded tokens per model
# call and rows per call.  On 2 CPU cores larger batches were slower (BENCHMARKS.md, batch throughput).
BATCH_TOKENS = 4096
MAX_BATCH_SIZE = 64


class Translator:
    """Translate sentences with one engine; stands alone (``Translator(engine).translate([...])``)."""

    def __init__(self, engine: Engine, options: GenerationOptions | None = None, *,
                 max_sentence_tokens: int = 200, batch_tokens: int = BATCH_TOKENS, max_batch_size: int = MAX_BATCH_SIZE,
                 low_confidence: float = -1.0, memory: Memory | None = None, ascii_digits: bool = True,
                 repetition_guard: bool = True, target: str = "", glossary: TargetGlossary | None = None,
                 protect: bool = True, enforce: bool = True) -> None:
        self.engine = engine
        # The target language (checks read it: Spanish decimal commas, the pair's length bounds); its glossary
        # rules; whether Latin-script tokens of the source must come through verbatim.
        self.target = target
        self.glossary = glossary
        self.protect = protect
        # Re-decode with placeholders what the normal decoding missed (else only flag it).  models.yaml's
        # ``enforce: false`` is for benchmarks: random weights miss every term and token, real models rarely,
        # so it would add n-best decodings to a benchmark for no product reason.
        self.enforce = enforce
        # Re-decode looping outputs with no_repeat_ngram_size=3 (flag "repetition").  models.yaml's
        # ``repetition_guard: false`` is for benchmarks: random-weight models loop on nearly every sentence,
        # real ones rarely, so the guard would double a benchmark's work for no product reason.
        self.repetition_guard = repetition_guard
        # Arabic-Indic digits (٠-٩, ۰-۹) become ASCII digits in what the model reads, for Latin-script targets:
        # the models then never see digit pieces their vocabulary may lack; the result's source stays as written.
        self.ascii_digits = ascii_digits
        self.options = options or GenerationOptions()
        self.max_sentence_tokens = min(max_sentence_tokens, engine.max_input_tokens)
        self.batch_tokens = batch_tokens
        self.max_batch_size = max_batch_size
        self.low_confidence = low_confidence
        self.memory = memory

    @property
    def namespace(self) -> str:
        """What a memory entry depends on besides the source text."""
        return namespace(self.engine, self.options)

    def translate_text(self, text: str, progress: Progress | None = None) -> list[list[SentenceTranslation]]:
        """Clean and segment ``text``, then translate it paragraph by paragraph."""
        seg = segment(text)
        return self.translate_paragraphs([[s.text for s in p.sentences] for p in seg.paragraphs], progress)

    def translate_paragraphs(self, paragraphs: Sequence[Sequence[str]],
                             progress: Progress | None = None) -> list[list[SentenceTranslation]]:
        """Translate all sentences of all paragraphs in one batched pass; keep the paragraph shape."""
        flat = self.translate([s for p in paragraphs for s in p], progress)
        out, i = [], 0
        for p in paragraphs:
            out.append(flat[i : i + len(p)])
            i += len(p)
        return out

    def translate(self, sentences: Sequence[str], progress: Progress | None = None) -> list[SentenceTranslation]:
        """One SentenceTranslation per input sentence, in order."""
        units: list[_Unit] = []
        worded = [(i, self.model_input(s)) for i, s in enumerate(sentences) if has_words(s)]
        counts = self.engine.count_tokens([s for _, s in worded])
        for (i, sentence), n in zip(worded, counts):
            pieces = [sentence] if n <= self.max_sentence_tokens else self._pieces(sentence)
            units += [_Unit(i, p, flags={Flag.SPLIT} if len(pieces) > 1 else set()) for p in pieces]
        self._fill(units, progress)
        by_sentence: dict[int, list[_Unit]] = {}
        for u in units:
            by_sentence.setdefault(u.sentence, []).append(u)
        return [self._assemble(s, by_sentence.get(i, [])) for i, s in enumerate(sentences)]

    def alternatives(self, sentence: str, n: int = ALTERNATIVES) -> list[SentenceTranslation]:
        """Up to ``n`` distinct translations of one sentence, best first, each with its own score, checks and
        glossary/token findings: what an editor picks from after correcting the Arabic or to see other wordings.

        Always fresh from the engine (one n-best decoding per piece, the k-th hypotheses of a split sentence's
        pieces joined); never from or into the memory, which holds the article's first decodings.
        """
        if not has_words(sentence):
            return [self._assemble(sentence, [])]
        text = self.model_input(sentence)
        [count] = self.engine.count_tokens([text])
        pieces = [text] if count <= self.max_sentence_tokens else self._pieces(text)
        per_piece = self.engine.generate_alternatives(pieces, self.options, n)
        unknown = self.engine.unknown(pieces)
        out: dict[str, SentenceTranslation] = {}
        for k in range(min(len(alts) for alts in per_piece)):
            units = [self._alternative_unit(piece, alts[k], unk, len(pieces) > 1)
                     for piece, alts, unk in zip(pieces, per_piece, unknown)]
            translation = self._assemble(sentence, units)
            out.setdefault(translation.text, translation)
        return list(out.values())[:n]

    def _alternative_unit(self, piece: str, hyp: Hypothesis, unknown: bool, split: bool) -> _Unit:
        """A piece with one given hypothesis, flagged as ``_fill`` would flag it (no re-decoding)."""
        unit = _Unit(0, piece, hyp, {Flag.SPLIT} if split else set())
        unit.enforced = [replace_how(e, KEPT if _holds(e, hyp.text) else MISSED) for e, _ in self.requirements(piece)]
        unit.flags |= {Flag.REPETITION} if is_looping(hyp.text, piece) else set()
        unit.flags |= {Flag.UNKNOWN} if unknown or self.engine.unk_token_id in hyp.token_ids else set()
        return unit

    def model_input(self, sentence: str) -> str:
        """What the model reads for ``sentence``."""
        return sentence.translate(ARABIC_DIGITS).translate(_SEPARATORS) if self.ascii_digits else sentence

    # -- pieces -------------------------------------------------------------------------------------

    def _pieces(self, sentence: str) -> list[str]:
        """Clause-sized pieces of an over-long sentence, or token windows: never truncated."""
        limit = self.max_sentence_tokens
        clauses = split_clauses(sentence)
        counts = self.engine.count_tokens(clauses)
        pieces: list[str] = []
        current, used = "", 0
        for clause, n in zip(clauses, counts):
            if n > limit:
                if current:
                    pieces.append(current)
                    current, used = "", 0
                pieces += self.engine.token_windows(clause, limit)
            elif current and used + n > limit:
                pieces.append(current)
                current, used = clause, n
            else:
                current, used = (f"{current} {clause}" if current else clause), used + n
        if current:
            pieces.append(current)
        return pieces

    # -- model calls --------------------------------------------------------------------------------

    def _fill(self, units: list[_Unit], progress: Progress | None) -> None:
        """Give every unit a hypothesis: memory first, then the engine on each distinct text once.

        The memory keeps the first decoding (loops included) under the model's settings and the
        guarded re-decoding under the guard's settings, so a second run replays the same steps —
        same text, same flags — without calling the model.
        """
        texts = list(dict.fromkeys(u.text for u in units))
        hyps, remembered = self._remembered(texts, self.options, progress)
        looping = [t for t in texts if self.repetition_guard and is_looping(hyps[t].text, t)]
        if looping:
            guarded, guarded_remembered = self._remembered(looping, self.options.replace(no_repeat_ngram_size=3))
            hyps.update(guarded)
            remembered -= set(looping) - guarded_remembered
        enforced = self._enforce(texts, hyps, set(looping))
        unknown = {t for t, unk in zip(texts, self.engine.unknown(texts)) if unk}
        unk_id = self.engine.unk_token_id
        for u in units:
            u.hyp = hyps[u.text]
            u.enforced = enforced.get(u.text, [])
            redecoded = any(e.how == PLACEHOLDER for e in u.enforced)
            u.flags |= {Flag.MEMORY} if u.text in remembered and not redecoded else set()
            u.flags |= {Flag.REPETITION} if u.text in looping else set()
            u.flags |= {Flag.UNKNOWN} if u.text in unknown or unk_id in u.hyp.token_ids else set()

    # -- glossary terms and protected tokens --------------------------------------------------------

    def requirements(self, text: str) -> list[tuple[Enforced, Replacement]]:
        """What a translation of ``text`` (a model input) must hold: its glossary terms, then the protected
        tokens outside them, each with the span a placeholder would replace."""
        out = []
        matches = self.glossary.find(text) if self.glossary is not None else []
        for m in matches:
            out.append((Enforced("term", m.term, m.target, MISSED), Replacement(m.start, m.end, m.target, m.prefix)))
        if self.protect:
            for s in protected_spans(text):
                if not any(m.word_start < s.end and s.start < m.end for m in matches):
                    out.append((Enforced("token", s.text, s.text, MISSED), Replacement(s.start, s.end, s.text)))
        return out

    def _enforce(self, texts: list[str], hyps: dict[str, Hypothesis], looping: set[str]) -> dict[str, list[Enforced]]:
        """Hold every text's terms and tokens: kept when the normal decoding has them; else one n-best decoding
        of the text with the missing ones as placeholders (``hyps`` updated when a hypothesis brings each back
        exactly once and keeps the rest); else missed."""
        found: dict[str, list[Enforced]] = {}
        todo: dict[str, tuple[str, dict[str, str], list[int]]] = {}  # text → (masked, mapping, missing items)
        for text in texts:
            items = self.requirements(text)
            if not items:
                continue
            held = [_holds(e, hyps[text].text) for e, _ in items]
            found[text] = [replace_how(e, KEPT if ok else MISSED) for (e, _), ok in zip(items, held)]
            missing = [i for i, ok in enumerate(held) if not ok]
            if missing and self.enforce:
                masked, mapping = mask(text, [items[i][1] for i in missing])
                todo[text] = (masked, mapping, missing)
        for options in (self.options, self.options.replace(no_repeat_ngram_size=3)):
            group = [t for t in todo if (t in looping) == (options is not self.options)]
            for text, alternatives in zip(group, self._alternatives([todo[t][0] for t in group], options)):
                masked, mapping, missing = todo[text]
                chosen = _first_restored(alternatives, mapping, [e for e in found[text] if e.how == KEPT])
                if chosen is None:
                    continue
                hyps[text] = chosen
                restored = set(mapping.values())
                found[text] = [replace_how(e, PLACEHOLDER) if i in missing and e.target in restored else e
                               for i, e in enumerate(found[text])]
        return found

    def _alternatives(self, texts: list[str], options: GenerationOptions) -> list[list[Hypothesis]]:
        """``N_BEST`` hypotheses per text, best first, in ``texts``' order: from the memory when it holds all of
        them (entry k of text t under ``t`` + ``ALTERNATIVE`` + k, in the settings' own namespace), else from
        the engine in token batches (then stored), so a second run replays enforcement without the model."""
        asked, texts = texts, list(dict.fromkeys(texts))
        if not texts:
            return []
        ns = f"{namespace(self.engine, options)}|alternatives={N_BEST}"
        keys = {t: [f"{t}{ALTERNATIVE}{k}" for k in range(N_BEST)] for t in texts}
        found = self.memory.lookup(ns, [k for t in texts for k in keys[t]]) if self.memory is not None else {}
        out = {t: [found[k] for k in keys[t]] for t in texts if all(k in found for k in keys[t])}
        todo = [t for t in texts if t not in out]
        counts = dict(zip(todo, self.engine.count_tokens(todo))) if todo else {}
        rows = max(1, self.max_batch_size // N_BEST)
        for batch in token_batches(todo, counts, max(1, self.batch_tokens // N_BEST), rows):
            fresh = dict(zip(batch, self.engine.generate_alternatives(batch, options, N_BEST)))
            out.update(fresh)
            if self.memory is not None:
                self.memory.store(ns, {keys[t][k]: h for t, hyps in fresh.items() for k, h in enumerate(hyps)})
        return [out[t] for t in asked]

    def _remembered(self, texts: list[str], options: GenerationOptions,
                    progress: Progress | None = None) -> tuple[dict[str, Hypothesis], set[str]]:
        """Hypotheses for ``texts`` under ``options`` (memory, then the engine), and which came from memory."""
        return generate_remembered(self.engine, options, texts, memory=self.memory, batch_tokens=self.batch_tokens,
                                   max_batch_size=self.max_batch_size, progress=progress)

    # -- reassembly ---------------------------------------------------------------------------------

    def _assemble(self, source: str, units: list[_Unit]) -> SentenceTranslation:
        if not units:
            return SentenceTranslation(source, passthrough(source), None, (Flag.PASSTHROUGH,))
        text = " ".join(u.hyp.text for u in units if u.hyp and u.hyp.text)
        tokens = sum(u.hyp.num_tokens for u in units if u.hyp)
        score = sum(u.hyp.score * u.hyp.num_tokens for u in units if u.hyp) / max(tokens, 1)
        flags = set().union(*(u.flags for u in units)) - {Flag.MEMORY}
        if all(Flag.MEMORY in u.flags for u in units):
            flags.add(Flag.MEMORY)
        details = {}
        for finding in run_checks(source, text, self.target):
            flags.add(finding.flag)
            details[finding.flag.value] = finding.detail
        if arabic_share(text) > 0.5:
            flags.add(Flag.UNTRANSLATED)
        if score < self.low_confidence:
            flags.add(Flag.LOW_CONFIDENCE)
        enforced = tuple(e for u in units for e in u.enforced)
        for flag, kind in ((Flag.GLOSSARY_MISSED, "term"), (Flag.ENTITY_MISSED, "token")):
            missed = [e for e in enforced if e.kind == kind and e.how == MISSED]
            if missed:
                flags.add(flag)
                details[flag.value] = "; ".join(
                    f"«{e.source}» should be “{e.target}”" if kind == "term" else e.target for e in missed)
        return SentenceTranslation(source, text, round(score, SCORE_DIGITS), tuple(sorted(flags)), details, enforced)


def generate_remembered(engine: Engine, options: GenerationOptions, texts: Sequence[str], *,
                        memory: Memory | None, batch_tokens: int, max_batch_size: int,
                        progress: Progress | None = None) -> tuple[dict[str, Hypothesis], set[str]]:
    """Each distinct text's hypothesis: from ``memory`` when it has one, else from the engine in
    length-sorted batches under ``batch_tokens`` (then stored); also which texts the memory answered.

    The one path from texts to model calls, shared by the Translator and the Summarizer.
    """
    texts = list(dict.fromkeys(texts))
    ns = namespace(engine, options)
    found = memory.lookup(ns, texts) if (memory is not None and texts) else {}
    todo = [t for t in texts if t not in found]
    fresh: dict[str, Hypothesis] = {}
    counts = dict(zip(todo, engine.count_tokens(todo))) if todo else {}
    for batch in token_batches(todo, counts, batch_tokens, max_batch_size):
        fresh.update(zip(batch, engine.generate(batch, options)))
        if progress:
            progress(len(fresh), len(todo))
    if memory is not None and fresh:
        memory.store(ns, fresh)
    return {**found, **fresh}, set(found)


def token_batches(texts: Sequence[str], counts: Mapping[str, int], budget: int,
                  max_size: int) -> Iterable[list[str]]:
    """Length-sorted batches whose padded size (rows × longest) stays within ``budget`` tokens."""
    batch: list[str] = []
    for text in sorted(texts, key=lambda t: counts[t]):
        if batch and (len(batch) >= max_size or (len(batch) + 1) * counts[text] > budget):
            yield batch
            batch = []
        batch.append(text)
    if batch:
        yield batch


def has_words(text: str) -> bool:
    """True when there is a letter to translate (not only numbers, punctuation or symbols)."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def passthrough(text: str) -> str:
    """What a wordless segment becomes in a Latin-script target: Western digits, Latin punctuation."""
    return text.translate(ARABIC_DIGITS).translate(_PUNCT)


def replace_how(item: Enforced, how: str) -> Enforced:
    return Enforced(item.kind, item.source, item.target, how)


def _holds(item: Enforced, translation: str) -> bool:
    """Does the translation hold ``item``: a term's translation (any case), a token verbatim?"""
    return contains(translation, item.target) if item.kind == "term" else carried(item.target, translation)


def _first_restored(alternatives: Sequence[Hypothesis], mapping: dict[str, str],
                    kept: Sequence[Enforced]) -> Hypothesis | None:
    """The best alternative in which every placeholder appears exactly once and what the normal decoding
    already held still holds, with the placeholders put back; None when there is none."""
    for alt in alternatives:
        text = restore(alt.text, mapping)
        if text is not None and all(_holds(e, text) for e in kept):
            return Hypothesis(text, alt.score, alt.num_tokens, alt.token_ids)
    return None


def is_looping(output: str, source: str = "") -> bool:
    """A repetition loop: an n-gram (n ≤ 4) repeated back to back (3× for n ≥ 2, 4× for one word),
    or a few letters repeated 6× inside a word, that the source does not repeat itself; or an output
    far longer than its source."""
    words = output.split()
    if source and len(words) > 3 * len(source.split()) + 10:
        return True
    looped = _CHAR_LOOP.search(output)
    if looped and looped.group(0) not in source:
        return True
    for n in range(1, 5):
        need = 4 if n == 1 else 3
        for i in range(len(words) - n * need + 1):
            gram = words[i : i + n]
            repeated = all(words[i + k * n : i + (k + 1) * n] == gram for k in range(1, need))
            if repeated and " ".join(gram * need) not in " ".join(source.split()):
                return True
    return False
