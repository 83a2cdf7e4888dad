"""Article summaries with mT5-XLSum, for articles of any length.

mT5-XLSum reads at most 512 tokens and writes in the language of its input, so the summary is
made in Arabic and then carried into each target language by a Translator.

Long articles are never cut silently.  Strategy ("chunk-merge", a map-reduce): pack whole
paragraphs (or sentences, or token windows when one is too long) into chunks of at most
``max_input_tokens``; summarize every chunk; join the chunk summaries in order and summarize
that again, repeating until one pass fits.  Chunks of many articles share batches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tarjama.translate.engine import SCORE_DIGITS, Engine, GenerationOptions
from tarjama.translate.segment import segment
from tarjama.translate.translator import Memory, Translator, generate_remembered

# chunk-merge (default): every chunk summarized, then the joined chunk summaries: the whole article is read,
# at the cost of a second model pass for articles over max_input_tokens.  lead: only the first chunk is
# summarized — one pass, the model card's (and XLSum training's) truncation, reported as strategy "lead".
STRATEGIES = ("chunk-merge", "lead")
MAX_ROUNDS = 6  # each round shrinks the text ~6× (512 in, ≤ 84 out); a safety stop, never reached in practice
# The XLSum card's generate(max_length=84, ...): max_length counts the decoder start token, so 83 new tokens.
XLSUM_OPTIONS = GenerationOptions(num_beams=4, max_new_tokens=83, no_repeat_ngram_size=2, length_penalty=0.6)


def xlsum_whitespace(text: str) -> str:
    """The XL-Sum card's WHITESPACE_HANDLER: newlines, then any whitespace run, become one space.

    XL-Sum's training articles are one line each; the model never saw a newline piece.
    """
    return re.sub(r"\s+", " ", re.sub(r"\n+", " ", text.strip()))


@dataclass(frozen=True)
class Summary:
    """An Arabic summary and how it was made."""

    text: str
    score: float | None
    input_tokens: int
    chunks: int                 # first-level chunks: 1 when the article fit in one pass
    rounds: int                 # model passes over this article's text (1 = single pass)
    lead: bool = False          # strategy "lead": only the first chunk was read (reported, never silent)

    @property
    def strategy(self) -> str:
        return "single" if self.chunks == 1 else ("lead" if self.lead else "chunk-merge")


# Defaults of models.yaml's summarization batching settings (the registry reads them from here).
BATCH_TOKENS = 1536  # padded chunk tokens per pass, one article
MANY_BATCH_TOKENS = 6144  # the same, when many articles are summarized together
MAX_BATCH_SIZE = 64
Paragraphs = Sequence[Sequence[str]]  # one article: paragraphs of sentences


def _paragraphs(text: str) -> list[list[str]]:
    """``text`` segmented as the pipeline segments an article: paragraphs of sentence texts."""
    return [[s.text for s in p.sentences] for p in segment(text).paragraphs]


class Summarizer:
    """``Summarizer(engine).summarize(text)``; ``summarize_into`` also translates the summary;
    ``summarize_segmented`` takes articles already cut into paragraphs of sentences."""

    def __init__(self, engine: Engine, options: GenerationOptions | None = None, *,
                 max_input_tokens: int = 512, batch_size: int = MAX_BATCH_SIZE, batch_tokens: int = BATCH_TOKENS,
                 memory: Memory | None = None, strategy: str = "chunk-merge") -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"summary strategy {strategy!r}: not one of {', '.join(STRATEGIES)}")
        self.engine = engine
        self.strategy = strategy
        self.options = options or XLSUM_OPTIONS
        self.max_input_tokens = min(max_input_tokens, engine.max_input_tokens)
        self.batch_size = batch_size
        # Chunks decoded together: one pass costs about the same for 1 or 3 chunks (the 250k-piece output
        # layer is read per step either way), but each chunk row keeps its own cross-attention cache
        # (~150 MB for 512 tokens at beam 4 in mT5-base), so a pass holds at most this many padded tokens.
        # Many-article runs pass a larger budget (``MANY_BATCH_TOKENS``): fewer, fuller passes, ~23 % less
        # summary time on real-size mT5 for ~200 MB more peak memory (BENCHMARKS.md, batch throughput).
        self.batch_tokens = batch_tokens
        self.memory = memory  # chunk text → summary, as the Translator's memory (same file, own namespace)

    def summarize(self, text: str) -> Summary:
        return self.summarize_many([text])[0]

    def summarize_many(self, texts: Sequence[str]) -> list[Summary]:
        """Summaries of many articles given as text (each segmented here); see ``summarize_segmented``."""
        return self.summarize_segmented([_paragraphs(t) for t in texts])

    def summarize_segmented(self, articles: Sequence[Paragraphs]) -> list[Summary]:
        """Summaries of articles already cut into paragraphs of sentences (the pipeline's one segmentation:
        an article is never segmented twice); every round batches the chunks of all articles together."""
        chunks = [self.chunk_segmented(a) for a in articles]
        first = [len(c) for c in chunks]
        tokens = [sum(self.engine.count_tokens(c)) if c else 0 for c in chunks]
        lead = self.strategy == "lead"
        if lead:  # one pass over the first chunk, as XLSum was trained (articles cut to 512 tokens)
            chunks = [c[:1] for c in chunks]
        rounds = [0] * len(chunks)
        done: dict[int, tuple[str, float | None]] = {i: ("", None) for i, c in enumerate(chunks) if not c}
        while len(done) < len(chunks):
            pending = [i for i in range(len(chunks)) if i not in done]
            outputs = self._generate([c for i in pending for c in chunks[i]])
            for i in pending:
                mine, outputs = outputs[: len(chunks[i])], outputs[len(chunks[i]) :]
                rounds[i] += 1
                merged = " ".join(t for t, _ in mine if t)
                if len(mine) == 1 or not merged or rounds[i] >= MAX_ROUNDS:
                    done[i] = mine[0] if len(mine) == 1 else (merged, None)
                else:
                    chunks[i] = self.chunk(merged)  # the chunk summaries: model text, not the article
        return [Summary(done[i][0], None if done[i][1] is None else round(done[i][1], SCORE_DIGITS), tokens[i],
                        first[i], rounds[i], lead and first[i] > 1) for i in range(len(chunks))]

    def summarize_into(self, text: str, translators: Mapping[str, Translator]) -> dict[str, str]:
        """The Arabic summary under "ar" and its translation under each target language."""
        summary = self.summarize(text).text
        out = {"ar": summary}
        for lang, translator in translators.items():
            paragraphs = translator.translate_text(summary) if summary else []
            out[lang] = " ".join(s.text for p in paragraphs for s in p)
        return out

    def chunk(self, text: str) -> list[str]:
        """Pieces of at most ``max_input_tokens`` tokens, cut at paragraph, then sentence, then word edges."""
        return self.chunk_segmented(_paragraphs(text))

    def chunk_segmented(self, paragraphs: Paragraphs) -> list[str]:
        """``chunk`` for text already cut into paragraphs of sentences."""
        limit = self.max_input_tokens
        units: list[str] = []
        for paragraph in paragraphs:
            sentences = list(paragraph)
            if self.engine.count_tokens([" ".join(sentences)])[0] <= limit:
                units.append(" ".join(sentences))
                continue
            for sentence, n in zip(sentences, self.engine.count_tokens(sentences)):
                units += [sentence] if n <= limit else self.engine.token_windows(sentence, limit)
        return self._pack(units, limit)

    def _pack(self, units: list[str], limit: int) -> list[str]:
        """Greedy packing by token counts (each unit counted once; one EOS per chunk)."""
        chunks: list[list[str]] = []
        used = limit + 1
        for unit, n in zip(units, self.engine.count_tokens(units)):
            if used + n - 1 > limit:
                chunks.append([])
                used = 1
            chunks[-1].append(unit)
            used += n - 1
        return [xlsum_whitespace(" ".join(c)) for c in chunks]

    def _generate(self, texts: list[str]) -> list[tuple[str, float | None]]:
        """Memory first, then the engine in length-sorted batches; results in the order of ``texts``."""
        hyps, _ = generate_remembered(self.engine, self.options, texts, memory=self.memory,
                                      batch_tokens=self.batch_tokens, max_batch_size=self.batch_size)
        return [(hyps[t].text, hyps[t].score) for t in texts]
