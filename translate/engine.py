"""Seq2seq engines: one protocol, a Transformers implementation (the reference) and room for more.

An engine owns a model and its tokenizer, loaded from a local folder in the Hugging Face layout
(resolving hub ids to folders is the registry's job).  It turns a batch of source strings into
hypotheses with a score per hypothesis: the mean log-probability of its tokens under the distribution
decoding chose them from — the model's, renormalized over the tokens decoding allowed at that step (the
output vocabulary, n-gram bans, a forced EOS).  That is what CTranslate2 returns from the decoding pass
itself, so no engine needs a second, teacher-forced pass over the full vocabulary to score; both engines
give the same figure, and the Translator flags low-confidence sentences by it.
"""

from __future__ import annotations

import functools
import json
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
class ForcedLength:
    """Benchmarks only (models.yaml ``benchmark:``, never a product setting): random-weight models stop at
    arbitrary lengths, so benchmarks force realistic ones.  Every output of a batch then has exactly
    ``tokens`` new tokens, else round(``ratio`` × the batch's mean source tokens), and no EOS (each engine
    decodes without stopping; Marian's forced final EOS is off too).  Scores are then the engine's own."""

    tokens: int = 0
    ratio: float = 0.0

    def apply(self, options: GenerationOptions, source_tokens: Sequence[int]) -> GenerationOptions:
        """``options`` for one batch: min = max = the forced length."""
        n = self.tokens or round(self.ratio * sum(source_tokens) / max(len(source_tokens), 1))
        return options.replace(min_new_tokens=max(n, 1), max_new_tokens=max(n, 1))


# Digits a reported score keeps: batch composition (padding) moves float32 scores in the 7th digit, and a
# sentence or summary must read the same whether its article was batched with others or alone.
SCORE_DIGITS = 4


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

    @property
    def unk_token_id(self) -> int: ...

    def unknown(self, texts: Sequence[str]) -> list[bool]: ...

    def generate(self, texts: Sequence[str], options: GenerationOptions) -> list[Hypothesis]: ...

    def generate_alternatives(self, texts: Sequence[str], options: GenerationOptions,
                              n: int) -> list[list[Hypothesis]]: ...


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
    forced_length: ForcedLength | None = None  # benchmarks only

    def for_batch(self, options: GenerationOptions, source_tokens: Sequence[int]) -> GenerationOptions:
        return self.forced_length.apply(options, source_tokens) if self.forced_length else options

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
        """Cut inside a word at character offsets, each piece at most ``budget`` tokens.

        The pieces join back to exactly ``word``: decoding slices of its token ids instead would drop
        every character the vocabulary lacks (emoji, ₪, CJK become ``<unk>``, which decoding deletes).
        Each cut is the longest prefix that fits, found by bisection (about log2(len) tokenizer calls).
        """
        pieces: list[str] = []
        start = 0
        while start < len(word):
            low, high = start + 1, len(word)
            while low < high:
                mid = (low + high + 1) // 2
                if self._pieces_count(word[start:mid]) <= budget:
                    low = mid
                else:
                    high = mid - 1
            pieces.append(word[start:low])
            start = low
        return pieces

    def _pieces_count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    @property
    def unk_token_id(self) -> int:
        return int(self.tokenizer.unk_token_id)

    def unknown(self, texts: Sequence[str]) -> list[bool]:
        """For each text: does it hold a character the vocabulary lacks (tokenized as ``<unk>``)?"""
        if not texts:
            return []
        unk = self.unk_token_id
        return [unk in ids for ids in self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]]


class TransformersEngine(TokenizerMixin):
    """The reference engine: ``AutoModelForSeq2SeqLM.generate`` on safetensors weights."""

    name = "transformers"

    def __init__(self, path: str | Path, *, model_id: str | None = None, revision: str = "local",
                 device: str = "auto", compute_type: str = "auto", threads: int = 0,
                 max_input_tokens: int = 512, forced_length: ForcedLength | None = None,
                 output_vocabulary: str = "all", bench_vocabulary: int = 0) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.model_id = model_id or str(path)
        self.revision = revision
        self.device = resolve_device(device)
        # int8 types are CTranslate2's; an auto fallback from CTranslate2 lands here with one of them.
        self.compute_type = "float32" if compute_type == "auto" or compute_type.startswith("int8") else compute_type
        self.max_input_tokens = max_input_tokens
        self.forced_length = forced_length
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
        self.output_vocabulary = f"first-{bench_vocabulary}" if bench_vocabulary else output_vocabulary
        self.allowed = self._allowed_ids(output_vocabulary, bench_vocabulary)  # None: every piece

    def generate(self, texts: Sequence[str], options: GenerationOptions) -> list[Hypothesis]:
        """Decode a batch; scores are mean log-probs of the chosen tokens (EOS included, padding not).

        The encoder runs once; after decoding, one teacher-forced decoder pass scores the chosen
        tokens under the distribution decoding chose them from (``_token_log_probs``), the quantity
        CTranslate2 reports too.  Asking ``generate`` for per-step scores instead would keep
        batch × beams × steps × vocabulary floats in memory.
        """
        return [alternatives[0] for alternatives in self.generate_alternatives(texts, options, 1)]

    def generate_alternatives(self, texts: Sequence[str], options: GenerationOptions,
                              n: int) -> list[list[Hypothesis]]:
        """The ``n`` best hypotheses of each text, best first (``num_return_sequences``; beams ≥ ``n``)."""
        if not texts:
            return []
        self.calls += 1
        torch = self._torch
        enc = self.tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True,
                             max_length=self.max_input_tokens).to(self.device)
        options = self.for_batch(options, enc["attention_mask"].sum(dim=1).tolist())
        beams = max(options.num_beams, n)
        fixed = {"forced_eos_token_id": None} if self.forced_length else {}  # benchmarks: no final EOS either
        with torch.inference_mode():
            hidden = self.model.get_encoder()(**enc).last_hidden_state
            sequences = self.model.generate(  # generate expands its encoder_outputs for beams, in place
                encoder_outputs=self._output_cls(last_hidden_state=hidden), attention_mask=enc["attention_mask"],
                max_length=None,
                max_new_tokens=options.max_new_tokens, min_new_tokens=options.min_new_tokens or None,
                num_beams=beams, num_return_sequences=n, no_repeat_ngram_size=options.no_repeat_ngram_size,
                length_penalty=options.length_penalty, repetition_penalty=options.repetition_penalty,
                do_sample=False, early_stopping=None if beams == 1 else True,
                # Explicit, whatever the pinned generation_config.json says (ar-es's sets it, ar-en's does not):
                # scores renormalized after n-gram bans and penalties, as CTranslate2 always does.
                renormalize_logits=True, logits_processor=self._vocabulary_processors(), **fixed,
            )
            mask_rows = enc["attention_mask"]
            if n > 1:  # each source row scores its n hypotheses; a plain generate copies nothing
                hidden, mask_rows = hidden.repeat_interleave(n, dim=0), mask_rows.repeat_interleave(n, dim=0)
            steps = self._token_log_probs(hidden, mask_rows, sequences, options, beams)
        tokens = sequences[:, 1:]  # drop the decoder start token
        mask = self._until_eos(tokens)
        steps = steps.masked_fill(~mask, 0.0)
        counts = mask.sum(dim=1).clamp(min=1)
        scores = (steps.sum(dim=1) / counts).tolist()
        decoded = self.tokenizer.batch_decode(sequences, skip_special_tokens=True)
        ids = [tuple(row[m].tolist()) for row, m in zip(tokens, mask)]
        flat = [Hypothesis(t.strip(), float(s), int(c), i) for t, s, c, i in zip(decoded, scores, counts.tolist(), ids)]
        return [flat[k : k + n] for k in range(0, len(flat), n)]

    def _until_eos(self, tokens: Any) -> Any:
        """True for each token up to and including the first EOS.

        Finished rows are filled after their EOS, with pad or — when pad_token_id is 0, as in mT5 —
        with EOS again (transformers' beam search: ``pad_token_id or eos_token_id``); neither is output.
        """
        eos = self.model.generation_config.eos_token_id
        is_eos = self._torch.isin(tokens, self._torch.tensor(eos if isinstance(eos, list) else [eos]))
        return (is_eos.int().cumsum(dim=1) - is_eos.int()) == 0

    def _token_log_probs(self, hidden: Any, attention_mask: Any, sequences: Any, options: GenerationOptions,
                         beams: int, rows: int = 8) -> Any:
        """Teacher-forced log-prob of every token of ``sequences`` (after the start token), a few rows at a
        time, under the distribution decoding chose it from: each step's logits pass the same processors
        ``generate`` ran (``_step_processors``), then a log-softmax — CTranslate2's ``return_scores``."""
        torch = self._torch
        log_softmax_first, masks = self._step_processors(options, beams)
        out = []
        for i in range(0, sequences.shape[0], rows):
            seq = sequences[i : i + rows]
            logits = self.model(encoder_outputs=(hidden[i : i + rows],),
                                attention_mask=attention_mask[i : i + rows],
                                decoder_input_ids=seq[:, :-1]).logits.float()
            if masks:
                scores = torch.log_softmax(logits, dim=-1) if log_softmax_first else logits
                for t in range(scores.shape[1]):  # step t chose token t+1 of seq, after seq[:, : t + 1]
                    scores[:, t] = masks(seq[:, : t + 1], scores[:, t])
                logits = scores
            logp = torch.log_softmax(logits, dim=-1)
            out.append(logp.gather(-1, seq[:, 1:, None]).squeeze(-1))
        return torch.cat(out)

    def _step_processors(self, options: GenerationOptions, beams: int) -> tuple[bool, Any]:
        """The logits processors ``generate`` applied at each step, for re-applying them when scoring.

        Beam search log-softmaxes first and processes after (a repetition penalty then acts on log-probs);
        the rest are masks (-inf), which commute with that.  Built from transformers' public processor
        classes with the values the generate call had, in its order; the output-vocabulary mask last.
        """
        from transformers.generation import logits_process as lp

        config = self.model.generation_config
        eos = config.eos_token_id
        steps = []
        if options.repetition_penalty != 1.0:
            steps.append(lp.RepetitionPenaltyLogitsProcessor(options.repetition_penalty))
        if options.no_repeat_ngram_size:
            steps.append(lp.NoRepeatNGramLogitsProcessor(options.no_repeat_ngram_size))
        if config.bad_words_ids:
            steps.append(lp.NoBadWordsLogitsProcessor(config.bad_words_ids, eos_token_id=eos))
        if options.min_new_tokens:
            steps.append(lp.MinNewTokensLengthLogitsProcessor(1, options.min_new_tokens, eos, device=self.device))
        if config.forced_eos_token_id is not None and not self.forced_length:
            steps.append(lp.ForcedEOSTokenLogitsProcessor(1 + options.max_new_tokens, config.forced_eos_token_id,
                                                          device=self.device))
        steps.extend(self._vocabulary_processors())
        return beams > 1, lp.LogitsProcessorList(steps) if steps else None

    def _vocabulary_processors(self) -> list[Any]:
        """The output-vocabulary mask as a logits processor ([] when every piece is allowed)."""
        if self.allowed is None:
            return []
        from transformers.generation.logits_process import LogitsProcessor

        banned = ~self.allowed

        class OutputVocabulary(LogitsProcessor):
            def __call__(self, input_ids: Any, scores: Any) -> Any:
                return scores.masked_fill(banned, float("-inf"))

        return [OutputVocabulary()]

    def _allowed_ids(self, output_vocabulary: str, bench_vocabulary: int) -> Any:
        """The bool mask of output ids ``output_vocabulary`` allows, decided by translate/vocabulary.py on the
        model's own pieces in id order — the same pieces, hence the same ids, CTranslate2's vmap keeps."""
        from tarjama.translate.vocabulary import VocabularyError, first, restrict

        if output_vocabulary == "all" and not bench_vocabulary:
            return None
        size = int(self.model.get_output_embeddings().weight.shape[0])
        known = len(self.tokenizer)
        pieces = [str(p) for p in self.tokenizer.convert_ids_to_tokens(list(range(min(size, known))))]
        pieces += [f"<extra_id_{i}>" for i in range(size - len(pieces))]  # T5: ids past the tokenizer's
        always = [self.tokenizer.eos_token, self.tokenizer.unk_token]
        if bench_vocabulary:
            kept = first(pieces, bench_vocabulary, always=always)
        else:
            never = [p for p in pieces if p.startswith("<extra_id_")]
            try:
                kept = restrict(pieces, output_vocabulary, always=always, never=never)
            except VocabularyError as err:
                raise ModelLoadError(f"{self.model_id}: output_vocabulary: {err}") from None
        keep = set(kept)
        allowed = self._torch.zeros(size, dtype=self._torch.bool)
        allowed[[i for i, p in enumerate(pieces) if p in keep]] = True
        return allowed.to(self.device)


# -- CTranslate2 -------------------------------------------------------------------------------------------

T5_FAMILY = ("t5", "mt5", "umt5")  # float16 overflows in these (NaNs): never float16 for them


def model_type(folder: str | Path) -> str:
    """``model_type`` of a Hugging Face folder's config.json ("marian", "mt5", ...); "" when unknown."""
    try:
        return str(json.loads((Path(folder) / "config.json").read_text(encoding="utf-8")).get("model_type", ""))
    except (OSError, ValueError):
        return ""


def nan_prone(kind: str, compute_type: str) -> bool:
    """True for a T5-family model (``kind``: its model_type) in a float16 type: mT5 overflows to NaN there."""
    return kind in T5_FAMILY and "float16" in compute_type and "bfloat16" not in compute_type


def ct2_device(device: str = "auto") -> str:
    """``auto`` is CUDA when CTranslate2 sees a GPU (without importing torch), else CPU."""
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def ct2_compute_type(compute_type: str, device: str, kind: str) -> str:
    """The compute type a CTranslate2 model of ``kind`` (a model_type) runs in on ``device``.

    ``auto``: int8 on CPU (≈ 2.5× float32 there, see FIELD-NOTES); on CUDA float16 for Marian and
    bfloat16 for the T5 family (float16 gives NaNs in mT5), float32 where the GPU lacks bfloat16.
    An explicit float16 type for mT5 is refused rather than left to produce NaNs.
    """
    import ctranslate2

    if compute_type == "auto":
        if device != "cuda":
            return "int8"
        if kind not in T5_FAMILY:
            return "float16"
        try:
            supported = ctranslate2.get_supported_compute_types("cuda")
        except RuntimeError:  # no usable GPU here: loading will say so; assume a current one
            supported = {"bfloat16"}
        return "bfloat16" if "bfloat16" in supported else "float32"
    if nan_prone(kind, compute_type):
        raise ModelLoadError(f"compute_type {compute_type}: mT5 gives NaNs in float16; use int8, bfloat16 "
                             "or float32")
    return compute_type


class CTranslate2Engine(TokenizerMixin):
    """The fast engine: a CTranslate2 conversion of the same weights, tokenized by the model's own tokenizer.

    ``path`` is the converted folder (the registry makes it); ``tokenizer_path`` the original
    Hugging Face folder, which also supplies generation facts CTranslate2 does not keep (Marian's
    forced final EOS).  A ``vmap.txt`` in ``path`` (tarjama.engines.restricted) restricts the output
    vocabulary (``use_vmap``).  Outputs and scores follow TransformersEngine; the scores are CTranslate2's
    own ``return_scores``, which are already log-probs under the distribution decoding chose from.
    """

    name = "ctranslate2"

    def __init__(self, path: str | Path, tokenizer_path: str | Path, *, model_id: str | None = None,
                 revision: str = "local", device: str = "auto", compute_type: str = "auto", threads: int = 0,
                 max_input_tokens: int = 512, forced_length: ForcedLength | None = None) -> None:
        import ctranslate2

        self.model_id = model_id or str(tokenizer_path)
        self.revision = revision
        self.folder = Path(path)  # the converted model
        self.device = ct2_device(device)
        self.kind = model_type(tokenizer_path)
        self.compute_type = ct2_compute_type(compute_type, self.device, self.kind)
        self.max_input_tokens = max_input_tokens
        self.forced_length = forced_length
        self.threads = threads or default_threads()
        self.calls = 0
        try:
            self.translator = ctranslate2.Translator(str(path), device=self.device, compute_type=self.compute_type,
                                                     intra_threads=self.threads, inter_threads=1)
            self.tokenizer = load_tokenizer(tokenizer_path)
        except (OSError, ValueError, RuntimeError) as err:
            supported = ", ".join(sorted(ctranslate2.get_supported_compute_types(self.device)))
            raise ModelLoadError(f"{self.model_id}: cannot load CTranslate2 model {path} on {self.device} "
                                 f"({self.compute_type}): {err} (this device supports: {supported})") from err
        self.eos = self.tokenizer.eos_token
        self.forced_eos = _generation_config(tokenizer_path).get("forced_eos_token_id") is not None
        self.use_vmap = (self.folder / "vmap.txt").is_file()

    def generate(self, texts: Sequence[str], options: GenerationOptions) -> list[Hypothesis]:
        """Decode a batch with ``translate_batch``; hypotheses and scores as TransformersEngine gives them."""
        return [alternatives[0] for alternatives in self.generate_alternatives(texts, options, 1)]

    def generate_alternatives(self, texts: Sequence[str], options: GenerationOptions,
                              n: int) -> list[list[Hypothesis]]:
        """The ``n`` best hypotheses of each text, best first (``num_hypotheses``; beam size ≥ ``n``)."""
        if not texts:
            return []
        self.calls += 1
        ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_input_tokens)["input_ids"]
        source = [self.tokenizer.convert_ids_to_tokens(row) for row in ids]
        options = self.for_batch(options, [len(row) for row in ids])
        # Marian ends at max_new_tokens with a forced EOS (generation_config.forced_eos_token_id):
        # decode one token less and append it.  Not under forced benchmark lengths, which have no EOS.
        append_eos = self.forced_eos and not self.forced_length
        longest = options.max_new_tokens - (1 if append_eos else 0)
        results = self._decode(source, options, longest, n) if longest > 0 else None
        if self.kind in T5_FAMILY:  # the big working sets; trimming after every Marian batch cost ~7 % (below)
            _release_free_memory()
        out: list[list[Hypothesis]] = [[] for _ in source]
        for i in range(len(source)):
            found = [(list(h), sc) for h, sc in zip(results[i].hypotheses, results[i].scores)] if results else []
            for tokens, score in (found or [([], 0.0)])[:n]:
                total = score * len(tokens) ** options.length_penalty if tokens else 0.0  # undo / n^lp
                if append_eos and not (tokens and tokens[-1] == self.eos):
                    tokens.append(self.eos)  # forced: its log-prob is 0, as in generate's renormalized scores
                out[i].append(self._hypothesis(tokens, total))
        return out

    def _decode(self, source: list[list[str]], options: GenerationOptions, longest: int, n: int = 1) -> list[Any]:
        return self.translator.translate_batch(
            source, beam_size=max(options.num_beams, n), num_hypotheses=n, length_penalty=options.length_penalty,
            repetition_penalty=options.repetition_penalty, no_repeat_ngram_size=options.no_repeat_ngram_size,
            max_decoding_length=longest, min_decoding_length=min(options.min_new_tokens, longest),
            max_input_length=0, return_scores=True, return_end_token=True, use_vmap=self.use_vmap)

    def _hypothesis(self, tokens: list[str], total: float) -> Hypothesis:
        token_ids = tuple(self.tokenizer.convert_tokens_to_ids(tokens))
        text = self.tokenizer.decode(token_ids, skip_special_tokens=True).strip()
        return Hypothesis(text, float(total) / max(len(tokens), 1), len(tokens), token_ids)


# The tokenizer classes of the model types tarjama runs, for folders whose tokenizer_config.json does not
# name one (the opus-mt and XLSum repos do not).
_TOKENIZERS = {"marian": "MarianTokenizer", "t5": "T5Tokenizer", "mt5": "T5Tokenizer", "umt5": "T5Tokenizer"}


def load_tokenizer(folder: str | Path) -> Any:
    """The tokenizer CTranslate2Engine uses: the folder's Hugging Face one, without importing torch —
    except for the T5 family, read with sentencepiece itself (SpmTokenizer).

    AutoTokenizer reads the model config through transformers' configuration module, which imports
    torch (~180 MB of RSS) — dead weight in a CTranslate2-only process; naming the class and taking
    it from transformers' lazy top level imports only its tokenization module.  mT5's Hugging Face
    tokenizer is a `tokenizers` Unigram model whose 250k-piece trie takes ~340 MB; sentencepiece
    holds the same model in ~50 MB.
    """
    import transformers

    if model_type(folder) in T5_FAMILY and (Path(folder) / "spiece.model").is_file():
        return SpmTokenizer(Path(folder) / "spiece.model")
    try:
        config = json.loads((Path(folder) / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    name = config.get("tokenizer_class") or _TOKENIZERS.get(model_type(folder))
    cls = getattr(transformers, str(name).removesuffix("Fast"), None) if name else None
    return (cls or transformers.AutoTokenizer).from_pretrained(str(folder))


class SpmTokenizer:
    """The slice of a Hugging Face T5Tokenizer that tarjama's engines use, on sentencepiece itself.

    Same pieces and ids as transformers' T5Tokenizer (pad 0, EOS 1 appended, unk 2; ids past the
    sentencepiece model are CTranslate2's ``<extra_id_N>``), same decoding (special tokens skipped).
    The two Unigram implementations break exact ties between equally scored segmentations
    differently: tests/test_ct2.py measures how often (a few long articles in a thousand texts).
    """

    pad_token, eos_token, unk_token = "<pad>", "</s>", "<unk>"
    pad_token_id, eos_token_id, unk_token_id = 0, 1, 2

    def __init__(self, path: Path) -> None:
        import sentencepiece

        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
        self.size = self.sp.get_piece_size()
        self._special = {self.pad_token_id, self.eos_token_id, self.unk_token_id}

    def __len__(self) -> int:
        return self.size

    def __call__(self, texts: str | Sequence[str], *, add_special_tokens: bool = True, truncation: bool = False,
                 max_length: int | None = None, **_: Any) -> dict[str, Any]:
        one = isinstance(texts, str)
        ids = self.sp.encode([texts] if one else list(texts))
        if truncation and max_length:  # as transformers: cut the text, keep the EOS
            ids = [row[: max_length - 1 if add_special_tokens else max_length] for row in ids]
        if add_special_tokens:
            ids = [[*row, self.eos_token_id] for row in ids]
        return {"input_ids": ids[0] if one else ids}

    def convert_ids_to_tokens(self, ids: Sequence[int]) -> list[str]:
        return [self.sp.id_to_piece(i) if i < self.size else f"<extra_id_{i - self.size}>" for i in ids]

    def convert_tokens_to_ids(self, tokens: Sequence[str]) -> list[int]:
        out = []
        for t in tokens:
            extra = t.startswith("<extra_id_") and t.endswith(">") and t[10:-1].isdigit()
            out.append(self.size + int(t[10:-1]) if extra else self.sp.piece_to_id(t))
        return out

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        keep = [i for i in ids if i < self.size and not (skip_special_tokens and i in self._special)]
        return self.sp.decode(keep)


def _release_free_memory() -> None:
    """Hand freed heap memory back to the OS (glibc ``malloc_trim``) after each mT5 call.

    CTranslate2's worker threads allocate their per-call buffers (mT5's cross-attention caches: ~150
    MB a chunk) in glibc's per-thread arenas, which keep freed memory: without this, RSS grows call
    after call to the sum of every thread's largest working set (measured: 1.78 GB instead of 1.40
    GB peak for the seed article, three models resident).  The call itself is cheap, but the next call
    faults its buffers back in: after every Marian batch too, that cost 7 % of the seed article's time
    (bench models, 2 cores: 21.9 s against 19.5 s trimming after mT5 calls only, peak RSS 1.36 against
    1.48 GB; without any trim 20.4 s, 1.52 GB).  So only the mT5 calls, the big working sets, trim.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, looked up once; None where the C library is not glibc."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _generation_config(folder: str | Path) -> dict[str, Any]:
    try:
        return json.loads((Path(folder) / "generation_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
