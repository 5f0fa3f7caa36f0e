from fastapi import FastAPI

from app.orders import orders_for
from app.reports import revenue_by_day

app = FastAPI(title="merchant-reports")


@app.get("/merchants/{merchant}/revenue")
def revenue(merchant: str) -> dict[str, object]:
    return {"merchant": merchant, "days": revenue_by_day(orders_for(merchant))}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
