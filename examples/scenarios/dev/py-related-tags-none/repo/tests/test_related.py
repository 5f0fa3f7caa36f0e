from starlette.testclient import TestClient

from blog.app import app

client = TestClient(app)


def test_related_posts_share_a_tag():
    assert client.get("/posts/intro-to-sourdough/related").json()["related"] == ["rye-starters"]


def test_unknown_post_is_404():
    assert client.get("/posts/nope/related").status_code == 404
