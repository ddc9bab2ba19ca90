"""The graph's state: what one turn carries between nodes, and what a thread remembers.

Values are JSON-like (TypedDicts, lists, strings) so the checkpointer stores them without
custom serialisers. Per-turn fields are reset by ``understand`` (see ``turn_defaults``);
``owner``, ``turns`` and ``memory`` survive across turns of a thread. The bulky per-turn
fields (hits, offers, cards) are ``UntrackedValue`` channels: never written to a checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NotRequired, TypedDict, cast

from langgraph.channels.untracked_value import UntrackedValue

Intent = Literal["search", "lookup", "availability", "detail", "compare", "clarify", "policy"]
Sort = Literal["relevance", "price_asc", "price_desc"]
LiveStatus = Literal["ok", "unavailable", "skipped"]
MAX_TURNS = 50


class Constraints(TypedDict):
    """What the shopper asked for, resolved against the catalog's vocabulary."""

    max_price: float | None
    min_price: float | None
    sort: Sort
    brands: list[str]
    colours: list[str]
    product_type: str | None  # the head product type, when sure: an index filter
    boost_types: list[str]  # product types guessed for the question: ranked first
    facets: list[str]
    in_stock: bool
    codes: list[str]
    exclude: list[str]
    ranges: dict[str, list[float | None]]
    """Numeric wishes on range fields ("at least 16 GB" -> {"memory_gb": [16, None]})."""


class Candidate(TypedDict):
    """One retrieval hit, slimmed to what the later nodes read (never its index price)."""

    sku: str
    product_id: str
    title: str
    brand: str
    category: str | None
    product_type: str | None
    colours: list[str]
    facets: list[str]
    model: str | None
    image_url: str | None
    url: str | None
    specs: dict[str, str]
    description: str
    score: float
    rank: int
    exact: bool
    by_price: NotRequired[bool]
    """From the index's price-ordered read; ``rank`` is then its place in that order."""


class LiveOffer(TypedDict):
    """Price and stock of one SKU from the live SoR lookup made for this answer."""

    sku: str
    price: str | None
    currency: str | None
    display: str | None
    quantity: int | None
    availability: str
    in_stock: bool | None
    warehouses: dict[str, int]
    synthetic: bool
    as_of: str


class Shown(TypedDict):
    """A product the previous answer showed; follow-ups ("the second one") point here."""

    sku: str
    title: str
    brand: str
    product_id: str
    price: float | None


class Memory(TypedDict):
    """The previous turn, enough to refine it ("cheaper ones", "what about in white?")."""

    query: str
    constraints: Constraints
    shown: list[Shown]


def keep_first(old: str, new: str) -> str:
    """A thread's owner is whoever started it; later writes cannot change it."""
    return old or new


def append_turns(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append this turn's messages, keeping the newest ``MAX_TURNS`` entries."""
    return (old + new)[-MAX_TURNS:]


def no_constraints() -> Constraints:
    return Constraints(max_price=None, min_price=None, sort="relevance", brands=[], colours=[],
                       product_type=None, boost_types=[], facets=[], in_stock=False, codes=[],
                       exclude=[], ranges={})


def without(c: Constraints, dropped: list[str]) -> Constraints:
    """The constraints still in force once ``dropped`` keys are given up."""
    if not dropped:
        return c
    blank: dict[str, Any] = dict(no_constraints())
    merged: dict[str, Any] = {**c, **{k: blank[k] for k in dropped}}
    return cast(Constraints, merged)


@dataclass(kw_only=True)
class InputState:
    """What a caller supplies for one turn."""

    message: str
    """The shopper's words for this turn."""

    history: list[dict[str, str]] = field(default_factory=list)
    """Prior turns pasted by a support agent (assist mode); context only, never trusted."""


@dataclass(kw_only=True)
class State(InputState):
    """Everything the nodes read and write."""

    owner: Annotated[str, keep_first] = ""
    """The user id that started the thread; nobody else may continue or read it."""

    turns: Annotated[list[dict[str, Any]], append_turns] = field(default_factory=list)
    """The conversation so far, as [{role, content, skus}] (served by ``history``)."""

    memory: Memory | None = None
    """The previous answer's query, constraints and shown products."""

    intent: Intent = "search"
    """What the shopper wants from this turn."""

    query: str = ""
    """The text sent to retrieval (constraint phrases removed, follow-ups merged)."""

    corrections: list[list[str]] = field(default_factory=list)
    """[typed, corrected] words the speller changed in this message ("Showing results for")."""

    constraints: Constraints = field(default_factory=no_constraints)
    """Filters and ordering for this turn; ``decide`` may relax them."""

    fresh: list[str] = field(default_factory=list)
    """Constraint keys stated in this very message; ``decide`` gives them up last."""

    focus: list[str] = field(default_factory=list)
    """SKUs the shopper referred to ("the second one", "compare these two")."""

    candidates: Annotated[list[Candidate], UntrackedValue(list)] = field(default_factory=list)
    """Retrieval hits, best first (per turn: never checkpointed)."""

    offers: Annotated[dict[str, LiveOffer], UntrackedValue(dict)] = field(default_factory=dict)
    """Live price and stock by SKU, from this turn's lookup(s) (never checkpointed)."""

    live: LiveStatus = "skipped"
    """Whether the live lookup answered; "unavailable" means no price or stock may be stated."""

    ranked: list[str] = field(default_factory=list)
    """SKUs to show, in order, after live constraints and re-ranking."""

    dropped: list[str] = field(default_factory=list)
    """Keys of ``constraints`` given up by ``decide`` (the asked-for values stay as they were)."""

    relaxed: list[str] = field(default_factory=list)
    """Constraints dropped (in order) because nothing survived them, in the shopper's words."""

    reordered: bool = False
    """Live prices put the shown SKUs in another order than the index's price copy did."""

    retry: bool = False
    """Set by ``decide`` when a dropped constraint needs a new search."""

    clarify: str = ""
    """A single clarifying question when the request is too vague to search."""

    comparison: dict[str, Any] | None = None
    """Side-by-side facts of the compared SKUs."""

    answer: str = ""
    """The grounded answer written from live data (always computed)."""

    cards: Annotated[list[dict[str, Any]], UntrackedValue(list)] = field(default_factory=list)
    """Product cards (``ProductCard`` dumps) shown with the answer (never checkpointed)."""

    llm_text: str = ""
    """The language model's answer before verification (LLM mode)."""

    final: str = ""
    """The answer actually sent: the verified LLM text or the grounded answer."""

    replaced: bool = False
    """True when verification rejected the LLM text and the grounded answer was sent."""

    sources: list[dict[str, Any]] = field(default_factory=list)
    """Store page sections the answer cites (``PageSource`` dumps; policy answers)."""


def turn_defaults() -> dict[str, Any]:
    """Fresh values of every per-turn field, so nothing leaks from the previous turn."""
    return {
        "intent": "search", "query": "", "corrections": [], "constraints": no_constraints(),
        "fresh": [], "focus": [], "candidates": [], "offers": {}, "live": "skipped", "ranked": [],
        "dropped": [], "relaxed": [], "retry": False, "clarify": "", "comparison": None,
        "answer": "", "cards": [], "llm_text": "", "final": "", "replaced": False,
        "reordered": False,
        "sources": [],
    }
