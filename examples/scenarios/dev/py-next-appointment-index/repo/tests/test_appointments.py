from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_upcoming_lists_future_appointments_soonest_first():
    response = client.get("/patients/pat_1/appointments/upcoming", params={"now": "2025-06-01T00:00:00"})
    assert response.status_code == 200
    assert [a["id"] for a in response.json()] == ["apt_2", "apt_1"]


def test_cancelled_appointments_are_not_upcoming():
    response = client.get("/patients/pat_2/appointments/upcoming", params={"now": "2025-06-01T00:00:00"})
    assert response.json() == []
