from jobs.app import app
from starlette.testclient import TestClient

client = TestClient(app, raise_server_exceptions=False)


def ids(response):
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()]


def test_listings_without_a_salary_sort_after_every_listing_with_one():
    assert ids(client.get("/jobs?sort=salary")) == [
        "job_103", "hw_5530", "job_104", "job_101", "job_102", "job_105", "hw_5521", "hw_5547",
    ]  # fmt: skip


def test_a_location_with_an_unsalaried_listing():
    assert ids(client.get("/jobs?location=london&sort=salary")) == ["job_104", "job_102", "hw_5521"]


def test_newest_first_is_unchanged():
    assert ids(client.get("/jobs?location=remote")) == ["hw_5547", "hw_5530"]
