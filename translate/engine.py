"""Seq2seq engines: one protocol, a Transformers implementation (the reference) and room for more.

An engine owns a model and its tokenizer, loaded from a local folder in the Hugging Face layout
(resolving hub ids to folders is the registry's job).  It turns a batch of source strings into
hypotheses with a score per hypothesis: the mean log-probability of its tokens, comparable
across engines and used to flag low-confidence sentences.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerationOptions:
    """Decoding settings shared by every engine (models.yaml ``generate:``)."""

    num_beams: int = 4
    max_new_tokens: int = 256
    min_new_tokens: int = 0
    no_repeat_ngram_size: int = 0
    length_penalty: float = 1.0
    repetition_penalty: float = 1.0

    def replace(self, **changes: Any) -> GenerationOptions:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hypothesis:
    """One output: text, mean token log-probability, how many tokens it has (EOS included), and their ids."""

    text: str
    score: float
    num_tokens: int
    token_ids: tuple[int, ...] = ()


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says which and what to do."""


@runtime_checkable
class Engine(Protocol):
    """What the Translator and Summarizer need from a model."""

    name: str              # "transformers" | "ctranslate2"
    model_id: str          # as written in models.yaml (hub id or folder)
    revision: str
    device: str
    compute_type: str
    max_input_tokens: int
    calls: int             # generate() calls so far (the translation memory is tested by counting them)

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def token_windows(self, text: str, size: int) -> list[str]: ...

    def generate(self, texts: Sequence[str], options: GenerationOptions) -> list[Hypothesis]: ...


def resolve_device(device: str = "auto") -> str:
    """``auto`` is CUDA when torch sees a GPU, else CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def default_threads() -> int:
    """Cores this process may use (cgroup/affinity aware), for intra-op threads."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class TokenizerMixin:
    """Token counting and windowing on a Hugging Face tokenizer, shared by both engines."""

    tokenizer: Any

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Source tokens per text, special tokens (EOS) included: what the encoder will see."""
        if not texts:
            return []
        return [len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=True)["input_ids"]]

    def token_windows(self, text: str, size: int) -> list[str]:
        """Cut ``text`` into pieces of at most ``size`` tokens (EOS included), at word edges when possible.

        Words are counted one by one in a single tokenizer call (sentencepiece tokenizes words
        independently), so a 10,000-word run costs one pass, not a quadratic re-tokenization.
        """
        words = text.split()
        if not words:
            return []
        counts = [len(ids) for ids in self.tokenizer(words, add_special_tokens=False)["input_ids"]]
        budget = max(1, size - 1)  # room for EOS
        pieces: list[str] = []
        current: list[str] = []
        used = 0
        for word, n in zip(words, counts):
            if current and used + n > budget:
                pieces.append(" ".join(current))
                current, used = [], 0
            if n > budget:  # one huge "word" (a URL, a run of symbols)
                pieces.extend(self._hard_windows(word, budget))
                continue
            current.append(word)
            used += n
        if current:
            pieces.append(" ".join(current))
        return pieces

    def _hard_windows(self, word: str, budget: int) -> list[str]:
        """Cut inside a word; a re-tokenized piece can gain a word-start token, so shrink until all fit."""
        ids = self.tokenizer(word, add_special_tokens=False)["input_ids"]
        for step in range(budget, 0, -1):
            pieces = [self.tokenizer.decode(ids[i : i + step], skip_special_tokens=True)
                      for i in range(0, len(ids), step)]
            if max(self.count_tokens(pieces)) <= budget + 1:
                return pieces
        return pieces


class TransformersEngine(TokenizerMixin):
    """The reference engine: ``AutoModelForSeq2SeqLM.generate`` on safetensors weights."""

    name = "transformers"

    def __init__(self, path: str | Path, *, model_id: str | None = None, revision: str = "local",
                 device: str = "auto", compute_type: str = "auto", threads: int = 0,
                 max_input_tokens: int = 512) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.model_id = model_id or str(path)
        self.revision = revision
        self.device = resolve_device(device)
        self.compute_type = "float32" if compute_type in ("auto", "int8") else compute_type
        self.max_input_tokens = max_input_tokens
        self.calls = 0
        if self.device == "cpu":
            torch.set_num_threads(threads or default_threads())
        dtype = getattr(torch, self.compute_type)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path))
            # use_safetensors=True: never unpickle .bin weights; trust_remote_code stays False.
            self.model = AutoModelForSeq2SeqLM.from_pretrained(str(path), use_safetensors=True, dtype=dtype)
        except (OSError, ValueError) as err:
            raise ModelLoadError(f"{self.model_id}: cannot load from {path}: {err}") from err
        self.model.to(self.device).eval()
        self._torch = torch
        from transformers.modeling_outputs import BaseModelOutput

        self._output_cls = BaseModelOutput

    def generate(self, texts: Sequence[str], options: GenerationOptions) -> list[Hypothesis]:
        """Decode a batch; scores are mean log-probs of the chosen tokens (EOS included, padding not).

        The encoder runs once; after decoding, one teacher-forced decoder pass scores the chosen
        tokens under the model's raw distribution (log-softmax before any logits processor), the
        quantity CTranslate2 reports too.  Asking ``generate`` for per-step scores instead would
        keep batch × beams × steps × vocabulary floats in memory.
        """
        if not texts:
            return []
        self.calls += 1
        torch = self._torch
        enc = self.tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True,
                             max_length=self.max_input_tokens).to(self.device)
        with torch.inference_mode():
            hidden = self.model.get_encoder()(**enc).last_hidden_state
            sequences = self.model.generate(  # generate expands its encoder_outputs for beams, in place
                encoder_outputs=self._output_cls(last_hidden_state=hidden), attention_mask=enc["attention_mask"],
                max_length=None,
                max_new_tokens=options.max_new_tokens, min_new_tokens=options.min_new_tokens or None,
                num_beams=options.num_beams, no_repeat_ngram_size=options.no_repeat_ngram_size,
                length_penalty=options.length_penalty, repetition_penalty=options.repetition_penalty,
                do_sample=False, early_stopping=None if options.num_beams == 1 else True,
            )
            steps = self._token_log_probs(hidden, enc["attention_mask"], sequences)
        tokens = sequences[:, 1:]  # drop the decoder start token
        mask = tokens != self.model.generation_config.pad_token_id
        steps = steps.masked_fill(~mask, 0.0)
        counts = mask.sum(dim=1).clamp(min=1)
        scores = (steps.sum(dim=1) / counts).tolist()
        decoded = self.tokenizer.batch_decode(sequences, skip_special_tokens=True)
        ids = [tuple(row[m].tolist()) for row, m in zip(tokens, mask)]
        return [Hypothesis(t.strip(), float(s), int(n), i)
                for t, s, n, i in zip(decoded, scores, counts.tolist(), ids)]

    def _token_log_probs(self, hidden: Any, attention_mask: Any, sequences: Any, rows: int = 8) -> Any:
        """Teacher-forced log-prob of every token of ``sequences`` (after the start token), a few rows at a time."""
        torch = self._torch
        out = []
        for i in range(0, sequences.shape[0], rows):
            seq = sequences[i : i + rows]
            logits = self.model(encoder_outputs=(hidden[i : i + rows],),
                                attention_mask=attention_mask[i : i + rows], decoder_input_ids=seq[:, :-1]).logits
            logp = torch.log_softmax(logits.float(), dim=-1)
            out.append(logp.gather(-1, seq[:, 1:, None]).squeeze(-1))
        return torch.cat(out)
