from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_digital_order_without_shipping_is_created():
    response = client.post("/orders", json={"customer_id": "cus_9", "lines": [{"sku": "EBOOK-7", "unit_pence": 799}]})
    assert response.status_code == 201
    body = response.json()
    assert body["total_pence"] == 799 + 160
    assert body.get("shipping_country") is None


def test_physical_order_reports_its_country():
    payload = {
        "customer_id": "cus_1",
        "lines": [{"sku": "MUG-01", "unit_pence": 1200, "quantity": 1}],
        "shipping": {"method": "express", "country": "IE", "postcode": "D02 X285"},
    }
    response = client.post("/orders", json=payload)
    assert response.status_code == 201
    assert response.json()["shipping_country"] == "IE"
    assert response.json()["shipping_pence"] == 895
