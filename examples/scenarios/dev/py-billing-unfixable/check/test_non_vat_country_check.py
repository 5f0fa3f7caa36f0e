from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_invoice_for_a_country_outside_the_vat_table_is_served():
    response = client.get("/invoices/inv_2")
    assert response.status_code == 200
    assert response.json()["net_cents"] == 9900
