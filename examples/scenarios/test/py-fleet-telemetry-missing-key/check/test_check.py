from fastapi.testclient import TestClient
from fleet.main import app

client = TestClient(app, raise_server_exceptions=False)


def test_telemetry_without_fuel_is_accepted_as_not_low():
    response = client.post("/vehicles/van_1/telemetry", json={"lat": 51.0, "lon": -1.0})
    assert response.status_code == 200
    assert response.json() == {"accepted": True, "low_fuel": False}


def test_telemetry_with_fuel_is_unchanged():
    response = client.post("/vehicles/van_1/telemetry", json={"lat": 51.0, "lon": -1.0, "fuel_pct": 40})
    assert response.json() == {"accepted": True, "low_fuel": False}
    assert client.post("/vehicles/van_1/telemetry", json={"lat": 51.0}).status_code == 422
