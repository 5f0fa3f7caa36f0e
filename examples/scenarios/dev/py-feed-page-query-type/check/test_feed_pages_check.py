from feed.app import app
from starlette.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_second_page_holds_the_next_ten_articles():
    response = client.get("/feed", params={"page": "2"})
    assert response.status_code == 200
    slugs = [a["slug"] for a in response.json()["articles"]]
    assert slugs == [f"story-{n:02d}" for n in range(15, 5, -1)]


def test_first_page_is_the_default():
    assert client.get("/feed").json()["articles"][0]["slug"] == "story-25"
