from app import tax


def invoice_totals(lines: list[dict[str, int]]) -> dict[str, int]:
    net = sum(line["unit_pence"] * line["quantity"] for line in lines)
    vat = tax.vat_for(net)
    return {"net_pence": net, "vat_pence": vat, "gross_pence": net + vat}
