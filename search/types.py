"""The head product type of a question, matched against the product types of the tenant's catalog.

The type a shopper wants is the head of the phrase, not what it is for: "ink for my printer" wants
ink, "something to charge my laptop" wants something that charges, not a laptop. The matcher
tries a type phrase that ends at the question's head noun ("wireless mouse" -> mouse; "mouse pad"
is a pad or nothing, never a mouse), then, for paraphrases, the type phrases nearest the question
in embedding space, with the purpose's object ruled out. A named type is confident (a filter);
the nearest neighbours are a guess (a boost). Without an embedder, types sharing the head noun
("laptop lock" -> cable lock) are the guess.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from catalog.product_types import fold, is_phrase_word, words_of

How = Literal["phrase", "head", "embedding", "none"]
# A purpose starts here: what follows says what the product is for, not what it is.
PURPOSE = frozenset({"for", "to", "with", "that", "which", "so", "compatible"})
_DETERMINERS = frozenset({"my", "the", "a", "an", "our", "your", "his", "her", "their", "some",
                          "this", "that", "these", "those", "it", "them", "me"})
MIN_SIMILARITY = 0.35  # the nearest type phrase must be at least this close to the question
NEAR = 0.04  # types this close to the best one are boosted with it
MAX_BOOST = 3


class QueryEmbedder(Protocol):
    def embed_query(self, text: str, *, cache: bool = True) -> list[float]: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class TypeMatch:
    """The wanted product type(s) of a question and how sure the match is."""

    types: tuple[str, ...] = ()
    how: How = "none"

    @property
    def confident(self) -> bool:
        return self.how == "phrase"


def aliases(product_type: str) -> list[str]:
    """Ways a shopper names a type: itself, a parenthesised abbreviation ("uninterruptible
    power supply (ups)" -> "ups", and the phrase without it), each side of a slash."""
    out = [product_type]
    if "(" in product_type and product_type.endswith(")"):
        base, _, abbr = product_type[:-1].partition("(")
        out += [base.strip(), abbr.strip()]
    for phrase in list(out):
        if "/" in phrase:
            out += phrase.split("/")
    return [fold(" ".join(words_of(a))) for a in dict.fromkeys(out) if a.strip()]


def split_purpose(text: str) -> tuple[list[str], list[str]]:
    """(the question's head noun phrase words, the words of its purpose: the object)."""
    toks = [w for w in words_of(text) if is_phrase_word(w) or w in PURPOSE]
    for i, word in enumerate(toks):
        if word in PURPOSE:
            rest = toks[i + 1:]
            if word == "to" and rest:  # "to charge my laptop": the verb is not the object
                rest = rest[1:]
            return toks[:i], [w for w in rest if w not in _DETERMINERS and w not in PURPOSE]
    return toks, []


@dataclass
class TypeMatcher:
    """One tenant's type phrases (with product counts) and their embeddings, made on first use."""

    counts: Mapping[str, int]
    _phrases: dict[str, str] = field(init=False, default_factory=dict)
    _heads: dict[str, list[str]] = field(init=False, default_factory=dict)
    _longest: int = field(init=False, default=1)
    _vectors: np.ndarray | None = field(init=False, default=None, repr=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        heads: dict[str, list[str]] = defaultdict(list)
        for t in sorted(self.counts, key=lambda t: -self.counts[t]):
            for alias in aliases(t):
                self._phrases.setdefault(alias, t)
                heads[alias.split()[-1]].append(t)
        self._heads = {h: list(dict.fromkeys(ts)) for h, ts in heads.items()}
        self._longest = max((len(p.split()) for p in self._phrases), default=1)

    @property
    def types(self) -> list[str]:
        return list(self.counts)

    def lexical(self, words: Sequence[str]) -> TypeMatch:
        """The type phrase that ends at the head noun (the last word), longest first."""
        words = [w for w in words if w not in _DETERMINERS]
        for size in range(min(self._longest, len(words)), 0, -1):
            found = self._phrases.get(fold(" ".join(words[-size:])))
            if found:
                return TypeMatch((found,), "phrase")
        return TypeMatch()

    def by_head(self, words: Sequence[str]) -> TypeMatch:
        """Types whose head noun is the question's ("laptop lock" -> cable lock): a guess."""
        words = [w for w in words if w not in _DETERMINERS]
        found = self._heads.get(fold(words[-1]), []) if words else []
        return TypeMatch(tuple(found[:MAX_BOOST]), "head") if found else TypeMatch()

    def match(self, text: str, embedder: QueryEmbedder | None = None) -> TypeMatch:
        """The head product type of ``text``; with ``embedder``, paraphrases too (a guess)."""
        head, purpose = split_purpose(text)
        found = self.lexical(head)
        if found.types or not self.counts:
            return found
        if embedder is None:
            return self.by_head(head)
        return self.nearest(text, purpose, embedder)

    def nearest(self, text: str, purpose: Sequence[str], embedder: QueryEmbedder) -> TypeMatch:
        """The type phrases nearest the question, except those nearer its purpose's object."""
        vectors = self._embedded(embedder)
        sims = vectors @ _unit(embedder.embed_query(text))
        excluded = set(self.lexical(purpose).types) if purpose else set()
        if purpose:
            to_object = vectors @ _unit(embedder.embed_query(" ".join(purpose)))
            excluded.update(t for t, a, b in zip(self.types, sims, to_object, strict=True)
                            if b >= a)
        ranked = sorted((s, t) for t, s in zip(self.types, sims, strict=True)
                        if t not in excluded)
        if not ranked or ranked[-1][0] < MIN_SIMILARITY:
            return TypeMatch()
        best = ranked[-1][0]
        near = [t for s, t in reversed(ranked) if s >= best - NEAR][:MAX_BOOST]
        return TypeMatch(tuple(near), "embedding")

    def _embedded(self, embedder: QueryEmbedder) -> np.ndarray:
        """Unit vectors of the type phrases, embedded once per matcher (per tenant vocabulary)."""
        with self._lock:
            if self._vectors is None:
                vectors = np.asarray(embedder.embed_documents(self.types), dtype=np.float32)
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                self._vectors = vectors / np.where(norms == 0, 1, norms)
            return self._vectors


def _unit(vector: Sequence[float]) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v
