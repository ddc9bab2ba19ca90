"""Build the committed demo catalog: a deterministic, shopper-friendly ~5,000-product Icecat subset.

Run: ``python scripts/build_demo_catalog.py [--source ../shared/data/icecat]``. It rewrites
``catalog/data/demo_catalog.jsonl.gz`` (generic JSONL, synthetic stock) and ``ATTRIBUTION.md``;
the output is byte-for-byte reproducible, so a rebuild shows up in git only if something changed.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.importers import DEMO_CATALOG, dump_products, load_icecat
from catalog.models import Product

TARGET = 5000
# ../shared beside the repository, wherever it is checked out.
DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "icecat"
# Categories with more products than a demo shopper needs; every other category is kept whole,
# so mice, keyboards, headphones, speakers, monitors, notebooks, flash drives... all stay.
CAPS: dict[str, int] = {
    "cable": 550,
    "toner cartridge": 450,
    "ink cartridge": 450,
    "paper & labels": 200,
    "processor": 150,
    "printer supplies": 120,
    "case": 250,
    "printer": 200,
    "battery": 150,
    "ups": 80,
    "power strip": 80,
    "power adapter": 120,
    "memory module": 100,
    "networking": 120,
    "motherboard": 60,
    "server": 50,
}

ATTRIBUTION = """\
# Demo catalog: attribution and licence

`demo_catalog.jsonl.gz` holds {products:,} products ({skus:,} SKUs) selected from the Open Icecat
product dump by `scripts/build_demo_catalog.py`.

- **Product data: Open Icecat (icecat.biz).** Product content comes from Icecat under the Icecat
  Open Content License and the Open Icecat Fair Use Policy. The data is provided "AS IS", without
  warranty of any kind. Anything that shows this content must credit "Product data: Open Icecat
  (icecat.biz)".
- Source of the dump: the repository querqy/chorus (Apache-2.0), files
  `data-encoder/ecommerce/vectors/data/{{1..4}}.json.zip` at commit
  96edf8b536e521be06cab910e0f6a9b25e3016fc.
- Prices are US cents taken from upcitemdb by EAN (as in the chorus data), shown here in USD.
- **Stock is synthetic.** Icecat has no stock. Quantities and warehouse splits are generated
  deterministically from each SKU id and every `stock` object carries `"synthetic": true`; they
  must be labelled synthetic wherever they are shown.
- Categories and variant groups (records sharing brand and model number) are derived by Shopkeeper,
  not by Icecat.
"""


def _score(p: Product) -> tuple[int, str]:
    """Shopper-friendliness (description, colour, product type), then a stable hash order."""
    has_colour = "colour" in p.attributes or any("colour" in s.variant_attributes for s in p.skus)
    score = 2 * bool(p.description) + bool(has_colour) + bool("product type" in p.attributes)
    return (-score, hashlib.sha256(p.product_id.encode()).hexdigest())


def select(products: list[Product], target: int = TARGET) -> list[Product]:
    """Capped big categories, whole small ones, and uncategorised products fill up to ``target``."""
    by_cat: dict[str | None, list[Product]] = {}
    for p in products:
        by_cat.setdefault(p.category, []).append(p)
    chosen: list[Product] = []
    for cat, items in sorted(by_cat.items(), key=lambda kv: kv[0] or ""):
        if cat is None:
            continue
        items.sort(key=_score)
        chosen.extend(items[: CAPS.get(cat, len(items))])
    rest = sorted((p for p in by_cat.get(None, []) if p.description), key=_score)
    chosen.extend(rest[: max(0, target - len(chosen))])
    order = {p.product_id: i for i, p in enumerate(products)}
    return sorted(chosen, key=lambda p: order[p.product_id])


def main(argv: list[str] | None = None) -> int:
    """Build and write the demo catalog and its attribution file."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--out", type=Path, default=DEMO_CATALOG)
    args = ap.parse_args(argv)
    result = load_icecat(args.source)
    for err in result.errors:
        print(f"skipped {err}", file=sys.stderr)
    demo = select(result.products)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    dump_products(demo, args.out)
    skus = sum(len(p.skus) for p in demo)
    (args.out.parent / "ATTRIBUTION.md").write_text(
        ATTRIBUTION.format(products=len(demo), skus=skus), encoding="utf-8"
    )
    counts = Counter(p.category or "(none)" for p in demo)
    print(
        f"{len(demo)} products, {skus} SKUs, {sum(len(p.skus) > 1 for p in demo)} multi-SKU, "
        f"{args.out.stat().st_size / 1e6:.2f} MB -> {args.out}"
    )
    for cat, n in counts.most_common():
        print(f"  {n:5d}  {cat}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
