"""HTML in, HTML out: translate only the text of a fragment or document (LibreTranslate's ``format=html``).

Everything that is not Arabic text comes back byte for byte: tags with their attributes and quoting,
comments, doctypes, entities outside translated text, whitespace between blocks.  No HTML parser is used
(``html.parser`` and lxml normalise what they read, so nothing could be returned byte for byte); instead:

1. ``tokenize`` cuts the input into tokens that keep their exact source text (their concatenation *is* the
   input): comments, ``<!...>`` declarations, CDATA, ``<?...?>``, start and end tags, text, and the raw
   content of ``script``/``style``/``textarea``-like elements, which is never looked into.  A ``<`` that
   cannot begin a tag is text.  A tag, comment or declaration that is never closed runs to the end of the
   input as one token, as in browsers (they swallow it), which also keeps the tokenizer linear.
2. Opaque subtrees (``code``, ``pre``, ``svg``, …, and any element with ``translate="no"`` or the
   ``notranslate`` class) are found by counting the depth of their tag name and are never translated.
3. Every tag that is not inline (``p``, ``div``, ``li``, ``td``, ``br``, unknown tags, …) is a boundary.
   Between two boundaries lies a *run*: text and inline tags.  Only runs with an Arabic letter are sent to
   the translator, all of them in one call, so batching and sentence splitting stay the translator's job.
4. Inside a run, each inline tag is replaced by a marker word (``ZXAA``, ``ZXAB``, …); an inline element
   with no Arabic inside (a link showing a URL, a Mastodon @mention, an ``<img>``, an opaque ``<code>``)
   becomes one *atomic* marker for its whole source, an inline element with Arabic inside a *pair* of
   markers (start and end tag), so its translated content stays wrapped.  What needs no marker stays in
   place, outside the text sent: the run's own leading and trailing whitespace, comments and unmatched
   tags at its edges, a pair around the whole run (``<p><b>…</b></p>``).  The text is sent decoded
   (``&amp;`` → ``&``) with its whitespace collapsed to single spaces, as a browser shows it; a marker is
   spaced off from letters but not from punctuation ("ZXAB." is a word already), so a model that drops
   it leaves no stray space before the full stop.
5. After translation the markers are put back.  An atomic marker is never lost: missing ones are appended
   to the run's translation, so a link never leaves its paragraph.  A pair is kept only when both markers
   came back once, in order, properly nested; otherwise it is unwrapped (its tags go, its text stays).
   Unmatched tags (a link around a ``<div>``, malformed input) are atomic too, and are kept in their
   original order and outside every kept pair, since moving one would make the output cross.
   Translated text is escaped again; the output of a well-formed input is well-formed.

Why markers look like ``ZXAB``: ``protected.py`` treats all-capital Latin runs inside Arabic as acronyms
the translation must carry verbatim, and the translator re-decodes with placeholders when a model drops
one, so a marker gets the same protection as "IOM" or "CNN".  No digits or punctuation (which Moses and
sentencepiece split, move or drop), and "ZX" begins no English or Spanish word.  The letters are those of
``placeholders.py`` (I, O, Q, Z left out: 22² = 484 markers); it uses ``ZQ?``, so the two never clash.
A marker that already occurs in a run's text is not used for that run.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

from tarjama.translate.segment import has_arabic_letter

__all__ = ["MARKERS", "Token", "Translate", "html_runs", "tokenize", "translate_html", "visible_text"]

Translate = Callable[[list[str]], list[str]]

_LETTERS = "ABCDEFGHJKLMNPRSTUVWXY"
MARKERS = tuple(f"ZX{a}{b}" for a in _LETTERS for b in _LETTERS)
_MARKER = re.compile(f"ZX[{_LETTERS}]{{2}}")


def _tags(names: str) -> frozenset[str]:
    """A set of tag names, written as one string so the tables stay readable."""
    return frozenset(names.split())


# Phrasing elements a sentence runs through; <br> ends a run (a line break is a boundary).
INLINE = _tags("a abbr b bdi bdo big cite data dfn em font i ins del mark q s small span strong sub sup u "
               "wbr img label")
VOID = _tags("area base br col embed hr img input keygen link meta param source track wbr")
RAW_TEXT = _tags("script style textarea xmp iframe noembed noframes")  # content is not markup
OPAQUE = _tags("code pre kbd samp var address applet audio canvas embed time video svg math object iframe "
               "noscript template script style textarea xmp noembed noframes")  # never translated
# Opaque elements that sit inside a sentence: one atomic marker in the run (the others are boundaries).
INLINE_OPAQUE = _tags("code kbd samp var time audio video canvas embed svg math object iframe applet")

_HTML_SPACE = " \t\n\r\f"
_SPACES = re.compile(r"[ \t\n\r\f]+")
_NAME = re.compile(r"[A-Za-z][^\t\n\f\r />]*")
_TAG_OPEN = re.compile(r"<[A-Za-z!?/]")  # any other "<" is text
_STOP = re.compile(r"[>=]")
_SPACE = re.compile(r"[\t\n\f\r ]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")
_ATTRIBUTE = re.compile(r"""([^\s"'>/=][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")
_PUNCTUATION = ".,;:!?"


# --- tokens -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """A piece of the input with its exact source; ``name`` is the lower-cased tag name of a tag."""

    kind: str  # text, start, end, comment, decl, cdata, pi, raw (inside script/style/…), bogus (unclosed tag)
    src: str
    name: str = ""

    @property
    def void(self) -> bool:
        """A start tag with no content: a void element, or ``<x/>`` (but ``<script/>`` still has content)."""
        return self.kind == "start" and (self.name in VOID or (self.src.endswith("/>") and self.name not in RAW_TEXT))


def tokenize(html: str) -> list[Token]:
    """``html`` cut into tokens whose sources, concatenated, are ``html`` again, in linear time."""
    tokens: list[Token] = []
    pos = text_from = 0
    while (found := _TAG_OPEN.search(html, pos)) is not None:
        lt = found.start()
        token = _markup(html, lt)
        if token is None:  # a "<" that begins no tag is text
            pos = lt + 1
            continue
        if text_from < lt:
            tokens.append(Token("text", html[text_from:lt]))
        tokens.append(token)
        pos = text_from = lt + len(token.src)
        if token.kind == "start" and token.name in RAW_TEXT:  # the content is not markup: skip to </name
            end = _raw_end(html, pos, token.name)
            if end > pos:
                tokens.append(Token("raw", html[pos:end]))
            pos = text_from = end
    if text_from < len(html):
        tokens.append(Token("text", html[text_from:]))
    return tokens


def _until(html: str, closer: str, start: int) -> int:
    """The index just after ``closer`` found from ``start``; the end of the input when it never comes."""
    found = html.find(closer, start)
    return len(html) if found == -1 else found + len(closer)


def _markup(html: str, i: int) -> Token | None:
    """The markup token beginning at ``html[i] == "<"``, or None when this ``<`` is plain text."""
    if html.startswith("<!--", i):
        end = i + 5 if html.startswith("<!-->", i) else i + 6 if html.startswith("<!--->", i) else None
        return Token("comment", html[i:end or _until(html, "-->", i + 4)])
    if html.startswith("<![CDATA[", i):
        return Token("cdata", html[i:_until(html, "]]>", i + 9)])
    if html.startswith(("<!", "<?"), i):
        return Token("decl" if html[i + 1] == "!" else "pi", html[i:_until(html, ">", i + 2)])
    closing = html.startswith("</", i)
    name = _NAME.match(html, i + 1 + closing)
    if name is None:
        return None
    end = html.find(">", name.end()) + 1 if closing else _start_tag_end(html, name.end())
    if end <= 0:  # never closed: browsers drop the rest of the input, we keep it as one opaque token
        return Token("bogus", html[i:])
    return Token("end" if closing else "start", html[i:end], name.group().lower())


def _start_tag_end(html: str, pos: int) -> int:
    """The index after the ``>`` closing a start tag whose name ends at ``pos`` (a quoted value may hold
    ``>``), or -1 when the tag is never closed."""
    while (stop := _STOP.search(html, pos)) is not None:
        if stop.group() == ">":
            return stop.end()
        pos = _SPACE.match(html, stop.end()).end()
        if pos < len(html) and html[pos] in "\"'":
            close = html.find(html[pos], pos + 1)
            if close == -1:
                return -1
            pos = close + 1
        else:
            pos = _UNQUOTED.match(html, pos).end()
    return -1


@cache
def _raw_close(name: str) -> re.Pattern[str]:
    """``</name`` as the HTML tokenizer ends raw text: any case, followed by a space, ``/`` or ``>``."""
    return re.compile(rf"</{re.escape(name)}(?=[\t\n\f\r />])", re.IGNORECASE)


def _raw_end(html: str, pos: int, name: str) -> int:
    """Where the raw content of ``name`` that begins at ``pos`` ends: at ``</name``, else at the end."""
    found = _raw_close(name).search(html, pos)
    return len(html) if found is None else found.start()


def _attributes(src: str) -> Iterator[tuple[str, str]]:
    """(lower-cased name, value) of each attribute of a start tag's source, quotes removed."""
    name = _NAME.match(src, 1)
    for m in _ATTRIBUTE.finditer(src, name.end() if name else 1):
        value = next((v for v in m.groups()[1:] if v is not None), "")
        yield m.group(1).lower(), value


def _untranslatable(token: Token) -> bool:
    """``translate="no"`` (any quoting or case) or ``class="notranslate"``: the author says keep it."""
    if "ranslate" not in token.src.lower():
        return False
    return any((name == "translate" and value.strip().lower() == "no")
               or (name == "class" and "notranslate" in value.lower().split())
               for name, value in _attributes(token.src))


def _opaque(token: Token) -> bool:
    """A start tag whose whole subtree is kept byte for byte: code, media, raw text, or marked so."""
    return token.kind == "start" and (token.name in OPAQUE or _untranslatable(token))


def _subtree_end(tokens: list[Token], start: int) -> int:
    """The index after the end tag that closes ``tokens[start]`` (same name, depth counted), or the end."""
    name, depth = tokens[start].name, 0
    for k in range(start, len(tokens)):
        token = tokens[k]
        if token.name != name:
            continue
        if token.kind == "start" and not token.void:
            depth += 1
        elif token.kind == "end":
            depth -= 1
        if depth == 0:
            return k + 1
    return len(tokens)


# --- runs ---------------------------------------------------------------------------------------------------

@dataclass
class _Item:
    """A piece of a run: text, atomic (kept whole), open/close (an inline pair), single (unmatched tag),
    comment (atomic, invisible) or drop (an unwrapped tag: emitted as nothing)."""

    kind: str
    src: str
    name: str = ""
    partner: int = -1


def _layout(tokens: list[Token]) -> list[str | list[_Item]]:
    """Boundaries and opaque blocks as source strings, between them the runs as lists of items."""
    out: list[str | list[_Item]] = []
    run: list[_Item] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        item, i = _item(tokens, i)
        if isinstance(item, _Item):
            run.append(item)
            continue
        if run:
            out.append(run)
            run = []
        out.append(item if item is not None else token.src)
    if run:
        out.append(run)
    return out


def _item(tokens: list[Token], i: int) -> tuple[_Item | str | None, int]:
    """The run item made of ``tokens[i]`` (and its subtree), or a boundary: its source (a whole opaque
    block) or None (just this token); and the index of the next token."""
    token = tokens[i]
    if token.kind == "text":
        return _Item("text", token.src), i + 1
    if token.kind == "comment":
        return _Item("comment", token.src), i + 1
    inline = token.name in INLINE or token.name in INLINE_OPAQUE
    if _opaque(token) and not token.void:
        end = _subtree_end(tokens, i)
        src = "".join(t.src for t in tokens[i:end])
        return (_Item("atomic", src) if inline else src), end
    if token.kind in ("start", "end") and inline:
        kind = "atomic" if token.void or token.name in INLINE_OPAQUE else "open" if token.kind == "start" else "close"
        return _Item(kind, token.src, token.name), i + 1
    return None, i + 1


def _pair(items: list[_Item]) -> None:
    """Match the open and close items of a run (a stack per name); the unmatched become singles."""
    stack: list[int] = []
    depth: Counter[str] = Counter()
    for idx, item in enumerate(items):
        if item.kind == "open":
            stack.append(idx)
            depth[item.name] += 1
        elif item.kind == "close":
            if not depth[item.name]:
                item.kind = "single"
                continue
            while items[top := stack.pop()].name != item.name:  # crossing: the ones above are unmatched
                items[top].kind = "single"
                depth[items[top].name] -= 1
            depth[item.name] -= 1
            item.partner, items[top].partner = top, idx
    for idx in stack:
        items[idx].kind = "single"


def _collapse(items: list[_Item]) -> list[_Item]:
    """Inline elements with no Arabic letter inside become one atomic item: nothing in them to translate."""
    seen, before = 0, []
    for item in items:
        before.append(seen)
        seen += item.kind == "text" and has_arabic_letter(_html.unescape(item.src))
    out, i = [], 0
    while i < len(items):
        item = items[i]
        end = item.partner if item.kind == "open" else -1
        if end > i and before[end] == before[i]:
            out.append(_Item("atomic", "".join(x.src for x in items[i:end + 1])))
            i = end + 1
        else:
            out.append(item)
            i += 1
    _pair(out)
    return out


def _blank(item: _Item) -> bool:
    """Whitespace-only text: nothing to translate, so it stays outside what is sent."""
    return item.kind == "text" and not item.src.strip(_HTML_SPACE)


def _peel(items: list[_Item]) -> tuple[str, list[_Item], str]:
    """Edge items that need no marker (blank text, unmatched tags, comments, a pair around the whole
    run) stay where they are: (prefix source, the core to translate, suffix source)."""
    lo, hi = 0, len(items)
    while lo < hi:
        if _blank(items[lo]) or items[lo].kind in ("single", "comment"):
            lo += 1
        elif _blank(items[hi - 1]) or items[hi - 1].kind in ("single", "comment"):
            hi -= 1
        elif items[lo].kind == "open" and items[lo].partner == hi - 1:
            lo, hi = lo + 1, hi - 1
        else:
            break
    prefix, core, suffix = "".join(x.src for x in items[:lo]), items[lo:hi], "".join(x.src for x in items[hi:])
    if core and core[0].kind == "text":
        body = core[0].src.lstrip(_HTML_SPACE)
        prefix += core[0].src[:len(core[0].src) - len(body)]
        core[0] = replace(core[0], src=body)
    if core and core[-1].kind == "text":
        body = core[-1].src.rstrip(_HTML_SPACE)
        suffix = core[-1].src[len(body):] + suffix
        core[-1] = replace(core[-1], src=body)
    _pair(core)
    return prefix, core, suffix


@dataclass
class _Marker:
    """A marker word and what it stands for; glue: no whitespace between it and the text on that side."""

    name: str
    kind: str  # atomic, single, open, close
    src: str
    order: int
    key: str = ""  # a pair's open marker, for both of its markers
    glue_left: bool = False
    glue_right: bool = False


@dataclass
class _Run:
    """A run to translate: its sources around the core, the text sent, the markers in it."""

    prefix: str
    suffix: str
    text: str
    plain: str
    markers: dict[str, _Marker] = field(default_factory=dict)

    def render(self, translation: str) -> str:
        """The run's HTML with ``translation`` in place of its text, every atomic marker put back."""
        return self.prefix + _restore(translation, self.markers) + self.suffix


def _prepare(items: list[_Item]) -> _Run | None:
    """The run to send for these items, or None when it stays as it is (no Arabic letter in its text,
    or more atomic items than markers)."""
    if not any(item.kind == "text" and has_arabic_letter(_html.unescape(item.src)) for item in items):
        return None
    _pair(items)
    prefix, core, suffix = _peel(_collapse(items))
    names = _allocate(core)
    if names is None:
        return None
    run = _Run(prefix, suffix, "", "")
    _name_markers(core, names, run.markers)
    run.text, run.plain = _sent_text(core, run.markers)
    return run


def _allocate(core: list[_Item]) -> Sequence[str] | None:
    """Free marker names for the core, in order; pairs beyond the supply are unwrapped (kind drop)."""
    decoded = " ".join(_html.unescape(item.src) for item in core if item.kind == "text")
    taken = set(_MARKER.findall(decoded))
    free = [name for name in MARKERS if name not in taken] if taken else MARKERS
    fixed = sum(item.kind in ("atomic", "single", "comment") for item in core)
    room = (len(free) - fixed) // 2
    if room < 0:
        return None
    for item in [item for item in core if item.kind == "open"][room:]:
        item.kind = core[item.partner].kind = "drop"
    return free


def _name_markers(core: list[_Item], names: Sequence[str], markers: dict[str, _Marker]) -> None:
    """Give each item that needs one a marker, in document order, with its glue to the text around."""
    by_item: dict[int, _Marker] = {}
    free = iter(names)
    for idx, item in enumerate(core):
        if item.kind in ("text", "drop"):
            continue
        kind = "atomic" if item.kind == "comment" else item.kind
        marker = by_item[idx] = _Marker(next(free), kind, item.src, len(by_item))
        markers[marker.name] = marker
    for idx, marker in by_item.items():
        if marker.kind in ("open", "close"):
            marker.key = by_item[min(idx, core[idx].partner)].name
    _glue(core, by_item)


def _glue(core: list[_Item], by_item: dict[int, _Marker]) -> None:
    """Record, for each marker, whether the nearest text character on each side is not whitespace."""
    last = ""
    for idx, item in enumerate(core):
        if item.kind == "text" and item.src:
            last = _html.unescape(item.src)[-1:] or last
        elif idx in by_item:
            by_item[idx].glue_left = bool(last) and last not in _HTML_SPACE
    last = ""
    for idx in range(len(core) - 1, -1, -1):
        item = core[idx]
        if item.kind == "text" and item.src:
            last = _html.unescape(item.src)[:1] or last
        elif idx in by_item:
            by_item[idx].glue_right = bool(last) and last not in _HTML_SPACE


def _needs_space(char: str) -> bool:
    """Must a space separate a marker from this neighbouring character for the marker to be a word of its
    own?  Not from whitespace or punctuation ("ZXAB." and "(ZXAA" are still words to the translator)."""
    return bool(char) and not char.isspace() and not unicodedata.category(char).startswith("P")


def _sent_text(core: list[_Item], markers: dict[str, _Marker]) -> tuple[str, str]:
    """(the text sent: decoded, whitespace collapsed, each marker a word of its own; the same without
    the markers)."""
    names = iter(markers)
    sent, plain, after_marker = "", [], False
    for item in core:
        if item.kind == "drop":
            continue
        if item.kind != "text":
            marker = markers[next(names)]
            sent += (" " if _needs_space(sent[-1:]) else "") + marker.name
            plain.append("" if marker.glue_left and marker.glue_right else " ")
            after_marker = True
            continue
        text = _SPACES.sub(" ", _html.unescape(item.src))
        if text and after_marker:
            sent += " " if _needs_space(text[0]) else ""
            after_marker = False
        sent += text
        plain.append(text)
    return sent.strip(" "), _SPACES.sub(" ", "".join(plain)).strip()


# --- restoring ----------------------------------------------------------------------------------------------

_Seg = str | _Marker | None  # text, a marker put back, a marker taken out (a junction to tidy)


def _restore(translation: str, markers: dict[str, _Marker]) -> str:
    """The translation as HTML: markers replaced by their sources, missing atomic ones appended, pairs
    kept only where they still nest, the text escaped."""
    segs = _split(translation.replace("\x00", ""), markers)
    segs = _dedupe(segs)
    segs, tail = _place_singles(segs, markers)
    present = {s.name for s in segs if isinstance(s, _Marker)} | {m.name for m in tail}
    tail += [m for m in markers.values() if m.kind == "atomic" and m.name not in present]
    tail.sort(key=lambda m: m.order)
    return _render(_nest(segs), tail)


def _split(translation: str, markers: dict[str, _Marker]) -> list[_Seg]:
    """The translation as text and the run's markers (marker-like words that are not the run's are text)."""
    segs: list[_Seg] = []
    last = 0
    for m in _MARKER.finditer(translation):
        if m.group() in markers:
            segs += [translation[last:m.start()], markers[m.group()]]
            last = m.end()
    segs.append(translation[last:])
    return segs


def _dedupe(segs: list[_Seg]) -> list[_Seg]:
    """First occurrence of an atomic or single marker kept, the others taken out; a pair whose markers
    do not both come back exactly once is unwrapped."""
    pairs: dict[str, list[_Marker]] = {}
    for s in segs:
        if isinstance(s, _Marker) and s.key:
            pairs.setdefault(s.key, []).append(s)
    broken = {key for key, found in pairs.items() if len(found) != 2 or found[0].kind == found[1].kind}
    seen: set[str] = set()
    out: list[_Seg] = []
    for s in segs:
        if isinstance(s, _Marker):
            if s.name in seen or s.key in broken:
                s = None
            else:
                seen.add(s.name)
        out.append(s)
    return out


def _longest_increasing(values: list[int]) -> set[int]:
    """Positions of a longest strictly increasing subsequence of ``values``."""
    tails: list[int] = []  # value at the end of the best subsequence of each length
    ends: list[int] = []  # its position
    back = [-1] * len(values)
    for pos, value in enumerate(values):
        k = bisect_left(tails, value)
        back[pos] = ends[k - 1] if k else -1
        if k == len(tails):
            tails.append(value)
            ends.append(pos)
        else:
            tails[k], ends[k] = value, pos
    keep, pos = set(), ends[-1] if ends else -1
    while pos != -1:
        keep.add(pos)
        pos = back[pos]
    return keep


def _place_singles(segs: list[_Seg], markers: dict[str, _Marker]) -> tuple[list[_Seg], list[_Marker]]:
    """Unmatched tags kept in their original order (else the output would cross): those out of order
    are taken out, and every missing one goes next to its kept neighbour in that order; with no kept
    neighbour, to the tail (appended)."""
    where = [i for i, s in enumerate(segs) if isinstance(s, _Marker) and s.kind == "single"]
    keep = _longest_increasing([segs[i].order for i in where])
    kept = [segs[i] for k, i in enumerate(where) if k in keep]
    for k, i in enumerate(where):
        if k not in keep:
            segs[i] = None
    orders = [m.order for m in kept]
    before: dict[str, list[_Marker]] = {}
    after: dict[str, list[_Marker]] = {}
    tail: list[_Marker] = []
    kept_names = {m.name for m in kept}
    for m in markers.values():
        if m.kind != "single" or m.name in kept_names:
            continue
        k = bisect_left(orders, m.order)
        if k:
            after.setdefault(kept[k - 1].name, []).append(m)
        elif kept:
            before.setdefault(kept[0].name, []).append(m)
        else:
            tail.append(m)
    out: list[_Seg] = []
    for s in segs:
        name = s.name if isinstance(s, _Marker) else ""
        out += [*before.get(name, []), s, *after.get(name, [])]
    return out, tail


def _crossing(segs: list[_Marker], kept: set[str]) -> str | None:
    """The first pair (by its key) that does not nest with the others, or None."""
    stack: list[str] = []
    for s in segs:
        if s.key and s.key not in kept:
            continue
        if s.kind == "open":
            stack.append(s.key)
        elif s.kind == "close":
            if stack and stack[-1] == s.key:
                stack.pop()
            else:
                return stack[-1] if s.key in stack else s.key
        elif s.kind == "single" and stack:  # an unmatched tag inside a pair would cross it
            return stack[-1]
    return stack[-1] if stack else None


def _nest(segs: list[_Seg]) -> list[_Seg]:
    """Unwrap pairs, one at a time, until those left nest properly (a pair's close after its open)."""
    marks = [s for s in segs if isinstance(s, _Marker)]  # after _dedupe: each at most once
    kept = {s.key for s in marks if s.key}
    while (bad := _crossing(marks, kept)) is not None:
        kept.discard(bad)
    return [None if isinstance(s, _Marker) and s.key and s.key not in kept else s for s in segs]


def _tidy(text: str) -> str:
    """Where markers were taken out (``\x00``): one space at most, none before punctuation."""
    if "\x00" not in text:
        return text
    pieces = text.split("\x00")
    out = [pieces[0].rstrip()]
    gap = len(out[0]) != len(pieces[0])  # whitespace in the gap left by the markers
    for piece in pieces[1:]:
        body = piece.strip()
        if not body:
            gap = gap or bool(piece)
            continue
        gap = gap or piece[0].isspace()
        out += ["" if body[0] in _PUNCTUATION else " " if gap else "", body]
        gap = piece[-1].isspace()
    return "".join(out) + (" " if gap else "")


def _before(text: str, glued: bool) -> str:
    """The text before a marker: no space if the source had none, one if a word would touch the tag."""
    if glued:
        return text.rstrip()
    return text + " " if text[-1:].isalnum() else text


def _after(text: str, glued: bool) -> str:
    """The text after a marker, as ``_before``."""
    if glued:
        return text.lstrip()
    return " " + text if text[:1].isalnum() else text


def _render(segs: list[_Seg], tail: list[_Marker]) -> str:
    """Join the texts (escaped, spaces fixed at each marker as the source had them) and the sources."""
    pieces: list[list[str]] = [[]]
    marks: list[_Marker] = []
    for s in segs:
        if isinstance(s, _Marker):
            marks.append(s)
            pieces.append([])
        else:
            pieces[-1].append("\x00" if s is None else s)
    texts = [_tidy("".join(p)) for p in pieces]
    texts[0] = texts[0].lstrip()
    texts[-1] = texts[-1].rstrip()
    for i, m in enumerate(marks):
        texts[i] = _before(texts[i], m.glue_left)
        texts[i + 1] = _after(texts[i + 1], m.glue_right)
    out = [_html.escape(texts[0], quote=False)]
    for m, text in zip(marks, texts[1:]):
        out += [m.src, _html.escape(text, quote=False)]
    spoken = any(text.strip() for text in texts) or bool(marks)
    for m in tail:  # appended, each after a space (an unmatched tag only if the source had one)
        out += [" " if spoken and not (m.kind == "single" and m.glue_left) else "", m.src]
        spoken = True
    return "".join(out)


# --- the API ------------------------------------------------------------------------------------------------

def _plan(html: str) -> list[str | _Run]:
    """The input as sources to copy and runs to translate, in document order."""
    plan: list[str | _Run] = []
    for piece in _layout(tokenize(html)):
        if isinstance(piece, str):
            plan.append(piece)
        else:
            run = _prepare(piece)
            plan.append(run if run is not None else "".join(item.src for item in piece))
    return plan


def visible_text(html: str) -> str:
    """All text a reader sees, whatever its language (entities decoded; script, style, code and
    ``translate="no"`` subtrees left out), one line per text node: what to detect the language of HTML on.
    Unlike ``html_runs`` it keeps text with no Arabic in it, so English HTML is seen to be English."""
    tokens = tokenize(html)
    out, i = [], 0
    while i < len(tokens):
        token = tokens[i]
        if _opaque(token):
            i = _subtree_end(tokens, i)
            continue
        if token.kind == "text" and token.src.strip():
            out.append(" ".join(_html.unescape(token.src).split()))
        i += 1
    return "\n".join(out)


def html_runs(html: str) -> list[str]:
    """The plain texts ``translate_html`` would send, markers left out: what to detect the language on."""
    return [piece.plain for piece in _plan(html) if isinstance(piece, _Run)]


def translate_html(html: str, translate: Translate) -> str:
    """``html`` with its Arabic text translated and everything else byte for byte.

    ``translate`` is called once, with every run of the input in document order (one batch: the caller's
    translator sorts, batches and caches), or not at all when nothing is Arabic.  It must return one
    string per run; another count is a ValueError, since the runs could not be matched to their places."""
    plan = _plan(html)
    runs = [piece for piece in plan if isinstance(piece, _Run)]
    if not runs:
        return "".join(piece for piece in plan if isinstance(piece, str))
    translations = list(translate([run.text for run in runs]))
    if len(translations) != len(runs):
        raise ValueError(f"translate returned {len(translations)} translations for {len(runs)} runs")
    if not all(isinstance(t, str) for t in translations):
        raise TypeError("translate must return strings")
    done = iter(translations)
    return "".join(piece if isinstance(piece, str) else piece.render(next(done)) for piece in plan)
