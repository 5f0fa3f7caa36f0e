INVOICES = {
    "inv_1": [{"qty": 2, "unit_pence": 500}, {"qty": 1, "unit_pence": 250}],
    "inv_2": [{"qty": 3, "unit_pence": 1000}, {"unit_pence": -500, "kind": "discount"}],
}


def invoice_lines(invoice_id: str) -> list[dict[str, int]]:
    return INVOICES[invoice_id]
