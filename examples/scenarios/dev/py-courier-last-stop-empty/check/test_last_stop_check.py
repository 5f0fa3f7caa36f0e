from couriers.routes import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_a_courier_without_stops_yet_gets_the_routers_own_404_shape():
    response = client.get("/couriers/cou_2/last-stop")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"]
    assert body["detail"] != "Courier not found", "the courier exists: it is the stop that is missing"


def test_other_answers_are_unchanged():
    assert client.get("/couriers/cou_1/last-stop").json()["stop"] == {"postcode": "BS8 1TH", "at": "08:55"}
    response = client.get("/couriers/cou_9/last-stop")
    assert response.status_code == 404
    assert response.json() == {"detail": "Courier not found"}
