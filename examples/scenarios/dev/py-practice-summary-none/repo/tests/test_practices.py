from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_list_practices_sorted_by_name():
    response = client.get("/practices")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["Northgate Family Clinic", "Riverside Health"]


def test_read_practice_returns_it():
    response = client.get("/practices/prc_100")
    assert response.status_code == 200
    assert response.json() == {"id": "prc_100", "name": "Riverside Health", "city": "Leeds"}


def test_read_unknown_practice_is_404():
    assert client.get("/practices/prc_999").status_code == 404
