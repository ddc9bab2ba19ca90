"""The shop's currency in words: which one a shopper named, and amounts as the shop writes them.

Nothing assumes dollars: a bare number is in the shop's currency (the one its catalog prices
in), "$" means the shop's own dollars when it prices in some dollar, and a figure is written
with the currency's symbol or code.
"""

from __future__ import annotations

import re

from catalog import CURRENCIES

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
# Currencies whose shoppers say "dollars" and write "$" for their own money.
DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "HKD", "SGD"})
_NAMES = {"USD": "US dollars", "EUR": "euros", "GBP": "pounds", "JPY": "yen", "CAD":
          "Canadian dollars", "AUD": "Australian dollars", "CHF": "Swiss francs"}
_WORDS = {"$": "$", "dollar": "$", "dollars": "$", "buck": "$", "bucks": "$", "€": "EUR",
          "euro": "EUR", "euros": "EUR", "£": "GBP", "pound": "GBP", "pounds": "GBP",
          "quid": "GBP", "¥": "JPY", "yen": "JPY"}
# What a price phrase may say about its currency: symbols, words and ISO codes.
CURRENCY_WORDS = (r"(?:[$€£¥]|(?:dollars?|bucks?|euros?|pounds?|quid|yen|"
                  + "|".join(sorted(c.lower() for c in CURRENCIES)) + r")\b)")
_TOKEN = re.compile(r"[$€£¥]|[a-z]+", re.I)


def named_currency(phrase: str, shop: str | None) -> str | None:
    """The ISO code a price phrase names ("25 euros" -> EUR, "$20" -> the shop's dollar or
    USD), or None for a bare number, which is in the shop's currency."""
    for token in _TOKEN.findall(phrase.lower()):
        kind = _WORDS.get(token) or (token.upper() if token.upper() in CURRENCIES else None)
        if kind == "$":
            return shop if shop in DOLLARS else "USD"
        if kind:
            return kind
    return None


def name(currency: str | None) -> str:
    """"euros", "US dollars", or the ISO code for the rest."""
    return _NAMES.get(currency or "", currency or "the shop's currency")


def money(value: float, currency: str | None, *, cents: bool = False) -> str:
    """"$30", "€24.50", "£20", "30 SEK"; a bare number when the shop's currency is unknown.
    ``cents`` writes whole amounts with them too ("$35.00"), as live prices are written."""
    digits = f"{value:,.2f}" if value % 1 or cents else f"{value:,.0f}"
    if not currency:
        return digits
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{digits}" if symbol else f"{digits} {currency}"
