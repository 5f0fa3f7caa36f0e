from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def today(on: str) -> dict[str, object]:
    response = client.get("/practices/prc_100/hours/today", params={"on": on})
    assert response.status_code == 200
    return response.json()


def test_sunday_is_closed():
    assert today("2025-06-29")["open"] is False


def test_each_day_gets_its_own_hours():
    assert today("2025-06-30")["hours"] == ["08:00", "18:30"]  # Monday
    assert today("2025-07-02")["hours"] == ["08:00", "20:00"]  # Wednesday
    assert today("2025-07-05")["hours"] == ["09:00", "12:00"]  # Saturday
