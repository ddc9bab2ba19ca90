"""Typo tolerance against the catalog's own words: "keybaord" is searched as "keyboard".

Only words the catalog does not know are corrected, and only into words it does know
(SymSpell over the tenant's titles, brands, categories, attribute values and descriptions).
A word of the bundled English frequency list is known too, so "cheap" or "something" is never
"fixed" into a product word; tokens with digits or other marks (model numbers, codes) and
all-capital tokens are never touched. The first letter is kept, and words up to eight letters
get one edit at most: a name the shop does not carry is likelier than two typos.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources

from symspellpy import SymSpell, Verbosity

from catalog import Product

MAX_EDIT = 2
SHORT = 8  # words up to this long get at most one edit ("vertuo" is a name, not "vertiv")
MIN_LENGTH = 4  # shorter words are too often right ("hp", "ssd") to correct
_WORD = re.compile(r"[^\W\d_]{2,}")
_TOKEN = re.compile(r"\S+")
_EDGE = re.compile(r"^[^\w]+|[^\w]+$")
_ENGLISH = "frequency_dictionary_en_82_765.txt"

Correction = tuple[str, str]


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """symspellpy's bundled English frequency list, read once: words never to be corrected."""
    text = resources.files("symspellpy").joinpath(_ENGLISH).read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


def catalog_words(products: Iterable[Product]) -> Counter[str]:
    """Lower-case words of a tenant's products with their counts (no words with digits)."""
    counts: Counter[str] = Counter()
    for p in products:
        texts = [p.title, p.brand, p.category or "", p.description or ""]
        texts += [v for v in p.attributes.values() if isinstance(v, str) and len(v) <= 60]
        for sku in p.skus:
            texts += list(sku.variant_attributes.values())
            if sku.title:
                texts.append(sku.title)
        counts.update(_WORD.findall("\n".join(texts).lower()))
    return counts


class Speller:
    """One tenant's corrector; built with its vocabulary and kept while that lives."""

    def __init__(
        self,
        counts: Mapping[str, int],
        *,
        protected: Iterable[str] = (),
        known: frozenset[str] | None = None,
    ) -> None:
        self._sym = SymSpell(max_dictionary_edit_distance=MAX_EDIT, prefix_length=7)
        for word, count in counts.items():
            if len(word) >= MIN_LENGTH - 1:
                self._sym.create_dictionary_entry(word, max(int(count), 1))
        self._catalog = frozenset(counts) | {w.lower() for p in protected for w in p.split()}
        self._known = english_words() if known is None else known

    def knows(self, word: str) -> bool:
        return word in self._catalog or word in self._known

    def suggest(self, word: str) -> str | None:
        """The catalog word ``word`` was meant to be, or None: the nearest that keeps the first
        letter (a first-letter typo is rare, a name the shop lacks is not: "nespresso" is not
        "espresso"), then the catalog's most frequent."""
        lower = word.lower()
        if len(lower) < MIN_LENGTH or not lower.isalpha() or self.knows(lower):
            return None
        if word.isupper():  # "TKL", "HDMI": an acronym or a code, not a typo
            return None
        limit = 1 if len(lower) <= SHORT else MAX_EDIT
        found = self._sym.lookup(lower, Verbosity.ALL, max_edit_distance=limit)
        if not found:
            return None
        same = [s for s in found if s.term[0] == lower[0]]
        return min(same, key=lambda s: (s.distance, -s.count)).term if same else None

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        """``text`` with unknown words corrected, and the (typed, corrected) pairs."""
        fixes: list[Correction] = []
        out: list[str] = []
        last = 0
        for m in _TOKEN.finditer(text):
            token = m.group(0)
            core = _EDGE.sub("", token)
            fixed = self.suggest(core) if core else None
            if fixed is None:
                continue
            if core[0].isupper():
                fixed = fixed[0].upper() + fixed[1:]
            start = m.start() + token.index(core)
            out += [text[last:start], fixed]
            last = start + len(core)
            fixes.append((core, fixed))
        out.append(text[last:])
        return "".join(out), fixes
