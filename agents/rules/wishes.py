"""Numeric wishes: "at least 16 GB", "27 inch", "over 1,000 VA", "under 2 kg" as range filters.

A wish becomes a filter only on a range field some SKU of the tenant states (the vocabulary's
``ranges``); otherwise its words still reach BM25 as canonical tokens ("27in"). Which field a
data size means comes from the words beside it ("16 GB RAM", "512 GB SSD"), then the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.units import FIELD_WORDS, RANGE_FIELDS, SUFFIX, Quantity, is_inch, quantities

# How far a bare size may be off and still be it ("24 inch" finds 23.8"; 16 GB is 16 GB).
TOLERANCE = 0.03
_AT_LEAST = re.compile(r"(?:\bat\s+least|\bmin(?:imum)?|\bover|\babove|\bmore\s+than|"
                       r"\b(?:bigger|larger|greater|heavier|longer)\s+than|>=?|\bfrom)\s*$", re.I)
_AT_MOST = re.compile(r"(?:\bat\s+most|\bmax(?:imum)?|\bunder|\bbelow|\bless\s+than|\bup\s+to|"
                      r"\bno\s+more\s+than|\b(?:smaller|lighter|shorter)\s+than|<=?)\s*$", re.I)
_SKIP = r"(?:[^\W\d_]+\s+){0,2}?"  # "16 GB of memory or more"
_OR_MORE = re.compile(rf"^\s*{_SKIP}(or\s+(?:more|bigger|larger|above|higher)|\+|and\s+up)",
                      re.I)
_OR_LESS = re.compile(rf"^\s*{_SKIP}(or\s+(?:less|smaller|lighter|under|lower)|max(?:imum)?\b)",
                      re.I)
_THOUSANDS = re.compile(r"(\d),(\d{3})(?!\d)")
_WORDS = re.compile(r"[^\W\d_]+")
# A wish's field in the shopper's words, for the tail of a relaxation note.
NAMES = {"storage_gb": "GB of storage", "memory_gb": "GB of memory", "screen_in": "inch",
         "power_w": "W", "va": "VA", "weight_kg": "kg"}
_BY_DIMENSION = {d: [f for f, dim in RANGE_FIELDS.items() if dim == d] for d in SUFFIX}


@dataclass
class Wishes:
    """Range wishes found in a message, and the message without their comparator words."""

    ranges: dict[str, list[float | None]] = field(default_factory=dict)
    rest: str = ""
    """The text with comparator words blanked and "1,000 VA" written "1000 VA"."""
    spans: list[tuple[int, int]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    """Canonical tokens of every quantity ("27in"), for retrieval (typed "27\"" loses its unit)."""


def _field(text: str, q: Quantity, available: frozenset[str]) -> str | None:
    """The tenant's range field this quantity is about, or None."""
    fields = [f for f in _BY_DIMENSION[q.dimension] if f in available]
    if q.dimension == "length":
        screen = is_inch(text, q) or bool(set(_lower_words(text)) & FIELD_WORDS["screen_in"])
        return "screen_in" if screen and "screen_in" in fields else None
    if len(fields) <= 1:
        return fields[0] if fields else None
    beside = _lower_words(text[q.span[1]:])[:2]
    for words in (beside, _lower_words(text[:q.span[0]])[-2:], _lower_words(text)):
        named = [f for f in fields if set(words) & FIELD_WORDS.get(f, frozenset())]
        if len(named) == 1:
            return named[0]
    return "storage_gb" if "storage_gb" in fields else fields[0]


def _lower_words(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(text)]


def range_wishes(text: str, available: frozenset[str]) -> Wishes:
    """"at least 16 GB" -> memory_gb >= 16; "27 inch" -> screen_in within 3% of 27."""
    out, found = Wishes(), quantities(text)
    for q in found:
        out.tokens.append(q.token)
        name = _field(text, q, available)
        if name is None:
            continue
        before, after = text[:q.span[0]], text[q.span[1]:]
        low: float | None = round(q.value * (1 - TOLERANCE), 3)
        high: float | None = round(q.value * (1 + TOLERANCE), 3)
        if m := _AT_LEAST.search(before):
            low, high = q.value, None
            out.spans.append((m.start(), m.end()))
        elif m := _AT_MOST.search(before):
            low, high = None, q.value
            out.spans.append((m.start(), m.end()))
        elif m := _OR_MORE.match(after):
            low, high = q.value, None
            out.spans.append((q.span[1] + m.start(1), q.span[1] + m.end(1)))
        elif m := _OR_LESS.match(after):
            low, high = None, q.value
            out.spans.append((q.span[1] + m.start(1), q.span[1] + m.end(1)))
        out.ranges[name] = [low, high]
    out.tokens = list(dict.fromkeys(out.tokens))
    chars = list(text)
    for start, end in out.spans:
        chars[start:end] = " " * (end - start)
    blanked, pieces, last = "".join(chars), [], 0
    for q in found:
        pieces += [blanked[last:q.span[0]], _THOUSANDS.sub(r"\1\2", blanked[q.span[0]:q.span[1]])]
        last = q.span[1]
    out.rest = "".join([*pieces, blanked[last:]])
    return out


def describe(ranges: dict[str, list[float | None]]) -> str:
    """"at least 16 GB of memory and about 27 inch": the wishes in the shopper's words."""
    parts = []
    for name, (low, high) in sorted(ranges.items()):
        unit = NAMES.get(name, name)
        if low is not None and high is not None:
            parts.append(f"about {_num((low + high) / 2)} {unit}")
        elif low is not None:
            parts.append(f"at least {_num(low)} {unit}")
        elif high is not None:
            parts.append(f"at most {_num(high)} {unit}")
    return " and ".join(parts)


def _num(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")
