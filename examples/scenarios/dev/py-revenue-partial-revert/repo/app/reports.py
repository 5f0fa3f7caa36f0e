from collections import defaultdict
from typing import Any


def revenue_by_day(orders: list[dict[str, Any]]) -> dict[str, int]:
    """Settled revenue per UTC day, in pence."""
    days: dict[str, int] = defaultdict(int)
    for order in orders:
        day = order["paid_at"][:10]
        days[day] += order["amount_pence"]
    return dict(sorted(days.items()))
