from rooms.views import app
from starlette.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_capacity_of_an_unknown_room_is_the_modules_own_404():
    response = client.get("/rooms/cellar/capacity")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error"}, "the same body shape as the module's other 404"
    assert "room" in body["error"].lower() and "not found" in body["error"].lower()


def test_capacity_of_known_rooms_is_unchanged():
    assert client.get("/rooms/blue/capacity").json() == {"seats": 6, "fits_team": False}
    assert client.get("/rooms/attic/capacity").json() == {"seats": 12, "fits_team": True}
