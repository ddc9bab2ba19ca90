"""The speller as a table on a small catalog vocabulary: only unknown words are corrected,
only into catalog words; model numbers, codes, brands and English words stay as typed."""

from __future__ import annotations

import pytest

from catalog.models import Money, Product, Sku, Stock
from search.spelling import Speller, catalog_words

WORDS = {"earphones": 40, "earphone": 3, "projector": 12, "keyboard": 90, "keyboards": 5,
         "wireless": 120, "mouse": 80, "logitech": 30, "monitor": 25, "ergonomic": 6,
         "cable": 50, "sennheiser": 4, "hdmi": 10}
SPELLER = Speller(WORDS, protected=["Logitech", "Sennheiser"])


@pytest.mark.parametrize(("typed", "searched", "fixes"), [
    ("earphnes", "earphones", [("earphnes", "earphones")]),
    ("projecter", "projector", [("projecter", "projector")]),
    ("keybaord", "keyboard", [("keybaord", "keyboard")]),
    ("wireless keybaord under $30", "wireless keyboard under $30", [("keybaord", "keyboard")]),
    ("Keybaord?", "Keyboard?", [("Keybaord", "Keyboard")]),
    ("logitec mouse", "logitech mouse", [("logitec", "logitech")]),
    ("ergonmic mose", "ergonomic mouse", [("ergonmic", "ergonomic"), ("mose", "mouse")]),
])
def test_corrects_unknown_words(typed: str, searched: str, fixes: list[tuple[str, str]]) -> None:
    assert SPELLER.correct(typed) == (searched, fixes)


@pytest.mark.parametrize("typed", [
    "dv7-1211ea",      # a model number
    "KB216 keyboard",  # a code with digits
    "HDMI cable",      # catalog word
    "TKL keyboard",    # all capitals: an acronym, never a typo
    "something cheap",  # English words: known, never turned into product words
    "monitor stand",   # English word the catalog lacks
    "Sennheiser",      # a brand
    "usb c",           # too short to correct
    "xyzzyqwv",        # nothing near: left alone
])
def test_leaves_known_and_code_words_alone(typed: str) -> None:
    assert SPELLER.correct(typed) == (typed, [])


def test_first_letter_is_kept_and_short_words_get_one_edit() -> None:
    speller = Speller({"mouse": 1, "house": 100, "espresso": 9, "vertiv": 5, "headphones": 3},
                      known=frozenset())
    assert speller.suggest("mouze") == "mouse"
    assert speller.suggest("nespresso") is None  # another shop's name, not a typo
    assert speller.suggest("vertuo") is None  # two edits on a six-letter word
    assert speller.suggest("headfones") == "headphones"  # two edits on a longer word


def test_catalog_words_come_from_titles_brands_and_values() -> None:
    product = Product(
        product_id="p1", tenant="t", title="Quiet Keyboard", brand="Cherry", category="keyboard",
        description="Low profile keys", attributes={"material": "aluminium", "weight": 300.0},
        skus=[Sku(sku="s1", price=Money(amount="10", currency="EUR"), stock=Stock(quantity=1),
                  variant_attributes={"colour": "graphite"})],
    )
    counts = catalog_words([product])
    assert {"quiet", "keyboard", "cherry", "profile", "aluminium", "graphite"} <= set(counts)
    assert counts["keyboard"] == 2
