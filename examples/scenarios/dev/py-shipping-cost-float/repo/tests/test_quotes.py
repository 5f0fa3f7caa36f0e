from fastapi.testclient import TestClient

from app.main import app
from app.pricing import shipping_cost

client = TestClient(app)


def test_quote_for_a_zone_with_its_own_rate():
    assert client.post("/quotes", json={"zone": "EU", "weight_kg": 2}).json() == {"zone": "EU", "cost": 7.0}


def test_shipping_cost_rounds_to_pence():
    assert shipping_cost("UK", 1.333) == 2.67
