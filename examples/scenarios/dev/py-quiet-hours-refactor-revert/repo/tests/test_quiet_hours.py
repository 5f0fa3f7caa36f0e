from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def notify(user_id: str, at: str) -> bool:
    return client.get(f"/users/{user_id}/notify-now", params={"at": at}).json()["notify"]


def test_overnight_quiet_hours_hold_back_notifications():
    assert notify("usr_1", "2025-07-01T23:30:00") is False
    assert notify("usr_1", "2025-07-01T06:59:00") is False
    assert notify("usr_1", "2025-07-01T07:00:00") is True


def test_daytime_quiet_hours():
    assert notify("usr_3", "2025-07-01T13:15:00") is False
    assert notify("usr_3", "2025-07-01T15:00:00") is True
