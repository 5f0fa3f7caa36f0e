"""Order totals. Amounts are integer pence to avoid float rounding."""

from typing import Any

VAT_RATE = 0.2
SHIPPING_PENCE = {"standard": 395, "express": 895}


def line_total(line: dict[str, Any]) -> int:
    return int(line["unit_pence"]) * int(line.get("quantity", 1))


def order_totals(payload: dict[str, Any]) -> dict[str, int]:
    subtotal = sum(line_total(line) for line in payload["lines"])
    shipping = SHIPPING_PENCE.get(payload.get("shipping", {}).get("method", ""), 0)
    vat = round(subtotal * VAT_RATE)
    return {"subtotal_pence": subtotal, "vat_pence": vat, "shipping_pence": shipping, "total_pence": subtotal + vat + shipping}
