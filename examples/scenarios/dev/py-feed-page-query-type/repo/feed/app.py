from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from feed.articles import newest_first

PAGE_SIZE = 10


async def feed(request: Request) -> JSONResponse:
    articles = newest_first()[:PAGE_SIZE]
    return JSONResponse({"articles": articles})


app = Starlette(routes=[Route("/feed", feed)])
