"""Questions about the shop itself (shipping, returns, warranty, payment, contact): detection,
the choice between a page answer, "I don't know" and a product search, and the answer text.

Detection uses the shopper's words *and* the store pages' own scores: a page section that
answers far better than any product does makes a policy question even without a policy word,
and a policy word next to a product ("mouse with a long warranty") stays a product question
unless a page answers better. Thresholds are dense cosines (all-MiniLM-L6-v2), measured on the
demo pages and catalog (see docs/store-pages.md). Page text is data: it is quoted, never obeyed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from search import PageHit

POLICY = re.compile(
    r"\b(?:ship(?:s|ped|ping)?|deliver(?:s|y|ies|ed)?|dispatch(?:ed)?|courier|parcel|"
    r"track(?:ing)?\s+(?:my\s+)?(?:order|parcel|package)|customs|abroad|international(?:ly)?|"
    r"returns?|returning|refunds?|money\s+back|exchange|send\s+(?:it\s+)?back|"
    r"warrant(?:y|ies)|guarantee[ds]?|repairs?|defect(?:ive)?|faulty|"
    r"pay|paying|payment|paypal|credit\s+card|debit\s+card|invoice|instal?lments?|"
    r"contact|phone\s+number|e-?mail\s+address|customer\s+(?:service|support|care)|"
    r"opening\s+(?:hours|times)|business\s+hours|(?:are|is)\s+(?:you|the\s+shop|the\s+store)\s+"
    r"open|when\s+(?:are\s+)?you\s+open|policy|policies|terms\s+(?:and|&)\s+conditions)\b",
    re.I,
)
# The shopper speaks to the shop ("do you ...", "your ...", "is there ..."), not about a product.
TO_SHOP = re.compile(r"\b(?:you|your|yours|we|our|us)\b|\b(?:is|are)\s+there\b", re.I)

COVERED = 0.35  # a section at least this close answers the question
STRONG = 0.45  # without a policy word, a section must be this close ...
MARGIN = 0.15  # ... and this much closer than the best product
PRODUCT_FLOOR = 0.30  # a product this close means the question may be about products
CONTACT_PAGE = "contact"  # the page cited when no page covers a question (docs/store-pages.md)

Route = Literal["answer", "unknown", "products"]


def asks_policy(text: str) -> bool:
    return bool(POLICY.search(text))


def route(text: str, hits: Sequence[PageHit], product: float, *, about_product: bool) -> Route:
    """Answer from a page, say "I don't know" (with the contact page), or search products."""
    page = hits[0].relevance if hits else 0.0
    if asks_policy(text):
        if about_product and page <= product:
            return "products"
        return "answer" if page >= COVERED else "unknown"
    if page >= STRONG and page - product >= MARGIN:
        return "answer"
    if (TO_SHOP.search(text) and not about_product and product < PRODUCT_FLOOR
            and page < COVERED):
        return "unknown"
    return "products"


def source(payload: dict[str, Any]) -> dict[str, Any]:
    """A ``PageSource`` (as a dict) from a page point's payload."""
    url = payload.get("url")
    anchor = str(payload.get("anchor", ""))
    return {"page_id": str(payload.get("page_id", "")), "title": str(payload.get("page_title", "")),
            "section": str(payload.get("section", "")), "anchor": anchor,
            "url": f"{url}#{anchor}" if url else None, "text": str(payload.get("body", "")),
            "demo": bool(payload.get("demo"))}


def _demo_note(src: dict[str, Any]) -> str:
    return " (This shop runs demo pages: the real policy may differ.)" if src["demo"] else ""


def answer_text(src: dict[str, Any]) -> str:
    """The section as the page states it, then where it is from."""
    return (f"{src['text']}\n\nFrom our {src['title']} page, \u201c{src['section']}\u201d."
            + _demo_note(src))


def unknown_text(contact: dict[str, Any] | None) -> str:
    """An honest "I don't know", with how to reach the shop when a contact page exists."""
    if contact is None:
        return ("I don't know that, sorry: none of the shop's pages covers it, and I won't "
                "guess. Please ask the shop directly.")
    return ("I don't know that, sorry: none of the shop's pages covers it, and I won't guess. "
            f"Here is how to reach the shop:\n\n{contact['text']}\n\nFrom our {contact['title']} "
            f"page, \u201c{contact['section']}\u201d." + _demo_note(contact))


def pick_contact(hits: Sequence[PageHit]) -> dict[str, Any] | None:
    """The best section of the contact page among ``hits`` (a search for how to reach us)."""
    for h in hits:
        if h.payload.get("page_id") == CONTACT_PAGE:
            return source(h.payload)
    return None


def wants_pages(intent: str, focus: Sequence[str], codes: Sequence[str]) -> bool:
    """Whether a turn may be about the shop: free-text searches and vague messages, never a
    turn that names SKUs or points at shown products."""
    return intent in ("search", "clarify") and not focus and not codes
