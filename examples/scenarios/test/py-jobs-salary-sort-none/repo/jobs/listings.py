"""The listings the board shows (loaded from the ATS export at start-up in production)."""

from typing import TypedDict


class Listing(TypedDict):
    id: str
    title: str
    company: str
    location: str
    salary_min: int
    salary_max: int
    posted: str


LISTINGS: list[Listing] = [
    {"id": "job_101", "title": "Backend Engineer", "company": "Tidewater", "location": "Leeds",
     "salary_min": 55000, "salary_max": 70000, "posted": "2026-11-02"},
    {"id": "job_102", "title": "Data Analyst", "company": "Brightside", "location": "London",
     "salary_min": 42000, "salary_max": 50000, "posted": "2026-11-09"},
    {"id": "job_103", "title": "Staff Engineer", "company": "Tidewater", "location": "Leeds",
     "salary_min": 90000, "salary_max": 110000, "posted": "2026-10-28"},
    {"id": "job_104", "title": "Product Designer", "company": "Oakleaf", "location": "London",
     "salary_min": 60000, "salary_max": 75000, "posted": "2026-11-11"},
    {"id": "job_105", "title": "QA Engineer", "company": "Brightside", "location": "Leeds",
     "salary_min": 38000, "salary_max": 45000, "posted": "2026-11-05"},
]  # fmt: skip


def get(job_id: str) -> Listing | None:
    return next((job for job in LISTINGS if job["id"] == job_id), None)


def search(*, location: str | None = None, sort: str = "posted") -> list[Listing]:
    """Listings in ``location`` (any, when None): newest first, or with ``sort="salary"`` best-paid first."""
    found = [job for job in LISTINGS if location is None or job["location"].lower() == location.lower()]
    if sort == "salary":
        return sorted(found, key=lambda job: job["salary_max"], reverse=True)
    return sorted(found, key=lambda job: job["posted"], reverse=True)
