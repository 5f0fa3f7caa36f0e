from typing import Any

# Rows as the payments database returns them; paid_at is the settlement timestamp.
ORDERS: list[dict[str, Any]] = [
    {"id": "o_1", "merchant": "m_1", "amount_pence": 2500, "paid_at": "2025-06-30T09:12:00Z"},
    {"id": "o_2", "merchant": "m_1", "amount_pence": 1200, "paid_at": "2025-06-30T17:40:00Z"},
    {"id": "o_3", "merchant": "m_1", "amount_pence": 990, "paid_at": "2025-07-01T08:05:00Z"},
    {"id": "o_4", "merchant": "m_2", "amount_pence": 15000, "paid_at": "2025-07-01T11:00:00Z"},
]


def orders_for(merchant: str) -> list[dict[str, Any]]:
    return [o for o in ORDERS if o["merchant"] == merchant]
