"""``/store/pages/{page_id}``: a store page rendered from its Markdown, so the citations of the
demo pages (and of shops without their own page URLs) link somewhere real."""

from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt

from app.api.deps import SettingsDep
from catalog import NotFound
from catalog.pages import read_urls
from catalog.pages.parse import INTRO, PAGE_ID, slug

router = APIRouter(include_in_schema=False)
DEMO_BANNER = "Demo page \u2014 replace with your shop's policy."
_MD = MarkdownIt("commonmark", {"html": False})  # page text is data: no raw HTML passes
_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:720px;margin:24px auto;padding:0 16px}}
h2:target{{background:#fff3d6}}</style></head><body>{body}</body></html>"""


def render(source: str) -> tuple[str, str]:
    """(title, HTML) with each ``## `` heading's id equal to the anchor answers cite."""
    tokens = [t for t in _MD.parse(source) if t.type != "html_block"]  # comments, notes
    seen: set[str] = {INTRO}
    title = ""
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag in ("h1", "h2"):
            text = tokens[i + 1].content
            if tok.tag == "h1":
                title = title or text
                continue
            base = anchor = slug(text)
            n = 1
            while anchor in seen:
                anchor, n = f"{base}-{n}", n + 1
            seen.add(anchor)
            tok.attrSet("id", anchor)
    return title, _MD.renderer.render(tokens, _MD.options, {})


@router.get("/store/pages/{page_id}", response_class=HTMLResponse)
async def store_page(page_id: str, settings: SettingsDep) -> HTMLResponse:
    path = settings.pages_dir / f"{page_id}.md"
    if not PAGE_ID.match(page_id) or not path.is_file():
        raise NotFound(f"no store page {page_id!r}")
    title, body = render(path.read_text(encoding="utf-8", errors="replace"))
    if read_urls(settings.pages_dir).demo:
        body = f"<p><strong>{DEMO_BANNER}</strong></p>{body}"
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body))
