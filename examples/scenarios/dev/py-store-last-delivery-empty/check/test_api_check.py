from fastapi.testclient import TestClient
from stores.api import app

client = TestClient(app, raise_server_exceptions=False)


def test_a_store_without_deliveries_has_no_last_delivery():
    response = client.get("/stores/st_2/last-delivery")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


def test_stores_with_deliveries_keep_their_latest():
    assert client.get("/stores/st_1/last-delivery").json()["driver"] == "Tom"
