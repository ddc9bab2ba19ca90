"""A folder of store pages: every ``*.md`` file, with URLs (and the demo flag) from ``pages.toml``.

``pages.toml`` (optional)::

    base_url = "https://shop.example/help/"   # a page's URL is base_url + page_id ...
    demo = false                              # true marks every answer from these pages as demo
    [pages.returns]
    url = "https://shop.example/returns"      # ... unless the page names its own
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.errors import InvalidPage
from catalog.pages.model import PageSection
from catalog.pages.parse import parse_page

DEMO_PAGES_DIR = Path(__file__).resolve().parents[1] / "data" / "pages"
CONFIG = "pages.toml"


@dataclass(frozen=True)
class PageConfig:
    """What ``pages.toml`` says: a URL per page id and whether these are demo pages."""

    urls: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    demo: bool = False

    def url(self, page_id: str) -> str | None:
        if page_id in self.urls:
            return self.urls[page_id]
        return f"{self.base_url}{page_id}" if self.base_url else None


def read_urls(folder: Path) -> PageConfig:
    """``pages.toml`` of ``folder``; a missing file means no URLs, a broken one InvalidPage."""
    path = folder / CONFIG
    if not path.is_file():
        return PageConfig()
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidPage(f"not valid TOML: {exc}", source=str(path)) from None
    pages = raw.get("pages", {})
    if not isinstance(pages, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("url", ""), str) for v in pages.values()
    ):
        raise InvalidPage("[pages.<id>] tables need a string 'url'", source=str(path))
    base = raw.get("base_url", "")
    demo = raw.get("demo", False)
    if not isinstance(base, str) or not isinstance(demo, bool):
        raise InvalidPage("base_url must be a string and demo true or false", source=str(path))
    urls = {k: v["url"] for k, v in pages.items() if v.get("url")}
    return PageConfig(urls=urls, base_url=base, demo=demo)


def load_pages(folder: Path) -> tuple[list[PageSection], list[InvalidPage]]:
    """Every section of every page in ``folder``, and the pages that failed (the rest load)."""
    if not folder.is_dir():
        raise InvalidPage("the store pages folder does not exist (check SHOPKEEPER_PAGES_DIR)",
                          source=str(folder))
    config = read_urls(folder)
    sections: list[PageSection] = []
    errors: list[InvalidPage] = []
    for path in sorted(folder.glob("*.md")):
        if path.name.upper() == "README.MD":
            continue  # the folder's own instructions, not a store page
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            errors.append(InvalidPage("not UTF-8 text", source=str(path)))
            continue
        try:
            sections += parse_page(path.stem, text, url=config.url(path.stem),
                                   demo=config.demo, where=str(path))
        except InvalidPage as exc:
            errors.append(exc)
    return sections, errors
