import pytest
from fastapi.testclient import TestClient
from timesheets.main import app

client = TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("query", ["page=undefined", "per_page=all", "page=2.5"])
def test_a_page_that_is_not_a_whole_number_is_the_dependencys_400(query):
    response = client.get(f"/projects/prj_atlas/entries?{query}")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"]


def test_valid_paging_is_unchanged():
    body = client.get("/projects/prj_atlas/entries?page=3&per_page=10").json()
    assert (body["page"], body["per_page"], len(body["entries"])) == (3, 10, 6)
