from fastapi.testclient import TestClient
from reports.api import app

client = TestClient(app, raise_server_exceptions=False)


def test_days_that_are_not_a_number_get_the_modules_own_400_shape():
    for text in ("week", "two"):
        response = client.get("/reports/daily", params={"days": text})
        assert response.status_code == 400, (text, response.status_code)
        body = response.json()
        assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"], body


def test_a_number_of_days_still_works():
    response = client.get("/reports/daily", params={"days": "3", "channel": "web"})
    assert response.status_code == 200
    assert response.json() == {
        "channel": "web",
        "days": {"2025-08-02": 0, "2025-08-03": 1200, "2025-08-04": 2200},
    }


def test_the_default_week_and_the_sibling_route_are_unchanged():
    body = client.get("/reports/daily").json()
    assert body["channel"] == "all" and len(body["days"]) == 7 and body["days"]["2025-08-04"] == 6700
    response = client.get("/reports/top-products", params={"limit": 0})
    assert response.status_code == 400 and response.json() == {"detail": "limit must be at least 1"}
