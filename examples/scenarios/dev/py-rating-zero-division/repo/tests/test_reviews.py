from starlette.testclient import TestClient

from reviews.app import app

client = TestClient(app)


def test_reviews_are_listed_for_a_product():
    response = client.get("/products/sku_kettle/reviews")
    assert response.status_code == 200
    assert [r["stars"] for r in response.json()["reviews"]] == [5, 4, 4]


def test_unknown_product_has_no_reviews():
    assert client.get("/products/sku_nope/reviews").json()["reviews"] == []
