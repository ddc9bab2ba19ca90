"""A tiny shop that is not the demo: clothing and homeware, priced in euros.

Used by the wording tests (vocabulary only) and the any-shop agent test (ingested with the real
embedder), so nothing about electronics or dollars can pass unnoticed.
"""

from __future__ import annotations

from decimal import Decimal

from catalog.models import Money, Product, Sku, Stock

EURO_TENANT = "maison"


def _product(pid: str, title: str, category: str, colour: str, price: str, *,
             skus: int = 1, material: str = "cotton") -> Product:
    return Product(
        tenant=EURO_TENANT, product_id=pid, brand="Maison Lin", title=title, category=category,
        description=f"{title}, {material}, made in Portugal.",
        attributes={"colour": colour, "material": material},
        skus=[Sku(sku=f"{pid}-{i}", price=Money(amount=Decimal(price), currency="EUR"),
                  stock=Stock(quantity=5 + i)) for i in range(skus)],
    )


EURO_SHOP: list[Product] = [
    _product("ts1", "Organic cotton T-shirt", "t-shirts", "White", "19.00", skus=3),
    _product("ts2", "Heavy cotton T-shirt", "t-shirts", "Black", "29.00", skus=2),
    _product("ts3", "Striped linen T-shirt", "t-shirts", "White", "24.00"),
    _product("mg1", "Stoneware mug", "mugs", "White", "12.50", skus=2, material="stoneware"),
    _product("mg2", "Enamel camping mug", "mugs", "Blue", "9.90", material="enamel"),
    _product("tt1", "Linen tea towel", "tea towels", "Blue", "9.00", material="linen"),
]
