from app.money import format_pence

PAYMENTS = {
    "pay_1001": {"items": [("Flat white", 340), ("Almond croissant", 295)], "tip_pence": 100},
    "pay_1002": {"items": [("Pot of tea", 280)], "tip_pence": 0},
    "pay_1003": {"items": [("Refund: oat milk", -60)], "tip_pence": 0},
}


def receipt_lines(payment_id: str) -> list[str] | None:
    payment = PAYMENTS.get(payment_id)
    if payment is None:
        return None
    lines = [f"{name}: {format_pence(pence)}" for name, pence in payment["items"]]
    total = sum(pence for _, pence in payment["items"]) + payment["tip_pence"]
    return [*lines, f"Tip: {format_pence(payment['tip_pence'])}", f"Total: {format_pence(total)}"]
