"""Catalog terms in a message: brands, colours and attribute values, matched longest first."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.rules.vocabulary import COMMON_WORDS, Vocabulary, words

_COLOUR_ALIASES = {"gray": "grey", "aluminum": "aluminium", "multicolor": "multicolour"}


@dataclass
class Terms:
    """Catalog terms found in the text; ``free`` are the words that matched none."""

    brands: list[str] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    facets: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    free: list[str] = field(default_factory=list)


def _capitalised(phrase: str, original: str) -> bool:
    """A brand that is also a common word counts only when typed with a capital ("Sharp")."""
    return any(m.group(0)[0].isupper()
               for m in re.finditer(rf"\b{re.escape(phrase)}\b", original, re.I))


def find_terms(text: str, vocab: Vocabulary) -> Terms:
    """Longest-first phrase match of brands, colours and facet values over the words."""
    tokens = [_COLOUR_ALIASES.get(t, t) for t in words(text).split()]
    out, i = Terms(words=tokens), 0
    while i < len(tokens):
        for n in range(min(vocab.max_phrase_words, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + n])
            common = phrase in COMMON_WORDS
            if phrase in vocab.brands and (not common or _capitalised(phrase, text)):
                out.brands.extend(b for b in vocab.brands[phrase] if b not in out.brands)
            elif phrase in vocab.colours:
                out.colours.append(phrase)
            elif phrase in vocab.facets:
                out.facets.extend(vocab.facets[phrase])
            else:
                continue
            i += n
            break
        else:
            out.free.append(tokens[i])
            i += 1
    return out


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP = _wordset(
    "a an the i im me my we our you your it its is are am be was do does did have has had any "
    "some show find want need needs looking look search please can could would like get buy "
    "to of in on at by and or for from with without what which how about one ones that thats this "
    "these those there s t there here give tell know see now just also only really very much "
    "many more most well ok okay hi hello hey thanks thank sell sold got us available "
    "availability stock stocked left"
)
# Words that carry no product meaning: a message made only of these is too vague to search.
VAGUE = _wordset(
    "something anything nice good great cool best better new thing things stuff item items "
    "product products gift present recommend recommendation suggest suggestion help idea "
    "ideas option options else whatever cheap"
)


def content(tokens: list[str]) -> list[str]:
    """The words worth sending to retrieval."""
    return [w for w in tokens if w not in STOP and (len(w) > 1 or w.isdigit())]
