"""The catalog's own words (brands, colours, product types, facets), built once per tenant.

Constraints are resolved against this vocabulary, so "logitech" becomes a brand filter only
if the shop sells Logitech. It is read from the SoR (the catalog's truth) on first use and kept
on the agent's deps; it is rebuilt in the background after ``ttl_s`` so new brands appear.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from catalog import Product
from catalog.sor import SystemOfRecord
from search import FACET_ATTRIBUTES, colour_of, facets_of, normalise_colours
from search.spelling import Speller, catalog_words
from search.types import TypeMatcher
from search.units import payload_quantities

log = logging.getLogger(__name__)

# Brands that are also everyday words: they count only when typed capitalised ("Sharp").
COMMON_WORDS = frozenset({
    "act", "apple", "be quiet", "buffalo", "chief", "denver", "eminent", "equip", "integral",
    "jumbo", "lena", "manhattan", "peach", "princess", "sharp", "shuttle", "speck", "step2",
    "thule", "tristar", "varta",
})
# Facet keys whose values a shopper types as a requirement; a different value rules a SKU out.
STRICT_FACET_KEYS = frozenset({"connectivity technology", "print technology"})
_NON_WORD = re.compile(r"[^a-z0-9]+")
_ALPHA = re.compile(r"[a-z][a-z ]+")
EXAMPLES = 4  # categories a clarifying question offers
_NOT_VALUES = frozenset({"yes", "no", "not available", "other", "none", "any"})


@lru_cache(maxsize=16384)
def words(text: str) -> str:
    """Lower-case words separated by single spaces: the form every phrase is matched in.

    Memoised (a pure function): ranking normalises the same titles and facets many times.
    """
    return _NON_WORD.sub(" ", text.lower()).strip()


@dataclass(frozen=True)
class Vocabulary:
    """Phrase -> catalog value maps; phrases are ``words()``-normalised."""

    brands: dict[str, list[str]] = field(default_factory=dict)
    colours: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    facets: dict[str, list[str]] = field(default_factory=dict)
    types: TypeMatcher = field(default_factory=lambda: TypeMatcher({}))
    """The catalog's product types (with product counts), for the question's head type."""
    skus: int = 0
    max_phrase_words: int = 1
    """Longest brand or facet phrase, in words (bounds the phrase matcher's window)."""
    currency: str | None = None
    """The currency most of the shop's SKUs are priced in (None: no catalog read)."""
    examples: tuple[str, ...] = ()
    """The shop's most stocked categories, most SKUs first: examples for a clarifying question."""
    ranges: frozenset[str] = frozenset()
    """Range fields (``search.units.RANGE_FIELDS``) some SKU of the tenant states."""
    speller: Speller | None = field(default=None, compare=False, repr=False)
    """Corrects words the catalog does not know into ones it does (None: no correction)."""


def _phrase(value: str) -> str | None:
    """The words a shopper would type for a value, or None if it is a code, a number or vague."""
    value = words(value)
    if not 3 <= len(value) <= 30 or len(value.split()) > 3 or value in _NOT_VALUES:
        return None
    return value if _ALPHA.fullmatch(value) else None


def build_vocabulary(products: list[Product], *, spell: bool = True) -> Vocabulary:
    """Collect the vocabulary of one tenant's products (pure; see ``VocabularyCache``); the
    speller (``spell``) costs about a second per 5,000 products."""
    brands: dict[str, set[str]] = defaultdict(set)
    colours: set[str] = set()
    categories: set[str] = set()
    types: dict[str, int] = defaultdict(int)
    facet_set: set[str] = set()
    per_category: Counter[str] = Counter()
    currencies: Counter[str] = Counter()
    ranges: set[str] = set()
    skus = 0
    for product in products:
        brand = product.brand.strip().lower()
        if brand:
            brands[words(brand)].add(brand)
        if product.category:
            categories.add(product.category.lower())
        if product.product_type:
            types[product.product_type.lower()] += 1
        # Examples for a clarifying question: what the shop sells most of, in its own words.
        if kind := product.product_type or product.category:
            per_category[kind.lower()] += len(product.skus)
        for sku in product.skus:
            skus += 1
            currencies[sku.price.currency] += 1
            ranges.update(payload_quantities(product.sku_title(sku),
                                             {**product.attributes, **sku.variant_attributes}))
            colours.update(c for c in normalise_colours(colour_of(product, sku)) if _phrase(c))
            facet_set.update(f for f in facets_of(product, sku)
                             if f.split("=", 1)[0] in FACET_ATTRIBUTES)
    for phrase, owners in list(brands.items()):  # "kingston" -> "kingston technology"
        first = phrase.split()[0]
        if len(first) >= 4 and first not in brands and first not in COMMON_WORDS:
            brands.setdefault(first, set()).update(owners)
    frozen_colours = frozenset(colours)
    facets: dict[str, set[str]] = defaultdict(set)
    for facet in facet_set:
        value = _phrase(facet.split("=", 1)[1])
        if value and value not in frozen_colours and value not in types:
            facets[value].add(facet)
    longest = max((len(p.split()) for p in (*brands, *facets)), default=1)
    return Vocabulary(
        max_phrase_words=longest,
        brands={k: sorted(v) for k, v in brands.items()},
        colours=frozen_colours,
        categories=frozenset(categories),
        facets={k: sorted(v) for k, v in facets.items()},
        types=TypeMatcher(dict(types)),
        skus=skus,
        currency=currencies.most_common(1)[0][0] if currencies else None,
        examples=tuple(c for c, _ in per_category.most_common(EXAMPLES)),
        ranges=frozenset(ranges),
        speller=Speller(catalog_words(products), protected=brands) if spell and products else None,
    )


@dataclass
class VocabularyCache:
    """One vocabulary per tenant, loaded once and refreshed in the background when old."""

    sor: SystemOfRecord
    ttl_s: float = 600.0
    _entries: dict[str, tuple[float, Vocabulary]] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _refreshing: set[asyncio.Task[Vocabulary]] = field(default_factory=set)

    async def get(self, tenant: str) -> Vocabulary:
        """The tenant's vocabulary; an empty one (not cached) while the SoR cannot be read."""
        entry = self._entries.get(tenant)
        if entry is None:
            return await self.load(tenant)
        if time.monotonic() - entry[0] > self.ttl_s and not self._locks[tenant].locked():
            task = asyncio.create_task(self.load(tenant))
            self._refreshing.add(task)
            task.add_done_callback(self._refreshing.discard)
        return entry[1]

    async def load(self, tenant: str) -> Vocabulary:
        lock = self._locks.setdefault(tenant, asyncio.Lock())
        async with lock:
            entry = self._entries.get(tenant)
            if entry is not None and time.monotonic() - entry[0] <= self.ttl_s:
                return entry[1]
            try:
                products = [p async for p in self.sor.iter_products(tenant)]
            except Exception as exc:  # SoR down: answer without brand/colour resolution
                log.warning("vocabulary of %r unavailable: %s", tenant, exc)
                return entry[1] if entry else Vocabulary()
            vocab = await asyncio.to_thread(build_vocabulary, products)  # seconds on big shops
            self._entries[tenant] = (time.monotonic(), vocab)
            return vocab

    def invalidate(self, tenant: str | None = None) -> None:
        """Forget one tenant's vocabulary (or all), e.g. after a bulk ingest."""
        if tenant is None:
            self._entries.clear()
        else:
            self._entries.pop(tenant, None)
