from blog.app import app
from starlette.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_untagged_post_has_no_related_posts():
    response = client.get("/posts/our-first-bakery/related")
    assert response.status_code == 200
    assert response.json()["related"] == []


def test_tagged_posts_still_find_relations():
    assert client.get("/posts/rye-starters/related").json()["related"] == ["intro-to-sourdough"]
