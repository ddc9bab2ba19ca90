"""Judge one shopper answer against the system of record: expectations are predicates, not SKUs.

A ``Q`` says what a right answer looks like (the product type of every card, price, brand,
stock and unit constraints, true cheapest or dearest, a policy page and section, no card at
all) and ``judge`` checks an ``Answer`` against a snapshot of the SoR (``Truth``), returning
the reasons it fails. The cheapest is computed here, over every SoR SKU that meets the
question's constraints, so a ranking that only sorts its top hits is caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from catalog.models import Offer, Product

Where = Callable[[Product], bool]
# Words after which a title names what the product is *for*, not what it is.
_FOR = re.compile(r"\s(?:for|with|w/|compatible|incl\.?|including|fits)\s", re.I)
_QUOTED = re.compile(r"[“\"]([^”\"]{2,80})[”\"]")
_WORD = re.compile(r"[\w']+")
TEXT = "text: "  # the prefix of a reason about the wording rather than the cards


@dataclass(frozen=True)
class Q:
    """One shopper question and what every right answer to it must satisfy."""

    text: str
    cls: str
    kind: tuple[str, ...] = ()  # every card's type phrase names one of these
    not_kind: tuple[str, ...] = ()  # ... and none of these (the accessory, the thing it is for)
    brand: str | None = None
    max_price: float | None = None
    min_price: float | None = None
    in_stock: bool = False  # judged by the live SoR offer
    where: Where | None = None  # units, codes, attributes: a predicate over the SoR product
    cheapest: bool = False  # first card's live price == min over every matching SoR SKU
    priciest: bool = False
    no_cards: bool = False
    clarify: bool = False  # a question back, no card
    policy: tuple[str, str] | None = None  # (page_id, section regex) among answer.sources
    says: str | None = None  # regex the text must match
    not_says: str | None = None  # regex the text must not match
    before: tuple[str, ...] = ()  # earlier turns in the same thread


@dataclass
class Row:
    """One SoR SKU: its product (holding only this SKU, so variant tests see the variant)
    and its live offer."""

    product: Product
    offer: Offer | None


@dataclass
class Truth:
    """A snapshot of the tenant's SoR: every SKU with its product and live offer."""

    rows: dict[str, Row] = field(default_factory=dict)

    def price(self, sku: str) -> Decimal | None:
        row = self.rows.get(sku)
        if row is None or row.offer is None or row.offer.price is None:
            return None
        return row.offer.price.amount


def title_head(product: Product) -> str:
    """The title's head: the words before "for"/"with", as a shopper reads a title."""
    return _FOR.split(f" {product.title} ", maxsplit=1)[0].strip()


def type_phrase(product: Product) -> str:
    """What the product is, for a reason: the title's head, then its category or ``product_type``
    (read with getattr, so the judge runs before and after that field exists)."""
    typed = product.category or getattr(product, "product_type", None)
    head = title_head(product)
    return f"{head} [{typed}]" if typed else head


def _has(text: str, words: Iterable[str]) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(w)}(?:e?s)?(?![\w-])", text, re.I) for w in words)


def kind_ok(q: Q, product: Product) -> bool:
    """The product is a wanted kind and no excluded one. The catalog's own words come first:
    the title's head decides when it names either ("Oak Mug Tree" is no mug, whatever its type
    says); a head that names neither ("HP 504A Original Magenta") defers to the catalog's
    category, and only then to ``product_type``, the feature under test."""
    for evidence in (title_head(product), product.category,
                     getattr(product, "product_type", None)):
        if not evidence:
            continue
        if q.not_kind and _has(evidence, q.not_kind):
            return False
        if not q.kind or _has(evidence, q.kind):
            return True
    return False


def brand_ok(q: Q, brand: str) -> bool:
    return q.brand is None or bool(re.search(rf"\b{re.escape(q.brand)}\b", brand, re.I))


def meets(q: Q, row: Row) -> bool:
    """Does this SoR SKU satisfy every constraint of the question (the cheapest's universe)?"""
    price = row.offer.price.amount if row.offer and row.offer.price else None
    if price is None:
        return False
    if q.max_price is not None and price > Decimal(str(q.max_price)):
        return False
    if q.min_price is not None and price < Decimal(str(q.min_price)):
        return False
    if q.in_stock and not (row.offer and row.offer.in_stock):
        return False
    if not brand_ok(q, row.product.brand):
        return False
    if q.where is not None and not q.where(row.product):
        return False
    return kind_ok(q, row.product)


def matching(q: Q, truth: Truth) -> list[str]:
    """Every SoR SKU that meets the question, cheapest first."""
    skus = [s for s, row in truth.rows.items() if meets(q, row)]
    return sorted(skus, key=lambda s: (truth.price(s) or Decimal(0), s))


def _source(src: Any) -> tuple[str, str]:
    get = src.get if isinstance(src, dict) else lambda k, d=None: getattr(src, k, d)
    return str(get("page_id", "") or ""), str(get("section", "") or "")


def _page(page_id: str) -> str:
    return re.sub(r"\.md$", "", page_id.strip().lower())


def echoes(question: str, text: str) -> list[str]:
    """Quoted spans made only of the question's words but not found in it: a mangled echo
    ("For “something charge laptop”"). A corrected spelling brings new words and passes."""
    asked = {w.lower() for w in _WORD.findall(question)}
    flat = " ".join(_WORD.findall(question)).lower()
    bad = []
    for span in _QUOTED.findall(text):
        words = [w.lower() for w in _WORD.findall(span)]
        if words and set(words) <= asked and " ".join(words) not in flat:
            bad.append(span)
    return bad


def _card_reasons(q: Q, i: int, card: Any, truth: Truth) -> list[str]:
    row = truth.rows.get(card.sku)
    if row is None:
        return [f"card {i} {card.sku} is not in the SoR (invented)"]
    label = f"card {i} {card.sku} {row.product.title[:60]!r}"
    live = truth.price(card.sku)
    out = []
    if not kind_ok(q, row.product):
        out.append(f"{label}: type {type_phrase(row.product)[:50]!r} is not "
                   f"{'/'.join(q.kind[:4]) or 'excluded'}")
    if card.price is not None and live is not None and Decimal(card.price) != live:
        out.append(f"{label}: card price {card.price} != SoR {live}")
    if live is not None and q.max_price is not None and live > Decimal(str(q.max_price)):
        out.append(f"{label}: {live} over {q.max_price}")
    if live is not None and q.min_price is not None and live < Decimal(str(q.min_price)):
        out.append(f"{label}: {live} under {q.min_price}")
    if q.in_stock and not (row.offer and row.offer.in_stock):
        out.append(f"{label}: out of stock in the SoR")
    if not brand_ok(q, row.product.brand):
        out.append(f"{label}: brand {row.product.brand!r} is not {q.brand}")
    if q.where is not None and not q.where(row.product):
        out.append(f"{label}: fails the unit/attribute condition")
    return out


def judge(q: Q, answer: Any, truth: Truth) -> list[str]:
    """Every reason the answer is wrong (empty: it passes)."""
    cards = list(answer.products)
    text = answer.text or ""
    reasons: list[str] = []
    wants_cards = not (q.no_cards or q.clarify or q.policy)
    if wants_cards and not cards and (found := len(matching(q, truth))):
        reasons.append(f"no card, though the SoR has {found} matching SKUs")
    if not wants_cards and cards:
        reasons.append(f"{len(cards)} cards shown where none belong: "
                       f"{[c.title[:40] for c in cards[:3]]}")
    if q.clarify and not getattr(answer, "clarification", False):
        reasons.append("no clarifying question")
    if wants_cards:
        for i, card in enumerate(cards, 1):
            reasons += _card_reasons(q, i, card, truth)
    if (q.cheapest or q.priciest) and cards:
        universe = matching(q, truth)
        if universe:
            best = universe[0] if q.cheapest else universe[-1]
            first = truth.price(cards[0].sku)
            if first != truth.price(best):
                word = "cheapest" if q.cheapest else "dearest"
                reasons.append(f"first card costs {first}; the {word} matching SKU is {best} "
                               f"at {truth.price(best)} ({truth.rows[best].product.title[:50]!r})")
    if q.policy is not None:
        page, section = q.policy
        sources = [_source(s) for s in getattr(answer, "sources", None) or []]
        if not any(_page(p) == _page(page) and re.search(section, s, re.I) for p, s in sources):
            reasons.append(f"no source {page}#{section}; got {sources or 'none'}")
    if q.says and not re.search(q.says, text):
        reasons.append(f"{TEXT}lacks /{q.says[:60]}/")
    if q.not_says and re.search(q.not_says, text):
        reasons.append(f"{TEXT}has /{q.not_says[:60]}/")
    reasons += [f"{TEXT}echoes a mangled query “{span}”" for span in echoes(q.text, text)]
    return reasons


def wording_only(reasons: list[str]) -> bool:
    """Every reason is about the wording, none about the cards or the sources."""
    return all(r.startswith(TEXT) for r in reasons)


# -- predicate helpers for ``Q.where`` ------------------------------------------------------

def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    m = re.match(r"\s*(\d+(?:[.,]\d+)?)", str(value))
    return float(m.group(1).replace(",", ".")) if m else None


def attr(names: tuple[str, ...], lo: float | None = None, hi: float | None = None) -> Where:
    """A numeric attribute (any of ``names``) within [lo, hi]."""
    def test(p: Product) -> bool:
        for name in names:
            n = _number(p.attributes.get(name)) if name in p.attributes else None
            if n is not None and (lo is None or n >= lo) and (hi is None or n <= hi):
                return True
        return False
    return test


def title(pattern: str) -> Where:
    """The title (or a SKU's title) matches ``pattern`` (case-insensitive)."""
    rx = re.compile(pattern, re.I)
    return lambda p: bool(rx.search(p.title)) or any(rx.search(s.title or "") for s in p.skus)


def text(pattern: str) -> Where:
    """The title, description or an attribute value matches ``pattern`` (case-insensitive)."""
    rx = re.compile(pattern, re.I)
    return lambda p: bool(rx.search(" ".join([p.title, p.description or "",
                                               *map(str, p.attributes.values())])))


def either(*tests: Where) -> Where:
    return lambda p: any(t(p) for t in tests)


def both(*tests: Where) -> Where:
    return lambda p: all(t(p) for t in tests)


def variant(name: str, pattern: str) -> Where:
    """The SKU's variant attribute ``name`` (colour, size) matches ``pattern``, whole value."""
    rx = re.compile(rf"(?:{pattern})", re.I)
    return lambda p: any(rx.fullmatch(s.variant_attributes.get(name, "")) for s in p.skus)
