"""Quantities and short codes: one canonical form on both sides, and range filters on both
index backends (a point without the field never matches a range)."""

from __future__ import annotations

import dataclasses

import pytest

from search.index.base import SearchFilter, VectorIndex
from search.sparse import Bm25Encoder, with_unit_tokens
from search.units import payload_quantities, quantities, unit_tokens
from tests.search.index_support import ALL, POINTS_A, skus


@pytest.mark.parametrize(("text", "token"), [
    ("16GB", "16gb"), ("16 GB", "16gb"), ("16 gigabytes", "16gb"), ("16 gig", "16gb"),
    ("0.5 TB", "500gb"), ("512 MB", "0p512gb"),
    ('61 cm (24")', "24in"), ("24 inch", "24in"), ("24-inch", "24in"), ("24in", "24in"),
    ("39.6 cm (15.6\")", "15p6in"), ("15,6 inch", "15p6in"),
    ("1,000 VA", "1000va"), ("1 kVA", "1000va"), ("5.6kW", "5600w"), ("330 W", "330w"),
    ("2 kg", "2kg"), ("500g", "0p5kg"), ("2.2 lbs", "0p998kg"),
])
def test_one_canonical_token_per_quantity(text: str, token: str) -> None:
    assert unit_tokens(text) == [token]


@pytest.mark.parametrize("text", [
    "5G phone", "SATA 3GB/s", "10/100/1000 Mb/s", "16 in stock", "Core i3", "HP 301 ink",
    "dv7-1211ea",
])
def test_not_quantities(text: str) -> None:
    assert quantities(text) == []


def test_sixty_one_cm_is_twenty_four_inch() -> None:
    assert {q.value for q in quantities('61 cm (24")')} == {q.value for q in quantities("24 inch")}


def test_payload_fields_from_title_and_unitless_attributes() -> None:
    title = ('Lenovo Legion Y540 Notebook Black 39.6 cm (15.6") 1920 x 1080 pixels Intel Core i5 '
             "16 GB DDR4-SDRAM 1512 GB HDD+SSD")
    attrs = {"internal memory": 16.0, "maximum internal memory": 32.0,
             "total storage capacity": 1512.0, "storage drive controller": "SATA 3GB/s"}
    assert payload_quantities(title, attrs) == {
        "screen_in": 15.6, "memory_gb": 16.0, "storage_gb": 1512.0}
    assert payload_quantities("APC Back-UPS 550VA 330 W", {}) == {"va": 550.0, "power_w": 330.0}
    assert payload_quantities("Notebook 4 GB RAM", {"weight": "2.1 kg"}) == {
        "weight_kg": 2.1, "memory_gb": 4.0}
    assert payload_quantities("USB cable 2 m", {}) == {}  # a length, but no screen


def test_bm25_keeps_short_codes_and_joins_units() -> None:
    bm25 = Bm25Encoder()
    one = set(bm25.embed_query("i3").indices)
    assert len(one) == 1 and one.isdisjoint(bm25.embed_query("i5 i7").indices)
    for code in ("a3", "ddr4"):
        assert len(bm25.embed_query(code).indices) == 1
    assert set(bm25.embed_query("usb c").indices) <= set(bm25.embed_query("USB-C").indices)
    assert set(bm25.embed_query("usbc").indices) <= set(bm25.embed_documents(["USB-C"])[0].indices)
    spaced, glued, words = (set(bm25.embed_query(t).indices)
                            for t in ("16 GB", "16GB", "16 gigabytes"))
    assert spaced & glued & words  # the shared "16gb" token
    assert "24in" in with_unit_tokens('Monitor 61 cm (24")').split()


def _sized(index: VectorIndex) -> None:
    extra = [{"memory_gb": 8.0, "screen_in": 15.6}, {"memory_gb": 16.0, "screen_in": 24.0},
             {"memory_gb": 32.0}, {}, {"va": 1000.0}]
    index.upsert([dataclasses.replace(p, payload={**p.payload, **e})
                  for p, e in zip(POINTS_A, extra, strict=True)])


@pytest.mark.parametrize(("ranges", "expected"), [
    ({"memory_gb": (16.0, None)}, {"A2", "A3"}),
    ({"memory_gb": (None, 16.0)}, {"A1", "A2"}),
    ({"memory_gb": (10.0, 20.0), "screen_in": (23.5, 24.5)}, {"A2"}),
    ({"va": (1000.0, None)}, {"A5"}),
    ({"weight_kg": (None, 2.0)}, set()),
    ({"memory_gb": (None, None)}, {"A1", "A2", "A3", "A4", "A5"}),
])
def test_range_filters_on_both_backends(
    index: VectorIndex, ranges: dict[str, tuple[float | None, float | None]], expected: set[str]
) -> None:
    _sized(index)
    flt = SearchFilter("a", ranges=ranges)
    assert set(skus(index.query(flt, dense=ALL, limit=20))) == expected
    sparse = Bm25Encoder().embed_query("black ink toner mouse cartridge")
    assert set(skus(index.query(flt, dense=ALL, sparse=sparse, limit=20))) == expected


def test_unknown_range_field_is_refused(index: VectorIndex) -> None:
    with pytest.raises(ValueError, match="range field"):
        index.query(SearchFilter("a", ranges={"price_gb": (1.0, None)}), dense=ALL)


def test_core_i3_tops_bm25_over_other_families(index: VectorIndex) -> None:
    bm25 = Bm25Encoder()
    texts = {"A1": "Notebook Intel Core i5 8 GB", "A2": "Notebook Intel Core i7 16 GB",
             "A3": "Notebook Intel Core i3 4 GB", "A4": "USB-C cable 1 m", "A5": "USB cable"}
    index.upsert([dataclasses.replace(p, sparse=bm25.embed_documents([texts[p.payload["sku"]]])[0])
                  for p in POINTS_A])
    flt = SearchFilter("a")
    assert skus(index.query(flt, sparse=bm25.embed_query("core i3 notebook"), limit=1)) == ["A3"]
    assert skus(index.query(flt, sparse=bm25.embed_query("usbc"), limit=5)) == ["A4"]
    assert skus(index.query(flt, sparse=bm25.embed_query("16 gigabytes"), limit=1)) == ["A2"]
