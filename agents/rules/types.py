"""The question's head product type as constraints: a filter when the match is sure, else a boost.

The types are the tenant's own (learned from its catalog by ``catalog.product_types``); nothing
here knows what a shop sells. With no vocabulary (SoR down when it was to be read) there is no
telling, so no type at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.rules.vocabulary import Vocabulary
from search.types import QueryEmbedder


def head_type(vocab: Vocabulary, free: Sequence[str], embedder: QueryEmbedder | None
              ) -> tuple[str | None, list[str]]:
    """(the type filter, the types to boost) for the words that named no brand, colour or
    facet; the embedder is asked only when no type phrase is named."""
    if not vocab.skus or not free:
        return None, []
    match = vocab.types.match(" ".join(free), embedder)
    if match.confident:
        return match.types[0], []
    return None, list(match.types)
