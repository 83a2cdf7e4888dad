"""Cleaning and segmentation of Arabic news text: clean → paragraphs → sentences, with offsets.

Marian models translate one sentence at a time well and long inputs badly, so the article is cut into
sentences first. Cleaning removes what a translator must not see (invisible bidi marks, scraped web
boilerplate, a title repeated by the scraper) and reports every removal, so nothing is lost silently.

Removed kinds: ``invisible`` (bidi/zero-width marks, soft hyphen), ``control`` (C0/C1 controls),
``tatweel`` (elongation; a free-standing one used as a dash becomes "-"), ``presentation_form``
(Arabic presentation-form letters folded by NFKC: the text is replaced, not lost), ``separator``
(a line with no letter or digit, e.g. "-----"), ``repeated_title`` (a line equal to the previous
non-empty line), ``boilerplate`` (web chrome: share/follow/newsletter/read-also lines, a trailing
block of short unpunctuated lines).

Only the standard library is used.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "Paragraph",
    "Removed",
    "Segmented",
    "Sentence",
    "clean",
    "segment",
    "split_clauses",
    "split_paragraphs",
    "split_sentences",
]


@dataclass(frozen=True)
class Removed:
    """Something cleaning took out (or replaced); ``line`` is 1-based in the original input, 0 if global."""

    kind: str
    text: str
    line: int


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offsets into Segmented.text
    end: int


@dataclass(frozen=True)
class Paragraph:
    sentences: tuple[Sentence, ...]
    start: int
    end: int

    @property
    def text(self) -> str:
        """The paragraph as it stands in the cleaned text (single spaces between sentences, or none)."""
        parts: list[str] = []
        prev_end: int | None = None
        for s in self.sentences:
            if prev_end is not None:
                parts.append(" " * (s.start - prev_end))
            parts.append(s.text)
            prev_end = s.end
        return "".join(parts)


@dataclass(frozen=True)
class Segmented:
    text: str  # cleaned text
    paragraphs: tuple[Paragraph, ...]
    removed: tuple[Removed, ...]

    def sentences(self) -> list[Sentence]:
        """All sentences, flat, in document order."""
        return [s for p in self.paragraphs for s in p.sentences]


# ---------------------------------------------------------------------------------------------------
# Arabic script: the one definition of "is this Arabic" (the input check, the untranslated flag, the smoke check).
ARABIC_SCRIPT = (
    (0x0600, 0x06FF),  # Arabic
    (0x0750, 0x077F),  # Arabic Supplement
    (0x0870, 0x08FF),  # Arabic Extended-B and -A
    (0xFB50, 0xFDFF),  # Arabic Presentation Forms-A
    (0xFE70, 0xFEFF),  # Arabic Presentation Forms-B
    (0x1EE00, 0x1EEFF),  # Arabic Mathematical Alphabetic Symbols
)


def is_arabic_script(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in ARABIC_SCRIPT)


def has_arabic_letter(text: str) -> bool:
    """Does ``text`` hold an Arabic-script letter (not only Arabic digits or punctuation)?  What decides
    whether a text is sent to an Arabic-source model at all."""
    return any(ch.isalpha() and is_arabic_script(ch) for ch in text)


def arabic_share(text: str) -> float:
    """Share of a text's letters that are Arabic script (digits, punctuation and marks do not count); 0 without
    letters."""
    letters = arabic = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            arabic += is_arabic_script(ch)
    return arabic / letters if letters else 0.0


# character classes

_AR_LETTER = "\u0621-\u063a\u0641-\u064a\u0671-\u06d3\u06d5"  # Arabic letters (no tatweel)
ARABIC_MARKS = "\u064b-\u065f\u0670\u06d6-\u06ed"  # harakat and Quranic marks (a regex character range)
_AR_MARK = ARABIC_MARKS
_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u061c\u00ad\ufeff\u180e"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f\ufff9\ufffa\ufffb"
)
# Treated as line breaks, not deleted: deleting a form feed between two words would glue them.
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace but newline (tab, NBSP, thin space, ...)
_PRESENTATION = re.compile(r"[\ufb50-\ufdff\ufe70-\ufefc]+")
# Tatweel between letters is decoration; after a letter before a non-letter it is a connector
# (بـ"..." / الـ 16 / لـCNN / 276هـ) that MT models know, so it stays; standing alone it is a dash.
_TATWEEL = re.compile(r"\u0640+")
_AR_CHAR = re.compile(rf"[{_AR_LETTER}{_AR_MARK}]")
_HAS_WORD = re.compile(r"\w")

# ---------------------------------------------------------------------------------------------------
# sentence boundaries

_CLOSERS = "»”’\"')]}›"
_STRONG_END = "!?؟‼⁇⁈⁉"
# A run of terminators, then closing quotes/brackets, then whitespace or the end.
_CANDIDATE = re.compile(rf"([.!?؟…‼⁇⁈⁉۔]+)([{re.escape(_CLOSERS)}]*)(?=\s|$)")
# Arabic text glued across a sentence end ("المقبل.حتى"): split only between real words.
_GLUED = re.compile(
    rf"(?<=[{_AR_LETTER}][{_AR_LETTER}{_AR_MARK}]{{2}}[{_AR_LETTER}])([.!?؟]+)(?=[{_AR_LETTER}]{{2}})"
)
_GLUED_TLD = re.compile(r"(?:نت|كوم|أورغ|اورغ|أورج|اورج|إنفو|انفو)(?![\w])")
_NOT_STARTER = frozenset("،,;؛:)]}»”.…!?؟")
_WORD_BEFORE = re.compile(r"(\S*)$")
_LOOK_BACK = 80  # chars of left context the abbreviation rules look at (keeps long paragraphs linear)
_OPEN_PUNCT = "«“‘\"'([{‹"
_LATIN_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_LATIN_INITIAL = re.compile(r"[A-Z]")
_ARABIC_ACRONYM = re.compile(rf"(?:[{_AR_LETTER}]\u0640?\.)*[{_AR_LETTER}]\u0640?")
_ENDS_IN_DIGIT = re.compile(r"[0-9٠-٩۰-۹]$")
_LIST_NUMBER = re.compile(r"[0-9٠-٩]{1,2}")
# Titles and abbreviations that a sentence does not end on (lower-cased, no final dot).
_LATIN_ABBREV = frozenset(
    re.findall(
        r"\S+",
        """mr mrs ms mx dr prof st sr jr rev gen col lt sgt capt cmdr gov sen rep pres mt ft no nos vs v
        e.g i.e cf viz approx ca dept est fig figs vol vols pp p ed eds al op inc ltd co corp bros etc
        jan feb mar apr jun jul aug sep sept oct nov dec a.m p.m u.s u.k u.n e.u min max""",
    )
)
# Arabic spellings of Latin letter names (after hamza folding). One after a name is an initial
# ("جون إف. كينيدي"); one after another letter name ends an acronym ("بي بي سي.", "أي تي في.").
# "بي" (also "in me") and "اكس" (also the platform X) end sentences too often to be initials.
_LETTER_NAMES = frozenset(
    re.findall(r"\S+", "ايه بي سي دي اي اف جي اتش جيه كيه ال ام ان او كيو ار اس تي يو في دبليو اكس واي زد")
)
_NOT_INITIALS = frozenset(("بي", "اكس"))
# A single letter after these nouns is a label ("المجموعة أ."), which can end a sentence.
_LABEL_NOUN = re.compile(
    r"(?:ال)?(?:مجموعه|فئه|خطه|بند|فقره|ملحق|قسم|نوع|فيتامين|درجه|شكل|جدول|مرحله|مستوي|خانه)$"
)
# Words that attribute a quotation just closed ("...!" قال / ..." حسبما أفاد), on folded text.
_ATTRIBUTION = re.compile(
    r"(?:قال|قالت|يقول|تقول|اضاف|اضافت|يضيف|تضيف|تابع|تابعت|اكد|اكدت|اوضح|اوضحت|كما|حسبما|بحسب|حسب|"
    r"وفق|وفقا|صرح|صرحت|ذكر|ذكرت|افاد|افادت|سال|سالت|تساءل|تساءلت|هكذا|علي حد)(?![\w])"
)
_BRACKETS = {"(": ")", "[": "]"}
_MAX_PROTECTED = 300  # a bracketed aside up to this many chars stays inside one sentence

# ---------------------------------------------------------------------------------------------------
# clauses (for over-long sentences), strongest first

_CLAUSE_LEVELS = (
    re.compile(rf"(?:[؛;…]|\.{{2,}})[{re.escape(_CLOSERS)}]*(?=\s)"),
    re.compile(rf"[،,][{re.escape(_CLOSERS)}]*(?=\s)"),
    re.compile(rf":[{re.escape(_CLOSERS)}]*(?=\s)"),
)

# ---------------------------------------------------------------------------------------------------
# boilerplate (matched on a folded line: no diacritics/tatweel, أإآٱ→ا, ى→ي, ة→ه, lower case)

# The one spelling fold of Arabic letters (boilerplate here, glossary terms in tarjama.translate.glossary):
# hamza-carrying alefs and wasla → bare alef, alef maqsura → ya, ta marbuta → ha, tatweel dropped.
ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "\u0640": None})
_FOLD_MARKS = re.compile(rf"[{_AR_MARK}]")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_SOCIAL = (
    r"(?:فيسبوك|فيس بوك|الفيسبوك|تويتر|اكس|واتساب|واتس اب|الواتساب|تيليجرام|تيليغرام|تلغرام|تليجرام|"
    r"انستغرام|انستجرام|انستقرام|يوتيوب|لينكد ان|لينكدان|سناب شات|ماسنجر|بينتريست|تيك توك|"
    r"facebook|twitter|x|whatsapp|telegram|instagram|youtube|linkedin|pinterest|tiktok|email|e-mail|"
    r"reddit|messenger|rss)"
)
_CHROME_PHRASES = (
    # Arabic
    r"(?:قد|ربما)? ?(?:يعجبك|تعجبك|يعجبكم) (?:ايضا|كذلك)",
    r"(?:اقرا|اقرئي|شاهد|شاهدي|اطلع علي) (?:ايضا|كذلك|المزيد)",
    r"(?:ال)?مزيد(?: من (?:الاخبار|المقالات|التفاصيل))?",
    r"للمزيد",
    r"(?:اخبار|مواضيع|موضوعات|مقالات|قصص|روابط|فيديوهات) (?:ذات صله|متعلقه|مشابهه|مقترحه)",
    r"ذات صله",
    r"(?:الاكثر|الاخبار الاكثر) (?:قراءه|مشاهده|تداولا|شعبيه)",
    r"(?:اخر|اهم|احدث) الاخبار",
    r"الرئيسيه",
    r"(?:تابعونا|تابعنا|تابعوا|تابعني|تابعوني)(?: (?:علي|عبر) .*)?",
    rf"(?:شارك|شاركوا|شاركي|مشاركه|انشر|نشر)(?: (?:المقال|الخبر|الموضوع|الصفحه|هذا المقال|هذا الخبر|"
    rf"هذه الصفحه|هذا الموضوع|علي|عبر)(?: {_SOCIAL})?)?",
    r"(?:اشترك|اشتركوا|اشتركي)(?: (?:الان|مجانا))?",
    r"(?:اشترك|اشتركوا|اشتركي) (?:في|ب|بـ)? ?(?:النشره|نشرتنا|قناتنا|القناه|خدمه|الخدمه|الموقع).*",
    r"(?:احصل|احصلوا) علي (?:النشره|نشرتنا|اخر الاخبار).*",
    r"(?:النشره|نشرتنا) (?:الاخباريه|البريديه|اليوميه)",
    r"(?:ابق|ابقي|ابقوا|كن|كوني|كونوا) علي (?:اتصال|تواصل|اطلاع)",
    r"(?:تواصل معنا|اتصل بنا|من نحن|سياسه الخصوصيه|شروط الاستخدام)",
    r"(?:اعلان|اعلانات|محتوي ممول|محتوي مدفوع)",
    r"(?:التعليقات|تعليقات|عدد التعليقات|اضف تعليق|اضف تعليقا|اترك تعليقا|اترك ردا|اكتب تعليقا)",
    r"(?:الكلمات الداله|كلمات داله|كلمات مفتاحيه|الوسوم|وسوم)",
    r"(?:طباعه|ارسل لصديق|ارسال لصديق|حفظ|نسخ الرابط|رابط مختصر)",
    r"انتهي",
    # English
    r"(?:you (?:may|might) also like|read (?:also|more)|also read|see also|more (?:news|stories))",
    r"(?:related|recommended)(?: (?:articles|posts|stories|news|content|for you))?",
    r"(?:share|share this(?: article| story| post)?|tweet|follow us|subscribe)(?: (?:now|on|to|via) .*)?",
    r"(?:sign up|get) (?:for |to )?(?:our |the )?newsletter.*|newsletter",
    r"(?:stay (?:connected|in touch|informed)|contact us|about us|privacy policy|terms of use)",
    r"(?:advertisement|sponsored(?: content)?|click here.*|comments?|leave a (?:comment|reply)|tags|print)",
)
_CHROME = re.compile(rf"(?:{'|'.join(_CHROME_PHRASES)})(?: {_SOCIAL})*")
_SOCIAL_ONLY = re.compile(rf"{_SOCIAL}(?:[\s|،,/·•-]+{_SOCIAL})*")
# A link list item or an app promotion can be longer than a menu entry; the prefix gives it away.
_CHROME_PREFIX = re.compile(
    r"(?:(?:اقرا|اقرئي|شاهد|طالع) (?:ايضا|كذلك)|رابط الخبر|read also|see also|also read)\b"
    r"|(?:يمكنكم|يمكنك|بامكانكم|بامكانك|حملوا|نزلوا|قم بتحميل|لا تنسوا|انضموا|تابعونا|اشتركوا)\b.*"
    r"\b(?:تطبيق|اشعارات|النشره|قناتنا|صفحتنا|صفحاتنا|حسابنا|حساباتنا|موقعنا|"
    r"فيسبوك|تويتر|يوتيوب|تيليجرام|تلغرام|واتساب|انستغرام|انستجرام)"
)
_COPYRIGHT = re.compile(
    r"©|\(c\) ?\d{4}|all rights reserved|^copyright\b|(?:جميع|كل) الحقوق محفوظه|"
    r"حقوق (?:النشر|الطبع|الملكيه)(?: والنشر| والتوزيع)? محفوظه"
)
# A heading that introduces a list of links to other articles ("اقرأ أيضا:" then headlines).
_LINK_HEADING = re.compile(
    r"(?:اقرا|اقرئي|شاهد|طالع) (?:ايضا|كذلك)|(?:اخبار|مواضيع|موضوعات|مقالات|قصص|روابط) (?:ذات صله|متعلقه)|"
    r"ذات صله|قد يعجبك ايضا|read also|see also|also read|related(?: articles| stories| posts)?|more stories"
)
_LINK_WORDS = 12  # a linked headline under such a heading has at most this many words
_LINK_LINES = 8
_SENTENCE_FINAL = re.compile(rf"[.!?؟…۔][{re.escape(_CLOSERS)}]*$")
_LIST_ITEM = re.compile(r"^(?:[-–—•·▪●◾►]|[0-9٠-٩]{1,2}\s?[.)\-–])")
_SHORT_WORDS = 8  # "short line": at most this many words
_PREFIX_WORDS = 25  # a prefixed chrome line ("اقرأ أيضا: <headline>") may be this long
_COPYRIGHT_WORDS = 15


# ===================================================================================================
# cleaning


def clean(text: str) -> tuple[str, list[Removed]]:
    """Normalise ``text`` and strip what must not be translated; report every removal.

    Lines are numbered as in the original input (\\r\\n, \\r, \\n, \\v, \\f, U+2028/9 each end a line).
    Spaces are normalised silently: NBSP and other spaces and tabs become one plain space, lines are
    trimmed, and runs of blank lines become one blank line.
    """
    removed: list[Removed] = []
    lines = [_clean_line(raw, no, removed) for no, raw in enumerate(_LINE_BREAK.split(text), start=1)]
    keep = [bool(line) for line in lines]
    _drop_separators(lines, keep, removed)
    _drop_repeats(lines, keep, removed)
    _drop_boilerplate(lines, keep, removed)
    removed.sort(key=lambda r: r.line)
    return _join_lines(line if k else "" for line, k in zip(lines, keep, strict=True)), removed


def _clean_line(line: str, no: int, removed: list[Removed]) -> str:
    """One original line with invisible/control marks, presentation forms and tatweel handled."""
    counts = Counter(ch for ch in line if ch in _INVISIBLE)
    if counts:
        line = "".join(ch for ch in line if ch not in _INVISIBLE)
        removed += [Removed("invisible", f"{_codepoint(ch)} ×{n}", no) for ch, n in sorted(counts.items())]
    controls = Counter(_CONTROL.findall(line))
    if controls:
        line = _CONTROL.sub("", line)
        removed += [Removed("control", f"{_codepoint(ch)} ×{n}", no) for ch, n in sorted(controls.items())]
    line = _fold_presentation_forms(line, no, removed)
    line = _strip_tatweel(line, no, removed)
    return _SPACES.sub(" ", line).strip()


def _codepoint(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _fold_presentation_forms(line: str, no: int, removed: list[Removed]) -> str:
    """PDF/legacy text uses contextual glyph codepoints (ﻟﻤﻘﺎﻭﻣﺔ) that tokenizers do not know."""
    n = sum(len(m) for m in _PRESENTATION.findall(line))
    if not n:
        return line
    removed.append(Removed("presentation_form", f"Arabic presentation forms ×{n} → NFKC", no))
    return _PRESENTATION.sub(lambda m: unicodedata.normalize("NFKC", m.group()), line)


def _strip_tatweel(line: str, no: int, removed: list[Removed]) -> str:
    """Drop decorative tatweel, keep one connector (بـ/الـ/هـ), make a free-standing one a dash."""
    decor = dashes = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal decor, dashes
        before = line[m.start() - 1] if m.start() else " "
        after = line[m.end()] if m.end() < len(line) else " "
        if not _AR_CHAR.match(before):
            dashes += len(m.group())
            return "-"
        if _AR_CHAR.match(after):
            decor += len(m.group())
            return ""
        decor += len(m.group()) - 1
        return "\u0640"

    line = _TATWEEL.sub(replace, line)
    if decor:
        removed.append(Removed("tatweel", f"U+0640 ×{decor}", no))
    if dashes:
        removed.append(Removed("tatweel", f"U+0640 ×{dashes} → '-'", no))
    return line


def _drop_separators(lines: list[str], keep: list[bool], removed: list[Removed]) -> None:
    """A line without any letter or digit ("-----", "***", "...") carries nothing to translate."""
    for i, line in enumerate(lines):
        if keep[i] and not _HAS_WORD.search(line.replace("_", "")):
            keep[i] = False
            removed.append(Removed("separator", line, i + 1))


def _drop_repeats(lines: list[str], keep: list[bool], removed: list[Removed]) -> None:
    """Scrapers often emit the title twice; any line equal to the previous non-empty line goes."""
    prev: str | None = None
    for i, line in enumerate(lines):
        if not keep[i]:
            continue
        if line == prev:
            keep[i] = False
            removed.append(Removed("repeated_title", line, i + 1))
        prev = line


def _drop_boilerplate(lines: list[str], keep: list[bool], removed: list[Removed]) -> None:
    """Chrome lines anywhere, headlines listed under a read-also heading, and a trailing block of
    short unpunctuated lines after the body."""
    chrome = [keep[i] and _is_chrome(line) for i, line in enumerate(lines)]
    for i in _linked_headlines(lines, keep, chrome):
        chrome[i] = True
    tail = _trailing_block(lines, keep, chrome)
    for i, line in enumerate(lines):
        if chrome[i] or i in tail:
            keep[i] = False
            removed.append(Removed("boilerplate", line, i + 1))


def _fold_letters(line: str) -> str:
    """Spelling-insensitive form (hamza/alef, ى/ي, ة/ه, case, no diacritics), punctuation kept."""
    return _FOLD_MARKS.sub("", line.translate(ARABIC_FOLD)).lower()


def _fold(line: str) -> str:
    """``_fold_letters`` with the punctuation around each word dropped, for phrase matching."""
    words = (_EDGE_PUNCT.sub("", w) for w in _fold_letters(line).split())
    return " ".join(w for w in words if w)


def _is_chrome(line: str) -> bool:
    """Web chrome: menus, share/follow/subscribe prompts, read-also links, copyright lines."""
    words = len(line.split())
    folded = _fold(line)
    if not folded:
        return False
    if (
        words <= _SHORT_WORDS
        and not line.endswith((".", "؟", "?"))  # a real sentence ("شارك في المؤتمر 50 خبيرا.")
        and (_CHROME.fullmatch(folded) or (_SOCIAL_ONLY.fullmatch(folded) and folded not in ("x", "اكس")))
    ):
        return True
    if words <= _PREFIX_WORDS and _CHROME_PREFIX.match(folded):
        return True
    return words <= _COPYRIGHT_WORDS and bool(_COPYRIGHT.search(_fold_letters(line)))


def _linked_headlines(lines: list[str], keep: list[bool], chrome: list[bool]) -> Iterator[int]:
    """Short unpunctuated lines right under a bare "اقرأ أيضا:" / "Related:" heading."""
    for i, line in enumerate(lines):
        if not (chrome[i] and _LINK_HEADING.fullmatch(_fold(line))):
            continue
        taken = 0
        for j in range(i + 1, len(lines)):
            if not keep[j]:
                continue
            if taken >= _LINK_LINES or not _is_headline(lines[j]):
                break
            taken += 1
            yield j


def _is_headline(line: str) -> bool:
    return len(line.split()) <= _LINK_WORDS and not _SENTENCE_FINAL.search(line) and not line.endswith(":")


def _is_short_tail_line(line: str) -> bool:
    return (
        len(line.split()) <= _SHORT_WORDS
        and not _SENTENCE_FINAL.search(line)
        and not line.endswith((":", "،", ","))
        and not _LIST_ITEM.match(line)
    )


def _trailing_block(lines: list[str], keep: list[bool], chrome: list[bool]) -> set[int]:
    """Indices of a trailing run of ≥2 short unpunctuated (or chrome) lines that follows body text.

    Guards against eating content: the run must not reach the first line (a headline), the line
    before it must not end with ":" (then the run is a list: contacts, results, credits), and it
    must not be most of the text.
    """
    block: list[int] = []
    body: int | None = None
    for i in range(len(lines) - 1, -1, -1):
        if not (keep[i] or chrome[i]):
            continue
        if chrome[i] or _is_short_tail_line(lines[i]):
            block.append(i)
            continue
        body = i
        break
    first = next((i for i, k in enumerate(keep) if k or chrome[i]), None)
    short = [i for i in block if not chrome[i]]
    if body is None or not short or len(block) < 2 or first in block:
        return set()
    if lines[body].endswith((":", "،", ",")):
        return set()
    total = sum(len(line) for i, line in enumerate(lines) if keep[i])
    if sum(len(lines[i]) for i in short) * 2 > total:
        return set()  # mostly short lines: a list or a table, not a page footer
    return set(short)


def _join_lines(lines: Iterable[str]) -> str:
    """Join with newlines; at most one blank line in a row, none at the ends."""
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


# ===================================================================================================
# paragraphs and sentences


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the non-empty lines of ``text`` (each is a paragraph), whitespace-trimmed."""
    spans = []
    for m in re.finditer(r"[^\n\r\v\f\x85\u2028\u2029]+", text):
        start, end = _trim(text, m.start(), m.end())
        if start < end:
            spans.append((start, end))
    return spans


def split_sentences(paragraph: str) -> list[tuple[int, int]]:
    """Sentence spans of ``paragraph``, whitespace-trimmed, covering all of its non-space text.

    Splits after . ! ? ؟ (and runs such as ?! or ؟!) with any closing quotes/brackets, when a new
    sentence can follow. Never inside numbers, after abbreviations and initials (Dr. / د. / أ. د. /
    U.S. / J. Smith / جون إف. كينيدي), inside a short bracketed aside, before attribution after a quoted
    sentence ("...!" قال), or at an ellipsis (in Arabic news "..." is mostly a pause, not an end).
    Also splits Arabic sentences glued without a space ("المقبل.وقال").
    """
    protected = _protected(paragraph)
    cuts = sorted({*_candidate_cuts(paragraph, protected), *_glued_cuts(paragraph, protected)})
    spans, start = [], 0
    for cut in [*cuts, len(paragraph)]:
        s, e = _trim(paragraph, start, cut)
        if s < e:
            spans.append((s, e))
        start = cut
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _candidate_cuts(text: str, protected: list[bool]) -> Iterator[int]:
    for m in _CANDIDATE.finditer(text):
        if not protected[m.end() - 1] and _is_boundary(text, m):
            yield m.end()


def _glued_cuts(text: str, protected: list[bool]) -> Iterator[int]:
    for m in _GLUED.finditer(text):
        if m.group(1).count(".") >= 2 or _GLUED_TLD.match(text, m.end()) or protected[m.end() - 1]:
            continue
        yield m.end()


def _is_boundary(text: str, m: re.Match[str]) -> bool:
    """Whether the terminator run ``m`` (followed by whitespace) ends a sentence."""
    nxt = _next_char_index(text, m.end())
    if nxt is None:
        return False  # the paragraph ends here anyway
    follower = text[nxt]
    if follower in _NOT_STARTER or ("a" <= follower <= "z"):
        return False
    term, closers = m.group(1), m.group(2)
    if any(ch in _STRONG_END for ch in term):
        return not (_has_quote(closers) and _attributes(text, nxt))
    if term != "." and term != "۔":
        return False  # "..", "...", "…": a pause
    if _has_quote(closers) and _attributes(text, nxt):
        return False
    return not _is_abbreviation(text, m.start(), follower)


def _attributes(text: str, start: int) -> bool:
    return bool(_ATTRIBUTION.match(_fold_letters(text[start : start + 24])))


def _next_char_index(text: str, pos: int) -> int | None:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos if pos < len(text) else None


def _has_quote(closers: str) -> bool:
    return any(ch in "»”’\"'›" for ch in closers)


def _is_abbreviation(text: str, dot: int, follower: str) -> bool:
    """Whether the word before the dot at ``dot`` is an abbreviation or initial, not a sentence end."""
    raw = _WORD_BEFORE.search(text, max(0, dot - _LOOK_BACK), dot).group(1)
    word = raw.lstrip(_OPEN_PUNCT)
    if not word:
        return False
    word_start = dot - len(raw)
    if _LATIN_INITIAL.fullmatch(word):
        return "A" <= follower <= "Z"  # "J. Smith"; "فيتامين C. ثم" ends a sentence
    if _LATIN_ACRONYM.fullmatch(word) or word.lower() in _LATIN_ABBREV:
        return word.lower() != "etc"
    if _ARABIC_ACRONYM.fullmatch(word):
        # د. / أ. د. / ص.ب. are titles and references; م. / هـ. / ق.م. after a year end sentences,
        # and so does a label ("المجموعة أ.").
        return not (_follows_number(text, word_start) or _follows_label(text, word_start))
    if _is_initial(text, word_start, _fold(word)):
        return True
    return bool(_LIST_NUMBER.fullmatch(word)) and _opens_item(text, word_start)


def _opens_item(text: str, word_start: int) -> bool:
    """A bare "2." right after a sentence end, a colon or the paragraph start numbers a list item."""
    before = _left(text, word_start).rstrip()
    return not before or before[-1] in ".!?؟:؛;)»\"”"


def _is_initial(text: str, word_start: int, folded: str) -> bool:
    if folded not in _LETTER_NAMES or folded in _NOT_INITIALS:
        return False
    before = _left(text, word_start).split()
    return not before or _fold(before[-1]) not in _LETTER_NAMES


def _left(text: str, end: int) -> str:
    return text[max(0, end - _LOOK_BACK) : end]


def _follows_number(text: str, word_start: int) -> bool:
    before = _left(text, word_start).rstrip()
    return bool(_ENDS_IN_DIGIT.search(before))


def _follows_label(text: str, word_start: int) -> bool:
    before = _left(text, word_start).split()
    return bool(before) and bool(_LABEL_NOUN.search(_fold(before[-1])))


def _protected(text: str) -> list[bool]:
    """Per offset: inside a short bracketed aside, where no sentence ends.

    Quotations are not protected: news quotes often hold several sentences, and references
    (NTREX-128) split them; measured, protecting them cost recall and gained nothing elsewhere.
    """
    depth = [0] * (len(text) + 1)
    for opener, closer in _BRACKETS.items():
        stack: list[int] = []
        for i, ch in enumerate(text):
            if ch == opener:
                stack.append(i)
            elif ch == closer and stack:
                start = stack.pop()
                if i - start - 1 <= _MAX_PROTECTED:
                    depth[start + 1] += 1
                    depth[i] -= 1
    inside, level = [], 0
    for d in depth[:-1]:
        level += d
        inside.append(level > 0)
    return inside


def split_clauses(sentence: str, too_long: Callable[[str], bool] | None = None) -> list[str]:
    """Pieces of an over-long sentence, cut after clause marks; they rejoin with single spaces.

    Marks, strongest first: ؛ ; and ellipses, then ، , then :. Without ``too_long`` every mark of
    every level cuts (the finest pieces, for a caller that merges them up to its limit). With it,
    a weaker mark is used only inside a piece that is still too long, and adjacent pieces are merged
    back while the merge is not too long. A piece with no mark left is returned as is.
    """
    text = " ".join(sentence.split())
    if not text:
        return []
    if too_long is None:
        pieces = [text]
        for level in _CLAUSE_LEVELS:
            pieces = [q for p in pieces for q in _cut_after(p, level)]
        return pieces
    return _split_hierarchically(text, 0, too_long)


def _split_hierarchically(text: str, level: int, too_long: Callable[[str], bool]) -> list[str]:
    if level >= len(_CLAUSE_LEVELS) or not too_long(text):
        return [text]
    pieces = _merge_pieces(_cut_after(text, _CLAUSE_LEVELS[level]), too_long)
    out: list[str] = []
    for piece in pieces:
        out += _split_hierarchically(piece, level + 1, too_long)
    return out


def _cut_after(text: str, mark: re.Pattern[str]) -> list[str]:
    pieces, start = [], 0
    for m in mark.finditer(text):
        pieces.append(text[start : m.end()].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _merge_pieces(pieces: list[str], too_long: Callable[[str], bool]) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        if out and not too_long(f"{out[-1]} {piece}"):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


# ===================================================================================================


def segment(text: str) -> Segmented:
    """Clean ``text``, then cut it into paragraphs (non-empty lines) and sentences with offsets."""
    cleaned, removed = clean(text)
    paragraphs = []
    for p_start, p_end in split_paragraphs(cleaned):
        sentences = tuple(
            Sentence(cleaned[p_start + s : p_start + e], p_start + s, p_start + e)
            for s, e in split_sentences(cleaned[p_start:p_end])
        )
        paragraphs.append(Paragraph(sentences, p_start, p_end))
    return Segmented(cleaned, tuple(paragraphs), tuple(removed))
