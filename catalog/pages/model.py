"""One section of a store page: the unit that is stored, embedded, searched and cited."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Page sections share the outbox and the index with SKUs, keyed ``page:<page_id>#<anchor>``,
# which no SKU can collide with in practice and every consumer can tell apart by this prefix.
PAGE_KEY_PREFIX = "page:"


def page_key(page_id: str, anchor: str) -> str:
    """The key a section has in the outbox and the index (in the place of a SKU)."""
    return f"{PAGE_KEY_PREFIX}{page_id}#{anchor}"


def is_page_key(key: str) -> bool:
    return key.startswith(PAGE_KEY_PREFIX)


def split_key(key: str) -> tuple[str, str]:
    """``page:shipping#abroad`` -> ("shipping", "abroad"); ValueError for anything else."""
    if not is_page_key(key) or "#" not in key:
        raise ValueError(f"not a page section key: {key!r}")
    page_id, anchor = key.removeprefix(PAGE_KEY_PREFIX).split("#", 1)
    return page_id, anchor


@dataclass(frozen=True, slots=True)
class PageSection:
    """A ``## Section`` of a page with its text; ``position`` keeps the page's order."""

    page_id: str
    page_title: str
    anchor: str
    section: str
    text: str
    url: str | None = None
    position: int = 0
    demo: bool = False

    @property
    def key(self) -> str:
        return page_key(self.page_id, self.anchor)

    @property
    def link(self) -> str | None:
        """The section's own address: the page URL with the anchor as its fragment."""
        return f"{self.url}#{self.anchor}" if self.url else None

    @property
    def content_hash(self) -> str:
        """What the SoR compares to skip rewriting an unchanged section (so no outbox row)."""
        raw = "\x1f".join((self.page_title, self.section, self.text, self.url or "",
                           str(self.position), "1" if self.demo else "0"))
        return hashlib.sha256(raw.encode()).hexdigest()[:32]
