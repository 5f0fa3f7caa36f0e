from starlette.testclient import TestClient

from rooms.views import app

client = TestClient(app)


def test_room():
    assert client.get("/rooms/blue").json() == {"id": "blue", "name": "Blue room", "seats": 6}


def test_unknown_room_is_404():
    response = client.get("/rooms/cellar")
    assert response.status_code == 404
    assert response.json() == {"error": "Room not found"}


def test_capacity():
    assert client.get("/rooms/attic/capacity").json() == {"seats": 12, "fits_team": True}
