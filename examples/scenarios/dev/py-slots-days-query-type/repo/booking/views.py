from datetime import date, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

OPENING = date(2025, 7, 14)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def slots(request: Request) -> JSONResponse:
    """The bookable days from the opening date: ``?days=N`` of them (7 by default)."""
    if request.query_params.get("days") == "0":
        return JSONResponse({"error": "days must be at least 1"}, status_code=422)
    days = request.query_params.get("days", 7)
    dates = [(OPENING + timedelta(days=offset)).isoformat() for offset in range(days)]
    return JSONResponse({"days": dates})


app = Starlette(routes=[Route("/health", health), Route("/slots", slots)])
