from fastapi.testclient import TestClient

from stores.api import app

client = TestClient(app)


def test_the_latest_delivery_of_a_store():
    assert client.get("/stores/st_1/last-delivery").json() == {"store": "st_1", "at": "2025-07-22T06:35", "driver": "Tom"}


def test_an_unknown_store_is_not_found():
    assert client.get("/stores/st_9/last-delivery").status_code == 404
