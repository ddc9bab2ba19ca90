"""pages: answer a question about the shop from its store pages, with the section cited.

Runs before product retrieval on free-text turns; when the pages do not decide the question
(``rules.policy.route``) the turn goes on to products unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime

from agents.context import Context
from agents.rules.policy import (
    CONTACT_PAGE,
    answer_text,
    pick_contact,
    route,
    source,
    unknown_text,
)
from agents.state import State
from search import PageHit, Retriever

PAGE_HITS = 3
CONTACT_HITS = 10


def _probe(r: Retriever, tenant: str, message: str) -> tuple[list[PageHit], float]:
    """The best sections for the message and the best product's score, from one embedding."""
    vector = r.query_vector(message)
    return r.pages(message, tenant, PAGE_HITS, dense=vector), r.product_relevance(tenant, vector)


async def store_pages(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
    """Graph node: a cited page answer, an honest "I don't know" with the contact page, or
    nothing (the turn continues to product search)."""
    cfg = runtime.context.cfg
    deps = runtime.context.deps
    c = state.constraints
    hits, product = await deps.blocking(_probe, deps.retriever, cfg.tenant, state.message)
    about_product = bool(c["brands"] or c["product_type"])
    decision = route(state.message, hits, product, about_product=about_product)
    if decision == "products":
        return {"sources": []}
    src: dict[str, Any] | None
    if decision == "answer":
        src = source(hits[0].payload)
        text = answer_text(src)
    else:
        contact = pick_contact(hits) or pick_contact(await deps.blocking(
            deps.retriever.pages, CONTACT_PAGE, cfg.tenant, CONTACT_HITS))
        src = contact
        text = unknown_text(contact)
    out: dict[str, Any] = {"intent": "policy", "answer": text, "sources": [src] if src else [],
                           "cards": [], "ranked": [], "live": "skipped"}
    if not (cfg.use_llm and deps.llm is not None):
        out["final"] = text
        out["turns"] = [{"role": "user", "content": state.message},
                        {"role": "assistant", "content": text, "skus": []}]
    return out


def after_pages(state: State) -> Literal["retrieve", "decide", "llm", "__end__"]:
    """Router: a page answer ends the turn (or goes to the LLM); anything else goes on."""
    if state.intent == "policy":
        return "llm" if state.answer and not state.final else "__end__"
    return "decide" if state.intent == "clarify" else "retrieve"
