from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_patient_without_upcoming_appointments_gets_no_error():
    response = client.get("/patients/pat_2/appointments/next", params={"now": "2025-06-01T00:00:00"})
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert response.json()["next"] is None


def test_next_appointment_is_the_soonest():
    response = client.get("/patients/pat_1/appointments/next", params={"now": "2025-06-01T00:00:00"})
    assert response.status_code == 200
    assert response.json()["next"]["id"] == "apt_2"
