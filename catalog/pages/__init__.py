"""Store pages (shipping, returns, warranty, payment, contact): Markdown files, one chunk per H2.

A page is ``<page_id>.md`` with one ``# Title`` and ``## Section`` headings; ``pages.toml`` in the
same folder gives each page's URL. ``data/pages/`` holds demo pages, marked as such.
"""

from catalog.pages.folder import DEMO_PAGES_DIR, load_pages, read_urls
from catalog.pages.model import PAGE_KEY_PREFIX, PageSection, is_page_key, page_key, split_key
from catalog.pages.parse import parse_page, slug

__all__ = [
    "DEMO_PAGES_DIR",
    "PAGE_KEY_PREFIX",
    "PageSection",
    "is_page_key",
    "load_pages",
    "page_key",
    "parse_page",
    "read_urls",
    "slug",
    "split_key",
]
