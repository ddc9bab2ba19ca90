"""Server-mode pieces of the agent: PostgreSQL thread memory and the Redis stock cache.

Both need the local servers (markers ``postgres`` / ``redis``) and the demo fixtures (``model``).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from agents.schemas import AgentRequest
from catalog.errors import Forbidden, SorUnavailable
from tests.fixtures_demo import demo_settings_for

PG = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/15"


@pytest.mark.model
@pytest.mark.postgres
async def test_threads_live_in_postgres_when_the_sor_does(demo_services: Any,
                                                          demo_settings: Any) -> None:
    from app.wiring import open_agent

    # Only the checkpointer reads SOR_URL here; the demo SoR stays the SQLite copy.
    settings = demo_settings_for(demo_settings.DATA_DIR, SOR_URL=PG)
    async with open_agent(demo_services, settings) as agent:
        user = f"pg-{uuid.uuid4().hex[:8]}"
        first = await agent.answer(AgentRequest(message="Logitech M100", user_id=user))
        second = await agent.answer(AgentRequest(message="the second one", user_id=user,
                                                 thread_id=first.thread_id))
        assert [c.sku for c in second.products] == ["3943887"]
    assert not settings.checkpoint_path.exists()  # nothing went to SQLite
    async with open_agent(demo_services, settings) as again:  # a restart keeps the threads
        turns = await again.history(first.thread_id, user)
        assert [t["content"] for t in turns[::2]] == ["Logitech M100", "the second one"]
        with pytest.raises(Forbidden):
            await again.history(first.thread_id, "someone-else")


@pytest.mark.model
@pytest.mark.redis
async def test_redis_keeps_stock_not_price_when_the_sor_fails(demo_services: Any,
                                                              demo_settings: Any,
                                                              monkeypatch: Any) -> None:
    from redis.asyncio import Redis

    from app.wiring import open_agent

    settings = demo_settings_for(demo_settings.DATA_DIR, REDIS_URL=REDIS, STOCK_CACHE_TTL_S=30)
    try:
        async with open_agent(demo_services, settings) as agent:
            cache = agent.deps.live.cache
            live = await agent.answer(AgentRequest(message="Logitech M100"))
            assert live.products[0].price == "12.95"
            for task in list(cache._pending):  # the write happens after the answer, off its path
                await task
            raw = await cache.redis.get(cache.key("demo", "3943886"))
            assert raw is not None and b"12.95" not in raw  # stock only, never a price

            async def down(tenant: str, skus: Any) -> Any:
                raise SorUnavailable("connection refused")

            monkeypatch.setattr(agent.deps.live.sor, "get_offers", down)
            cached = await agent.answer(AgentRequest(message="Logitech M100"))
            card = cached.products[0]
            assert card.sku == "3943886" and card.price is None and card.quantity == 33
            assert "live price unavailable" in cached.text and "$" not in cached.text
            assert "33 available" in cached.text and "stock cache" in cached.text
    finally:
        client = Redis.from_url(REDIS)
        await client.delete(*[k async for k in client.scan_iter("shopkeeper:stock:demo:*")])
        await client.aclose()
