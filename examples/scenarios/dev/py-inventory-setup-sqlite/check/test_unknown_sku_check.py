from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_unknown_sku_is_404():
    assert client.get("/stock/NOPE-1/available").status_code == 404


def test_known_sku_is_unchanged():
    assert client.get("/stock/PAL-001/available").json() == {"sku": "PAL-001", "available": 120}
