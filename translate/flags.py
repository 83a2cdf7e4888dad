"""The flags a translated sentence can carry: one home for their names (the JSON schema's enum is tested
against this), and which of them ask an editor to look."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class Flag(str, Enum):
    """A sentence flag; compares and serializes as its plain string value ("split", ...)."""

    PASSTHROUGH = "passthrough"        # no words: copied, digits and punctuation mapped, model not called
    SPLIT = "split"                    # over max_sentence_tokens: translated in pieces, joined
    REPETITION = "repetition"          # the model looped; re-decoded with no_repeat_ngram_size=3
    NUMBERS = "numbers"                # numbers missing, extra or changed (tarjama.translate.checks)
    LENGTH_RATIO = "length_ratio"      # translation/source length outside the pair's measured 1st-99th percentile
    QUOTES = "quotes"                  # a quoted span of the source has no quoted span in the translation
    GLOSSARY_MISSED = "glossary_missed"  # a glossary term's translation could not be enforced
    ENTITY_MISSED = "entity_missed"    # a protected Latin-script token (IOM, a URL) is not in the translation verbatim
    UNTRANSLATED = "untranslated"      # the output is still mostly Arabic script
    LOW_CONFIDENCE = "low_confidence"  # mean token log-probability under the model's threshold
    MEMORY = "memory"                  # came from the translation memory
    UNKNOWN = "unknown"                # the source or the output holds <unk>: a character the vocabulary lacks
    EDITED = "edited"                  # an editor corrected the translation (the page, ArticleResult.with_edits)
    REVIEWED = "reviewed"              # an editor marked the sentence reviewed: its warnings are settled

    __str__ = str.__str__
    __format__ = str.__format__


# Flags that mark a sentence for an editor's review (the page tints them; exports list them).
NEEDS_REVIEW = frozenset({Flag.LOW_CONFIDENCE, Flag.REPETITION, Flag.NUMBERS, Flag.UNTRANSLATED, Flag.SPLIT,
                          Flag.UNKNOWN, Flag.LENGTH_RATIO, Flag.QUOTES, Flag.GLOSSARY_MISSED, Flag.ENTITY_MISSED})

# What each flag tells a newsroom editor, and what to check: the page's hover, the exports' flag key.
EXPLANATIONS: dict[Flag, str] = {
    Flag.PASSTHROUGH: "No words to translate (numbers, punctuation): copied as is, without the model.",
    Flag.SPLIT: "The sentence was too long for the model and was translated in pieces: check the joins read well.",
    Flag.REPETITION: "The model repeated itself and the sentence was translated again: check nothing is missing "
                     "or repeated.",
    Flag.NUMBERS: "A number is missing, extra or changed: compare the numbers the detail names with the Arabic.",
    Flag.LENGTH_RATIO: "The translation is unusually long or short for the Arabic: check nothing was dropped "
                       "or invented.",
    Flag.QUOTES: "A quotation in the Arabic has no quotation marks in the translation: check who said what.",
    Flag.GLOSSARY_MISSED: "A glossary term's required translation is missing: use the translation the detail names.",
    Flag.ENTITY_MISSED: "A Latin-script name, code or link (IOM, a URL) from the Arabic is not in the translation "
                        "as written.",
    Flag.UNTRANSLATED: "The output is still mostly Arabic: the sentence needs translating.",
    Flag.LOW_CONFIDENCE: "The model was unsure of this translation: read it closely against the Arabic.",
    Flag.MEMORY: "Reused from the translation memory: this sentence was translated before with the same model "
                 "and settings.",
    Flag.UNKNOWN: "A character the model's vocabulary lacks (shown as <unk>): check names and symbols.",
    Flag.EDITED: "An editor corrected this translation: the text is a person's, not the model's.",
    Flag.REVIEWED: "An editor reviewed this sentence and settled its warnings.",
}

_REVIEW_VALUES = frozenset(f.value for f in NEEDS_REVIEW)
_SETTLED = frozenset({Flag.EDITED.value, Flag.REVIEWED.value})


def needs_review(flags: Iterable[str]) -> bool:
    """Whether a sentence still waits for an editor: a NEEDS_REVIEW flag that no edit or review settled.

    The one home of "still to review": the page's tint, the Markdown and the DOCX review lists all ask here,
    so they never disagree about which sentences are left.
    """
    values = {str(f) for f in flags}
    return bool(values & _REVIEW_VALUES) and not values & _SETTLED
