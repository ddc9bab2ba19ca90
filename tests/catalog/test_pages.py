"""Store pages: Markdown parsing into sections, the folder loader and the demo pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import InvalidInput, InvalidPage
from catalog.pages import DEMO_PAGES_DIR, load_pages, page_key, parse_page, slug, split_key

PAGE = """<!-- a comment the shopper never sees -->
# Shipping

We ship fast.

## Delivery abroad

We deliver to **most** countries; see [the list](https://x.example/list).

- Europe: 4 days
- Elsewhere: 8 days

### Customs
Duties are paid by the recipient.

## Delivery abroad

A second section with the same title.
"""


def test_sections_are_cut_by_h2_with_plain_text_and_unique_anchors() -> None:
    sections = parse_page("shipping", PAGE, url="https://x.example/shipping")
    assert [(s.anchor, s.section) for s in sections] == [
        ("intro", "Shipping"), ("delivery-abroad", "Delivery abroad"),
        ("delivery-abroad-1", "Delivery abroad")]
    abroad = sections[1]
    assert abroad.page_title == "Shipping"
    assert abroad.text.splitlines() == [
        "We deliver to most countries; see the list.", "- Europe: 4 days",
        "- Elsewhere: 8 days", "Customs", "Duties are paid by the recipient."]
    assert abroad.link == "https://x.example/shipping#delivery-abroad"
    assert abroad.key == "page:shipping#delivery-abroad"
    assert [s.position for s in sections] == [0, 1, 2]
    assert "comment" not in " ".join(s.text for s in sections)


def test_keys_round_trip_and_slugs_are_github_style() -> None:
    assert split_key(page_key("returns", "how-to-return")) == ("returns", "how-to-return")
    assert slug("Délai de livraison & retours!") == "delai-de-livraison-retours"
    with pytest.raises(ValueError):
        split_key("SKU-1")


@pytest.mark.parametrize(("page_id", "source", "reason"), [
    ("shipping", "## Only a section\n\ntext", "exactly one '# Title'"),
    ("shipping", "# One\n\n# Two\n\n## S\n\ntext", "exactly one '# Title'"),
    ("shipping", "# Title only\n", "no text"),
    ("Ship Ping", "# T\n\n## S\n\ntext", "page id"),
    ("shipping", "# T\n\n##\n\ntext", "heading has no text"),
])
def test_bad_pages_raise_invalid_page_naming_the_file(page_id: str, source: str,
                                                      reason: str) -> None:
    with pytest.raises(InvalidPage, match=reason) as err:
        parse_page(page_id, source, where=f"pages/{page_id}.md")
    assert isinstance(err.value, InvalidInput)
    assert err.value.source == f"pages/{page_id}.md"


def test_folder_loads_good_pages_reports_bad_ones_and_reads_urls(tmp_path: Path) -> None:
    (tmp_path / "returns.md").write_text("# Returns\n\n## Window\n\n30 days.\n")
    (tmp_path / "broken.md").write_text("no heading at all\n")
    (tmp_path / "latin1.md").write_bytes("# Caf\xe9\n\n## S\n\nx".encode("latin-1"))
    (tmp_path / "README.md").write_text("# How to edit these pages\n\n## Steps\n\nEdit.\n")
    (tmp_path / "pages.toml").write_text(
        'base_url = "https://shop.example/help/"\n[pages.returns]\nurl = "https://r.example"\n')
    sections, errors = load_pages(tmp_path)
    assert [(s.page_id, s.url, s.demo) for s in sections] == [
        ("returns", "https://r.example", False)]
    assert sorted(Path(e.source).name for e in errors) == ["broken.md", "latin1.md"]
    (tmp_path / "pages.toml").write_text("base_url = [")
    with pytest.raises(InvalidPage, match="TOML"):
        load_pages(tmp_path)
    with pytest.raises(InvalidPage, match="SHOPKEEPER_PAGES_DIR"):
        load_pages(tmp_path / "missing")


def test_demo_pages_cover_the_policies_and_say_they_are_demo() -> None:
    sections, errors = load_pages(DEMO_PAGES_DIR)
    assert errors == []
    assert {s.page_id for s in sections} == {"shipping", "returns", "warranty", "payment",
                                             "contact"}
    assert all(s.demo and s.url and s.url.endswith(s.page_id) for s in sections)
    for path in DEMO_PAGES_DIR.glob("*.md"):
        assert "Demo" in path.read_text().splitlines()[0], path
