from booking.views import app
from starlette.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_days_from_the_query_string_are_a_number():
    response = client.get("/slots", params={"days": "3"})
    assert response.status_code == 200
    assert response.json()["days"] == ["2025-07-14", "2025-07-15", "2025-07-16"]


def test_days_that_are_not_a_number_are_bad_input_not_a_server_error():
    response = client.get("/slots", params={"days": "soon"})
    assert 400 <= response.status_code < 500


def test_the_default_week_stays():
    assert len(client.get("/slots").json()["days"]) == 7
