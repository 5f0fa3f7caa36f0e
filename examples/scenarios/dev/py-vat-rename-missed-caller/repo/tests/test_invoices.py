from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_invoice_totals():
    body = {"lines": [{"sku": "MUG", "unit_pence": 850, "quantity": 2}]}
    assert client.post("/invoices", json=body).json() == {"net_pence": 1700, "vat_pence": 340, "gross_pence": 2040}
