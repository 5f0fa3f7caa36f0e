from fastapi.testclient import TestClient

from parcels.service import app

client = TestClient(app)


def test_parcel():
    assert client.get("/parcels/pcl_1").json() == {"id": "pcl_1", "to": "Leeds"}


def test_where_is_the_latest_scan():
    assert client.get("/parcels/pcl_1/where").json() == {"parcel": "pcl_1", "hub": "Leeds", "at": "2025-07-14T13:40:00Z"}


def test_unknown_parcel():
    response = client.get("/parcels/pcl_9/where")
    assert response.status_code == 404
    assert response.json() == {"detail": "Parcel not found"}
