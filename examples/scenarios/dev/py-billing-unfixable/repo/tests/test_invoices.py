from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_uk_invoice_adds_vat():
    assert client.get("/invoices/inv_1").json() == {
        "id": "inv_1",
        "account": "acc_1",
        "net_cents": 5900,
        "tax_cents": 1180,
        "gross_cents": 7080,
    }
