"""Language detection for ``POST /detect`` and ``source=auto``: is this Arabic, and if not, what is it?

tarjama translates only *from* Arabic, so the one decision that must be right is "Arabic or not"; naming the
other languages is a courtesy, and their confidences say so.  A statistical n-gram model would be a
dependency and a download for a question the characters answer: Arabic is the only common language written
mostly in Arabic script besides Persian and Urdu, and those two are told apart by letters Arabic never uses.

Method, in the order the code runs it:

1. URLs, e-mail addresses, ``@handles`` and Latin ``#hashtags`` are cut out first: an Arabic news sentence
   citing ``https://example.com`` or ``@UN_News`` is still an Arabic sentence.  Digits, punctuation, marks and
   emoji are not letters and never count.  NFKC first folds Arabic presentation forms (old PDFs, some
   scrapes) to the base letters step 3 looks for.
2. Letters (Unicode category L*) are counted by script.  Arabic script is
   :data:`tarjama.translate.segment.ARABIC_SCRIPT`, the package's one definition of it.  Beside another
   script, a capitalised or all-caps Latin word that is no stopword ("NATO", "Google", "Emergent
   BioSolutions") is a quoted name, not a language, and its letters count a tenth: Arabic news cites
   company and product names in Latin letters all the time (about 2% of the corpus' Arabic lines would
   otherwise fall under 90).  In a text of Latin script only, this changes nothing.
3. Arabic script is Arabic, Persian or Urdu.  Persian letters (پ چ ژ گ, Persian ک U+06A9, ی U+06CC) and
   Urdu-only letters (ٹ ڈ ڑ ں ے ھ, and ہ U+06C1, Urdu's everyday heh) are evidence against Arabic; ة ى ي ك
   and the article ال at a word's start (after an optional و ف ب ك) are evidence for it.  Urdu also
   writes the Persian letters, so the non-Arabic evidence is Urdu as soon as a quarter of it is Urdu-only.
   A small prior favours Arabic: a short Arabic-script text with no telling letter is most likely the
   Arabic tarjama is built for.  Arabic's confidence is the share of Arabic-script letters among all
   letters × this ar-vs-fa/ur evidence × 100, so a clean Arabic sentence scores over 90.
4. Latin script is a guess from stopwords: ~30 function words per language (en es fr de it pt nl tr id),
   and a few characters only some of them write (ñ ¿ ¡ for Spanish, ã õ for Portuguese, ß for German, ı ş ğ
   for Turkish...), each occurrence counting like a stopword: they decide the short lines with no stopword.
   An item listed for k languages counts 1/k for each, the scores are squared and normalised (sharpening the
   decision between close relatives like es/pt), and scaled by how many of the words are stopwords at all,
   by the text's length (a three-word text is a weak guess), and by the Latin share of the letters.
   It is capped at 80: a stopword guess is never as sure as the script-based Arabic decision.  Latin
   letters that match no profile at all are reported as a weak "en".
5. Every other script is one language (Cyrillic ru, Greek el, Hebrew he, Devanagari hi, Han zh, Kana ja —
   Han counts as Japanese where kana are at least a tenth of the CJK letters — Hangul ko, Thai th,
   Armenian hy, Georgian ka) with the script's share × 100, capped at 80.  Persian and Urdu are capped at
   80 too: only Arabic is ever reported above 80.

A mixed text gets one candidate per language found, best first, at most three; equal confidences go to
Arabic, then to the Latin languages in the order above (tarjama's targets en and es first).  A text with no letter of a
known script (empty, digits, emoji) gets ``[Detection("en", 0.0)]``, which is exactly what LibreTranslate
returns when it detects nothing: clients written for it already handle that answer.

The work is linear: characters are counted once (``collections.Counter``, in C) and each distinct character
is classified once, and no regex here backtracks more than once over a run; 100 KB takes about 50 ms.  Only
the standard library (and segment.py's script table) is used.

Measured on the shared corpus by ``python bench/detect_accuracy.py``; tests/test_detect.py holds the figures.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tarjama.translate.segment import ARABIC_SCRIPT

__all__ = ["NOTHING_DETECTED", "Detection", "detect_language"]


@dataclass(frozen=True)
class Detection:
    """One candidate language: ``language`` an ISO 639-1 code, ``confidence`` 0.0–100.0 (LibreTranslate's scale),
    rounded to one decimal."""

    language: str
    confidence: float


NOTHING_DETECTED = Detection("en", 0.0)  # LibreTranslate's answer when it detects nothing
MAX_CANDIDATES = 3
OTHER_CAP = 80.0  # no language but Arabic is reported above this

# -- what is not language ------------------------------------------------------------------------------------

_NOISE = re.compile(
    r"(?:https?://|ftp://|www\.)\S+"  # URLs
    # e-mail addresses (before handles: both hold an @); the lookbehind starts a try only where a run of
    # address characters starts, so a long run without an @ is scanned once, not once per character
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|[@#][A-Za-z0-9_]+"  # @handles and Latin #hashtags; an Arabic hashtag is Arabic text
    r"|(?<![\w#])[A-Za-z0-9_]+#(?![\w#])",  # a Latin hashtag typed right to left: ChineseDontComeToJapan#
    re.IGNORECASE,
)

# -- scripts ---------------------------------------------------------------------------------------------------

ARABIC, LATIN = "Arabic", "Latin"
_HAN, _KANA = "Han", "Kana"
# (first, last code point, script); Arabic comes from segment.py, the one home of that definition
_RANGES = sorted([
    *((lo, hi, ARABIC) for lo, hi in ARABIC_SCRIPT),
    (0x0041, 0x005A, LATIN), (0x0061, 0x007A, LATIN), (0x00AA, 0x00AA, LATIN), (0x00BA, 0x00BA, LATIN),
    (0x00C0, 0x024F, LATIN), (0x0250, 0x02AF, LATIN), (0x1D00, 0x1DBF, LATIN), (0x1E00, 0x1EFF, LATIN),
    (0x2C60, 0x2C7F, LATIN), (0xA720, 0xA7FF, LATIN), (0xAB30, 0xAB6F, LATIN), (0xFF21, 0xFF3A, LATIN),
    (0xFF41, 0xFF5A, LATIN),
    (0x0370, 0x03FF, "Greek"), (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"), (0x1C80, 0x1C8F, "Cyrillic"), (0x2DE0, 0x2DFF, "Cyrillic"),
    (0xA640, 0xA69F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"), (0xFB13, 0xFB17, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"), (0xFB1D, 0xFB4F, "Hebrew"),
    (0x0900, 0x097F, "Devanagari"), (0xA8E0, 0xA8FF, "Devanagari"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x10A0, 0x10FF, "Georgian"), (0x1C90, 0x1CBF, "Georgian"), (0x2D00, 0x2D2F, "Georgian"),
    (0x1100, 0x11FF, "Hangul"), (0x3130, 0x318F, "Hangul"), (0xA960, 0xA97F, "Hangul"),
    (0xAC00, 0xD7FF, "Hangul"), (0xFFA0, 0xFFDC, "Hangul"),
    (0x3040, 0x30FF, _KANA), (0x31F0, 0x31FF, _KANA), (0xFF66, 0xFF9F, _KANA), (0x1B000, 0x1B16F, _KANA),
    (0x2E80, 0x2FDF, _HAN), (0x3005, 0x3007, _HAN), (0x3021, 0x3029, _HAN), (0x3400, 0x4DBF, _HAN),
    (0x4E00, 0x9FFF, _HAN), (0xF900, 0xFAFF, _HAN), (0x20000, 0x323AF, _HAN),
])
_STARTS = [lo for lo, _, _ in _RANGES]
# one language per script (Han and Kana are decided together in _cjk)
SCRIPT_LANGUAGE = {"Cyrillic": "ru", "Greek": "el", "Hebrew": "he", "Devanagari": "hi", "Hangul": "ko",
                   "Thai": "th", "Armenian": "hy", "Georgian": "ka"}
KANA_FOR_JAPANESE = 0.1  # kana share of CJK letters above which Han letters are read as Japanese


def _block_script(ch: str) -> str | None:
    """The script whose range holds ``ch``, letter or not; None outside every range."""
    cp = ord(ch)
    i = bisect.bisect_right(_STARTS, cp) - 1
    return _RANGES[i][2] if i >= 0 and cp <= _RANGES[i][1] else None


def script_of(ch: str) -> str | None:
    """The script of a letter among those detection knows, or None (another script, or not a letter)."""
    return _block_script(ch) if unicodedata.category(ch).startswith("L") else None


def count_scripts(chars: Counter[str]) -> tuple[Counter[str], int]:
    """Letters per known script, and all letters (unknown scripts included: they dilute every share)."""
    scripts: Counter[str] = Counter()
    letters = 0
    for ch, n in chars.items():
        if unicodedata.category(ch).startswith("L"):
            letters += n
            script = _block_script(ch)
            if script:
                scripts[script] += n
    return scripts, letters


# -- Arabic, Persian, Urdu -------------------------------------------------------------------------------------

PERSIAN_LETTERS = "پچژگکی"  # U+067E U+0686 U+0698 U+06AF U+06A9 U+06CC: Persian (and Urdu), never Arabic
URDU_LETTERS = "ٹڈڑںےھہ"  # U+0679 U+0688 U+0691 U+06BA U+06D2 U+06BE U+06C1: Urdu only
ARABIC_LETTERS = "ةىيك"  # U+0629 U+0649 U+064A U+0643: Arabic spelling, which Persian and Urdu replace
_ARTICLE = re.compile(r"(?<!\w)[وفبك]?ال")  # the definite article at a word's start, after a proclitic
ARTICLE_WEIGHT = 2.0  # one article is stronger evidence than one letter
PRIOR = {"ar": 2.0, "fa": 0.1, "ur": 0.1}  # pseudo-counts: an undecided Arabic-script text is Arabic
URDU_SHARE_FOR_URDU = 0.25  # Urdu-only letters' share of the non-Arabic evidence at which it is all Urdu


def arabic_evidence(text: str, chars: Counter[str]) -> dict[str, float]:
    """ar/fa/ur shares of an Arabic-script text, from the letters only one of them uses; fa and ur only where
    some letter points to them."""
    ar = sum(chars[c] for c in ARABIC_LETTERS) + ARTICLE_WEIGHT * len(_ARTICLE.findall(text))
    persian = sum(chars[c] for c in PERSIAN_LETTERS)
    urdu = sum(chars[c] for c in URDU_LETTERS)
    other = persian + urdu
    urdu_part = min(1.0, urdu / other / URDU_SHARE_FOR_URDU) if other else 0.0
    observed = {"ar": ar, "fa": other * (1 - urdu_part), "ur": other * urdu_part}
    total = sum(observed.values()) + sum(PRIOR.values())
    # the prior shifts every share, but a language with no letter of its own is not named
    return {lang: (n + PRIOR[lang]) / total for lang, n in observed.items() if n or lang == "ar"}


# -- Latin: stopwords ------------------------------------------------------------------------------------------

STOPWORDS = {
    "en": "the of and to a in is that for it was on with as are be by this have from at not or has were an they "
          "you he she her his which but will been i we my me do no",
    "es": "de la que el en y a los se del las un por con no una su para es al lo como más pero sus le ha este "
          "entre también fue son está muy o si ya hay esta estos nos te me mi él",
    "fr": "de la le et les des en un du une que est pour qui dans a par plus pas au sur ne se ce il sont avec "
          "son aux ont été mais ou elle",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden "
          "aus er hat dass sie nach wird bei",
    "it": "di e il la che in a per un è del non una i le si con da sono dei della al lo gli ha nel alla anche "
          "come più ma",
    "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas ao ele das seu "
          "sua ou foi são",
    "nl": "de van een het en in is dat op te zijn voor met die niet aan er om ook als dan maar bij of uit nog "
          "door naar wordt werd",
    "tr": "ve bir bu da de için ile çok olarak daha gibi en ne o ama var olan sonra kadar her ise değil yok "
          "ki göre veya şu ben onun",
    "id": "yang dan di ini itu dengan untuk dari tidak ke akan pada ada juga dalam saya atau oleh karena bisa "
          "sudah mereka kami kita adalah sebagai lebih telah bahwa seperti",
}

# characters only some of these languages write; each occurrence counts like one stopword
MARKS = {"es": "ñ¿¡", "pt": "ãõçêà", "fr": "èêàçœùîûë", "de": "äöüß", "tr": "ışğçöü", "it": "èìòà"}


def _weights(profiles: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """item → {language: 1/k} where k is how many profiles list the item: what is shared decides little."""
    owners: dict[str, list[str]] = {}
    for lang, items in profiles.items():
        for item in dict.fromkeys(items):
            owners.setdefault(item, []).append(lang)
    return {item: {lang: 1 / len(langs) for lang in langs} for item, langs in owners.items()}


WORD_WEIGHTS = _weights({lang: words.split() for lang, words in STOPWORDS.items()})
MARK_WEIGHTS = _weights({lang: list(marks) for lang, marks in MARKS.items()})
_LATIN_WORD = re.compile(r"[A-Za-zªºÀ-ÖØ-öø-ɏḀ-ỿ]+")  # a run of Latin letters, wherever it stands
NAME_WEIGHT = 0.1  # a capitalised Latin word that is no stopword, beside another script, is a name
STOPWORD_SHARE_FULL = 0.3  # share of tokens that are stopwords at which a text fully looks like a language
TOKENS_FULL = 12  # tokens at which a Latin text is long enough for a full-strength guess
FALLBACK_FIT = 0.15  # Latin letters that match no profile: "en" at this fraction of the Latin share


def latin_scores(text: str, latin_share: float) -> dict[str, float]:
    """Confidences (0–80) of the Latin-script languages a text's stopwords point to."""
    lowered = text.lower()
    tokens = _LATIN_WORD.findall(lowered)
    if not tokens:
        return {}
    scores: Counter[str] = Counter()
    hits = 0
    for item, n in [*Counter(tokens).items(), *((mark, lowered.count(mark)) for mark in MARK_WEIGHTS)]:
        weights = WORD_WEIGHTS.get(item) or MARK_WEIGHTS.get(item)
        if weights and n:
            hits += n
            for lang, weight in weights.items():
                scores[lang] += n * weight
    strength = OTHER_CAP * latin_share * min(1.0, (len(tokens) / TOKENS_FULL) ** 0.5)
    if not scores:
        return {"en": strength * FALLBACK_FIT}
    fit = max(FALLBACK_FIT, min(1.0, hits / len(tokens) / STOPWORD_SHARE_FULL))
    squares = {lang: score * score for lang, score in scores.items()}
    total = sum(squares.values())
    return {lang: strength * fit * sq / total for lang, sq in squares.items()}


# -- putting it together ---------------------------------------------------------------------------------------


def _cjk(scripts: Counter[str], letters: int) -> dict[str, float]:
    """zh and/or ja: Han with enough kana is Japanese (kanji), without it Chinese."""
    han, kana = scripts[_HAN], scripts[_KANA]
    if not han + kana:
        return {}
    if kana and kana >= KANA_FOR_JAPANESE * (han + kana):
        return {"ja": min(OTHER_CAP, 100 * (han + kana) / letters)}
    found = {"zh": min(OTHER_CAP, 100 * han / letters)} if han else {}
    if kana:
        found["ja"] = min(OTHER_CAP, 100 * kana / letters)
    return found


def name_letters(text: str) -> int:
    """Letters of the Latin names in a text (capitalised or all-caps words that are no stopword): "Google",
    "NATO", "Emergent BioSolutions" in an Arabic sentence are quoted names, not English."""
    words = _LATIN_WORD.findall(text)
    return sum(len(word) for word in words if word[0].isupper() and word.lower() not in WORD_WEIGHTS)


def weighted_letters(text: str, chars: Counter[str]) -> tuple[Counter[str], float]:
    """Letters per known script and in all, Latin names beside another script counting NAME_WEIGHT each.

    In a text of Latin script only the weighting changes nothing (every share stays 1), so it is skipped."""
    scripts, letters = count_scripts(chars)
    latin = scripts[LATIN]
    weighted: Counter[str] = Counter(scripts)
    if latin and latin < letters:
        discount = (1 - NAME_WEIGHT) * name_letters(text)
        weighted[LATIN] = latin - discount
        return weighted, letters - discount
    return weighted, letters


def _candidates(text: str) -> dict[str, float]:
    """Every language with evidence, and its unrounded confidence."""
    chars = Counter(text)
    scripts, letters = weighted_letters(text, chars)
    if not letters:
        return {}
    found: dict[str, float] = {}
    if scripts[ARABIC]:
        share = scripts[ARABIC] / letters
        for lang, evidence in arabic_evidence(text, chars).items():
            found[lang] = 100 * share * evidence if lang == "ar" else min(OTHER_CAP, 100 * share * evidence)
    if scripts[LATIN]:
        for lang, score in latin_scores(text, scripts[LATIN] / letters).items():
            found[lang] = score
    for script, lang in SCRIPT_LANGUAGE.items():
        if scripts[script]:
            found[lang] = min(OTHER_CAP, 100 * scripts[script] / letters)
    found.update(_cjk(scripts, letters))
    return found


_TIE_ORDER = {lang: i for i, lang in enumerate(["ar", "fa", "ur", *STOPWORDS])}


def _order(lang: str) -> tuple[int, str]:
    """Ties go to Arabic, then to the Latin languages in STOPWORDS' order (tarjama's targets en, es first)."""
    return (_TIE_ORDER.get(lang, len(_TIE_ORDER)), lang)


def detect_language(text: str | Sequence[str]) -> list[Detection]:
    """The likeliest languages of ``text``, best first, at most three, never empty.

    A sequence of strings is detected as the whole of its items, as LibreTranslate detects a list ``q``.
    Nothing to go on (no letters of a known script) gives ``[Detection("en", 0.0)]``, LibreTranslate's answer.
    """
    whole = text if isinstance(text, str) else "\n".join(text)
    # NFKC folds presentation forms (ﻟﻠﺤﻜﻮﻣﺔ) and fullwidth letters to the base letters the evidence lists
    found = _candidates(_NOISE.sub(" ", unicodedata.normalize("NFKC", whole)))
    ranked = sorted(((round(conf, 1), lang) for lang, conf in found.items()), key=lambda c: (-c[0], _order(c[1])))
    out = [Detection(lang, conf) for conf, lang in ranked[:MAX_CANDIDATES] if conf > 0]
    return out or [NOTHING_DETECTED]
