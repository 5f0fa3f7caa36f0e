from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    price_pence: int
    quantity: int


BASKETS: dict[str, list[Item]] = {
    "bsk_1": [Item("LAMP-01", "Desk lamp", 3499, 1), Item("BULB-E27", "LED bulb", 499, 3)],
    "bsk_2": [],
}


def basket_items(basket_id: str) -> list[Item] | None:
    return BASKETS.get(basket_id)
