"""A lexical floor under retrieval: a hit must share a word with the question to be shown.

Vector search always returns neighbours, even for things the shop does not sell ("iphone 7");
without this floor the agent would recommend whatever is nearest.
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.rules.terms import STOP
from agents.rules.vocabulary import words
from agents.state import Candidate, Constraints
from search.types import split_purpose

# Shopper words -> catalog words. Generic retail vocabulary, not tuned to any query file.
SYNONYMS: dict[str, str] = {
    "laptop": "notebook",
    "laptops": "notebooks",
    "earphones": "headphones earbuds",
    "earbuds": "headphones",
    "headset": "headphones",
    "tv": "television",
    "ps4": "playstation 4",
    "ps5": "playstation 5",
    "pc": "computer desktop",
    "cellphone": "smartphone mobile phone",
    "phone": "smartphone mobile",
    "mousepad": "mouse pad",
    "thumb drive": "usb flash drive",
    "pen drive": "usb flash drive",
    "memory stick": "usb flash drive",
    "ssd": "solid state drive",
    "hdd": "hard disk drive",
    "charger": "power adapter",
    "cord": "cable",
    "cords": "cables",
    "screen": "monitor display",
    "wifi": "wireless wi-fi",
    "bluetooth": "bluetooth wireless",
}


def expand_query(text: str) -> str:
    """Append catalog synonyms of the shopper's words (used by the agent's relevance check)."""
    lowered = " " + " ".join(text.lower().split()) + " "
    extra: list[str] = []
    for phrase, synonyms in SYNONYMS.items():
        if f" {phrase} " in lowered and synonyms not in lowered:
            extra.append(synonyms)
    return text if not extra else f"{text} {' '.join(extra)}"


# Words that say nothing about the product: they can never be the only link to a hit.
FILLER = frozenset({"something", "anything", "thing", "things", "stuff", "item", "items",
                    "product", "products", "good", "nice", "best", "new", "cheap", "great"})


def stem(word: str) -> str:
    """Crude plural folding, enough for "headphones" ~ "headphone" and "cables" ~ "cable"."""
    for suffix in ("es", "s"):
        if len(word) > 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _stems(c: Candidate) -> set[str]:
    text = " ".join([c["title"], c["brand"], c["category"] or "", c["description"],
                     *c["specs"].values(), *(f.split("=", 1)[-1] for f in c["facets"])])
    return {stem(w) for w in words(text).split()}


def _groups(query: str) -> list[set[str]]:
    """One set of acceptable stems per product word of the query (the word or its synonyms)."""
    out = []
    for w in words(query).split():
        if len(w) >= 3 and w.isalpha() and w not in FILLER and w not in STOP:
            out.append({stem(w), *(stem(x) for x in words(SYNONYMS.get(w, "")).split())})
    return out


def product_words(query: str, c: Constraints) -> str:
    """The query without its brand and colour words: what the product itself must show (its
    attribute values count, from its facets or its text). A brand is an index filter, and a
    colour alone ("white") must not link a mug to a question about t-shirts."""
    filtered = {w for v in (*c["brands"], *c["colours"]) for w in words(v).split()}
    return " ".join(w for w in words(query).split() if w not in filtered)


def matches_all(cands: list[Candidate], query: str) -> list[Candidate]:
    """The hits that show every product word of the question (or a synonym of it): the gate
    under a price-ordered scan, so "cheapest wireless mouse" is not the cheapest "wireless"
    anything. Brand and colour words are filters already and should not be in ``query``."""
    groups = _groups(query)
    if not groups:
        return cands
    out = []
    for c in cands:
        stems = _stems(c)
        if c["exact"] or all(g & stems for g in groups):
            out.append(c)
    return out


def _named(c: Candidate) -> set[str]:
    text = " ".join([c["title"], c["category"] or "", c.get("product_type") or ""])
    return {stem(w) for w in words(expand_query(text)).split()}


def relevant(cands: list[Candidate], query: str, product_type: str | None,
             boost_types: Sequence[str] = (), message: str = "") -> list[Candidate]:
    """The hits that share a (stemmed) word with the question, and of those the ones of a
    guessed type when there are any; all hits when the index already filtered by type, or
    when there is no word to check. A question with a purpose ("something to charge my
    laptop") names what the product is for, not what it is: its guessed type needs no word."""
    if product_type:
        return cands
    wanted = {stem(w) for w in words(expand_query(query)).split()
              if len(w) >= 3 and w.isalpha() and w not in FILLER}
    floor = [c for c in cands if c["exact"] or not wanted or wanted & _stems(c)]
    head = next((w for w in reversed(words(query).split())
                 if len(w) >= 3 and w.isalpha() and w not in FILLER), None)
    purpose = bool(message and split_purpose(message)[1])
    if head and not purpose:  # no type filter: the head noun must name the product
        heads = {stem(w) for w in words(expand_query(head)).split()}
        floor = [c for c in floor if c["exact"] or heads & _named(c)]
    typed = [c for c in (cands if purpose else floor)
             if c["exact"] or c.get("product_type") in boost_types]
    return typed if any(not c["exact"] for c in typed) else floor
