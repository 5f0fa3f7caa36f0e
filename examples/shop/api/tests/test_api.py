import json
from pathlib import Path

import pytest
from app.logs import LogContext
from app.main import create_app
from fastapi.testclient import TestClient


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    return tmp_path / "api.jsonl"


@pytest.fixture
def client(log_file: Path) -> TestClient:
    context = LogContext(service="api", release="shop-api@test", commit="abc123", environment="test", file=log_file)
    return TestClient(create_app(context), raise_server_exceptions=False)


def log_lines(log_file: Path) -> list[dict]:
    return [json.loads(line) for line in log_file.read_text().splitlines()]


def test_health_reports_release_and_commit(client: TestClient):
    assert client.get("/health").json() == {"status": "ok", "release": "shop-api@test", "commit": "abc123"}


def test_practice_stats_average_the_reviews(client: TestClient):
    assert client.get("/practices/prc_102/stats").json() == {"practice_id": "prc_102", "reviews": 3, "average_stars": 4.0}


def test_unknown_practice_stats_are_404(client: TestClient):
    assert client.get("/practices/prc_999/stats").status_code == 404


def test_next_appointment_is_the_soonest_upcoming(client: TestClient):
    body = client.get("/patients/pat_1/appointments/next", params={"now": "2025-01-01T00:00:00"}).json()
    assert body["next"]["id"] == "apt_2"


def test_requests_are_logged_as_json_lines_with_route_templates(client: TestClient, log_file: Path):
    client.get("/practices/prc_100/stats", headers={"x-user-id": "usr_9"})
    line = next(entry for entry in log_lines(log_file) if entry["path"] == "/practices/prc_100/stats")
    assert line["route"] == "/practices/{practice_id}/stats"
    assert (line["level"], line["status"], line["user_id"], line["service"]) == ("info", 200, "usr_9", "api")
    assert isinstance(line["duration_ms"], float)


def test_unhandled_error_is_500_without_internals_and_logged_with_traceback(log_file: Path):
    context = LogContext(service="api", release="shop-api@test", commit="abc123", environment="test", file=log_file)
    api = create_app(context)

    @api.get("/boom/{n}")
    def boom(n: int) -> dict[str, float]:
        return {"ratio": 1 / n}

    response = TestClient(api, raise_server_exceptions=False).get("/boom/0")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal Server Error"}
    line = next(entry for entry in log_lines(log_file) if entry["status"] == 500)
    assert (line["level"], line["route"]) == ("error", "/boom/{n}")
    assert line["error"]["type"] == "ZeroDivisionError"
    assert line["error"]["stack"].startswith("Traceback (most recent call last):")
    assert 'test_api.py", line' in line["error"]["stack"]


def test_timezone_aware_now_is_compared_in_utc(client: TestClient):
    body = client.get("/patients/pat_3/appointments/next", params={"now": "2030-06-01T09:00:00+02:00"}).json()
    assert body["next"]["id"] == "apt_5"


def test_metrics_count_requests_by_route_and_status(client: TestClient):
    client.get("/practices/prc_999/stats")
    text = client.get("/metrics").text
    assert 'http_requests_total{route="/practices/{practice_id}/stats",method="GET",status="404"} 1' in text
    assert 'http_request_duration_seconds_bucket{route="/practices/{practice_id}/stats",le="+Inf"} 1' in text
