from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# VAT by billing country; finance maintains this table.
TAX_RATES = {"GB": Decimal("0.20"), "IE": Decimal("0.23"), "DE": Decimal("0.19"), "FR": Decimal("0.20")}


def invoice_totals(invoice: dict[str, Any]) -> dict[str, int]:
    net = sum(line["amount_cents"] for line in invoice["lines"])
    rate = TAX_RATES[invoice["billing_country"]]
    tax = int((Decimal(net) * rate).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return {"net_cents": net, "tax_cents": tax, "gross_cents": net + tax}
