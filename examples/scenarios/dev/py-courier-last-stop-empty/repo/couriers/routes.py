from fastapi import APIRouter, FastAPI, HTTPException

from couriers.store import COURIERS, stops_today

router = APIRouter(prefix="/couriers")


@router.get("/{courier_id}")
def courier(courier_id: str) -> dict[str, str]:
    name = COURIERS.get(courier_id)
    if name is None:
        raise HTTPException(status_code=404, detail="Courier not found")
    return {"id": courier_id, "name": name}


@router.get("/{courier_id}/last-stop")
def last_stop(courier_id: str) -> dict[str, object]:
    if courier_id not in COURIERS:
        raise HTTPException(status_code=404, detail="Courier not found")
    return {
        "courier": courier_id,
        "stop": stops_today(courier_id)[-1],
    }


app = FastAPI(title="courier-tracking")
app.include_router(router)
