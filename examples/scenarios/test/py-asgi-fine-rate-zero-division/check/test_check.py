from library.app import app
from starlette.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_member_with_no_overdue_days_has_a_zero_rate():
    response = client.get("/members/mem_2/fine-rate")
    assert response.status_code == 200
    assert response.json() == {"days_overdue": 0, "pence_per_day": 0}


def test_rate_is_unchanged_otherwise():
    assert client.get("/members/mem_1/fine-rate").json() == {"days_overdue": 4, "pence_per_day": 30}
