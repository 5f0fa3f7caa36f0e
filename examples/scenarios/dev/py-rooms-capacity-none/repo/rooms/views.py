from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROOMS: dict[str, dict[str, object]] = {
    "blue": {"name": "Blue room", "seats": 6},
    "attic": {"name": "Attic", "seats": 12},
}
TEAM_SIZE = 8


async def room(request: Request) -> JSONResponse:
    found = ROOMS.get(request.path_params["room_id"])
    if found is None:
        return JSONResponse({"error": "Room not found"}, status_code=404)
    return JSONResponse({"id": request.path_params["room_id"], **found})


async def capacity(request: Request) -> JSONResponse:
    room = ROOMS.get(request.path_params["room_id"])
    seats = room["seats"]
    return JSONResponse({"seats": seats, "fits_team": seats >= TEAM_SIZE})


app = Starlette(
    routes=[
        Route("/rooms/{room_id}", room),
        Route("/rooms/{room_id}/capacity", capacity),
    ]
)
