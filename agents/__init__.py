"""The shopping agent: a LangGraph graph over hybrid retrieval and live price/stock lookups."""
