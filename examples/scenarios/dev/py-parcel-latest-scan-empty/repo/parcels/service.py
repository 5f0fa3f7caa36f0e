from fastapi import APIRouter, FastAPI, HTTPException

router = APIRouter(prefix="/parcels")

PARCELS = {"pcl_1": {"to": "Leeds"}, "pcl_2": {"to": "York"}}
SCANS: dict[str, list[dict[str, str]]] = {
    "pcl_1": [
        {"hub": "Bristol", "at": "2025-07-14T06:10:00Z"},
        {"hub": "Leeds", "at": "2025-07-14T13:40:00Z"},
    ],
}


def parcel_or_404(parcel_id: str) -> dict[str, str]:
    found = PARCELS.get(parcel_id)
    if found is None:
        raise HTTPException(status_code=404, detail="Parcel not found")
    return found


def latest_scan(parcel_id: str) -> dict[str, str]:
    scans = SCANS.get(parcel_id, [])
    return scans[-1]


@router.get("/{parcel_id}")
def parcel(parcel_id: str) -> dict[str, object]:
    return {"id": parcel_id, **parcel_or_404(parcel_id)}


@router.get("/{parcel_id}/where")
def where(parcel_id: str) -> dict[str, str]:
    parcel_or_404(parcel_id)
    scan = latest_scan(parcel_id)
    return {"parcel": parcel_id, "hub": scan["hub"], "at": scan["at"]}


app = FastAPI(title="parcel-tracking")
app.include_router(router)
