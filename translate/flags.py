"""The flags a translated sentence can carry: one home for their names (the JSON schema's enum is tested
against this), and which of them ask an editor to look."""

from __future__ import annotations

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

    __str__ = str.__str__
    __format__ = str.__format__


# Flags that mark a sentence for an editor's review (the page tints them; exports list them).
NEEDS_REVIEW = frozenset({Flag.LOW_CONFIDENCE, Flag.REPETITION, Flag.NUMBERS, Flag.UNTRANSLATED, Flag.SPLIT,
                          Flag.UNKNOWN, Flag.LENGTH_RATIO, Flag.QUOTES, Flag.GLOSSARY_MISSED, Flag.ENTITY_MISSED})
