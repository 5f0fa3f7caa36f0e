from fastapi.testclient import TestClient
from fleet.main import app

client = TestClient(app, raise_server_exceptions=False)


def test_vehicle_without_pings_follows_the_routers_no_position_404():
    response = client.get("/vehicles/van_2/position")
    assert response.status_code == 404
    assert response.json() == {"detail": "no position yet"}


def test_position_is_unchanged():
    assert client.get("/vehicles/van_1/position").json() == {"lat": 52.4862, "lon": -1.8904}
