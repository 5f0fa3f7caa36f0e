from datetime import date
from typing import Any

TODAY = date(2025, 8, 4)

# One row per paid order line: the day it was paid, the sales channel, the SKU and its value in pence.
ORDERS: list[dict[str, Any]] = [
    {"day": "2025-07-20", "channel": "store", "sku": "MUG-01", "pence": 1200},
    {"day": "2025-07-29", "channel": "web", "sku": "TEE-BLK", "pence": 2200},
    {"day": "2025-07-29", "channel": "app", "sku": "MUG-01", "pence": 1200},
    {"day": "2025-08-01", "channel": "web", "sku": "HOOD-GRY", "pence": 4500},
    {"day": "2025-08-02", "channel": "store", "sku": "TEE-BLK", "pence": 2200},
    {"day": "2025-08-03", "channel": "web", "sku": "MUG-01", "pence": 1200},
    {"day": "2025-08-04", "channel": "web", "sku": "TEE-BLK", "pence": 2200},
    {"day": "2025-08-04", "channel": "app", "sku": "HOOD-GRY", "pence": 4500},
]
