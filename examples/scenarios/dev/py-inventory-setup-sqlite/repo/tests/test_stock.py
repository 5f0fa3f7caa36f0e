from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_stock_is_listed_by_sku():
    assert [r["sku"] for r in client.get("/stock").json()] == ["BOX-M", "PAL-001", "TAPE-48"]


def test_available_is_on_hand_minus_reserved():
    assert client.get("/stock/BOX-M/available").json() == {"sku": "BOX-M", "available": 1900}
