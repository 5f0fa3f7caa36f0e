from fastapi.testclient import TestClient
from fleet import geo
from fleet.main import app

client = TestClient(app, raise_server_exceptions=False)


def test_distance_from_depot_uses_the_renamed_function():
    response = client.get("/vehicles/van_1/from-depot")
    assert response.status_code == 200
    assert response.json() == {"km": 162.5}


def test_the_rename_stays():
    assert not hasattr(geo, "distance_km") and geo.haversine_km((0.0, 0.0), (0.0, 1.0)) == 111.2
