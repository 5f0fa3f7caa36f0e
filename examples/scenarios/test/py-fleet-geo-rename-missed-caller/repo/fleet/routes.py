from typing import Any

from fastapi import APIRouter, HTTPException

from fleet import geo

router = APIRouter(prefix="/vehicles")

DEPOT = (51.5072, -0.1276)
VEHICLES: dict[str, dict[str, Any]] = {
    "van_1": {"plate": "LX71 ABC", "pings": [(51.5072, -0.1276), (52.4862, -1.8904)]},
    "van_2": {"plate": "LX72 DEF", "pings": []},
}


def vehicle(vehicle_id: str) -> dict[str, Any]:
    found = VEHICLES.get(vehicle_id)
    if found is None:
        raise HTTPException(status_code=404, detail="vehicle not found")
    return found


@router.get("/{vehicle_id}")
def read_vehicle(vehicle_id: str) -> dict[str, Any]:
    return {"id": vehicle_id, "plate": vehicle(vehicle_id)["plate"]}


@router.get("/{vehicle_id}/position")
def position(vehicle_id: str) -> dict[str, Any]:
    lat, lon = vehicle(vehicle_id)["pings"][-1]
    return {"lat": lat, "lon": lon}


@router.get("/{vehicle_id}/from-depot")
def from_depot(vehicle_id: str) -> dict[str, Any]:
    pings = vehicle(vehicle_id)["pings"]
    if not pings:
        raise HTTPException(status_code=404, detail="no position yet")
    return {"km": geo.distance_km(DEPOT, pings[-1])}


@router.post("/{vehicle_id}/telemetry")
def telemetry(vehicle_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    vehicle(vehicle_id)
    if "lat" not in payload or "lon" not in payload:
        raise HTTPException(status_code=422, detail="lat and lon are required")
    fuel = payload["fuel_pct"]
    return {"accepted": True, "low_fuel": fuel < 15}
