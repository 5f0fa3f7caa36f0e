from fastapi.testclient import TestClient
from parcels.service import app

client = TestClient(app, raise_server_exceptions=False)


def test_a_parcel_not_scanned_yet_is_a_404_raised_like_the_modules_other_helper():
    response = client.get("/parcels/pcl_2/where")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"]
    assert body["detail"] != "Parcel not found", "the parcel exists: it has no scan yet"


def test_other_answers_are_unchanged():
    assert client.get("/parcels/pcl_1/where").json()["hub"] == "Leeds"
    response = client.get("/parcels/pcl_9/where")
    assert response.status_code == 404
    assert response.json() == {"detail": "Parcel not found"}
