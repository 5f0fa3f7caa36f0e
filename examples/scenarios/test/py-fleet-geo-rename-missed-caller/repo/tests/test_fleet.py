from fastapi.testclient import TestClient

from fleet.main import app

client = TestClient(app)


def test_vehicle():
    assert client.get("/vehicles/van_1").json() == {"id": "van_1", "plate": "LX71 ABC"}


def test_unknown_vehicle_is_404():
    assert client.get("/vehicles/van_9").status_code == 404


def test_position():
    assert client.get("/vehicles/van_1/position").json() == {"lat": 52.4862, "lon": -1.8904}


def test_telemetry():
    body = {"lat": 51.0, "lon": -1.0, "fuel_pct": 9}
    assert client.post("/vehicles/van_1/telemetry", json=body).json() == {"accepted": True, "low_fuel": True}
