from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jobs import listings

SORTS = ("posted", "salary")


def salary_text(job: listings.Listing) -> str:
    return f"£{job['salary_min']:,}–£{job['salary_max']:,}"


def summary(job: listings.Listing) -> dict[str, str]:
    return {"id": job["id"], "title": job["title"], "company": job["company"], "salary": salary_text(job)}


async def list_jobs(request: Request) -> JSONResponse:
    sort = request.query_params.get("sort", "posted")
    if sort not in SORTS:
        return JSONResponse({"error": "sort must be 'posted' or 'salary'"}, status_code=400)
    found = listings.search(location=request.query_params.get("location"), sort=sort)
    return JSONResponse([summary(job) for job in found])


async def job_detail(request: Request) -> JSONResponse:
    job = listings.get(request.path_params["job_id"])
    if job is None:
        return JSONResponse({"error": "job not found"}, status_code=404)
    return JSONResponse({**summary(job), "location": job["location"], "posted": job["posted"]})


app = Starlette(routes=[Route("/jobs", list_jobs), Route("/jobs/{job_id}", job_detail)])
