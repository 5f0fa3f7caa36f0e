from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_user_without_quiet_hours_is_always_notified():
    response = client.get("/users/usr_2/notify-now", params={"at": "2025-07-01T03:00:00"})
    assert response.status_code == 200
    assert response.json()["notify"] is True


def test_unknown_user_is_notified():
    assert client.get("/users/usr_404/notify-now", params={"at": "2025-07-01T12:00:00"}).json()["notify"] is True


def test_quiet_hours_still_apply():
    assert client.get("/users/usr_1/notify-now", params={"at": "2025-07-01T23:30:00"}).json()["notify"] is False
