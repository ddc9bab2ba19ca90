"""What the agent understood, in plain words built from the constraints, never the parsed query.

"in-stock white wireless Logitech mice under $30": the colour, attribute and brand wishes, the
product noun (the catalog category, or the shopper's own words for it), the budget in the
shop's currency, and stock. Singular and plural forms come from ``inflect``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agents import prompts
from agents.rules.money import money
from agents.rules.relevance import product_words
from agents.state import Constraints

MAX_NOUN_WORDS = 3


@lru_cache(maxsize=1)
def _engine() -> Any:
    """inflect is slow to import; load it on the first answer that needs a plural."""
    import inflect

    return inflect.engine()


@lru_cache(maxsize=4096)
def plural(noun: str) -> str:
    """"mouse" -> "mice"; a noun that is plural already ("headphones") stays as it is."""
    last = noun.split()[-1] if noun.split() else ""
    if not last or any(ch.isdigit() for ch in last):
        return noun  # "iphone 7": no plural a person would write
    p = _engine()
    return noun if p.singular_noun(noun) else str(p.plural_noun(noun))


@lru_cache(maxsize=4096)
def singular(noun: str) -> str:
    """"T-shirts" -> "T-shirt"; a singular noun stays as it is."""
    return str(_engine().singular_noun(noun) or noun)


def brand_name(brand: str, shown: Mapping[str, str]) -> str:
    """The brand as the catalog writes it ("HP", "Logitech"), from the products shown."""
    return shown.get(brand.lower()) or (brand.upper() if len(brand) <= 3 else brand.title())


def shopper_noun(query: str, message: str, c: Constraints) -> str | None:
    """The product words as the shopper typed them ("t-shirt"), when they are one phrase."""
    ws = product_words(query, c).split()
    if not ws or len(ws) > MAX_NOUN_WORDS:
        return None
    m = re.search(r"[\w'-]*" + r"\W+".join(map(re.escape, ws)) + r"[\w'-]*", message, re.I)
    return m.group(0).lower() if m else None


@dataclass(frozen=True)
class Wording:
    """One understood request: ``noun`` is singular; ``own`` marks the shopper's own words."""

    adjectives: str
    noun: str | None
    own: bool
    price: str
    in_stock: bool

    def phrase(self, *, many: bool, checked: bool = True) -> str:
        """"white Logitech mice under $30"; without price and stock when they are unchecked."""
        noun = self.noun or ("product" if self.adjectives or (checked and self.price) else "")
        if noun:
            noun = plural(noun) if many else noun
        stock = "in-stock" if self.in_stock and checked else ""
        price = self.price if checked else ""
        return " ".join(p for p in (stock, self.adjectives, noun, price) if p)


def price_phrase(c: Constraints, currency: str | None) -> str:
    """"under €25", "between $50 and $80", "over £20", or nothing."""
    lo, hi = c["min_price"], c["max_price"]
    if lo is not None and hi is not None:
        return f"between {money(lo, currency)} and {money(hi, currency)}"
    if hi is not None:
        return f"under {money(hi, currency)}"
    return f"over {money(lo, currency)}" if lo is not None else ""


def wording(c: Constraints, query: str, message: str, currency: str | None,
            brands: Mapping[str, str] | None = None) -> Wording:
    """The parts of the plain description of ``c`` (see ``Wording.phrase``)."""
    values = dict.fromkeys(f.split("=", 1)[-1] for f in c["facets"])
    adjectives = [" or ".join(c["colours"]), *values,
                  " or ".join(brand_name(b, brands or {}) for b in c["brands"])]
    own = shopper_noun(query, message, c) if not c["product_type"] else None
    noun = singular(c["product_type"]) if c["product_type"] else own
    return Wording(" ".join(a for a in adjectives if a), noun, own is not None,
                   price_phrase(c, currency), c["in_stock"])


def clarify_question(examples: tuple[str, ...]) -> str:
    """The one clarifying question, with the shop's own most stocked categories as examples."""
    names = [plural(e) for e in examples]
    if not names:
        return prompts.CLARIFY_BARE
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return prompts.CLARIFY.format(examples=listed)
