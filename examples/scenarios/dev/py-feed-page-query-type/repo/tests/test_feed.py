from starlette.testclient import TestClient

from feed.app import app

client = TestClient(app)


def test_feed_starts_with_the_newest_articles():
    articles = client.get("/feed").json()["articles"]
    assert len(articles) == 10
    assert articles[0]["slug"] == "story-25"
