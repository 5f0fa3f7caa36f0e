from starlette.testclient import TestClient

from library.app import app

client = TestClient(app)


def test_book_detail():
    assert client.get("/books/978-0553213119").json()["author"] == "Herman Melville"


def test_unknown_book_is_404():
    response = client.get("/books/000")
    assert response.status_code == 404 and response.json() == {"error": "book not found"}


def test_availability():
    assert client.get("/books/978-0141439518/availability").json() == {"title": "Pride and Prejudice", "available": True}


def test_fine_rate():
    assert client.get("/members/mem_1/fine-rate").json() == {"days_overdue": 4, "pence_per_day": 30}
