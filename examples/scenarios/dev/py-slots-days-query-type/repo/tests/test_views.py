from starlette.testclient import TestClient

from booking.views import app

client = TestClient(app)


def test_a_week_of_slots_by_default():
    days = client.get("/slots").json()["days"]
    assert len(days) == 7 and days[0] == "2025-07-14"


def test_zero_days_is_refused():
    assert client.get("/slots", params={"days": "0"}).status_code == 422
