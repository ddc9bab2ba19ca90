"""Store page sections to rows and back, and the write plan both backends share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.pages.model import PageSection, page_key

# tenant, page_id, anchor, page_title, section, text, url, position, demo, content_hash
PageRow = tuple[str, str, str, str, str, str, str | None, int, Any, str]


def page_row(tenant: str, s: PageSection, demo: Any) -> PageRow:
    return (tenant, s.page_id, s.anchor, s.page_title, s.section, s.text, s.url, s.position,
            demo, s.content_hash)


def section_from_row(row: Sequence[Any]) -> PageSection:
    """``row`` is (page_id, anchor, page_title, section, text, url, position, demo)."""
    return PageSection(page_id=row[0], anchor=row[1], page_title=row[2], section=row[3],
                       text=row[4], url=row[5], position=int(row[6]), demo=bool(row[7]))


SELECT_SECTION = "page_id, anchor, page_title, section, text, url, position, demo"


def plan_pages(
    stored: dict[tuple[str, str], str], sections: Sequence[PageSection], *, prune: bool
) -> tuple[list[PageSection], list[tuple[str, str]], int]:
    """(sections to write, (page_id, anchor) to delete, unchanged count) against the stored
    hashes: a page given is the whole page, so its unlisted sections go; ``prune`` drops
    unlisted pages too."""
    given = {(s.page_id, s.anchor): s for s in sections}
    if len(given) != len(sections):
        raise ValueError("two sections share one page and anchor")
    pages = {s.page_id for s in sections}
    write = [s for k, s in given.items() if stored.get(k) != s.content_hash]
    gone = [k for k in stored if k not in given and (prune or k[0] in pages)]
    return write, gone, len(given) - len(write)


__all__ = ["SELECT_SECTION", "page_key", "page_row", "plan_pages", "section_from_row"]
