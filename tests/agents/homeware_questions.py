"""Shopper questions on the homeware fixture (``tests/data/homeware_catalog.jsonl``, in euros).

The same judge as the demo suite: nothing here names a SKU. The shop sells clothing, kitchen,
bath, bedding and candles, so answers must use its currency and its own words: no dollar
amount, and no electronics in a clarifying question.
"""

from __future__ import annotations

from tests.agents.shopper_judge import Q, text, variant
from tests.agents.shopper_questions import CORRECTED, DONT_KNOW, NOT_SOLD

TEE = ("t-shirt", "tee", "t shirt", "tshirt")
MUG = ("mug",)
MUG_GEAR = ("tree", "rack", "holder", "stand")
CANDLE_GEAR = ("holder", "lantern", "snuffer", "wick")
TOWEL = ("towel",)
DOLLARS = r"\$|USD|dollar"
ELECTRONICS = r"(?i)notebook|laptop|mouse|keyboard|\bink\b|toner|printer|headphone"
WHITE = variant("colour", "white")

HOMEWARE_QUESTIONS: list[Q] = [
    # -- type and constraints ------------------------------------------------------------------
    Q("a white t-shirt under 25 euros", "price_stock", kind=TEE, where=WHITE, max_price=25,
      not_says=DOLLARS),
    Q("t-shirts for less than €20", "price_stock", kind=TEE, max_price=20, not_says=DOLLARS),
    Q("bath towels under 18 euros that you have in stock", "price_stock", kind=TOWEL,
      where=text(r"bath"), max_price=18, in_stock=True, not_says=DOLLARS),
    Q("black tee in large", "units", kind=TEE, where=lambda p: variant("colour", "black")(p)
      and variant("size", "L|large")(p)),
    Q("a t-shirt in size M", "units", kind=TEE, where=variant("size", "M|medium")),
    Q("king size duvet cover", "units", kind=("duvet cover", "duvet"),
      where=text(r"\bking\b")),
    Q("a mug that holds at least 400 ml", "units", kind=MUG, not_kind=("tree", "rack"),
      where=text(r"\b(4\d\d|[5-9]\d\d) ?ml\b")),
    # -- cheapest / dearest ---------------------------------------------------------------------
    Q("cheapest mug", "cheapest", kind=MUG, not_kind=MUG_GEAR, cheapest=True, not_says=DOLLARS),
    Q("what's the cheapest t-shirt you have in stock?", "cheapest", kind=TEE, in_stock=True,
      cheapest=True),
    Q("your most expensive candle", "cheapest", kind=("candle",), not_kind=CANDLE_GEAR,
      priciest=True),
    # -- purpose and paraphrase -----------------------------------------------------------------
    Q("something to keep my tea hot", "paraphrase",
      kind=("flask", "travel mug", "tea cosy", "teapot", "thermos"),
      where=text(r"hot|warm|insulated|vacuum")),
    Q("I need bedding for a double bed", "paraphrase",
      kind=("duvet cover", "sheet", "pillowcase", "duvet", "bedding"), where=text(r"double")),
    Q("something warm to wear in winter", "paraphrase",
      kind=("jumper", "sweater", "hoodie", "sweatshirt", "beanie", "hat", "socks", "jacket")),
    Q("something to make the living room smell nice", "paraphrase", kind=("candle",),
      not_kind=CANDLE_GEAR, where=text(r"(?<!un)scent")),
    # -- typos ----------------------------------------------------------------------------------
    Q("t-shrit", "typo", kind=TEE, says=CORRECTED),
    Q("scented candel", "typo", kind=("candle",), not_kind=CANDLE_GEAR, says=CORRECTED),
    Q("cusion cover", "typo", kind=("cushion cover",), says=CORRECTED),
    Q("mearino jumper", "typo", kind=("jumper", "sweater"), says=CORRECTED),
    # -- accessory versus product ---------------------------------------------------------------
    Q("a mug", "accessory", kind=MUG, not_kind=MUG_GEAR),
    Q("somewhere to hang my mugs", "accessory", kind=("mug tree", "mug rack", "tree", "rack")),
    Q("a candle holder", "accessory", kind=("candle holder", "holder")),
    Q("a cushion", "accessory", kind=("cushion",), not_kind=("cover", "insert", "pad")),
    Q("a cover for my cushion", "accessory", kind=("cushion cover",)),
    # -- store pages ----------------------------------------------------------------------------
    Q("what's your return policy?", "policy", policy=("returns", r"return.policy")),
    Q("can I swap a t-shirt for a different size?", "policy", policy=("returns", r"exchange")),
    Q("do you deliver to Ireland?", "policy", policy=("shipping", r"abroad")),
    Q("how much is shipping?", "policy", policy=("shipping", r"cost")),
    Q("how do I wash a linen shirt?", "policy", policy=("care", r"cotton|linen")),
    Q("do you do gift wrapping?", "store_unknown", no_cards=True, says=DONT_KNOW),
    # -- not carried ----------------------------------------------------------------------------
    Q("a laptop", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("wireless headphones", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("a lawn mower", "not_carried", no_cards=True, says=NOT_SOLD),
    # -- conversation ---------------------------------------------------------------------------
    Q("something nice", "conversation", clarify=True, not_says=ELECTRONICS),
    Q("I need a present for my sister", "conversation", clarify=True, not_says=ELECTRONICS),
]
