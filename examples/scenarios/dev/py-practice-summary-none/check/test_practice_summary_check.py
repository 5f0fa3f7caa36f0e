from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_summary_of_unknown_practice_is_404():
    response = client.get("/practices/prc_404/summary")
    assert response.status_code == 404


def test_summary_of_known_practice_is_unchanged():
    response = client.get("/practices/prc_100/summary")
    assert response.status_code == 200
    assert response.json() == {
        "id": "prc_100",
        "name": "Riverside Health",
        "city": "Leeds",
        "lead_clinician": "Dr. Amara Osei",
        "clinicians": 2,
    }
