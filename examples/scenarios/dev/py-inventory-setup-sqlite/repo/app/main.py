from fastapi import FastAPI
from sqlalchemy import select

from app.db import engine, stock

app = FastAPI(title="warehouse-inventory")


@app.get("/stock")
def list_stock() -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(stock).order_by(stock.c.sku))]


@app.get("/stock/{sku}/available")
def available(sku: str) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(select(stock).where(stock.c.sku == sku)).one()
    return {"sku": row.sku, "available": row.on_hand - row.reserved}
