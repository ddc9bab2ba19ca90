"""Quantities in catalog text and queries, read the same way on both sides.

"16GB", "16 GB" and "16 gigabytes" are one quantity, and so are "61 cm" and '24"'. Each quantity
gets a canonical token for BM25 ("16gb", "24in") and, where a product states one, a numeric
payload field that range filters match ("at least 16 GB" -> ``memory_gb >= 16``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from catalog import AttrValue

Dimension = Literal["data", "length", "power", "apparent", "weight"]

# unit spelling -> (dimension, factor to the canonical unit: GB, inch, W, VA, kg)
UNITS: dict[str, tuple[Dimension, float]] = {
    **dict.fromkeys(("gb", "gig", "gigs", "gigabyte", "gigabytes", "gbyte", "gbytes"),
                    ("data", 1.0)),
    **dict.fromkeys(("tb", "terabyte", "terabytes", "tbyte"), ("data", 1000.0)),
    **dict.fromkeys(("mb", "megabyte", "megabytes", "mbyte"), ("data", 0.001)),
    **dict.fromkeys(('"', "”", "''", "inch", "inches", "in"), ("length", 1.0)),
    **dict.fromkeys(("cm", "centimetre", "centimetres", "centimeter", "centimeters"),
                    ("length", 1 / 2.54)),
    **dict.fromkeys(("mm", "millimetre", "millimetres", "millimeter", "millimeters"),
                    ("length", 1 / 25.4)),
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), ("length", 100 / 2.54)),
    **dict.fromkeys(("w", "watt", "watts"), ("power", 1.0)),
    **dict.fromkeys(("kw", "kilowatt", "kilowatts"), ("power", 1000.0)),
    "va": ("apparent", 1.0),
    "kva": ("apparent", 1000.0),
    **dict.fromkeys(("g", "gram", "grams", "gramme", "grammes"), ("weight", 0.001)),
    **dict.fromkeys(("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"), ("weight", 1.0)),
    **dict.fromkeys(("lb", "lbs"), ("weight", 0.45359237)),  # "pounds" is money to a shopper
}
# Canonical token suffix and the decimals a canonical value keeps (61 cm and 24" -> 24.0 in).
SUFFIX: dict[Dimension, tuple[str, int]] = {
    "data": ("gb", 3), "length": ("in", 1), "power": ("w", 1), "apparent": ("va", 1),
    "weight": ("kg", 3),
}
# Numeric payload fields (float-indexed) and the dimension each holds.
RANGE_FIELDS: dict[str, Dimension] = {
    "storage_gb": "data", "memory_gb": "data", "screen_in": "length", "power_w": "power",
    "va": "apparent", "weight_kg": "weight",
}
# What a field is called in an attribute key or beside a number ("16 GB RAM"): the catalog's
# own key words decide between the two data-size fields.
FIELD_WORDS: dict[str, frozenset[str]] = {
    "memory_gb": frozenset({"memory", "ram", "sdram", "ddr", "ddr2", "ddr3", "ddr4", "ddr5",
                            "lpddr4", "lpddr5", "lpddr4x"}),
    "storage_gb": frozenset({"storage", "capacity", "ssd", "hdd", "disk", "drive", "flash"}),
    "screen_in": frozenset({"display", "screen", "diagonal", "panel"}),
}
_NOT_OWN = frozenset({"maximum", "max", "supported", "graphics", "adapter", "card", "cards",
                      "cache", "clock"})

_NUM = r"(\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:[.,]\d+)?)"
_SPELLINGS = sorted((u for u in UNITS if u not in ("in", "g")), key=len, reverse=True)
_UNIT = "|".join(re.escape(u) for u in _SPELLINGS)
# "in" and "g" only glued to the number ("24in", "500g"): "16 in stock" and "5 g" are not sizes.
QUANTITY = re.compile(
    rf"(?<![\w.,]){_NUM}(?:\s*-?\s*({_UNIT})|(in|g))(?![\w]|/\s?s\b)", re.I)
# A canonical token as ``Quantity.token`` writes it (answers show the shopper's words instead).
CANONICAL = re.compile(r"\d+(?:p\d+)?(?:gb|in|w|va|kg)")
_HYPHENATED = re.compile(r"\b([a-z]+)-([a-z0-9]{1,4})\b", re.I)
_WORD = re.compile(r"[^\W_]+")
_NEXT_WORD = re.compile(r"[\s,]+([^\W\d_]+)")


@dataclass(frozen=True, slots=True)
class Quantity:
    """One quantity in canonical units; ``span`` is where the text states it."""

    dimension: Dimension
    value: float
    span: tuple[int, int]

    @property
    def token(self) -> str:
        """The BM25 form: "16gb", "24in", "15p6in" (no dot, the tokenizer would split it)."""
        suffix, _ = SUFFIX[self.dimension]
        return f"{_fmt(self.value)}{suffix}"


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text.replace(".", "p")


def _number(raw: str) -> float:
    """'1,000' -> 1000; '15,6' (a decimal comma) -> 15.6."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
        return float(raw.replace(",", ""))
    return float(raw.replace(",", "."))


def quantities(text: str) -> list[Quantity]:
    """Every quantity in ``text``, in order, in canonical units rounded per dimension."""
    out = []
    for m in QUANTITY.finditer(text):
        unit = (m.group(2) or m.group(3)).lower()
        dimension, factor = UNITS[unit]
        value = _number(m.group(1))
        if unit == "g" and (value < 10 or m.group(3) == "G"):  # "5G", "160G": not grams
            continue
        out.append(Quantity(dimension, round(value * factor, SUFFIX[dimension][1]), m.span()))
    return out


def unit_tokens(text: str) -> list[str]:
    """Canonical quantity tokens and joined hyphen codes ("usb-c" -> "usbc"), for BM25 only."""
    tokens = [q.token for q in quantities(text)]
    tokens += [f"{a}{b}".lower() for a, b in _HYPHENATED.findall(text)]
    return list(dict.fromkeys(tokens))


def _key_words(key: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(key)}


def _field(q: Quantity, key_words: set[str], *, inch: bool) -> str | None:
    """The payload field a quantity stated under (or beside) ``key_words`` fills."""
    if key_words & _NOT_OWN:
        return None
    if q.dimension == "data":
        return "memory_gb" if key_words & FIELD_WORDS["memory_gb"] else "storage_gb"
    if q.dimension == "length":
        return "screen_in" if inch or key_words & FIELD_WORDS["screen_in"] else None
    return {"power": "power_w", "apparent": "va", "weight": "weight_kg"}[q.dimension]


def is_inch(text: str, q: Quantity) -> bool:
    """Whether ``text`` states ``q`` in inches (a screen size, where a cable is in metres)."""
    unit = text[q.span[0]:q.span[1]].lower()
    return unit.endswith(('"', "”", "''", "inch", "inches", "in"))


def payload_quantities(title: str, attributes: Mapping[str, AttrValue]) -> dict[str, float]:
    """The numeric range fields a product states: short attribute values with a unit first
    ("internal memory: 16 GB"), then the title's quantities, each named by the attribute that
    states the same number when the catalog dropped the unit ("internal memory: 16") or by the
    word after it ("16 GB RAM")."""
    out: dict[str, float] = {}
    for key, value in attributes.items():
        if not isinstance(value, str) or len(value) > 40:
            continue
        found = quantities(value)
        if found:
            name = _field(found[0], _key_words(key), inch=is_inch(value, found[0]))
            if name:
                out.setdefault(name, found[0].value)
    numbers: dict[float, set[str]] = {}
    for key, value in attributes.items():
        words = _key_words(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and not words & _NOT_OWN:
            numbers.setdefault(float(value), set()).update(words)
    for q in quantities(title):
        nxt = _NEXT_WORD.match(title, q.span[1])
        beside = {nxt.group(1).lower()} if nxt else set()
        name = _field(q, numbers.get(q.value, set()) | beside, inch=is_inch(title, q))
        if name:
            out.setdefault(name, q.value)
    return out
