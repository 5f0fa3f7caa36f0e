from datetime import timedelta

from fastapi import FastAPI, HTTPException

from reports.sales import ORDERS, TODAY

app = FastAPI(title="shop-reports")


@app.get("/reports/top-products")
def top_products(limit: int = 3) -> dict[str, object]:
    """The best-selling SKUs by revenue, best first."""
    if limit < 1:
        raise HTTPException(status_code=400, detail="limit must be at least 1")
    totals: dict[str, int] = {}
    for order in ORDERS:
        totals[order["sku"]] = totals.get(order["sku"], 0) + order["pence"]
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return {"products": [{"sku": sku, "pence": pence} for sku, pence in ranked]}


@app.get("/reports/daily")
def daily_revenue() -> dict[str, object]:
    """Revenue per day for the last week, oldest first."""
    start = TODAY - timedelta(days=6)
    totals = {(start + timedelta(days=n)).isoformat(): 0 for n in range(7)}
    for order in ORDERS:
        if order["day"] in totals:
            totals[order["day"]] += order["pence"]
    return {"days": totals}
