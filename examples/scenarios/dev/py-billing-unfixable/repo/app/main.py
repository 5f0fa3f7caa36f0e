from typing import Any

from fastapi import FastAPI, HTTPException

from app.billing.tax import invoice_totals

app = FastAPI(title="subscriptions-api")

INVOICES: dict[str, dict[str, Any]] = {
    "inv_1": {"account": "acc_1", "billing_country": "GB", "lines": [{"amount_cents": 4900}, {"amount_cents": 1000}]},
    "inv_2": {"account": "acc_2", "billing_country": "NO", "lines": [{"amount_cents": 9900}]},
}


@app.get("/invoices/{invoice_id}")
def read_invoice(invoice_id: str) -> dict[str, Any]:
    invoice = INVOICES.get(invoice_id)
    if invoice is None:
        raise HTTPException(status_code=404, detail="Invoice not found")
    return {"id": invoice_id, "account": invoice["account"], **invoice_totals(invoice)}
