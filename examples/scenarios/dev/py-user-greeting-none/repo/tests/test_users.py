from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_read_user():
    assert client.get("/users/usr_100").json() == {"id": "usr_100", "name": "Ada Lovelace", "plan": "pro"}


def test_unknown_user_is_404():
    response = client.get("/users/usr_999")
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


def test_greeting():
    assert client.get("/users/usr_101/greeting").json() == {"greeting": "HELLO, GRACE HOPPER!", "plan": "free"}
