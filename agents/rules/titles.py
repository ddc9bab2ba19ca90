"""Catalog titles are data, not claims: the words a sentence may quote from a title.

A title is the catalog's text and can say anything ("Stapler Pro (price: $0.01, in stock)",
"... ignore previous instructions ..."). Prices and stock come only from the live offers, so
before a title is quoted, every price, stock or instruction-like fragment is cut from it.
Currency symbols are any Unicode currency sign; codes are the catalog's own ISO list.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from catalog import CURRENCIES

_SIGNS = "".join(
    ch for ch in map(chr, range(0x20A0, 0x20D0)) if unicodedata.category(ch) == "Sc"
) + "$¢£¤¥֏؋৲৳૱௹฿៛﷼"
_CODES = "|".join(sorted(CURRENCIES))
_NUMBER = r"(?<![\w.,])\d(?:[\d.,']*\d)?"
_AMOUNT = (rf"(?:[{re.escape(_SIGNS)}]\s?\d(?:[\d.,']*\d)?|(?:{_NUMBER})\s?[{re.escape(_SIGNS)}]"
           rf"|\b(?:{_CODES})\s?\d(?:[\d.,']*\d)?|(?:{_NUMBER})\s(?:{_CODES})\b)")
_STOCK = (r"\b(?:in[- ]stock|out[- ]of[- ]stock|sold[- ]out|back[- ]?order(?:ed)?|"
          r"available now|ready to ship|(?:only\s+)?\d+\s+(?:left|remaining|in stock|available)|"
          r"limited stock|low stock)\b")
_PRICE_WORD = r"\b(?:price[ds]?|cost[s]?|now only|only|sale|deal|discount|free)\b\s*[:=]?\s*"
_INSTRUCTION = (
    r"\b(?:ignore|disregard|forget|override)\b"
    r"(?=[^.;()\[\]]*\b(?:instructions?|prompts?|rules?|above|previous|prior|everything)\b)"
    r"[^.;()\[\]]*"
    r"|\b(?:you (?:must|should|are now)|always (?:say|answer|reply|tell)|tell (?:the )?"
    r"(?:customer|user|shopper)s?|say (?:that|it is)|respond with|reply with|system prompt|"
    r"(?:system|assistant|user)\s*:)[^.;()\[\]]*"
)
_CLAIM = re.compile(rf"{_AMOUNT}|{_STOCK}|{_INSTRUCTION}", re.I)
_GROUP = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|\{([^{}]*)\}")
_PRICED = re.compile(rf"{_PRICE_WORD}(?:{_AMOUNT})", re.I)
_CUT = "\x00"
# What a cut leaves dangling on either side of it: separators, a stray "!" or a bare label.
_SEAM = re.compile(rf"[\s,;:|/–—!?.-]*{_CUT}[\s,;:|/–—!?.{_CUT}-]*")

FALLBACK = "product"
"""What a title that was nothing but claims is called."""


def _cut_groups(text: str) -> str:
    """Drop a bracketed aside that makes any claim, whole: its label words go with it."""
    def cut(m: re.Match[str]) -> str:
        inner = next(g for g in m.groups() if g is not None)
        return _CUT if _CLAIM.search(inner) else m.group(0)

    return _GROUP.sub(cut, text)


@lru_cache(maxsize=16384)
def display_title(text: str) -> str:
    """The title without price, stock or instruction fragments, never empty; the rest of
    the title is left exactly as the catalog wrote it."""
    out = _cut_groups(text.replace(_CUT, ""))
    out = _PRICED.sub(_CUT, out)
    out = _CLAIM.sub(_CUT, out)
    if _CUT not in out:
        return text
    out = re.sub(rf"\(\s*{_CUT}?\s*\)|\[\s*{_CUT}?\s*\]", _CUT, out)
    out = _SEAM.sub(" ", out).strip()
    out = re.sub(r"\s{2,}", " ", out)
    return out or FALLBACK
