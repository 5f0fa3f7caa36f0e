from app import tax
from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_vat_preview_uses_the_renamed_function():
    response = client.get("/vat", params={"net_pence": 1234})
    assert response.status_code == 200
    assert response.json() == {"net_pence": 1234, "vat_pence": 247}


def test_the_rename_stays():
    assert tax.vat_amount(1000) == 200 and not hasattr(tax, "vat_for")
