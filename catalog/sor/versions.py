"""The version guard's rules, shared by both backends: which version a row is written at.

Every catalog write may carry the sender's version (a shop's counter, or updated-at in ms). The
SoR stores the last applied one with the row (``applied_version``) and each write is a
conditional statement in its own transaction, so the guard holds across restarts and across
any number of API and worker processes:

* price, stock and upserts apply when the stored version is NULL or ``<=`` theirs (an equal
  version is the same write again, or a sibling of it such as price and stock of one update);
* a delete applies at ``>=`` too and leaves a tombstone at its version; an upsert must be
  strictly newer than the tombstone to bring the SKU back;
* a write without a version (bulk ingest, plain SQL) always applies and keeps the stored one.

A write refused as a whole raises ``StaleVersion``; a product upsert applies the SKUs that are
newer and keeps the rest (their keys are logged). It raises when every SKU it lists was kept:
the product's shared text still applies when it is newer than the product row's own version
(the outbox then carries it to the index), but the write counts as stale.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from catalog.errors import StaleVersion
from catalog.models import Product, Sku

log = logging.getLogger("shopkeeper.sor")


def sku_version(s: Sku, version: int | None) -> int | None:
    """A SKU's own version in a product upsert wins over the write's version."""
    return s.version if s.version is not None else version


def product_version(p: Product, version: int | None) -> int | None:
    """The product row's version: the write's, else the newest of its SKUs' own versions."""
    if version is not None:
        return version
    return max((s.version for s in p.skus if s.version is not None), default=None)


def refuse_or_log(
    tenant: str, stale: Sequence[str], changed: int, version: int | None
) -> None:
    """Raise ``StaleVersion`` when no SKU row was ``changed`` because of newer ones; else log."""
    if not stale:
        return
    if changed == 0:
        raise StaleVersion(tenant, list(stale), version)
    log.info("kept %d newer SKU(s) of %s over a write at version %s: %s",
             len(stale), tenant, version, ", ".join(stale[:10]))
