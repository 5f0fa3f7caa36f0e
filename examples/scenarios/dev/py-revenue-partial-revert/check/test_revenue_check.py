from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_revenue_is_grouped_by_settlement_day():
    response = client.get("/merchants/m_1/revenue")
    assert response.status_code == 200
    assert response.json()["days"] == {"2025-06-30": 3700, "2025-07-01": 990}


def test_the_csv_export_from_the_same_change_stays():
    response = client.get("/merchants/m_2/orders.csv")
    assert response.status_code == 200
    assert response.text.strip().splitlines()[1] == "o_4,150.00,2025-07-01T11:00:00Z"
