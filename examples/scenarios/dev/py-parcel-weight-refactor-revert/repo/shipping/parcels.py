"""Parcel weights and postage bands for the packing station."""

from typing import Any

ORDERS: dict[str, dict[str, Any]] = {
    "ord_1": {"items": [{"sku": "mug", "grams": 350, "qty": 2}, {"sku": "tea", "grams": 125, "qty": 4}]},
    "ord_2": {"items": [{"sku": "mug", "grams": 350, "qty": 1}, {"sku": "gift-card", "qty": 1}]},
}
BANDS = ((1000, "small"), (5000, "medium"))


def parcel_weight(order: dict[str, Any]) -> int:
    """Total weight in grams: each item's grams times its quantity (an item without grams, such as a
    gift card, weighs nothing)."""
    total = 0
    for item in order["items"]:
        total += item.get("grams", 0) * item["qty"]
    return total


def postage_band(order_id: str) -> str:
    """The postage band of an order's parcel."""
    weight = parcel_weight(ORDERS[order_id])
    return next((name for limit, name in BANDS if weight <= limit), "large")
