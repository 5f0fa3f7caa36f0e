from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_empty_basket_has_a_summary():
    response = client.get("/baskets/bsk_2/summary")
    assert response.status_code == 200
    body = response.json()
    assert body["items"] == 0 and body["total_pence"] == 0
    assert body.get("most_expensive") is None


def test_full_basket_summary_is_unchanged():
    assert client.get("/baskets/bsk_1/summary").json()["most_expensive"] == "Desk lamp"
