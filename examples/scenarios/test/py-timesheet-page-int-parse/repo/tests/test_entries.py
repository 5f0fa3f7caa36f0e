from fastapi.testclient import TestClient

from timesheets.main import app

client = TestClient(app)


def test_first_page_by_default():
    body = client.get("/projects/prj_atlas/entries").json()
    assert (body["page"], body["per_page"], body["total"], len(body["entries"])) == (1, 25, 26, 25)


def test_second_page():
    body = client.get("/projects/prj_atlas/entries?page=2&per_page=10").json()
    assert [e["day"] for e in body["entries"]][:2] == ["2026-11-12", "2026-11-13"]


def test_page_out_of_range_is_400():
    response = client.get("/projects/prj_atlas/entries?per_page=500")
    assert response.status_code == 400
    assert response.json() == {"detail": "page must be 1 or more and per_page from 1 to 100"}


def test_unknown_project_is_404():
    assert client.get("/projects/prj_none/entries").status_code == 404


def test_log_an_entry():
    entry = {"consultant": "j.lindqvist", "day": "2026-11-17", "hours": 6, "note": "discovery"}
    assert client.post("/projects/prj_birch/entries", json=entry).status_code == 201
    assert client.get("/projects/prj_birch/entries").json()["total"] == 2
