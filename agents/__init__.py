"""The read side: a LangGraph shopping agent over ``search`` and live offers from the SoR.

question -> graph (``nodes/``: understand, retrieve, live_lookup, decide, respond, llm, verify)
-> search + live offers -> the six stream events (``stream.py``). Rules the nodes apply are pure
functions in ``rules/``. Stands on ``catalog`` and ``search``; never imports ``ingestion`` or
``app``: clients and settings arrive as plain arguments (``AgentDeps``).
"""

from agents.browse import CatalogBrowser, ListedProduct, Listing, PriceBand, SearchPage
from agents.chat_model import chat_model
from agents.configuration import Configuration
from agents.context import AgentDeps, Context, Counters
from agents.offers import LiveLookup, LiveResult, StockCache, to_live
from agents.rules.vocabulary import Vocabulary, VocabularyCache, build_vocabulary
from agents.schemas import (
    AgentEvent,
    AgentMode,
    AgentRequest,
    Answer,
    Citation,
    PageSource,
    ProductCard,
)
from agents.service import ShoppingAgent
from agents.store_info import store_info
from agents.stream import citations
from agents.stream import error as error_event

__all__ = [
    "AgentDeps",
    "AgentEvent",
    "AgentMode",
    "AgentRequest",
    "Answer",
    "CatalogBrowser",
    "Citation",
    "Configuration",
    "Context",
    "Counters",
    "ListedProduct",
    "Listing",
    "LiveLookup",
    "LiveResult",
    "PageSource",
    "PriceBand",
    "ProductCard",
    "SearchPage",
    "ShoppingAgent",
    "StockCache",
    "Vocabulary",
    "VocabularyCache",
    "build_vocabulary",
    "chat_model",
    "citations",
    "error_event",
    "store_info",
    "to_live",
]
