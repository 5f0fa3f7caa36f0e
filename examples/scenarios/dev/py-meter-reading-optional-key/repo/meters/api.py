from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException

router = APIRouter(prefix="/meters")

METERS = {"mtr_1": {"site": "Depot"}, "mtr_2": {"site": "Office"}}
READINGS: list[dict[str, Any]] = []
LOW_VOLTAGE = 216


def meter(meter_id: str) -> dict[str, str]:
    found = METERS.get(meter_id)
    if found is None:
        raise HTTPException(status_code=404, detail="Meter not found")
    return found


@router.post("/{meter_id}/readings")
def add_reading(meter_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Store one reading. ``kwh`` and ``at`` are required; older meters send no ``voltage``."""
    meter(meter_id)
    if "kwh" not in payload or "at" not in payload:
        raise HTTPException(status_code=422, detail="kwh and at are required")
    READINGS.append({"meter": meter_id, "kwh": payload["kwh"], "at": payload["at"]})
    voltage = payload["voltage"]
    return {"stored": True, "brownout": voltage < LOW_VOLTAGE}


app = FastAPI(title="grid-meters")
app.include_router(router)
