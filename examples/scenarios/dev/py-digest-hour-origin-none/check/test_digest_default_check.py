from app import prefs
from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def test_a_reader_without_saved_settings_gets_the_documented_default():
    response = client.get("/readers/rdr_777/digest")
    assert response.status_code == 200
    assert response.json() == {"reader_id": "rdr_777", "digest_at": "08:00"}


def test_the_helper_keeps_its_contract():
    assert prefs.digest_hour("rdr_404") == 8
    assert prefs.digest_hour("rdr_103") == 8
    assert prefs.digest_hour("rdr_101") == 6


def test_the_quiet_hours_of_the_same_commit_stay():
    assert prefs.quiet_hours("rdr_101") == (22, 6)
    assert prefs.quiet_hours("rdr_777") == (23, 7)
