"""Bulk ingest against the real SQLite SoR, embedded Qdrant and the real embedding model."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.settings import Settings
from app.wiring import services
from catalog.errors import StaleVersion
from catalog.models import Money, Product, Sku, Stock
from ingestion.pipeline import ingest_products
from search.index.base import SearchFilter

pytestmark = [pytest.mark.model, pytest.mark.slow]


def make(sku: str, title: str, price: str = "10.00", qty: int = 5, **kw: object) -> Product:
    return Product(
        product_id=f"p-{sku}",
        brand="Acme",
        title=title,
        description="A test product.",
        skus=[
            Sku(
                sku=sku,
                model_number=f"AC-{sku}",
                price=Money(amount=Decimal(price)),
                stock=Stock(quantity=qty),
            )
        ],
        **kw,  # type: ignore[arg-type]
    )


CATALOG = [
    make("m1", "Acme wireless optical mouse black", "19.99"),
    make("m2", "Acme wired gaming mouse red", "39.00"),
    make("k1", "Acme bluetooth keyboard white", "49.50", qty=0),
    make("c1", "Acme USB-C charging cable 2 m", "9.99"),
]


async def test_ingest_is_idempotent_and_embeds_only_changes(tmp_path: Path, embedder) -> None:
    settings = Settings(DATA_DIR=tmp_path)
    async with services(settings, embedder=embedder) as svc:
        first = await ingest_products(CATALOG, tenant="t", sor=svc.sor, writer=svc.writer)
        assert (first.skus, first.embedded, first.unchanged) == (4, 4, 0)
        assert svc.index.count("t") == 4

        again = await ingest_products(CATALOG, tenant="t", sor=svc.sor, writer=svc.writer)
        assert (again.embedded, again.payload_only, again.unchanged) == (0, 0, 4)

        # A price change is a payload-only update; a title change re-embeds just that SKU.
        changed = [
            make("m1", "Acme wireless optical mouse black", "14.99"),
            make("m2", "Acme wired gaming mouse red, 7 buttons", "39.00"),
            *CATALOG[2:],
        ]
        third = await ingest_products(changed, tenant="t", sor=svc.sor, writer=svc.writer)
        assert (third.embedded, third.payload_only, third.unchanged) == (1, 1, 2)
        state = svc.index.states("t", ["m1"])["m1"]
        assert state.price == 14.99
        offers = await svc.sor.get_offers("t", ["m1"])
        assert offers["m1"].price == Money(amount=Decimal("14.99"))
        assert state.version == offers["m1"].version


async def test_prune_deletes_skus_the_file_no_longer_lists(tmp_path: Path, embedder) -> None:
    async with services(Settings(DATA_DIR=tmp_path), embedder=embedder) as svc:
        await ingest_products(CATALOG, tenant="t", sor=svc.sor, writer=svc.writer)
        report = await ingest_products(
            CATALOG[:2], tenant="t", sor=svc.sor, writer=svc.writer, prune=True
        )
        assert report.deleted == 2
        assert svc.index.count("t") == 2
        assert set(await svc.sor.get_offers("t", ["m1", "k1", "c1"])) == {"m1"}


async def test_search_filters_and_tenant_isolation(tmp_path: Path, embedder) -> None:
    async with services(Settings(DATA_DIR=tmp_path), embedder=embedder) as svc:
        await ingest_products(CATALOG, tenant="t", sor=svc.sor, writer=svc.writer)
        await ingest_products(CATALOG[:1], tenant="other", sor=svc.sor, writer=svc.writer)
        r = svc.retriever
        top = r.search("wireless mouse", SearchFilter(tenant="t"), limit=2)
        assert top[0].sku == "m1"
        cheap = r.search("mouse", SearchFilter(tenant="t", max_price=20), limit=10)
        assert {h.sku for h in cheap} <= {"m1", "c1"} and "m1" in {h.sku for h in cheap}
        stocked = r.search("keyboard", SearchFilter(tenant="t", in_stock=True), limit=10)
        assert "k1" not in {h.sku for h in stocked}
        # exact model-number lookup ranks the named SKU first
        assert r.search("AC-c1", SearchFilter(tenant="t"), limit=3)[0].sku == "c1"
        assert {h.sku for h in r.search("mouse", SearchFilter(tenant="other"), limit=10)} == {"m1"}


async def test_a_bulk_load_is_unversioned_so_index_and_sor_agree(tmp_path: Path, embedder) -> None:
    """Versions in a catalog file are dropped: the load applies over any version the SoR holds."""
    settings = Settings(DATA_DIR=tmp_path)
    async with services(settings, embedder=embedder) as svc:
        await ingest_products(CATALOG, tenant="t", sor=svc.sor, writer=svc.writer)
        await svc.sor.set_price("t", "m1", Money(amount=Decimal("25.00")), version=10)
        old = make("m1", "Acme wireless optical mouse black", "11.00")
        old.skus[0].version = 5  # older than the SoR's: a versioned write would be refused
        await ingest_products([old], tenant="t", sor=svc.sor, writer=svc.writer)
        offer = (await svc.sor.get_offers("t", ["m1"]))["m1"]
        assert offer.price == Money(amount=Decimal("11.00"))
        assert svc.index.states("t", ["m1"])["m1"].price == 11.0
        # ...and the SoR kept its version, so a late versioned event is still stale.
        with pytest.raises(StaleVersion):
            await svc.sor.set_price("t", "m1", Money(amount=Decimal("1.00")), version=9)
