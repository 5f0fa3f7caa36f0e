from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from blog.posts import POSTS, related


async def related_posts(request: Request) -> JSONResponse:
    slug = request.path_params["slug"]
    if slug not in POSTS:
        return JSONResponse({"error": "Post not found"}, status_code=404)
    return JSONResponse({"slug": slug, "related": related(slug)})


app = Starlette(routes=[Route("/posts/{slug}/related", related_posts)])
