"""Markdown to sections with markdown-it-py: the ``# Title`` names the page, each ``## `` a section.

Text under a section is kept as plain sentences (emphasis and link markup dropped, list items as
``- `` lines); deeper headings stay inside their section. HTML blocks (comments) are skipped.
"""

from __future__ import annotations

import re
import unicodedata

from markdown_it import MarkdownIt
from markdown_it.token import Token

from catalog.errors import InvalidPage
from catalog.pages.model import PageSection

MAX_PAGE_BYTES = 256 * 1024
MAX_ANCHOR = 80
PAGE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
INTRO = "intro"  # anchor of the text between the title and the first section, if any

_MD = MarkdownIt("commonmark")


def slug(title: str) -> str:
    """GitHub-style anchor: lower case, punctuation dropped, spaces as hyphens."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^\w\s-]", "", text).strip()
    return re.sub(r"[\s_]+", "-", text)[:MAX_ANCHOR].strip("-") or "section"


def _inline_text(tok: Token) -> str:
    parts = []
    for child in tok.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _blocks(tokens: list[Token]) -> list[tuple[str, str]]:
    """(kind, text) per block: ``h1``/``h2`` headings and ``text`` lines in source order."""
    out: list[tuple[str, str]] = []
    heading: str | None = None
    in_item = 0
    for tok in tokens:
        if tok.type == "heading_open":
            heading = tok.tag
        elif tok.type == "heading_close":
            heading = None
        elif tok.type == "list_item_open":
            in_item += 1
        elif tok.type == "list_item_close":
            in_item -= 1
        elif tok.type == "inline":
            text = _inline_text(tok)
            if heading in ("h1", "h2"):
                out.append((heading, text))
            elif text:
                out.append(("text", f"- {text}" if in_item else text))
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            out.append(("text", tok.content.strip()))
    return out


def parse_page(page_id: str, source: str, *, url: str | None = None, demo: bool = False,
               where: str = "") -> list[PageSection]:
    """The sections of one page, or ``InvalidPage`` saying what to fix in the file."""
    where = where or f"{page_id}.md"
    if not PAGE_ID.match(page_id):
        raise InvalidPage("the file name must be a page id: lower-case letters, digits, - or _ "
                          "(at most 40), e.g. shipping.md", source=where)
    if len(source.encode()) > MAX_PAGE_BYTES:
        raise InvalidPage(f"a page may be at most {MAX_PAGE_BYTES // 1024} KiB", source=where)
    blocks = _blocks(_MD.parse(source))
    titles = [text for kind, text in blocks if kind == "h1"]
    if len(titles) != 1 or not titles[0]:
        raise InvalidPage(f"a page needs exactly one '# Title' heading, found {len(titles)}",
                          source=where)
    title = titles[0]
    sections: list[tuple[str, list[str]]] = [(title, [])]  # the intro, kept only with text
    for kind, text in blocks:
        if kind == "h2":
            if not text:
                raise InvalidPage("a '## ' heading has no text", source=where)
            sections.append((text, []))
        elif kind == "text":
            sections[-1][1].append(text)
    out: list[PageSection] = []
    seen: set[str] = {INTRO}  # reserved, so a section called "Intro" cannot take it
    for i, (name, lines) in enumerate(sections):
        anchor = INTRO
        if i:
            base = anchor = slug(name)
            n = 1
            while anchor in seen:  # two sections with one title: GitHub's -1, -2 suffixes
                anchor, n = f"{base}-{n}", n + 1
            seen.add(anchor)
        if not lines:
            continue
        out.append(PageSection(page_id=page_id, page_title=title, anchor=anchor, section=name,
                               text="\n".join(lines), url=url, position=len(out), demo=demo))
    if not out:
        raise InvalidPage("the page has no text under its headings", source=where)
    return out
