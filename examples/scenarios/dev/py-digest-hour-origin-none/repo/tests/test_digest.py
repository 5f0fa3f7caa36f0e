from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_a_saved_hour_is_used():
    assert client.get("/readers/rdr_101/digest").json() == {"reader_id": "rdr_101", "digest_at": "06:00"}


def test_the_reader_offset_applies():
    assert client.get("/readers/rdr_102/digest").json() == {"reader_id": "rdr_102", "digest_at": "14:00"}
