from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)

PHYSICAL = {
    "customer_id": "cus_1",
    "lines": [{"sku": "MUG-01", "unit_pence": 1200, "quantity": 2}],
    "shipping": {"method": "standard", "country": "GB", "postcode": "LS1 4AP"},
}


def test_physical_order_totals_include_vat_and_shipping():
    response = client.post("/orders", json=PHYSICAL)
    assert response.status_code == 201
    body = response.json()
    assert body["subtotal_pence"] == 2400
    assert body["vat_pence"] == 480
    assert body["shipping_pence"] == 395
    assert body["total_pence"] == 3275


def test_order_without_lines_is_rejected():
    assert client.post("/orders", json={"customer_id": "cus_1", "lines": []}).status_code == 422
