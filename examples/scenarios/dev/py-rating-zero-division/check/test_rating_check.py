from reviews.app import app
from starlette.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_product_without_reviews_has_no_average():
    response = client.get("/products/sku_grinder/rating")
    assert response.status_code == 200
    assert response.json()["average"] in (None, 0, 0.0)
    assert response.json()["count"] == 0


def test_average_of_reviewed_product():
    response = client.get("/products/sku_kettle/rating")
    assert response.json() == {"product_id": "sku_kettle", "average": 4.3, "count": 3}
