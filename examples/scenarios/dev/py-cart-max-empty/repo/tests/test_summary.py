from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_summary_totals_the_basket():
    assert client.get("/baskets/bsk_1/summary").json() == {"items": 4, "total_pence": 3499 + 3 * 499, "most_expensive": "Desk lamp"}


def test_unknown_basket_is_404():
    assert client.get("/baskets/nope/summary").status_code == 404
