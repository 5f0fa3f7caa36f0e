from fastapi.testclient import TestClient
from meters.api import READINGS, app

client = TestClient(app, raise_server_exceptions=False)


def test_a_reading_without_voltage_is_stored_and_is_no_brownout():
    before = len(READINGS)
    response = client.post("/meters/mtr_2/readings", json={"kwh": 3.1, "at": "2025-07-02T08:00:00Z"})
    assert response.status_code == 200, "voltage is optional: the handler validates only kwh and at"
    assert response.json() == {"stored": True, "brownout": False}
    assert len(READINGS) == before + 1


def test_readings_with_voltage_and_missing_required_fields_are_unchanged():
    ok = client.post("/meters/mtr_1/readings", json={"kwh": 1.5, "at": "2025-07-01T10:00:00Z", "voltage": 201})
    assert ok.json() == {"stored": True, "brownout": True}
    assert client.post("/meters/mtr_1/readings", json={"voltage": 230}).status_code == 422
