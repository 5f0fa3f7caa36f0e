from fastapi.testclient import TestClient

from couriers.routes import app

client = TestClient(app)


def test_courier():
    assert client.get("/couriers/cou_1").json() == {"id": "cou_1", "name": "Sam"}


def test_last_stop():
    body = client.get("/couriers/cou_1/last-stop").json()
    assert body == {"courier": "cou_1", "stop": {"postcode": "BS8 1TH", "at": "08:55"}}


def test_unknown_courier():
    assert client.get("/couriers/cou_9/last-stop").status_code == 404
