"""Pure text rules for what a shopper typed: price bounds, stock wishes, ordinals and cues.

No catalog knowledge here (that is ``understand``); every function is a plain function of the
text, so the constraint table in the tests runs without a model or an index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.rules.money import CURRENCY_WORDS
from agents.state import Sort

_NUM = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?![\d.,]?\d)(k\b)?"
_CUR = CURRENCY_WORDS  # "euros" before "eur", or "25 euros" leaves "os" behind
_MONEY = rf"(?:[$€£¥]\s*)?{_NUM}(?:\s*{_CUR})?"
# A number followed by a unit is a size, not a price ("under 27 inch", "over 500 gb").
_UNIT = (r"(?!\s*(?:-?inch|\"|”|''|gb|tb|mb|mm|cm|m\b|kg|g\b|w\b|v\b|hz|khz|mhz|ghz|mah|"
         r"ppm|dpi|pages?|pack|pcs|pieces|x\b|%|ml|ft|feet|metres?|meters?|years?|months?|keys))")
_M = _MONEY + _UNIT
PRICE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("range", re.compile(rf"\b(?:between|from)\s+{_M}\s*(?:and|to|-|–)\s*{_M}", re.I)),
    ("range", re.compile(rf"(?<![\w.]){_M}\s*(?:-|–|to)\s*{_M}", re.I)),
    ("max", re.compile(rf"\b(?:under|below|beneath|less\s+than|cheaper\s+than|up\s+to|at\s+most|"
                       rf"no\s+more\s+than|not\s+more\s+than|max(?:imum)?|within|budget(?:\s+of|"
                       rf"\s+is)?|<=?)\s*{_M}", re.I)),
    ("max", re.compile(rf"(?<![\w.]){_M}\s+(?:or\s+(?:less|under|below|cheaper)|max(?:imum)?)\b",
                       re.I)),
    ("min", re.compile(rf"\b(?:over|above|more\s+than|at\s+least|min(?:imum)?|>=?|from)\s*{_M}",
                       re.I)),
    ("min", re.compile(rf"(?<![\w.]){_M}\s*(?:or\s+more|\+|and\s+up)", re.I)),
    ("around", re.compile(rf"\b(?:around|about|approximately|roughly|~)\s*{_M}", re.I)),
    ("around", re.compile(r"(?:[$€£¥]\s*)" + _NUM + _UNIT, re.I)),
)
CHEAPEST = re.compile(r"\b(?:cheapest|lowest[- ]priced?|lowest\s+price|least\s+expensive|"
                      r"most\s+affordable|cheap|inexpensive|budget(?!\s*(?:of|is|:|\$|\d)))\b",
                      re.I)
PRICIEST = re.compile(r"\b(?:most\s+expensive|priciest|highest[- ]priced?|top[- ]of[- ]the[- ]"
                      r"range|high[- ]end)\b", re.I)
IN_STOCK = re.compile(r"\b(?:in[- ]stock|available\s+(?:now|today|right\s+now)|on\s+hand|"
                      r"ships?\s+(?:now|today)|can\s+ship\s+(?:now|today))\b", re.I)
STOCK_QUESTION = re.compile(
    r"^\s*(?:is|are|do\s+you\s+(?:have|stock|carry)|have\s+you\s+got|does|can\s+i\s+(?:get|buy))"
    r"\b.*\b(?:available|in[- ]stock|stock|left|have)\b|\bhow\s+many\b.*\b(?:left|stock|available)",
    re.I)
COMPARE = re.compile(r"\b(?:compare|comparison|vs\.?|versus|difference\s+between|differences|"
                     r"which\s+(?:one\s+)?is\s+better|which\s+should\s+i)\b", re.I)
CHEAPER = re.compile(r"\b(?:cheaper|less\s+expensive|lower[- ]priced?|more\s+affordable)\b", re.I)
PRICIER = re.compile(r"\b(?:more\s+expensive|pricier|higher[- ]end|better\s+ones?)\b", re.I)
MORE = re.compile(r"\b(?:show\s+(?:me\s+)?more|more\s+options|any\s*(?:thing|one)?\s+else|"
                  r"other\s+options|others)\b", re.I)
FOLLOW_UP = re.compile(r"^\s*(?:what|how)\s+about\b|^\s*(?:and|also|ok(?:ay)?|any|in|with)\b|"
                       r"\b(?:it|them|these|those|that\s+one|this\s+one|same)\b", re.I)
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
             "4th": 4, "fifth": 5, "5th": 5, "last": -1}
ORDINAL = re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b(?!\s+time)|"
                     r"(?:#|\bno\.?\s*|\bnumber\s+|\boption\s+)(\d)\b", re.I)
PRONOUN = re.compile(r"\b(?:it|that\s+one|this\s+one|that|this)\b", re.I)
FIRST_N = re.compile(r"\b(?:first|top)\s+(two|three|2|3)\b", re.I)
BOTH = re.compile(r"\b(?:these\s+two|those\s+two|the\s+two|both|them|these|those)\b", re.I)


@dataclass
class PriceBounds:
    """Price constraints in the shopper's words; ``spans`` are the character ranges consumed."""

    min_price: float | None = None
    max_price: float | None = None
    sort: Sort = "relevance"
    spans: list[tuple[int, int]] = field(default_factory=list)
    money: list[str] = field(default_factory=list)
    """The price phrases as typed ("under 25 euros"), for the currency they name."""


def _amount(m: re.Match[str], first: int) -> float:
    whole, cents, k = m.group(first), m.group(first + 1), m.group(first + 2)
    value = float(whole.replace(",", "")) + (float(f"0.{cents}") if cents else 0.0)
    return value * 1000 if k else value


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in spans)


def price_bounds(text: str) -> PriceBounds:
    """"under $30" -> max 30; "between 50 and 80" -> 50..80; "cheapest" -> sort ascending."""
    out = PriceBounds()
    for kind, rule in PRICE_RULES:
        for m in rule.finditer(text):
            if _overlaps(m.span(), out.spans):
                continue
            out.spans.append(m.span())
            out.money.append(m.group(0))
            a = _amount(m, 1)
            if kind == "range":
                b = _amount(m, 4)
                out.min_price, out.max_price = min(a, b), max(a, b)
            elif kind == "max":
                out.max_price = a if out.max_price is None else min(out.max_price, a)
            elif kind == "min":
                out.min_price = a if out.min_price is None else max(out.min_price, a)
            else:
                out.min_price, out.max_price = round(a * 0.8, 2), round(a * 1.2, 2)
    for rule, sort in ((CHEAPEST, "price_asc"), (PRICIEST, "price_desc")):
        for m in rule.finditer(text):
            out.sort = sort  # type: ignore[assignment]
            out.spans.append(m.span())
    return out


def ordinals(text: str) -> list[int]:
    """1-based positions named in the text ("the second one" -> [2]; "last" -> [-1])."""
    found = []
    for m in ORDINAL.finditer(text):
        found.append(_ORDINALS[m.group(1).lower()] if m.group(1) else int(m.group(2)))
    return found


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the consumed spans replaced by spaces (positions stay valid)."""
    chars = list(text)
    for s, e in spans:
        chars[s:e] = " " * (e - s)
    return "".join(chars)
