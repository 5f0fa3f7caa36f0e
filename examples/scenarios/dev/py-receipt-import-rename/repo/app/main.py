from fastapi import FastAPI, HTTPException

from app.receipts import PAYMENTS, receipt_lines

app = FastAPI(title="receipts-api")


@app.get("/receipts/{payment_id}")
def receipt(payment_id: str) -> dict[str, list[str]]:
    lines = receipt_lines(payment_id)
    if lines is None:
        raise HTTPException(status_code=404, detail="Payment not found")
    return {"lines": lines}


@app.get("/receipts/{payment_id}/total")
def receipt_total(payment_id: str) -> dict[str, str]:
    payment = PAYMENTS.get(payment_id)
    if payment is None:
        raise HTTPException(status_code=404, detail="Payment not found")
    # Imported here: app.money will import the receipt templates, which import this module.
    from app.money import format_pence

    total = sum(pence for _, pence in payment["items"]) + payment["tip_pence"]
    return {"payment_id": payment_id, "total": format_pence(total)}
