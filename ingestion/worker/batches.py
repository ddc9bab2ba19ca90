"""Runs one micro-batch: plan, write, retry with backoff, isolate poison, embed in background."""

from __future__ import annotations

import asyncio
import logging

from catalog.tracing import NO_TRACER, Tracer, batch_parent
from ingestion.worker.durability import Durability
from ingestion.worker.failures import Retry, reason_of
from ingestion.worker.index_writes import IndexWrites
from ingestion.worker.outcomes import DeadLetters, Item, Outcomes
from ingestion.worker.planning import Plan, Planner

log = logging.getLogger("shopkeeper.worker")


class BatchRunner:
    """Applies batches so a bad event cannot hold back its neighbours nor break per-SKU order."""

    def __init__(
        self, planner: Planner, writes: IndexWrites, durability: Durability,
        outcomes: Outcomes, dead_letters: DeadLetters, retry: Retry, *,
        tracer: Tracer = NO_TRACER,
    ) -> None:
        self._tracer = tracer
        self._planner = planner
        self._writes = writes
        self._durability = durability
        self._outcomes = outcomes
        self._dead_letters = dead_letters
        self._retry = retry
        self._writing: dict[tuple[str, str], asyncio.Task[None]] = {}  # SKUs being embedded
        self.background: set[asyncio.Task[None]] = set()  # embedded upserts still to complete

    async def run(self, items: list[Item], *, inline: bool = False) -> None:
        """Apply with retries; on a poison error or exhausted retries, isolate each item.

        Embedding normally continues in the background (``_complete``) so the partition moves
        on; ``inline`` (used for retries) waits for it here.
        """
        await self._after_pending_writes(items)
        tries = 0
        while True:
            tries += 1
            try:
                plan = await self._apply(items, inline=inline)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                for item in items:
                    item.attempts += 1
                if len(items) > 1 and self._retry.gives_up(exc, tries):
                    for item in items:
                        await self.run([item], inline=True)
                    return
                if len(items) == 1 and self._retry.gives_up(exc, items[0].attempts):
                    await self._dead_letters.park(items[0], exc)
                    return
                self._outcomes.count("retries")
                log.warning("change batch failed (try %d), retrying: %s", tries, reason_of(exc))
                await self._retry.pause(max(tries, *(i.attempts for i in items)))
                continue
            break
        if plan.embedding is None:
            await self._durability.finish(items, plan.outcomes)
            return
        keys = {(c.tenant, c.sku) for c in plan.embed_chunks}
        waiting = [i for i in items if (i.event.tenant, i.event.sku) in keys]
        await self._durability.finish(
            [i for i in items if (i.event.tenant, i.event.sku) not in keys], plan.outcomes
        )
        task = asyncio.get_running_loop().create_task(self._complete(waiting, plan, keys))
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        for key in keys:
            self._writing[key] = task

    async def _apply(self, items: list[Item], *, inline: bool) -> Plan:
        """Re-read every SKU of the batch from the SoR, write what differs, mark the index dirty."""
        parent, links = batch_parent(i.event.traceparent for i in items)
        with self._tracer.start_as_current_span(
            "sor read", context=parent, links=links,
            attributes={"shopkeeper.batch.size": len(items)},
        ):
            plan = await self._planner.plan(items)
        plan.parent, plan.links = parent, links
        await self._writes.write(plan, inline=inline)
        return plan

    async def _after_pending_writes(self, items: list[Item]) -> None:
        """Per-SKU order across the background embedding: a SKU's next event waits for it."""
        current = asyncio.current_task()
        pending = {self._writing[k] for k in ((i.event.tenant, i.event.sku or "") for i in items)
                   if k in self._writing and self._writing[k] is not current}
        if pending:
            await asyncio.wait(pending)

    async def _complete(self, items: list[Item], plan: Plan, keys: set[tuple[str, str]]) -> None:
        """Write the embedded points once the model is done; retry inline if it failed."""
        assert plan.embedding is not None
        try:
            try:
                self._writes.store_embedded(plan, await plan.embedding)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the model or the index write failed: the retry path
                log.warning("embedded write failed, retrying %d change(s): %s",
                            len(items), reason_of(exc))
                for item in items:
                    item.attempts += 1
                self._outcomes.count("retries")
                await self._retry.pause(max(i.attempts for i in items))
                await self.run(items, inline=True)
                return
            await self._durability.finish(items, plan.outcomes)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not leave the items hanging
            log.exception("unexpected error completing embedded changes")
            for item in items:
                self._outcomes.resolve(item, exc)
        finally:
            current = asyncio.current_task()
            for key in keys:
                if self._writing.get(key) is current:
                    del self._writing[key]
