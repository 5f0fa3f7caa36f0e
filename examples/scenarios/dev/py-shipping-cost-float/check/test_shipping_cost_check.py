from app.main import app
from app.pricing import STANDARD_RATE_PER_KG, shipping_cost
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_a_zone_without_its_own_rate_ships_at_the_standard_rate():
    cost = shipping_cost("NO", 2.0)
    assert isinstance(cost, float) and cost == round(STANDARD_RATE_PER_KG * 2.0, 2)


def test_the_quote_endpoint_prices_it():
    response = client.post("/quotes", json={"zone": "CH", "weight_kg": 3})
    assert response.status_code == 200
    assert response.json() == {"zone": "CH", "cost": 13.5}


def test_zones_with_a_rate_are_unchanged():
    assert shipping_cost("US", 1.5) == 9.0
