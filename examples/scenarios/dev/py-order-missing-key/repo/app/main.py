from itertools import count
from typing import Any

from fastapi import Body, FastAPI, HTTPException

from app.pricing import order_totals

app = FastAPI(title="storefront-orders")
_ids = count(1001)


@app.post("/orders", status_code=201)
def create_order(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
    if not payload.get("lines"):
        raise HTTPException(status_code=422, detail="An order needs at least one line")
    totals = order_totals(payload)
    return {"id": f"ord_{next(_ids)}", "customer": payload["customer_id"], **totals}
