"""What a news page says besides its article text: its date, and what extraction leaves out that an
editor would want to know (the byline, the date line, the site's navigation).

Read from the whole page *before* boilerplate pruning (which removes bylines and menus), on the lxml
tree both extraction paths share.  Dropped items have the keys of the segmenter's removals
(``kind``, ``line``, ``text``; ``line`` 0: not in the text), so the result lists them together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tarjama.documents.dates import find_date, iso_date

DROPPED_KINDS = ("byline", "date", "navigation", "other")
_ITEM_CHARS = 200     # a byline or date line longer than this is a bio box or a paragraph, not a line
_NAV_NAMES = 3        # link names a navigation summary shows
_NAME_CHARS = 40

_RE = {"re": "http://exslt.org/regular-expressions"}
# class/id tokens, matched at a token's start like the boilerplate pruning in readers
_BYLINE = r"author|authors|byline|writer|reporter|(post|entry|article|news)-?(author|byline|writer)"
_DATE_LINE = r"date|dateline|time|timestamp|published|pubdate|(post|entry|article|news|publish)-?(date|time)"
_NAV = r"nav|navbar|navigation|menu|breadcrumbs?|(main|site|top|primary|header|footer)-?(nav|navigation|menu)"
_CHROME = re.compile(r"(^|\s)(related[a-z]*|recommend[a-z]*|most-?(read|viewed|popular)|popular|trending|sidebar"
                     r"|widget|comments?)([\s_-]|$)", re.IGNORECASE)
# Markup naming the publication date, most specific first (a <time> only outside the page's chrome).
_META_DATES = (
    "//meta[@property='article:published_time']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//time[@datetime]",
    "//meta[translate(@name, 'DATEPUB', 'datepub')='date' or translate(@name, 'DATEPUB', 'datepub')='pubdate']"
    "/@content",
)


def _tokens(names: str) -> str:
    return f"re:test(concat(@class, ' ', @id), '(^|\\s)({names})([\\s_-]|$)', 'i')"


@dataclass
class PageMeta:
    """Dates and furniture found on a page; ``dropped()`` lists those the extracted text lacks."""

    meta_date: str | None = None
    bylines: list[str] = field(default_factory=list)
    date_lines: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # navigation's link names, in page order

    def date(self, extracted: str | None = None) -> str | None:
        """The article's date: the extractor's (markup-based), the page's metadata, else a visible date line."""
        for candidate in (iso_date(extracted), self.meta_date):
            if candidate:
                return candidate
        return next(filter(None, map(find_date, self.date_lines + self.bylines)), None)

    def dropped(self, text: str, author: str | None = None) -> list[dict[str, Any]]:
        """The byline, date line and navigation, each where it is not in the extracted ``text``."""
        flat = " ".join(text.split())
        items: list[dict[str, Any]] = []
        for kind, lines in (("byline", [*self.bylines, author or ""]), ("date", self.date_lines)):
            for line in lines:
                line = " ".join(line.split())[:_ITEM_CHARS]
                if line and line not in flat and not any(line in item["text"] for item in items):
                    items.append({"kind": kind, "line": 0, "text": line})
        if self.links:
            items.append({"kind": "navigation", "line": 0, "text": self._navigation()})
        return items

    def _navigation(self) -> str:
        names = list(dict.fromkeys(name[:_NAME_CHARS] for name in self.links))
        shown = ", ".join(names[:_NAV_NAMES]) + (", …" if len(names) > _NAV_NAMES else "")
        count = len(self.links)
        return f"navigation: {count} link{'s' if count != 1 else ''} ({shown})"


def read_page(tree) -> PageMeta:
    """A page's date metadata, bylines, date lines and navigation links (``tree``: lxml, unpruned)."""
    from lxml import etree

    def xpath(expr: str) -> list:
        return etree.XPath(expr, namespaces=_RE)(tree)

    dates = (iso_date(_date_value(found)) for expr in _META_DATES for found in xpath(expr))
    bylines = [el for el in xpath(f"//*[@rel='author' or {_tokens(_BYLINE)}]") if _in_article(el)]
    date_lines = [el for el in xpath(f"//time | //*[{_tokens(_DATE_LINE)}]") if _in_article(el)]
    authors = [str(v) for v in xpath("//meta[translate(@name, 'AUTHOR', 'author')='author']/@content")]
    return PageMeta(
        meta_date=next(filter(None, dates), None),
        bylines=[*_texts(_outermost(bylines)), *authors],
        date_lines=[t for t in _texts(_outermost(date_lines), inside=bylines) if any(c.isdigit() for c in t)],
        links=_nav_links(xpath(f"//nav | //*[@role='navigation'] | //*[{_tokens(_NAV)}][not(.//h1)]")),
    )


def _date_value(found) -> str | None:
    """An attribute's value, or a <time>'s datetime where it is not in a sidebar or a related list."""
    if isinstance(found, str):
        return str(found)
    return found.get("datetime") if _in_article(found) else None


def _in_article(el) -> bool:
    """Not in the page's chrome (a sidebar's, a related list's, the site header's own dates and authors)."""
    for anc in el.iterancestors():
        if anc.tag in ("nav", "aside", "footer") or (anc.tag == "header" and not anc.xpath(".//h1")):
            return False
        if _CHROME.search(f"{anc.get('class', '')} {anc.get('id', '')}"):
            return False
    return True


def _outermost(elements: list) -> list:
    chosen = set(elements)
    return [el for el in elements if not any(anc in chosen for anc in el.iterancestors())]


def _texts(elements: list, inside: list = ()) -> list[str]:
    """Each element's text, one line; skipping long ones and those within ``inside`` (a byline's date)."""
    outer = set(inside)
    texts = []
    for el in elements:
        if any(anc in outer for anc in el.iterancestors()):
            continue
        text = " ".join(el.text_content().split())
        if text and len(text) <= _ITEM_CHARS and not el.xpath(".//h1 | .//p[string-length() > 200]"):
            texts.append(text)
    return texts


def _nav_links(blocks: list) -> list[str]:
    """The names of the links in every navigation block (each link once, even in nested blocks)."""
    seen: set = set()
    names = []
    for block in blocks:
        for link in block.iter("a"):
            name = " ".join(link.text_content().split()) or (link.get("title") or "").strip()
            if link not in seen and name:
                seen.add(link)
                names.append(name)
    return names
