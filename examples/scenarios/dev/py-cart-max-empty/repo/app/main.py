from typing import Any

from fastapi import FastAPI, HTTPException

from app.baskets import basket_items

app = FastAPI(title="basket-service")


@app.get("/baskets/{basket_id}/summary")
def basket_summary(basket_id: str) -> dict[str, Any]:
    items = basket_items(basket_id)
    if items is None:
        raise HTTPException(status_code=404, detail="Basket not found")
    total = sum(item.price_pence * item.quantity for item in items)
    most_expensive = max(items, key=lambda item: item.price_pence)
    return {
        "items": sum(item.quantity for item in items),
        "total_pence": total,
        "most_expensive": most_expensive.name,
    }
