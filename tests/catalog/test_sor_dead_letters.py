"""SystemOfRecord contract, dead-letter queue: add, list, pop and count, on both backends."""

from __future__ import annotations

from decimal import Decimal

from catalog.sor.base import SystemOfRecord


# -- dead letters -----------------------------------------------------------------------------
async def test_dead_letter_queue(sor: SystemOfRecord) -> None:
    assert await sor.count_dead_letters() == 0
    ids = [
        await sor.dead_letter("outbox", {"sku": f"S{i}", "n": i, "price": Decimal("1.5")}, "bad", i)
        for i in range(3)
    ]
    assert ids == sorted(ids) and await sor.count_dead_letters() == 3
    listed = await sor.list_dead_letters()
    assert [d.id for d in listed] == ids
    assert listed[1].event == {"sku": "S1", "n": 1, "price": "1.5"}
    assert (listed[1].source, listed[1].reason, listed[1].attempts) == ("outbox", "bad", 1)
    assert listed[0].created_at.tzinfo is not None
    assert [d.id for d in await sor.list_dead_letters(limit=1)] == ids[:1]

    popped = await sor.pop_dead_letters([ids[1]])
    assert [d.id for d in popped] == [ids[1]] and await sor.count_dead_letters() == 2
    assert await sor.pop_dead_letters([]) == []
    rest = await sor.pop_dead_letters()
    assert [d.id for d in rest] == [ids[0], ids[2]]
    assert await sor.count_dead_letters() == 0
