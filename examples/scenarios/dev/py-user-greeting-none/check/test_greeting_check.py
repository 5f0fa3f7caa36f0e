from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_greeting_of_unknown_user_is_the_handlers_own_404():
    response = client.get("/users/usr_404/greeting")
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


def test_greeting_of_known_user_is_unchanged():
    response = client.get("/users/usr_100/greeting")
    assert response.status_code == 200
    assert response.json() == {"greeting": "HELLO, ADA LOVELACE!", "plan": "pro"}
