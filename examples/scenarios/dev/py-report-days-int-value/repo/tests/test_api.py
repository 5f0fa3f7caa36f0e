from fastapi.testclient import TestClient

from reports.api import app

client = TestClient(app)


def test_top_products_by_revenue():
    body = client.get("/reports/top-products", params={"limit": 2}).json()
    assert body == {"products": [{"sku": "HOOD-GRY", "pence": 9000}, {"sku": "TEE-BLK", "pence": 6600}]}


def test_top_products_needs_a_positive_limit():
    response = client.get("/reports/top-products", params={"limit": 0})
    assert response.status_code == 400
    assert response.json() == {"detail": "limit must be at least 1"}


def test_daily_revenue_covers_the_last_week():
    days = client.get("/reports/daily").json()["days"]
    assert list(days)[0] == "2025-07-29" and list(days)[-1] == "2025-08-04"
    assert days["2025-07-29"] == 3400 and days["2025-08-04"] == 6700
