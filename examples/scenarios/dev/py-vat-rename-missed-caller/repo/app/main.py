from fastapi import FastAPI
from pydantic import BaseModel

from app import tax
from app.invoices import invoice_totals

app = FastAPI(title="till-api")


class Line(BaseModel):
    sku: str
    unit_pence: int
    quantity: int = 1


class Basket(BaseModel):
    lines: list[Line]


@app.post("/invoices")
def create_invoice(basket: Basket) -> dict[str, int]:
    return invoice_totals([line.model_dump() for line in basket.lines])


@app.get("/vat")
def vat_preview(net_pence: int) -> dict[str, int]:
    return {"net_pence": net_pence, "vat_pence": tax.vat_for(net_pence)}
