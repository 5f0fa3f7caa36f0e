from library.app import app
from starlette.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_availability_of_unknown_book_is_the_apps_404():
    response = client.get("/books/978-0000000000/availability")
    assert response.status_code == 404
    assert response.json() == {"error": "book not found"}


def test_availability_of_known_book_is_unchanged():
    assert client.get("/books/978-0553213119/availability").json() == {"title": "Moby-Dick", "available": True}
