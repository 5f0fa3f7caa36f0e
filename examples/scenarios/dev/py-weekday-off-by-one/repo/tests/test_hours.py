from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_weekly_hours_are_named_by_day():
    week = client.get("/practices/prc_100/hours").json()
    assert week["wednesday"] == {"opens": "08:00", "closes": "20:00"}
    assert week["sunday"] is None


def test_unknown_practice_is_404():
    assert client.get("/practices/prc_9/hours").status_code == 404
