"""Product cards and the short phrases about one SKU that both the cards and the answer use."""

from __future__ import annotations

from agents.rules.money import money
from agents.rules.ranking import colour_match, facet_match
from agents.rules.titles import display_title
from agents.schemas import ProductCard
from agents.state import Candidate, Constraints, Intent, LiveOffer
from catalog import page_url

PRICE_DOWN = "live price unavailable"
STOCK_DOWN = "live stock unavailable"
TITLE_CHARS = 70


def short(title: str) -> str:
    """The title as a sentence quotes it: data only (``display_title``), and cut, since Icecat
    titles run long (the card shows it in full)."""
    title = display_title(title)
    if len(title) <= TITLE_CHARS:
        return title
    return title[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:-(") + "…"


def price_text(o: LiveOffer | None) -> str:
    return (o["display"] if o else None) or PRICE_DOWN


def stock_text(o: LiveOffer | None, *, warehouses: bool = False) -> str:
    """"in stock (12 available)", "out of stock", or "live stock unavailable"."""
    if o is None or o["quantity"] is None or o["availability"] == "unknown":
        return STOCK_DOWN
    q = o["quantity"]
    where = ""
    if warehouses and o["warehouses"] and q:
        where = ": " + ", ".join(f"{n} in {w}" for w, n in sorted(o["warehouses"].items()) if n)
    match o["availability"]:
        case "in_stock":
            return f"in stock ({q} available{where})"
        case "low_stock":
            return f"low on stock (only {q} left{where})"
        case "out_of_stock":
            return "out of stock"
        case "preorder":
            return "available to pre-order"
        case "discontinued":
            return "discontinued"
        case other:
            return other.replace("_", " ")


def why(cand: Candidate, o: LiveOffer | None, c: Constraints, intent: Intent, query: str,
        currency: str | None = None) -> str:
    """Why this SKU is shown, in plain words (no figures beyond the shopper's own limits)."""
    parts: list[str] = []
    if cand["exact"]:
        parts.append("you named this product" if intent in ("detail", "compare", "availability")
                     and not c["codes"] else "its model number or SKU matches your search")
    if c["brands"]:
        parts.append(f"it is a {cand['brand']} product")
    if c["product_type"] and cand["product_type"] == c["product_type"]:
        parts.append(f"it is a {c['product_type']}")
    if c["colours"] and colour_match(cand, c["colours"]):
        parts.append(f"it comes in {' / '.join(c['colours'])}")
    if facet_match(cand, c["facets"])[0]:
        parts.append("it is " + " and ".join(f.split("=", 1)[1] for f in c["facets"]))
    if c["max_price"] is not None and o and o["price"] is not None:
        parts.append(f"its live price is within your {money(c['max_price'], currency)} limit")
    if c["in_stock"] and o and o["in_stock"]:
        parts.append("it is in stock now")
    if not parts and query:
        parts.append("it is among the best matches for your search")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] if text else "Closest match in the catalog"


def product_page(cand: Candidate, url_template: str) -> str | None:
    """The catalog's product page for the SKU, else the shop's template, else None."""
    return cand["url"] or page_url(url_template, sku=cand["sku"], product_id=cand["product_id"])


def card(cand: Candidate, o: LiveOffer | None, reason: str, url_template: str = "") -> ProductCard:
    """A card whose price and stock come from the live offer only (None when unavailable);
    its link is the catalog's product page, else the shop's template."""
    return ProductCard(
        sku=cand["sku"], title=display_title(cand["title"]), brand=cand["brand"],
        price=o["price"] if o else None, currency=o["currency"] if o else None,
        price_display=price_text(o), availability=o["availability"] if o else "unknown",
        quantity=o["quantity"] if o else None, in_stock=o["in_stock"] if o else None,
        stock_synthetic=bool(o and o["synthetic"]), warehouses=dict(o["warehouses"]) if o else {},
        as_of=o["as_of"] if o else None,  # type: ignore[arg-type]
        why=reason, image_url=cand["image_url"], score=round(cand["score"], 4),
        url=product_page(cand, url_template),
    )
