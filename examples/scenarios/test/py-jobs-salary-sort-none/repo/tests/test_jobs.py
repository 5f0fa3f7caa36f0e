from starlette.testclient import TestClient

from jobs.app import app

client = TestClient(app)


def ids(response):
    return [job["id"] for job in response.json()]


def test_newest_first_by_default():
    assert ids(client.get("/jobs?location=Leeds")) == ["job_105", "job_101", "job_103"]


def test_best_paid_first():
    assert ids(client.get("/jobs?location=leeds&sort=salary")) == ["job_103", "job_101", "job_105"]


def test_unknown_sort_is_400():
    response = client.get("/jobs?sort=company")
    assert response.status_code == 400
    assert response.json() == {"error": "sort must be 'posted' or 'salary'"}


def test_job_detail():
    assert client.get("/jobs/job_102").json() == {
        "id": "job_102",
        "title": "Data Analyst",
        "company": "Brightside",
        "salary": "£42,000–£50,000",
        "location": "London",
        "posted": "2026-11-09",
    }


def test_unknown_job_is_404():
    assert client.get("/jobs/job_999").status_code == 404
