from fastapi.testclient import TestClient

from meters.api import app

client = TestClient(app)


def test_a_reading_with_voltage():
    response = client.post("/meters/mtr_1/readings", json={"kwh": 1.5, "at": "2025-07-01T10:00:00Z", "voltage": 231})
    assert response.json() == {"stored": True, "brownout": False}


def test_a_low_voltage_reading_is_a_brownout():
    response = client.post("/meters/mtr_1/readings", json={"kwh": 0.2, "at": "2025-07-01T10:05:00Z", "voltage": 201})
    assert response.json() == {"stored": True, "brownout": True}


def test_required_fields():
    response = client.post("/meters/mtr_1/readings", json={"voltage": 230})
    assert response.status_code == 422


def test_unknown_meter():
    assert client.post("/meters/mtr_9/readings", json={"kwh": 1, "at": "x"}).status_code == 404
