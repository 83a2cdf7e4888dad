"""Is a text a translatable Arabic article: not empty, not too long, mostly Arabic script."""

from __future__ import annotations

from tarjama.documents.types import HINTS, InputError, source_name
from tarjama.translate.segment import arabic_share

MAX_CHARS = 100_000
MIN_ARABIC = 0.5

# "Is this Arabic" has one definition, translate.segment's; arabic_ratio is its name in this package's API.
arabic_ratio = arabic_share


def validate_text(
    text: str, source: str = "<text>", *, max_chars: int = MAX_CHARS, min_arabic: float = MIN_ARABIC
) -> str:
    """Return ``text`` unchanged if it is a translatable Arabic article, else raise InputError."""
    name = source_name(source)
    if not text.strip():
        raise InputError(
            "empty", f"{name}: no text to translate (it is empty or only whitespace)", source, hint=HINTS["empty"]
        )
    if len(text) > max_chars:
        raise InputError(
            "too_long",
            f"{name}: {len(text):,} characters is over the {max_chars:,}-character limit for one article",
            source,
            hint=HINTS["too_long"],
        )
    ratio = arabic_ratio(text)
    if ratio < min_arabic:
        has_letters = any(c.isalpha() for c in text)
        found = f"only {ratio:.0%} of its letters are Arabic script" if has_letters else "it has no letters"
        raise InputError(
            "not_arabic",
            f"{name}: does not look like Arabic text ({found}; at least {min_arabic:.0%} is needed)",
            source,
            hint=HINTS["not_arabic"],
        )
    return text
