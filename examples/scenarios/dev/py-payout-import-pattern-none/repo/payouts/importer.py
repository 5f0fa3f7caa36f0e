"""Import a payout statement: the CSV the payments provider exports for each settlement run."""

import re

from payouts.money import SUPPORTED_CURRENCIES, to_pence

HEADER = "date,seller,amount,currency"
PAYOUT_LINE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2}),(?P<seller>[^,]*),(?P<amount>-?\d+(?:\.\d{1,2})?),(?P<currency>[A-Z]{3})$"
)


def import_payouts(statement: str) -> dict[str, list[dict[str, object]]]:
    """Import one statement (its first line is the header); returns the imported and the rejected lines."""
    imported: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []
    for n, line in enumerate(statement.splitlines()[1:], start=2):
        m = PAYOUT_LINE.match(line)
        seller, amount, currency = m.group("seller", "amount", "currency")
        if not seller:
            rejected.append({"line": n, "reason": "no seller"})
            continue
        pence = to_pence(amount)
        if pence <= 0:
            rejected.append({"line": n, "reason": f"amount {amount} is not a payout"})
            continue
        if currency not in SUPPORTED_CURRENCIES:
            rejected.append({"line": n, "reason": f"currency {currency} is not supported"})
            continue
        imported.append({"line": n, "seller": seller, "pence": pence, "currency": currency, "paid_on": m["date"]})
    return {"imported": imported, "rejected": rejected}
