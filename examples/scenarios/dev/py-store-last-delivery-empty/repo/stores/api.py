from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException

STORES: dict[str, dict[str, Any]] = {
    "st_1": {"name": "Harbour Street", "deliveries": [("2025-07-21T06:40", "Ines"), ("2025-07-22T06:35", "Tom")]},
    "st_2": {"name": "Mill Lane", "deliveries": []},
}

router = APIRouter(prefix="/stores")


def store(store_id: str) -> dict[str, Any]:
    found = STORES.get(store_id)
    if found is None:
        raise HTTPException(status_code=404, detail="Store not found")
    return found


@router.get("/{store_id}/last-delivery")
def last_delivery(store_id: str) -> dict[str, Any]:
    when, driver = store(store_id)["deliveries"][-1]
    return {"store": store_id, "at": when, "driver": driver}


app = FastAPI(title="store-deliveries")
app.include_router(router)
