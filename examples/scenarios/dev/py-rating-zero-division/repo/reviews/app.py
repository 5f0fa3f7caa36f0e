from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reviews.data import reviews_for


async def list_reviews(request: Request) -> JSONResponse:
    product_id = request.path_params["product_id"]
    return JSONResponse({"product_id": product_id, "reviews": reviews_for(product_id)})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/products/{product_id}/reviews", list_reviews),
        Route("/health", health),
    ]
)
