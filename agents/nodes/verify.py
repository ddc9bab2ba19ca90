"""verify: every price and stock claim in the LLM's text must match this turn's live offers.

Claims are read per sentence and tied to the SKUs the sentence names (by SKU or its quoted,
display title); a sentence that names none refers to the product mentioned last. One wrong or
unbacked figure and the whole text is replaced by the grounded answer, logged and counted.

Catalog text is data, checked like model text: the grounded answer quotes catalog titles and
specs, so ``respond`` runs the same check on it (``grounded_problems``) and logs what leaks.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.rules.cards import short
from agents.state import Candidate, Constraints, LiveOffer, State

log = logging.getLogger(__name__)

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_MONEY = re.compile(r"[$€£]\s?(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s?(?:usd|eur|gbp|"
                    r"dollars?|euros?)\b", re.I)
_SAFE = re.compile(r"live (?:price|stock) unavailable|price unavailable|stock unavailable", re.I)
_NEG = re.compile(r"\b(?:out of stock|sold out|not (?:currently |yet )?(?:in stock|available)|"
                  r"unavailable|no stock|none left|backorder)", re.I)
_POS = re.compile(r"\b(?:in[- ]stock|available now|ready to ship|available)\b", re.I)
_QTY = re.compile(r"\b(\d+)\s+(?:units?\s+)?(?:left|available|in stock|remaining|on hand)\b|"
                  r"\bonly (\d+)\b", re.I)


def _amount(m: re.Match[str]) -> Decimal | None:
    try:
        return Decimal((m.group(1) or m.group(2)).replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _names(cands: dict[str, Candidate]) -> list[tuple[str, re.Pattern[str], str]]:
    """Each candidate's SKU pattern and quoted title, built once per check (not per sentence)."""
    return [(sku, re.compile(rf"(?<![\w-]){re.escape(sku.lower())}(?![\w-])"),
             short(c["title"]).rstrip("…").lower()[:40]) for sku, c in cands.items()]


def _named(sentence: str, names: list[tuple[str, re.Pattern[str], str]]) -> list[str]:
    low = sentence.lower()
    return [sku for sku, pattern, title in names if pattern.search(low) or title in low]


def _bounds(c: Constraints, prices: list[Decimal]) -> set[Decimal]:
    """Amounts the text may state without an offer: the shopper's limits and price gaps."""
    out = {Decimal(str(v)).quantize(Decimal("0.01")) for v in (c["max_price"], c["min_price"])
           if v is not None}
    out.update(abs(a - b) for a in prices for b in prices if a != b)
    return out


def check(text: str, offers: dict[str, LiveOffer], cands: dict[str, Candidate],
          c: Constraints, default: list[str]) -> list[str]:
    """Problems found in ``text`` (empty when every figure is backed by a live offer)."""
    live = {s: Decimal(o["price"]) for s, o in offers.items() if o["price"] is not None}
    bounds = _bounds(c, list(live.values()))
    allowed_any = set(live.values()) | bounds
    names = _names(cands)
    problems: list[str] = []
    last = default
    for sentence in _SENTENCE.split(text):
        named = _named(sentence, names) or last
        last = named or last
        for m in _MONEY.finditer(sentence):
            amount = _amount(m)
            ok = {live[s] for s in named if s in live} | bounds
            if amount is None or amount not in (ok if named else allowed_any):
                problems.append(f"price {m.group(0)!r} not in the live offers of {named or 'any'}")
        claims = _SAFE.sub("", sentence)
        stock = [offers.get(s) for s in named]
        if _NEG.search(claims) and not any(o and o["in_stock"] is False for o in stock):
            problems.append(f"out-of-stock claim not backed for {named}: {sentence!r}")
        elif _POS.search(claims) and not _NEG.search(claims) and not any(
                o and o["in_stock"] for o in stock):
            problems.append(f"in-stock claim not backed for {named}: {sentence!r}")
        for q in _QTY.finditer(claims):
            n = int(q.group(1) or q.group(2))
            counts = {o["quantity"] for o in stock if o} | {
                v for o in stock if o for v in o["warehouses"].values()}
            if n not in counts:
                problems.append(f"quantity {n} not in the live stock of {named}")
    return problems


def grounded_problems(state: State, shown: list[Candidate]) -> list[str]:
    """Claims in the catalog text the grounded answer quotes (each shown product's display
    title and specs), checked against that product's live offer as model text would be:
    a title or spec that states a price or stock the SoR does not back is reported."""
    cands = {c["sku"]: c for c in shown}
    # Only the shown products' offers can back their own text (and the price gaps between
    # every offer of the turn would cost a quadratic set for nothing).
    offers = {s: o for s, o in state.offers.items() if s in cands}
    problems = []
    for c in shown:
        quoted = ". ".join([short(c["title"]), *(f"{k}: {v}" for k, v in c["specs"].items())])
        problems += check(quoted, offers, cands, state.constraints, [c["sku"]])
    return problems


async def verify(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """Graph node: keep the LLM text if every claim checks out, else send the grounded answer."""
    cands = {c["sku"]: c for c in state.candidates}
    problems = ["the model gave no answer"] if not state.llm_text.strip() else check(
        state.llm_text, state.offers, cands, state.constraints, state.ranked[:1])
    replaced = bool(problems)
    if replaced and state.llm_text.strip():
        runtime.context.deps.counters.verify_replaced += 1
        log.warning("LLM answer replaced by the grounded one: %s", "; ".join(problems[:3]))
    final = state.answer if replaced else state.llm_text.strip()
    return {"final": final, "replaced": replaced,
            "turns": [{"role": "user", "content": state.message},
                      {"role": "assistant", "content": final, "skus": state.ranked}]}
